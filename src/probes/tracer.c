/* tracer.c - load bpf/memleakd.bpf.c through its skeleton, size its maps,
 * and attach uprobes: one uprobe_multi link per program and object where
 * the kernel has them, with allocating functions in uprobe sessions where
 * it has those, else one perf-event uprobe per probe (never tracefs files,
 * which may not be mounted); and the programs that watch mappings on the
 * syscall tracepoints, BTF-typed, which need no tracefs either, as the
 * programs that see processes start do. Each probe link is kept with the
 * target it serves, so that a process gone is detached alone, and freeing
 * the tracer detaches everything and leaves the targets untouched. */
#include "probes/tracer.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/types.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "util/array.h"
#include "util/clock.h"
#include "memleakd.h"
#include "memleakd.skel.h"
#include "probes/sampling.h"
#include "probes/uprobe_multi.h"

/* The most context records a CPU adds between two signals to user space. */
#define CTX_SIGNAL_STEP 4096

/* The ring buffer of mapping events, and how full it gets before an event
 * wakes the daemon: a quarter leaves room for the events that come while
 * it wakes. */
#define MAPPING_RING_BYTES (4u << 20)
#define MAPPING_WAKEUP_BYTES (MAPPING_RING_BYTES / 4)

/* How probes go in, from the oldest kernels' way to the newest. */
enum probe_mode {
	PROBES_PERF,    /* one perf-event uprobe per probe, entry and return */
	PROBES_MULTI,   /* uprobe_multi links, entry and return */
	PROBES_SESSION, /* uprobe_multi links, sessions for allocating functions */
};

/* Links that serve no one target: the tracepoints' programs. */
#define NO_TARGET UINT32_MAX

/* One attachment: a libbpf link (perf-event uprobes, tracepoints) or a
 * uprobe_multi link's descriptor, and the target it serves. */
struct tracer_link {
	struct bpf_link *link;
	int fd;
	uint32_t target;
};

struct tracer {
	struct memleakd_bpf *skel;
	enum probe_mode mode;
	struct tracer_link *links;
	size_t n_links, cap_links;
	bool mappings;          /* the mapping programs are loaded */
	bool watching;          /* and attached */
	bool watching_exec;     /* the exec program is attached */
	struct ring_buffer *exec_reader; /* of exec_events, made at the first read */
	uint32_t execs[MEMLEAKD_MAX_TARGETS]; /* targets read that called exec */
	size_t n_execs;
};

static bool libbpf_verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN && !libbpf_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bool has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

int tracer__preflight(const char **why)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data) < 0 ||
	    !(has_cap(data, CAP_SYS_ADMIN) ||
	      (has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON))) ||
	    !has_cap(data, CAP_SYS_PTRACE)) {
		*why = "memleakd needs root, or CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE "
		       "(run it with sudo)";
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		*why = "the kernel has no BTF (/sys/kernel/btf/vmlinux is missing): memleakd "
		       "needs a kernel built with CONFIG_DEBUG_INFO_BTF";
		return -ENOTSUP;
	}
	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK)) {
		*why = "the kernel has no perf-event uprobe support "
		       "(/sys/bus/event_source/devices/uprobe is missing): memleakd needs "
		       "CONFIG_UPROBE_EVENTS";
		return -ENOTSUP;
	}
	return 0;
}

/* max_allocs and the room for the records a free keeps (struct
 * alloc_info: a share of max_allocs, the same for each CPU), split into
 * allocs, a power of two, and allocs_spill, the rest (at least 1: a power
 * of two is halved), the rest's share of the keys in proportion. Buckets
 * then number at most 4/3 of the entries. With contexts, ctx_allocs holds
 * max_allocs, and a CPU signals user space each time its records grow by
 * an eighth of its share (struct record_counts), 4096 at most: the sweep
 * of released ones starts before the map is full. */
