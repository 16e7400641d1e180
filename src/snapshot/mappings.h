/* mappings.h - the target's anonymous memory mappings, as the BPF programs
 * report them (bpf/mappings.bpf.h): their events, read from the ring
 * buffer into a table of address ranges (mapping_ranges.h) whenever the
 * ring buffer wakes the daemon and before every report; and, for a report,
 * the stacks holding mapped memory, with their bytes, ranges, ages and
 * totals. */
#ifndef MAPPINGS_H
#define MAPPINGS_H

#include <stdint.h>

#include "snapshot/snapshot.h"

struct mappings;

/* Read the events of process `target` (its index) from the ring buffer
 * events_fd; counters_fd is the per-CPU array of struct mapping_counters.
 * The descriptors stay the caller's. Returns 0 and *out, or -ENOMEM, or
 * -errno from libbpf. */
int mappings__new(int events_fd, int counters_fd, uint32_t target, struct mappings **out);
/* For poll(2): readable when events are waiting past the ring buffer's
 * wake-up mark; then call mappings__drain. */
int mappings__fd(const struct mappings *m);
/* Apply every event waiting to the ranges. An event that cannot be applied
 * (no memory) is counted as dropped. Returns 0, or -ENOMEM / -errno from
 * the ring buffer when events were left unread. */
int mappings__drain(struct mappings *m);
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
