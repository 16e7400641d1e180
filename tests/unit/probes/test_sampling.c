/* test_sampling.c - the countdown table's distribution and the estimates
 * made from sampled figures. */
#include <math.h>

#include "memleakd.h"
#include "probes/sampling.h"
#include "unit.h"

static uint64_t table[MEMLEAKD_SAMPLE_TABLE];

static double table_mean(void)
{
	double sum = 0;

	for (size_t i = 0; i < MEMLEAKD_SAMPLE_TABLE; i++)
		sum += (double)table[i];
	return sum / MEMLEAKD_SAMPLE_TABLE;
}

/* The mean is the rate asked for; the median that of an exponential
 * (ln 2 x mean); entries fall as u grows, none is 0. */
TEST(countdowns_are_exponential)
{
	sampling_fill_countdowns(table, MEMLEAKD_SAMPLE_TABLE, 524288);
	EXPECT(fabs(table_mean() / 524288 - 1) < 1e-4);
	EXPECT(fabs((double)table[MEMLEAKD_SAMPLE_TABLE / 2] / 524288 - log(2)) < 1e-3);
	for (size_t i = 1; i < MEMLEAKD_SAMPLE_TABLE; i++)
		EXPECT(table[i] <= table[i - 1]);
	EXPECT(table[MEMLEAKD_SAMPLE_TABLE - 1] > 0);
}

/* A mean of 1: no entry above 10 (every allocation of 10 bytes or more is
 * sampled), none below 1. */
TEST(mean_of_one_samples_every_block)
{
	sampling_fill_countdowns(table, MEMLEAKD_SAMPLE_TABLE, 1);
	EXPECT(table[0] <= 10);
	EXPECT(table[MEMLEAKD_SAMPLE_TABLE - 1] == 1);
}

TEST(estimates_scale_as_pprof)
{
	uint64_t bytes, allocs;

	/* Unsampled: unchanged. */
	sampling_estimate(0, 12345, 7, &bytes, &allocs);
	EXPECT_EQ(bytes, 12345);
	EXPECT_EQ(allocs, 7);
	/* 10 samples of 64 B at 512 KiB: each stands for 1 / (1 - e^(-64/524288)). */
	sampling_estimate(524288, 640, 10, &bytes, &allocs);
	EXPECT_EQ(allocs, llround(10 / -expm1(-64.0 / 524288)));
	EXPECT_EQ(bytes, llround(640 / -expm1(-64.0 / 524288)));
	EXPECT(allocs > 81900 && allocs < 81930);
	/* Blocks far above the rate are always sampled: scale 1. */
	sampling_estimate(4096, 3 << 20, 3, &bytes, &allocs);
	EXPECT_EQ(bytes, 3 << 20);
	EXPECT_EQ(allocs, 3);
	/* Nothing, or blocks of 0 bytes (never sampled): as they are. */
	sampling_estimate(4096, 0, 0, &bytes, &allocs);
	EXPECT_EQ(bytes, 0);
	EXPECT_EQ(allocs, 0);
	sampling_estimate(4096, 0, 2, &bytes, &allocs);
	EXPECT_EQ(allocs, 2);
}

RUN_TESTS("sampling", T(countdowns_are_exponential), T(mean_of_one_samples_every_block),
	  T(estimates_scale_as_pprof))
