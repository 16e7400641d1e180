/* sampling.c - the countdown table the BPF programs draw from. */
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
