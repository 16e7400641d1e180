/* report_output.h - where reports go: stdout, one file, or a directory of
 * timestamped files with a `latest` link and rotation (-o, --keep). */
#ifndef REPORT_OUTPUT_H
#define REPORT_OUTPUT_H

#include "report/report.h"

struct report_output;

/* path NULL: stdout, where a document format (pprof, svg) gets only the
 * final report. A path ending in '/' or naming a directory: one file
 * per report, DIR/memleakd-PID-TIME.EXT for the process reported,
 * `latest` pointing at the newest of all, and only each process's keep
 * newest kept (0: all). Another path: a file, which holds the stream of
 * reports, or for a document format (pprof, svg) the latest report,
 * replaced whole. Returns 0 and *out, or -errno with *error (static)
 * saying what failed. */
int report_output__open(const char *path, unsigned int keep, const struct report_writer *w,
			struct report_output **out, const char **error);
/* Write one report. Returns 0 or -errno (-EIO when a stream failed). */
int report_output__write(struct report_output *o, const struct snapshot *snap,
			 const struct report_options *opt);
/* Does o write each report to a file of its own in a directory? */
bool report_output__directory(const struct report_output *o);
/* Accepts NULL. */
void report_output__close(struct report_output *o);

#endif
