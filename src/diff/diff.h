/* diff.h - `memleakd diff OLD NEW`: which stacks grew between two saved
 * JSON reports. Stacks are matched by their return addresses first (the
 * same process: addresses stay put), then, for the rest whose frames are
 * all named, by function, offset in it and module (another run of the same
 * binary: ASLR moves addresses, names stay). */
#ifndef DIFF_H
#define DIFF_H

#include <stdint.h>
#include <stdio.h>

#include "diff/saved_report.h"

enum diff_status {
	DIFF_GROWN,     /* in both, more outstanding in NEW */
	DIFF_NEW,       /* only in NEW */
	DIFF_SHRUNK,    /* in both, less outstanding in NEW */
	DIFF_GONE,      /* only in OLD */
	DIFF_UNCHANGED,
};

enum diff_match {
	DIFF_UNMATCHED,
	DIFF_BY_ADDR,
	DIFF_BY_NAME,
};

struct diff_entry {
	enum diff_status status;
	enum diff_match match;
	const struct saved_stack *old, *new; /* NULL for a stack only in the other */
	int64_t growth_bytes, growth_allocs; /* NEW - OLD */
};

struct diff {
	const struct saved_report *old, *new;
	double elapsed_s;                    /* NEW's time - OLD's */
	int64_t growth_bytes, growth_allocs; /* of the totals */
	size_t by_status[DIFF_UNCHANGED + 1];
	size_t by_addr, by_name;             /* stacks matched each way */
	size_t n;
	struct diff_entry *entries;          /* by growth, largest first */
};

/* Compare two reports, which must outlive the diff. Returns 0 and *out
 * (free with diff_free), or -ENOMEM. */
int diff_compute(const struct saved_report *old, const struct saved_report *new,
		 struct diff **out);
/* Accepts NULL. */
void diff_free(struct diff *d);

/* Print d for a person, or as one JSON object; limit: the first entries
 * only (0: all). Return 0, or -EIO when out failed. */
int diff_write_text(FILE *out, const struct diff *d, size_t limit);
int diff_write_json(FILE *out, const struct diff *d, size_t limit);

/* The subcommand: argv[0] is "diff". Prints its result on stdout, its
 * errors on stderr; returns the exit status: 0, 1 on failure, 2 for
 * usage errors. */
int diff_main(int argc, char **argv);

#endif
