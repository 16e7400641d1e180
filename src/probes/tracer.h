/* tracer.h - the BPF side seen from user space: load the programs, size
 * the maps, attach probes, hand out map descriptors. The only module that
 * sees the libbpf skeleton. Set MEMLEAKD_NO_UPROBE_MULTI=1 in the
 * environment to attach one perf-event uprobe per probe even where the
 * kernel has uprobe_multi links, MEMLEAKD_NO_UPROBE_SESSION=1 to attach
 * entry and return probes even where it has uprobe sessions (tests and
 * benchmarks use them for the older kernels' paths), and
 * MEMLEAKD_EMPTY_PROBES=1 to measure what the probes cost with programs
 * that return at once (nothing is tracked then), and MEMLEAKD_NO_SWEEP=1
 * to leave released context records in the map until their addresses
 * come back, as kernels before 6.10 do. */
#ifndef TRACER_H
#define TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memleakd.h"

struct tracer;

/* Room in the per-stack totals map per stack (--max-stacks) for the
 * generations that hold its allocations; past it, allocations count in
 * generation 0. */
#define TRACER_STACK_GENERATIONS 8
/* What the kernel allocates for an entry of the stacks map (struct
 * stack_frames, its key and the map's element header: 1,024 bytes) and of
 * the totals map (104 bytes, from a cache of 128-byte objects). Neither map
 * is preallocated: entries cost once used. */
#define TRACER_STACK_BYTES 1024
#define TRACER_TOTALS_BYTES 128

struct tracer_maps {
	int allocs;       /* u64 key -> struct alloc_info, and allocs_spill likewise */
	int allocs_spill;
	uint32_t spill_share; /* keys whose hash is below it are in allocs_spill
			       * (bpf/alloc_records.bpf.h's spill_map) */
	int ctx_allocs;   /* u64 key -> struct ctx_alloc_info */
	int stacks;       /* stack id -> struct stack_frames */
	int stack_counts; /* one struct stack_map_counts */
	int stack_events; /* ring buffer: the stacks map took a step more, or was full */
	int stack_totals; /* struct stack_key -> struct stack_totals */
	int counters;     /* target index -> per-CPU struct target_counters */
	int resets;       /* memleakd_alloc_key(target, ctx) -> time of its last reset */
	int maps_events;  /* ring buffer of struct maps_event: a target's mappings changed */
	int mapping_events;   /* ring buffer of struct mapping_event */
	int mapping_counters; /* target index -> per-CPU struct mapping_counters */
	int record_counts; /* per-CPU struct record_counts */
	int sweep_events; /* ring buffer: a CPU's context records grew (struct record_counts) */
	int process_events; /* ring buffer of struct process_event */
	int sweep;        /* the sweep program; negative when no allocator has contexts,
			   * or the kernel cannot run it (before 6.10) */
};

/* One probe to attach: function `function` at file offset `offset` of the
 * object `path`, in process pid; cookie encodes the probe kind and argument
 * positions (include/memleakd.h). */
struct attach_point {
	const char *function;
	const char *path;
	uint64_t offset;
	uint64_t cookie;
};

/* Check what memleakd needs before touching BPF: CAP_BPF and CAP_PERFMON (or
 * CAP_SYS_ADMIN), kernel BTF, perf-event uprobes. Returns 0, or -EPERM,
 * -ENOTSUP with *why set to a static explanation. */
int tracer__preflight(const char **why);

/* The processes whose start the programs report (bpf/targets.bpf.h),
 * besides the targets' execs: those running one of the files (--exe: the
 * programs compare inodes, user space devices too, as stat(2) gives them)
 * and in one of the cgroup v2 subtrees (--cgroup: their ids); and the
 * targets' children. */
struct process_filter {
	uint64_t dev[MEMLEAKD_MAX_WATCHED], ino[MEMLEAKD_MAX_WATCHED];
	size_t n_files;
	uint64_t cgroups[MEMLEAKD_MAX_WATCHED];
	size_t n_cgroups;
	bool follow_forks;
};

struct tracer_options {
	uint32_t max_allocs;   /* outstanding allocations held, >= 2 (and as many with
				* contexts) */
	uint32_t max_stacks;   /* distinct stacks held, and STACK_GENERATIONS times as
				* many per-stack totals */
	uint32_t unwind_rows;  /* room for unwind tables; 0 keeps the kernel's
				* frame-pointer walk (--unwind fp) */
	uint64_t sample_bytes; /* --sample-bytes: the mean bytes between samples, 0 for none */
	bool contexts;         /* some probe has a context (ctx= in a spec) */
	bool mappings;         /* watch the targets' anonymous memory mappings */
	bool verbose;          /* pass libbpf's debug output through */
	const struct process_filter *processes; /* NULL: only the targets' execs */
};

/* Open and load the BPF programs as o says, their maps sized by it.
 * Returns 0 and *out, or -errno from libbpf (the verifier's log has been
 * printed by libbpf). */
int tracer__open(const struct tracer_options *o, struct tracer **out);
/* True when the programs run with preemption off (the kernel has
 * bpf_preempt_disable, Linux 6.10); before, a preemptible kernel may let
 * another program on the CPU share a program's per-CPU scratch space. */
