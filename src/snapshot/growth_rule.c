/* growth_rule.c - is one stack's window of outstanding bytes a leak's?
 * (growth_rule.h says the rule and why.)
 *
 * Mann-Kendall's S counts the pairs of points in order (later higher)
 * minus those out of order. Without a trend its variance is
 * n(n-1)(2n+5)/18, less t(t-1)(2t+5)/18 for each group of t equal points;
 * z = (S - sign(S)) / sqrt(var) (continuity correction) is then close to
 * normal even for the six or seven points of a default window.
 */
#include "snapshot/growth_rule.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

/* The normal distribution's one-sided 1% and 5% points. */
#define Z_1_PERCENT 2.3263
#define Z_5_PERCENT 1.6449

static int by_value(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;

	return (a > b) - (a < b);
}

/* Mann-Kendall's z for x[0..n), n <= GROWTH_MAX_INTERVALS + 1: positive for
 * an upward trend. 0 when every point is equal. */
static double mann_kendall_z(const int64_t *x, size_t n)
{
	int64_t sorted[GROWTH_MAX_INTERVALS + 1];
	double var = (double)n * (double)(n - 1) * (double)(2 * n + 5);
	long s = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			s += (x[j] > x[i]) - (x[j] < x[i]);
	for (size_t i = 0; i < n; i++)
		sorted[i] = x[i];
	qsort(sorted, n, sizeof(*sorted), by_value);
	for (size_t i = 0, t; i < n; i += t) {
		for (t = 1; i + t < n && sorted[i + t] == sorted[i]; t++)
			;
		var -= (double)t * (double)(t - 1) * (double)(2 * t + 5);
	}
	if (var <= 0 || s == 0)
		return 0;
	return (double)(s > 0 ? s - 1 : s + 1) / sqrt(var / 18);
}

/* Does the growth per interval fall, markedly: its increments trend down
 * and the later half of the window grew at under two thirds of the earlier
 * half's rate? The halves are the first and the last h intervals. Two
 * thirds, not one half, clears a fill that slows with a time constant of
 * up to 1.2 windows (one half: 0.7), as Redis's hash of 10,000 fields,
 * replaced at 3,000 a second, does at -i 1; it costs a steady leak's
 * windows 0.2 to 1.6 points of detection. */
static bool slowing_down(const int64_t *x, const double *time_s, size_t n, size_t h)
{
	int64_t increments[GROWTH_MAX_INTERVALS];
	size_t m = n - 1 - h;
	double early, late;

	for (size_t i = 1; i < n; i++)
		increments[i - 1] = x[i] - x[i - 1];
	if (mann_kendall_z(increments, n - 1) > -Z_5_PERCENT)
		return false;
	early = (double)(x[h] - x[0]) / (time_s[h] - time_s[0]);
	late = (double)(x[n - 1] - x[m]) / (time_s[n - 1] - time_s[m]);
	return late * 3 < early * 2;
}

/* Did each half of the window (its first and last h intervals) grow by a
 * quarter of the floor or more? A step, or a cache filled early that
 * wobbles by a few bytes later, grows in one half only. */
static bool sustained(const int64_t *x, size_t n, size_t h, int64_t floor)
{
	int64_t least = floor / 4 > 1 ? floor / 4 : 1;

	return x[h] - x[0] >= least && x[n - 1] - x[n - 1 - h] >= least;
}

enum stack_class growth_rule_classify(const int64_t *bytes, const double *time_s, size_t n,
				      uint64_t anon_bytes)
{
	int64_t floor = (int64_t)(anon_bytes >> GROWTH_FLOOR_SHIFT);
	size_t h;

	if (n > GROWTH_MAX_INTERVALS + 1) {
		bytes += n - (GROWTH_MAX_INTERVALS + 1);
		time_s += n - (GROWTH_MAX_INTERVALS + 1);
		n = GROWTH_MAX_INTERVALS + 1;
	}
	if (n < GROWTH_MIN_INTERVALS + 1)
		return STACK_NEW;
	h = (n - 1) / 2;
	if (bytes[n - 1] - bytes[0] < (floor > 1 ? floor : 1))
		return STACK_STEADY;
	if (mann_kendall_z(bytes, n) < Z_1_PERCENT)
		return STACK_STEADY;
	if (!sustained(bytes, n, h, floor))
		return STACK_STEADY;
	if (slowing_down(bytes, time_s, n, h))
		return STACK_STEADY;
	return STACK_SUSPECT;
}
