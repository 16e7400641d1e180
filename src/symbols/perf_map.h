/* perf_map.h - names of JIT-compiled code from a perf map, the convention
 * of perf's JIT interface that V8 (--perf-basic-prof), LuaJIT and the JVM
 * agents follow: the process writes /tmp/perf-PID.map, one line per
 * function, "START SIZE name" with START and SIZE in hex. The parser reads
 * any FILE *, so tests feed it fixtures; perf_map_file re-reads a process's
 * file when it changes. Library code: it returns -errno and never logs. */
#ifndef PERF_MAP_H
#define PERF_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct perf_map_entry {
	uint64_t start, size; /* [start, start + size) */
	const char *name;     /* owned by the perf_map */
};

struct perf_map;

/* What is read of a perf map, which its process controls: lines longer
 * than this are skipped, and reading stops after this many bytes or
 * entries. */
#define PERF_MAP_LINE_MAX 4096
#define PERF_MAP_BYTES_MAX (64u << 20)
#define PERF_MAP_ENTRIES_MAX (1u << 20)
#define PERF_MAP_LIMITS "64 MiB or 1048576 entries"

/* Parse a perf map. Malformed lines (fields missing or not hex, size 0, a
 * range past the address space, no name, longer than PERF_MAP_LINE_MAX)
 * are skipped and counted. Where entries overlap, the later line wins:
 * JITs reuse freed code space. Returns 0 and *out, or -ENOMEM; *out is
 * untouched on failure. */
int perf_map__parse(FILE *f, struct perf_map **out);
/* Accepts NULL. */
void perf_map__free(struct perf_map *m);
/* The entry holding addr, or NULL. */
const struct perf_map_entry *perf_map__find(const struct perf_map *m, uint64_t addr);
size_t perf_map__entries(const struct perf_map *m);
/* Malformed lines skipped. */
size_t perf_map__skipped(const struct perf_map *m);
/* Did reading stop at PERF_MAP_BYTES_MAX or PERF_MAP_ENTRIES_MAX? */
bool perf_map__cut(const struct perf_map *m);

/* One process's perf map file and what was read from it. Zero it before
 * the first perf_map_file__refresh. */
struct perf_map_file {
	pid_t pid;    /* the process, as memleakd's /proc names it */
	pid_t ns_pid; /* as the process knows itself: the PID in the file's name */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct perf_map *map; /* NULL while there is no readable file */
};

/* Bring f up to date with process pid's /tmp/perf-NSPID.map, opened under
 * root_fd (see target_file_open: a FIFO or anything but a regular file is
 * no file): parsed again when its inode, size or mtime changed, dropped
 * when it is gone. NSPID is the process's PID in its own PID namespace,
 * from /proc/PID/status. Returns 1 when the file was parsed anew, 0 when
 * not (f->map NULL when there is no file), or -ENOMEM; other failures
 * count as no file. */
int perf_map_file__refresh(struct perf_map_file *f, int root_fd, pid_t pid);
/* Frees f's map and zeroes f. */
void perf_map_file__clear(struct perf_map_file *f);

#endif