bool tracer__preempt_off(const struct tracer *t);
/* Attach points[0..n) in process pid, target index target (the cookies'):
 * an entry and a return probe for allocating functions, an entry probe for
 * freeing and resetting ones. Returns 0, or -errno with *failed the index
 * of a point that could not be attached (what was attached stays so until
 * tracer__remove_target or tracer__free). */
int tracer__attach(struct tracer *t, int pid, uint32_t target, const struct attach_point *points,
		   size_t n, size_t *failed);
/* True when probes go in as uprobe_multi links, false for one perf-event
 * uprobe each. */
bool tracer__multi(const struct tracer *t);
/* How allocating functions are probed, for -v: "uprobe sessions" (the
 * return probe only for the calls tracked), "entry and return probes"
 * (uprobe_multi), "perf-event entry and return probes". */
const char *tracer__probe_mode(const struct tracer *t);
/* Watch the anonymous memory mappings of process pid, target index
 * target (tracer_options.mappings): the syscall tracepoints' programs are
 * attached with the first target. Returns 0, -EINVAL when the tracer was
 * opened without mappings or target is out of range, or -errno from the
 * map update or libbpf. */
int tracer__watch_mappings(struct tracer *t, int pid, uint32_t target);
/* End the tracing of process pid, target index target, when it calls
 * exec: from the new program's first instruction on, the target's probes
 * do nothing and tracer__exec_events_fd becomes readable (with
 * --follow-forks, its forks are reported too).
 * The exec tracepoint's program is attached with the first target.
 * Returns 0, -EINVAL for an index out of range, or -errno from the map
 * update or libbpf. */
int tracer__watch_exec(struct tracer *t, int pid, uint32_t target);
/* A descriptor to poll: readable (POLLIN) once a watched target called
 * exec. It stays the tracer's. */
int tracer__exec_events_fd(const struct tracer *t);
/* Read the target index of one target that called exec since the last
 * call. Returns 0 and *target, or -EAGAIN when none is waiting. */
int tracer__next_exec(struct tracer *t, uint32_t *target);
/* Attach the programs that report processes starting (struct
 * process_event, on the process_events ring buffer). Returns 0 or -errno
 * from libbpf. */
int tracer__watch_processes(struct tracer *t);
/* Process events the ring buffer had no room for, since the start. */
uint64_t tracer__process_events_dropped(const struct tracer *t);
/* Forget target index target, process pid, in the programs: detach its
 * probes, stop watching its mappings and reporting its starts, clear its
 * context globals, allocator callers and unwinder mappings (the unwind
 * publisher must have stopped publishing them). Its records stay in the
 * maps (snapshot/target_maps.h reclaims them). */
void tracer__remove_target(struct tracer *t, int pid, uint32_t target);
/* Tell the programs that cookies of target index `target` with global slot
 * `slot` read the context from address addr in that process. Call before
 * attaching. -EINVAL for an index out of range. */
int tracer__set_ctx_global(struct tracer *t, uint32_t target, uint32_t slot, uint64_t addr);
/* Tell the programs that frees of untracked pointers returning into
 * run-time [start, end) of target index `target` are the allocator's own
 * (struct code_range). Call before attaching. -EINVAL for an index out of
 * range. */
int tracer__set_allocator_callers(struct tracer *t, uint32_t target, uint64_t start,
				  uint64_t end);
/* Write rows[0..n) of unwind tables at index first of the rows map.
 * Returns 0 or -errno (-E2BIG past its capacity). */
int tracer__load_unwind_rows(struct tracer *t, uint32_t first, const struct unwind_row *rows,
			     uint32_t n);
/* Make m[0..n) the executable mappings the unwinder sees for target,
 * sorted by start: written to the slot the programs do not read, then
 * swapped in. One writer only. */
int tracer__publish_unwind_mappings(struct tracer *t, uint32_t target,
				    const struct unwind_mapping *m, uint32_t n);
/* Let target's programs ask for a new reading of its mappings again; call
 * before reading them. */
void tracer__clear_rescan(struct tracer *t, uint32_t target);
/* Make new allocations count in generation (struct stack_key). */
void tracer__set_generation(struct tracer *t, uint16_t generation);
/* CLOCK_MONOTONIC time from which struct alloc_info's time counts. */
uint64_t tracer__time_base_ns(const struct tracer *t);
/* Stop every program at once: from return on, the maps no longer change.
 * The probes stay attached (detaching them takes seconds) until freed. */
void tracer__pause(struct tracer *t);
void tracer__maps(const struct tracer *t, struct tracer_maps *out);
/* The programs whose run time is what tracing costs: those the target's
 * probes run, or the syscall tracepoints watching mappings, which every
 * process on the machine runs. */
enum tracer_programs { TRACER_PROBE_PROGRAMS, TRACER_SYSCALL_PROGRAMS };
struct bpf_link;
/* The descriptors of the loaded programs of group g, up to cap, into fds
 * (they stay the tracer's): how many. */
size_t tracer__program_fds(const struct tracer *t, enum tracer_programs g, int *fds, size_t cap);
/* Attach a program that does nothing to this process's own code, at file
 * offset offset of /proc/self/exe, on entry or (ret) on return: for timing
 * a probe's trap. Returns the link (to bpf_link__destroy), or NULL with
 * errno set. */
struct bpf_link *tracer__attach_calibration(struct tracer *t, uint64_t offset, bool ret);
/* Detach everything and unload. Accepts NULL. */
void tracer__free(struct tracer *t);

#endif
