/* main.c - the daemon: parse the command line, check the system, load the
 * BPF programs once, then trace the processes asked for (-p, -- COMMAND,
 * --exe and --cgroup, these also as they start), each under its own
 * target index (traced.c), and report every interval until a signal or
 * --duration ends the run with a final report. A process that exits or
 * calls exec gets its final report then, and is let go; the run ends when
 * none is left, unless --exe or --cgroup waits for more. Each step's
 * failure is reported here, once, and leaves the targets as they were
 * (freeing the tracer detaches every probe). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "diff/diff.h"
#include "probes/probe_cost.h"
#include "probes/tracer.h"
#include "report/report_output.h"
#include "serve/http_server.h"
#include "serve/latest_report.h"
#include "snapshot/context_resets.h"
#include "snapshot/ctx_sweep.h"
#include "snapshot/generations.h"
#include "snapshot/mapping_events.h"
#include "snapshot/mappings.h"
#include "snapshot/stack_reclaim.h"
#include "snapshot/trend.h"
#include "symbols/debuginfod_fetch.h"
#include "symbols/symbolizer.h"
#include "target/process_events.h"
#include "target/process_hold.h"
#include "target/process_select.h"
#include "target/target.h"
#include "unwind/unwind_publisher.h"
#include "util/clock.h"
#include "util/log.h"

/* How long a process just started may take to load its objects. */
#define LOAD_TIMEOUT_MS 5000
/* Exit status of --fail-on-leak when a leak remained. */
#define EXIT_LEAK 3
/* Reports the live page charts: an hour at the default interval. */
#define HISTORY_POINTS 360

/* The command started by -- COMMAND, and how it ended. */
struct command {
	pid_t pid;
	bool exited;
	int status; /* waitpid's */
};

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

/* The prices of a probe hit, which each report's cost of tracing uses. */
static void price_probes(struct daemon *d)
{
	const struct trap_prices *p;
	int r = probe_cost__open(d->tracer, d->cfg->interval_ns, &d->cost);

	if (r < 0) {
		log_warn("the cost of tracing cannot be measured: %s", strerror(-r));
		return;
	}
	p = probe_cost__prices(d->cost);
	log_debug("a probe's trap costs %.2f us on an emulated instruction, %.2f us "
		  "single-stepped, and %.2f us more on return", p->entry_ns / 1e3,
		  p->stepped_ns / 1e3, p->return_ns / 1e3);
}

/* Load the programs and set up what every process shares. */
static int open_tracer(struct daemon *d)
{
	uint32_t rows = d->cfg->unwind == UNWIND_FP ? 0 : d->cfg->unwind_rows;
	const struct tracer_options options = {
		.max_allocs = d->cfg->max_allocs,
		.max_stacks = d->cfg->max_stacks,
		.unwind_rows = rows,
		.sample_bytes = d->cfg->sample_bytes,
		.contexts = have_contexts(&d->cfg->specs),
		.mappings = !d->cfg->no_mappings,
		.verbose = d->cfg->verbose > 1,
		.processes = d->filter,
	};
	struct tracer_maps maps;
	int r = tracer__open(&options, &d->tracer);

	if (r < 0) {
		log_error("loading the BPF programs failed: %s", strerror(-r));
		return r;
	}
	describe_maps(d);
	price_probes(d);
	r = start_reclaim(d);
	if (r >= 0 && options.contexts)
		r = start_sweep(d, options.max_allocs);
	if (r < 0)
		return r;
	tracer__maps(d->tracer, &maps);
	if (rows) {
		r = unwind_publisher__new(d->tracer, d->cfg->unwind == UNWIND_DWARF, rows,
					  &d->publisher);
		if (r < 0) {
			log_error("cannot start building unwind tables: %s", strerror(-r));
			return r;
		}
	}
	if (options.mappings) {
		r = mapping_events__new(maps.mapping_events, &d->mapping_events);
		if (r < 0) {
			log_error("cannot read mapping events: %s", strerror(-r));
			return r;
		}
	}
	log_debug("attaching %s", tracer__multi(d->tracer) ? "one uprobe_multi link per program "
		  "and object" : "one perf-event uprobe per probe");
	log_debug("probes: %s", tracer__probe_mode(d->tracer));
	if (d->cfg->sample_bytes)
		log_debug("sampling: one allocation per %llu bytes on average; reports show "
			  "estimates", (unsigned long long)d->cfg->sample_bytes);
	return 0;
}

