/* key_index.h - an open-addressing index from 64-bit keys to positions in
 * an array its user owns: a snapshot's stacks, the trends' histories, the
 * contexts' reset times, the retired generations' totals. Keys are only
 * added, never removed; key_index__clear empties it. */
#ifndef KEY_INDEX_H
#define KEY_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define KEY_INDEX_NONE SIZE_MAX

struct key_index {
	size_t cap, n;   /* cap: 0 or a power of two, at least twice n */
	uint64_t *keys;
	size_t *where;   /* position + 1, 0 for an empty slot */
};

/* key's position, or KEY_INDEX_NONE. */
size_t key_index__find(const struct key_index *x, uint64_t key);
/* Room for n keys in all, so that adding up to them cannot fail. Returns 0
 * or -ENOMEM. */
int key_index__reserve(struct key_index *x, size_t n);
/* Index key, not yet present, at position pos. Returns 0 or -ENOMEM. */
int key_index__add(struct key_index *x, uint64_t key, size_t pos);
/* Forget every key and free the memory. */
void key_index__clear(struct key_index *x);

#endif
