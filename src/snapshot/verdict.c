/* verdict.c - the process's memory growth against the traced outstanding
 * bytes, and the verdict on them. */
#include "snapshot/verdict.h"

#include <stdbool.h>

/* Anonymous growth below this is page-level noise, not worth a verdict. */
#define UNTRACED_MIN_BYTES (4ULL << 20)

static enum verdict decide(const struct process_summary *p, const struct snapshot *snap)
{
	bool judged = false;

	if (p->suspects)
		return VERDICT_LEAK;
	if (p->rss_anon_growth_bytes >= (int64_t)UNTRACED_MIN_BYTES &&
	    p->tracked_growth_bytes * 2 < p->rss_anon_growth_bytes)
		return VERDICT_UNTRACED;
	for (size_t i = 0; i < snap->n_stacks && !judged; i++)
		judged = snap->stacks[i].trend.cls != STACK_NEW;
	return judged || !snap->n_stacks ? VERDICT_NO_LEAK : VERDICT_UNDECIDED;
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
		.tracked_growth_bytes = (int64_t)snap->totals.outstanding_bytes,
	};
	for (size_t i = 0; i < snap->n_stacks; i++) {
		if (snap->stacks[i].trend.cls != STACK_SUSPECT)
			continue;
		p->suspects++;
		p->suspect_rate_bps += snap->stacks[i].trend.growth_rate_bps;
	}
	p->verdict = decide(p, snap);
}
