/* metrics.h - reports in the Prometheus text exposition format (version
 * 0.0.4), for /metrics: per process, the outstanding totals, the event
 * counters of the JSON report's "totals" (same names, counters ending in
 * _total), the process's memory and the verdict; the top stacks as series
 * labelled by a stable short hash of their frames (stack) and their
 * innermost frame (top_frame); and memleakd's own CPU time and memory.
 * A process is a label set, {pid, comm}: a document holds any number. */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot/snapshot.h"

/* Hex digits of a stack label: 48 bits. */
#define METRICS_STACK_ID_LEN 12

/* One traced process's latest report: its stacks with frames (n_top,
 * n_top_mappings of them) are the series, up to the top given. */
struct metrics_process {
	const struct snapshot *snap;
	const char *comm; /* /proc/PID/comm; "" when unknown */
};

/* What memleakd itself uses, read when /metrics is asked for. */
struct metrics_self {
	double cpu_seconds;      /* user and system, every thread */
	uint64_t resident_bytes; /* resident pages */
};

/* The hash naming stack s in every report: of its kind and, frame by
 * frame, the build-id (else the object's path) and the offset of the
 * address in that object, so that it holds across reports, address space
 * layouts and restarts of the same binaries; of the raw addresses where no
 * object is known, and of the kind alone for a lost stack. s needs its
 * frames (the first n_top stacks). */
uint64_t metrics_stack_hash(const struct snapshot_stack *s);
/* METRICS_STACK_ID_LEN hex digits of the hash, and a NUL. */
void metrics_stack_id(uint64_t hash, char out[static METRICS_STACK_ID_LEN + 1]);

/* The families of the n processes' reports, each family's # HELP and
 * # TYPE line once then its samples, process by process in the order
 * given; at most top stacks of allocations and top of mappings a process.
 * Stacks whose labels coincide (the same hash) are one series, their
 * values summed. Returns 0, -ENOMEM, or -EIO when the stream failed. */
int metrics_write(FILE *out, const struct metrics_process *procs, size_t n, size_t top);
/* The families of memleakd's own use (process_cpu_seconds_total,
 * process_resident_memory_bytes: the names Prometheus's client libraries
 * give an exporter's own process). Returns 0 or -EIO. */
int metrics_write_self(FILE *out, const struct metrics_self *self);
/* Read memleakd's own use now. Returns 0 or -errno; *out is untouched on
 * failure. */
int metrics_self_read(struct metrics_self *out);

/* s as a label value: backslash, double quote and line feed escaped as
 * \\, \" and \n; bytes that are not UTF-8 become '?'. */
void metrics_write_label_value(FILE *out, const char *s);

#endif