static struct traced *traced_by_pid(const struct daemon *d, int pid)
{
	for (size_t i = 0; i < MEMLEAKD_MAX_TARGETS; i++)
		if (d->traced[i] && d->traced[i]->target->pid == pid)
			return d->traced[i];
	return NULL;
}

/* Trace process pid from now on, under the first free target index. */
static int add_process(struct daemon *d, int pid)
{
	struct traced *p;
	uint32_t index = 0;
	int r;

	while (index < MEMLEAKD_MAX_TARGETS && d->traced[index])
		index++;
	if (index == MEMLEAKD_MAX_TARGETS) {
		log_warn("pid %d: not traced: %d processes are traced already", pid,
			 MEMLEAKD_MAX_TARGETS);
		return -ENOSPC;
	}
	r = traced__open(d, pid, index, &p);
	if (r < 0)
		return r;
	r = traced__attach(d, p);
	if (r < 0) {
		traced__release(d, p, true);
		return r;
	}
	d->traced[index] = p;
	d->n_traced++;
	return 0;
}

/* Does the final report snap say a leak remained? Its verdict, or, for a
 * process that exited, any block it allocated and never freed. */
static bool leak_remains(const struct snapshot *snap)
{
	return snap->process.verdict == VERDICT_LEAK ||
	       (snap->end == END_TARGET_EXITED && snap->totals.outstanding_allocs);
}

/* Render a round's reports for the endpoints. A failure is reported; the
 * endpoints keep serving the previous round. */
static void publish(struct daemon *d, struct snapshot *const *snaps, size_t n)
{
	struct metrics_process procs[MEMLEAKD_MAX_TARGETS];
	uint64_t start = monotonic_ns();
	int r;

	for (size_t i = 0; i < n; i++)
		procs[i] = (struct metrics_process){ .snap = snaps[i], .comm = snaps[i]->comm };
	r = latest_report__publish(d->latest, procs, n, d->cfg->top,
				   (double)d->cfg->interval_ns / 1e9, &d->report_options);
	if (r < 0)
		log_warn("rendering the reports for --listen failed: %s", strerror(-r));
	else
		log_debug("reports rendered for --listen in %.1f ms",
			  (double)(monotonic_ns() - start) / 1e6);
}

/* Write snap, report i of round, and log what it took. */
static int write_report(struct daemon *d, struct snapshot *snap, struct snapshot_round *round,
			size_t i)
{
	const struct traced *p = traced_by_pid(d, snap->pid);
	uint64_t begun = monotonic_ns(), writing_ns;
	char whose[32] = "";
	struct snapshot shown;
	int r;

	snap->round = d->several ? round : NULL;
	snap->round_index = i;
	shown = report_view(snap, d->writer, d->cfg->top);
	r = report_output__write(d->out, &shown, &d->report_options);
	if (r < 0) {
		log_error("writing the report failed: %s", strerror(-r));
		return r;
	}
	writing_ns = monotonic_ns() - begun;
	if (d->several)
		snprintf(whose, sizeof(whose), ", pid %d", snap->pid);
	if (p)
		log_debug("report %u: %zu stacks, %zu shown, %zu records read, in %.1f ms "
			  "(maps %.1f, names %.1f, writing %.1f)%s", snap->report, snap->n_stacks,
			  shown.n_top, snap->records_read,
			  (double)(p->maps_ns + p->names_ns + writing_ns) / 1e6,
			  (double)p->maps_ns / 1e6, (double)p->names_ns / 1e6,
			  (double)writing_ns / 1e6, whose);
	return 0;
}

/* Report list[0..n) together, as one round (struct snapshot_round): with
 * the final reports, end says why the run ended; a process ended alone
 * has its own reason. A process whose report cannot be read is left out,
 * logged. */
