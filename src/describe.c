/* describe.c - what the daemon says about its probes and maps on stderr:
 * each function traced and where its probe went (-v: the placement and
 * the registers a prologue moved the arguments to), and what the maps
 * cost the kernel. */
#include <stdio.h>

#include "daemon.h"
#include "probes/allocator.h"
#include "probes/custom_allocator.h"
#include "probes/tracer.h"
#include "snapshot/map_reader.h"
#include "util/log.h"

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
		const char *name = args[i].name;

		if (!loc || (args[i].shift == COOKIE_CTX_SHIFT &&
			     (COOKIE_FIELD(cookie, COOKIE_FLAGS_SHIFT) & PROBE_F_CTX_GLOBAL)))
			continue;
		/* The prologue multiplied nmemb by size: the product is read. */
		if (pl->product && args[i].shift == COOKIE_SIZE_SHIFT)
			name = "nmemb x size";
		used += (size_t)snprintf(moved + used, sizeof(moved) - used, "; %s in %s", name,
					 probe_placement_loc_name(loc));
		if (used >= sizeof(moved))
			break;
	}
	if (pl->stack_words && used < sizeof(moved))
		snprintf(moved + used, sizeof(moved) - used, "; %u words pushed", pl->stack_words);
	if (pl->skipped)
		log_debug("    probe at +0x%x (%s, emulated, %u instruction%s passed over%s)",
			  pl->offset, pl->insn, pl->skipped, pl->skipped == 1 ? "" : "s", moved);
	else
		log_debug("    probe at +0x0 (%s, %s: %s)", pl->insn,
			  pl->emulated ? "emulated" : "single-stepped", pl->why);
}

static void describe_custom(int pid, const struct custom_allocator *c)
{

	log_info("pid %d: tracing %zu custom allocator functions%s", pid, c->n_probes,
		 c->n_probes ? ":" : " (the specs name functions traced already or missing)");
	for (size_t i = 0; i < c->n_probes; i++) {
		const struct allocator_probe *p = &c->probes[i];
		const char *flag = alloc_spec_flag(COOKIE_FIELD(p->point.cookie, COOKIE_KIND_SHIFT));

		log_info("  %s %s in %s", flag, p->point.function, p->module);
		describe_placement(p);
	}
	for (size_t i = 0; i < c->n_methods; i++) {
		const struct methods_note *m = &c->methods[i];

		if (m->why)
			log_debug("  %s jumps through methods tables not found: %s; probed itself",
				  m->function, m->why);
		else
			log_debug("  %s jumps through methods tables: its %zu free functions, from "
				  "the tables of %zu calls, are probed in its place", m->function,
				  m->n_functions, m->n_calls);
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

void describe_probes(int pid, const struct allocator *a, const struct custom_allocator *c)
{

	if (a) {
		log_info("pid %d takes malloc from %s; tracing %zu functions:", pid,
			 a->module, a->n_probes);
		for (size_t i = 0; i < a->n_probes; i++) {
			log_info("  %s", a->probes[i].point.function);
			describe_placement(&a->probes[i]);
		}
		describe_own_frees(a);
	}
	if (c)
		describe_custom(pid, c);
}

/* What the maps cost the kernel: the outstanding-allocation maps per
 * allocation they can hold (they are preallocated); the stack maps now,
 * and full (they take memory as stacks come). */
void describe_maps(const struct daemon *d)
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

