/* snapshot.h - one report's worth of data, read from the BPF maps at one
 * moment: totals, and every stack still holding memory, sorted by bytes.
 * Writers only ever see a finished snapshot; they never touch BPF maps. */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "memleakd.h"
#include "probes/probe_cost.h"
#include "symbols/symbolizer.h"

struct context_resets;
struct ctx_sweep;
struct generations;
struct tracer_maps;

enum end_reason {
	END_NONE,          /* a periodic report */
	END_SIGNAL,        /* SIGINT, SIGTERM or SIGHUP */
	END_DURATION,      /* --duration elapsed */
	END_TARGET_EXITED, /* the traced process is gone */
	END_TARGET_EXEC,   /* it called exec: the program traced is gone */
};

struct snapshot_totals {
	uint64_t outstanding_bytes;
	uint64_t outstanding_allocs;
	uint64_t allocs;
	uint64_t frees;
	uint64_t unknown_frees;
	uint64_t dropped_allocs;  /* the allocation records' maps were full (--max-allocs) */
	uint64_t dropped_totals;  /* the per-stack totals map was full (--max-stacks) */
	uint64_t stack_errors;
	uint64_t stack_map_full;  /* of stack_errors: the stacks map was full (--max-stacks) */
	uint64_t failed_allocs;
	uint64_t nested_calls;
	uint64_t replaced_allocs;
	uint64_t resets;
	uint64_t reset_frees;
	uint64_t dropped_resets;
	uint64_t unwind_no_table;
	uint64_t unwind_truncated;
	uint64_t unwind_anon_stops;
	uint64_t allocator_frees; /* frees the allocator made of its own caches (glibc's
				   * tcache at thread exit), not the program's */
	/* Anonymous memory mapped since attach and still mapped: by the
	 * program itself (STACK_MAPPED), and by traced allocators for their
	 * own heaps (STACK_HEAP); bytes and ranges. */
	uint64_t mapped_bytes;
	uint64_t mapped_ranges;
	uint64_t heap_mapped_bytes;
	uint64_t heap_mapped_ranges;
	uint64_t mapping_events;         /* mmap, munmap, mremap, brk, mprotect calls seen */
	uint64_t dropped_mapping_events; /* lost: the ring buffer was full */
	struct probe_hits hits;          /* traps into the target's probes, by kind */
};

/* What a stack's bytes are. */
enum stack_kind {
	STACK_ALLOC,  /* allocations of traced functions (the malloc family, the specs) */
	STACK_MAPPED, /* anonymous memory the program mapped itself (mmap, mremap,
		       * brk, mprotect), outside any traced allocator call */
	STACK_HEAP,   /* anonymous memory mapped inside a traced allocator call: the
		       * allocator's own heap, which the allocations it hands out are in */
};

/* What a stack's history says (trend.c, by the rule of growth_rule.h). */
enum stack_class {
	STACK_NEW,     /* too little history to judge: fewer than GROWTH_MIN_INTERVALS */
	STACK_STEADY,  /* no sustained, significant growth: a cache, a pool, churn */
	STACK_SUSPECT, /* outstanding grows, significantly, steadily, and not slowing */
};

/* Growth of one stack, filled by trend__update. */
struct stack_trend {
	enum stack_class cls;
	int64_t growth_bytes;     /* outstanding bytes added since the previous report */
	int64_t growth_allocs;
	double growth_rate_bps;   /* net bytes per second over the judged intervals
				   * (over its first interval for a stack just seen) */
	unsigned int intervals;   /* intervals in its window (at most the trend window) */
	unsigned int grown;       /* of which outstanding bytes grew */
};

/* With --sample-bytes, bytes, allocs and their totals are estimates of
 * the whole (sampling_estimate.h), made from the sampled figures. */
struct snapshot_stack {
	uint32_t stack_id;    /* MEMLEAKD_STACK_LOST (MEMLEAKD_MAPPING_STACK_LOST for a
			       * mapping) when capture failed */
	enum stack_kind kind;
	uint64_t bytes;       /* outstanding (only allocations >= min age, when set) */
	uint64_t allocs;      /* allocations; for mappings, the ranges of address
			       * space they hold (a mapping a munmap cut in two is two) */
	uint64_t total_bytes; /* allocated from this stack since attach */
	uint64_t total_allocs;
	uint64_t sampled_bytes; /* bytes and allocs of the allocations tracked: */
	uint64_t sampled_allocs; /* the same without --sample-bytes */
	uint64_t oldest_age_ns;
	size_t n_addrs;
	uint64_t *addrs;      /* return addresses, innermost first */
	size_t n_frames;      /* n_addrs and the inlined calls at them */
	struct frame *frames; /* filled by stack_symbols_resolve */
	struct stack_trend trend;
};

/* Whether the process's memory growth is a leak of traced allocations. */
enum verdict {
	VERDICT_NONE,          /* the process's memory was never read */
	VERDICT_UNDECIDED,     /* too little history yet: the run, or every stack, is new */
	VERDICT_NO_LEAK,       /* no suspect stack, RSS growth explained or small */
	VERDICT_LEAK,          /* suspect stacks (untraced_growth may hold too) */
	VERDICT_UNTRACED,      /* no suspect, and anonymous RSS grew far beyond what is traced */
};

