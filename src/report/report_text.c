/* report_text.c - the report a person reads in a terminal: the verdict on
 * top, the process's memory against what is traced, the totals and any
 * warning, then the stacks in sections, leak suspects first, each with its
 * growth and its frames as function+offset [module]; then the stacks of
 * mapped memory, the program's and the allocators', each with its class. */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>

#include "snapshot/growth_rule.h"
#include "util/human_size.h"

#define HUMAN_LEN 32

/* "97.7 KiB", "-1.5 MiB", "+0 B" with sign: exact bytes are printed
 * beside it, this is for the eye. */
static const char *human_bytes(char *buf, int64_t bytes, bool sign)
{
	uint64_t mag = bytes < 0 ? -(uint64_t)bytes : (uint64_t)bytes;

	return human_size(buf, HUMAN_LEN, bytes < 0 ? "-" : sign ? "+" : "", mag);
}

/* The "s" of a count's noun: "1 stack", "2 stacks". */
static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void text_memory(FILE *out, const struct process_summary *p)
{
	char rss[HUMAN_LEN], rss_growth[HUMAN_LEN], anon[HUMAN_LEN], anon_growth[HUMAN_LEN];
	char traced[HUMAN_LEN];

	fprintf(out, "memory: RSS %s (%s since attach), anonymous %s (%s); traced outstanding %s\n",
		human_bytes(rss, (int64_t)p->rss_bytes, false),
		human_bytes(rss_growth, p->rss_growth_bytes, true),
		human_bytes(anon, (int64_t)p->rss_anon_bytes, false),
		human_bytes(anon_growth, p->rss_anon_growth_bytes, true),
		human_bytes(traced, p->tracked_growth_bytes, true));
}

/* What the growth the traced bytes do not explain may be. */
#define UNTRACED_CAUSES "allocator retention, fragmentation, or memory not allocated " \
	"through traced functions"

/* Why the traced bytes fall short: the allocators' heaps, when they make
 * up the difference, else the possible causes. */
static void text_untraced_cause(FILE *out, const struct process_summary *p)
{
	char heap[HUMAN_LEN];

	if (p->allocator_retention)
		fprintf(out, "the allocators keep it: their own heaps hold %s (retention, "
			"fragmentation; see MAPPED BY ALLOCATORS)\n",
			human_bytes(heap, p->heap_mapped_bytes, false));
	else
		fputs("the rest is " UNTRACED_CAUSES "\n", out);
}

static void text_verdict(FILE *out, const struct snapshot *snap)
{
	const struct process_summary *p = &snap->process;
	char a[HUMAN_LEN], b[HUMAN_LEN];

	switch (p->verdict) {
	case VERDICT_LEAK:
		fprintf(out, "verdict: LEAK SUSPECTED: %zu stack%s keep%s growing, together %s/s\n",
			p->suspects, plural(p->suspects), p->suspects == 1 ? "s" : "",
			human_bytes(a, (int64_t)p->suspect_rate_bps, true));
		if (!p->untraced_growth)
			break;
		fprintf(out, "verdict: AND UNTRACED GROWTH: anonymous RSS grew %s since attach, "
			"traced outstanding only %s; ",
			human_bytes(a, p->rss_anon_growth_bytes, true),
			human_bytes(b, p->tracked_growth_bytes, true));
		text_untraced_cause(out, p);
		break;
	case VERDICT_UNTRACED:
		fprintf(out, "verdict: NOT A LEAK OF TRACED ALLOCATIONS: anonymous RSS grew %s since "
			"attach, traced outstanding only %s; ",
			human_bytes(a, p->rss_anon_growth_bytes, true),
			human_bytes(b, p->tracked_growth_bytes, true));
		text_untraced_cause(out, p);
		break;
	case VERDICT_NO_LEAK:
		fputs("verdict: no leak seen: no stack keeps growing\n", out);
		break;
	case VERDICT_UNDECIDED:
		fprintf(out, "verdict: undecided: too little history yet; a stack is judged once %u "
			"intervals have followed the one it appeared in\n", GROWTH_MIN_INTERVALS);
		break;
	default:
		fputs("verdict: unknown: the process's memory could not be read\n", out);
		return;
	}
	text_memory(out, p);
}

