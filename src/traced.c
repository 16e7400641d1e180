/* traced.c - one traced process (daemon.h): opened with its objects and
 * allocators, attached to under its target index, read into a report with
 * its own histories, and let go when it exits, calls exec or the run
 * ends, its entries taken out of the shared maps so that the index can
 * serve another process. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "probes/allocator.h"
#include "probes/custom_allocator.h"
#include "probes/seccomp_check.h"
#include "probes/probe_cost.h"
#include "probes/tracer.h"
#include "snapshot/ctx_sweep.h"
#include "snapshot/generations.h"
#include "snapshot/mapping_events.h"
#include "snapshot/mappings.h"
#include "snapshot/target_maps.h"
#include "snapshot/trend.h"
#include "snapshot/verdict.h"
#include "symbols/stack_symbols.h"
#include "target/target.h"
#include "unwind/unwind_publisher.h"
#include "util/clock.h"
#include "util/log.h"

/* How long attaching waits for the unwind tables of the objects mapped at
 * start: libc, libstdc++ and postgres take about 50 ms together. */
#define UNWIND_WAIT_MS 2000

static int find_malloc_family(struct traced *p)
{
	char *searched = NULL;
	int pid = p->target->pid;
	int r = allocator__find(p->target, &p->allocator, &searched);

	if (r == -ENOENT)
		log_error("pid %d: no malloc found in the process (looked in: %s)", pid, searched);
	else if (r < 0)
		log_error("pid %d: cannot read %s: %s", pid, searched ? searched : "its objects",
			  strerror(-r));
	free(searched);
	return r;
}

static int find_custom(const struct daemon *d, struct traced *p)
{
	char *error = NULL;
	int r = custom_allocator__resolve(p->target, &d->cfg->specs, p->allocator, &p->custom,
					  &error);

	if (r < 0)
		log_error("%s", error ? error : strerror(-r));
	free(error);
	return r;
}

/* A process confined by seccomp is traced only where the kernel lets its
 * return probes through the filter: elsewhere the first traced return
 * would kill it. */
static int check_seccomp(const struct target *t)
{
	enum seccomp_mode mode;
	bool passes;
	int r = seccomp_check__mode(t->proc_fd, &mode);

	if (r < 0 || mode == SECCOMP_NONE)
		return 0;
	r = seccomp_check__return_probes(&passes);
	if (r < 0) {
		log_error("pid %d runs under seccomp (%s mode), and whether this kernel lets "
			  "return probes through it cannot be checked (%s): not attaching, "
			  "tracing might kill it", t->pid, seccomp_check__mode_name(mode),
			  strerror(-r));
		return r;
	}
	if (!passes) {
		log_error("pid %d runs under seccomp (%s mode), and this kernel filters the "
			  "uretprobe system call that return probes make (Linux 6.11 to 6.13 "
			  "without the fix that exempts it): tracing would kill it; not attaching",
			  t->pid, seccomp_check__mode_name(mode));
		return -EPERM;
	}
	log_info("pid %d runs under seccomp (%s mode); this kernel lets return probes "
		 "through it", t->pid, seccomp_check__mode_name(mode));
	return 0;
}

static void traced_free(struct traced *p)
{
	if (!p)
		return;
	mappings__free(p->mappings);
	custom_allocator__free(p->custom);
	allocator__free(p->allocator);
	target__free(p->target);
	trend__free(p->trend);
	trend__free(p->mapping_trend);
	free(p);
}

int traced__open(struct daemon *d, int pid, uint32_t index, struct traced **out)
{
	struct traced *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->trend = trend__new(d->cfg->trend, d->cfg->interval_ns);
	p->mapping_trend = trend__new(d->cfg->trend, d->cfg->interval_ns);
	if (!p->trend || !p->mapping_trend) {
		traced_free(p);
		return -ENOMEM;
	}
	r = target__open(pid, index, &p->target);
	if (r == -ESRCH)
		log_error("pid %d: no such process", pid);
	else if (r < 0)
		log_error("pid %d: cannot inspect the process: %s", pid, strerror(-r));
	if (r >= 0 && !d->cfg->no_malloc)
		r = find_malloc_family(p);
	if (r >= 0 && d->cfg->specs.n)
		r = find_custom(d, p);
	if (r >= 0)
		r = check_seccomp(p->target);
	if (r < 0) {
		traced_free(p);
		return r;
	}
	*out = p;
	return 0;
}

