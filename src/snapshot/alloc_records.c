/* alloc_records.c - visit the allocation records, in batches, when the
 * per-stack totals are not enough: --min-age needs each allocation's age,
 * and a record that a context reset released stays in its stack's totals
 * until the programs retire it (snapshot/context_resets.h). */
#include "probes/tracer.h"
#include "snapshot/context_resets.h"
#include "snapshot/map_cleanup.h"
#include "snapshot/map_reader.h"
#include "snapshot/snapshot_build.h"

/* A record a context reset released, not yet retired by the programs: it is
 * in its stack's totals, but not outstanding. */
static void subtract_released(struct build *b, const struct alloc_info *info)
{
	struct snapshot_stack *s = build_find_stack(b, info->stack_id);
	struct generation_entry *e = s ? build_find_entry(b, s, alloc_info_generation(info)) : NULL;

	b->snap->totals.reset_frees++;
	if (s && s->allocs) {
		s->bytes -= alloc_info_size(info);
		s->allocs--;
	}
	if (e)
		e->allocs--;
}

/* One outstanding allocation allocated at allocated_ns. */
static void visit(struct build *b, const struct alloc_info *info, uint64_t allocated_ns)
{
	struct snapshot_stack *s = build_find_stack(b, info->stack_id);
	uint64_t age = b->now_ns > allocated_ns ? b->now_ns - allocated_ns : 0;

	b->snap->records_read++;
	/* Allocated after the totals were read, or no --min-age: the
	 * generations date the stacks. */
	if (!s || !b->src->min_age_ns)
		return;
	if (age > s->oldest_age_ns)
		s->oldest_age_ns = age;
	if (age >= b->src->min_age_ns) {
		struct snapshot_stack *old = &b->old[s - b->snap->stacks];

		old->bytes += alloc_info_size(info);
		old->allocs++;
	}
}

static int visit_plain(const void *key, const void *value, void *ctx)
{
	const struct alloc_info *info = value;
	struct build *b = ctx;

	/* A freed record, kept for the next allocation at its address. */
	if (*(const uint64_t *)key >> MEMLEAKD_PTR_BITS != b->src->target ||
	    !memleakd_stack_real(info->stack_id))
		return 0;
	visit(b, info, b->src->time_base_ns + ((uint64_t)info->time << MEMLEAKD_TIME_SHIFT));
	return 0;
}

static int visit_ctx(const void *key, const void *value, void *ctx)
{
	const struct ctx_alloc_info *c = value;
	struct build *b = ctx;

	if (*(const uint64_t *)key >> MEMLEAKD_PTR_BITS != b->src->target)
		return 0;
	if (context_resets__released(b->src->resets, b->src->target, c->ctx, c->timestamp_ns))
		subtract_released(b, &c->info);
	else
		visit(b, &c->info, c->timestamp_ns);
	return 0;
}

int alloc_records_visit(struct build *b)
{
	const struct snapshot_source *src = b->src;
	const struct tracer_maps *maps = src->maps;
	int r = 0;

	if (src->min_age_ns || !context_resets__empty(src->resets)) {
		r = map_read_all(maps->ctx_allocs, sizeof(uint64_t), sizeof(struct ctx_alloc_info),
				 visit_ctx, b);
		if (r == 0)
			r = map_cleanup_resets(maps->resets, src->resets);
	}
	if (r == 0 && src->min_age_ns)
		r = map_read_all(maps->allocs, sizeof(uint64_t), sizeof(struct alloc_info),
				 visit_plain, b);
	if (r == 0 && src->min_age_ns)
		r = map_read_all(maps->allocs_spill, sizeof(uint64_t), sizeof(struct alloc_info),
				 visit_plain, b);
	return r;
}