static void text_warnings(FILE *out, const struct snapshot_totals *t)
{
	if (t->resets)
		fprintf(out, "context resets: %" PRIu64 ", releasing %" PRIu64 " allocation%s\n",
			t->resets, t->reset_frees, plural(t->reset_frees));
	if (t->dropped_allocs)
		fprintf(out, "WARNING: %" PRIu64 " allocation%s not tracked: the allocation map is "
			"full (raise --max-allocs)\n", t->dropped_allocs, plural(t->dropped_allocs));
	if (t->dropped_totals)
		fprintf(out, "WARNING: %" PRIu64 " allocation%s not tracked: the per-stack totals "
			"map is full (raise --max-stacks)\n", t->dropped_totals, plural(t->dropped_totals));
	if (t->dropped_resets)
		fprintf(out, "WARNING: %" PRIu64 " context reset%s not recorded: too many "
			"contexts; their allocations stay counted\n", t->dropped_resets,
			plural(t->dropped_resets));
	if (t->stack_errors)
		fprintf(out, "WARNING: %" PRIu64 " stack%s could not be captured; their bytes "
			"are counted under [stack lost]\n", t->stack_errors, plural(t->stack_errors));
	if (t->stack_map_full)
		fprintf(out, "WARNING: %" PRIu64 " of them found the stack map full: more distinct "
			"stacks held memory at once than it holds (raise --max-stacks)\n",
			t->stack_map_full);
	if (t->dropped_mapping_events)
		fprintf(out, "WARNING: %" PRIu64 " mapping event%s lost (the ring buffer was full); "
			"mapped bytes may be off\n", t->dropped_mapping_events,
			plural(t->dropped_mapping_events));
	if (t->allocator_frees)
		fprintf(out, "note: %" PRIu64 " free%s made by the allocator itself as threads "
			"exited (glibc emptying their caches) are not counted as frees\n",
			t->allocator_frees, plural(t->allocator_frees));
	if (t->unwind_no_table)
		fprintf(out, "note: %" PRIu64 " stack%s met code whose unwind table was not loaded "
			"yet; frame pointers were followed there\n", t->unwind_no_table,
			plural(t->unwind_no_table));
	if (t->unwind_truncated || t->unwind_anon_stops)
		fprintf(out, "note: %" PRIu64 " stack%s cut short (unreadable stack or unsupported "
			"frame), %" PRIu64 " ended in JIT or anonymous code\n", t->unwind_truncated,
			plural(t->unwind_truncated), t->unwind_anon_stops);
}

/* What tracing cost over the interval, when it was measured. */
static void text_cost(FILE *out, const struct tracing_cost *c)
{
	if (!c->known)
		return;
	if (c->hits)
		fprintf(out, "tracing cost: %.0f probe hits/s at %.2f us each, %.2f%% of a CPU",
			c->hits_per_s, c->ns_per_hit / 1e3, c->cpu_share * 100);
	else
		fputs("tracing cost: no probe hit since the last report", out);
	if (c->syscall_cpu_share > 0)
		fprintf(out, "; watching mappings, %.2f%% of a CPU machine-wide",
			c->syscall_cpu_share * 100);
	fputc('\n', out);
}

/* Mapped memory, when the run watches mappings. */
static void text_mapped(FILE *out, const struct snapshot *snap)
{
	const struct snapshot_totals *t = &snap->totals;
	char mapped[HUMAN_LEN], heap[HUMAN_LEN];

	if (!t->mapping_events && !snap->n_mappings)
		return;
	fprintf(out,
		"mapped since attach: %" PRIu64 " bytes (%s) in %" PRIu64 " range%s by the "
		"program, %" PRIu64 " bytes (%s) in %" PRIu64 " range%s by traced allocators "
		"for their heaps; %zu stack%s\n",
		t->mapped_bytes, human_bytes(mapped, (int64_t)t->mapped_bytes, false),
		t->mapped_ranges, plural(t->mapped_ranges), t->heap_mapped_bytes,
		human_bytes(heap, (int64_t)t->heap_mapped_bytes, false), t->heap_mapped_ranges,
		plural(t->heap_mapped_ranges), snap->n_mappings, plural(snap->n_mappings));
}

