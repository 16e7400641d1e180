/* context_resets.c - the reset times of one target's contexts, as loaded
 * for a snapshot, indexed by the resets map's key, and which of them a
 * record still needs. */
#include "snapshot/context_resets.h"

#include <errno.h>
#include <stdlib.h>

#include "util/array.h"
#include "util/key_index.h"
#include "snapshot/map_reader.h"

struct reset_time {
	uint64_t key;       /* memleakd_alloc_key(target, ctx) */
	uint64_t reset_ns;
	bool holds_released; /* a record released by this reset is still mapped */
};

struct context_resets {
	struct reset_time *times;
	size_t n, cap;
	struct key_index index; /* key -> its place in times */
	uint32_t target;
};

static void clear(struct context_resets *r)
{
	r->n = 0;
	key_index__clear(&r->index);
}

struct context_resets *context_resets__new(void)
{
	return calloc(1, sizeof(struct context_resets));
}

void context_resets__free(struct context_resets *r)
{
	if (!r)
		return;
	clear(r);
	free(r->times);
	free(r);
}

static int load_one(const void *key, const void *value, void *ctx)
{
	struct context_resets *r = ctx;
	uint64_t k = *(const uint64_t *)key;
	int err;

	if (k >> MEMLEAKD_PTR_BITS != r->target)
		return 0;
	err = array_grow((void **)&r->times, &r->cap, r->n, sizeof(*r->times), 64);
	if (err == 0)
		err = key_index__add(&r->index, k, r->n);
	if (err < 0)
		return err;
	r->times[r->n++] = (struct reset_time){ .key = k, .reset_ns = *(const uint64_t *)value };
	return 0;
}

int context_resets__load(struct context_resets *r, int resets_fd, uint32_t target)
{
	clear(r);
	r->target = target;
	return map_read_all(resets_fd, sizeof(uint64_t), sizeof(uint64_t), load_one, r);
}

bool context_resets__empty(const struct context_resets *r)
{
	return r->n == 0;
}

bool context_resets__released(struct context_resets *r, uint32_t target, uint64_t ctx,
			      uint64_t allocated_ns)
{
	size_t i;

	if (!ctx)
		return false;
	i = key_index__find(&r->index, memleakd_alloc_key(target, ctx));
	if (i == KEY_INDEX_NONE || allocated_ns >= r->times[i].reset_ns)
		return false;
	r->times[i].holds_released = true;
	return true;
}

int context_resets__each_unneeded(const struct context_resets *r, context_reset_fn fn, void *ctx)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct reset_time *t = &r->times[i];
		int err = !t->holds_released ? fn(t->key, t->reset_ns, ctx) : 0;

		if (err)
			return err;
	}
	return 0;
}