static int size_alloc_maps(struct memleakd_bpf *skel, const struct tracer_options *o)
{
	int ncpus = libbpf_num_possible_cpus();
	int64_t budget = ncpus > 0 ? (int64_t)(o->max_allocs / MEMLEAKD_FREED_SHARE) / ncpus : 0;
	uint32_t total = o->max_allocs + (uint32_t)(budget * ncpus);
	uint32_t first = 1u << (31 - __builtin_clz(total));
	uint32_t step;
	int r;

	if (first == total && first > 1)
		first /= 2;
	skel->rodata->freed_budget = budget;
	step = ncpus > 0 ? o->max_allocs / 8 / (uint32_t)ncpus : 1;
	skel->rodata->ctx_signal_step = step < 1 ? 1 : step > CTX_SIGNAL_STEP ? CTX_SIGNAL_STEP : step;
	skel->rodata->spill_share = (uint32_t)(((uint64_t)(total - first) << 32) / total);
	r = bpf_map__set_max_entries(skel->maps.allocs, first);
	if (!r)
		r = bpf_map__set_max_entries(skel->maps.allocs_spill,
					     total > first ? total - first : 1);
	if (!r)
		r = bpf_map__set_max_entries(skel->maps.ctx_allocs,
					     o->contexts ? o->max_allocs : 1);
	return r;
}

static int size_maps(struct memleakd_bpf *skel, const struct tracer_options *o)
{
	uint32_t unwind_rows = o->unwind_rows;
	int r = size_alloc_maps(skel, o);

	if (!r)
		r = bpf_map__set_max_entries(skel->maps.unwind_rows, unwind_rows ? unwind_rows : 1);
	if (!r && unwind_rows)
		r = bpf_map__set_max_entries(skel->maps.unwind_mappings,
					     2 * MEMLEAKD_MAX_MAPPINGS * MEMLEAKD_MAX_TARGETS);
	if (!r && o->mappings)
		r = bpf_map__set_max_entries(skel->maps.mapping_events, MAPPING_RING_BYTES);
	skel->rodata->stack_signal_step = o->max_stacks / 8 ? o->max_stacks / 8 : 1;
	if (!r)
		r = bpf_map__set_max_entries(skel->maps.stacks, o->max_stacks);
	if (!r)
		r = bpf_map__set_max_entries(skel->maps.stack_totals,
					     o->max_stacks * TRACER_STACK_GENERATIONS);
	return r;
}

static bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v;
}

/* The newest way the kernel offers, unless the environment forbids it
 * (tests and benchmarks take the older kernels' paths so). */
static enum probe_mode probe_mode(void)
{
	enum uprobe_links links;

	if (env_set("MEMLEAKD_NO_UPROBE_MULTI"))
		return PROBES_PERF;
	links = uprobe_links_supported();
	if (links == UPROBE_LINKS_SESSION && !env_set("MEMLEAKD_NO_UPROBE_SESSION"))
		return PROBES_SESSION;
	return links == UPROBE_LINKS_NONE ? PROBES_PERF : PROBES_MULTI;
}

/* Does the kernel have bpf_preempt_disable and bpf_preempt_enable (Linux
 * 6.10)? */
static bool preempt_kfuncs_supported(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found = btf && btf__find_by_name_kind(btf, "bpf_preempt_disable", BTF_KIND_FUNC) > 0 &&
		     btf__find_by_name_kind(btf, "bpf_preempt_enable", BTF_KIND_FUNC) > 0;

	btf__free(btf);
	return found;
}

/* Can the kernel run the sweep program? It is BPF_PROG_TYPE_SYSCALL and
 * calls bpf_preempt_disable. MEMLEAKD_NO_SWEEP=1 says no (tests show what
 * the sweep saves so). */
static bool sweep_supported(bool preempt_kfuncs)
{
	return preempt_kfuncs && !env_set("MEMLEAKD_NO_SWEEP") &&
	       libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SYSCALL, NULL) == 1;
}

/* Programs are loaded for the links they go in; the allocation programs
 * of the other mode are not loaded at all, nor the mapping programs
 * without mappings, nor the sweep without contexts. */
