/* test_growth_rule.c - the suspect rule on windows built by hand: noise,
 * one step, a cache that fills then stops, memory allocated before attach
 * being replaced (windows read from Redis under redis-benchmark), a
 * doubling buffer, slow steady leaks, and the floor of significance. Each
 * window is a stack's outstanding bytes at reports 10 s apart. */
#include "snapshot/growth_rule.h"
#include "unit.h"

#define KIB 1024ULL
#define MIB (1024 * KIB)
#define MAX_POINTS (GROWTH_MAX_INTERVALS + 1)
#define EXTRA 10

static enum stack_class classify(const int64_t *bytes, size_t n, uint64_t anon)
{
	double time_s[MAX_POINTS + EXTRA];

	for (size_t i = 0; i < n && i < MAX_POINTS + EXTRA; i++)
		time_s[i] = 10.0 * (double)(i + 1);
	return growth_rule_classify(bytes, time_s, n, anon);
}

enum kind { NOISE, CACHE, REPLACING, DOUBLING, SLOW_LEAK, SHORT };

/* Windows of up to 7 points (n of them), by kind: the process's anonymous
 * memory and the class expected. */
static const struct window {
	enum kind kind;
	uint64_t anon;
	size_t n;
	int64_t bytes[7];
	enum stack_class cls;
} windows[] = {
	/* Memory that comes and goes: churn, a buffer held at some reports
	 * and not at others, the few hundred bytes a running query holds
	 * (windows a PostgreSQL backend under pgbench gave), rising by less
	 * than 1/1024 of the process's 3.2 MiB. */
	{ NOISE, 1 * MIB, 7, { 3000, 5000, 2000, 6000, 4000, 7000, 1000 }, STACK_STEADY },
	{ NOISE, 1 * MIB, 7, { 0, 32768, 0, 32768, 32768, 0, 32768 }, STACK_STEADY },
	{ NOISE, 1 * MIB, 7, { 4096, 8192, 4096, 8192, 12288, 8192, 12288 }, STACK_STEADY },
	{ NOISE, 3300 * KIB, 7, { 0, 0, 0, 64, 128, 256, 192 }, STACK_STEADY },
	{ NOISE, 3300 * KIB, 7, { 0, 0, 0, 248, 248, 496, 496 }, STACK_STEADY },
	{ NOISE, 3300 * KIB, 7, { 0, 0, 624, 624, 1248, 624, 1248 }, STACK_STEADY },
	/* A cache that fills over three intervals, then stops: steady as
	 * soon as the later half of the window is flat. While it fills it
	 * cannot be told from a leak. */
	{ CACHE, 1 * MIB, 7, { 2000, 4000, 6000, 8000, 8000, 8000, 8000 }, STACK_STEADY },
	{ CACHE, 1 * MIB, 7, { 4000, 6000, 8000, 8000, 8000, 8000, 8000 }, STACK_STEADY },
	{ CACHE, 1 * MIB, 7, { 2000, 4000, 6000, 8000, 10000, 12000, 12000 }, STACK_SUSPECT },
	/* Values replacing those a server held before attach: each new one
	 * is traced, the old one's free is not, so the stack grows until
	 * every value is replaced, ever more slowly (Redis, 10,000 keys,
	 * reports 1 s apart). A leak at a steady pace, the same size, is a
	 * suspect. */
	{ REPLACING, 4600 * KIB, 7, { 324700, 458184, 552976, 612408, 638112, 659192, 669528 },
	  STACK_STEADY },
	{ REPLACING, 4600 * KIB, 6, { 258944, 415480, 503812, 592416, 629000, 652324 },
	  STACK_STEADY },
	{ REPLACING, 4600 * KIB, 7, { 76400, 107808, 130112, 144096, 150160, 155120, 157536 },
	  STACK_STEADY },
	{ REPLACING, 4600 * KIB, 7, { 324700, 382000, 441000, 498000, 555000, 612000, 669528 },
	  STACK_SUSPECT },
	/* The same under six redis-benchmarks at once, one per command: the
	 * values of 10,000 keys replaced within the window's first interval,
	 * then a few hundred bytes more at its last report (values of
	 * another length); a hash's fields replaced ever more slowly, judged
	 * on 6 points; and the same later, its later half at 0.51 of its
	 * earlier half's pace. */
	{ REPLACING, 7840 * KIB, 7, { 661300, 679252, 680000, 680000, 680000, 680000, 680476 },
	  STACK_STEADY },
	{ REPLACING, 7852 * KIB, 6, { 195500, 299404, 402764, 473892, 532916, 575348 },
	  STACK_STEADY },
	{ REPLACING, 7848 * KIB, 7, { 385968, 460156, 506736, 537676, 572560, 596292, 614788 },
	  STACK_STEADY },
	/* A buffer that doubles every interval (a vector, a string, a list
	 * grown by realloc or by new and delete): one allocation, a suspect.
	 * And one grown by 1/8 every other interval, as CPython's lists
	 * grow. */
	{ DOUBLING, 1 * MIB, 7, { 4096, 8192, 16384, 32768, 65536, 131072, 262144 }, STACK_SUSPECT },
	{ DOUBLING, 1 * MIB, 6, { 4096, 8192, 16384, 32768, 65536, 131072 }, STACK_SUSPECT },
	{ DOUBLING, 1 * MIB, 7, { 80000, 80000, 90000, 90000, 101250, 101250, 113900 },
	  STACK_SUSPECT },
	/* Slow leaks: 64 bytes an interval in a small process; one
	 * allocation every other interval; a leak whose growth dips once.
	 * The first below the floor of a large process is not significant;
	 * growth in the later half only is not sustained yet. */
	{ SLOW_LEAK, 64 * KIB, 7, { 64, 128, 192, 256, 320, 384, 448 }, STACK_SUSPECT },
	{ SLOW_LEAK, 64 * KIB, 7, { 64, 64, 128, 128, 192, 192, 256 }, STACK_SUSPECT },
	{ SLOW_LEAK, 1 * MIB, 7, { 1000, 2200, 2900, 2800, 4100, 5000, 6100 }, STACK_SUSPECT },
	{ SLOW_LEAK, 1024 * MIB, 7, { 64, 128, 192, 256, 320, 384, 448 }, STACK_STEADY },
	{ SLOW_LEAK, 1 * MIB, 7, { 1000, 1000, 1000, 1000, 20000, 40000, 60000 }, STACK_STEADY },
	/* Fewer than GROWTH_MIN_INTERVALS intervals: new, however it grows. */
	{ SHORT, 1 * MIB, 5, { 1000, 2000, 3000, 4000, 5000 }, STACK_NEW },
	{ SHORT, 1 * MIB, 1, { 1000 }, STACK_NEW },
	{ SHORT, 1 * MIB, 6, { 1000, 2000, 3000, 4000, 5000, 6000 }, STACK_SUSPECT },
};

