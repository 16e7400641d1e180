/* test_sampling_estimate.c - the estimates made from sampled figures. */
#include <math.h>

#include "snapshot/sampling_estimate.h"
#include "unit.h"

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

RUN_TESTS("sampling_estimate", T(estimates_scale_as_pprof))
