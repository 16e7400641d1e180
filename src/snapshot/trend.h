/* trend.h - each stack's history across reports: how much it grew since
 * the previous report, at what rate, in how many of the last intervals, and
 * so whether it looks like a leak (suspect), a bounded cache or churn
 * (steady), or is too young to judge (new). Keyed by stack id, which the
 * BPF stack map keeps for the life of the run. */
#ifndef TREND_H
#define TREND_H

#include <stdint.h>

#include "snapshot/snapshot.h"

struct trend;

/* window: the intervals a stack is judged over (--trend); interval_ns: the
 * report period, below half of which an interval (the final report's,
 * usually) is too short to count as grown or not. Returns NULL on ENOMEM. */
struct trend *trend__new(unsigned int window, uint64_t interval_ns);
/* Accepts NULL. */
void trend__free(struct trend *t);

/* Record snap, taken now_ns (CLOCK_MONOTONIC) after attach, as the next
 * report: fill its report number, interval and each stack's trend, then
 * order its stacks: suspects by growth rate, then new and steady stacks by
 * bytes. Returns 0 or -ENOMEM (the history is then unchanged). */
int trend__update(struct trend *t, struct snapshot *snap, uint64_t now_ns);

#endif
