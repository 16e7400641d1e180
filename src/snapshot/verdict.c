/* verdict.c - the process's memory growth against the traced outstanding
 * bytes, and the verdict on them.
 *
 * Two findings, each on its own: suspect stacks (trend.c), and growth of
 * anonymous memory that the traced bytes do not explain. The verdict names
 * the first that holds, in that order; untraced_growth says whether the
 * second holds too, so that a report whose suspects explain a sliver of
 * the process's growth says so. With neither, the verdict is no leak once
 * the run, and some stack in it, has been long enough to judge.
 *
 * Traced memory is what the program holds: its outstanding allocations and
 * the anonymous memory it mapped itself. What allocators mapped for their
 * heaps is not added: the allocations in it are counted already. But when
 * the traced memory falls short and those heaps make up the difference,
 * the allocators keep what the program gave back (retention,
 * fragmentation), which is said as such.
 */
#include "snapshot/verdict.h"

#include <stdbool.h>

/* Anonymous growth below this is page-level noise, not worth a verdict. */
#define UNTRACED_MIN_BYTES (4LL << 20)

/* What the process holds since attach in memory memleakd traces: the
 * outstanding bytes of each kind of traced memory. */
static int64_t traced_growth(const struct snapshot *snap)
{
	return (int64_t)(snap->totals.outstanding_bytes + snap->totals.mapped_bytes);
}

/* Explained: traced bytes make up half the anonymous growth or more. */
static bool explains(int64_t traced, int64_t growth)
{
	return growth < UNTRACED_MIN_BYTES || traced * 2 >= growth;
}

static bool some_stack_judged(const struct snapshot *snap)
{
	for (size_t i = 0; i < snap->n_stacks; i++)
		if (snap->stacks[i].trend.cls != STACK_NEW)
			return true;
	for (size_t i = 0; i < snap->n_mappings; i++)
		if (snap->mappings[i].trend.cls != STACK_NEW)
			return true;
	return snap->n_stacks + snap->n_mappings == 0;
}

/* Count stacks[0..n) of kind suspects: a heap mapping's growth repeats
 * that of the allocations in it, so only the program's own count. */
static void count_suspects(struct process_summary *p, const struct snapshot_stack *stacks,
			   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (stacks[i].trend.cls != STACK_SUSPECT || stacks[i].kind == STACK_HEAP)
			continue;
		p->suspects++;
		p->suspect_rate_bps += stacks[i].trend.growth_rate_bps;
	}
}

static enum verdict decide(const struct process_summary *p, const struct snapshot *snap)
{
	if (p->suspects)
		return VERDICT_LEAK;
	if (p->untraced_growth)
		return VERDICT_UNTRACED;
	return snap->judged && some_stack_judged(snap) ? VERDICT_NO_LEAK : VERDICT_UNDECIDED;
}

void verdict_decide(const struct process_memory *at_attach, const struct process_memory *now,
		    struct snapshot *snap)
{
	struct process_summary *p = &snap->process;

	*p = (struct process_summary){
		.rss_bytes = now->rss_bytes,
		.rss_anon_bytes = now->rss_anon_bytes,
		.rss_growth_bytes = (int64_t)(now->rss_bytes - at_attach->rss_bytes),
		.rss_anon_growth_bytes = (int64_t)(now->rss_anon_bytes - at_attach->rss_anon_bytes),
		.tracked_growth_bytes = traced_growth(snap),
		.mapped_growth_bytes = (int64_t)snap->totals.mapped_bytes,
		.heap_mapped_bytes = (int64_t)snap->totals.heap_mapped_bytes,
	};
	p->untraced_growth = !explains(p->tracked_growth_bytes, p->rss_anon_growth_bytes);
	p->allocator_retention = p->untraced_growth &&
				 explains(p->tracked_growth_bytes + p->heap_mapped_bytes,
					  p->rss_anon_growth_bytes);
	count_suspects(p, snap->stacks, snap->n_stacks);
	count_suspects(p, snap->mappings, snap->n_mappings);
	p->verdict = decide(p, snap);
}
