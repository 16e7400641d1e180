/* test_trend.c - stack classes and growth figures over series of reports
 * built by hand: a leak, a cache that fills then stays, churn, a stack that
 * appears late, a short final interval. */
#include <stdlib.h>

#include "snapshot/trend.h"
#include "unit.h"

#define SEC 1000000000ULL
#define MAX_STACKS 8

/* One report's stacks: id and outstanding bytes (allocs = bytes / 100);
 * bytes 0 means the stack is not in the report. */
struct point {
	uint32_t id;
	uint64_t bytes;
	uint64_t oldest_s;
};

/* Feed one report taken at `at` seconds; returns the snapshot (the caller
 * frees it) with its stacks as trend__update ordered them. */
static struct snapshot *feed(struct trend *t, double at, const struct point *p, size_t n)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));
	size_t k = 0;

	snap->stacks = calloc(MAX_STACKS, sizeof(*snap->stacks));
	for (size_t i = 0; i < n; i++) {
		if (!p[i].bytes)
			continue;
		snap->stacks[k++] = (struct snapshot_stack){
			.stack_id = p[i].id, .bytes = p[i].bytes, .allocs = p[i].bytes / 100,
			.oldest_age_ns = p[i].oldest_s * SEC,
		};
		snap->totals.outstanding_bytes += p[i].bytes;
	}
	snap->n_stacks = k;
	EXPECT_EQ(trend__update(t, snap, (uint64_t)(at * SEC)), 0);
	return snap;
}

static const struct snapshot_stack *stack_of(const struct snapshot *snap, uint32_t id)
{
	for (size_t i = 0; i < snap->n_stacks; i++)
		if (snap->stacks[i].stack_id == id)
			return &snap->stacks[i];
	return NULL;
}

static void drop(struct snapshot *snap)
{
	free(snap->stacks);
	free(snap);
}

enum { LEAK = 1, CACHE = 2, CHURN = 3, LATE = 4 };

/* Reports every 10 s: the leak grows 1000 B per interval and keeps its
 * oldest allocation; the cache fills in two intervals then stays; churn
 * goes up and down with young allocations; LATE appears at report 4. */
static const struct point series[][4] = {
	{ { LEAK, 1000, 9 }, { CACHE, 5000, 9 }, { CHURN, 300, 1 }, { LATE, 0, 0 } },
	{ { LEAK, 2000, 19 }, { CACHE, 8000, 19 }, { CHURN, 500, 1 }, { LATE, 0, 0 } },
	{ { LEAK, 3000, 29 }, { CACHE, 8000, 29 }, { CHURN, 200, 1 }, { LATE, 0, 0 } },
	{ { LEAK, 4000, 39 }, { CACHE, 8000, 39 }, { CHURN, 600, 1 }, { LATE, 700, 2 } },
	{ { LEAK, 5000, 49 }, { CACHE, 8000, 49 }, { CHURN, 0, 0 }, { LATE, 900, 12 } },
};

TEST(classes_over_reports)
{
	struct trend *t = trend__new(6, 10 * SEC);
	struct snapshot *snap = NULL;

	EXPECT(t != NULL);
	if (!t)
		return;
	for (size_t r = 0; r < 5; r++) {
		if (snap)
			drop(snap);
		snap = feed(t, 10.0 * (double)(r + 1), series[r], 4);
		EXPECT_EQ(snap->report, r + 1);
		/* Two intervals of history before a class other than new. */
		if (r < 2)
			for (size_t i = 0; i < snap->n_stacks; i++)
				EXPECT_EQ(snap->stacks[i].trend.cls, STACK_NEW);
	}
	EXPECT_EQ(stack_of(snap, LEAK)->trend.cls, STACK_SUSPECT);
	EXPECT_EQ(stack_of(snap, LEAK)->trend.intervals, 4);
	EXPECT_EQ(stack_of(snap, LEAK)->trend.grown, 4);
	EXPECT_EQ(stack_of(snap, LEAK)->trend.growth_bytes, 1000);
	EXPECT_EQ(stack_of(snap, LEAK)->trend.growth_allocs, 10);
	/* 5000 B since attach (0 B), over 50 s. */
	EXPECT(stack_of(snap, LEAK)->trend.growth_rate_bps == 100.0);
	EXPECT_EQ(stack_of(snap, CACHE)->trend.cls, STACK_STEADY);
	EXPECT_EQ(stack_of(snap, CACHE)->trend.grown, 1);
	EXPECT_EQ(stack_of(snap, CACHE)->trend.growth_bytes, 0);
	EXPECT(stack_of(snap, CHURN) == NULL);
	EXPECT_EQ(stack_of(snap, LATE)->trend.cls, STACK_NEW);
	EXPECT_EQ(stack_of(snap, LATE)->trend.intervals, 1);
	EXPECT_EQ(stack_of(snap, LATE)->trend.growth_bytes, 200);
	/* Suspects first, then new, then steady. */
	EXPECT_EQ(snap->stacks[0].stack_id, LEAK);
	EXPECT_EQ(snap->stacks[1].stack_id, LATE);
	EXPECT_EQ(snap->stacks[2].stack_id, CACHE);
	drop(snap);
	trend__free(t);
}

