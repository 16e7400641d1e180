/* stack_reclaim.c - a pass over the stacks map and the per-stack totals
 * that gives back the ids of stacks holding nothing (stack_reclaim.h has
 * the protocol). Each pass reads the totals twice, O(entries), and the
 * stacks once: passes run only when the map is half full, and then again
 * once an eighth of its capacity more stacks came in. */
#include "snapshot/stack_reclaim.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "memleakd.h"
#include "probes/tracer.h"
#include "snapshot/map_cleanup.h"
#include "snapshot/map_reader.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/key_index.h"

/* What holds a stack, as a pass finds it. */
#define USE_ENTRIES 0x1     /* it has totals entries */
#define USE_OUTSTANDING 0x2 /* one of them holds allocations */
#define USE_HELD 0x4        /* a holder holds it (a mapped range) */

struct use {
	uint32_t id;
	uint8_t flags;
};

/* Stack ids -> what holds them. */
struct use_table {
	struct use *uses;
	size_t n, cap;
	struct key_index index;
};

struct stack_reclaim {
	int stacks_fd, counts_fd, totals_fd;
	struct ring_buffer *events;
	uint64_t wakeups; /* events taken: each says the counts moved */
	int grace_fd, grace_inner_fd; /* an array of maps, and the map its slot takes */
	uint32_t capacity;
	uint64_t deleted;   /* entries deleted from the stacks map since attach */
	uint64_t full_seen; /* stack_map_counts.full at the last pass */
	uint64_t retry_at;  /* stack_map_counts.inserted from which a half full map is
			     * worth another pass */
	bool unfinished;    /* a pass failed: dying entries may be left */
	struct use_table use;
	/* The pass's candidates: marked dying, then reclaimed or revived. */
	uint32_t *dying;
	size_t n_dying, cap_dying;
	struct key_index dying_index; /* id -> its place in dying */
	bool *reclaim;                /* per dying id: it holds nothing */
	struct stack_key *keys;       /* the dying stacks' totals entries */
	size_t n_keys, cap_keys;
	uint64_t in_map;
};

static void use_clear(struct use_table *u)
{
	u->n = 0;
	key_index__clear(&u->index);
}

static int use_add(struct use_table *u, uint32_t id, uint8_t flags)
{
	size_t i = key_index__find(&u->index, id);
	int r;

	if (i != KEY_INDEX_NONE) {
		u->uses[i].flags |= flags;
		return 0;
	}
	r = array_grow((void **)&u->uses, &u->cap, u->n, sizeof(*u->uses), 256);
	if (r == 0)
		r = key_index__add(&u->index, id, u->n);
	if (r == 0)
		u->uses[u->n++] = (struct use){ .id = id, .flags = flags };
	return r;
}

static uint8_t use_flags(const struct use_table *u, uint32_t id)
{
	size_t i = key_index__find(&u->index, id);

	return i == KEY_INDEX_NONE ? 0 : u->uses[i].flags;
}

static bool real_stack(uint32_t id)
{
	return id != MEMLEAKD_STACK_LOST && memleakd_stack_real(id);
}

/* An event only wakes the loop: stack_reclaim__run reads the counts. */
static int on_event(void *ctx, void *data, size_t size)
{
	struct stack_reclaim *r = ctx;

	(void)data;
	(void)size;
	r->wakeups++;
	return 0;
}

int stack_reclaim__new(const struct tracer_maps *maps, uint32_t capacity,
		       struct stack_reclaim **out)
{
	struct stack_reclaim *r = calloc(1, sizeof(*r));
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int err;

	if (!r)
		return -ENOMEM;
	*r = (struct stack_reclaim){ .stacks_fd = maps->stacks, .counts_fd = maps->stack_counts,
				     .totals_fd = maps->stack_totals, .capacity = capacity,
				     .grace_fd = -1, .grace_inner_fd = -1 };
	r->events = ring_buffer__new(maps->stack_events, on_event, r, NULL);
	if (!r->events) {
		err = -errno;
		goto fail;
	}
	r->grace_inner_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "memleakd_grace", 4, 4, 1, NULL);
	if (r->grace_inner_fd < 0) {
		err = -errno;
		goto fail;
	}
	opts.inner_map_fd = r->grace_inner_fd;
	r->grace_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "memleakd_grace", 4, 4, 1, &opts);
	if (r->grace_fd < 0) {
		err = -errno;
		goto fail;
	}
	*out = r;
	return 0;
fail:
	stack_reclaim__free(r);
	return err;
}

