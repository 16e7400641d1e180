/* main.c - the daemon: parse the command line, check the system, find the
 * target's allocator, load and attach the probes, then report every
 * interval until a signal, --duration or the target's exit ends the run
 * with a final report. Each step's failure is reported here, once, and
 * leaves the target as it was (freeing the tracer detaches every probe). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "diff/diff.h"
#include "probes/allocator.h"
#include "probes/custom_allocator.h"
#include "probes/probe_cost.h"
#include "probes/seccomp_check.h"
#include "probes/tracer.h"
#include "report/report.h"
#include "report/report_output.h"
#include "serve/http_server.h"
#include "serve/latest_report.h"
#include "snapshot/context_resets.h"
#include "snapshot/ctx_sweep.h"
#include "snapshot/generations.h"
#include "snapshot/map_reader.h"
#include "snapshot/mappings.h"
#include "snapshot/snapshot.h"
#include "snapshot/stack_reclaim.h"
#include "snapshot/trend.h"
#include "snapshot/verdict.h"
#include "symbols/debuginfod_fetch.h"
#include "symbols/stack_symbols.h"
#include "symbols/symbolizer.h"
#include "target/process_comm.h"
#include "target/process_memory.h"
#include "target/target.h"
#include "unwind/unwind_publisher.h"
#include "util/clock.h"
#include "util/log.h"

/* How long attaching waits for the unwind tables of the objects mapped at
 * start: libc, libstdc++ and postgres take about 50 ms together. */
#define UNWIND_WAIT_MS 2000
/* Reports the live page charts: an hour at the default interval. */
#define HISTORY_POINTS 360

struct daemon {
	const struct config *cfg;
	const struct report_writer *writer;
	struct report_options report_options;
	struct report_output *out;
	struct trend *trend;
	struct trend *mapping_trend;        /* the mapping stacks' histories */
	uint64_t attached_ns;               /* CLOCK_MONOTONIC */
	struct process_memory at_attach;    /* the process's memory then */
	struct process_memory memory;       /* at the last report that could read it */
	struct target *target;
	struct allocator *allocator;        /* NULL with --no-malloc */
	struct custom_allocator *custom;    /* NULL without specs */
	struct tracer *tracer;
	struct unwind_publisher *publisher; /* NULL with --unwind fp */
	struct mappings *mappings;          /* NULL with --no-mappings */
	struct context_resets *resets;
	struct ctx_sweep *sweep;            /* NULL without contexts */
	struct generations *generations;
	struct stack_reclaim *reclaim;
	struct probe_cost *cost;            /* NULL when tracing's cost is unknown */
	struct symbolizer *symbolizer;
	struct latest_report *latest;       /* NULL without --listen */
	struct http_server *server;
	char comm[PROCESS_COMM_LEN];        /* as last read */
	int signal_fd;
};

static int find_malloc_family(struct daemon *d)
{
	char *searched = NULL;
	int pid = d->cfg->pid;
	int r = allocator__find(d->target, &d->allocator, &searched);

	if (r == -ENOENT)
		log_error("pid %d: no malloc found in the process (looked in: %s)", pid, searched);
	else if (r < 0)
		log_error("pid %d: cannot read %s: %s", pid, searched ? searched : "its objects",
			  strerror(-r));
	free(searched);
	return r;
}

static int find_custom(struct daemon *d)
{
	char *error = NULL;
	int r = custom_allocator__resolve(d->target, &d->cfg->specs, d->allocator, &d->custom,
					  &error);

	if (r < 0)
		log_error("%s", error ? error : strerror(-r));
	free(error);
	return r;
}

static int open_target(struct daemon *d)
{
	int pid = d->cfg->pid;
	int r = target__open(pid, 0, &d->target);

	if (r == -ESRCH)
		log_error("pid %d: no such process", pid);
	else if (r < 0)
		log_error("pid %d: cannot inspect the process: %s", pid, strerror(-r));
	if (r >= 0 && !d->cfg->no_malloc)
		r = find_malloc_family(d);
	if (r >= 0 && d->cfg->specs.n)
		r = find_custom(d);
	return r;
}

/* Where the probe went and why; which register each argument it reads is
 * in when a prologue moved it. */
