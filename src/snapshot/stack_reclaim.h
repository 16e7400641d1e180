/* stack_reclaim.h - give back the ids of stacks that hold nothing, so that
 * a long run that meets ever new stacks (a server allocating and freeing
 * from tens of thousands of them) keeps room in the stacks map
 * (--max-stacks) for the next ones.
 *
 * The programs wake user space each time the map takes another eighth of
 * its capacity, or first refuses a stack: between reports, the next
 * stacks need not wait for the next report. A pass runs when the map is
 * half full, or a stack found it full: it
 * takes the stacks that hold no outstanding allocation in any generation
 * of any target, and no mapped range. First those whose totals have all
 * been retired (two generations without an allocation); when that leaves
 * the map half full still, every stack that holds nothing. The programs
 * may be about to record an allocation under such an id (they found it a
 * moment ago), so the pass cannot delete it at once:
 *
 *   1. it marks each candidate's entry dying (struct stack_frames' tag):
 *      from then on the programs skip it, and a stack of those frames
 *      takes another id;
 *   2. it waits for every program running to end (a grace period: an
 *      update of a map of maps waits for one);
 *   3. it reads what the programs sent meanwhile (mapping events) and the
 *      totals again: a candidate that holds something now (a program had
 *      it in hand) lives on; one that holds nothing can have no record, and
 *      no program can find its id any more, so its totals entries and its
 *      entry are deleted, and the holders forget it.
 */
#ifndef STACK_RECLAIM_H
#define STACK_RECLAIM_H

#include <stdbool.h>
#include <stdint.h>

struct stack_reclaim;
struct tracer_maps;

/* What keeps stacks outside the BPF maps, by id: the mapped ranges hold
 * them; the retired totals, the histories and the mapping stacks keep
 * figures of them. */
struct stack_holders {
	/* Take in what the programs sent so far (mapping events). Returns 0
	 * or -errno. */
	int (*drain)(void *ctx);
	/* Call hold on the id of every stack held. Returns 0, hold's nonzero
	 * return, or -errno. */
	int (*each_held)(void *ctx, int (*hold)(uint32_t stack_id, void *arg), void *arg);
	/* The id was reclaimed: what is kept under it is another stack's
	 * next. */
	void (*forget)(void *ctx, uint32_t stack_id);
	void *ctx;
};

struct stack_reclaim_stats {
	bool ran;           /* the pass was due */
	uint64_t in_map;    /* stacks in the map after it */
	uint64_t reclaimed; /* ids it gave back */
	uint64_t revived;   /* candidates found in use after they were marked */
	uint64_t full;      /* stacks that found the map full, since attach */
	uint64_t ns;        /* the pass's time */
};

/* Reclaim the ids of maps' stacks map (of capacity entries), whose
 * insertions and refusals maps' stack_counts counts and stack_events
 * signals, against the per-stack totals. The descriptors stay the
 * caller's. Returns 0 and *out, or -ENOMEM, or -errno from reading the
 * events or creating the maps that give grace periods. */
int stack_reclaim__new(const struct tracer_maps *maps, uint32_t capacity,
		       struct stack_reclaim **out);
/* Accepts NULL. */
void stack_reclaim__free(struct stack_reclaim *r);
/* Readable when the programs signal that the stacks map took another
 * eighth of its capacity, or was full: time to call stack_reclaim__run. */
int stack_reclaim__events_fd(const struct stack_reclaim *r);
/* Takes the events; one pass, when due (stats->ran says whether it was). Call it where no
 * other thread changes h's holders. Returns 0, or -ENOMEM, or -errno from
 * the maps or h; a pass that fails leaves its candidates dying, and the
 * next pass takes them up. */
int stack_reclaim__run(struct stack_reclaim *r, const struct stack_holders *h,
		       struct stack_reclaim_stats *stats);

#endif
