/* test_key_index.c - the index finds every key it was given, through its
 * growth, and a key added more than once (a hash shared by several items)
 * gives each of its positions to a walk, and nothing else; a key removed
 * is gone, and every other still found. */
#include "util/key_index.h"

#include <errno.h>

#include "unit.h"

TEST(finds_each_key)
{
	struct key_index x = { 0 };

	EXPECT_EQ(key_index__find(&x, 7), KEY_INDEX_NONE);
	for (uint64_t k = 0; k < 1000; k++)
		EXPECT_EQ(key_index__add(&x, k * 4096, (size_t)k), 0);
	for (uint64_t k = 0; k < 1000; k++)
		EXPECT_EQ(key_index__find(&x, k * 4096), k);
	EXPECT_EQ(key_index__find(&x, 4095), KEY_INDEX_NONE);
	key_index__clear(&x);
	EXPECT_EQ(key_index__find(&x, 0), KEY_INDEX_NONE);
}

/* What key_index__reserve made room for is added without growing. */
TEST(reserve_makes_room)
{
	struct key_index x = { 0 };
	size_t cap;

	EXPECT_EQ(key_index__reserve(&x, 100), 0);
	cap = x.cap;
	for (size_t i = 0; i < 100; i++)
		EXPECT_EQ(key_index__add(&x, i, i), 0);
	EXPECT_EQ(x.cap, cap);
	key_index__clear(&x);
}

/* Walks the positions under key: their count, and which (bit i for
 * position i, positions below 64). */
static unsigned int walk(const struct key_index *x, uint64_t key, uint64_t *seen)
{
	size_t cursor = 0, pos;
	unsigned int n = 0;

	*seen = 0;
	while ((pos = key_index__next(x, key, &cursor)) != KEY_INDEX_NONE) {
		*seen |= 1ULL << pos;
		n++;
	}
	return n;
}

/* Positions 0..59 under six keys, ten each, added interleaved and across
 * several doublings: each walk gives its key's ten, once each. */
TEST(walks_positions_under_a_key)
{
	struct key_index x = { 0 };
	uint64_t seen;

	for (size_t i = 0; i < 60; i++)
		EXPECT_EQ(key_index__add(&x, 0x1000 + i % 6, i), 0);
	for (uint64_t k = 0; k < 6; k++) {
		uint64_t want = 0;

		for (size_t i = k; i < 60; i += 6)
			want |= 1ULL << i;
		EXPECT_EQ(walk(&x, 0x1000 + k, &seen), 10);
		EXPECT(seen == want);
		EXPECT_EQ(key_index__find(&x, 0x1000 + k) % 6, k);
	}
	EXPECT_EQ(walk(&x, 0x1006, &seen), 0);
	key_index__clear(&x);
}

/* A walk among another key's positions, ended early and resumed. */
TEST(walk_resumes_from_its_cursor)
{
	struct key_index x = { 0 };
	size_t cursor = 0;

	EXPECT_EQ(key_index__next(&x, 5, &cursor), KEY_INDEX_NONE);
	for (size_t i = 0; i < 7; i++)
		EXPECT_EQ(key_index__add(&x, i % 2 ? 5 : 5ULL << 40, i), 0);
	cursor = 0;
	EXPECT_EQ(key_index__next(&x, 5, &cursor) % 2, 1);
	EXPECT_EQ(key_index__next(&x, 5, &cursor) % 2, 1);
	EXPECT_EQ(key_index__next(&x, 5, &cursor) % 2, 1);
	EXPECT_EQ(key_index__next(&x, 5, &cursor), KEY_INDEX_NONE);
	EXPECT_EQ(key_index__next(&x, 5, &cursor), KEY_INDEX_NONE);
	key_index__clear(&x);
}

/* 2000 keys in a table kept just under half full, so that probe runs
 * are long and wrap around, removed in a scrambled order: after each
 * removal the key is gone and a sample of the others is found; a key
 * added twice loses one position, then the other. */
TEST(removes_keys)
{
	enum { N = 2000 };
	struct key_index x = { 0 };
	static bool gone[N];
	uint64_t seen;

	EXPECT_EQ(key_index__remove(&x, 1, 0), -ENOENT);
	for (size_t i = 0; i < N; i++)
		EXPECT_EQ(key_index__add(&x, i * 7919, i), 0);
	EXPECT_EQ(key_index__remove(&x, 7919, 0), -ENOENT);
	for (size_t step = 0; step < N; step++) {
		size_t i = step * 1237 % N;

		EXPECT_EQ(key_index__remove(&x, i * 7919, i), 0);
		gone[i] = true;
		EXPECT_EQ(key_index__find(&x, i * 7919), KEY_INDEX_NONE);
		for (size_t k = step % 7; k < N; k += 97)
			EXPECT_EQ(key_index__find(&x, k * 7919), gone[k] ? KEY_INDEX_NONE : k);
	}
	EXPECT_EQ(x.n, 0);
	EXPECT_EQ(key_index__add(&x, 3, 10), 0);
	EXPECT_EQ(key_index__add(&x, 3, 20), 0);
	EXPECT_EQ(key_index__remove(&x, 3, 10), 0);
	EXPECT_EQ(walk(&x, 3, &seen), 1);
	EXPECT(seen == 1ULL << 20);
	EXPECT_EQ(key_index__remove(&x, 3, 10), -ENOENT);
	EXPECT_EQ(key_index__remove(&x, 3, 20), 0);
	EXPECT_EQ(key_index__find(&x, 3), KEY_INDEX_NONE);
	key_index__clear(&x);
}

RUN_TESTS("key_index", T(finds_each_key), T(reserve_makes_room), T(walks_positions_under_a_key),
	  T(walk_resumes_from_its_cursor), T(removes_keys))