static void describe_placement(const struct allocator_probe *p)
{
	const struct probe_placement *pl = &p->placement;
	uint64_t cookie = p->point.cookie;
	static const struct {
		unsigned int shift;
		const char *name;
	} args[] = {
		{ COOKIE_SIZE_SHIFT, "size" }, { COOKIE_NMEMB_SHIFT, "nmemb" },
		{ COOKIE_PTR_SHIFT, "ptr" }, { COOKIE_OUT_SHIFT, "out" }, { COOKIE_CTX_SHIFT, "ctx" },
	};
	char moved[160] = "";
	size_t used = 0;

	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]) && pl->skipped; i++) {
		unsigned int loc = COOKIE_FIELD(cookie, args[i].shift);

		if (!loc || (args[i].shift == COOKIE_CTX_SHIFT &&
			     (COOKIE_FIELD(cookie, COOKIE_FLAGS_SHIFT) & PROBE_F_CTX_GLOBAL)))
			continue;
		used += (size_t)snprintf(moved + used, sizeof(moved) - used, "; %s in %s",
					 args[i].name, probe_placement_loc_name(loc));
		if (used >= sizeof(moved))
			break;
	}
	if (pl->stack_words && used < sizeof(moved))
		snprintf(moved + used, sizeof(moved) - used, "; %u words pushed", pl->stack_words);
	if (pl->skipped)
		log_debug("    probe at +0x%x (%s, emulated, %u instructions passed over%s)",
			  pl->offset, pl->insn, pl->skipped, moved);
	else
		log_debug("    probe at +0x0 (%s, %s: %s)", pl->insn,
			  pl->emulated ? "emulated" : "single-stepped", pl->why);
}

static void describe_custom(const struct daemon *d)
{
	const struct custom_allocator *c = d->custom;

	log_info("pid %d: tracing %zu custom allocator functions%s", d->cfg->pid, c->n_probes,
		 c->n_probes ? ":" : " (the specs name functions traced already or missing)");
	for (size_t i = 0; i < c->n_probes; i++) {
		const struct allocator_probe *p = &c->probes[i];
		const char *flag = alloc_spec_flag(COOKIE_FIELD(p->point.cookie, COOKIE_KIND_SHIFT));

		log_info("  %s %s in %s", flag, p->point.function, p->module);
		describe_placement(p);
	}
	for (size_t i = 0; i < c->n_globals; i++)
		log_debug("  context global %s at 0x%llx", c->global_names[i],
			  (unsigned long long)c->globals[i]);
	for (size_t i = 0; i < c->n_skipped; i++)
		log_debug("  --preset %s: %s is not in this process, skipped", c->skipped[i]->preset,
			  c->skipped[i]->symbol);
}

/* Whether glibc's frees of its thread caches can be told from the
 * program's. */
static void describe_own_frees(const struct allocator *a)
{
	const struct allocator_own_frees *own = &a->own_frees;

	if (!own->status)
		log_debug("  frees returning into 0x%llx-0x%llx (tcache_thread_shutdown, found by "
			  "its %s) are glibc emptying an exiting thread's cache: counted apart, "
			  "as allocator_frees", (unsigned long long)own->start,
			  (unsigned long long)own->end, tcache_shutdown_source_name(own->source));
	else if (own->glibc)
		log_debug("  tcache_thread_shutdown not found in %s: the frees glibc makes of its "
			  "cache as a thread exits count as frees and unknown_frees", a->module);
}

static void describe(const struct daemon *d)
{
	const struct allocator *a = d->allocator;

	if (a) {
		log_info("pid %d takes malloc from %s; tracing %zu functions:", d->cfg->pid,
			 a->module, a->n_probes);
		for (size_t i = 0; i < a->n_probes; i++) {
			log_info("  %s", a->probes[i].point.function);
			describe_placement(&a->probes[i]);
		}
		describe_own_frees(a);
	}
	if (d->custom)
		describe_custom(d);
}

static int attach_probes(struct daemon *d, const struct allocator_probe *probes, size_t n)
{
	struct attach_point *points = calloc(n + 1, sizeof(*points));
	size_t failed = 0;
	int r;

	if (!points)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		points[i] = probes[i].point;
	r = tracer__attach(d->tracer, d->cfg->pid, points, n, &failed);
	if (r < 0)
		log_error("attaching to %s in %s failed: %s", probes[failed].point.function,
			  probes[failed].module, strerror(-r));
	free(points);
	return r;
}

/* What the maps cost the kernel: the outstanding-allocation maps per
 * allocation they can hold (they are preallocated); the stack maps now,
 * and full (they take memory as stacks come). */