static int write_round(struct daemon *d, struct traced *const *list, size_t n,
		       enum end_reason end)
{
	struct snapshot *snaps[MEMLEAKD_MAX_TARGETS];
	struct snapshot_round round = { 0 };
	uint16_t generation;
	int r = 0;

	if (generations__advance(d->generations, monotonic_ns(), &generation))
		tracer__set_generation(d->tracer, generation);
	if (d->mapping_events && mapping_events__drain(d->mapping_events) < 0)
		log_warn("reading mapping events failed");
	/* Once for the round: every process's cost is priced alike. */
	if (d->cost)
		probe_cost__refresh(d->cost);
	for (size_t i = 0; i < n; i++) {
		enum end_reason why = list[i]->end ? list[i]->end : end;
		struct snapshot *snap;

		if (traced__snapshot(d, list[i], why, &snap) < 0)
			continue;
		snaps[round.n_processes] = snap;
		round.pids[round.n_processes++] = snap->pid;
		snapshot_totals_add(&round.totals, &snap->totals);
		round.n_stacks += snap->n_stacks;
		round.n_mappings += snap->n_mappings;
		if (why && leak_remains(snap))
			d->leak_remained = true;
	}
	for (size_t i = 0; i < round.n_processes && r >= 0; i++)
		r = write_report(d, snaps[i], &round, i);
	if (r >= 0 && d->latest && round.n_processes)
		publish(d, snaps, round.n_processes);
	for (size_t i = 0; i < round.n_processes; i++)
		snapshot__free(snaps[i]);
	if (r >= 0 && d->sweep) {
		struct ctx_sweep_stats swept;

		ctx_sweep__take_stats(d->sweep, &swept);
		log_debug("the sweep retired %llu released context records in %.1f ms",
			  (unsigned long long)swept.retired, swept.ns / 1e6);
	}
	if (r >= 0 && end == END_NONE)
		reclaim_stacks(d);
	return r;
}

/* Every process traced, in the order of their indexes. */
static size_t all_traced(const struct daemon *d, struct traced **list)
{
	size_t n = 0;

	for (size_t i = 0; i < MEMLEAKD_MAX_TARGETS; i++)
		if (d->traced[i])
			list[n++] = d->traced[i];
	return n;
}

/* p exited or called exec: its final report, then let it go. */
static int end_process(struct daemon *d, struct traced *p, enum end_reason why,
		       struct command *cmd)
{
	int pid = p->target->pid, r;

	if (why == END_TARGET_EXITED)
		log_info("pid %d exited", pid);
	else
		log_info("pid %d called exec: the program traced is gone; its final report "
			 "follows (run memleakd again to trace the new program)", pid);
	p->end = why;
	r = write_round(d, &p, 1, why);
	d->traced[p->target->index] = NULL;
	d->n_traced--;
	traced__release(d, p, true);
	if (cmd && cmd->pid == pid && why == END_TARGET_EXITED &&
	    waitpid(pid, &cmd->status, 0) == pid)
		cmd->exited = true;
	return r;
}

/* Hold process pid, just started or found, until its objects are loaded,
 * and trace it. */
static int take_started(struct daemon *d, int pid)
{
	struct process_hold *h;
	int r = process_hold__seize(pid, &h);

	if (r < 0) {
		log_debug("pid %d: cannot hold it as it starts (%s): attaching as it runs", pid,
			  strerror(-r));
		return add_process(d, pid);
	}
	r = process_hold__until_loaded(h, LOAD_TIMEOUT_MS);
	if (r != -ESRCH)
		r = add_process(d, pid);
	process_hold__release(h);
	return r;
}

/* A process started (struct process_event) that --exe and --cgroup may want. */
static int on_start(const struct process_event *e, void *ctx)
{
	struct daemon *d = ctx;
	struct target *t;
	bool runs;

	if (!(e->flags & PROCESS_F_MATCH) || (pid_t)e->pid == getpid() ||
	    traced_by_pid(d, (int)e->pid))
		return 0;
	/* The programs compare inodes; the devices are compared here. */
	if (target__open((int)e->pid, 0, &t) < 0)
		return 0;
	runs = process_select_runs_file(d->filter, t->proc_fd);
	target__free(t);
	if (runs)
		take_started(d, (int)e->pid);
	return 0;
}

