/* sampling_estimate.c - what sampled figures stand for. */
#include "snapshot/sampling_estimate.h"

#include <math.h>

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
