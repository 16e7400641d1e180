/* snapshot.c - take one report's data from the maps. Per-stack totals are
 * kept by the BPF programs, by generation, so the outstanding figures and
 * the age of each stack's oldest allocation cost O(stacks); the allocation
 * records are visited (alloc_records.c) only for --min-age and for what
 * context resets released since the sweep program (ctx_sweep.h) retired
 * the rest. What the maps no longer need is deleted by map_cleanup.c. */
#include "snapshot/snapshot.h"

#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "memleakd.h"
#include "probes/tracer.h"
#include "snapshot/context_resets.h"
#include "snapshot/ctx_sweep.h"
#include "snapshot/generations.h"
#include "snapshot/map_cleanup.h"
#include "snapshot/map_reader.h"
#include "snapshot/sampling_estimate.h"
#include "snapshot/snapshot_build.h"
#include "util/array.h"
#include "util/clock.h"

/* Stack ids -> their place in snap->stacks. */
static int index_build(struct key_index *x, const struct snapshot *snap)
{
	int r = key_index__reserve(x, snap->n_stacks);

	for (size_t i = 0; i < snap->n_stacks && r == 0; i++)
		r = key_index__add(x, snap->stacks[i].stack_id, i);
	return r;
}

struct snapshot_stack *build_find_stack(const struct build *b, uint32_t id)
{
	size_t i = key_index__find(&b->index, id);

	return i == KEY_INDEX_NONE ? NULL : &b->snap->stacks[i];
}

struct generation_entry *build_find_entry(const struct build *b, const struct snapshot_stack *s,
					  uint16_t gen)
{
	size_t i = (size_t)(s - b->snap->stacks);

	for (size_t e = b->ranges[i].begin; e < b->ranges[i].end; e++)
		if (b->entries[e].generation == gen)
			return &b->entries[e];
	return NULL;
}

static void build_free(struct build *b)
{
	key_index__clear(&b->index);
	free(b->entries);
	free(b->ranges);
	free(b->retired);
	free(b->old);
}

/* An entry of an old generation whose allocations are all freed: its
 * totals move to user space, and it leaves the map once all are read. */
static int retire(struct build *b, const struct stack_key *k, const struct generation_entry *e)
{
	int r = generations__retire(b->src->generations, k->target, k->stack_id, e->total_bytes,
				    e->total_allocs);

	if (r == 0)
		r = array_grow((void **)&b->retired, &b->cap_retired, b->n_retired,
			       sizeof(*b->retired), 256);
	if (r == 0)
		b->retired[b->n_retired++] = *k;
	return r;
}

static int read_entry(const void *key, const void *value, void *ctx)
{
	const struct stack_key *k = key;
	const struct stack_totals *t = value;
	struct build *b = ctx;
	struct generation_entry e = {
		.stack_id = k->stack_id, .generation = k->generation,
		.bytes = t->outstanding_bytes, .allocs = t->outstanding_allocs,
		.total_bytes = t->total_bytes, .total_allocs = t->total_allocs,
		.first_ns = t->first_ns,
	};
	int r;

	if (k->target != b->src->target)
		return 0;
	if (!e.bytes && !e.allocs && generations__retirable(b->src->generations, e.generation))
		return retire(b, k, &e);
	r = array_grow((void **)&b->entries, &b->cap_entries, b->n_entries, sizeof(*b->entries),
		       256);
	if (r == 0)
		b->entries[b->n_entries++] = e;
	return r;
}

static int by_stack_generation(const void *pa, const void *pb)
{
	const struct generation_entry *a = pa, *b = pb;

	if (a->stack_id != b->stack_id)
		return a->stack_id < b->stack_id ? -1 : 1;
	return (int)a->generation - (int)b->generation;
}

static int add_stack(struct build *b, size_t first, size_t end)
{
	struct snapshot_stack s = { .stack_id = b->entries[first].stack_id };
	int64_t bytes = 0, allocs = 0;
	int r;

	for (size_t e = first; e < end; e++) {
		bytes += b->entries[e].bytes;
		allocs += b->entries[e].allocs;
		s.total_bytes += b->entries[e].total_bytes;
		s.total_allocs += b->entries[e].total_allocs;
	}
	if (allocs <= 0)
		return 0;
	generations__add_retired(b->src->generations, b->src->target, s.stack_id, &s.total_bytes,
				 &s.total_allocs);
	s.bytes = (uint64_t)bytes;
	s.allocs = (uint64_t)allocs;
	r = array_grow((void **)&b->snap->stacks, &b->cap, b->snap->n_stacks, sizeof(s), 256);
	if (r < 0)
		return r;
	b->ranges[b->snap->n_stacks].begin = first;
	b->ranges[b->snap->n_stacks].end = end;
	b->snap->stacks[b->snap->n_stacks++] = s;
	return 0;
}

