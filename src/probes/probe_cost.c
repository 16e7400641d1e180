/* probe_cost.c - prices of a probe hit, and what a target's hits cost.
 *
 * The trap of a uprobe is the larger part of a hit's cost and depends on
 * the machine (a virtual one pays more) and on the instruction probed
 * (emulated or single-stepped, see probe_placement.c), so it is measured
 * rather than assumed: the do-nothing program is attached to two functions
 * of memleakd's own (trap_calibration.S), which are then called in a loop,
 * probed and not; the difference per call is the trap. Each is timed over
 * ROUNDS rounds and the median kept, so a round that met an interruption
 * does not set the price. The programs' own run time comes from the
 * kernel's BPF statistics (bpf_enable_stats), which count every run while
 * a process holds them on. They are on only in a window of each interval:
 * while on, every run of every program reads the clock twice, which on a
 * virtual machine (kvm-clock) added about a tenth to what memleakd added
 * to each pair of malloc and free (BENCHMARKS.md).
 */
#include "probes/probe_cost.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "memleakd.h"
#include "probes/tracer.h"
#include "target/proc_maps.h"
#include "util/clock.h"

#define CALLS 2000
#define ROUNDS 5
#define MAX_PROGRAMS 8
/* A window of statistics lasts this share of the interval, at most
 * WINDOW_MAX_NS. */
#define WINDOW_SHARE 8
#define WINDOW_MAX_NS 1000000000ULL

void trap_calibration_emulated(void);
void trap_calibration_stepped(void);

/* Run time and runs of a group of programs, summed. */
struct run_stats {
	uint64_t run_ns, runs;
};

struct probe_cost {
	struct tracer *tracer;
	int stats_fd;                      /* the statistics held on; -1 between windows */
	uint64_t window_ns;
	uint64_t opened_ns;                /* when the last window opened */
	bool opened_read;                  /* the statistics were read as it opened */
	struct trap_prices prices;
	struct run_stats probes, syscalls; /* as the window opened */
	double bpf_ns_per_run;             /* of the probe programs, the latest known */
	double syscall_share;
	bool stats_read;                   /* the last window was read */
	struct probe_hits last[MEMLEAKD_MAX_TARGETS];
};

static int read_stats(const struct tracer *t, enum tracer_programs g, struct run_stats *out)
{
	int fds[MAX_PROGRAMS];
	size_t n = tracer__program_fds(t, g, fds, MAX_PROGRAMS);

	*out = (struct run_stats){ 0 };
	for (size_t i = 0; i < n; i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(fds[i], &info, &len))
			return -errno;
		out->run_ns += info.run_time_ns;
		out->runs += info.run_cnt;
	}
	return 0;
}

/* ns per call of fn, over CALLS calls. */
static double time_calls(void (*volatile fn)(void))
{
	uint64_t start = monotonic_ns();

	for (int i = 0; i < CALLS; i++)
		fn();
	return (double)(monotonic_ns() - start) / CALLS;
}

