/* mappings.c - mapping events into ranges, ranges into a report's stacks.
 * Each event is applied as it is read: a new mapping replaces what it
 * overlaps, an unmap cuts, an mremap moves (mapping_ranges.c). A stack's
 * kind, the program's own (STACK_MAPPED) or a traced allocator's heap
 * (STACK_HEAP), is the one of the first mapping seen from it: the same
 * frames make the same call, inside an allocator call or not. A report
 * walks the ranges once: O(ranges), which are few beside allocations. */
#include "snapshot/mappings.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <bpf/bpf.h>

#include "memleakd.h"
#include "snapshot/map_reader.h"
#include "snapshot/mapping_ranges.h"
#include "util/array.h"
#include "util/key_index.h"

/* One stack that mapped memory since attach. */
struct mapping_stack {
	uint32_t stack_id;
	bool heap;
	uint64_t total_bytes, total_ranges; /* mapped since attach */
	/* Filled by each report's walk of the ranges. */
	uint64_t bytes, ranges, oldest_ns;
};

struct mappings {
	struct mapping_ranges *ranges;
	uint32_t target;
	int counters_fd;
	struct mapping_stack *stacks;
	size_t n_stacks, cap_stacks;
	struct key_index index; /* stack id -> its place in stacks */
	uint64_t unapplied;     /* events read but not applied: no memory */
};

/* The entry of stack_id, made with kind heap on first sight; NULL on
 * ENOMEM. */
static struct mapping_stack *stack_of(struct mappings *m, uint32_t stack_id, bool heap)
{
	size_t i = key_index__find(&m->index, stack_id);

	if (i != KEY_INDEX_NONE)
		return &m->stacks[i];
	if (array_grow((void **)&m->stacks, &m->cap_stacks, m->n_stacks, sizeof(*m->stacks), 64) ||
	    key_index__add(&m->index, stack_id, m->n_stacks))
		return NULL;
	m->stacks[m->n_stacks] = (struct mapping_stack){ .stack_id = stack_id, .heap = heap };
	return &m->stacks[m->n_stacks++];
}

static int apply(struct mappings *m, const struct mapping_event *e)
{
	bool grows = e->op == MAPPING_MAP || e->op == MAPPING_OPEN ||
		     (e->op == MAPPING_MOVE && e->new_len > e->len);
	struct mapping_stack *s = NULL;
	struct mapping_range range;
	int64_t r;

	if (grows) {
		s = stack_of(m, e->stack_id, e->flags & MAPPING_F_HEAP);
		if (!s)
			return -ENOMEM;
		range = (struct mapping_range){ .start = e->addr, .end = e->addr + e->len,
						.born_ns = e->time_ns, .stack_id = e->stack_id,
						.heap = s->heap };
	}
	switch (e->op) {
	case MAPPING_MAP:
		r = mapping_ranges__map(m->ranges, &range, e->flags & MAPPING_F_GROW);
		break;
	case MAPPING_RESERVE:
		range = (struct mapping_range){ .start = e->addr, .end = e->addr + e->len,
						.reserved = true };
		r = mapping_ranges__map(m->ranges, &range, false);
		break;
	case MAPPING_OPEN:
		r = mapping_ranges__open(m->ranges, e->addr, e->addr + e->len, e->addr + e->new_len,
					 &range, e->flags & MAPPING_F_GROW);
		break;
	case MAPPING_CLOSE:
		r = mapping_ranges__close(m->ranges, e->addr, e->addr + e->len);
		break;
	case MAPPING_UNMAP:
		r = mapping_ranges__unmap(m->ranges, e->addr, e->addr + e->len);
		break;
	case MAPPING_MOVE:
		r = mapping_ranges__move(m->ranges, e->addr, e->len, e->new_addr, e->new_len,
					 grows ? &range : NULL);
		break;
	default:
		return 0;
	}
	if (r < 0)
		return (int)r;
	if (s) {
		s->total_bytes += e->op == MAPPING_OPEN ? (uint64_t)r :
				  e->op == MAPPING_MOVE ? e->new_len - e->len : e->len;
		s->total_ranges++;
	}
	return 0;
}

void mappings__apply(struct mappings *m, const struct mapping_event *e)
{
	if (apply(m, e) < 0)
		m->unapplied++;
}

bool mappings__has_stack(const struct mappings *m, uint32_t stack_id)
{
	return key_index__find(&m->index, stack_id) != KEY_INDEX_NONE;
}

