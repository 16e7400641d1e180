/* snapshot.c - take one report's data from the maps. Per-stack totals are
 * kept by the BPF programs, so without --min-age the outstanding figures
 * cost O(stacks); the allocation map is walked (in batches) only for the
 * age of each stack's oldest allocation and for --min-age. */
#include "snapshot.h"

#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "context_resets.h"
#include "map_reader.h"
#include "memleakd.h"
#include "sampling.h"
#include "tracer.h"

/* Stack ids -> index in snap->stacks, open addressing. */
struct stack_index {
	size_t cap; /* power of two */
	uint32_t *ids;
	size_t *slots;
	bool *used;
};

struct build {
	struct snapshot *snap;
	struct context_resets *resets;
	uint32_t target;
	size_t cap;
	struct stack_index index;
	uint64_t now_ns, min_age_ns;
	struct snapshot_stack *old; /* with --min-age: the old allocations per stack */
	int ncpus;
};

const char *end_reason_name(enum end_reason end)
{
	switch (end) {
	case END_SIGNAL: return "signal";
	case END_DURATION: return "duration";
	case END_TARGET_EXITED: return "target exited";
	default: return NULL;
	}
}

const char *stack_class_name(enum stack_class cls)
{
	switch (cls) {
	case STACK_STEADY: return "steady";
	case STACK_SUSPECT: return "suspect";
	default: return "new";
	}
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_UNDECIDED: return "undecided";
	case VERDICT_NO_LEAK: return "no_leak";
	case VERDICT_LEAK: return "leak_suspected";
	case VERDICT_UNTRACED: return "rss_growth_untraced";
	default: return NULL;
	}
}

static size_t index_slot(const struct stack_index *x, uint32_t id)
{
	size_t h = (id * 0x9e3779b1u) & (x->cap - 1);

	while (x->used[h] && x->ids[h] != id)
		h = (h + 1) & (x->cap - 1);
	return h;
}

static int index_build(struct stack_index *x, const struct snapshot *snap)
{
	x->cap = 16;
	while (x->cap < snap->n_stacks * 2)
		x->cap *= 2;
	x->ids = calloc(x->cap, sizeof(*x->ids));
	x->slots = calloc(x->cap, sizeof(*x->slots));
	x->used = calloc(x->cap, sizeof(*x->used));
	if (!x->ids || !x->slots || !x->used)
		return -ENOMEM;
	for (size_t i = 0; i < snap->n_stacks; i++) {
		size_t h = index_slot(x, snap->stacks[i].stack_id);

		x->used[h] = true;
		x->ids[h] = snap->stacks[i].stack_id;
		x->slots[h] = i;
	}
	return 0;
}

static void index_free(struct stack_index *x)
{
	free(x->ids);
	free(x->slots);
	free(x->used);
}

static struct snapshot_stack *index_find(const struct build *b, uint32_t id)
{
	size_t h = index_slot(&b->index, id);

	return b->index.used[h] ? &b->snap->stacks[b->index.slots[h]] : NULL;
}

