/* mappings.h - a target's anonymous memory mappings, as the BPF programs
 * report them (bpf/mappings.bpf.h): their events, which mapping_events.h
 * reads from the ring buffer whenever it wakes the daemon and before every
 * report, applied to a table of address ranges (mapping_ranges.h); and,
 * for a report, the stacks holding mapped memory, with their bytes,
 * ranges, ages and totals. */
#ifndef MAPPINGS_H
#define MAPPINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "memleakd.h"

#include "snapshot/snapshot.h"

struct mappings;

/* The ranges of process `target` (its index); counters_fd is the per-CPU
 * array of struct mapping_counters, the caller's. Events reach them
 * through mapping_events.h. Returns 0 and *out, or -ENOMEM. */
int mappings__new(int counters_fd, uint32_t target, struct mappings **out);
/* Apply event e, one of the target's, to the ranges. An event that cannot
 * be applied (no memory) is counted as dropped. */
void mappings__apply(struct mappings *m, const struct mapping_event *e);
/* Did a mapping of the target's come from stack_id? */
bool mappings__has_stack(const struct mappings *m, uint32_t stack_id);
/* Fill snap's mapping stacks, sorted by bytes, without their addresses,
 * and its mapping totals, as of now_ns (CLOCK_MONOTONIC); with min_age_ns,
 * stacks count only ranges mapped at least that long ago (the totals count
 * every range). Returns 0, or -ENOMEM, or -errno from reading the
 * counters; snap's mapping stacks are then empty. */
int mappings__fill(struct mappings *m, struct snapshot *snap, uint64_t now_ns,
		   uint64_t min_age_ns);
/* Call hold on the stack of every range held (reserved ones too); a
 * nonzero return stops the walk and is returned. */
int mappings__each_held(const struct mappings *m, int (*hold)(uint32_t stack_id, void *ctx),
			void *ctx);
/* Drop stack_id, which holds no range: its id was reclaimed
 * (stack_reclaim.h), and may name another stack next. */
void mappings__forget(struct mappings *m, uint32_t stack_id);
/* Accepts NULL. */
void mappings__free(struct mappings *m);

#endif
