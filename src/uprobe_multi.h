/* uprobe_multi.h - uprobe_multi links (Linux 6.6), which Debian's libbpf 1.1
 * has no API for: one link attaches a program at many offsets of one file,
 * each with its own cookie, and closing it removes them all after a single
 * grace period, where one perf-event uprobe per offset waits for one each
 * (about 0.2 s apiece on recent kernels). */
#ifndef UPROBE_MULTI_H
#define UPROBE_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The attach type a program must be loaded with to be linked this way. */
#define UPROBE_MULTI_ATTACH_TYPE 48 /* BPF_TRACE_UPROBE_MULTI */

/* Does the running kernel know the attach type (its BTF names it)? */
bool uprobe_multi_supported(void);
/* Attach prog_fd at offsets[i] of path with cookies[i], for process pid,
 * as return probes when retprobe. Returns the link's descriptor (closing it
 * detaches), or -errno. */
int uprobe_multi_attach(int prog_fd, int pid, const char *path, const uint64_t *offsets,
			const uint64_t *cookies, size_t n, bool retprobe);

#endif