static int add_stack(const void *key, const void *value, void *ctx)
{
	const struct stack_key *k = key;
	const struct stack_totals *per_cpu = value;
	struct build *b = ctx;
	struct snapshot_stack s = { .stack_id = k->stack_id };
	int64_t bytes = 0, allocs = 0;

	if (k->target != b->target)
		return 0;
	for (int cpu = 0; cpu < b->ncpus; cpu++) {
		bytes += per_cpu[cpu].outstanding_bytes;
		allocs += per_cpu[cpu].outstanding_allocs;
		s.total_bytes += per_cpu[cpu].total_bytes;
		s.total_allocs += per_cpu[cpu].total_allocs;
	}
	if (allocs <= 0)
		return 0;
	s.bytes = (uint64_t)bytes;
	s.allocs = (uint64_t)allocs;
	if (b->snap->n_stacks == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct snapshot_stack *n = realloc(b->snap->stacks, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		b->snap->stacks = n;
		b->cap = cap;
	}
	b->snap->stacks[b->snap->n_stacks++] = s;
	return 0;
}

/* A record a context reset released, not yet retired by the programs: it is
 * in its stack's totals, but not outstanding. */
static void subtract_released(struct build *b, const struct alloc_info *info)
{
	struct snapshot_stack *s = index_find(b, info->stack_id);

	b->snap->totals.reset_frees++;
	if (s && s->allocs) {
		s->bytes -= info->size;
		s->allocs--;
	}
}

static int visit_alloc(const void *key, const void *value, void *ctx)
{
	const struct alloc_info *info = value;
	struct build *b = ctx;
	struct snapshot_stack *s;
	uint64_t age;

	if (*(const uint64_t *)key >> MEMLEAKD_PTR_BITS != b->target)
		return 0;
	if (context_resets__released(b->resets, b->target, info)) {
		subtract_released(b, info);
		return 0;
	}
	s = index_find(b, info->stack_id);
	/* Allocated after the totals were read: the next report has it. */
	if (!s)
		return 0;
	age = b->now_ns > info->timestamp_ns ? b->now_ns - info->timestamp_ns : 0;
	if (age > s->oldest_age_ns)
		s->oldest_age_ns = age;
	if (b->min_age_ns && age >= b->min_age_ns) {
		struct snapshot_stack *old = &b->old[s - b->snap->stacks];

		old->bytes += info->size;
		old->allocs++;
	}
	return 0;
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
		t->failed_allocs += c[cpu].failed_allocs;
		t->nested_calls += c[cpu].nested_calls;
		t->replaced_allocs += c[cpu].replaced_allocs;
		t->resets += c[cpu].resets;
		t->reset_frees += c[cpu].reset_frees;
		t->dropped_resets += c[cpu].dropped_resets;
		t->unwind_no_table += c[cpu].unwind_no_table;
		t->unwind_truncated += c[cpu].unwind_truncated;
		t->unwind_anon_stops += c[cpu].unwind_anon_stops;
	}
out:
	free(c);
	return r;
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

	if (s->stack_id == MEMLEAKD_STACK_LOST)
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

static int sum_totals(struct build *b, const struct tracer_maps *maps)
{
	struct snapshot *snap = b->snap;
	int r = read_counters(maps->counters, b->target, b->ncpus, &snap->totals);

	if (r < 0)
		return r;
	return map_read_all(maps->stack_totals, sizeof(struct stack_key),
			    map_percpu_value_size(sizeof(struct stack_totals)), add_stack, b);
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

static int walk_allocations(struct build *b, const struct tracer_maps *maps)
{
	struct timespec now;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &now);
	b->now_ns = (uint64_t)now.tv_sec * 1000000000 + (uint64_t)now.tv_nsec;
	r = index_build(&b->index, b->snap);
	if (r < 0)
		return r;
	if (b->min_age_ns) {
		b->old = calloc(b->snap->n_stacks + 1, sizeof(*b->old));
		if (!b->old)
			return -ENOMEM;
	}
	r = map_read_all(maps->allocs, sizeof(uint64_t), sizeof(struct alloc_info), visit_alloc, b);
	if (r == 0)
		r = context_resets__forget(b->resets, maps->resets);
	if (r < 0)
		return r;
	sum_outstanding(b);
	if (b->min_age_ns)
		apply_min_age(b);
	drop_empty(b->snap);
	return 0;
}

int snapshot__take(const struct tracer_maps *maps, struct context_resets *resets,
		   const struct snapshot_options *o, struct snapshot **out)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));
	struct build b = { .snap = snap, .resets = resets, .target = o->target,
			   .min_age_ns = o->min_age_ns, .ncpus = map_ncpus() };
	int r;

	if (!snap)
		return -ENOMEM;
	if (b.ncpus <= 0) {
		r = b.ncpus < 0 ? b.ncpus : -EINVAL;
		goto fail;
	}
	clock_gettime(CLOCK_REALTIME, &snap->time);
	snap->pid = o->pid;
	snap->min_age_ns = o->min_age_ns;
	snap->sample_bytes = o->sample_bytes;
	r = context_resets__load(resets, maps->resets, o->target);
	if (r < 0)
		goto fail;
	r = sum_totals(&b, maps);
	if (r < 0)
		goto fail;
	r = walk_allocations(&b, maps);
	if (r < 0)
		goto fail;
	estimate_stacks(snap);
	qsort(snap->stacks, snap->n_stacks, sizeof(*snap->stacks), by_bytes);
	index_free(&b.index);
	free(b.old);
	*out = snap;
	return 0;
fail:
	index_free(&b.index);
	free(b.old);
	snapshot__free(snap);
	return r;
}

int snapshot__read_stacks(struct snapshot *snap, const struct tracer_maps *maps, size_t top)
{
	int r = 0;

	snap->n_top = snap->n_stacks < top ? snap->n_stacks : top;
	for (size_t i = 0; i < snap->n_top && !r; i++)
		r = read_addresses(maps->stacks, &snap->stacks[i]);
	return r;
}

/* Resolve s's addresses into s->frames, growing it for inlined calls. */
static int symbolize_stack(struct snapshot_stack *s, struct symbolizer *sym,
			   const struct proc_maps *maps, int root_fd)
{
	size_t cap = s->n_addrs + 1;

	s->frames = calloc(cap, sizeof(*s->frames));
	if (!s->frames)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_addrs; i++) {
		struct frame chain[SYMBOLIZER_MAX_FRAMES];
		int n = symbolizer__resolve(sym, maps, root_fd, s->addrs[i], chain);

		if (n < 0)
			return n;
		if (s->n_frames + (size_t)n > cap) {
			struct frame *grown;

			cap = s->n_frames + (size_t)n + (s->n_addrs - i);
			grown = realloc(s->frames, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			s->frames = grown;
		}
		memcpy(s->frames + s->n_frames, chain, (size_t)n * sizeof(*chain));
		s->n_frames += (size_t)n;
	}
	return 0;
}

int snapshot__symbolize(struct snapshot *snap, struct symbolizer *sym,
			const struct proc_maps *maps, int root_fd)
{
	for (size_t i = 0; i < snap->n_top; i++) {
		int r = symbolize_stack(&snap->stacks[i], sym, maps, root_fd);

		if (r < 0)
			return r;
	}
	return 0;
}

void snapshot__free(struct snapshot *snap)
{
	if (!snap)
		return;
	for (size_t i = 0; i < snap->n_stacks; i++) {
		free(snap->stacks[i].addrs);
		free(snap->stacks[i].frames);
	}
	free(snap->stacks);
	free(snap);
}
