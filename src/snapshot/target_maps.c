/* target_maps.c - reclaim a target's entries from the maps. Entries are read in batches (map_reader.h),
 * then deleted or inserted key by key: a batch delete stops at the first
 * key the kernel no longer has, which the sweep program may have taken. */
#include "snapshot/target_maps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "memleakd.h"
#include "snapshot/map_reader.h"
#include "util/array.h"

/* Keys gathered from a walk, to delete or insert once it is over. */
struct keys {
	uint64_t *keys;
	size_t n, cap;
};

static int keys_add(struct keys *k, uint64_t key)
{
	int r = array_grow((void **)&k->keys, &k->cap, k->n, sizeof(*k->keys), 256);

	if (r == 0)
		k->keys[k->n++] = key;
	return r;
}

static uint32_t key_target(uint64_t key)
{
	return (uint32_t)(key >> MEMLEAKD_PTR_BITS);
}

struct record_walk {
	uint32_t target;
	bool freed_too; /* also the records a free kept */
	struct keys keys;
};

static int gather_record(const void *key, const void *value, void *ctx)
{
	struct record_walk *w = ctx;
	uint64_t k = *(const uint64_t *)key;
	const struct alloc_info *info = value;

	if (key_target(k) != w->target || (!w->freed_too && !memleakd_stack_real(info->stack_id)))
		return 0;
	return keys_add(&w->keys, k);
}

/* Delete the keys of target in the map fd, values of value_size (an
 * alloc_info first); *deleted counts them. */
static int delete_records(int fd, size_t value_size, uint32_t target, bool freed_too,
			  uint64_t *deleted)
{
	struct record_walk w = { .target = target, .freed_too = freed_too };
	int r = map_read_all(fd, sizeof(uint64_t), value_size, gather_record, &w);

	for (size_t i = 0; i < w.keys.n && r == 0; i++) {
		if (bpf_map_delete_elem(fd, &w.keys.keys[i]) == 0)
			++*deleted;
		else if (errno != ENOENT)
			r = -errno;
	}
	free(w.keys.keys);
	return r;
}

struct totals_walk {
	uint32_t target;
	struct stack_key *mine; /* the target's entries */
	size_t n, cap;
};

static int gather_totals(const void *key, const void *value, void *ctx)
{
	const struct stack_key *k = key;
	struct totals_walk *w = ctx;
	int r;

	(void)value;
	if (k->target != w->target)
		return 0;
	r = array_grow((void **)&w->mine, &w->cap, w->n, sizeof(*w->mine), 256);
	if (r == 0)
		w->mine[w->n++] = *k;
	return r;
}

/* Delete target's per-stack totals; the stacks that then hold nothing are
 * stack_reclaim.h's to give back. */
static int delete_totals(const struct tracer_maps *maps, uint32_t target)
{
	struct totals_walk w = { .target = target };
	int r = map_read_all(maps->stack_totals, sizeof(struct stack_key),
			     sizeof(struct stack_totals), gather_totals, &w);

	for (size_t i = 0; i < w.n && r == 0; i++)
		if (bpf_map_delete_elem(maps->stack_totals, &w.mine[i]) && errno != ENOENT)
			r = -errno;
	free(w.mine);
	return r;
}

static int gather_reset(const void *key, const void *value, void *ctx)
{
	struct record_walk *w = ctx;
	uint64_t k = *(const uint64_t *)key;

	(void)value;
	return key_target(k) == w->target ? keys_add(&w->keys, k) : 0;
}

static int delete_resets(int fd, uint32_t target)
{
	struct record_walk w = { .target = target };
	int r = map_read_all(fd, sizeof(uint64_t), sizeof(uint64_t), gather_reset, &w);

	for (size_t i = 0; i < w.keys.n && r == 0; i++)
		if (bpf_map_delete_elem(fd, &w.keys.keys[i]) && errno != ENOENT)
			r = -errno;
	free(w.keys.keys);
	return r;
}

/* Zero target's entry of a per-CPU array of value_size values. */
static int zero_counters(int fd, uint32_t target, size_t value_size)
{
	void *zero = calloc(1, map_percpu_value_size(value_size));
	int r = 0;

	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(fd, &target, zero, BPF_ANY))
		r = -errno;
	free(zero);
	return r;
}

int target_maps_reclaim(const struct tracer_maps *maps, uint32_t target, uint64_t *ctx_deleted)
{
	uint64_t plain = 0, with_ctx = 0;
	int r = delete_records(maps->allocs, sizeof(struct alloc_info), target, false, &plain);

	if (r == 0)
		r = delete_records(maps->allocs_spill, sizeof(struct alloc_info), target, false,
				   &plain);
	if (r == 0)
		r = delete_records(maps->ctx_allocs, sizeof(struct ctx_alloc_info), target, true,
				   &with_ctx);
	if (r == 0)
		r = delete_totals(maps, target);
	if (r == 0)
		r = delete_resets(maps->resets, target);
	if (r == 0)
		r = zero_counters(maps->counters, target, sizeof(struct target_counters));
	if (r == 0)
		r = zero_counters(maps->mapping_counters, target, sizeof(struct mapping_counters));
	*ctx_deleted = with_ctx;
	return r;
}
