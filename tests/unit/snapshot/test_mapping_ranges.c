/* test_mapping_ranges.c - the range table against what munmap, mprotect
 * and mremap do to mappings: parts cut from either end or the middle,
 * several ranges at once, a mapping replaced, a heap top growing in steps,
 * moves that grow, shrink and land on other ranges; and random changes
 * checked page by page against a plain array. */
#include <errno.h>
#include <stdlib.h>

#include "snapshot/mapping_ranges.h"
#include "unit.h"

#define PAGE 4096ULL

/* The table's ranges, in order, as a string "start-end:stack ..." in pages. */
struct dump {
	char text[1024];
	size_t len;
};

static int dump_range(const struct mapping_range *m, void *ctx)
{
	struct dump *d = ctx;

	d->len += (size_t)snprintf(d->text + d->len, sizeof(d->text) - d->len, "%s%llu-%llu:%u%s%s",
				   d->len ? " " : "", (unsigned long long)(m->start / PAGE),
				   (unsigned long long)(m->end / PAGE), m->stack_id,
				   m->heap ? "h" : "", m->reserved ? "r" : "");
	return 0;
}

static const char *dump(const struct mapping_ranges *r, struct dump *d)
{
	d->len = 0;
	d->text[0] = 0;
	mapping_ranges__walk(r, dump_range, d);
	return d->text;
}

static void map_pages(struct mapping_ranges *r, uint64_t from, uint64_t to, uint32_t stack,
		      bool grow)
{
	struct mapping_range m = { .start = from * PAGE, .end = to * PAGE, .stack_id = stack,
				   .born_ns = stack };

	EXPECT_EQ(mapping_ranges__map(r, &m, grow), 0);
}

static int64_t unmap_pages(struct mapping_ranges *r, uint64_t from, uint64_t to)
{
	return mapping_ranges__unmap(r, from * PAGE, to * PAGE);
}

TEST(unmap_whole_and_parts)
{
	struct mapping_ranges *r = mapping_ranges__new();
	struct dump d;

	map_pages(r, 10, 20, 1, false);
	map_pages(r, 30, 40, 2, false);
	EXPECT_STREQ(dump(r, &d), "10-20:1 30-40:2");
	/* Head, tail, middle. */
	EXPECT_EQ(unmap_pages(r, 10, 12), 2 * PAGE);
	EXPECT_EQ(unmap_pages(r, 18, 20), 2 * PAGE);
	EXPECT_EQ(unmap_pages(r, 14, 15), PAGE);
	EXPECT_STREQ(dump(r, &d), "12-14:1 15-18:1 30-40:2");
	EXPECT_EQ(mapping_ranges__count(r), 3);
	/* Across ranges and the gaps between them, untracked bytes not counted. */
	EXPECT_EQ(unmap_pages(r, 13, 35), (1 + 3 + 5) * PAGE);
	EXPECT_STREQ(dump(r, &d), "12-13:1 35-40:2");
	/* Nothing there. */
	EXPECT_EQ(unmap_pages(r, 50, 60), 0);
	EXPECT_EQ(unmap_pages(r, 0, 100), 6 * PAGE);
	EXPECT_STREQ(dump(r, &d), "");
	EXPECT_EQ(mapping_ranges__count(r), 0);
	mapping_ranges__free(r);
}

TEST(map_replaces_and_grows)
{
	struct mapping_ranges *r = mapping_ranges__new();
	struct dump d;

	map_pages(r, 10, 20, 1, false);
	/* MAP_FIXED over the middle. */
	map_pages(r, 12, 14, 2, false);
	EXPECT_STREQ(dump(r, &d), "10-12:1 12-14:2 14-20:1");
	/* A heap top moving up: the same stack joins, another does not. */
	map_pages(r, 20, 22, 1, true);
	map_pages(r, 22, 23, 1, true);
	map_pages(r, 23, 24, 3, true);
	map_pages(r, 24, 25, 3, false);
	EXPECT_STREQ(dump(r, &d), "10-12:1 12-14:2 14-23:1 23-24:3 24-25:3");
	{
		struct mapping_range heap = { .start = 25 * PAGE, .end = 26 * PAGE, .stack_id = 3,
					      .heap = true };

		EXPECT_EQ(mapping_ranges__map(r, &heap, true), 0);
	}
	EXPECT_STREQ(dump(r, &d), "10-12:1 12-14:2 14-23:1 23-24:3 24-25:3 25-26:3h");
	{
		struct mapping_range empty = { .start = PAGE, .end = PAGE };

		EXPECT_EQ(mapping_ranges__map(r, &empty, false), -EINVAL);
	}
	mapping_ranges__free(r);
}