static void describe_maps(const struct daemon *d)
{
	uint64_t bytes, spill, stacks, totals;
	uint32_t n = d->cfg->max_stacks;
	struct tracer_maps maps;

	if (!d->cfg->verbose)
		return;
	tracer__maps(d->tracer, &maps);
	if (map_memlock(maps.allocs, &bytes) < 0 || map_memlock(maps.allocs_spill, &spill) < 0 ||
	    map_memlock(maps.stacks, &stacks) < 0 || map_memlock(maps.stack_totals, &totals) < 0)
		return;
	bytes += spill;
	log_debug("allocation map: %u entries, %.1f MiB of kernel memory (%.1f bytes per "
		  "tracked allocation)", d->cfg->max_allocs, (double)bytes / (1 << 20),
		  (double)bytes / d->cfg->max_allocs);
	bytes = stacks + totals + (uint64_t)n * TRACER_STACK_BYTES +
		(uint64_t)n * TRACER_STACK_GENERATIONS * TRACER_TOTALS_BYTES;
	log_debug("stack maps: %u stacks (--max-stacks) and %u per-stack totals, %.1f MiB of "
		  "kernel memory now, about %u B more per stack and %u B per totals entry in "
		  "use: %.1f MiB full, whatever the number of CPUs", n, n * TRACER_STACK_GENERATIONS,
		  (double)(stacks + totals) / (1 << 20), TRACER_STACK_BYTES, TRACER_TOTALS_BYTES,
		  (double)bytes / (1 << 20));
	if (tracer__preempt_off(d->tracer))
		log_debug("programs run with preemption off (bpf_preempt_disable)");
	else
		log_debug("this kernel has no bpf_preempt_disable (Linux 6.10 has): where it "
			  "preempts BPF programs (preempt=full, RT), one may overwrite another's "
			  "per-CPU scratch space, rarely");
}

/* What keeps stacks by id, for the reclaim of their ids. */
static int holders_drain(void *ctx)
{
	struct daemon *d = ctx;

	return d->mappings ? mappings__drain(d->mappings) : 0;
}

static int holders_each_held(void *ctx, int (*hold)(uint32_t stack_id, void *arg), void *arg)
{
	struct daemon *d = ctx;

	return d->mappings ? mappings__each_held(d->mappings, hold, arg) : 0;
}

static void holders_forget(void *ctx, uint32_t stack_id)
{
	struct daemon *d = ctx;

	generations__forget(d->generations, stack_id);
	trend__forget(d->trend, stack_id);
	trend__forget(d->mapping_trend, stack_id);
	if (d->mappings)
		mappings__forget(d->mappings, stack_id);
}

/* Give back the ids of stacks that hold nothing, when the stack map
 * fills (stack_reclaim.h): after a report, and when the programs signal.
 * A failure is reported; the next report tries again. */
static void reclaim_stacks(struct daemon *d)
{
	const struct stack_holders holders = { .drain = holders_drain,
					       .each_held = holders_each_held,
					       .forget = holders_forget, .ctx = d };
	struct stack_reclaim_stats st;
	int r = stack_reclaim__run(d->reclaim, &holders, &st);

	if (r < 0)
		log_warn("reclaiming stack ids failed: %s", strerror(-r));
	else if (st.ran)
		log_debug("stacks: %llu in the map of %u; %llu ids reclaimed, %llu found in use "
			  "again, in %.1f ms", (unsigned long long)st.in_map, d->cfg->max_stacks,
			  (unsigned long long)st.reclaimed, (unsigned long long)st.revived,
			  st.ns / 1e6);
	if (r == 0 && st.ran && st.full)
		log_debug("stacks: %llu found the stack map full since attach: their bytes are "
			  "under [stack lost] (raise --max-stacks)", (unsigned long long)st.full);
}

/* Do the custom allocators have contexts (ctx= in a spec)? */
static bool have_contexts(const struct custom_allocator *c)
{
	for (size_t i = 0; c && i < c->n_probes; i++) {
		uint64_t cookie = c->probes[i].point.cookie;

		if (COOKIE_FIELD(cookie, COOKIE_CTX_SHIFT) ||
		    (COOKIE_FIELD(cookie, COOKIE_FLAGS_SHIFT) & PROBE_F_CTX_GLOBAL))
			return true;
	}
	return false;
}

