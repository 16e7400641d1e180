/* report.h - report writers: one static template per format, looked up by
 * name. A writer formats a finished snapshot onto a FILE *, so the same
 * writers serve stdout, files and (later) HTTP. */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>

#include "snapshot.h"

struct report_writer {
	const char *name;
	/* Write one report. Returns 0, or -EIO when the stream failed. */
	int (*write)(FILE *out, const struct snapshot *snap);
};

extern const struct report_writer report_text;
extern const struct report_writer report_json;

/* The writer called name, or NULL. */
const struct report_writer *report_writer_find(const char *name);
/* "text, json": for messages. */
const char *report_writer_names(void);

#endif