int mappings__new(int counters_fd, uint32_t target, struct mappings **out)
{
	struct mappings *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->target = target;
	m->counters_fd = counters_fd;
	m->ranges = mapping_ranges__new();
	if (!m->ranges) {
		mappings__free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

struct fill_walk {
	struct mappings *m;
	uint64_t born_before; /* ranges born later are too young (--min-age) */
	struct snapshot_totals *totals;
};

static int sum_range(const struct mapping_range *range, void *ctx)
{
	struct fill_walk *w = ctx;
	struct mapping_stack *s;
	uint64_t bytes = range->end - range->start;

	if (range->reserved)
		return 0;
	s = &w->m->stacks[key_index__find(&w->m->index, range->stack_id)];
	if (s->heap) {
		w->totals->heap_mapped_bytes += bytes;
		w->totals->heap_mapped_ranges++;
	} else {
		w->totals->mapped_bytes += bytes;
		w->totals->mapped_ranges++;
	}
	if (range->born_ns > w->born_before)
		return 0;
	s->bytes += bytes;
	s->ranges++;
	if (!s->oldest_ns || range->born_ns < s->oldest_ns)
		s->oldest_ns = range->born_ns;
	return 0;
}

static int read_counters(const struct mappings *m, struct snapshot_totals *t)
{
	int ncpus = map_ncpus();
	struct mapping_counters *c;
	int r = 0;

	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	c = calloc((size_t)ncpus, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->counters_fd, &m->target, c))
		r = -errno;
	for (int cpu = 0; cpu < ncpus && !r; cpu++) {
		t->mapping_events += c[cpu].events;
		t->dropped_mapping_events += c[cpu].dropped_events;
	}
	t->dropped_mapping_events += m->unapplied;
	free(c);
	return r;
}

static int by_bytes(const void *pa, const void *pb)
{
	const struct snapshot_stack *a = pa, *b = pb;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

static struct snapshot_stack stack_figures(const struct mapping_stack *s, uint64_t now_ns)
{
	return (struct snapshot_stack){
		.stack_id = s->stack_id,
		.kind = s->heap ? STACK_HEAP : STACK_MAPPED,
		.bytes = s->bytes, .allocs = s->ranges,
		.sampled_bytes = s->bytes, .sampled_allocs = s->ranges,
		.total_bytes = s->total_bytes, .total_allocs = s->total_ranges,
		.oldest_age_ns = s->oldest_ns < now_ns ? now_ns - s->oldest_ns : 0,
	};
}

int mappings__fill(struct mappings *m, struct snapshot *snap, uint64_t now_ns,
		   uint64_t min_age_ns)
{
	struct fill_walk w = { .m = m, .totals = &snap->totals,
			       .born_before = min_age_ns < now_ns ? now_ns - min_age_ns : 0 };
	size_t n = 0;
	int r = read_counters(m, &snap->totals);

	if (r < 0)
		return r;
	for (size_t i = 0; i < m->n_stacks; i++)
		m->stacks[i].bytes = m->stacks[i].ranges = m->stacks[i].oldest_ns = 0;
	mapping_ranges__walk(m->ranges, sum_range, &w);
	for (size_t i = 0; i < m->n_stacks; i++)
		n += m->stacks[i].ranges > 0;
	snap->mappings = calloc(n + 1, sizeof(*snap->mappings));
	if (!snap->mappings)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_stacks; i++)
		if (m->stacks[i].ranges)
			snap->mappings[snap->n_mappings++] = stack_figures(&m->stacks[i], now_ns);
	qsort(snap->mappings, snap->n_mappings, sizeof(*snap->mappings), by_bytes);
	return 0;
}

struct held_walk {
	int (*hold)(uint32_t stack_id, void *ctx);
	void *ctx;
};

static int hold_range(const struct mapping_range *range, void *ctx)
{
	const struct held_walk *w = ctx;

	return w->hold(range->stack_id, w->ctx);
}

int mappings__each_held(const struct mappings *m, int (*hold)(uint32_t stack_id, void *ctx),
			void *ctx)
{
	struct held_walk w = { .hold = hold, .ctx = ctx };

	return mapping_ranges__walk(m->ranges, hold_range, &w);
}

void mappings__forget(struct mappings *m, uint32_t stack_id)
{
	size_t i = key_index__find(&m->index, stack_id), last = m->n_stacks - 1;

	if (i == KEY_INDEX_NONE)
		return;
	key_index__remove_swap(&m->index, stack_id, i, m->stacks[last].stack_id, last);
	m->stacks[i] = m->stacks[last];
	m->n_stacks--;
}

void mappings__free(struct mappings *m)
{
	if (!m)
		return;
	mapping_ranges__free(m->ranges);
	key_index__clear(&m->index);
	free(m->stacks);
	free(m);
}