/* Sweep the context records that resets release, where the kernel can. */
static int start_sweep(struct daemon *d, uint32_t capacity)
{
	struct tracer_maps maps;
	int r;

	tracer__maps(d->tracer, &maps);
	if (maps.sweep < 0) {
		log_info("this kernel cannot run the sweep program (Linux 6.10 can): records "
			 "released by context resets stay in the map until their addresses come "
			 "back, and may fill it (dropped_allocs)");
		return 0;
	}
	r = ctx_sweep__new(&maps, capacity, &d->sweep);
	if (r < 0)
		log_error("cannot set up the sweep of context records: %s", strerror(-r));
	return r;
}

static int start_reclaim(struct daemon *d)
{
	struct tracer_maps maps;
	int r;

	tracer__maps(d->tracer, &maps);
	r = stack_reclaim__new(&maps, d->cfg->max_stacks, &d->reclaim);
	if (r < 0)
		log_error("cannot set up the reclaim of stack ids: %s", strerror(-r));
	return r;
}

/* Start building unwind tables, and watch dlopen for new objects. */
static int start_unwind_publisher(struct daemon *d)
{
	struct allocator_probe p;
	int r = unwind_publisher__new(d->tracer, d->target, d->cfg->unwind == UNWIND_DWARF,
				      d->cfg->unwind_rows, &d->publisher);

	if (r < 0) {
		log_error("cannot start building unwind tables: %s", strerror(-r));
		return r;
	}
	r = unwind_publisher__dlopen_probe(d->publisher, d->target, &p);
	if (r == -ENOENT) {
		log_debug("pid %d has no dynamic linker: no dlopen to watch", d->cfg->pid);
		return 0;
	}
	if (r < 0) {
		log_error("pid %d: cannot find its dynamic linker's _dl_debug_state: %s",
			  d->cfg->pid, strerror(-r));
		return r;
	}
	return attach_probes(d, &p, 1);
}

/* Stacks taken before an object's table is loaded differ from those after:
 * attach once the tables are in, unless that takes longer than a report
 * can wait. */
static void wait_unwind_tables(struct daemon *d)
{
	if (unwind_publisher__wait_ready(d->publisher, UNWIND_WAIT_MS) < 0)
		log_info("unwind tables still loading after %u ms: attaching; until they are "
			 "in, stacks through objects without one are counted in unwind_no_table",
			 UNWIND_WAIT_MS);
}

/* Read mapping events from the start, then have the programs send them. */
static int watch_mappings(struct daemon *d)
{
	struct tracer_maps maps;
	int r;

	tracer__maps(d->tracer, &maps);
	r = mappings__new(maps.mapping_events, maps.mapping_counters, d->target->index,
			  &d->mappings);
	if (r < 0) {
		log_error("cannot read mapping events: %s", strerror(-r));
		return r;
	}
	r = tracer__watch_mappings(d->tracer, d->cfg->pid, d->target->index);
	if (r < 0)
		log_error("watching the memory mappings of pid %d failed: %s (--no-mappings "
			  "runs without)", d->cfg->pid, strerror(-r));
	return r;
}

/* The prices of a probe hit, which each report's cost of tracing uses. */
static void price_probes(struct daemon *d)
{
	const struct trap_prices *p;
	int r = probe_cost__open(d->tracer, &d->cost);

	if (r < 0) {
		log_warn("the cost of tracing cannot be measured: %s", strerror(-r));
		return;
	}
	p = probe_cost__prices(d->cost);
	log_debug("a probe's trap costs %.2f us on an emulated instruction, %.2f us "
		  "single-stepped, and %.2f us more on return", p->entry_ns / 1e3,
		  p->stepped_ns / 1e3, p->return_ns / 1e3);
}

