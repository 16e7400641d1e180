/* process_memory.c - RSS from /proc/PID/status (smaps_rollup would walk
 * every page table of the process at each report). */
#include "target/process_memory.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int process_memory__read(int pid, struct process_memory *out)
{
	struct process_memory m = { 0 };
	bool rss = false, anon = false;
	char path[64], line[256];
	uint64_t kib;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
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