static void move_pages(struct mapping_ranges *r, uint64_t old, uint64_t old_len, uint64_t new,
		       uint64_t new_len, uint32_t stack)
{
	struct mapping_range growth = { .stack_id = stack, .born_ns = 99 };

	EXPECT_EQ(mapping_ranges__move(r, old * PAGE, old_len * PAGE, new * PAGE, new_len * PAGE,
				       &growth), 0);
}

static int first_born(const struct mapping_range *m, void *ctx)
{
	*(uint64_t *)ctx = m->born_ns;
	return 1;
}

TEST(move_grow_shrink_replace)
{
	struct mapping_ranges *r = mapping_ranges__new();
	struct dump d;
	uint64_t born = 0;

	map_pages(r, 10, 14, 1, false);
	/* In place, growing: the growth is the mremap's stack's. */
	move_pages(r, 10, 4, 10, 6, 5);
	EXPECT_STREQ(dump(r, &d), "10-14:1 14-16:5");
	/* Moved elsewhere and grown: the pieces keep their stacks and births. */
	move_pages(r, 10, 6, 100, 8, 6);
	EXPECT_STREQ(dump(r, &d), "100-104:1 104-106:5 106-108:6");
	mapping_ranges__walk(r, first_born, &born);
	EXPECT_EQ(born, 1);
	/* Shrunk in place. */
	move_pages(r, 100, 8, 100, 5, 7);
	EXPECT_STREQ(dump(r, &d), "100-104:1 104-105:5");
	/* Moved down onto another range (MREMAP_FIXED), which it replaces;
	 * a part of a range moves alone. */
	map_pages(r, 50, 60, 2, false);
	move_pages(r, 103, 2, 55, 2, 8);
	EXPECT_STREQ(dump(r, &d), "50-55:2 55-56:1 56-57:5 57-60:2 100-103:1");
	/* A move of memory mapped before attach: only its growth is known. */
	move_pages(r, 200, 2, 300, 3, 9);
	EXPECT_STREQ(dump(r, &d), "50-55:2 55-56:1 56-57:5 57-60:2 100-103:1 302-303:9");
	mapping_ranges__free(r);
}

static void reserve_pages(struct mapping_ranges *r, uint64_t from, uint64_t to)
{
	struct mapping_range m = { .start = from * PAGE, .end = to * PAGE, .reserved = true };

	EXPECT_EQ(mapping_ranges__map(r, &m, false), 0);
}

static int64_t open_pages(struct mapping_ranges *r, uint64_t from, uint64_t to, uint64_t hint,
			  uint32_t stack)
{
	struct mapping_range m = { .stack_id = stack, .born_ns = stack };

	return mapping_ranges__open(r, from * PAGE, to * PAGE, hint * PAGE, &m, stack == 1);
}

TEST(reserve_open_close)
{
	struct mapping_ranges *r = mapping_ranges__new();
	struct dump d;

	/* A reservation opened in steps (a heap growing), then partly closed. */
	reserve_pages(r, 100, 164);
	EXPECT_EQ(open_pages(r, 100, 102, 0, 1), 2 * PAGE);
	/* Stack 1 grows: it joins the range below. */
	EXPECT_EQ(open_pages(r, 102, 104, 0, 1), 2 * PAGE);
	EXPECT_EQ(open_pages(r, 104, 106, 0, 2), 2 * PAGE);
	EXPECT_STREQ(dump(r, &d), "100-104:1 104-106:2 106-164:0r");
	/* Opening what is open already changes nothing. */
	EXPECT_EQ(open_pages(r, 100, 106, 0, 3), 0);
	EXPECT_EQ(mapping_ranges__close(r, 103 * PAGE, 105 * PAGE), 2 * PAGE);
	EXPECT_STREQ(dump(r, &d), "100-103:1 103-104:1r 104-105:2r 105-106:2 106-164:0r");
	EXPECT_EQ(open_pages(r, 103, 105, 0, 4), 2 * PAGE);
	EXPECT_STREQ(dump(r, &d), "100-103:1 103-104:4 104-105:4 105-106:2 106-164:0r");
	/* Not reserved and not known: nothing opens without the VMA's word,
	 * and all of its reservation with it. */
	EXPECT_EQ(open_pages(r, 200, 204, 0, 5), 0);
	EXPECT_EQ(open_pages(r, 200, 204, 202, 5), 2 * PAGE);
	EXPECT_STREQ(dump(r, &d), "100-103:1 103-104:4 104-105:4 105-106:2 106-164:0r 200-202:5");
	mapping_ranges__free(r);
}

