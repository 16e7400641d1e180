/* trend.h - each stack's history across reports: how much it grew since
 * the previous report, at what rate, in how many of the last intervals, and
 * so whether it grows like a leak (suspect), stays bounded: a cache, churn
 * (steady), or has too little history to judge (new), by the rule of
 * growth_rule.h. Keyed by stack id; a stack whose id is reclaimed
 * (stack_reclaim.h) is forgotten. */
#ifndef TREND_H
#define TREND_H

#include <stdint.h>

#include "snapshot/snapshot.h"

struct trend;

/* window: the intervals a stack is judged over (--trend, from
 * GROWTH_MIN_INTERVALS to GROWTH_MAX_INTERVALS); interval_ns: the report
 * period, below half of which an interval (the final report's, usually)
 * is too short to judge and merges into the one before it. Returns NULL
 * on ENOMEM. */
struct trend *trend__new(unsigned int window, uint64_t interval_ns);
/* Accepts NULL. */
void trend__free(struct trend *t);

/* Record snap, taken now_ns (CLOCK_MONOTONIC) after attach, as the next
 * report of a process whose anonymous resident memory is anon_bytes (the
 * floor of significant growth): fill its report number, interval, whether
 * the run is long enough to judge, and each stack's trend, then order its
 * stacks: suspects by growth rate, then new and steady stacks by bytes.
 * Returns 0 or -ENOMEM (the history is then unchanged). */
int trend__update(struct trend *t, struct snapshot *snap, uint64_t now_ns, uint64_t anon_bytes);
/* Drop the history of stack_id: a stack of that id next is new. */
void trend__forget(struct trend *t, uint32_t stack_id);

#endif
