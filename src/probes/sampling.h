/* sampling.h - Poisson byte sampling (--sample-bytes N), as tcmalloc and
 * Go do it: each thread counts down the bytes it allocates, and the
 * allocation that ends a countdown is tracked; countdowns are exponential
 * with mean N. Here are the countdowns the BPF programs draw from; reports
 * show what the samples stand for (snapshot/sampling_estimate.h). */
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

#endif