static int attach(struct daemon *d)
{
	const struct custom_allocator *c = d->custom;
	uint32_t rows = d->cfg->unwind == UNWIND_FP ? 0 : d->cfg->unwind_rows;
	const struct tracer_options options = {
		.max_allocs = d->cfg->max_allocs,
		.max_stacks = d->cfg->max_stacks,
		.unwind_rows = rows,
		.sample_bytes = d->cfg->sample_bytes,
		.contexts = have_contexts(c),
		.mappings = !d->cfg->no_mappings,
		.verbose = d->cfg->verbose > 1,
	};
	size_t n = 0;
	int r = tracer__open(&options, &d->tracer);

	if (r < 0) {
		log_error("loading the BPF programs failed: %s", strerror(-r));
		return r;
	}
	describe(d);
	describe_maps(d);
	price_probes(d);
	r = start_reclaim(d);
	if (r < 0)
		return r;
	if (options.contexts) {
		r = start_sweep(d, options.max_allocs);
		if (r < 0)
			return r;
	}
	if (rows) {
		r = start_unwind_publisher(d);
		if (r < 0)
			return r;
		wait_unwind_tables(d);
	}
	log_debug("attaching %s", tracer__multi(d->tracer) ? "one uprobe_multi link per program "
		  "and object" : "one perf-event uprobe per probe");
	log_debug("probes: %s", tracer__probe_mode(d->tracer));
	if (d->cfg->sample_bytes)
		log_debug("sampling: one allocation per %llu bytes on average; reports show "
			  "estimates", (unsigned long long)d->cfg->sample_bytes);
	for (size_t i = 0; c && i < c->n_globals && r >= 0; i++)
		r = tracer__set_ctx_global(d->tracer, d->target->index, (uint32_t)i, c->globals[i]);
	if (r >= 0 && d->allocator && !d->allocator->own_frees.status)
		r = tracer__set_allocator_callers(d->tracer, d->target->index,
						  d->allocator->own_frees.start,
						  d->allocator->own_frees.end);
	/* Before the probes: an exec while they go in ends the run too. */
	if (r >= 0) {
		r = tracer__watch_exec(d->tracer, d->cfg->pid, d->target->index);
		if (r < 0)
			log_error("watching pid %d for exec failed: %s", d->cfg->pid, strerror(-r));
	}
	if (r >= 0 && d->allocator) {
		r = attach_probes(d, d->allocator->probes, d->allocator->n_probes);
		n += d->allocator->n_probes;
	}
	if (r >= 0 && c) {
		r = attach_probes(d, c->probes, c->n_probes);
		n += c->n_probes;
	}
	if (r >= 0 && !d->cfg->no_mappings)
		r = watch_mappings(d);
	if (r < 0)
		return r;
	d->attached_ns = monotonic_ns();
	r = process_memory__read(d->target->proc_fd, &d->at_attach);
	if (r < 0)
		log_warn("pid %d: cannot read its memory use: %s", d->cfg->pid, strerror(-r));
	d->memory = d->at_attach;
	log_info("attached to pid %d (%zu probes); reporting every %.10g s", d->cfg->pid, n,
		 (double)d->cfg->interval_ns / 1e9);
	return 0;
}

/* The mapping stacks and totals, and their trends: a history of their own,
 * as a snapshot of them alone. */
static int take_mappings(struct daemon *d, struct snapshot *snap)
{
	uint64_t now = monotonic_ns();
	struct snapshot view;
	int r = mappings__drain(d->mappings);

	if (r < 0)
		log_warn("reading mapping events failed: %s", strerror(-r));
	r = mappings__fill(d->mappings, snap, now, d->cfg->min_age_ns);
	if (r < 0)
		return r;
	view = (struct snapshot){ .stacks = snap->mappings, .n_stacks = snap->n_mappings };
	return trend__update(d->mapping_trend, &view, now - d->attached_ns,
			     d->memory.rss_anon_bytes);
}

/* Read the maps into a snapshot with its trends and the verdict on the
 * process's memory, and the addresses of the stacks the writer shows. */
static int take_snapshot(struct daemon *d, const struct tracer_maps *maps, enum end_reason end,
			 struct snapshot **out)
{
	struct snapshot *snap;
	struct snapshot_source src = {
		.maps = maps, .resets = d->resets, .sweep = d->sweep,
		.generations = d->generations, .time_base_ns = tracer__time_base_ns(d->tracer),
		.target = d->target->index, .pid = d->cfg->pid, .min_age_ns = d->cfg->min_age_ns,
		.sample_bytes = d->cfg->sample_bytes,
	};
	uint16_t generation;
	int r;

	if (generations__advance(d->generations, monotonic_ns(), &generation))
		tracer__set_generation(d->tracer, generation);
	r = snapshot__take(&src, &snap);
	if (r < 0)
		return r;
	snap->end = end;
	/* A process that is gone keeps the memory last read; after exec, the
	 * memory is the new program's. */
	if (end != END_TARGET_EXEC)
		process_memory__read(d->target->proc_fd, &d->memory);
	r = trend__update(d->trend, snap, monotonic_ns() - d->attached_ns,
			  d->memory.rss_anon_bytes);
	if (d->cost)
		probe_cost__measure(d->cost, d->target->index, &snap->totals.hits, snap->interval_s,
				    &snap->cost);
	if (r >= 0 && d->mappings)
		r = take_mappings(d, snap);
	if (r >= 0) {
		verdict_decide(&d->at_attach, &d->memory, snap);
		/* The endpoints serve the flame graph and pprof: every stack. */
		r = snapshot__read_stacks(snap, maps, d->writer->all_stacks || d->latest ?
					  SIZE_MAX : d->cfg->top);
	}
	if (r < 0) {
		snapshot__free(snap);
		return r;
	}
	*out = snap;
	return 0;
}

