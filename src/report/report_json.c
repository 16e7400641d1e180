/* report_json.c - one JSON object per report, on one line (JSON Lines), so
 * a stream of reports can be read line by line by jq or any program. The
 * field names are a contract: checks and other tools rely on them. */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>

#include "util/json_writer.h"

static void json_time(FILE *out, const struct timespec *ts)
{
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	fprintf(out, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000000);
}

static void json_totals(FILE *out, const struct snapshot_totals *t, size_t n_stacks,
			size_t n_mappings)
{
	fprintf(out,
		"{\"outstanding_bytes\":%" PRIu64 ",\"outstanding_allocs\":%" PRIu64
		",\"allocs\":%" PRIu64 ",\"frees\":%" PRIu64 ",\"unknown_frees\":%" PRIu64
		",\"allocator_frees\":%" PRIu64 ",\"dropped_allocs\":%" PRIu64
		",\"dropped_totals\":%" PRIu64 ",\"stack_errors\":%" PRIu64
		",\"stack_map_full\":%" PRIu64 ",\"failed_allocs\":%" PRIu64 ",\"nested_calls\":%" PRIu64
		",\"replaced_allocs\":%" PRIu64 ",\"resets\":%" PRIu64
		",\"reset_frees\":%" PRIu64 ",\"dropped_resets\":%" PRIu64
		",\"unwind_no_table\":%" PRIu64 ",\"unwind_truncated\":%" PRIu64
		",\"unwind_anon_stops\":%" PRIu64 ",\"stacks\":%zu",
		t->outstanding_bytes, t->outstanding_allocs, t->allocs, t->frees, t->unknown_frees,
		t->allocator_frees, t->dropped_allocs, t->dropped_totals, t->stack_errors,
		t->stack_map_full, t->failed_allocs, t->nested_calls,
		t->replaced_allocs, t->resets, t->reset_frees, t->dropped_resets, t->unwind_no_table,
		t->unwind_truncated, t->unwind_anon_stops, n_stacks);
	fprintf(out,
		",\"mapped_bytes\":%" PRIu64 ",\"mapped_ranges\":%" PRIu64
		",\"heap_mapped_bytes\":%" PRIu64 ",\"heap_mapped_ranges\":%" PRIu64
		",\"mapping_stacks\":%zu,\"mapping_events\":%" PRIu64
		",\"dropped_mapping_events\":%" PRIu64 "}",
		t->mapped_bytes, t->mapped_ranges, t->heap_mapped_bytes, t->heap_mapped_ranges,
		n_mappings, t->mapping_events, t->dropped_mapping_events);
}

static void json_frame(FILE *out, const struct frame *f)
{
	fprintf(out, "{\"addr\":\"0x%" PRIx64 "\",\"function\":", f->addr);
	json_write_string(out, f->function);
	fprintf(out, ",\"offset\":%" PRIu64 ",\"module\":", f->offset);
	json_write_string(out, f->module);
	fputs(",\"file\":", out);
	json_write_string(out, f->file);
	if (f->line)
		fprintf(out, ",\"line\":%u", f->line);
	else
		fputs(",\"line\":null", out);
	fprintf(out, ",\"inlined\":%s,\"build_id\":", f->inlined ? "true" : "false");
	json_write_string(out, f->build_id);
	fputs(",\"mangled\":", out);
	json_write_string(out, f->mangled);
	fprintf(out, ",\"module_mismatch\":%s}", f->module_mismatch ? "true" : "false");
}

static void json_stack(FILE *out, const struct snapshot_stack *s)
{
	const struct stack_trend *t = &s->trend;

	fputs("{\"kind\":", out);
	json_write_string(out, stack_kind_name(s->kind));
	fprintf(out,
		",\"bytes\":%" PRIu64 ",\"allocs\":%" PRIu64 ",\"sampled_bytes\":%" PRIu64
		",\"sampled_allocs\":%" PRIu64 ",\"oldest_age_ms\":%" PRIu64
		",\"total_bytes\":%" PRIu64 ",\"total_allocs\":%" PRIu64 ",\"stack_lost\":%s"
		",\"class\":\"%s\",\"growth_bytes\":%" PRId64 ",\"growth_allocs\":%" PRId64
		",\"growth_rate_bps\":%.1f,\"intervals\":%u,\"intervals_grown\":%u"
		",\"frames\":[",
		s->bytes, s->allocs, s->sampled_bytes, s->sampled_allocs, s->oldest_age_ns / 1000000, s->total_bytes, s->total_allocs,
		s->n_frames == 0 ? "true" : "false", stack_class_name(t->cls), t->growth_bytes,
		t->growth_allocs, t->growth_rate_bps, t->intervals, t->grown);
	for (size_t i = 0; i < s->n_frames; i++) {
		if (i)
			fputc(',', out);
		json_frame(out, &s->frames[i]);
	}
	fputs("]}", out);
}