/* One snapshot stack per stack id, over its generations. */
static int fold_entries(struct build *b)
{
	size_t first = 0;
	int r = 0;

	if (b->n_entries)
		qsort(b->entries, b->n_entries, sizeof(*b->entries), by_stack_generation);
	b->ranges = calloc(b->n_entries + 1, sizeof(*b->ranges));
	if (!b->ranges)
		return -ENOMEM;
	for (size_t e = 1; e <= b->n_entries && r == 0; e++) {
		if (e < b->n_entries && b->entries[e].stack_id == b->entries[first].stack_id)
			continue;
		r = add_stack(b, first, e);
		first = e;
	}
	return r;
}

static int read_counters(int fd, uint32_t target, int ncpus, struct snapshot_totals *t)
{
	struct target_counters *c = calloc((size_t)ncpus, sizeof(*c));
	int r = 0;

	if (!c)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &target, c)) {
		r = -errno;
		goto out;
	}
	for (int cpu = 0; cpu < ncpus; cpu++) {
		t->allocs += c[cpu].allocs;
		t->frees += c[cpu].frees;
		t->unknown_frees += c[cpu].unknown_frees;
		t->dropped_allocs += c[cpu].dropped_allocs;
		t->stack_errors += c[cpu].stack_errors;
		t->stack_map_full += c[cpu].stack_map_full;
		t->dropped_totals += c[cpu].dropped_totals;
		t->failed_allocs += c[cpu].failed_allocs;
		t->nested_calls += c[cpu].nested_calls;
		t->replaced_allocs += c[cpu].replaced_allocs;
		t->resets += c[cpu].resets;
		t->reset_frees += c[cpu].reset_frees;
		t->dropped_resets += c[cpu].dropped_resets;
		t->unwind_no_table += c[cpu].unwind_no_table;
		t->unwind_truncated += c[cpu].unwind_truncated;
		t->unwind_anon_stops += c[cpu].unwind_anon_stops;
		t->allocator_frees += c[cpu].allocator_frees;
		t->hits.entry += c[cpu].entry_hits;
		t->hits.stepped += c[cpu].stepped_hits;
		t->hits.ret += c[cpu].return_hits;
	}
out:
	free(c);
	return r;
}

/* The counters and the per-stack totals, by generation. */
static int read_totals(struct build *b)
{
	const struct tracer_maps *maps = b->src->maps;
	int r = read_counters(maps->counters, b->src->target, b->ncpus, &b->snap->totals);

	if (r == 0)
		r = map_read_all(maps->stack_totals, sizeof(struct stack_key),
				 sizeof(struct stack_totals), read_entry, b);
	if (r == 0)
		r = map_cleanup_retired(maps->stack_totals, b->retired, b->n_retired);
	if (r == 0)
		r = fold_entries(b);
	if (r == 0)
		r = index_build(&b->index, b->snap);
	return r;
}

/* A stack's oldest allocation is in its oldest generation still holding
 * any, and no older than that generation's first allocation. */
static void date_by_generation(struct build *b)
{
	for (size_t i = 0; i < b->snap->n_stacks; i++) {
		uint64_t first = 0;

		for (size_t e = b->ranges[i].begin; e < b->ranges[i].end; e++) {
			const struct generation_entry *g = &b->entries[e];

			if (g->allocs > 0 && g->first_ns && (!first || g->first_ns < first))
				first = g->first_ns;
		}
		b->snap->stacks[i].oldest_age_ns = first && first < b->now_ns ? b->now_ns - first : 0;
	}
}

/* With --min-age, a stack counts only its old allocations. */
static void apply_min_age(struct build *b)
{
	struct snapshot *snap = b->snap;

	for (size_t i = 0; i < snap->n_stacks; i++) {
		snap->stacks[i].bytes = b->old[i].bytes;
		snap->stacks[i].allocs = b->old[i].allocs;
	}
}

/* Stacks left with nothing: all old enough were young, or a reset took all. */
static void drop_empty(struct snapshot *snap)
{
	size_t kept = 0;

	for (size_t i = 0; i < snap->n_stacks; i++)
		if (snap->stacks[i].allocs)
			snap->stacks[kept++] = snap->stacks[i];
	snap->n_stacks = kept;
}

static int by_bytes(const void *pa, const void *pb)
{
	const struct snapshot_stack *a = pa, *b = pb;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->allocs != b->allocs)
		return a->allocs > b->allocs ? -1 : 1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

static int read_addresses(int fd, struct snapshot_stack *s)
{
	struct stack_frames f = { 0 };
	size_t n = 0;

	if (s->stack_id == MEMLEAKD_STACK_LOST || s->stack_id == MEMLEAKD_MAPPING_STACK_LOST)
		return 0;
	if (bpf_map_lookup_elem(fd, &s->stack_id, &f))
		return errno == ENOENT ? 0 : -errno;
	while (n < MEMLEAKD_MAX_FRAMES && f.ips[n])
		n++;
	s->addrs = malloc(n * sizeof(*s->addrs) + 1);
	if (!s->addrs)
		return -ENOMEM;
	memcpy(s->addrs, f.ips, n * sizeof(*s->addrs));
	s->n_addrs = n;
	return 0;
}

