/* context_resets.c - the reset times of one target's contexts, as loaded
 * for a snapshot, indexed by the resets map's key. */
#include "snapshot/context_resets.h"

#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>

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

/* Deleted and read at once: if a reset came since the load, its time goes
 * back, unless a still newer reset has already put one there. */
static int forget_one(int resets_fd, const struct reset_time *t)
{
	uint64_t now;

	if (bpf_map_lookup_and_delete_elem(resets_fd, &t->key, &now))
		return errno == ENOENT ? 0 : -errno;
	if (now != t->reset_ns && bpf_map_update_elem(resets_fd, &t->key, &now, BPF_NOEXIST) &&
	    errno != EEXIST)
		return -errno;
	return 0;
}

int context_resets__forget(struct context_resets *r, int resets_fd)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct reset_time *t = &r->times[i];
		int err = !t->holds_released ? forget_one(resets_fd, t) : 0;

		if (err < 0)
			return err;
	}
	return 0;
}
