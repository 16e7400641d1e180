/* sampling.h - Poisson byte sampling (--sample-bytes N), as tcmalloc and
 * Go do it: each thread counts down the bytes it allocates, and the
 * allocation that ends a countdown is tracked; countdowns are exponential
 * with mean N. Here are the countdowns the BPF programs draw from and the
 * estimates reports show in place of the sampled figures. */
#ifndef SAMPLING_H
#define SAMPLING_H

#include <stddef.h>
#include <stdint.h>

/* Fill table[0..n) with countdowns in bytes, each standing for an equal
 * share of the exponential distribution of mean `mean`: entry i is the
 * mean of its quantiles over [i/n, (i+1)/n), so the table's mean is `mean`
 * (to rounding). At least 1 each; the largest, the mean of the first
 * share, is (ln n + 1) x mean: with n = 4096, --sample-bytes 1 samples
 * every allocation of 10 bytes or more. */
void sampling_fill_countdowns(uint64_t *table, size_t n, uint64_t mean);

/* What `allocs` sampled allocations of `bytes` together stand for, as
 * pprof scales Go's heap samples: an allocation of the average size s is
 * sampled with probability 1 - exp(-s / mean), so both are divided by it.
 * mean 0 (no sampling) leaves them as they are. */
void sampling_estimate(uint64_t mean, uint64_t bytes, uint64_t allocs, uint64_t *est_bytes,
		       uint64_t *est_allocs);

#endif
