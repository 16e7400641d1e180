/* test_generations.c - when generations start, which may retire, and the
 * totals of retired ones. */
#include "snapshot/generations.h"

#include "unit.h"

#define SEC 1000000000ULL

/* A second at least, and an eighth of the time since attach: one a
 * second for the first 8 s, then ever longer. */
TEST(generations_lengthen)
{
	struct generations *g = generations__new(100 * SEC);
	uint16_t gen = 0;

	EXPECT(!generations__advance(g, 100 * SEC + SEC / 2, &gen));
	EXPECT(generations__advance(g, 101 * SEC, &gen));
	EXPECT_EQ(gen, 2);
	EXPECT(generations__advance(g, 102 * SEC, &gen));
	EXPECT_EQ(gen, 3);
	/* At 180 s since attach a generation lasts 22.5 s at least; at 206 s, 25.75 s. */
	EXPECT(generations__advance(g, 280 * SEC, &gen));
	EXPECT_EQ(gen, 4);
	EXPECT(!generations__advance(g, 300 * SEC, &gen));
	EXPECT(generations__advance(g, 306 * SEC, &gen));
	EXPECT_EQ(gen, 5);
	/* The clock never goes back, but a generation must not start then. */
	EXPECT(!generations__advance(g, 200 * SEC, &gen));
	generations__free(g);
}

/* A day of reports every second makes about a hundred generations. */
TEST(a_day_makes_few_generations)
{
	struct generations *g = generations__new(0);
	uint16_t gen = 1;

	for (uint64_t t = 1; t <= 86400; t++)
		generations__advance(g, t * SEC, &gen);
	EXPECT(gen > 60 && gen < 120);
	generations__free(g);
}

/* The current generation and the one before may still be joined. */
TEST(retirable)
{
	struct generations *g = generations__new(0);
	uint16_t gen;

	EXPECT(!generations__retirable(g, 1));
	generations__advance(g, SEC, &gen);
	EXPECT(!generations__retirable(g, 1));
	EXPECT(!generations__retirable(g, 2));
	generations__advance(g, 2 * SEC, &gen);
	EXPECT(generations__retirable(g, 1));
	EXPECT(!generations__retirable(g, 2));
	EXPECT(!generations__retirable(g, 0));
	generations__free(g);
}

/* Retired totals add up per (target, stack), across table growth. */
TEST(retired_totals)
{
	struct generations *g = generations__new(0);
	uint64_t bytes = 5, allocs = 1;

	generations__add_retired(g, 0, 7, &bytes, &allocs);
	EXPECT_EQ(bytes, 5);
	for (uint32_t id = 0; id < 1000; id++)
		EXPECT_EQ(generations__retire(g, id % 2, id, id, 1), 0);
	EXPECT_EQ(generations__retire(g, 1, 7, 100, 2), 0);
	generations__add_retired(g, 1, 7, &bytes, &allocs);
	EXPECT_EQ(bytes, 5 + 7 + 100);
	EXPECT_EQ(allocs, 1 + 1 + 2);
	bytes = allocs = 0;
	generations__add_retired(g, 0, 7, &bytes, &allocs);
	EXPECT_EQ(bytes, 0);
	generations__add_retired(g, 0, 998, &bytes, &allocs);
	EXPECT_EQ(bytes, 998);
	generations__free(g);
}

/* A stack forgotten loses its retired totals in every target; the other
 * stacks keep theirs, the one moved into its place included. */
TEST(forget_drops_a_stack)
{
	struct generations *g = generations__new(0);
	uint64_t bytes, allocs;

	for (uint32_t id = 0; id < 100; id++) {
		EXPECT_EQ(generations__retire(g, 0, id, id, 1), 0);
		EXPECT_EQ(generations__retire(g, 3, id, 1000 + id, 1), 0);
	}
	generations__forget(g, 5);
	generations__forget(g, 99);
	generations__forget(g, 12345);
	for (uint32_t id = 0; id < 100; id++) {
		bool gone = id == 5 || id == 99;

		bytes = allocs = 0;
		generations__add_retired(g, 0, id, &bytes, &allocs);
		EXPECT_EQ(bytes, gone ? 0 : id);
		bytes = allocs = 0;
		generations__add_retired(g, 3, id, &bytes, &allocs);
		EXPECT_EQ(bytes, gone ? 0 : 1000 + id);
		EXPECT_EQ(allocs, gone ? 0 : 1);
	}
	EXPECT_EQ(generations__retire(g, 3, 5, 7, 1), 0);
	bytes = allocs = 0;
	generations__add_retired(g, 3, 5, &bytes, &allocs);
	EXPECT_EQ(bytes, 7);
	generations__free(g);
}

RUN_TESTS("generations", T(generations_lengthen), T(a_day_makes_few_generations), T(retirable),
	  T(retired_totals), T(forget_drops_a_stack))
