/* tracer.c - load bpf/memleakd.bpf.c through its skeleton, size its maps,
 * and attach perf-event uprobes (never tracefs files, which may not be
 * mounted). Links are kept so that freeing the tracer detaches everything
 * and leaves the target untouched. */
#include "tracer.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/types.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "memleakd.h"
#include "memleakd.skel.h"

/* Distinct stacks the maps hold; a stack that finds no room is counted in
 * stack_errors, its bytes kept under the lost stack. */
#define MAX_STACKS 16384

struct tracer {
	struct memleakd_bpf *skel;
	struct bpf_link **links;
	size_t n_links, cap_links;
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

static int size_maps(struct memleakd_bpf *skel, uint32_t max_allocs)
{
	int r;

	r = bpf_map__set_max_entries(skel->maps.allocs, max_allocs);
	if (!r)
		r = bpf_map__set_max_entries(skel->maps.stacks, MAX_STACKS);
	if (!r)
		r = bpf_map__set_max_entries(skel->maps.stack_totals, MAX_STACKS);
	return r;
}

int tracer__open(uint32_t max_allocs, bool verbose, struct tracer **out)
{
	struct tracer *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	libbpf_verbose = verbose;
	libbpf_set_print(libbpf_print);
	t->skel = memleakd_bpf__open();
	if (!t->skel) {
		r = -errno;
		goto fail;
	}
	r = size_maps(t->skel, max_allocs);
	if (r < 0)
		goto fail;
	r = memleakd_bpf__load(t->skel);
	if (r < 0)
		goto fail;
	*out = t;
	return 0;
fail:
	tracer__free(t);
	return r;
}

static int keep_link(struct tracer *t, struct bpf_link *link)
{
	if (t->n_links == t->cap_links) {
		size_t cap = t->cap_links ? t->cap_links * 2 : 32;
		struct bpf_link **n = realloc(t->links, cap * sizeof(*n));

		if (!n) {
			bpf_link__destroy(link);
			return -ENOMEM;
		}
		t->links = n;
		t->cap_links = cap;
	}
	t->links[t->n_links++] = link;
	return 0;
}

static int attach_one(struct tracer *t, const struct bpf_program *prog, bool retprobe, int pid,
		      const struct attach_point *p)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = p->cookie, .retprobe = retprobe);
	struct bpf_link *link;

	link = bpf_program__attach_uprobe_opts(prog, pid, p->path, p->offset, &opts);
	if (!link)
		return -errno;
	return keep_link(t, link);
}

int tracer__attach(struct tracer *t, int pid, const struct attach_point *p)
{
	int r;

	switch (COOKIE_FIELD(p->cookie, COOKIE_KIND_SHIFT)) {
	case PROBE_FREE:
		return attach_one(t, t->skel->progs.free_enter, false, pid, p);
	case PROBE_RESET:
		return attach_one(t, t->skel->progs.reset_enter, false, pid, p);
	case PROBE_ALLOC:
	case PROBE_REALLOC:
	case PROBE_RESIZE:
		/* Both at the same offset: the kernel shares one breakpoint. */
		r = attach_one(t, t->skel->progs.alloc_enter, false, pid, p);
		if (r < 0)
			return r;
		return attach_one(t, t->skel->progs.alloc_return, true, pid, p);
	default:
		return -EINVAL;
	}
}

int tracer__set_ctx_global(struct tracer *t, uint32_t slot, uint64_t addr)
{
	if (slot >= MEMLEAKD_MAX_CTX_GLOBALS)
		return -EINVAL;
	t->skel->bss->ctx_globals[slot] = addr;
	return 0;
}

void tracer__maps(const struct tracer *t, struct tracer_maps *out)
{
	out->allocs = bpf_map__fd(t->skel->maps.allocs);
	out->stacks = bpf_map__fd(t->skel->maps.stacks);
	out->stack_totals = bpf_map__fd(t->skel->maps.stack_totals);
	out->counters = bpf_map__fd(t->skel->maps.counters);
	out->resets = bpf_map__fd(t->skel->maps.resets);
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
		bpf_link__destroy(t->links[i]);
	free(t->links);
	memleakd_bpf__destroy(t->skel);
	free(t);
}
