/* key_index.h - an open-addressing index from 64-bit keys to positions in
 * an array its user owns: a snapshot's stacks, the trends' histories, the
 * contexts' reset times, the retired generations' totals, the symbolizer's
 * interned strings and modules, an object's named addresses. A user whose
 * keys are wider than 64 bits (a string, a device, inode and path) indexes
 * each item under a 64-bit hash of its key, walks the positions indexed
 * under that hash with key_index__next and compares its own items. A key
 * leaves with key_index__remove (the stacks memleakd forgets);
 * key_index__clear empties it. */
#ifndef KEY_INDEX_H
#define KEY_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define KEY_INDEX_NONE SIZE_MAX

struct key_index_slot {
	uint64_t key;
	size_t where; /* position + 1, 0 for an empty slot */
};

struct key_index {
	size_t cap, n; /* cap: 0 or a power of two, at least twice n */
	struct key_index_slot *slots;
};

/* The position of key (the first indexed under it), or KEY_INDEX_NONE. */
size_t key_index__find(const struct key_index *x, uint64_t key);
/* The positions indexed under key, one per call: *cursor starts at 0 and
 * belongs to the walk, which ends with KEY_INDEX_NONE. Adding to x during
 * a walk makes its cursor meaningless. */
size_t key_index__next(const struct key_index *x, uint64_t key, size_t *cursor);
/* Room for n keys in all, so that adding up to them cannot fail. Returns 0
 * or -ENOMEM, with x unchanged. */
int key_index__reserve(struct key_index *x, size_t n);
/* Index position pos under key. A key may be added more than once: find
 * gives the first, next each in turn. Returns 0, or -ENOMEM with x
 * unchanged; cannot fail within the room key_index__reserve made. */
int key_index__add(struct key_index *x, uint64_t key, size_t pos);
/* Forget that key indexes pos (one of its positions, when it has more).
 * Returns 0, or -ENOENT when it does not. */
int key_index__remove(struct key_index *x, uint64_t key, size_t pos);
/* For an array whose last item (at last, under last_key) fills the hole
 * an item (at i, under key) leaves: forget key at i, and index last_key
 * at i instead of last. Cannot fail when each pair is indexed. */
void key_index__remove_swap(struct key_index *x, uint64_t key, size_t i, uint64_t last_key,
			    size_t last);
/* Forget every key and free the memory. */
void key_index__clear(struct key_index *x);

#endif