/* One stack, LEAK, through reports every `every` seconds with these bytes
 * and its oldest allocation always oldest_s old; returns the last report's
 * trend (window: the trend window). */
static struct stack_trend one_stack(unsigned int window, double every, const uint64_t *bytes,
				    size_t n, uint64_t oldest_s)
{
	struct trend *t = trend__new(window, (uint64_t)(every * SEC));
	struct stack_trend last = { .cls = STACK_NEW };

	for (size_t r = 0; t && r < n; r++) {
		struct point p = { LEAK, bytes[r], oldest_s };
		struct snapshot *snap = feed(t, every * (double)(r + 1), &p, 1);

		last = snap->stacks[0].trend;
		drop(snap);
	}
	EXPECT(t != NULL);
	trend__free(t);
	return last;
}

TEST(churn_is_steady)
{
	static const uint64_t bytes[] = { 300, 500, 200, 600, 400, 700, 100 };
	struct stack_trend tr = one_stack(6, 1, bytes, 7, 0);

	EXPECT_EQ(tr.cls, STACK_STEADY);
	EXPECT_EQ(tr.intervals, 6);
	EXPECT_EQ(tr.grown, 3);
}

/* Growth in most intervals is not enough: the oldest allocation must be
 * at least one interval old, or the memory turns over (a growing queue). */
TEST(young_memory_is_not_a_leak)
{
	static const uint64_t bytes[] = { 1000, 2000, 3000, 4000 };
	struct stack_trend tr = one_stack(6, 10, bytes, 4, 3);

	EXPECT_EQ(tr.cls, STACK_STEADY);
	EXPECT_EQ(tr.grown, 3);
	EXPECT_EQ(one_stack(6, 10, bytes, 4, 10).cls, STACK_SUSPECT);
}

/* The final report 0.2 s after a periodic one: its interval neither grows
 * nor stops a leak, but its growth is still shown. */
TEST(short_final_interval_is_not_judged)
{
	struct trend *t = trend__new(6, 10 * SEC);
	struct snapshot *snap = NULL;
	struct point p = { LEAK, 0, 30 };

	for (size_t r = 0; t && r < 3; r++) {
		p.bytes = 1000 * (r + 1);
		drop(feed(t, 10.0 * (double)(r + 1), &p, 1));
	}
	snap = t ? feed(t, 30.2, &p, 1) : NULL;
	EXPECT(snap && snap->stacks[0].trend.cls == STACK_SUSPECT);
	EXPECT(snap && snap->stacks[0].trend.intervals == 2);
	EXPECT(snap && snap->stacks[0].trend.growth_bytes == 0);
	EXPECT(snap && snap->interval_s > 0.19 && snap->interval_s < 0.21);
	if (snap)
		drop(snap);
	trend__free(t);
}

/* The window keeps only the last N intervals: a leak that stopped long ago
 * becomes steady. */
TEST(window_forgets)
{
	static const uint64_t bytes[] = { 1000, 2000, 3000, 4000, 4000, 4000, 4000, 4000 };

	EXPECT_EQ(one_stack(3, 1, bytes, 4, 100).cls, STACK_SUSPECT);
	EXPECT_EQ(one_stack(3, 1, bytes, 8, 100).cls, STACK_STEADY);
	EXPECT_EQ(one_stack(3, 1, bytes, 8, 100).intervals, 3);
	EXPECT_EQ(one_stack(3, 1, bytes, 8, 100).grown, 0);
}

RUN_TESTS("trend", T(classes_over_reports), T(churn_is_steady), T(young_memory_is_not_a_leak),
	  T(short_final_interval_is_not_judged), T(window_forgets))
