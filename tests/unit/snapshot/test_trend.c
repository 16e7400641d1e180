/* test_trend.c - stack classes and growth figures over series of reports
 * built by hand: a leak, a cache that fills then stays, churn, a stack that
 * appears late, a buffer whose block is always young, a short final
 * interval, the window's end, and when a run has history enough to judge.
 * growth_rule's own tests try the rule on many more series. */
#include <stdlib.h>

#include "snapshot/growth_rule.h"
#include "snapshot/trend.h"
#include "unit.h"

#define SEC 1000000000ULL
#define MAX_STACKS 8
/* The process's anonymous memory: growth of 64 bytes or more counts. */
#define ANON (64 << 10)

/* One report's stacks: id and outstanding bytes (allocs = bytes / 100);
 * bytes 0 means the stack is not in the report. */
struct point {
	uint32_t id;
	uint64_t bytes;
	uint64_t oldest_s;
};

/* Feed one report taken at `at` seconds; returns the snapshot (the caller
 * frees it) with its stacks as trend__update ordered them. */
static struct snapshot *feed_min_age(struct trend *t, double at, const struct point *p, size_t n,
				     uint64_t min_age_ns)
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
	snap->min_age_ns = min_age_ns;
	EXPECT_EQ(trend__update(t, snap, (uint64_t)(at * SEC), ANON), 0);
	return snap;
}

