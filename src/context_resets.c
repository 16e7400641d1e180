/* context_resets.c - the reset times of one target's contexts, as loaded
 * for a snapshot, in an open-addressing table keyed by the resets map's key. */
#include "context_resets.h"

#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>

#include "map_reader.h"

struct reset_time {
	uint64_t key;       /* memleakd_alloc_key(target, ctx) */
	uint64_t reset_ns;
	bool used;
	bool holds_released; /* a record released by this reset is still mapped */
};

struct context_resets {
	size_t cap, n; /* cap: a power of two, or 0 */
	struct reset_time *times;
	uint32_t target;
};

static struct reset_time *slot(const struct context_resets *r, uint64_t key)
{
	size_t h = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 17) & (r->cap - 1);

	while (r->times[h].used && r->times[h].key != key)
		h = (h + 1) & (r->cap - 1);
	return &r->times[h];
}

static int grow(struct context_resets *r)
{
	struct context_resets bigger = { .cap = r->cap ? r->cap * 2 : 64, .n = r->n,
					 .target = r->target };

	bigger.times = calloc(bigger.cap, sizeof(*bigger.times));
	if (!bigger.times)
		return -ENOMEM;
	for (size_t i = 0; i < r->cap; i++)
		if (r->times[i].used)
			*slot(&bigger, r->times[i].key) = r->times[i];
	free(r->times);
	*r = bigger;
	return 0;
}

static void clear(struct context_resets *r)
{
	free(r->times);
	r->times = NULL;
	r->cap = r->n = 0;
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
	free(r);
}

static int load_one(const void *key, const void *value, void *ctx)
{
	struct context_resets *r = ctx;
	uint64_t k = *(const uint64_t *)key;
	struct reset_time *t;

	if (k >> MEMLEAKD_PTR_BITS != r->target)
		return 0;
	if ((r->n + 1) * 2 > r->cap && grow(r) < 0)
		return -ENOMEM;
	t = slot(r, k);
	*t = (struct reset_time){ .key = k, .reset_ns = *(const uint64_t *)value, .used = true };
	r->n++;
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
	struct reset_time *t;

	if (!ctx || !r->cap)
		return false;
	t = slot(r, memleakd_alloc_key(target, ctx));
	if (!t->used || allocated_ns >= t->reset_ns)
		return false;
	t->holds_released = true;
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
	for (size_t i = 0; i < r->cap; i++) {
		const struct reset_time *t = &r->times[i];
		int err = t->used && !t->holds_released ? forget_one(resets_fd, t) : 0;

		if (err < 0)
			return err;
	}
	return 0;
}
