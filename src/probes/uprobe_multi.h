/* uprobe_multi.h - uprobe_multi links (Linux 6.6) and uprobe sessions
 * (6.10), which Debian's libbpf 1.1 has no API for: one link attaches a
 * program at many offsets of one file, each with its own cookie, and
 * closing it removes them all after a single grace period, where one
 * perf-event uprobe per offset waits for one each (about 0.2 s apiece on
 * recent kernels). A session link runs its program at a call's entry and,
 * unless the entry returned nonzero, again at the call's return. */
#ifndef UPROBE_MULTI_H
#define UPROBE_MULTI_H

#include <stddef.h>
#include <stdint.h>

/* The attach types a program must be loaded with to be linked this way. */
#define UPROBE_MULTI_ATTACH_TYPE 48   /* BPF_TRACE_UPROBE_MULTI */
#define UPROBE_SESSION_ATTACH_TYPE 57 /* BPF_TRACE_UPROBE_SESSION */

/* What a link's program sees. */
enum uprobe_link_kind {
	UPROBE_LINK_ENTRY,
	UPROBE_LINK_RETURN,
	UPROBE_LINK_SESSION, /* a program loaded with UPROBE_SESSION_ATTACH_TYPE */
};

/* What the running kernel offers, by the attach types its BTF names. */
enum uprobe_links {
	UPROBE_LINKS_NONE,    /* one perf-event uprobe per probe only */
	UPROBE_LINKS_MULTI,   /* uprobe_multi links */
	UPROBE_LINKS_SESSION, /* uprobe_multi links and sessions */
};

enum uprobe_links uprobe_links_supported(void);
/* Attach prog_fd at offsets[i] of path with cookies[i], for process pid.
 * Returns the link's descriptor (closing it detaches), or -errno. */
int uprobe_multi_attach(int prog_fd, int pid, const char *path, const uint64_t *offsets,
			const uint64_t *cookies, size_t n, enum uprobe_link_kind kind);

#endif