static struct snapshot *feed(struct trend *t, double at, const struct point *p, size_t n)
{
	return feed_min_age(t, at, p, n, 0);
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
 * goes up and down with young allocations; LATE appears at report 6. */
static const struct point series[][4] = {
	{ { LEAK, 1000, 9 }, { CACHE, 5000, 9 }, { CHURN, 300, 1 }, { LATE, 0, 0 } },
	{ { LEAK, 2000, 19 }, { CACHE, 8000, 19 }, { CHURN, 500, 1 }, { LATE, 0, 0 } },
	{ { LEAK, 3000, 29 }, { CACHE, 8000, 29 }, { CHURN, 200, 1 }, { LATE, 0, 0 } },
	{ { LEAK, 4000, 39 }, { CACHE, 8000, 39 }, { CHURN, 600, 1 }, { LATE, 0, 0 } },
	{ { LEAK, 5000, 49 }, { CACHE, 8000, 49 }, { CHURN, 100, 1 }, { LATE, 0, 0 } },
	{ { LEAK, 6000, 59 }, { CACHE, 8000, 59 }, { CHURN, 400, 1 }, { LATE, 700, 2 } },
	{ { LEAK, 7000, 69 }, { CACHE, 8000, 69 }, { CHURN, 0, 0 }, { LATE, 900, 12 } },
};

TEST(classes_over_reports)
{
	struct trend *t = trend__new(6, 10 * SEC);
	struct snapshot *snap = NULL;

	EXPECT(t != NULL);
	if (!t)
		return;
	for (size_t r = 0; r < 7; r++) {
		if (snap)
			drop(snap);
		snap = feed(t, 10.0 * (double)(r + 1), series[r], 4);
		EXPECT_EQ(snap->report, r + 1);
		/* GROWTH_MIN_INTERVALS after the birth before a class other
		 * than new, and a run judged from then on. */
		EXPECT_EQ(snap->judged, r >= 5);
		if (r < 5)
			for (size_t i = 0; i < snap->n_stacks; i++)
				EXPECT_EQ(snap->stacks[i].trend.cls, STACK_NEW);
	}
	EXPECT_EQ(stack_of(snap, LEAK)->trend.cls, STACK_SUSPECT);
	EXPECT_EQ(stack_of(snap, LEAK)->trend.intervals, 6);
	EXPECT_EQ(stack_of(snap, LEAK)->trend.grown, 6);
	EXPECT_EQ(stack_of(snap, LEAK)->trend.growth_bytes, 1000);
	EXPECT_EQ(stack_of(snap, LEAK)->trend.growth_allocs, 10);
	/* 6000 B since it was first seen, 60 s before. */
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

/* A buffer grown by new and delete (std::vector) is always one young
 * block: its age does not keep it from being a suspect. */
TEST(young_buffer_is_a_suspect)
{
	static const uint64_t bytes[] = { 4096, 8192, 16384, 32768, 65536, 131072, 262144 };

	EXPECT_EQ(one_stack(6, 10, bytes, 7, 0).cls, STACK_SUSPECT);
	EXPECT_EQ(one_stack(6, 10, bytes, 5, 0).cls, STACK_NEW);
}

/* The final report 0.2 s after a periodic one stands in for it: the
 * window keeps its length, the class holds, its growth is still shown. */
TEST(short_final_interval_is_not_judged)
{
	for (unsigned int window = GROWTH_MIN_INTERVALS; window <= 6; window++) {
		struct trend *t = trend__new(window, 10 * SEC);
		struct snapshot *snap = NULL;
		struct point p = { LEAK, 0, 30 };

		for (size_t r = 0; t && r < 7; r++) {
			p.bytes = 1000 * (r + 1);
			drop(feed(t, 10.0 * (double)(r + 1), &p, 1));
		}
		snap = t ? feed(t, 70.2, &p, 1) : NULL;
		EXPECT(snap && snap->stacks[0].trend.cls == STACK_SUSPECT);
		EXPECT(snap && snap->stacks[0].trend.intervals == window);
		EXPECT(snap && snap->stacks[0].trend.growth_bytes == 0);
		EXPECT(snap && snap->interval_s > 0.19 && snap->interval_s < 0.21);
		if (snap)
			drop(snap);
		trend__free(t);
	}
}

/* The window keeps only the last N intervals: a leak that stopped long ago
 * becomes steady. */
TEST(window_forgets)
{
	static const uint64_t bytes[] = { 1000, 2000, 3000, 4000, 5000, 6000,
					  6000, 6000, 6000, 6000, 6000, 6000 };

	EXPECT_EQ(one_stack(5, 1, bytes, 6, 100).cls, STACK_SUSPECT);
	EXPECT_EQ(one_stack(5, 1, bytes, 12, 100).cls, STACK_STEADY);
	EXPECT_EQ(one_stack(5, 1, bytes, 12, 100).intervals, 5);
	EXPECT_EQ(one_stack(5, 1, bytes, 12, 100).grown, 0);
}

/* A run is judged once GROWTH_MIN_INTERVALS intervals have followed the
 * first that can show anything: not at a Ctrl-C right after attach, not
 * at a final report within the first interval, and with --min-age 25 s
 * (reports every 10 s) not before the intervals that end past 25 s. */
TEST(run_judged_after_enough_history)
{
	struct trend *t = trend__new(6, 10 * SEC);
	struct point p = { LEAK, 0, 0 };
	struct snapshot *snap;

	snap = t ? feed(t, 0.0, &p, 1) : NULL;
	EXPECT(snap && !snap->judged && snap->report == 1);
	if (snap)
		drop(snap);
	trend__free(t);

	t = trend__new(6, 10 * SEC);
	snap = t ? feed(t, 1.0, &p, 1) : NULL;
	EXPECT(snap && !snap->judged);
	if (snap)
		drop(snap);
	trend__free(t);

	t = trend__new(6, 10 * SEC);
	for (size_t r = 1; t && r <= 9; r++) {
		snap = feed_min_age(t, 10.0 * (double)r, &p, 1, 25 * SEC);
		/* Intervals ending at 30 to 80 s: the sixth is report 8. */
		EXPECT_EQ(snap->judged, r >= 8);
		drop(snap);
	}
	trend__free(t);
}

/* The series of classes_over_reports with CHURN forgotten after report 6
 * (its id reclaimed), and back at report 7: CHURN is born again; LATE,
 * whose history moved into the forgotten one's place, and the others keep
 * theirs. */
TEST(forgotten_stack_starts_anew)
{
	struct trend *t = trend__new(6, 10 * SEC);
	struct point back[] = { { LEAK, 7000, 69 }, { CACHE, 8000, 69 }, { CHURN, 100, 1 },
				{ LATE, 1100, 12 } };
	struct snapshot *snap = NULL;

	EXPECT(t != NULL);
	if (!t)
		return;
	for (size_t r = 0; r < 6; r++) {
		if (snap)
			drop(snap);
		snap = feed(t, 10.0 * (double)(r + 1), series[r], 4);
	}
	drop(snap);
	trend__forget(t, CHURN);
	trend__forget(t, CHURN);
	snap = feed(t, 70.0, back, 4);
	EXPECT_EQ(stack_of(snap, CHURN)->trend.cls, STACK_NEW);
	EXPECT_EQ(stack_of(snap, CHURN)->trend.intervals, 0);
	EXPECT_EQ(stack_of(snap, CHURN)->trend.growth_bytes, 100);
	EXPECT_EQ(stack_of(snap, LEAK)->trend.cls, STACK_SUSPECT);
	EXPECT_EQ(stack_of(snap, LEAK)->trend.growth_bytes, 1000);
	EXPECT_EQ(stack_of(snap, CACHE)->trend.cls, STACK_STEADY);
	EXPECT_EQ(stack_of(snap, LATE)->trend.intervals, 1);
	EXPECT_EQ(stack_of(snap, LATE)->trend.growth_bytes, 400);
	drop(snap);
	trend__free(t);
}

RUN_TESTS("trend", T(classes_over_reports), T(churn_is_steady), T(young_buffer_is_a_suspect),
	  T(short_final_interval_is_not_judged), T(window_forgets), T(run_judged_after_enough_history),
	  T(forgotten_stack_starts_anew))
