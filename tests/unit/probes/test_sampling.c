/* test_sampling.c - the countdown table's distribution. */
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

RUN_TESTS("sampling", T(countdowns_are_exponential), T(mean_of_one_samples_every_block))
