/* verdict.c - the process's memory growth against the traced outstanding
 * bytes, and the verdict on them.
 *
 * Two findings, each on its own: suspect stacks (trend.c), and growth of
 * anonymous memory that the traced bytes do not explain. The verdict names
 * the first that holds, in that order; untraced_growth says whether the
 * second holds too, so that a report whose suspects explain a sliver of
 * the process's growth says so. With neither, the verdict is no leak once
 * the run, and some stack in it, has been long enough to judge.
 */
#include "snapshot/verdict.h"

#include <stdbool.h>

/* Anonymous growth below this is page-level noise, not worth a verdict. */
#define UNTRACED_MIN_BYTES (4LL << 20)

/* What the process holds since attach in memory memleakd traces: the
 * outstanding bytes of each kind of traced memory. */
static int64_t traced_growth(const struct snapshot *snap)
{
	return (int64_t)snap->totals.outstanding_bytes;
}

static bool some_stack_judged(const struct snapshot *snap)
{
	for (size_t i = 0; i < snap->n_stacks; i++)
		if (snap->stacks[i].trend.cls != STACK_NEW)
			return true;
	return snap->n_stacks == 0;
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
	};
	p->untraced_growth = p->rss_anon_growth_bytes >= UNTRACED_MIN_BYTES &&
			     p->tracked_growth_bytes * 2 < p->rss_anon_growth_bytes;
	for (size_t i = 0; i < snap->n_stacks; i++) {
		if (snap->stacks[i].trend.cls != STACK_SUSPECT)
			continue;
		p->suspects++;
		p->suspect_rate_bps += snap->stacks[i].trend.growth_rate_bps;
	}
	p->verdict = decide(p, snap);
}
