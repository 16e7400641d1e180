/* process_memory.h - the traced process's resident memory, read at attach
 * and at each report, for the verdict (snapshot/verdict.h) to weigh its
 * growth against the traced outstanding bytes. */
#ifndef PROCESS_MEMORY_H
#define PROCESS_MEMORY_H

#include <stdint.h>

struct process_memory {
	uint64_t rss_bytes;      /* VmRSS */
	uint64_t rss_anon_bytes; /* RssAnon: the heap's pages are anonymous */
};

/* Read the status file of the process whose /proc directory is proc_fd (an
 * O_PATH descriptor: it stays that process's once its pid is reused).
 * Returns 0, -ESRCH once the process is gone, or -errno; *out is untouched
 * on failure. */
int process_memory__read(int proc_fd, struct process_memory *out);

#endif
