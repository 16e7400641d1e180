/* daemon.h - the daemon's state, shared by main.c (the run: setup, the
 * loop, the report rounds, the processes found starting) and traced.c
 * (one traced process: opening it, attaching to it, its report, letting
 * it go). One set of BPF maps serves every process, each under its
 * target index; what is the process's own (its objects, allocators,
 * mappings, histories) lives in its struct traced. */
#ifndef DAEMON_H
#define DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "memleakd.h"
#include "report/report.h"
#include "snapshot/snapshot.h"
#include "target/process_memory.h"

struct traced {
	struct target *target;
	struct allocator *allocator;        /* NULL with --no-malloc */
	struct custom_allocator *custom;    /* NULL without specs */
	struct mappings *mappings;          /* NULL with --no-mappings */
	struct trend *trend;
	struct trend *mapping_trend;        /* the mapping stacks' histories */
	uint64_t attached_ns;               /* CLOCK_MONOTONIC */
	struct process_memory at_attach;    /* the process's memory then */
	struct process_memory memory;       /* at the last report that could read it */
	enum end_reason end;                /* END_NONE while it is traced */
	uint64_t maps_ns, names_ns;         /* the last report's reading and naming times */
};

struct daemon {
	const struct config *cfg;
	const struct report_writer *writer;
	struct report_options report_options;
	struct report_output *out;
	struct tracer *tracer;
	struct unwind_publisher *publisher; /* NULL with --unwind fp */
	struct mapping_events *mapping_events; /* NULL with --no-mappings */
	struct context_resets *resets;
	struct ctx_sweep *sweep;            /* NULL without contexts */
	struct generations *generations;
	struct stack_reclaim *reclaim;
	struct probe_cost *cost;            /* NULL when tracing's cost is unknown */
	struct symbolizer *symbolizer;
	struct latest_report *latest;       /* NULL without --listen */
	struct http_server *server;
	struct process_events *starts;      /* --exe and --cgroup: processes starting */
	struct process_filter *filter;      /* what --exe and --cgroup look for, or NULL */
	int signal_fd;
	bool several;        /* reports are rounds of several processes (docs/json.md) */
	bool watching;       /* --exe, --cgroup: the run waits for new processes */
	struct traced *traced[MEMLEAKD_MAX_TARGETS]; /* by target index */
	size_t n_traced;
	bool leak_remained;  /* a final report suspected a leak, or an exit left blocks */
};

/* Open process pid as target index `index`: its objects and allocators,
 * its seccomp mode checked. Logs why it fails. Returns 0 and *out, or
 * -errno. */
int traced__open(struct daemon *d, int pid, uint32_t index, struct traced **out);
/* Attach the programs to p (tracer and shared parts set up already): its
 * probes, its exec and mappings watched, its unwind tables published.
 * Logs why it fails; what was attached stays until traced__release. */
int traced__attach(struct daemon *d, struct traced *p);
/* Read p's report from the maps, with its trends and verdict, its stacks
 * named. Returns 0 and *out, or -errno (logged). */
int traced__snapshot(struct daemon *d, struct traced *p, enum end_reason end,
		     struct snapshot **out);
/* Let p go: its probes detached, with reclaim its entries taken out of
 * the maps (not worth it when the run ends), p freed. Accepts NULL. */
void traced__release(struct daemon *d, struct traced *p, bool reclaim);

/* The shared maps' upkeep (map_upkeep.c). Do the specs name contexts
 * (ctx= in a spec)? */
bool have_contexts(const struct alloc_specs *specs);
/* Set up the sweep of released context records, where the kernel can
 * run it, and the reclaim of stack ids: 0, or -errno (logged). */
int start_sweep(struct daemon *d, uint32_t capacity);
int start_reclaim(struct daemon *d);
/* Sweep when the map fills; give back the ids of stacks that hold
 * nothing. Failures are logged: the next round tries again. */
void sweep_if_due(struct daemon *d);
void reclaim_stacks(struct daemon *d);

/* The listing of what is traced in process pid, at info and debug level. */
void describe_probes(int pid, const struct allocator *a, const struct custom_allocator *c);
/* What the maps cost the kernel, at debug level. */
void describe_maps(const struct daemon *d);

#endif