static double ms_between(uint64_t from, uint64_t to)
{
	return (double)(to - from) / 1e6;
}

/* Render the report for the endpoints. A failure is reported; the
 * endpoints keep serving the previous report. */
static void publish(struct daemon *d, const struct snapshot *snap)
{
	const struct metrics_process proc = { .snap = snap, .comm = d->comm };
	uint64_t start = monotonic_ns();
	int r;

	/* A process that is gone keeps the name last read. */
	process_comm__read(d->target->proc_fd, d->comm);
	r = latest_report__publish(d->latest, &proc, 1, d->cfg->top,
				   (double)d->cfg->interval_ns / 1e9, &d->report_options);
	if (r < 0)
		log_warn("rendering report %u for --listen failed: %s", snap->report, strerror(-r));
	else
		log_debug("report %u rendered for --listen in %.1f ms", snap->report,
			  ms_between(start, monotonic_ns()));
}

static int report(struct daemon *d, enum end_reason end)
{
	uint64_t start = monotonic_ns(), read, named;
	struct tracer_maps maps;
	struct snapshot *snap, shown;
	int r;

	/* A process that is gone keeps the mappings last read, and so does
	 * one that called exec: the stacks are the old program's. */
	r = end == END_TARGET_EXEC ? 0 : target__refresh_maps(d->target);
	if (r < 0 && r != -ESRCH)
		log_warn("pid %d: cannot re-read its mappings: %s", d->cfg->pid, strerror(-r));
	tracer__maps(d->tracer, &maps);
	r = take_snapshot(d, &maps, end, &snap);
	if (r < 0) {
		log_error("reading the maps failed: %s", strerror(-r));
		return r;
	}
	read = monotonic_ns();
	r = stack_symbols_resolve(snap, d->symbolizer, d->target->maps, d->target->root_fd);
	named = monotonic_ns();
	shown = report_view(snap, d->writer, d->cfg->top);
	if (r >= 0)
		r = report_output__write(d->out, &shown, &d->report_options);
	if (r < 0)
		log_error("writing the report failed: %s", strerror(-r));
	else
		log_debug("report %u: %zu stacks, %zu shown, %zu records read, in %.1f ms (maps "
			  "%.1f, names %.1f, writing %.1f)", snap->report, snap->n_stacks, shown.n_top,
			  snap->records_read,
			  ms_between(start, monotonic_ns()), ms_between(start, read),
			  ms_between(read, named), ms_between(named, monotonic_ns()));
	if (r >= 0 && d->latest)
		publish(d, snap);
	if (r >= 0 && d->sweep) {
		struct ctx_sweep_stats swept;

		ctx_sweep__take_stats(d->sweep, &swept);
		log_debug("report %u: the sweep retired %llu released context records in %.1f ms",
			  snap->report, (unsigned long long)swept.retired, swept.ns / 1e6);
	}
	snapshot__free(snap);
	if (r >= 0 && end == END_NONE)
		reclaim_stacks(d);
	return r;
}

/* Sweep the context records between reports when the map fills
 * (ctx_sweep.h). A failure is reported; the next report sweeps again. */
static void sweep_if_due(struct daemon *d)
{
	struct ctx_sweep_stats swept;
	bool due = false;
	int r = ctx_sweep__due(d->sweep, &due);

	if (r == 0 && !due)
		return;
	if (r == 0)
		r = ctx_sweep__run(d->sweep);
	if (r < 0) {
		log_warn("sweeping the context records failed: %s", strerror(-r));
		return;
	}
	ctx_sweep__take_stats(d->sweep, &swept);
	log_debug("swept the context records: %llu released ones retired in %.1f ms",
		  (unsigned long long)swept.retired, swept.ns / 1e6);
}

/* Wait until the next report is due or the run ends; returns why it ended,
 * END_NONE for a periodic report. */
