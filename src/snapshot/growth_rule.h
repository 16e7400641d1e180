/* growth_rule.h - the rule that says whether one stack's outstanding bytes,
 * read at successive reports, grow like a leak: sustained and significant
 * growth. It judges a window of points (the stack's bytes at the reports
 * of its trend window) and nothing else, so that it can be tested on
 * series built by hand; trend.c builds the windows.
 *
 * A stack is a suspect when all of these hold over its window:
 *   - significant: it grew by at least GROWTH_FLOOR_SHIFT's share of the
 *     process's anonymous memory (1/1024), so that the few hundred bytes a
 *     running query holds at one report and not the next never count;
 *   - rising: the Mann-Kendall test finds an upward trend, one-sided at
 *     the 1% level (ties corrected, normal approximation): outstanding
 *     bytes are higher at later reports than at earlier ones in nearly
 *     every pair (in a window of 6 intervals, at most 2 of the 21 pairs of
 *     points out of order);
 *   - sustained: it grew in the earlier half of the window and in the
 *     later half (the first and last (n - 1) / 2 intervals of n points),
 *     each by a quarter of the floor or more, so that one step (a cache
 *     filled at once), or a cache filled early whose size wobbles by a few
 *     bytes later, is not a trend;
 *   - not slowing down: its growth per interval does not fall (Mann-Kendall
 *     on the increments, downward at the 5% level) to a later-half rate
 *     below two thirds of the earlier half's. A cache filling up, and the
 *     memory a process allocated before attach being replaced by
 *     allocations memleakd sees, grow ever more slowly until they stop; a
 *     leak keeps its pace.
 * Stacks with fewer than GROWTH_MIN_INTERVALS intervals in their window
 * are new: below that the tests above cannot tell a leak from chance.
 * docs/reports.md gives the data the thresholds were chosen from.
 */
#ifndef GROWTH_RULE_H
#define GROWTH_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapshot.h"

/* The fewest intervals a stack is judged over, and the most points a
 * window may have (--trend's bounds: intervals + 1 points). */
#define GROWTH_MIN_INTERVALS 5
#define GROWTH_MAX_INTERVALS 64
/* A suspect grows by at least the process's anonymous memory >> this. */
#define GROWTH_FLOOR_SHIFT 10

/* Classify the n points bytes[i], read time_s[i] seconds after attach
 * (increasing), for a process whose anonymous resident memory is
 * anon_bytes: STACK_NEW when n - 1 < GROWTH_MIN_INTERVALS, else
 * STACK_SUSPECT or STACK_STEADY. n must not exceed
 * GROWTH_MAX_INTERVALS + 1; more points are judged as the last ones. */
enum stack_class growth_rule_classify(const int64_t *bytes, const double *time_s, size_t n,
				      uint64_t anon_bytes);

#endif
