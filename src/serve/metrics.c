/* metrics.c - the Prometheus text format (exposition format 0.0.4):
 * "# HELP name text" and "# TYPE name type" once per family, then one
 * "name{label="value",...} value" line per series. Label values escape
 * backslash, double quote and line feed; HELP text escapes backslash and
 * line feed. Families come in a fixed order and their series in the order
 * of the processes given, then of the stacks (by bytes), so two documents
 * of the same reports are the same bytes.
 *
 * The per-process families are a table of {name, type, help, field}:
 * adding a JSON total is one line here, under the same name. */
#include "serve/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "report/flame_graph.h"
#include "report/report_names.h"
#include "util/utf8.h"

enum family_type { GAUGE, COUNTER };

/* A figure of one process's report. */
struct process_family {
	const char *name;
	enum family_type type;
	const char *help;
	double (*value)(const struct snapshot *snap);
};

#define TOTAL(field) \
	static double total_##field(const struct snapshot *snap) \
	{ \
		return (double)snap->totals.field; \
	}
#define PROCESS(field) \
	static double process_##field(const struct snapshot *snap) \
	{ \
		return (double)snap->process.field; \
	}

TOTAL(outstanding_bytes)
TOTAL(outstanding_allocs)
TOTAL(allocs)
TOTAL(frees)
TOTAL(unknown_frees)
TOTAL(allocator_frees)
TOTAL(dropped_allocs)
TOTAL(stack_errors)
TOTAL(failed_allocs)
TOTAL(nested_calls)
TOTAL(replaced_allocs)
TOTAL(resets)
TOTAL(reset_frees)
TOTAL(dropped_resets)
TOTAL(unwind_no_table)
TOTAL(unwind_truncated)
TOTAL(unwind_anon_stops)
TOTAL(mapped_bytes)
TOTAL(mapped_ranges)
TOTAL(heap_mapped_bytes)
TOTAL(heap_mapped_ranges)
TOTAL(mapping_events)
TOTAL(dropped_mapping_events)
PROCESS(rss_bytes)
PROCESS(rss_anon_bytes)
PROCESS(rss_growth_bytes)
PROCESS(rss_anon_growth_bytes)
PROCESS(tracked_growth_bytes)
PROCESS(mapped_growth_bytes)
PROCESS(heap_mapped_bytes)
PROCESS(suspects)

static double n_stacks(const struct snapshot *snap)
{
	return (double)snap->n_stacks;
}

static double n_mappings(const struct snapshot *snap)
{
	return (double)snap->n_mappings;
}

static double probe_hits(const struct snapshot *snap)
{
	const struct probe_hits *h = &snap->totals.hits;

	return (double)(h->entry + h->stepped + h->ret);
}

static double stepped_hits(const struct snapshot *snap)
{
	return (double)snap->totals.hits.stepped;
}

/* NaN when the cost could not be measured. */
static double cost_cpu_share(const struct snapshot *snap)
{
	return snap->cost.known ? snap->cost.cpu_share : NAN;
}

static double cost_seconds_per_hit(const struct snapshot *snap)
{
	return snap->cost.known ? snap->cost.ns_per_hit / 1e9 : NAN;
}

static double report_number(const struct snapshot *snap)
{
	return snap->report;
}

static double report_time(const struct snapshot *snap)
{
	return (double)snap->time.tv_sec + snap->time.tv_nsec / 1e9;
}

