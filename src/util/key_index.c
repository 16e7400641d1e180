/* key_index.c - linear probing, a multiplicative hash, doubled at half
 * full. */
#include "util/key_index.h"

#include <errno.h>
#include <stdlib.h>

static size_t slot_of(const struct key_index *x, uint64_t key)
{
	size_t h = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & (x->cap - 1);

	while (x->where[h] && x->keys[h] != key)
		h = (h + 1) & (x->cap - 1);
	return h;
}

size_t key_index__find(const struct key_index *x, uint64_t key)
{
	size_t h;

	if (!x->cap)
		return KEY_INDEX_NONE;
	h = slot_of(x, key);
	return x->where[h] ? x->where[h] - 1 : KEY_INDEX_NONE;
}

int key_index__reserve(struct key_index *x, size_t n)
{
	struct key_index bigger = { .cap = x->cap ? x->cap : 16, .n = x->n };

	if (n * 2 <= x->cap)
		return 0;
	while (bigger.cap < n * 2)
		bigger.cap *= 2;
	bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
	bigger.where = calloc(bigger.cap, sizeof(*bigger.where));
	if (!bigger.keys || !bigger.where) {
		key_index__clear(&bigger);
		return -ENOMEM;
	}
	for (size_t i = 0; i < x->cap; i++) {
		if (x->where[i]) {
			size_t h = slot_of(&bigger, x->keys[i]);

			bigger.keys[h] = x->keys[i];
			bigger.where[h] = x->where[i];
		}
	}
	key_index__clear(x);
	*x = bigger;
	return 0;
}

int key_index__add(struct key_index *x, uint64_t key, size_t pos)
{
	int r = key_index__reserve(x, x->n + 1);
	size_t h;

	if (r < 0)
		return r;
	h = slot_of(x, key);
	x->keys[h] = key;
	x->where[h] = pos + 1;
	x->n++;
	return 0;
}

void key_index__clear(struct key_index *x)
{
	free(x->keys);
	free(x->where);
	*x = (struct key_index){ 0 };
}