static enum end_reason wait_for(struct daemon *d, uint64_t deadline, uint64_t stop_at)
{
	struct pollfd fds[] = {
		{ .fd = d->signal_fd, .events = POLLIN },
		{ .fd = d->target->pidfd, .events = POLLIN },
		{ .fd = d->publisher ? unwind_publisher__events_fd(d->publisher) : -1,
		  .events = POLLIN },
		{ .fd = d->mappings ? mappings__fd(d->mappings) : -1, .events = POLLIN },
		{ .fd = d->sweep ? ctx_sweep__events_fd(d->sweep) : -1, .events = POLLIN },
		{ .fd = tracer__exec_events_fd(d->tracer), .events = POLLIN },
		{ .fd = stack_reclaim__events_fd(d->reclaim), .events = POLLIN },
	};

	for (;;) {
		uint64_t now = monotonic_ns();
		uint64_t until = stop_at && stop_at < deadline ? stop_at : deadline;
		int timeout = now >= until ? 0 : (int)((until - now + 999999) / 1000000);
		int n = poll(fds, sizeof(fds) / sizeof(fds[0]), timeout);

		if (n < 0 && errno != EINTR)
			return END_SIGNAL;
		if (n > 0 && fds[0].revents)
			return END_SIGNAL;
		if (n > 0 && fds[1].revents)
			return END_TARGET_EXITED;
		if (n > 0 && fds[5].revents)
			return END_TARGET_EXEC;
		if (n > 0 && fds[2].revents)
			unwind_publisher__handle_events(d->publisher);
		if (n > 0 && fds[3].revents && mappings__drain(d->mappings) < 0)
			log_warn("reading mapping events failed");
		if (n > 0 && fds[4].revents)
			sweep_if_due(d);
		if (n > 0 && fds[6].revents)
			reclaim_stacks(d);
		if (stop_at && monotonic_ns() >= stop_at)
			return END_DURATION;
		if (monotonic_ns() >= deadline)
			return END_NONE;
	}
}

static int run(struct daemon *d)
{
	uint64_t start = monotonic_ns();
	uint64_t stop_at = d->cfg->duration_ns ? start + d->cfg->duration_ns : 0;
	uint64_t deadline = start + d->cfg->interval_ns;
	enum end_reason end;
	int r;

	while ((end = wait_for(d, deadline, stop_at)) == END_NONE) {
		r = report(d, END_NONE);
		if (r < 0)
			return r;
		deadline += d->cfg->interval_ns;
	}
	if (end == END_TARGET_EXITED)
		log_info("pid %d exited", d->cfg->pid);
	else if (end == END_TARGET_EXEC)
		log_info("pid %d called exec: the program traced is gone; its final report follows "
			 "(run memleakd again to trace the new program)", d->cfg->pid);
	/* Frozen maps: the final totals and stacks describe one moment. */
	tracer__pause(d->tracer);
	return report(d, end);
}

/* Listen before attaching: a busy port fails the start, not the run. */
static int start_server(struct daemon *d)
{
	struct listen_address bound;
	char where[64];
	int r;

	d->latest = latest_report__new(HISTORY_POINTS);
	if (!d->latest)
		return -ENOMEM;
	r = http_server__start(&d->cfg->listen_addr, d->latest, &d->server, &bound);
	listen_address_format(r < 0 ? &d->cfg->listen_addr : &bound, where, sizeof(where));
	if (r < 0) {
		log_error("--listen %s: cannot serve there: %s", where, strerror(-r));
		return r;
	}
	log_info("serving http://%s/ (/metrics, /debug/pprof/heap, /report.json)", where);
	return 0;
}

static int open_output(struct daemon *d)
{
	const char *what;
	int r = report_output__open(d->cfg->output, d->cfg->keep, d->writer, d->cfg->pid, &d->out,
				    &what);

	/* EINVAL: what says it all ("--keep needs a directory"). */
	if (r == -EINVAL)
		log_error("--output: %s: %s", d->cfg->output, what);
	else if (r < 0)
		log_error("--output: %s: %s: %s", d->cfg->output, what, strerror(-r));
	return r;
}

/* SIGINT, SIGTERM and SIGHUP (the ssh session that started memleakd
 * closed) arrive through a descriptor, so the loop needs no global flag
 * and no async-signal-safe dance; each ends the run with its final report.
 * A reader of stdout that went away makes writes fail, not kill us. */
static int block_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -errno;
	d->signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
	return d->signal_fd < 0 ? -errno : 0;
}

