/* sampling.c - the countdown table and the estimates of sampled figures. */
#include "probes/sampling.h"

#include <math.h>

/* The integral of -ln(u) from 0 to u. */
static double integral_neg_log(double u)
{
	return u > 0 ? u - u * log(u) : 0;
}

void sampling_fill_countdowns(uint64_t *table, size_t n, uint64_t mean)
{
	for (size_t i = 0; i < n; i++) {
		double lo = (double)i / (double)n, hi = (double)(i + 1) / (double)n;
		double q = (integral_neg_log(hi) - integral_neg_log(lo)) / (hi - lo);
		uint64_t bytes = (uint64_t)llround(q * (double)mean);

		table[i] = bytes ? bytes : 1;
	}
}

void sampling_estimate(uint64_t mean, uint64_t bytes, uint64_t allocs, uint64_t *est_bytes,
		       uint64_t *est_allocs)
{
	double scale = 1;

	/* Blocks of size 0 end no countdown: none can have been sampled. */
	if (mean && allocs && bytes)
		scale = -1 / expm1(-((double)bytes / (double)allocs) / (double)mean);
	*est_bytes = (uint64_t)llround((double)bytes * scale);
	*est_allocs = (uint64_t)llround((double)allocs * scale);
}
