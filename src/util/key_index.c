/* key_index.c - linear probing, a multiplicative hash, doubled at half
 * full. A key and its position share a slot, so a lookup touches one
 * cache line. A key added more than once fills the next free slots of its
 * probe sequence, where a walk from its home slot meets each copy before
 * the first empty slot. A removal shifts the slots after it back, so that
 * no walk meets an empty slot before its key's. */
#include "util/key_index.h"

#include <errno.h>
#include <stdlib.h>

static size_t home_of(const struct key_index *x, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & (x->cap - 1);
}

size_t key_index__next(const struct key_index *x, uint64_t key, size_t *cursor)
{
	size_t mask = x->cap - 1;

	if (!x->cap)
		return KEY_INDEX_NONE;
	/* *cursor counts the slots already probed from key's home. */
	for (size_t h = (home_of(x, key) + *cursor) & mask; x->slots[h].where; h = (h + 1) & mask) {
		++*cursor;
		if (x->slots[h].key == key)
			return x->slots[h].where - 1;
	}
	return KEY_INDEX_NONE;
}

size_t key_index__find(const struct key_index *x, uint64_t key)
{
	size_t cursor = 0;

	return key_index__next(x, key, &cursor);
}

/* Into the first empty slot of key's probe sequence: x has room. */
static void put(struct key_index *x, uint64_t key, size_t where)
{
	size_t h = home_of(x, key);

	while (x->slots[h].where)
		h = (h + 1) & (x->cap - 1);
	x->slots[h] = (struct key_index_slot){ .key = key, .where = where };
}

int key_index__reserve(struct key_index *x, size_t n)
{
	struct key_index bigger = { .cap = x->cap ? x->cap : 16, .n = x->n };

	if (n * 2 <= x->cap)
		return 0;
	while (bigger.cap < n * 2)
		bigger.cap *= 2;
	bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < x->cap; i++)
		if (x->slots[i].where)
			put(&bigger, x->slots[i].key, x->slots[i].where);
	free(x->slots);
	*x = bigger;
	return 0;
}

int key_index__add(struct key_index *x, uint64_t key, size_t pos)
{
	int r = key_index__reserve(x, x->n + 1);

	if (r < 0)
		return r;
	put(x, key, pos + 1);
	x->n++;
	return 0;
}

int key_index__remove(struct key_index *x, uint64_t key, size_t pos)
{
	size_t mask = x->cap - 1, h;

	if (!x->cap)
		return -ENOENT;
	for (h = home_of(x, key); x->slots[h].key != key || x->slots[h].where != pos + 1;
	     h = (h + 1) & mask)
		if (!x->slots[h].where)
			return -ENOENT;
	/* A slot after the gap moves into it when its home is not between
	 * the gap and itself: a walk from there would stop at the gap. */
	for (size_t j = (h + 1) & mask; x->slots[j].where; j = (j + 1) & mask) {
		size_t home = home_of(x, x->slots[j].key);

		if (((j - home) & mask) >= ((j - h) & mask)) {
			x->slots[h] = x->slots[j];
			h = j;
		}
	}
	x->slots[h] = (struct key_index_slot){ 0 };
	x->n--;
	return 0;
}

void key_index__remove_swap(struct key_index *x, uint64_t key, size_t i, uint64_t last_key,
			    size_t last)
{
	key_index__remove(x, key, i);
	if (i == last)
		return;
	key_index__remove(x, last_key, last);
	/* A removal left room: the add cannot fail. */
	key_index__add(x, last_key, i);
}

void key_index__clear(struct key_index *x)
{
	free(x->slots);
	*x = (struct key_index){ 0 };
}