/* The processes --exe and --cgroup select: watched as they start, and
 * those running now. */
static int watch_starts(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	struct tracer_maps maps;
	int *pids = NULL;
	size_t n = 0;
	int r;

	tracer__maps(d->tracer, &maps);
	r = process_events__new(maps.process_events, on_start, d, &d->starts);
	if (r == 0)
		r = tracer__watch_processes(d->tracer);
	if (r < 0) {
		log_error("watching processes start failed: %s", strerror(-r));
		return r;
	}
	r = process_select_scan(d->filter, cfg->cgroups, cfg->n_cgroups, &pids, &n);
	if (r < 0) {
		log_error("listing the processes to trace failed: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < n; i++)
		if (!traced_by_pid(d, pids[i]))
			add_process(d, pids[i]);
	free(pids);
	if (!d->n_traced)
		log_info("no process to trace yet: waiting for one to start");
	return 0;
}

/* The uid and gid that sudo says invoked us, or -1. */
static void invoker(uid_t *uid, gid_t *gid)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");

	*uid = u && *u ? (uid_t)strtoul(u, NULL, 10) : (uid_t)-1;
	*gid = g && *g ? (gid_t)strtoul(g, NULL, 10) : (gid_t)-1;
}

/* Start the command, held until its objects are loaded, and trace it
 * from its first instruction of its own. */
static int start_command(struct daemon *d, struct command *cmd)
{
	struct process_hold *h;
	uid_t uid;
	gid_t gid;
	int r;

	invoker(&uid, &gid);
	r = process_hold__spawn(d->cfg->command, uid, gid, &h);
	if (r < 0) {
		log_error("%s: cannot start it: %s", d->cfg->command[0], strerror(-r));
		return r;
	}
	cmd->pid = process_hold__pid(h);
	r = process_hold__until_loaded(h, LOAD_TIMEOUT_MS);
	if (r == -ESRCH) {
		cmd->exited = true;
		cmd->status = process_hold__status(h);
		log_warn("%s exited before its objects were loaded", d->cfg->command[0]);
		process_hold__release(h);
		return 0;
	}
	if (r < 0)
		log_warn("%s: its objects may not all be loaded (%s): attaching",
			 d->cfg->command[0], strerror(-r));
	r = add_process(d, cmd->pid);
	if (r < 0)
		kill(cmd->pid, SIGKILL);
	process_hold__release(h);
	if (r < 0 && waitpid(cmd->pid, &cmd->status, 0) == cmd->pid)
		cmd->exited = true;
	return r;
}

/* The descriptors the loop polls besides the processes' own. */
enum {
	POLL_SIGNAL,
	POLL_UNWIND,
	POLL_MAPPINGS,
	POLL_SWEEP,
	POLL_EXEC,
	POLL_RECLAIM,
	POLL_STARTS,
	POLL_FIXED,
};

/* The traced processes that called exec: their final reports. */
static int handle_execs(struct daemon *d, struct command *cmd)
{
	uint32_t index;
	int r = 0;

	while (r >= 0 && tracer__next_exec(d->tracer, &index) == 0)
		if (d->traced[index])
			r = end_process(d, d->traced[index], END_TARGET_EXEC, cmd);
	return r;
}

/* Wait until the next report is due or the run ends; returns why it ended,
 * END_NONE for a periodic report, END_TARGET_EXITED once no process is
 * left to trace (each had its final report). Processes that exit or call
 * exec meanwhile get theirs. */
static enum end_reason wait_for(struct daemon *d, uint64_t deadline, uint64_t stop_at,
				struct command *cmd)
{
	for (;;) {
		struct pollfd fds[POLL_FIXED + MEMLEAKD_MAX_TARGETS] = {
			[POLL_SIGNAL] = { .fd = d->signal_fd, .events = POLLIN },
			[POLL_UNWIND] = { .fd = d->publisher ? unwind_publisher__events_fd(d->publisher) :
					  -1, .events = POLLIN },
			[POLL_MAPPINGS] = { .fd = d->mapping_events ?
					    mapping_events__fd(d->mapping_events) : -1,
					    .events = POLLIN },
			[POLL_SWEEP] = { .fd = d->sweep ? ctx_sweep__events_fd(d->sweep) : -1,
					 .events = POLLIN },
			[POLL_EXEC] = { .fd = tracer__exec_events_fd(d->tracer), .events = POLLIN },
			[POLL_RECLAIM] = { .fd = stack_reclaim__events_fd(d->reclaim), .events = POLLIN },
			[POLL_STARTS] = { .fd = d->starts ? process_events__fd(d->starts) : -1,
					  .events = POLLIN },
		};
		struct traced *polled[MEMLEAKD_MAX_TARGETS];
		uint64_t now = monotonic_ns();
		uint64_t until = stop_at && stop_at < deadline ? stop_at : deadline;
		uint64_t window_end = d->cost ? probe_cost__due(d->cost) : UINT64_MAX;
		size_t n_polled = all_traced(d, polled);
		int timeout, n;

		if (!d->n_traced && !d->watching)
			return END_TARGET_EXITED;
		for (size_t i = 0; i < n_polled; i++)
			fds[POLL_FIXED + i] = (struct pollfd){ .fd = polled[i]->target->pidfd,
							       .events = POLLIN };
		/* Also woken to close the window of BPF statistics. */
		if (window_end < until)
			until = window_end;
		timeout = now >= until ? 0 : (int)((until - now + 999999) / 1000000);
		n = poll(fds, POLL_FIXED + n_polled, timeout);
		if (n < 0 && errno != EINTR)
			return END_SIGNAL;
		if (n > 0 && fds[POLL_SIGNAL].revents)
			return END_SIGNAL;
		if (n > 0 && fds[POLL_EXEC].revents && handle_execs(d, cmd) < 0)
			return END_SIGNAL;
		for (size_t i = 0; n > 0 && i < n_polled; i++)
			if (fds[POLL_FIXED + i].revents && d->traced[polled[i]->target->index] == polled[i] &&
			    end_process(d, polled[i], END_TARGET_EXITED, cmd) < 0)
				return END_SIGNAL;
		if (n > 0 && fds[POLL_UNWIND].revents)
			unwind_publisher__handle_events(d->publisher);
		if (n > 0 && fds[POLL_MAPPINGS].revents &&
		    mapping_events__drain(d->mapping_events) < 0)
			log_warn("reading mapping events failed");
		if (n > 0 && fds[POLL_SWEEP].revents)
			sweep_if_due(d);
		if (n > 0 && fds[POLL_RECLAIM].revents)
			reclaim_stacks(d);
		if (n > 0 && fds[POLL_STARTS].revents && process_events__drain(d->starts) < 0)
			log_warn("reading process starts failed");
		if (d->cost)
			probe_cost__tick(d->cost, monotonic_ns());
		if (stop_at && monotonic_ns() >= stop_at)
			return END_DURATION;
		if (monotonic_ns() >= deadline)
			return END_NONE;
	}
}

static int run(struct daemon *d, struct command *cmd)
{
	uint64_t start = monotonic_ns();
	uint64_t stop_at = d->cfg->duration_ns ? start + d->cfg->duration_ns : 0;
	uint64_t deadline = start + d->cfg->interval_ns;
	struct traced *list[MEMLEAKD_MAX_TARGETS];
	enum end_reason end;
	int r;

	if (d->cost)
		probe_cost__refresh(d->cost);
	while ((end = wait_for(d, deadline, stop_at, cmd)) == END_NONE) {
		size_t n = all_traced(d, list);

		r = n ? write_round(d, list, n, END_NONE) : 0;
		if (r < 0)
			return r;
		deadline += d->cfg->interval_ns;
	}
	if (end == END_TARGET_EXITED)
		return 0;
	/* Frozen maps: the final totals and stacks describe one moment. */
	tracer__pause(d->tracer);
	return write_round(d, list, all_traced(d, list), end);
}

static int open_output(struct daemon *d)
{
	const char *what;
	int r = report_output__open(d->cfg->output, d->cfg->keep, d->writer, &d->out, &what);

	/* EINVAL: what says it all ("--keep needs a directory"). */
	if (r == -EINVAL)
		log_error("--output: %s: %s", d->cfg->output, what);
	else if (r < 0)
		log_error("--output: %s: %s: %s", d->cfg->output, what, strerror(-r));
	/* One document holds one process's report: several need a file each. */
	if (r >= 0 && d->several && d->writer->document && !report_output__directory(d->out)) {
		log_error("--format %s writes one document per process: with several processes, "
			  "give a directory (-o DIR/)", d->cfg->format);
		r = -EINVAL;
	}
	return r;
}

/* What --exe and --cgroup name, as the kernel identifies them. */
static int resolve_filter(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	char *error = NULL;
	int r;

	if (!cfg->n_exes && !cfg->n_cgroups)
		return 0;
	d->filter = calloc(1, sizeof(*d->filter));
	if (!d->filter)
		return -ENOMEM;
	r = process_select_resolve(cfg->exes, cfg->n_exes, cfg->cgroups, cfg->n_cgroups,
				   d->filter, &error);
	if (r < 0)
		log_error("%s", error ? error : strerror(-r));
	free(error);
	d->watching = true;
	return r;
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

static int setup(struct daemon *d, struct command *cmd)
{
	const struct config *cfg = d->cfg;
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
		.demangle = !cfg->no_demangle,
		.debug_dirs = cfg->debug_dirs,
		.n_debug_dirs = cfg->n_debug_dirs,
		.debuginfod = debuginfod_fetch__configured(),
	});
	d->resets = context_resets__new();
	d->generations = generations__new(monotonic_ns());
	if (!d->symbolizer || !d->resets || !d->generations)
		return -ENOMEM;
	d->several = cfg->n_pids > 1 || cfg->n_exes || cfg->n_cgroups;
	r = resolve_filter(d);
	if (r >= 0)
		r = open_output(d);
	if (r >= 0 && cfg->listen)
		r = start_server(d);
	if (r >= 0)
		r = open_tracer(d);
	if (r < 0)
		return r;
	if (cfg->command)
		return start_command(d, cmd);
	for (size_t i = 0; i < cfg->n_pids; i++) {
		r = add_process(d, cfg->pids[i]);
		if (r < 0)
			return r;
	}
	return d->filter ? watch_starts(d) : 0;
}

