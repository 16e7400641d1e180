/* saved_report.h - a JSON report memleakd wrote earlier (-f json), read
 * back for `memleakd diff`: from a stream of reports (-o FILE), the last
 * complete one; from a directory (-o DIR/), the one `latest` names. Only
 * the fields diff needs are read; fields added later are ignored. */
#ifndef SAVED_REPORT_H
#define SAVED_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct json_value;

struct saved_frame {
	uint64_t addr;
	const char *function; /* NULL when unknown */
	uint64_t offset;      /* from the function's start */
	const char *module;   /* NULL when unmapped */
};

struct saved_stack {
	uint64_t bytes, allocs; /* outstanding */
	size_t n_frames;        /* 0: the stack was lost */
	struct saved_frame *frames;
};

struct saved_report {
	char *path;              /* the file read (DIR/latest for a directory) */
	size_t count;            /* complete reports in the file: this is the last */
	bool truncated_tail;     /* an incomplete report after it was ignored */
	const char *time;        /* as written, RFC 3339 */
	struct timespec when;
	int pid;
	bool final;
	uint64_t outstanding_bytes, outstanding_allocs;
	uint64_t stacks_total;   /* stacks in the process; the report lists n_stacks */
	size_t n_stacks;
	struct saved_stack *stacks;
	struct json_value *doc;  /* owns the strings above */
};

/* Read the last report in buf[0..len); name prefixes messages. Returns 0
 * and *out (free with saved_report__free), or -errno and *error (malloc'd,
 * may be NULL on -ENOMEM): -ENODATA for blank input, -EINVAL for malformed
 * JSON ("NAME:LINE:COL: message") or a value that is not a report. */
int saved_report__parse(const char *buf, size_t len, const char *name, struct saved_report **out,
			char **error);

/* Read the file at path, or path/latest for a directory, as
 * saved_report__parse does. Returns its codes, or -errno from opening or
 * reading the file. */
int saved_report__load(const char *path, struct saved_report **out, char **error);

/* Accepts NULL. */
void saved_report__free(struct saved_report *r);

#endif