static int prepare_programs(struct memleakd_bpf *skel, enum probe_mode mode,
			    const struct tracer_options *o)
{
	struct bpf_program *progs[] = { skel->progs.alloc_enter, skel->progs.alloc_return,
					 skel->progs.free_enter, skel->progs.context_enter,
					 skel->progs.maps_change };
	bool session = mode == PROBES_SESSION;
	int r;

	r = bpf_program__set_autoload(skel->progs.sweep,
				      o->contexts && sweep_supported(skel->rodata->preempt_kfuncs));
	if (!r)
		r = bpf_program__set_autoload(skel->progs.alloc_session, session);
	if (!r)
		r = bpf_program__set_autoload(skel->progs.alloc_enter, !session);
	if (!r)
		r = bpf_program__set_autoload(skel->progs.alloc_return, !session);
	if (!r && session)
		r = bpf_program__set_expected_attach_type(skel->progs.alloc_session,
							  UPROBE_SESSION_ATTACH_TYPE);
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]) && !r && mode != PROBES_PERF; i++)
		r = bpf_program__set_expected_attach_type(progs[i], UPROBE_MULTI_ATTACH_TYPE);
	if (!r)
		r = bpf_program__set_autoload(skel->progs.mapping_sys_enter, o->mappings);
	if (!r)
		r = bpf_program__set_autoload(skel->progs.mapping_sys_exit, o->mappings);
	return r;
}

/* What the programs that see processes start look for. */
static void set_process_filter(struct memleakd_bpf *skel, const struct process_filter *f)
{
	if (!f)
		return;
	skel->rodata->n_watched_files = (uint32_t)f->n_files;
	for (size_t i = 0; i < f->n_files && i < MEMLEAKD_MAX_WATCHED; i++)
		skel->rodata->watched_ino[i] = f->ino[i];
	skel->rodata->n_watched_cgroups = (uint32_t)f->n_cgroups;
	for (size_t i = 0; i < f->n_cgroups && i < MEMLEAKD_MAX_WATCHED; i++)
		skel->rodata->watched_cgroups[i] = f->cgroups[i];
	skel->rodata->follow_forks = f->follow_forks;
}

/* Read-only settings, fixed before the programs are verified. */
static void set_rodata(struct memleakd_bpf *skel, const struct tracer_options *o)
{
	skel->rodata->preempt_kfuncs = preempt_kfuncs_supported();
	skel->rodata->unwind_tables = o->unwind_rows > 0;
	skel->rodata->contexts = o->contexts;
	skel->rodata->time_base_ns = monotonic_ns();
	skel->rodata->empty_probes = env_set("MEMLEAKD_EMPTY_PROBES");
	skel->rodata->sample_bytes = o->sample_bytes;
	skel->rodata->mapping_wakeup_bytes = MAPPING_WAKEUP_BYTES;
	if (o->sample_bytes)
		sampling_fill_countdowns((uint64_t *)skel->rodata->sample_countdowns,
					 MEMLEAKD_SAMPLE_TABLE, o->sample_bytes);
	set_process_filter(skel, o->processes);
}

int tracer__open(const struct tracer_options *o, struct tracer **out)
{
	struct tracer *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	libbpf_verbose = o->verbose;
	libbpf_set_print(libbpf_print);
	t->skel = memleakd_bpf__open();
	if (!t->skel) {
		r = -errno;
		goto fail;
	}
	t->mode = probe_mode();
	set_rodata(t->skel, o);
	r = size_maps(t->skel, o);
	if (!r)
		r = prepare_programs(t->skel, t->mode, o);
	if (r < 0)
		goto fail;
	r = memleakd_bpf__load(t->skel);
	if (r < 0)
		goto fail;
	t->mappings = o->mappings;
	*out = t;
	return 0;
fail:
	tracer__free(t);
	return r;
}

static void link_close(const struct tracer_link *l)
{
	if (l->link)
		bpf_link__destroy(l->link);
	else
		close(l->fd);
}

/* Keep l, which serves target; a link that finds no room is closed. */
static int keep_link(struct tracer *t, struct tracer_link l)
{
	if (array_grow((void **)&t->links, &t->cap_links, t->n_links, sizeof(*t->links), 32)) {
		link_close(&l);
		return -ENOMEM;
	}
	t->links[t->n_links++] = l;
	return 0;
}

