/* test_row_space.c - the free runs of the rows map: first fit, retired
 * runs free only once reclaimed, runs merged with their neighbours so that
 * tables loaded and unloaded in turn fit forever. */
#include <errno.h>

#include "unit.h"
#include "unwind/row_space.h"

static uint32_t used_of(const struct row_space *s)
{
	uint32_t used, capacity;

	row_space__usage(s, &used, &capacity);
	return used;
}

TEST(first_fit_and_full)
{
	struct row_space *s = row_space__new(100);
	uint32_t a = 99, b = 99, c = 99;

	EXPECT(s != NULL);
	EXPECT_EQ(row_space__take(s, 40, &a), 0);
	EXPECT_EQ(row_space__take(s, 50, &b), 0);
	EXPECT_EQ(a, 0);
	EXPECT_EQ(b, 40);
	EXPECT_EQ(row_space__take(s, 11, &c), -ENOSPC);
	EXPECT_EQ(c, 99);
	EXPECT_EQ(row_space__take(s, 0, &c), -ENOSPC);
	EXPECT_EQ(row_space__take(s, 10, &c), 0);
	EXPECT_EQ(c, 90);
	EXPECT_EQ(used_of(s), 100);
	/* A run given back, never published, is free at once. */
	row_space__give_back(s, b, 50);
	EXPECT_EQ(used_of(s), 50);
	EXPECT_EQ(row_space__take(s, 50, &c), 0);
	EXPECT_EQ(c, 40);
	row_space__free(s);
	row_space__free(NULL);
}

TEST(retired_rows_wait_for_reclaim)
{
	struct row_space *s = row_space__new(100);
	uint32_t a, b;

	EXPECT_EQ(row_space__take(s, 60, &a), 0);
	EXPECT(!row_space__retiring(s));
	row_space__retire(s, a, 60);
	EXPECT(row_space__retiring(s));
	EXPECT_EQ(used_of(s), 60);
	EXPECT_EQ(row_space__take(s, 60, &b), -ENOSPC);
	row_space__reclaim(s);
	EXPECT(!row_space__retiring(s));
	EXPECT_EQ(used_of(s), 0);
	EXPECT_EQ(row_space__take(s, 100, &b), 0);
	EXPECT_EQ(b, 0);
	row_space__free(s);
}

/* Runs returned out of order merge back into one: after any order of
 * returns the whole room is one run again. */
TEST(returned_runs_merge)
{
	static const int orders[][4] = { { 0, 1, 2, 3 }, { 3, 2, 1, 0 }, { 1, 3, 0, 2 },
					 { 2, 0, 3, 1 } };
	uint32_t first[4], whole;

	for (size_t o = 0; o < 4; o++) {
		struct row_space *s = row_space__new(40);

		for (int i = 0; i < 4; i++)
			EXPECT_EQ(row_space__take(s, 10, &first[i]), 0);
		for (int i = 0; i < 4; i++) {
			row_space__retire(s, first[orders[o][i]], 10);
			if (i % 2)
				row_space__reclaim(s);
		}
		EXPECT_EQ(used_of(s), 0);
		EXPECT_EQ(row_space__take(s, 40, &whole), 0);
		EXPECT_EQ(whole, 0);
		row_space__free(s);
	}
}

/* Tables of varied sizes loaded and unloaded in turn, far more rows in all
 * than the room, with a small table kept throughout: every one fits. */
TEST(load_unload_forever)
{
	struct row_space *s = row_space__new(1000);
	uint32_t kept, first;

	EXPECT_EQ(row_space__take(s, 7, &kept), 0);
	for (uint32_t i = 0; i < 10000; i++) {
		uint32_t n = 500 + (i * 37) % 490;

		EXPECT_EQ(row_space__take(s, n, &first), 0);
		row_space__retire(s, first, n);
		row_space__reclaim(s);
	}
	EXPECT_EQ(used_of(s), 7);
	row_space__free(s);
}

TEST(no_room)
{
	struct row_space *s = row_space__new(0);
	uint32_t first;

	EXPECT(s != NULL);
	EXPECT_EQ(row_space__take(s, 1, &first), -ENOSPC);
	row_space__free(s);
}

RUN_TESTS("row_space", T(first_fit_and_full), T(retired_rows_wait_for_reclaim),
	  T(returned_runs_merge), T(load_unload_forever), T(no_room))
