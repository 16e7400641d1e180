/* report_text.c - the report a person reads in a terminal: a header with
 * the totals, a warning for anything dropped, then the top stacks, biggest
 * first, each with its frames as function+offset [module]. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>

/* "97.7 KiB": exact bytes are printed beside it, this is for the eye. */
static void human_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

static void text_header(FILE *out, const struct snapshot *snap)
{
	const struct snapshot_totals *t = &snap->totals;
	char when[32], human[32];
	struct tm tm;

	gmtime_r(&snap->time.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	human_bytes(human, sizeof(human), t->outstanding_bytes);
	fprintf(out, "== %s pid %d", when, snap->pid);
	if (snap->end)
		fprintf(out, " - final report (%s)", end_reason_name(snap->end));
	fprintf(out,
		" ==\noutstanding since attach: %" PRIu64 " bytes (%s) in %" PRIu64
		" allocations from %zu stacks\n"
		"seen since attach: %" PRIu64 " allocations, %" PRIu64 " frees, %" PRIu64
		" frees of memory allocated before attach\n",
		t->outstanding_bytes, human, t->outstanding_allocs, snap->n_stacks, t->allocs,
		t->frees, t->unknown_frees);
	if (t->resets)
		fprintf(out, "context resets: %" PRIu64 ", releasing %" PRIu64 " allocations\n",
			t->resets, t->reset_frees);
	if (t->dropped_allocs)
		fprintf(out, "WARNING: %" PRIu64 " allocations not tracked: the map is full "
			"(raise --max-allocs)\n", t->dropped_allocs);
	if (t->dropped_resets)
		fprintf(out, "WARNING: %" PRIu64 " context resets not recorded: too many "
			"contexts; their allocations stay counted\n", t->dropped_resets);
	if (t->stack_errors)
		fprintf(out, "WARNING: %" PRIu64 " stacks could not be captured; their bytes "
			"are counted under [stack lost]\n", t->stack_errors);
	if (t->unwind_no_table)
		fprintf(out, "note: %" PRIu64 " stacks met code whose unwind table was not loaded "
			"yet; frame pointers were followed there\n", t->unwind_no_table);
	if (t->unwind_truncated || t->unwind_anon_stops)
		fprintf(out, "note: %" PRIu64 " stacks cut short (unreadable stack or unsupported "
			"frame), %" PRIu64 " ended in JIT or anonymous code\n", t->unwind_truncated,
			t->unwind_anon_stops);
	if (snap->min_age_ns)
		fprintf(out, "stacks count only allocations older than %.3f s\n",
			(double)snap->min_age_ns / 1e9);
}

static void text_stack(FILE *out, size_t rank, const struct snapshot_stack *s)
{
	char human[32];

	human_bytes(human, sizeof(human), s->bytes);
	fprintf(out, "\n#%zu %" PRIu64 " bytes (%s) in %" PRIu64 " allocation%s, oldest %.1f s\n",
		rank, s->bytes, human, s->allocs, s->allocs == 1 ? "" : "s",
		(double)s->oldest_age_ns / 1e9);
	if (s->n_frames == 0)
		fputs("    [stack lost]\n", out);
	for (size_t i = 0; i < s->n_frames; i++) {
		const struct frame *f = &s->frames[i];

		if (f->function)
			fprintf(out, "    %s+0x%" PRIx64, f->function, f->offset);
		else
			fprintf(out, "    0x%" PRIx64, f->addr);
		/* "[vdso]" and "[anon]" come bracketed already. */
		if (!f->module)
			fputs(" [unmapped]\n", out);
		else
			fprintf(out, f->module[0] == '[' ? " %s\n" : " [%s]\n", f->module);
	}
}

static int text_write(FILE *out, const struct snapshot *snap, const struct report_options *opt)
{
	(void)opt;
	text_header(out, snap);
	for (size_t i = 0; i < snap->n_top; i++)
		text_stack(out, i + 1, &snap->stacks[i]);
	if (snap->n_stacks > snap->n_top)
		fprintf(out, "\n(%zu more stacks not shown; see --top)\n", snap->n_stacks - snap->n_top);
	fputc('\n', out);
	return fflush(out) || ferror(out) ? -EIO : 0;
}

const struct report_writer report_text = {
	.name = "text",
	.extension = "txt",
	.write = text_write,
};