static int attach_one(struct tracer *t, const struct bpf_program *prog, bool retprobe, int pid,
		      uint32_t target, const struct attach_point *p)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = p->cookie, .retprobe = retprobe);
	struct bpf_link *link;

	link = bpf_program__attach_uprobe_opts(prog, pid, p->path, p->offset, &opts);
	if (!link)
		return -errno;
	return keep_link(t, (struct tracer_link){ .link = link, .fd = -1, .target = target });
}

/* The program for a probe of this kind. Allocating kinds, and resets and
 * deletes (the frees inside them are the allocator's), take alloc_return
 * too. */
static const struct bpf_program *entry_program(const struct tracer *t, uint64_t cookie)
{
	switch (COOKIE_FIELD(cookie, COOKIE_KIND_SHIFT)) {
	case PROBE_FREE:
		return t->skel->progs.free_enter;
	case PROBE_REPARENT:
		return t->skel->progs.context_enter;
	case PROBE_MAPS_CHANGE:
		return t->skel->progs.maps_change;
	case PROBE_ALLOC:
	case PROBE_REALLOC:
	case PROBE_RESIZE:
	case PROBE_CREATE:
	case PROBE_RESET:
	case PROBE_DELETE:
		return t->mode == PROBES_SESSION ? t->skel->progs.alloc_session :
						   t->skel->progs.alloc_enter;
	default:
		return NULL;
	}
}

static int attach_perf(struct tracer *t, int pid, uint32_t target, const struct attach_point *p)
{
	const struct bpf_program *prog = entry_program(t, p->cookie);
	int r;

	if (!prog)
		return -EINVAL;
	r = attach_one(t, prog, false, pid, target, p);
	/* Both at the same offset: the kernel shares one breakpoint. */
	if (r == 0 && prog == t->skel->progs.alloc_enter)
		r = attach_one(t, t->skel->progs.alloc_return, true, pid, target, p);
	return r;
}

static enum uprobe_link_kind link_kind(const struct tracer *t, const struct bpf_program *prog)
{
	if (prog == t->skel->progs.alloc_return)
		return UPROBE_LINK_RETURN;
	return prog == t->skel->progs.alloc_session ? UPROBE_LINK_SESSION : UPROBE_LINK_ENTRY;
}

/* One link of prog at every point of points[0..n) that is in path and
 * that prog serves (alloc_return: the points of alloc_enter, as return
 * probes). *failed is one of them when it fails. */
static int attach_multi_group(struct tracer *t, int pid, uint32_t target,
			      const struct bpf_program *prog, const struct attach_point *points,
			      size_t n, const char *path, uint64_t *offsets, uint64_t *cookies,
			      size_t *failed)
{
	enum uprobe_link_kind kind = link_kind(t, prog);
	const struct bpf_program *entry = kind == UPROBE_LINK_RETURN ? t->skel->progs.alloc_enter :
								       prog;
	size_t count = 0;
	int fd;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(points[i].path, path) || entry_program(t, points[i].cookie) != entry)
			continue;
		offsets[count] = points[i].offset;
		cookies[count++] = points[i].cookie;
		*failed = i;
	}
	if (!count)
		return 0;
	fd = uprobe_multi_attach(bpf_program__fd(prog), pid, path, offsets, cookies, count, kind);
	return fd < 0 ? fd : keep_link(t, (struct tracer_link){ .fd = fd, .target = target });
}