/* Random changes on 256 pages, checked against an array of owners. */
#define PAGES 256

/* Owners: 0 for none, -1 for reserved, else the stack. */
static int paint(const struct mapping_range *m, void *ctx)
{
	int32_t *owner = ctx;

	for (uint64_t p = m->start / PAGE; p < m->end / PAGE; p++) {
		EXPECT(owner[p] == 0);
		owner[p] = m->reserved ? -1 : (int32_t)m->stack_id;
	}
	return 0;
}

TEST(random_against_pages)
{
	struct mapping_ranges *r = mapping_ranges__new();
	int32_t model[PAGES] = { 0 }, got[PAGES], moved[PAGES];

	srand(7);
	for (int step = 0; step < 20000 && !unit_failed_checks; step++) {
		uint64_t a = (uint64_t)rand() % PAGES, len = 1 + (uint64_t)rand() % 24;
		uint32_t stack = 1 + (uint32_t)rand() % 5;
		int op = rand() % 5;

		if (a + len > PAGES)
			len = PAGES - a;
		if (op == 0 && rand() % 3 == 0) {
			reserve_pages(r, a, a + len);
			for (uint64_t p = a; p < a + len; p++)
				model[p] = -1;
		} else if (op == 0) {
			map_pages(r, a, a + len, stack, rand() % 2);
			for (uint64_t p = a; p < a + len; p++)
				model[p] = (int32_t)stack;
		} else if (op == 1) {
			int64_t want = 0;

			for (uint64_t p = a; p < a + len; p++) {
				want += model[p] > 0 ? (int64_t)PAGE : 0;
				model[p] = 0;
			}
			EXPECT_EQ(unmap_pages(r, a, a + len), want);
		} else if (op == 2) {
			uint64_t hint = a + (rand() % 4 ? 0 : (uint64_t)rand() % (len + 1));
			int64_t want = 0;

			for (uint64_t p = a; p < a + len; p++)
				if (p < hint || model[p] == -1) {
					want += model[p] > 0 ? 0 : (int64_t)PAGE;
					model[p] = (int32_t)stack;
				}
			EXPECT_EQ(open_pages(r, a, a + len, hint, stack), want);
		} else if (op == 3) {
			int64_t want = 0;

			for (uint64_t p = a; p < a + len; p++)
				if (model[p] > 0) {
					want += (int64_t)PAGE;
					model[p] = -1;
				}
			EXPECT_EQ(mapping_ranges__close(r, a * PAGE, (a + len) * PAGE), want);
		} else {
			uint64_t to = (uint64_t)rand() % PAGES, new_len = 1 + (uint64_t)rand() % 24;

			if (to + new_len > PAGES)
				new_len = PAGES - to;
			/* The kernel refuses overlapping moves other than in place. */
			if (to != a && to < a + len && a < to + new_len)
				continue;
			move_pages(r, a, len, to, new_len, stack);
			for (uint64_t i = 0; i < len; i++) {
				moved[i] = model[a + i];
				model[a + i] = 0;
			}
			for (uint64_t i = 0; i < new_len; i++)
				model[to + i] = i < len ? moved[i] : (int32_t)stack;
		}
		memset(got, 0, sizeof(got));
		mapping_ranges__walk(r, paint, got);
		EXPECT(!memcmp(got, model, sizeof(got)));
	}
	mapping_ranges__free(r);
}

RUN_TESTS("mapping_ranges", T(unmap_whole_and_parts), T(map_replaces_and_grows),
	  T(move_grow_shrink_replace), T(reserve_open_close), T(random_against_pages))
