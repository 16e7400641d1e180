/* test_verdict.c - the verdict on snapshots built by hand: untraced
 * growth, no leak, too little history, growth the traced bytes explain,
 * and suspect stacks. */
#include "snapshot/verdict.h"
#include "unit.h"

static enum verdict verdict_of(struct snapshot *snap, uint64_t anon_growth)
{
	struct process_memory at = { .rss_bytes = 100 << 20, .rss_anon_bytes = 50 << 20 };
	struct process_memory now = { .rss_bytes = at.rss_bytes + anon_growth + (1 << 20),
				      .rss_anon_bytes = at.rss_anon_bytes + anon_growth };

	verdict_decide(&at, &now, snap);
	return snap->process.verdict;
}

TEST(verdicts)
{
	struct snapshot snap = { 0 };
	struct snapshot_stack s = { .bytes = 1 << 20, .allocs = 1 };

	/* Nothing traced, 64 MiB more anonymous memory: not a traced leak. */
	EXPECT_EQ(verdict_of(&snap, 64 << 20), VERDICT_UNTRACED);
	EXPECT_EQ(snap.process.rss_anon_growth_bytes, 64 << 20);
	EXPECT_EQ(snap.process.rss_growth_bytes, 65 << 20);
	EXPECT_EQ(verdict_of(&snap, 1 << 20), VERDICT_NO_LEAK);
	snap.stacks = &s;
	snap.n_stacks = 1;
	snap.totals.outstanding_bytes = 1 << 20;
	EXPECT_EQ(verdict_of(&snap, 1 << 20), VERDICT_UNDECIDED);
	s.trend.cls = STACK_STEADY;
	EXPECT_EQ(verdict_of(&snap, 1 << 20), VERDICT_NO_LEAK);
	/* Traced outstanding explains half the growth or more: no verdict on
	 * untraced memory. */
	snap.totals.outstanding_bytes = 40 << 20;
	EXPECT_EQ(verdict_of(&snap, 64 << 20), VERDICT_NO_LEAK);
	s.trend = (struct stack_trend){ .cls = STACK_SUSPECT, .growth_rate_bps = 512 };
	EXPECT_EQ(verdict_of(&snap, 64 << 20), VERDICT_LEAK);
	EXPECT_EQ(snap.process.suspects, 1);
	EXPECT(snap.process.suspect_rate_bps == 512);
	EXPECT_EQ(snap.process.tracked_growth_bytes, 40 << 20);
}

RUN_TESTS("verdict", T(verdicts))