/* For each object, one link per program. */
static int attach_multi(struct tracer *t, int pid, uint32_t target,
			const struct attach_point *points, size_t n, size_t *failed)
{
	bool session = t->mode == PROBES_SESSION;
	/* A session program sees returns too: no return program. */
	const struct bpf_program *progs[] = {
		session ? t->skel->progs.alloc_session : t->skel->progs.alloc_enter,
		session ? NULL : t->skel->progs.alloc_return,
		t->skel->progs.free_enter, t->skel->progs.context_enter, t->skel->progs.maps_change,
	};
	uint64_t *offsets = calloc(n + 1, sizeof(*offsets));
	uint64_t *cookies = calloc(n + 1, sizeof(*cookies));
	int r = offsets && cookies ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && !r; i++) {
		bool first = true;

		for (size_t j = 0; j < i && first; j++)
			first = strcmp(points[j].path, points[i].path) != 0;
		for (size_t k = 0; first && k < sizeof(progs) / sizeof(progs[0]) && !r; k++)
			if (progs[k])
				r = attach_multi_group(t, pid, target, progs[k], points, n,
						       points[i].path, offsets, cookies, failed);
	}
	free(offsets);
	free(cookies);
	return r;
}

int tracer__attach(struct tracer *t, int pid, uint32_t target, const struct attach_point *points,
		   size_t n, size_t *failed)
{
	int r = 0;

	if (t->mode != PROBES_PERF)
		return attach_multi(t, pid, target, points, n, failed);
	for (size_t i = 0; i < n && !r; i++) {
		*failed = i;
		r = attach_perf(t, pid, target, &points[i]);
	}
	return r;
}

bool tracer__preempt_off(const struct tracer *t)
{
	return t->skel->rodata->preempt_kfuncs;
}

bool tracer__multi(const struct tracer *t)
{
	return t->mode != PROBES_PERF;
}

const char *tracer__probe_mode(const struct tracer *t)
{
	switch (t->mode) {
	case PROBES_SESSION: return "uprobe sessions";
	case PROBES_MULTI: return "entry and return probes";
	default: return "perf-event entry and return probes";
	}
}

size_t tracer__program_fds(const struct tracer *t, enum tracer_programs g, int *fds, size_t cap)
{
	struct bpf_program *probes[] = {
		t->skel->progs.alloc_enter, t->skel->progs.alloc_return,
		t->skel->progs.alloc_session, t->skel->progs.free_enter,
		t->skel->progs.context_enter,
	};
	struct bpf_program *syscalls[] = {
		t->skel->progs.mapping_sys_enter, t->skel->progs.mapping_sys_exit,
	};
	struct bpf_program **progs = g == TRACER_PROBE_PROGRAMS ? probes : syscalls;
	size_t n = g == TRACER_PROBE_PROGRAMS ? sizeof(probes) / sizeof(probes[0]) :
						sizeof(syscalls) / sizeof(syscalls[0]);
	size_t found = 0;

	for (size_t i = 0; i < n && found < cap; i++) {
		int fd = bpf_program__fd(progs[i]);

		if (fd >= 0)
			fds[found++] = fd;
	}
	return found;
}

struct bpf_link *tracer__attach_calibration(struct tracer *t, uint64_t offset, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);

	return bpf_program__attach_uprobe_opts(t->skel->progs.calibrate, 0, "/proc/self/exe",
					       offset, &opts);
}

static int attach_program(struct tracer *t, struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach(prog);

	if (!link)
		return -errno;
	return keep_link(t, (struct tracer_link){ .link = link, .fd = -1, .target = NO_TARGET });
}

int tracer__watch_mappings(struct tracer *t, int pid, uint32_t target)
{
	uint32_t tgid = (uint32_t)pid;
	int r;

	if (!t->mappings || target >= MEMLEAKD_MAX_TARGETS)
		return -EINVAL;
	if (bpf_map__update_elem(t->skel->maps.mapping_targets, &tgid, sizeof(tgid), &target,
				 sizeof(target), BPF_ANY))
		return -errno;
	if (t->watching)
		return 0;
	r = attach_program(t, t->skel->progs.mapping_sys_enter);
	if (!r)
		r = attach_program(t, t->skel->progs.mapping_sys_exit);
	t->watching = !r;
	return r;
}

