/* process_memory.h - the traced process's resident memory, and the verdict
 * that weighs its growth against the traced outstanding bytes: a leak of
 * traced allocations, or growth memleakd's allocations do not explain
 * (allocator retention, fragmentation, mmap). */
#ifndef PROCESS_MEMORY_H
#define PROCESS_MEMORY_H

#include <stdint.h>

#include "snapshot/snapshot.h"

struct process_memory {
	uint64_t rss_bytes;      /* VmRSS */
	uint64_t rss_anon_bytes; /* RssAnon: the heap's pages are anonymous */
};

/* Read /proc/PID/status. Returns 0, -ESRCH once the process is gone, or
 * -errno; *out is untouched on failure. */
int process_memory__read(int pid, struct process_memory *out);

/* Fill snap->process from the memory at attach and now, and the stacks'
 * classes (trend__update first). */
void process_memory__summarize(const struct process_memory *at_attach,
			       const struct process_memory *now, struct snapshot *snap);

#endif