static void json_stacks(FILE *out, const char *name, const struct snapshot_stack *stacks,
			size_t n)
{
	fprintf(out, ",\"%s\":[", name);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', out);
		json_stack(out, &stacks[i]);
	}
	fputc(']', out);
}

static void json_process(FILE *out, const struct process_summary *p)
{
	fprintf(out,
		"{\"rss_bytes\":%" PRIu64 ",\"rss_anon_bytes\":%" PRIu64
		",\"rss_growth_bytes\":%" PRId64 ",\"rss_anon_growth_bytes\":%" PRId64
		",\"tracked_growth_bytes\":%" PRId64 ",\"suspects\":%zu,\"verdict\":",
		p->rss_bytes, p->rss_anon_bytes, p->rss_growth_bytes, p->rss_anon_growth_bytes,
		p->tracked_growth_bytes, p->suspects);
	json_write_string(out, verdict_name(p->verdict));
	fprintf(out, ",\"rss_growth_untraced\":%s,\"mapped_growth_bytes\":%" PRId64
		",\"heap_mapped_bytes\":%" PRId64 ",\"allocator_retention\":%s}",
		p->untraced_growth ? "true" : "false", p->mapped_growth_bytes, p->heap_mapped_bytes,
		p->allocator_retention ? "true" : "false");
}

/* null when the cost could not be measured. */
static void json_cost(FILE *out, const struct tracing_cost *c)
{
	if (!c->known) {
		fputs("null", out);
		return;
	}
	fprintf(out, "{\"probe_hits\":%" PRIu64 ",\"single_stepped_hits\":%" PRIu64
		",\"probe_hits_per_s\":%.1f,\"ns_per_hit\":%.1f,\"cpu_share\":%.6f"
		",\"syscall_cpu_share\":%.6f}", c->hits, c->stepped_hits, c->hits_per_s,
		c->ns_per_hit, c->cpu_share, c->syscall_cpu_share);
}

/* One process's report, as one document or as an element of a round's
 * processes array. */
static void json_report(FILE *out, const struct snapshot *snap)
{
	fputs("{\"time\":", out);
	json_time(out, &snap->time);
	fprintf(out, ",\"pid\":%d,\"comm\":", snap->pid);
	json_write_string(out, snap->comm);
	fputs(",\"exe\":", out);
	json_write_string(out, snap->exe);
	fprintf(out, ",\"final\":%s", snap->end ? "true" : "false");
	if (snap->end) {
		fputs(",\"end_reason\":", out);
		json_write_string(out, end_reason_name(snap->end));
	}
	fprintf(out, ",\"report\":%u,\"since_attach_s\":%.3f,\"interval_s\":%.3f",
		snap->report, snap->since_attach_s, snap->interval_s);
	fprintf(out, ",\"min_age_ms\":%" PRIu64 ",\"sample_bytes\":%" PRIu64 ",\"process\":",
		snap->min_age_ns / 1000000, snap->sample_bytes);
	json_process(out, &snap->process);
	fputs(",\"cost\":", out);
	json_cost(out, &snap->cost);
	fputs(",\"totals\":", out);
	json_totals(out, &snap->totals, snap->n_stacks, snap->n_mappings);
	json_stacks(out, "stacks", snap->stacks, snap->n_top);
	json_stacks(out, "mappings", snap->mappings, snap->n_top_mappings);
	fputc('}', out);
}

/* A round of several processes is one document: its time and whether it
 * is final open it, each report is an element of "processes", and the sum
 * of their totals closes it ("total"). */
static int json_write(FILE *out, const struct snapshot *snap, const struct report_options *opt)
{
	const struct snapshot_round *round = snap->round;

	(void)opt;
	if (round && snap->round_index == 0) {
		fputs("{\"time\":", out);
		json_time(out, &snap->time);
		fprintf(out, ",\"final\":%s", snap->end ? "true" : "false");
		if (snap->end) {
			fputs(",\"end_reason\":", out);
			json_write_string(out, end_reason_name(snap->end));
		}
		fputs(",\"processes\":[", out);
	}
	if (round && snap->round_index)
		fputc(',', out);
	json_report(out, snap);
	if (round && snap->round_index + 1 == round->n_processes) {
		fputs("],\"total\":", out);
		json_totals(out, &round->totals, round->n_stacks, round->n_mappings);
		fputc('}', out);
	}
	if (!round || snap->round_index + 1 == round->n_processes)
		fputc('\n', out);
	return fflush(out) || ferror(out) ? -EIO : 0;
}

const struct report_writer report_json = {
	.name = "json",
	.extension = "json",
	.write = json_write,
};
