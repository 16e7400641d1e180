/* generations.c - when a new generation starts, and the totals of the
 * retired ones, per stack. */
#include "snapshot/generations.h"

#include <stdlib.h>

#include "memleakd.h"
#include "util/array.h"
#include "util/key_index.h"

struct retired {
	uint64_t key; /* stack_key() */
	uint64_t bytes, allocs;
};

struct generations {
	uint64_t attach_ns, current_start_ns;
	uint16_t current;
	struct retired *retired;
	size_t n, cap;
	struct key_index index; /* target << 32 | stack id -> its place in retired */
};

struct generations *generations__new(uint64_t attach_ns)
{
	struct generations *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->attach_ns = g->current_start_ns = attach_ns;
	g->current = 1;
	return g;
}

void generations__free(struct generations *g)
{
	if (!g)
		return;
	free(g->retired);
	key_index__clear(&g->index);
	free(g);
}

bool generations__advance(struct generations *g, uint64_t now_ns, uint16_t *gen)
{
	uint64_t lasted = now_ns - g->current_start_ns;

	if (now_ns < g->current_start_ns || lasted < GENERATION_MIN_NS ||
	    lasted < (now_ns - g->attach_ns) / 8 || g->current == UINT16_MAX)
		return false;
	g->current++;
	g->current_start_ns = now_ns;
	*gen = g->current;
	return true;
}

bool generations__retirable(const struct generations *g, uint16_t gen)
{
	/* The previous generation may still be joined by a program that read
	 * the number just before it changed. */
	return gen != 0 && gen + 2 <= g->current;
}

static uint64_t stack_key(uint32_t target, uint32_t stack_id)
{
	return (uint64_t)target << 32 | stack_id;
}

int generations__retire(struct generations *g, uint32_t target, uint32_t stack_id,
			uint64_t total_bytes, uint64_t total_allocs)
{
	uint64_t key = stack_key(target, stack_id);
	size_t i = key_index__find(&g->index, key);
	int r = 0;

	if (i == KEY_INDEX_NONE) {
		r = array_grow((void **)&g->retired, &g->cap, g->n, sizeof(*g->retired), 64);
		if (r == 0)
			r = key_index__add(&g->index, key, g->n);
		if (r < 0)
			return r;
		i = g->n++;
		g->retired[i] = (struct retired){ .key = key };
	}
	g->retired[i].bytes += total_bytes;
	g->retired[i].allocs += total_allocs;
	return 0;
}

void generations__add_retired(const struct generations *g, uint32_t target, uint32_t stack_id,
			      uint64_t *bytes, uint64_t *allocs)
{
	size_t i = key_index__find(&g->index, stack_key(target, stack_id));

	if (i != KEY_INDEX_NONE) {
		*bytes += g->retired[i].bytes;
		*allocs += g->retired[i].allocs;
	}
}

void generations__forget(struct generations *g, uint32_t stack_id)
{
	for (uint32_t target = 0; target < MEMLEAKD_MAX_TARGETS; target++) {
		size_t i = key_index__find(&g->index, stack_key(target, stack_id));

		if (i == KEY_INDEX_NONE)
			continue;
		key_index__remove_swap(&g->index, g->retired[i].key, i, g->retired[g->n - 1].key,
				       g->n - 1);
		g->retired[i] = g->retired[--g->n];
	}
}