/* Totals over every stack, once resets are applied; --min-age only
 * filters the stacks. */
static void sum_outstanding(struct build *b)
{
	struct snapshot *snap = b->snap;

	for (size_t i = 0; i < snap->n_stacks; i++) {
		uint64_t bytes, allocs;

		sampling_estimate(snap->sample_bytes, snap->stacks[i].bytes, snap->stacks[i].allocs,
				  &bytes, &allocs);
		snap->totals.outstanding_bytes += bytes;
		snap->totals.outstanding_allocs += allocs;
	}
}

/* Each stack's sampled figures are kept, and replaced by what they stand
 * for: O(stacks). The identity without sampling. */
static void estimate_stacks(struct snapshot *snap)
{
	for (size_t i = 0; i < snap->n_stacks; i++) {
		struct snapshot_stack *s = &snap->stacks[i];

		s->sampled_bytes = s->bytes;
		s->sampled_allocs = s->allocs;
		sampling_estimate(snap->sample_bytes, s->sampled_bytes, s->sampled_allocs, &s->bytes,
				  &s->allocs);
		sampling_estimate(snap->sample_bytes, s->total_bytes, s->total_allocs,
				  &s->total_bytes, &s->total_allocs);
	}
}

static int build(struct build *b)
{
	const struct snapshot_source *src = b->src;
	int r = src->sweep ? ctx_sweep__run(src->sweep) : 0;

	if (r == 0)
		r = context_resets__load(src->resets, src->maps->resets, src->target);

	if (r == 0)
		r = read_totals(b);
	if (r < 0)
		return r;
	b->now_ns = monotonic_ns();
	if (src->min_age_ns) {
		b->old = calloc(b->snap->n_stacks + 1, sizeof(*b->old));
		if (!b->old)
			return -ENOMEM;
	}
	r = alloc_records_visit(b);
	if (r < 0)
		return r;
	if (!src->min_age_ns)
		date_by_generation(b);
	sum_outstanding(b);
	if (src->min_age_ns)
		apply_min_age(b);
	drop_empty(b->snap);
	estimate_stacks(b->snap);
	if (b->snap->n_stacks)
		qsort(b->snap->stacks, b->snap->n_stacks, sizeof(*b->snap->stacks), by_bytes);
	return 0;
}

int snapshot__take(const struct snapshot_source *src, struct snapshot **out)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));
	struct build b = { .src = src, .snap = snap, .ncpus = map_ncpus() };
	int r;

	if (!snap)
		return -ENOMEM;
	r = b.ncpus > 0 ? 0 : b.ncpus < 0 ? b.ncpus : -EINVAL;
	clock_gettime(CLOCK_REALTIME, &snap->time);
	snap->pid = src->pid;
	snap->min_age_ns = src->min_age_ns;
	snap->sample_bytes = src->sample_bytes;
	if (r == 0)
		r = build(&b);
	build_free(&b);
	if (r < 0) {
		snapshot__free(snap);
		return r;
	}
	*out = snap;
	return 0;
}

int snapshot__read_stacks(struct snapshot *snap, const struct tracer_maps *maps, size_t top)
{
	int r = 0;

	snap->n_top = snap->n_stacks < top ? snap->n_stacks : top;
	snap->n_top_mappings = snap->n_mappings < top ? snap->n_mappings : top;
	for (size_t i = 0; i < snap->n_top && !r; i++)
		r = read_addresses(maps->stacks, &snap->stacks[i]);
	for (size_t i = 0; i < snap->n_top_mappings && !r; i++)
		r = read_addresses(maps->stacks, &snap->mappings[i]);
	return r;
}

static void free_stacks(struct snapshot_stack *stacks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(stacks[i].addrs);
		free(stacks[i].frames);
	}
	free(stacks);
}

void snapshot_totals_add(struct snapshot_totals *sum, const struct snapshot_totals *t)
{
	_Static_assert(sizeof(*t) % sizeof(uint64_t) == 0, "snapshot_totals holds counts only");
	uint64_t *to = (uint64_t *)sum;
	const uint64_t *from = (const uint64_t *)t;

	for (size_t i = 0; i < sizeof(*t) / sizeof(uint64_t); i++)
		to[i] += from[i];
}

void snapshot__free(struct snapshot *snap)
{
	if (!snap)
		return;
	free_stacks(snap->stacks, snap->n_stacks);
	free_stacks(snap->mappings, snap->n_mappings);
	free(snap->exe);
	free(snap);
}