void stack_reclaim__free(struct stack_reclaim *r)
{
	if (!r)
		return;
	ring_buffer__free(r->events);
	if (r->grace_fd >= 0)
		close(r->grace_fd);
	if (r->grace_inner_fd >= 0)
		close(r->grace_inner_fd);
	free(r->use.uses);
	key_index__clear(&r->use.index);
	free(r->dying);
	key_index__clear(&r->dying_index);
	free(r->reclaim);
	free(r->keys);
	free(r);
}

/* Every program running now has ended when this returns: the kernel
 * waits for them before it returns from an update of a map of maps. */
static int wait_programs(const struct stack_reclaim *r)
{
	uint32_t zero = 0, inner = (uint32_t)r->grace_inner_fd;

	return bpf_map_update_elem(r->grace_fd, &zero, &inner, BPF_ANY) ? -errno : 0;
}

/* First read of the totals: which stacks have entries, and hold
 * allocations. */
static int note_entry(const void *key, const void *value, void *ctx)
{
	const struct stack_key *k = key;
	const struct stack_totals *t = value;
	struct stack_reclaim *r = ctx;

	if (!real_stack(k->stack_id))
		return 0;
	return use_add(&r->use, k->stack_id,
		       USE_ENTRIES | (t->outstanding_bytes || t->outstanding_allocs ?
				      USE_OUTSTANDING : 0));
}

static int hold(uint32_t stack_id, void *ctx)
{
	struct stack_reclaim *r = ctx;

	return real_stack(stack_id) ? use_add(&r->use, stack_id, USE_HELD) : 0;
}

static int add_dying(struct stack_reclaim *r, uint32_t id)
{
	int e = array_grow((void **)&r->dying, &r->cap_dying, r->n_dying, sizeof(*r->dying), 256);

	if (e == 0)
		r->dying[r->n_dying++] = id;
	return e;
}

/* The first tier's candidates go to dying, the second's to *tier2. */
struct candidates {
	struct stack_reclaim *r;
	uint32_t *tier2;
	size_t n_tier2, cap_tier2;
};

/* An entry of the stacks map: a candidate when nothing holds it. One left
 * dying by a failed pass is one whatever holds it: the pass revives it. */
static int sort_stack(const void *key, const void *value, void *ctx)
{
	uint32_t id = *(const uint32_t *)key;
	const struct stack_frames *f = value;
	struct candidates *c = ctx;
	uint8_t flags = use_flags(&c->r->use, id);
	int e;

	c->r->in_map++;
	if (f->tag != MEMLEAKD_STACK_DYING(id) && (flags & (USE_OUTSTANDING | USE_HELD)))
		return 0;
	if (f->tag == MEMLEAKD_STACK_DYING(id) || !(flags & USE_ENTRIES))
		return add_dying(c->r, id);
	e = array_grow((void **)&c->tier2, &c->cap_tier2, c->n_tier2, sizeof(*c->tier2), 256);
	if (e == 0)
		c->tier2[c->n_tier2++] = id;
	return e;
}

/* The candidates: every stack with no totals entry left; when the map
 * would stay half full without the others, those holding nothing too. */
static int choose(struct stack_reclaim *r)
{
	struct candidates c = { .r = r };
	int e = map_read_all(r->stacks_fd, sizeof(uint32_t), sizeof(struct stack_frames),
			     sort_stack, &c);

	if (e == 0 && (r->in_map - r->n_dying) * 2 >= r->capacity)
		for (size_t i = 0; i < c.n_tier2 && e == 0; i++)
			e = add_dying(r, c.tier2[i]);
	free(c.tier2);
	return e;
}

/* Give id's entry the tag of state (MEMLEAKD_STACK_LIVE or _DYING). An
 * entry gone is no error: nothing then holds the id. */