/* The process's resident memory against what memleakd tracks, both since
 * attach. */
struct process_summary {
	uint64_t rss_bytes;
	uint64_t rss_anon_bytes;
	int64_t rss_growth_bytes;      /* since attach */
	int64_t rss_anon_growth_bytes;
	int64_t tracked_growth_bytes;  /* outstanding bytes since attach, allocated and
					* mapped by the program (not the heap kind) */
	int64_t mapped_growth_bytes;   /* of which mapped by the program (STACK_MAPPED) */
	int64_t heap_mapped_bytes;     /* mapped by traced allocators for their heaps:
					* the allocations in them are counted already */
	size_t suspects;               /* stacks classed suspect, of allocations and of
					* the program's mappings */
	double suspect_rate_bps;       /* their growth rates, summed */
	bool untraced_growth;          /* anonymous RSS grew by 4 MiB or more, and what is
					* traced explains less than half of it */
	bool allocator_retention;      /* untraced growth that the allocators' own
					* heaps explain: memory they keep, not handed out */
	enum verdict verdict;
};

/* The reports written at one time when several processes may be traced
 * (several -p, --exe, --cgroup): every process traced, periodically and
 * when the run ends, or the one that exited or called exec. Their totals,
 * and their stacks' and mapping stacks' counts, added up. */
struct snapshot_round {
	size_t n_processes;
	int pids[MEMLEAKD_MAX_TARGETS]; /* in the order they are written */
	struct snapshot_totals totals;
	size_t n_stacks, n_mappings;
};

struct snapshot {
	struct timespec time; /* CLOCK_REALTIME */
	int pid;
	char comm[16];        /* the process's name */
	char *exe;            /* its executable's path as it sees it, or NULL */
	const struct snapshot_round *round; /* written with these, NULL for none */
	size_t round_index;   /* its place among them */
	enum end_reason end;
	uint64_t min_age_ns;
	uint64_t sample_bytes; /* --sample-bytes, 0 when every allocation is tracked */
	struct snapshot_totals totals; /* outstanding: estimates; events: as counted */
	double since_attach_s;
	double interval_s;    /* since the previous report (or attach) */
	unsigned int report;  /* 1 for the first report */
	bool judged;          /* the run is long enough that a stack seen from its
			       * start has been judged (trend.c) */
	struct process_summary process;
	struct tracing_cost cost; /* over the interval; cost.known false when unmeasured */
	size_t n_stacks;      /* every stack holding memory */
	size_t n_top;         /* the first n_top have addresses and frames */
	size_t records_read;  /* allocation records visited (--min-age, context resets) */
	struct snapshot_stack *stacks; /* STACK_ALLOC */
	/* The stacks holding mapped memory, STACK_MAPPED and STACK_HEAP, in the
	 * order of stacks; the first n_top_mappings have addresses and frames. */
	size_t n_mappings, n_top_mappings;
	struct snapshot_stack *mappings;
};

/* Where a snapshot is read from, and the state kept from one to the next. */
struct snapshot_source {
	const struct tracer_maps *maps;
	struct context_resets *resets;
	struct ctx_sweep *sweep; /* NULL when no allocator has contexts */
	struct generations *generations;
	uint64_t time_base_ns; /* struct alloc_info's time counts from here */
	uint32_t target;       /* its index in the keys */
	int pid;
	uint64_t min_age_ns;   /* > 0: count only allocations at least that old */
	uint64_t sample_bytes; /* > 0: the maps hold samples, one per so many bytes */
};

/* Add t's counts to sum's: every field of snapshot_totals is a count. */
void snapshot_totals_add(struct snapshot_totals *sum, const struct snapshot_totals *t);

/* Read the maps for src->target and build a snapshot of process src->pid:
 * stacks sorted by bytes, without their addresses yet. The per-stack
 * totals, by generation, give the outstanding figures and the age of each
 * stack's oldest allocation (to within its generation); the allocation
 * records are visited only for --min-age (then ages are exact) and, those
 * with a context, when contexts were reset: a record that a reset released
 * (by the times src->resets loads) is not outstanding. With src->sweep, the
 * sweep program first retires those released so far. With sampling, the
 * stacks' figures are estimates from the samples. What the maps no longer
 * need is deleted from them (map_cleanup.h).
 * Returns 0 and *out, or -errno from the sweep, the map reads and deletes,
 * or -ENOMEM. */
int snapshot__take(const struct snapshot_source *src, struct snapshot **out);
/* Read the addresses of the first top stacks and mapping stacks, in their
 * current order, and set n_top and n_top_mappings. Returns 0, or -errno
 * from the map read, or -ENOMEM. */
int snapshot__read_stacks(struct snapshot *snap, const struct tracer_maps *maps, size_t top);
/* Accepts NULL. */
void snapshot__free(struct snapshot *snap);

#endif