static void teardown(struct daemon *d)
{
	http_server__free(d->server);
	latest_report__free(d->latest);
	process_events__free(d->starts);
	for (size_t i = 0; i < MEMLEAKD_MAX_TARGETS; i++)
		if (d->traced[i])
			traced__release(d, d->traced[i], false);
	unwind_publisher__free(d->publisher);
	mapping_events__free(d->mapping_events);
	tracer__free(d->tracer);
	symbolizer__free(d->symbolizer);
	context_resets__free(d->resets);
	ctx_sweep__free(d->sweep);
	stack_reclaim__free(d->reclaim);
	probe_cost__free(d->cost);
	generations__free(d->generations);
	report_output__close(d->out);
	free(d->filter);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
}

/* The exit status: 1 when the run failed; with -- COMMAND, the command's
 * (128 + the signal that killed it, as shells say); EXIT_LEAK with
 * --fail-on-leak when a leak remained (and the command succeeded). */
static int exit_status(const struct daemon *d, const struct command *cmd, int r)
{
	int status = 0;

	if (r < 0)
		return 1;
	if (cmd->pid && cmd->exited)
		status = WIFEXITED(cmd->status) ? WEXITSTATUS(cmd->status) :
			 128 + WTERMSIG(cmd->status);
	if (!status && d->cfg->fail_on_leak && d->leak_remained)
		status = EXIT_LEAK;
	return status;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct daemon d = { .cfg = &cfg, .signal_fd = -1 };
	struct command cmd = { 0 };
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
	r = setup(&d, &cmd);
	if (r >= 0)
		r = run(&d, &cmd);
	/* The command outlives a run that failed or was stopped: its status
	 * is waited for once we let it go. */
	if (cmd.pid && !cmd.exited && r >= 0 && waitpid(cmd.pid, &cmd.status, WNOHANG) == cmd.pid)
		cmd.exited = true;
	teardown(&d);
	config_clear(&cfg);
	return exit_status(&d, &cmd, r);
}