int tracer__watch_exec(struct tracer *t, int pid, uint32_t target)
{
	uint32_t tgid = (uint32_t)pid;
	int r;

	if (target >= MEMLEAKD_MAX_TARGETS)
		return -EINVAL;
	if (bpf_map__update_elem(t->skel->maps.exec_targets, &tgid, sizeof(tgid), &target,
				 sizeof(target), BPF_ANY))
		return -errno;
	if (t->watching_exec)
		return 0;
	r = attach_program(t, t->skel->progs.target_exec);
	t->watching_exec = !r;
	return r;
}

int tracer__exec_events_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.exec_events);
}

static int exec_event(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;

	if (size < sizeof(uint32_t) || t->n_execs == MEMLEAKD_MAX_TARGETS)
		return 0;
	t->execs[t->n_execs++] = *(const uint32_t *)data % MEMLEAKD_MAX_TARGETS;
	return 0;
}

int tracer__next_exec(struct tracer *t, uint32_t *target)
{
	if (!t->exec_reader) {
		t->exec_reader = ring_buffer__new(bpf_map__fd(t->skel->maps.exec_events), exec_event,
						  t, NULL);
		if (!t->exec_reader)
			return -errno;
	}
	if (!t->n_execs && ring_buffer__consume(t->exec_reader) < 0)
		return -errno;
	if (!t->n_execs)
		return -EAGAIN;
	*target = t->execs[0];
	memmove(t->execs, t->execs + 1, --t->n_execs * sizeof(t->execs[0]));
	return 0;
}

int tracer__watch_processes(struct tracer *t)
{
	int r = attach_program(t, t->skel->progs.process_exec);

	if (!r)
		r = attach_program(t, t->skel->progs.process_fork);
	if (!r)
		r = attach_program(t, t->skel->progs.process_moved);
	return r;
}

uint64_t tracer__process_events_dropped(const struct tracer *t)
{
	return __atomic_load_n(&t->skel->bss->process_events_dropped, __ATOMIC_RELAXED);
}

/* Close the links of target, keeping the others in their order. */
static void detach_target(struct tracer *t, uint32_t target)
{
	size_t kept = 0;

	for (size_t i = 0; i < t->n_links; i++) {
		if (t->links[i].target == target)
			link_close(&t->links[i]);
		else
			t->links[kept++] = t->links[i];
	}
	t->n_links = kept;
}

void tracer__remove_target(struct tracer *t, int pid, uint32_t target)
{
	uint32_t tgid = (uint32_t)pid;

	if (target >= MEMLEAKD_MAX_TARGETS)
		return;
	bpf_map__delete_elem(t->skel->maps.exec_targets, &tgid, sizeof(tgid), 0);
	if (t->mappings)
		bpf_map__delete_elem(t->skel->maps.mapping_targets, &tgid, sizeof(tgid), 0);
	detach_target(t, target);
	for (uint32_t slot = 0; slot < MEMLEAKD_MAX_CTX_GLOBALS; slot++)
		t->skel->bss->ctx_globals[target][slot] = 0;
	t->skel->bss->allocator_callers[target].start = 0;
	t->skel->bss->allocator_callers[target].end = 0;
	t->skel->bss->unwind_count[target * 2] = 0;
	t->skel->bss->unwind_count[target * 2 + 1] = 0;
	t->skel->bss->rescan_wanted[target] = 0;
	t->skel->bss->target_paused[target] = false;
}

int tracer__set_ctx_global(struct tracer *t, uint32_t target, uint32_t slot, uint64_t addr)
{
	if (target >= MEMLEAKD_MAX_TARGETS || slot >= MEMLEAKD_MAX_CTX_GLOBALS)
		return -EINVAL;
	t->skel->bss->ctx_globals[target][slot] = addr;
	return 0;
}

int tracer__set_allocator_callers(struct tracer *t, uint32_t target, uint64_t start,
				  uint64_t end)
{
	if (target >= MEMLEAKD_MAX_TARGETS)
		return -EINVAL;
	t->skel->bss->allocator_callers[target].end = end;
	t->skel->bss->allocator_callers[target].start = start;
	return 0;
}