static int attach_probes(struct daemon *d, struct traced *p, const struct allocator_probe *probes,
			 size_t n)
{
	struct attach_point *points = calloc(n + 1, sizeof(*points));
	size_t failed = 0;
	int r;

	if (!points)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		points[i] = probes[i].point;
	r = tracer__attach(d->tracer, p->target->pid, p->target->index, points, n, &failed);
	if (r < 0)
		log_error("attaching to %s in %s failed: %s", probes[failed].point.function,
			  probes[failed].module, strerror(-r));
	free(points);
	return r;
}

/* Publish p's unwind tables, and watch its dlopen for new objects. Stacks
 * taken before an object's table is loaded differ from those after: the
 * probes go in once the tables are, unless that takes longer than a
 * report can wait. */
static int publish_unwind(struct daemon *d, struct traced *p)
{
	struct allocator_probe probe;
	int pid = p->target->pid;
	int r = unwind_publisher__add(d->publisher, p->target);

	if (r < 0) {
		log_error("pid %d: cannot build its unwind tables: %s", pid, strerror(-r));
		return r;
	}
	r = unwind_publisher__dlopen_probe(d->publisher, p->target, &probe);
	if (r == -ENOENT)
		log_debug("pid %d has no dynamic linker: no dlopen to watch", pid);
	else if (r < 0)
		log_error("pid %d: cannot find its dynamic linker's _dl_debug_state: %s", pid,
			  strerror(-r));
	else
		r = attach_probes(d, p, &probe, 1);
	if (r < 0 && r != -ENOENT)
		return r;
	if (unwind_publisher__wait_ready(d->publisher, p->target->index, UNWIND_WAIT_MS) < 0)
		log_info("pid %d: unwind tables still loading after %u ms: attaching; until they "
			 "are in, stacks through objects without one are counted in "
			 "unwind_no_table", pid, UNWIND_WAIT_MS);
	return 0;
}

/* Read p's mapping events from the start, then have the programs send them. */
static int watch_mappings(struct daemon *d, struct traced *p)
{
	struct tracer_maps maps;
	uint32_t index = p->target->index;
	int r;

	tracer__maps(d->tracer, &maps);
	r = mappings__new(maps.mapping_counters, index, &p->mappings);
	if (r == 0)
		r = mapping_events__route(d->mapping_events, index, p->mappings);
	if (r < 0) {
		log_error("cannot read mapping events: %s", strerror(-r));
		return r;
	}
	r = tracer__watch_mappings(d->tracer, p->target->pid, index);
	if (r < 0)
		log_error("watching the memory mappings of pid %d failed: %s (--no-mappings "
			  "runs without)", p->target->pid, strerror(-r));
	return r;
}

int traced__attach(struct daemon *d, struct traced *p)
{
	const struct custom_allocator *c = p->custom;
	uint32_t index = p->target->index;
	int pid = p->target->pid, r = 0;
	size_t n = 0;

	describe_probes(pid, p->allocator, c);
	if (d->publisher) {
		r = publish_unwind(d, p);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; c && i < c->n_globals && r >= 0; i++)
		r = tracer__set_ctx_global(d->tracer, index, (uint32_t)i, c->globals[i]);
	if (r >= 0 && p->allocator && !p->allocator->own_frees.status)
		r = tracer__set_allocator_callers(d->tracer, index, p->allocator->own_frees.start,
						  p->allocator->own_frees.end);
	/* Before the probes: an exec while they go in ends its tracing too. */
	if (r >= 0) {
		r = tracer__watch_exec(d->tracer, pid, index);
		if (r < 0)
			log_error("watching pid %d for exec failed: %s", pid, strerror(-r));
	}
	if (r >= 0 && p->allocator) {
		r = attach_probes(d, p, p->allocator->probes, p->allocator->n_probes);
		n += p->allocator->n_probes;
	}
	if (r >= 0 && c) {
		r = attach_probes(d, p, c->probes, c->n_probes);
		n += c->n_probes;
	}
	if (r >= 0 && !d->cfg->no_mappings)
		r = watch_mappings(d, p);
	if (r < 0)
		return r;
	p->attached_ns = monotonic_ns();
	r = process_memory__read(p->target->proc_fd, &p->at_attach);
	if (r < 0)
		log_warn("pid %d: cannot read its memory use: %s", pid, strerror(-r));
	p->memory = p->at_attach;
	log_info("attached to pid %d (%zu probes); reporting every %.10g s", pid, n,
		 (double)d->cfg->interval_ns / 1e9);
	return 0;
}

