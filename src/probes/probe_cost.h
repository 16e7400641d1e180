/* probe_cost.h - what tracing costs each target, so that a user of a
 * production service can decide to keep tracing, sample or stop: the
 * target's probe hits (counted in BPF, by kind) priced at what a hit costs
 * on this machine. A hit costs its trap, timed at start on memleakd's own
 * code for each kind (an emulated instruction, a single-stepped one, a
 * return), plus the BPF program's run time, which the kernel's run-time
 * statistics measure while memleakd holds them on: in a window after each
 * report, an eighth of the interval and at most a second. */
#ifndef PROBE_COST_H
#define PROBE_COST_H

#include <stdbool.h>
#include <stdint.h>

struct tracer;
struct probe_cost;

/* A trap's cost, by kind of hit, in ns; 0 when it could not be timed. */
struct trap_prices {
	double entry_ns;   /* a probe on an instruction the kernel emulates */
	double stepped_ns; /* a probe on one it single-steps */
	double return_ns;  /* a return probe's trap, on top of its entry's */
};

/* A target's probe hits since attach (struct target_counters). */
struct probe_hits {
	uint64_t entry, stepped, ret;
};

/* What tracing cost over one interval. */
struct tracing_cost {
	bool known;               /* false when the statistics could not be read */
	uint64_t hits;            /* the target's probe hits in the interval */
	uint64_t stepped_hits;    /* of which on single-stepped instructions */
	double hits_per_s;
	double ns_per_hit;        /* trap and BPF run time of the average hit */
	double cpu_share;         /* of one CPU, spent in the target's probes */
	double syscall_cpu_share; /* of one CPU, spent by the syscall tracepoints
				   * watching mappings, machine-wide (BPF run time) */
};

/* Time the traps on this process's own code (about 0.2 s), and see that
 * BPF run-time statistics can be turned on; reports come every
 * interval_ns. Returns 0 and *out, or -errno (-EPERM, -EINVAL when the
 * kernel has no statistics): then costs are unknown. */
int probe_cost__open(struct tracer *t, uint64_t interval_ns, struct probe_cost **out);
const struct trap_prices *probe_cost__prices(const struct probe_cost *c);
/* When the open window ends (monotonic ns), UINT64_MAX when none is open;
 * probe_cost__tick, called at or after it, reads and closes it. */
uint64_t probe_cost__due(const struct probe_cost *c);
void probe_cost__tick(struct probe_cost *c, uint64_t now);
/* Once as tracing starts and once per round of reports: the window still
 * open is read and closed, and the next opens. probe_cost__measure prices
 * the hits with what the last window read; a failure leaves the costs
 * unknown until a window is read. */
void probe_cost__refresh(struct probe_cost *c);
/* The cost of target's hits (cumulative, since attach) over the interval
 * since the previous call for that target (or since open), interval_s
 * long, priced as of the last refresh. */
void probe_cost__measure(struct probe_cost *c, uint32_t target, const struct probe_hits *hits,
			 double interval_s, struct tracing_cost *out);
/* Statistics off (when no one else holds them). Accepts NULL. */
void probe_cost__free(struct probe_cost *c);

#endif