/* The file offset in /proc/self/exe of our own function fn. */
static int own_offset(void (*fn)(void), uint64_t *offset)
{
	struct proc_maps *maps;
	const struct proc_map *m;
	int r = proc_maps__read(getpid(), &maps);

	if (r < 0)
		return r;
	m = proc_maps__find(maps, (uint64_t)(uintptr_t)fn);
	r = m && m->path ? 0 : -ENOENT;
	if (r == 0)
		*offset = (uint64_t)(uintptr_t)fn - m->start + m->offset;
	proc_maps__free(maps);
	return r;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median over ROUNDS of time_calls(fn). */
static double median_call_ns(void (*fn)(void))
{
	double ns[ROUNDS];

	for (int i = 0; i < ROUNDS; i++)
		ns[i] = time_calls(fn);
	qsort(ns, ROUNDS, sizeof(ns[0]), compare_doubles);
	return ns[ROUNDS / 2];
}

/* ns a call of fn takes with the calibration program on it (at entry, or
 * on return too), less the unprobed call. The program is attached once
 * for all rounds: taking a uprobe off waits for the kernel's RCU grace
 * periods, about 0.1 s here, which a round each would add to every start. */
static int price(struct tracer *t, void (*fn)(void), bool ret, double *out)
{
	struct bpf_link *link;
	uint64_t offset;
	double bare, probed;
	int r = own_offset(fn, &offset);

	if (r < 0)
		return r;
	bare = median_call_ns(fn);
	link = tracer__attach_calibration(t, offset, ret);
	if (!link)
		return -errno;
	probed = median_call_ns(fn);
	bpf_link__destroy(link);
	*out = probed > bare ? probed - bare : 0;
	return 0;
}

static int calibrate(struct probe_cost *c)
{
	struct trap_prices *p = &c->prices;
	double with_return = 0;
	int r = price(c->tracer, trap_calibration_emulated, false, &p->entry_ns);

	if (r == 0)
		r = price(c->tracer, trap_calibration_stepped, false, &p->stepped_ns);
	if (r == 0)
		r = price(c->tracer, trap_calibration_emulated, true, &with_return);
	p->return_ns = with_return > p->entry_ns ? with_return - p->entry_ns : 0;
	return r;
}

/* Statistics on for a window, and read as they start. */
static void open_window(struct probe_cost *c)
{
	c->opened_ns = monotonic_ns();
	c->opened_read = false;
	c->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	/* No window to read: the costs are unknown until one is. */
	if (c->stats_fd < 0) {
		c->stats_read = false;
		return;
	}
	c->opened_read = read_stats(c->tracer, TRACER_PROBE_PROGRAMS, &c->probes) == 0 &&
			 read_stats(c->tracer, TRACER_SYSCALL_PROGRAMS, &c->syscalls) == 0;
}

/* What the window measured: the probe programs' run time per run, when
 * they ran, and the tracepoints' share of a CPU. Statistics off. */
static void close_window(struct probe_cost *c, uint64_t now)
{
	struct run_stats probes, syscalls;

	c->stats_read = c->opened_read &&
			read_stats(c->tracer, TRACER_PROBE_PROGRAMS, &probes) == 0 &&
			read_stats(c->tracer, TRACER_SYSCALL_PROGRAMS, &syscalls) == 0;
	close(c->stats_fd);
	c->stats_fd = -1;
	if (!c->stats_read)
		return;
	if (probes.runs > c->probes.runs)
		c->bpf_ns_per_run = (double)(probes.run_ns - c->probes.run_ns) /
				    (double)(probes.runs - c->probes.runs);
	if (now > c->opened_ns)
		c->syscall_share = (double)(syscalls.run_ns - c->syscalls.run_ns) /
				   (double)(now - c->opened_ns);
}

int probe_cost__open(struct tracer *t, uint64_t interval_ns, struct probe_cost **out)
{
	struct probe_cost *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->tracer = t;
	c->stats_fd = -1;
	c->window_ns = interval_ns / WINDOW_SHARE < WINDOW_MAX_NS ? interval_ns / WINDOW_SHARE :
								      WINDOW_MAX_NS;
	r = calibrate(c);
	/* Does the kernel give statistics? They stay off until a window. */
	if (r == 0) {
		c->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		r = c->stats_fd < 0 ? -errno : 0;
	}
	if (r < 0) {
		probe_cost__free(c);
		return r;
	}
	close(c->stats_fd);
	c->stats_fd = -1;
	*out = c;
	return 0;
}

const struct trap_prices *probe_cost__prices(const struct probe_cost *c)
{
	return &c->prices;
}

uint64_t probe_cost__due(const struct probe_cost *c)
{
	return c->stats_fd >= 0 ? c->opened_ns + c->window_ns : UINT64_MAX;
}

void probe_cost__tick(struct probe_cost *c, uint64_t now)
{
	if (now >= probe_cost__due(c))
		close_window(c, now);
}

void probe_cost__refresh(struct probe_cost *c)
{
	if (c->stats_fd >= 0)
		close_window(c, monotonic_ns());
	open_window(c);
}

void probe_cost__measure(struct probe_cost *c, uint32_t target, const struct probe_hits *hits,
			 double interval_s, struct tracing_cost *out)
{
	struct probe_hits *last = &c->last[target & (MEMLEAKD_MAX_TARGETS - 1)];
	struct probe_hits d = { hits->entry - last->entry, hits->stepped - last->stepped,
				hits->ret - last->ret };
	double trap_ns;

	*out = (struct tracing_cost){ 0 };
	*last = *hits;
	if (!c->stats_read || interval_s <= 0)
		return;
	trap_ns = (double)d.entry * c->prices.entry_ns + (double)d.stepped * c->prices.stepped_ns +
		  (double)d.ret * c->prices.return_ns;
	out->known = true;
	out->hits = d.entry + d.stepped + d.ret;
	out->stepped_hits = d.stepped;
	out->hits_per_s = (double)out->hits / interval_s;
	out->ns_per_hit = out->hits ? trap_ns / (double)out->hits + c->bpf_ns_per_run : 0;
	out->cpu_share = (double)out->hits * out->ns_per_hit / (interval_s * 1e9);
	out->syscall_cpu_share = c->syscall_share;
}

void probe_cost__free(struct probe_cost *c)
{
	if (!c)
		return;
	if (c->stats_fd >= 0)
		close(c->stats_fd);
	free(c);
}
