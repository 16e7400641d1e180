/* report.h - report writers: one static template per format, looked up by
 * name. A writer formats a finished, symbolized snapshot onto a FILE *, so
 * the same writers serve stdout, files and (later) HTTP. */
#ifndef REPORT_H
#define REPORT_H

#include <stdbool.h>
#include <stdio.h>

/* Every writer words the snapshot's enums the same way. */
#include "report/report_names.h"
#include "snapshot/snapshot.h"

/* What the command line says about the look of a report. */
struct report_options {
	bool inverted; /* svg: icicle (leaf at the top), the view that shows who leaks */
};

struct report_writer {
	const char *name;
	const char *extension; /* of the files -o DIR writes: "txt", "json", ... */
	/* A report is a whole document (pprof, svg): a file output holds the
	 * latest one, not a stream of them. */
	bool document;
	/* Every stack, not only the --top first: the format aggregates them
	 * (flame graphs, pprof), and its totals must add up. */
	bool all_stacks;
	/* Write one report. Returns 0, -ENOMEM, or -EIO when the stream failed. */
	int (*write)(FILE *out, const struct snapshot *snap, const struct report_options *opt);
};

extern const struct report_writer report_text;
extern const struct report_writer report_json;
extern const struct report_writer report_folded;
extern const struct report_writer report_svg;
extern const struct report_writer report_pprof;

/* snap as writer w shows it when reports hold top stacks: every stack read
 * for an all_stacks writer, else the first top (snap may hold more: those
 * the writer does not show). A shallow copy that borrows snap's stacks. */
struct snapshot report_view(const struct snapshot *snap, const struct report_writer *w,
			    size_t top);

/* The writer called name, or NULL. */
const struct report_writer *report_writer_find(const char *name);
/* "text, json, folded, svg, pprof": for messages. */
const char *report_writer_names(void);

#endif