static const struct process_family process_families[] = {
	{ "memleakd_outstanding_bytes", GAUGE, "Bytes allocated since attach and not freed.",
	  total_outstanding_bytes },
	{ "memleakd_outstanding_allocs", GAUGE, "Allocations made since attach and not freed.",
	  total_outstanding_allocs },
	{ "memleakd_allocs_total", COUNTER, "Allocation calls seen since attach.", total_allocs },
	{ "memleakd_frees_total", COUNTER, "Free calls seen since attach.", total_frees },
	{ "memleakd_unknown_frees_total", COUNTER,
	  "Frees of memory allocated before attach (normal, not errors).", total_unknown_frees },
	{ "memleakd_allocator_frees_total", COUNTER,
	  "Frees the allocator made of its own caches.", total_allocator_frees },
	{ "memleakd_dropped_allocs_total", COUNTER,
	  "Allocations not tracked: the allocation map was full.", total_dropped_allocs },
	{ "memleakd_stack_errors_total", COUNTER, "Allocations whose stack could not be taken.",
	  total_stack_errors },
	{ "memleakd_failed_allocs_total", COUNTER, "Allocation calls that returned no memory.",
	  total_failed_allocs },
	{ "memleakd_nested_calls_total", COUNTER,
	  "Traced calls made inside another traced call, counted once.", total_nested_calls },
	{ "memleakd_replaced_allocs_total", COUNTER,
	  "Records replaced by an allocation at the same address.", total_replaced_allocs },
	{ "memleakd_resets_total", COUNTER, "Context resets seen.", total_resets },
	{ "memleakd_reset_frees_total", COUNTER, "Allocations released by context resets.",
	  total_reset_frees },
	{ "memleakd_dropped_resets_total", COUNTER, "Context resets not recorded.",
	  total_dropped_resets },
	{ "memleakd_unwind_no_table_total", COUNTER,
	  "Stacks cut at code without an unwind table.", total_unwind_no_table },
	{ "memleakd_unwind_truncated_total", COUNTER, "Stacks cut at the depth limit.",
	  total_unwind_truncated },
	{ "memleakd_unwind_anon_stops_total", COUNTER, "Stacks cut at anonymous code.",
	  total_unwind_anon_stops },
	{ "memleakd_mapping_events_total", COUNTER,
	  "mmap, munmap, mremap, brk and mprotect calls seen.", total_mapping_events },
	{ "memleakd_dropped_mapping_events_total", COUNTER,
	  "Mapping events lost: the ring buffer was full.", total_dropped_mapping_events },
	{ "memleakd_mapped_bytes", GAUGE,
	  "Anonymous memory the program mapped itself since attach and still mapped.",
	  total_mapped_bytes },
	{ "memleakd_mapped_ranges", GAUGE, "Ranges of memleakd_mapped_bytes.",
	  total_mapped_ranges },
	{ "memleakd_heap_mapped_bytes", GAUGE,
	  "Anonymous memory traced allocators mapped for their heaps since attach.",
	  total_heap_mapped_bytes },
	{ "memleakd_heap_mapped_ranges", GAUGE, "Ranges of memleakd_heap_mapped_bytes.",
	  total_heap_mapped_ranges },
	{ "memleakd_stacks", GAUGE, "Stacks holding outstanding allocations.", n_stacks },
	{ "memleakd_mapping_stacks", GAUGE, "Stacks holding mapped memory.", n_mappings },
	{ "memleakd_process_rss_bytes", GAUGE, "Resident memory of the traced process.",
	  process_rss_bytes },
	{ "memleakd_process_rss_anon_bytes", GAUGE,
	  "Anonymous resident memory of the traced process.", process_rss_anon_bytes },
	{ "memleakd_process_rss_growth_bytes", GAUGE, "Growth of the resident memory since attach.",
	  process_rss_growth_bytes },
	{ "memleakd_process_rss_anon_growth_bytes", GAUGE,
	  "Growth of the anonymous resident memory since attach.", process_rss_anon_growth_bytes },
	{ "memleakd_process_tracked_growth_bytes", GAUGE,
	  "Traced memory the program holds, all of it since attach.",
	  process_tracked_growth_bytes },
	{ "memleakd_process_mapped_growth_bytes", GAUGE,
	  "The part of the tracked growth the program mapped itself.",
	  process_mapped_growth_bytes },
	{ "memleakd_process_heap_mapped_bytes", GAUGE,
	  "Memory traced allocators mapped for their own heaps.", process_heap_mapped_bytes },
	{ "memleakd_process_suspects", GAUGE, "Stacks classed suspect.", process_suspects },
	{ "memleakd_probe_hits_total", COUNTER, "Traps into the process's probes since attach.",
	  probe_hits },
	{ "memleakd_single_stepped_hits_total", COUNTER,
	  "Of the probe hits, those on instructions the kernel single-steps.", stepped_hits },
	{ "memleakd_tracing_cpu_share", GAUGE,
	  "Share of one CPU the process spent in memleakd's probes over the last interval.",
	  cost_cpu_share },
	{ "memleakd_probe_hit_seconds", GAUGE,
	  "What the average probe hit cost over the last interval: trap and BPF run time.",
	  cost_seconds_per_hit },
	{ "memleakd_report", GAUGE, "The number of the latest report, 1 for the first.",
	  report_number },
	{ "memleakd_report_timestamp_seconds", GAUGE, "When the latest report was taken.",
	  report_time },
};

static const enum verdict verdicts[] = {
	VERDICT_UNDECIDED, VERDICT_NO_LEAK, VERDICT_LEAK, VERDICT_UNTRACED,
};

