/* process_memory.c - RSS from /proc/PID/status (smaps_rollup would walk
 * every page table of the process at each report). */
#include "target/process_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int process_memory__read(int proc_fd, struct process_memory *out)
{
	int fd = openat(proc_fd, "status", O_RDONLY | O_CLOEXEC);
	struct process_memory m = { 0 };
	bool rss = false, anon = false;
	FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
	char line[256];
	uint64_t kib;

	if (!f) {
		int r = errno == ENOENT ? -ESRCH : -errno;

		if (fd >= 0)
			close(fd);
		return r;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %" SCNu64 " kB", &kib) == 1) {
			m.rss_bytes = kib * 1024;
			rss = true;
		} else if (sscanf(line, "RssAnon: %" SCNu64 " kB", &kib) == 1) {
			m.rss_anon_bytes = kib * 1024;
			anon = true;
		}
	}
	fclose(f);
	/* A zombie has no memory lines left. */
	if (!rss || !anon)
		return -ESRCH;
	*out = m;
	return 0;
}