static void text_outstanding(FILE *out, const struct snapshot_totals *t, size_t n_stacks)
{
	char human[HUMAN_LEN];

	fprintf(out,
		"outstanding since attach: %" PRIu64 " bytes (%s) in %" PRIu64
		" allocation%s from %zu stack%s\n"
		"seen since attach: %" PRIu64 " allocation%s, %" PRIu64 " free%s, %" PRIu64
		" free%s of memory allocated before attach\n",
		t->outstanding_bytes, human_bytes(human, (int64_t)t->outstanding_bytes, false),
		t->outstanding_allocs, plural(t->outstanding_allocs), n_stacks, plural(n_stacks),
		t->allocs, plural(t->allocs), t->frees, plural(t->frees), t->unknown_frees,
		plural(t->unknown_frees));
}

static void text_header(FILE *out, const struct snapshot *snap)
{
	const struct snapshot_totals *t = &snap->totals;
	char when[32], human[HUMAN_LEN];
	struct tm tm;

	gmtime_r(&snap->time.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(out, "== %s pid %d", when, snap->pid);
	if (snap->comm[0])
		fprintf(out, " %s", snap->comm);
	if (snap->exe)
		fprintf(out, " (%s)", snap->exe);
	fprintf(out, ", report %u, %.1f s after attach", snap->report, snap->since_attach_s);
	if (snap->sample_bytes)
		fprintf(out, ", sampled every %s: bytes and allocations are estimates",
			human_bytes(human, (int64_t)snap->sample_bytes, false));
	if (snap->end)
		fprintf(out, " - final report (%s)", end_reason_name(snap->end));
	fputs(" ==\n", out);
	text_verdict(out, snap);
	text_outstanding(out, t, snap->n_stacks);
	text_cost(out, &snap->cost);
	text_mapped(out, snap);
	text_warnings(out, t);
	if (snap->min_age_ns)
		fprintf(out, "stacks count only allocations older than %.3f s\n",
			(double)snap->min_age_ns / 1e9);
}

static void text_frames(FILE *out, const struct snapshot_stack *s)
{
	if (s->n_frames == 0)
		fputs("    [stack lost]\n", out);
	for (size_t i = 0; i < s->n_frames; i++) {
		const struct frame *f = &s->frames[i];

		if (f->inlined)
			fprintf(out, "    inlined %s", f->function ? f->function : "?");
		else if (f->function)
			fprintf(out, "    %s+0x%" PRIx64, f->function, f->offset);
		else
			fprintf(out, "    0x%" PRIx64, f->addr);
		if (f->file)
			fprintf(out, " (%s:%u)", f->file, f->line);
		/* "[vdso]" and "[anon]" come bracketed already. */
		if (!f->module)
			fputs(" [unmapped]", out);
		else
			fprintf(out, f->module[0] == '[' ? " %s" : " [%s]", f->module);
		/* Why a frame in a named object has no name. */
		fputs(f->module_mismatch ? " [module: build-id mismatch]\n" : "\n", out);
	}
}

/* A mapping stack's line says its class: its section is its kind's. */
static void text_stack(FILE *out, size_t rank, const struct snapshot_stack *s)
{
	const struct stack_trend *t = &s->trend;
	char bytes[HUMAN_LEN], growth[HUMAN_LEN], rate[HUMAN_LEN];
	const char *noun = s->kind == STACK_ALLOC ? "allocation" : "range";

	fprintf(out, "#%-3zu %10s (%" PRIu64 " B) in %" PRIu64 " %s%s", rank,
		human_bytes(bytes, (int64_t)s->bytes, false), s->bytes, s->allocs, noun,
		plural(s->allocs));
	if (s->kind != STACK_ALLOC)
		fprintf(out, ", %s", stack_class_name(t->cls));
	fprintf(out, "; %s (%+" PRId64 ") since last report",
		human_bytes(growth, t->growth_bytes, true), t->growth_allocs);
	if (t->cls != STACK_NEW)
		fprintf(out, ", %s/s, grew in %u of %u intervals",
			human_bytes(rate, (int64_t)t->growth_rate_bps, true), t->grown, t->intervals);
	fprintf(out, "; oldest %.1f s\n", (double)s->oldest_age_ns / 1e9);
	text_frames(out, s);
}

/* With --sample-bytes, what a stack's estimate was made from. */
static void text_samples(FILE *out, const struct snapshot_stack *s)
{
	fprintf(out, "    (estimated from %" PRIu64 " sampled allocation%s of %" PRIu64 " B)\n",
		s->sampled_allocs, plural(s->sampled_allocs), s->sampled_bytes);
}

static const char *const section_titles[] = {
	[STACK_SUSPECT] = "LEAK SUSPECTS: outstanding grows steadily, significantly, without slowing",
	[STACK_NEW] = "NEW: too little history to judge",
	[STACK_STEADY] = "STEADY: no steady, significant growth (caches, pools, churn)",
};

/* The shown stacks come ordered by class (trend__update): a title where
 * the class changes. */
static void text_stacks(FILE *out, const struct snapshot *snap)
{
	for (size_t i = 0; i < snap->n_top; i++) {
		const struct snapshot_stack *s = &snap->stacks[i];
		size_t n = 0;

		if (i == 0 || s->trend.cls != snap->stacks[i - 1].trend.cls) {
			for (size_t j = 0; j < snap->n_stacks; j++)
				n += snap->stacks[j].trend.cls == s->trend.cls;
			fprintf(out, "\n-- %s (%zu) --\n", section_titles[s->trend.cls], n);
		} else {
			fputc('\n', out);
		}
		text_stack(out, i + 1, s);
		if (snap->sample_bytes)
			text_samples(out, s);
	}
}

static const char *const mapping_titles[] = {
	[STACK_MAPPED] = "MAPPED BY THE PROGRAM: anonymous memory it mapped itself (mmap, mremap, "
			 "brk, mprotect)",
	[STACK_HEAP] = "MAPPED BY ALLOCATORS: their own heaps, which the allocations above are in",
};

/* The shown mapping stacks of one kind, in their order, under its title. */
static void text_mappings(FILE *out, const struct snapshot *snap, enum stack_kind kind)
{
	size_t n = 0, rank = 0;

	for (size_t i = 0; i < snap->n_mappings; i++)
		n += snap->mappings[i].kind == kind;
	for (size_t i = 0; i < snap->n_top_mappings; i++) {
		if (snap->mappings[i].kind != kind)
			continue;
		if (!rank)
			fprintf(out, "\n-- %s (%zu) --\n", mapping_titles[kind], n);
		else
			fputc('\n', out);
		text_stack(out, ++rank, &snap->mappings[i]);
	}
}

/* After the last of several processes reported together: their sum. */
static void text_round(FILE *out, const struct snapshot_round *round)
{
	const struct snapshot_totals *t = &round->totals;

	fprintf(out, "== total, %zu process%s (pid%s", round->n_processes,
		round->n_processes == 1 ? "" : "es", round->n_processes == 1 ? "" : "s");
	for (size_t i = 0; i < round->n_processes; i++)
		fprintf(out, "%s %d", i ? "," : "", round->pids[i]);
	fputs(") ==\n", out);
	text_outstanding(out, t, round->n_stacks);
	if (t->mapping_events || round->n_mappings)
		fprintf(out, "mapped since attach: %" PRIu64 " bytes by the programs, %" PRIu64
			" bytes by traced allocators for their heaps\n", t->mapped_bytes,
			t->heap_mapped_bytes);
	fputc('\n', out);
}

static int text_write(FILE *out, const struct snapshot *snap, const struct report_options *opt)
{
	(void)opt;
	text_header(out, snap);
	text_stacks(out, snap);
	if (snap->n_stacks > snap->n_top)
		fprintf(out, "\n(%zu more stacks not shown; see --top)\n", snap->n_stacks - snap->n_top);
	text_mappings(out, snap, STACK_MAPPED);
	text_mappings(out, snap, STACK_HEAP);
	if (snap->n_mappings > snap->n_top_mappings)
		fprintf(out, "\n(%zu more mapping stacks not shown; see --top)\n",
			snap->n_mappings - snap->n_top_mappings);
	fputc('\n', out);
	if (snap->round && snap->round_index + 1 == snap->round->n_processes)
		text_round(out, snap->round);
	return fflush(out) || ferror(out) ? -EIO : 0;
}

const struct report_writer report_text = {
	.name = "text",
	.extension = "txt",
	.write = text_write,
};
