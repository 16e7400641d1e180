/* context_reaper.c - reset times and released totals, each in a small
 * open-addressing table keyed by a 64-bit number. */
#include "context_reaper.h"

#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>

#include "map_reader.h"

struct table_entry {
	uint64_t key;
	uint64_t a, b;
	bool used;
};

struct table {
	size_t cap, n; /* cap: a power of two, or 0 */
	struct table_entry *entries;
};

struct context_reaper {
	struct table resets;   /* memleakd_alloc_key(target, ctx) -> a: reset time */
	struct table released; /* stack id -> a: bytes, b: allocations */
	uint64_t total;
	uint32_t loading;      /* the target being loaded */
};

static struct table_entry *table_slot(const struct table *t, uint64_t key)
{
	size_t h = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 17) & (t->cap - 1);

	while (t->entries[h].used && t->entries[h].key != key)
		h = (h + 1) & (t->cap - 1);
	return &t->entries[h];
}

static const struct table_entry *table_find(const struct table *t, uint64_t key)
{
	const struct table_entry *e = t->cap ? table_slot(t, key) : NULL;

	return e && e->used ? e : NULL;
}

static int table_grow(struct table *t)
{
	struct table bigger = { .cap = t->cap ? t->cap * 2 : 64 };

	bigger.entries = calloc(bigger.cap, sizeof(*bigger.entries));
	if (!bigger.entries)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->entries[i].used)
			*table_slot(&bigger, t->entries[i].key) = t->entries[i];
	bigger.n = t->n;
	free(t->entries);
	*t = bigger;
	return 0;
}

/* The entry for key, created zeroed when missing; NULL on ENOMEM. */
static struct table_entry *table_get(struct table *t, uint64_t key)
{
	struct table_entry *e;

	if ((t->n + 1) * 2 > t->cap && table_grow(t) < 0)
		return NULL;
	e = table_slot(t, key);
	if (!e->used) {
		*e = (struct table_entry){ .key = key, .used = true };
		t->n++;
	}
	return e;
}

static void table_clear(struct table *t)
{
	free(t->entries);
	*t = (struct table){ 0 };
}

struct context_reaper *context_reaper__new(void)
{
	return calloc(1, sizeof(struct context_reaper));
}

void context_reaper__free(struct context_reaper *r)
{
	if (!r)
		return;
	table_clear(&r->resets);
	table_clear(&r->released);
	free(r);
}

static int load_reset(const void *key, const void *value, void *ctx)
{
	struct context_reaper *r = ctx;
	uint64_t k = *(const uint64_t *)key;
	struct table_entry *e;

	if (k >> MEMLEAKD_PTR_BITS != r->loading)
		return 0;
	e = table_get(&r->resets, k);
	if (!e)
		return -ENOMEM;
	e->a = *(const uint64_t *)value;
	return 0;
}

int context_reaper__load(struct context_reaper *r, int resets_fd, uint32_t target)
{
	table_clear(&r->resets);
	r->loading = target;
	return map_read_all(resets_fd, sizeof(uint64_t), sizeof(uint64_t), load_reset, r);
}

bool context_reaper__stale(const struct context_reaper *r, uint32_t target,
			   const struct alloc_info *info)
{
	const struct table_entry *e;

	if (!info->ctx)
		return false;
	e = table_find(&r->resets, memleakd_alloc_key(target, info->ctx));
	return e && memleakd_alloc_stale(info, e->a);
}

int context_reaper__release(struct context_reaper *r, int allocs_fd, uint64_t key,
			    const struct alloc_info *info)
{
	struct table_entry *e = table_get(&r->released, info->stack_id);

	if (!e)
		return -ENOMEM;
	if (bpf_map_delete_elem(allocs_fd, &key))
		return -errno;
	e->a += info->size;
	e->b++;
	r->total++;
	return 0;
}

void context_reaper__released(const struct context_reaper *r, uint32_t stack_id,
			      uint64_t *bytes, uint64_t *allocs)
{
	const struct table_entry *e = table_find(&r->released, stack_id);

	*bytes = e ? e->a : 0;
	*allocs = e ? e->b : 0;
}

uint64_t context_reaper__total(const struct context_reaper *r)
{
	return r->total;
}
