/* latest_report.h - the handoff between the main loop, which renders each
 * report for the HTTP endpoints, and the HTTP thread, which serves them.
 * Each rendered document is an immutable buffer with a reference count:
 * publishing swaps the set of current documents under a mutex, and a
 * request holds a reference to the one it sends until the connection is
 * done with it. The HTTP thread never sees a snapshot, a BPF map or the
 * symbolizer. */
#ifndef LATEST_REPORT_H
#define LATEST_REPORT_H

#include <stdatomic.h>
#include <stddef.h>

#include "report/report.h"
#include "serve/metrics.h"

/* The documents rendered from each report: one per process for the
 * first SERVED_PER_PROCESS kinds, one for the round for the others. */
enum served_kind {
	SERVED_JSON,    /* /report.json: what -f json writes for one pid */
	SERVED_PPROF,   /* /debug/pprof/heap: what -f pprof writes */
	SERVED_SVG,     /* /flame.svg: what -f svg writes */
	SERVED_METRICS, /* /metrics, without memleakd's own use (added per request) */
	SERVED_HISTORY, /* /history.json */
	SERVED_KINDS,
};
/* The kinds before it are each process's own. */
#define SERVED_PER_PROCESS SERVED_METRICS

struct served_doc {
	atomic_uint refs;
	size_t len;
	char *data;
};

struct latest_report;

/* A history of history_points reports. Returns NULL when out of memory. */
struct latest_report *latest_report__new(size_t history_points);
/* Render the reports of n processes (the JSON, pprof and SVG documents
 * for each), showing top stacks where a report shows top, and
 * make them the current documents; interval_s goes to history.json. The
 * snapshots need the frames of every stack (all read and resolved), and
 * may be freed on return. Returns 0, -ENOMEM or -EIO; the documents
 * served stay the previous ones on failure. */
int latest_report__publish(struct latest_report *l, const struct metrics_process *procs,
			   size_t n, size_t top, double interval_s,
			   const struct report_options *opt);
/* A reference to the current document of kind, of process pid for the
 * per-process kinds (0: the first process), which the caller gives back
 * with served_doc__unref; NULL before the first report, or when pid is
 * not in it. Any thread. */
struct served_doc *latest_report__get(struct latest_report *l, enum served_kind kind, int pid);
/* Accepts NULL. Any thread. */
void served_doc__unref(struct served_doc *d);
/* Call once no request holds a document. Accepts NULL. */
void latest_report__free(struct latest_report *l);

#endif