void tracer__maps(const struct tracer *t, struct tracer_maps *out)
{
	out->allocs = bpf_map__fd(t->skel->maps.allocs);
	out->allocs_spill = bpf_map__fd(t->skel->maps.allocs_spill);
	out->spill_share = t->skel->rodata->spill_share;
	out->ctx_allocs = bpf_map__fd(t->skel->maps.ctx_allocs);
	out->stacks = bpf_map__fd(t->skel->maps.stacks);
	out->stack_counts = bpf_map__fd(t->skel->maps.stack_counts);
	out->stack_events = bpf_map__fd(t->skel->maps.stack_events);
	out->stack_totals = bpf_map__fd(t->skel->maps.stack_totals);
	out->counters = bpf_map__fd(t->skel->maps.counters);
	out->resets = bpf_map__fd(t->skel->maps.resets);
	out->maps_events = bpf_map__fd(t->skel->maps.maps_events);
	out->mapping_events = bpf_map__fd(t->skel->maps.mapping_events);
	out->mapping_counters = bpf_map__fd(t->skel->maps.mapping_counters);
	out->record_counts = bpf_map__fd(t->skel->maps.record_counts);
	out->sweep_events = bpf_map__fd(t->skel->maps.sweep_events);
	out->process_events = bpf_map__fd(t->skel->maps.process_events);
	out->sweep = bpf_program__fd(t->skel->progs.sweep);
}

/* Write count entries of one map, at keys first, first + 1, ... */
static int update_run(int fd, uint32_t first, const void *values, uint32_t count)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t *keys;
	int r;

	if (!count)
		return 0;
	keys = malloc(count * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (uint32_t i = 0; i < count; i++)
		keys[i] = first + i;
	r = bpf_map_update_batch(fd, keys, values, &count, &opts);
	free(keys);
	return r < 0 ? -errno : 0;
}

int tracer__load_unwind_rows(struct tracer *t, uint32_t first, const struct unwind_row *rows,
			     uint32_t n)
{
	return update_run(bpf_map__fd(t->skel->maps.unwind_rows), first, rows, n);
}

int tracer__publish_unwind_mappings(struct tracer *t, uint32_t target,
				    const struct unwind_mapping *m, uint32_t n)
{
	volatile uint32_t *slot;
	uint32_t next;
	int r;

	if (target >= MEMLEAKD_MAX_TARGETS || n > MEMLEAKD_MAX_MAPPINGS)
		return -EINVAL;
	slot = &t->skel->bss->unwind_slot[target];
	next = (*slot + 1) & 1;
	r = update_run(bpf_map__fd(t->skel->maps.unwind_mappings),
		       UNWIND_MAPPING_KEY(target, next, 0), m, n);
	if (r < 0)
		return r;
	t->skel->bss->unwind_count[target * 2 + next] = n;
	/* The count, not the slot alone: it also retires the programs' cached
	 * rules (unwind.bpf.h). */
	__atomic_store_n(slot, *slot + 1, __ATOMIC_RELEASE);
	return 0;
}

void tracer__clear_rescan(struct tracer *t, uint32_t target)
{
	__atomic_store_n(&t->skel->bss->rescan_wanted[target % MEMLEAKD_MAX_TARGETS], 0,
			 __ATOMIC_SEQ_CST);
}

void tracer__set_generation(struct tracer *t, uint16_t generation)
{
	__atomic_store_n(&t->skel->data->generation, generation, __ATOMIC_RELAXED);
}

uint64_t tracer__time_base_ns(const struct tracer *t)
{
	return t->skel->rodata->time_base_ns;
}

void tracer__pause(struct tracer *t)
{
	/* A program that read the flag just before it was set runs for a few
	 * microseconds more; 10 ms leaves it ample time to finish. */
	const struct timespec drain = { .tv_nsec = 10 * 1000 * 1000 };

	t->skel->bss->paused = true;
	nanosleep(&drain, NULL);
}

void tracer__free(struct tracer *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_links; i++)
		link_close(&t->links[i]);
	free(t->links);
	ring_buffer__free(t->exec_reader);
	memleakd_bpf__destroy(t->skel);
	free(t);
}