/* The mapping stacks and totals, and their trends: a history of their own,
 * as a snapshot of them alone. */
static int take_mappings(const struct daemon *d, struct traced *p, struct snapshot *snap)
{
	uint64_t now = monotonic_ns();
	struct snapshot view;
	int r = mappings__fill(p->mappings, snap, now, d->cfg->min_age_ns);

	if (r < 0)
		return r;
	view = (struct snapshot){ .stacks = snap->mappings, .n_stacks = snap->n_mappings };
	return trend__update(p->mapping_trend, &view, now - p->attached_ns,
			     p->memory.rss_anon_bytes);
}

/* Read the maps into a snapshot with its trends and the verdict on the
 * process's memory, and the addresses of the stacks the writer shows. */
static int take_snapshot(struct daemon *d, struct traced *p, const struct tracer_maps *maps,
			 enum end_reason end, struct snapshot **out)
{
	struct snapshot *snap;
	struct snapshot_source src = {
		.maps = maps, .resets = d->resets, .sweep = d->sweep,
		.generations = d->generations, .time_base_ns = tracer__time_base_ns(d->tracer),
		.target = p->target->index, .pid = p->target->pid,
		.min_age_ns = d->cfg->min_age_ns, .sample_bytes = d->cfg->sample_bytes,
	};
	int r = snapshot__take(&src, &snap);

	if (r < 0)
		return r;
	snap->end = end;
	memcpy(snap->comm, p->target->comm, sizeof(snap->comm));
	snap->exe = p->target->exe ? strdup(p->target->exe) : NULL;
	/* A process that is gone keeps the memory last read; after exec, the
	 * memory is the new program's. */
	if (end != END_TARGET_EXEC)
		process_memory__read(p->target->proc_fd, &p->memory);
	r = trend__update(p->trend, snap, monotonic_ns() - p->attached_ns,
			  p->memory.rss_anon_bytes);
	if (d->cost)
		probe_cost__measure(d->cost, p->target->index, &snap->totals.hits, snap->interval_s,
				    &snap->cost);
	if (r >= 0 && p->mappings)
		r = take_mappings(d, p, snap);
	if (r >= 0) {
		verdict_decide(&p->at_attach, &p->memory, snap);
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

int traced__snapshot(struct daemon *d, struct traced *p, enum end_reason end,
		     struct snapshot **out)
{
	uint64_t start = monotonic_ns(), read;
	int pid = p->target->pid;
	struct tracer_maps maps;
	struct snapshot *snap;
	int r;

	/* A process that is gone keeps the mappings and names last read, and
	 * so does one that called exec: the stacks are the old program's. */
	r = end == END_TARGET_EXEC ? 0 : target__refresh_maps(p->target);
	if (r == 0 && end != END_TARGET_EXEC)
		r = target__read_names(p->target);
	if (r < 0 && r != -ESRCH)
		log_warn("pid %d: cannot re-read its mappings: %s", pid, strerror(-r));
	tracer__maps(d->tracer, &maps);
	r = take_snapshot(d, p, &maps, end, &snap);
	if (r < 0) {
		log_error("pid %d: reading the maps failed: %s", pid, strerror(-r));
		return r;
	}
	read = monotonic_ns();
	r = stack_symbols_resolve(snap, d->symbolizer, p->target->maps, p->target->root_fd);
	p->maps_ns = read - start;
	p->names_ns = monotonic_ns() - read;
	if (r < 0) {
		log_error("pid %d: naming the stacks failed: %s", pid, strerror(-r));
		snapshot__free(snap);
		return r;
	}
	*out = snap;
	return 0;
}

void traced__release(struct daemon *d, struct traced *p, bool reclaim)
{
	uint64_t ctx_deleted = 0;
	struct tracer_maps maps;
	uint32_t index;
	int r;

	if (!p)
		return;
	index = p->target->index;
	if (d->publisher)
		unwind_publisher__remove(d->publisher, index);
	if (d->mapping_events)
		mapping_events__route(d->mapping_events, index, NULL);
	tracer__remove_target(d->tracer, p->target->pid, index);
	tracer__maps(d->tracer, &maps);
	r = reclaim ? target_maps_reclaim(&maps, index, &ctx_deleted) : 0;
	if (r < 0)
		log_warn("pid %d: taking its entries out of the maps failed: %s", p->target->pid,
			 strerror(-r));
	if (d->sweep)
		ctx_sweep__adjust(d->sweep, -(int64_t)ctx_deleted);
	traced_free(p);
}
