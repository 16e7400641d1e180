/* ctx_sweep.h - give back the slots of context records that resets
 * released. A reset releases its context's records without visiting them
 * (context_resets.h); the programs retire one when its address is handed
 * out again, which for the blocks of a context deleted and given back to
 * malloc may be never. So the kernel's sweep program (bpf/sweep.bpf.h)
 * walks the map and retires them: before each report, and between reports
 * as soon as the map holds more records than a threshold, which a ring
 * buffer signals as the map grows. User space never deletes a record
 * itself: the address may have been handed out anew since it read it. */
#ifndef CTX_SWEEP_H
#define CTX_SWEEP_H

#include <stdbool.h>
#include <stdint.h>

struct ctx_sweep;
struct tracer_maps;

/* A sweeper for the maps of maps, whose context record map holds capacity
 * records. Returns 0 and *out, or -ENOMEM, or -errno from libbpf's ring
 * buffer. */
int ctx_sweep__new(const struct tracer_maps *maps, uint32_t capacity, struct ctx_sweep **out);
/* Accepts NULL. */
void ctx_sweep__free(struct ctx_sweep *s);

/* Run the sweep program over the whole map, then set the next sweep's
 * threshold halfway from the records the map holds now to its capacity.
 * Returns 0 or -errno from the program's run or the counters' read. */
int ctx_sweep__run(struct ctx_sweep *s);
/* What the sweeps since the previous call did: records retired, and the
 * time the program's runs took. */
struct ctx_sweep_stats {
	uint64_t retired;
	uint64_t ns;
};

void ctx_sweep__take_stats(struct ctx_sweep *s, struct ctx_sweep_stats *out);
/* User space put this many context records in the map (took them out,
 * when negative), which the programs' counts do not see (target_maps.h). */
void ctx_sweep__adjust(struct ctx_sweep *s, int64_t records);
/* A descriptor that polls readable when a CPU's context records grew by a
 * step (struct record_counts): time to call ctx_sweep__due. */
int ctx_sweep__events_fd(const struct ctx_sweep *s);
/* Take the events, and say whether the map holds more records than the
 * threshold, so that it should be swept now: one read of a per-CPU
 * counter. Returns 0 and *due, or -errno. */
int ctx_sweep__due(struct ctx_sweep *s, bool *due);

#endif