static int set_tag(const struct stack_reclaim *r, uint32_t id, uint64_t tag)
{
	struct stack_frames f;

	if (bpf_map_lookup_elem(r->stacks_fd, &id, &f))
		return errno == ENOENT ? 0 : -errno;
	f.tag = tag;
	if (bpf_map_update_elem(r->stacks_fd, &id, &f, BPF_EXIST))
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

/* Second read of the totals, after the grace period: what holds each
 * dying stack now, and its entries. */
static int note_dying_entry(const void *key, const void *value, void *ctx)
{
	const struct stack_key *k = key;
	struct stack_reclaim *r = ctx;
	int e;

	if (key_index__find(&r->dying_index, k->stack_id) == KEY_INDEX_NONE)
		return 0;
	e = array_grow((void **)&r->keys, &r->cap_keys, r->n_keys, sizeof(*r->keys), 256);
	if (e == 0)
		r->keys[r->n_keys++] = *k;
	return e ? e : note_entry(key, value, ctx);
}

static int index_dying(struct stack_reclaim *r)
{
	int e = key_index__reserve(&r->dying_index, r->n_dying);

	for (size_t i = 0; i < r->n_dying && e == 0; i++)
		e = key_index__add(&r->dying_index, r->dying[i], i);
	if (e == 0) {
		free(r->reclaim);
		r->reclaim = calloc(r->n_dying + 1, sizeof(*r->reclaim));
		e = r->reclaim ? 0 : -ENOMEM;
	}
	return e;
}

/* Delete the totals entries of the stacks that hold nothing, then the
 * stacks; revive the others. */
static int settle(struct stack_reclaim *r, const struct stack_holders *h,
		  struct stack_reclaim_stats *stats)
{
	size_t n = 0;
	int e = 0;

	for (size_t i = 0; i < r->n_dying; i++)
		r->reclaim[i] = !(use_flags(&r->use, r->dying[i]) & (USE_OUTSTANDING | USE_HELD));
	for (size_t i = 0; i < r->n_keys; i++)
		if (r->reclaim[key_index__find(&r->dying_index, r->keys[i].stack_id)])
			r->keys[n++] = r->keys[i];
	e = map_cleanup_retired(r->totals_fd, r->keys, n);
	for (size_t i = 0; i < r->n_dying && e == 0; i++) {
		uint32_t id = r->dying[i];

		if (!r->reclaim[i]) {
			e = set_tag(r, id, MEMLEAKD_STACK_LIVE(id));
			stats->revived++;
			continue;
		}
		if (bpf_map_delete_elem(r->stacks_fd, &id)) {
			e = errno == ENOENT ? 0 : -errno;
			continue;
		}
		r->deleted++;
		r->in_map--;
		stats->reclaimed++;
		h->forget(h->ctx, id);
	}
	return e;
}

static int pass(struct stack_reclaim *r, const struct stack_holders *h,
		struct stack_reclaim_stats *stats)
{
	int e = h->drain(h->ctx);

	if (e == 0)
		e = map_read_all(r->totals_fd, sizeof(struct stack_key),
				 sizeof(struct stack_totals), note_entry, r);
	if (e == 0)
		e = h->each_held(h->ctx, hold, r);
	if (e == 0)
		e = choose(r);
	for (size_t i = 0; i < r->n_dying && e == 0; i++)
		e = set_tag(r, r->dying[i], MEMLEAKD_STACK_DYING(r->dying[i]));
	if (e < 0 || !r->n_dying)
		return e;
	e = wait_programs(r);
	if (e == 0)
		e = h->drain(h->ctx);
	use_clear(&r->use);
	if (e == 0)
		e = index_dying(r);
	if (e == 0)
		e = map_read_all(r->totals_fd, sizeof(struct stack_key),
				 sizeof(struct stack_totals), note_dying_entry, r);
	if (e == 0)
		e = h->each_held(h->ctx, hold, r);
	return e == 0 ? settle(r, h, stats) : e;
}

int stack_reclaim__events_fd(const struct stack_reclaim *r)
{
	return ring_buffer__epoll_fd(r->events);
}

int stack_reclaim__run(struct stack_reclaim *r, const struct stack_holders *h,
		       struct stack_reclaim_stats *stats)
{
	uint64_t start = monotonic_ns();
	struct stack_map_counts counts;
	uint32_t zero = 0;
	int e;

	*stats = (struct stack_reclaim_stats){ 0 };
	e = ring_buffer__consume(r->events);
	if (e < 0)
		return e;
	if (bpf_map_lookup_elem(r->counts_fd, &zero, &counts))
		return -errno;
	stats->full = counts.full;
	stats->in_map = counts.inserted - r->deleted;
	if ((stats->in_map * 2 < r->capacity || counts.inserted < r->retry_at) &&
	    counts.full == r->full_seen && !r->unfinished)
		return 0;
	r->full_seen = counts.full;
	r->retry_at = counts.inserted + r->capacity / 8;
	r->in_map = r->n_dying = r->n_keys = 0;
	use_clear(&r->use);
	key_index__clear(&r->dying_index);
	e = pass(r, h, stats);
	r->unfinished = e < 0;
	stats->ran = true;
	stats->in_map = r->in_map;
	stats->ns = monotonic_ns() - start;
	return e;
}
