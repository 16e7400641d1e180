/* generations.c - when a new generation starts, and the totals of the
 * retired ones, per stack, in an open-addressing table. */
#include "generations.h"

#include <errno.h>
#include <stdlib.h>

struct retired {
	uint64_t key; /* target << 32 | stack id */
	uint64_t bytes, allocs;
	bool used;
};

struct generations {
	uint64_t attach_ns, current_start_ns;
	uint16_t current;
	size_t cap, n; /* cap: 0 or a power of two */
	struct retired *retired;
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

static struct retired *slot(const struct generations *g, uint64_t key)
{
	size_t h = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 20) & (g->cap - 1);

	while (g->retired[h].used && g->retired[h].key != key)
		h = (h + 1) & (g->cap - 1);
	return &g->retired[h];
}

static int grow(struct generations *g)
{
	struct generations bigger = { .cap = g->cap ? g->cap * 2 : 64 };

	bigger.retired = calloc(bigger.cap, sizeof(*bigger.retired));
	if (!bigger.retired)
		return -ENOMEM;
	for (size_t i = 0; i < g->cap; i++)
		if (g->retired[i].used)
			*slot(&bigger, g->retired[i].key) = g->retired[i];
	free(g->retired);
	g->retired = bigger.retired;
	g->cap = bigger.cap;
	return 0;
}

int generations__retire(struct generations *g, uint32_t target, uint32_t stack_id,
			uint64_t total_bytes, uint64_t total_allocs)
{
	uint64_t key = (uint64_t)target << 32 | stack_id;
	struct retired *r;

	if ((g->n + 1) * 2 > g->cap && grow(g) < 0)
		return -ENOMEM;
	r = slot(g, key);
	if (!r->used) {
		*r = (struct retired){ .key = key, .used = true };
		g->n++;
	}
	r->bytes += total_bytes;
	r->allocs += total_allocs;
	return 0;
}

void generations__add_retired(const struct generations *g, uint32_t target, uint32_t stack_id,
			      uint64_t *bytes, uint64_t *allocs)
{
	const struct retired *r;

	if (!g->cap)
		return;
	r = slot(g, (uint64_t)target << 32 | stack_id);
	if (r->used) {
		*bytes += r->bytes;
		*allocs += r->allocs;
	}
}