void metrics_write_label_value(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_length(*p);

		if (*p == '\\' || *p == '"') {
			fputc('\\', out);
			fputc(*p, out);
		} else if (*p == '\n') {
			fputs("\\n", out);
		} else if (n && utf8_valid(p, n)) {
			fwrite(p, 1, n, out);
			p += n;
			continue;
		} else {
			fputc('?', out);
		}
		p++;
	}
}

static void family_header(FILE *out, const char *name, enum family_type type, const char *help)
{
	/* The help texts are ours: no backslash or line feed to escape. */
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
		type == COUNTER ? "counter" : "gauge");
}

/* A float as Prometheus reads one, in the fewest digits that read back
 * the same: integers exactly (up to 2^53), 0.555879 rather than
 * 0.55587900000000001. */
static void sample_value(FILE *out, double v)
{
	char buf[32];

	if (isnan(v)) {
		fputs(" NaN\n", out);
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fprintf(out, " %s\n", buf);
}

static void process_labels(FILE *out, const struct metrics_process *p)
{
	fprintf(out, "pid=\"%d\",comm=\"", p->snap->pid);
	metrics_write_label_value(out, p->comm ? p->comm : "");
	fputc('"', out);
}

static void write_process_families(FILE *out, const struct metrics_process *procs, size_t n)
{
	for (size_t f = 0; f < sizeof(process_families) / sizeof(process_families[0]); f++) {
		const struct process_family *pf = &process_families[f];

		family_header(out, pf->name, pf->type, pf->help);
		for (size_t i = 0; i < n; i++) {
			fprintf(out, "%s{", pf->name);
			process_labels(out, &procs[i]);
			fputc('}', out);
			sample_value(out, pf->value(procs[i].snap));
		}
	}
}

/* A state set: one series per verdict, 1 for the process's own. */
static void write_verdicts(FILE *out, const struct metrics_process *procs, size_t n)
{
	family_header(out, "memleakd_verdict", GAUGE,
		      "The verdict on the process's memory: 1 for the current one.");
	for (size_t i = 0; i < n; i++)
		for (size_t v = 0; v < sizeof(verdicts) / sizeof(verdicts[0]); v++) {
			fputs("memleakd_verdict{", out);
			process_labels(out, &procs[i]);
			fprintf(out, ",verdict=\"%s\"} %d\n", verdict_name(verdicts[v]),
				procs[i].snap->process.verdict == verdicts[v]);
		}
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

uint64_t metrics_stack_hash(const struct snapshot_stack *s)
{
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, &(uint32_t){ s->kind }, sizeof(uint32_t));

	for (size_t i = 0; i < s->n_frames; i++) {
		const struct frame *f = &s->frames[i];
		const char *object = f->build_id ? f->build_id : f->module;
		uint64_t where = f->addr;

		/* An inlined call shares its address with the frame after it. */
		if (f->inlined)
			continue;
		if (object && f->map_end > f->map_start) {
			h = fnv1a(h, object, strlen(object) + 1);
			where = f->addr - f->map_start + f->map_offset;
		}
		h = fnv1a(h, &where, sizeof(where));
	}
	return h;
}

void metrics_stack_id(uint64_t hash, char out[static METRICS_STACK_ID_LEN + 1])
{
	snprintf(out, METRICS_STACK_ID_LEN + 1, "%012" PRIx64, hash >> 16);
}

/* One series of a process's stacks: several stacks when their hashes
 * coincide, which would make one series twice. */
struct stack_series {
	uint64_t hash;
	const struct snapshot_stack *first;
	uint64_t bytes, allocs;
	bool suspect;
};

/* The series of the first top of n stacks, appended at *n_series. */
static void stack_series(const struct snapshot_stack *stacks, size_t n, size_t top,
			 struct stack_series *series, size_t *n_series)
{
	size_t start = *n_series;

	for (size_t i = 0; i < n && i < top; i++) {
		const struct snapshot_stack *s = &stacks[i];
		uint64_t h = metrics_stack_hash(s);
		size_t j = start;

		while (j < *n_series && series[j].hash != h)
			j++;
		if (j == *n_series)
			series[(*n_series)++] = (struct stack_series){ .hash = h, .first = s };
		series[j].bytes += s->bytes;
		series[j].allocs += s->allocs;
		series[j].suspect |= s->trend.cls == STACK_SUSPECT;
	}
}

struct process_stacks {
	struct stack_series *series;
	size_t n;
	char **top_frames; /* one a series */
};

static void process_stacks_clear(struct process_stacks *ps)
{
	for (size_t i = 0; ps->top_frames && i < ps->n; i++)
		free(ps->top_frames[i]);
	free(ps->top_frames);
	free(ps->series);
}

static int process_stacks_build(const struct snapshot *snap, size_t top, struct process_stacks *ps)
{
	size_t n_alloc = snap->n_top < top ? snap->n_top : top;
	size_t n_mapped = snap->n_top_mappings < top ? snap->n_top_mappings : top;

	*ps = (struct process_stacks){ 0 };
	ps->series = calloc(n_alloc + n_mapped + 1, sizeof(*ps->series));
	if (!ps->series)
		return -ENOMEM;
	stack_series(snap->stacks, snap->n_top, top, ps->series, &ps->n);
	stack_series(snap->mappings, snap->n_top_mappings, top, ps->series, &ps->n);
	ps->top_frames = calloc(ps->n + 1, sizeof(*ps->top_frames));
	if (!ps->top_frames)
		return -ENOMEM;
	for (size_t i = 0; i < ps->n; i++) {
		const struct snapshot_stack *s = ps->series[i].first;

		ps->top_frames[i] = s->n_frames ? flame_label(&s->frames[0], false)
						: strdup(FLAME_STACK_LOST);
		if (!ps->top_frames[i])
			return -ENOMEM;
	}
	return 0;
}

static void stack_labels(FILE *out, const struct metrics_process *p, const struct process_stacks *ps,
			 size_t i)
{
	char id[METRICS_STACK_ID_LEN + 1];

	metrics_stack_id(ps->series[i].hash, id);
	fputc('{', out);
	process_labels(out, p);
	fprintf(out, ",stack=\"%s\",kind=\"%s\",top_frame=\"", id,
		stack_kind_name(ps->series[i].first->kind));
	metrics_write_label_value(out, ps->top_frames[i]);
	fputs("\"}", out);
}

enum stack_value { STACK_BYTES, STACK_ALLOCS, STACK_SUSPECT_FLAG };

static const struct {
	const char *name, *help;
} stack_families[] = {
	[STACK_BYTES] = { "memleakd_stack_outstanding_bytes",
			  "Outstanding bytes of one of the top stacks." },
	[STACK_ALLOCS] = { "memleakd_stack_outstanding_allocs",
			   "Outstanding allocations (ranges, for mapped memory) of one of the "
			   "top stacks." },
	[STACK_SUSPECT_FLAG] = { "memleakd_stack_suspect",
				 "1 when the stack is classed suspect: its outstanding bytes grow "
				 "steadily." },
};

static int write_stacks(FILE *out, const struct metrics_process *procs, size_t n, size_t top)
{
	struct process_stacks *ps = calloc(n + 1, sizeof(*ps));
	int r = ps ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && !r; i++)
		r = process_stacks_build(procs[i].snap, top, &ps[i]);
	for (size_t f = 0; f < sizeof(stack_families) / sizeof(stack_families[0]) && !r; f++) {
		family_header(out, stack_families[f].name, GAUGE, stack_families[f].help);
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < ps[i].n; j++) {
				const struct stack_series *s = &ps[i].series[j];

				fputs(stack_families[f].name, out);
				stack_labels(out, &procs[i], &ps[i], j);
				sample_value(out, f == STACK_BYTES ? (double)s->bytes :
						  f == STACK_ALLOCS ? (double)s->allocs : s->suspect);
			}
	}
	for (size_t i = 0; ps && i < n; i++)
		process_stacks_clear(&ps[i]);
	free(ps);
	return r;
}

int metrics_write(FILE *out, const struct metrics_process *procs, size_t n, size_t top)
{
	int r;

	write_process_families(out, procs, n);
	write_verdicts(out, procs, n);
	r = write_stacks(out, procs, n, top);
	if (r < 0)
		return r;
	return fflush(out) || ferror(out) ? -EIO : 0;
}

int metrics_write_self(FILE *out, const struct metrics_self *self)
{
	family_header(out, "process_cpu_seconds_total", COUNTER,
		      "User and system CPU time memleakd spent, in seconds.");
	fputs("process_cpu_seconds_total", out);
	sample_value(out, self->cpu_seconds);
	family_header(out, "process_resident_memory_bytes", GAUGE,
		      "Resident memory of memleakd, in bytes.");
	fputs("process_resident_memory_bytes", out);
	sample_value(out, (double)self->resident_bytes);
	return fflush(out) || ferror(out) ? -EIO : 0;
}

int metrics_self_read(struct metrics_self *out)
{
	struct rusage ru;
	unsigned long long size, resident;
	FILE *f;
	int n;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return -errno;
	f = fopen("/proc/self/statm", "re");
	if (!f)
		return -errno;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	if (n != 2)
		return -EIO;
	out->cpu_seconds = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	out->resident_bytes = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}