/* Each object memleakd reads keeps its file open for libelf, which reads
 * it as needed rather than map it: allow as many files as the system lets
 * us. Failing that, an object past the limit goes unnamed. */
static void raise_file_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* A process confined by seccomp is traced only where the kernel lets its
 * return probes through the filter: elsewhere the first traced return
 * would kill it. */
static int check_seccomp(const struct daemon *d)
{
	enum seccomp_mode mode;
	bool passes;
	int r = seccomp_check__mode(d->target->proc_fd, &mode);

	if (r < 0 || mode == SECCOMP_NONE)
		return 0;
	r = seccomp_check__return_probes(&passes);
	if (r < 0) {
		log_error("pid %d runs under seccomp (%s mode), and whether this kernel lets "
			  "return probes through it cannot be checked (%s): not attaching, "
			  "tracing might kill it", d->cfg->pid, seccomp_check__mode_name(mode),
			  strerror(-r));
		return r;
	}
	if (!passes) {
		log_error("pid %d runs under seccomp (%s mode), and this kernel filters the "
			  "uretprobe system call that return probes make (Linux 6.11 to 6.13 "
			  "without the fix that exempts it): tracing would kill it; not attaching",
			  d->cfg->pid, seccomp_check__mode_name(mode));
		return -EPERM;
	}
	log_info("pid %d runs under seccomp (%s mode); this kernel lets return probes "
		 "through it", d->cfg->pid, seccomp_check__mode_name(mode));
	return 0;
}

static int setup(struct daemon *d)
{
	const char *why;
	int r = tracer__preflight(&why);

	if (r < 0) {
		log_error("%s", why);
		return r;
	}
	r = block_signals(d);
	if (r < 0) {
		log_error("cannot set up signal handling: %s", strerror(-r));
		return r;
	}
	raise_file_limit();
	d->symbolizer = symbolizer__new(&(struct symbolizer_options){
		.demangle = !d->cfg->no_demangle,
		.debug_dirs = d->cfg->debug_dirs,
		.n_debug_dirs = d->cfg->n_debug_dirs,
		.debuginfod = debuginfod_fetch__configured(),
	});
	d->resets = context_resets__new();
	d->generations = generations__new(monotonic_ns());
	d->trend = trend__new(d->cfg->trend, d->cfg->interval_ns);
	d->mapping_trend = trend__new(d->cfg->trend, d->cfg->interval_ns);
	if (!d->symbolizer || !d->resets || !d->generations || !d->trend || !d->mapping_trend)
		return -ENOMEM;
	r = open_output(d);
	if (r >= 0 && d->cfg->listen)
		r = start_server(d);
	if (r < 0)
		return r;
	r = open_target(d);
	if (r >= 0)
		process_comm__read(d->target->proc_fd, d->comm);
	if (r >= 0)
		r = check_seccomp(d);
	if (r < 0)
		return r;
	return attach(d);
}

static void teardown(struct daemon *d)
{
	http_server__free(d->server);
	latest_report__free(d->latest);
	unwind_publisher__free(d->publisher);
	mappings__free(d->mappings);
	tracer__free(d->tracer);
	custom_allocator__free(d->custom);
	allocator__free(d->allocator);
	target__free(d->target);
	symbolizer__free(d->symbolizer);
	context_resets__free(d->resets);
	ctx_sweep__free(d->sweep);
	stack_reclaim__free(d->reclaim);
	probe_cost__free(d->cost);
	generations__free(d->generations);
	trend__free(d->trend);
	trend__free(d->mapping_trend);
	report_output__close(d->out);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct daemon d = { .cfg = &cfg, .signal_fd = -1 };
	char *error = NULL;
	int r;

	if (argc > 1 && !strcmp(argv[1], "diff"))
		return diff_main(argc - 1, argv + 1);
	r = config_parse(argc, argv, &cfg, &error);
	if (r < 0) {
		log_error("%s", error ? error : strerror(-r));
		free(error);
		return 2;
	}
	if (r == CONFIG_EXIT)
		return 0;
	if (cfg.verbose)
		log_level = LOG_DEBUG;
	else if (cfg.quiet)
		log_level = LOG_WARN;
	d.writer = report_writer_find(cfg.format);
	d.report_options.inverted = cfg.inverted;
	r = setup(&d);
	if (r >= 0)
		r = run(&d);
	teardown(&d);
	config_clear(&cfg);
	return r < 0 ? 1 : 0;
}
