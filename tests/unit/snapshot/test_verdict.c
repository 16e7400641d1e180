/* test_verdict.c - the verdict on snapshots built by hand: untraced
 * growth, no leak, too little history (in the run or in every stack),
 * growth the traced bytes explain, suspect stacks, and suspects that
 * explain only part of the growth: both findings; mapped memory, the
 * program's and the allocators'. */
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
	struct snapshot snap = { .judged = true };
	struct snapshot_stack s = { .bytes = 1 << 20, .allocs = 1 };

	/* Nothing traced, 64 MiB more anonymous memory: not a traced leak. */
	EXPECT_EQ(verdict_of(&snap, 64 << 20), VERDICT_UNTRACED);
	EXPECT(snap.process.untraced_growth);
	EXPECT_EQ(snap.process.rss_anon_growth_bytes, 64 << 20);
	EXPECT_EQ(snap.process.rss_growth_bytes, 65 << 20);
	EXPECT_EQ(verdict_of(&snap, 1 << 20), VERDICT_NO_LEAK);
	EXPECT(!snap.process.untraced_growth);
	snap.stacks = &s;
	snap.n_stacks = 1;
	snap.totals.outstanding_bytes = 1 << 20;
	/* Every stack new. */
	EXPECT_EQ(verdict_of(&snap, 1 << 20), VERDICT_UNDECIDED);
	s.trend.cls = STACK_STEADY;
	EXPECT_EQ(verdict_of(&snap, 1 << 20), VERDICT_NO_LEAK);
	/* Traced outstanding explains half the growth or more: no verdict on
	 * untraced memory. */
	snap.totals.outstanding_bytes = 40 << 20;
	EXPECT_EQ(verdict_of(&snap, 64 << 20), VERDICT_NO_LEAK);
	EXPECT(!snap.process.untraced_growth);
	s.trend = (struct stack_trend){ .cls = STACK_SUSPECT, .growth_rate_bps = 512 };
	EXPECT_EQ(verdict_of(&snap, 64 << 20), VERDICT_LEAK);
	EXPECT(!snap.process.untraced_growth);
	EXPECT_EQ(snap.process.suspects, 1);
	EXPECT(snap.process.suspect_rate_bps == 512);
	EXPECT_EQ(snap.process.tracked_growth_bytes, 40 << 20);
}

/* A suspect holding 7 MiB while anonymous memory grew 72 MiB (pymalloc's
 * arenas come from mmap, which is not traced): the verdict names the
 * suspect and says that most of the growth is untraced. Under 4 MiB of
 * growth, page-level noise, it says nothing of it. */
TEST(suspects_and_untraced_growth)
{
	struct snapshot_stack s = { .bytes = 7 << 20, .allocs = 1,
				    .trend = { .cls = STACK_SUSPECT, .growth_rate_bps = 306 } };
	struct snapshot snap = { .judged = true, .stacks = &s, .n_stacks = 1,
				 .totals = { .outstanding_bytes = 7 << 20 } };

	EXPECT_EQ(verdict_of(&snap, 72 << 20), VERDICT_LEAK);
	EXPECT(snap.process.untraced_growth);
	EXPECT_EQ(snap.process.suspects, 1);
	snap.totals.outstanding_bytes = 1 << 20;
	s.bytes = 1 << 20;
	EXPECT_EQ(verdict_of(&snap, 3 << 20), VERDICT_LEAK);
	EXPECT(!snap.process.untraced_growth);
	EXPECT_EQ(verdict_of(&snap, 4 << 20), VERDICT_LEAK);
	EXPECT(snap.process.untraced_growth);
}

/* Too little history in the run: a Ctrl-C right after attach, -d 1, or a
 * first report with --min-age, whether it shows stacks or none. */
TEST(short_runs_are_undecided)
{
	struct snapshot_stack s = { .bytes = 100, .allocs = 1, .trend = { .cls = STACK_STEADY } };
	struct snapshot snap = { 0 };

	EXPECT_EQ(verdict_of(&snap, 0), VERDICT_UNDECIDED);
	EXPECT_EQ(verdict_of(&snap, 1 << 20), VERDICT_UNDECIDED);
	snap.stacks = &s;
	snap.n_stacks = 1;
	EXPECT_EQ(verdict_of(&snap, 0), VERDICT_UNDECIDED);
	/* Untraced growth needs no history: it compares totals. */
	EXPECT_EQ(verdict_of(&snap, 64 << 20), VERDICT_UNTRACED);
	snap.judged = true;
	EXPECT_EQ(verdict_of(&snap, 0), VERDICT_NO_LEAK);
}

/* Mapped memory: what the program mapped itself counts as traced, and a
 * mapping stack that keeps growing is a suspect; what allocators mapped for
 * their heaps does not count (the allocations in it do), is no suspect,
 * and, when it makes up what the traced bytes miss, says that the
 * allocators keep the growth. */
TEST(mapped_memory)
{
	struct snapshot_stack maps[2] = {
		{ .kind = STACK_MAPPED, .bytes = 60 << 20,
		  .trend = { .cls = STACK_SUSPECT, .growth_rate_bps = 1000 } },
		{ .kind = STACK_HEAP, .bytes = 60 << 20,
		  .trend = { .cls = STACK_SUSPECT, .growth_rate_bps = 1000 } },
	};
	struct snapshot snap = { .judged = true, .mappings = maps, .n_mappings = 2,
				 .totals = { .outstanding_bytes = 4 << 20,
					     .mapped_bytes = 60 << 20,
					     .heap_mapped_bytes = 60 << 20 } };

	EXPECT_EQ(verdict_of(&snap, 64 << 20), VERDICT_LEAK);
	EXPECT_EQ(snap.process.tracked_growth_bytes, 64 << 20);
	EXPECT_EQ(snap.process.mapped_growth_bytes, 60 << 20);
	EXPECT_EQ(snap.process.suspects, 1);
	EXPECT(!snap.process.untraced_growth && !snap.process.allocator_retention);
	maps[0].trend.cls = STACK_STEADY;
	snap.totals.mapped_bytes = 0;
	EXPECT_EQ(verdict_of(&snap, 64 << 20), VERDICT_UNTRACED);
	EXPECT(snap.process.untraced_growth && snap.process.allocator_retention);
	EXPECT_EQ(snap.process.suspects, 0);
	snap.totals.heap_mapped_bytes = 20 << 20;
	EXPECT_EQ(verdict_of(&snap, 64 << 20), VERDICT_UNTRACED);
	EXPECT(snap.process.untraced_growth && !snap.process.allocator_retention);
}

RUN_TESTS("verdict", T(verdicts), T(suspects_and_untraced_growth), T(short_runs_are_undecided), T(mapped_memory))
