/* process_memory.c - RSS from /proc/PID/status (smaps_rollup would walk
 * every page table of the process at each report), and the verdict. */
#include "target/process_memory.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Anonymous growth below this is page-level noise, not worth a verdict. */
#define UNTRACED_MIN_BYTES (4ULL << 20)

int process_memory__read(int pid, struct process_memory *out)
{
	struct process_memory m = { 0 };
	bool rss = false, anon = false;
	char path[64], line[256];
	uint64_t kib;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %" SCNu64 " kB", &kib) == 1) {
			m.rss_bytes = kib * 1024;
			rss = true;
		} else if (sscanf(line, "RssAnon: %" SCNu64 " kB", &kib) == 1) {
			m.rss_anon_bytes = kib * 1024;
			anon = true;
		}
	}
	fclose(f);
	/* A zombie has no memory lines left. */
	if (!rss || !anon)
		return -ESRCH;
	*out = m;
	return 0;
}

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

void process_memory__summarize(const struct process_memory *at_attach,
			       const struct process_memory *now, struct snapshot *snap)
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