static void expect_windows(enum kind kind)
{
	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		const struct window *w = &windows[i];
		enum stack_class got;

		if (w->kind != kind)
			continue;
		got = classify(w->bytes, w->n, w->anon);
		if (got != w->cls)
			fprintf(stderr, "  windows[%zu] (%" PRId64 "..%" PRId64 "): class %d\n", i,
				w->bytes[0], w->bytes[w->n - 1], (int)got);
		EXPECT_EQ(got, w->cls);
	}
}

TEST(noise_is_steady)
{
	expect_windows(NOISE);
}

TEST(cache_that_fills_then_stops)
{
	expect_windows(CACHE);
}

TEST(replacing_old_memory_slows_down)
{
	expect_windows(REPLACING);
}

TEST(doubling_buffer_is_a_suspect)
{
	expect_windows(DOUBLING);
}

TEST(slow_steady_leak_is_a_suspect)
{
	expect_windows(SLOW_LEAK);
}

TEST(short_windows_are_new)
{
	expect_windows(SHORT);
}

/* One step, wherever it falls in the window, is not a trend. */
TEST(one_step_is_steady)
{
	for (size_t step = 1; step < 7; step++) {
		int64_t bytes[7];

		for (size_t i = 0; i < 7; i++)
			bytes[i] = i < step ? 1000 : 64000;
		EXPECT_EQ(classify(bytes, 7, 1 * MIB), STACK_STEADY);
	}
}

/* A window longer than the rule reads is judged on its last points. */
TEST(long_windows_keep_their_end)
{
	int64_t bytes[MAX_POINTS + EXTRA];

	for (size_t i = 0; i < MAX_POINTS + EXTRA; i++)
		bytes[i] = i < EXTRA ? 1000000 - (int64_t)i * 1000 : 1000 * (int64_t)i;
	EXPECT_EQ(classify(bytes, MAX_POINTS + EXTRA, 1 * MIB), STACK_SUSPECT);
}

RUN_TESTS("growth_rule", T(noise_is_steady), T(one_step_is_steady), T(cache_that_fills_then_stops),
	  T(replacing_old_memory_slows_down), T(doubling_buffer_is_a_suspect),
	  T(slow_steady_leak_is_a_suspect), T(short_windows_are_new), T(long_windows_keep_their_end))
