/* sampling_estimate.h - what sampled figures stand for. With
 * --sample-bytes the maps hold only the allocations that ended a
 * countdown (probes/sampling.h); a snapshot shows estimates of the whole
 * in their place. */
#ifndef SAMPLING_ESTIMATE_H
#define SAMPLING_ESTIMATE_H

#include <stdint.h>

/* What `allocs` sampled allocations of `bytes` together stand for, as
 * pprof scales Go's heap samples: an allocation of the average size s is
 * sampled with probability 1 - exp(-s / mean), so both are divided by it.
 * mean 0 (no sampling) leaves them as they are. */
void sampling_estimate(uint64_t mean, uint64_t bytes, uint64_t allocs, uint64_t *est_bytes,
		       uint64_t *est_allocs);

#endif
