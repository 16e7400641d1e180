/* report_folded.c - collapsed stacks, one line per distinct stack:
 * "main;caller;leaf BYTES", outermost frame first, the format that
 * flamegraph.pl, inferno and speedscope read. Stacks whose labels are the
 * same (two call sites in one unnamed function) are one line, their bytes
 * summed. Lines are sorted by labels, so a report diffs well. */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>

#include "report/flame_graph.h"

static void folded_line(FILE *out, const struct flame_path *p, uint64_t bytes)
{
	for (size_t i = 0; i < p->depth; i++) {
		if (i)
			fputc(';', out);
		fputs(p->labels[i], out);
	}
	fprintf(out, " %" PRIu64 "\n", bytes);
}

static int folded_write(FILE *out, const struct snapshot *snap, const struct report_options *opt)
{
	struct flame_paths *paths;
	uint64_t bytes = 0;
	int r;

	(void)opt;
	r = flame_paths__new(snap, false, true, &paths);
	if (r < 0)
		return r;
	for (size_t i = 0; i < paths->n; i++) {
		bytes += paths->paths[i].bytes;
		if (i + 1 < paths->n && flame_path_equal(&paths->paths[i], &paths->paths[i + 1]))
			continue;
		folded_line(out, &paths->paths[i], bytes);
		bytes = 0;
	}
	flame_paths__free(paths);
	return fflush(out) || ferror(out) ? -EIO : 0;
}

const struct report_writer report_folded = {
	.name = "folded",
	.extension = "folded",
	.document = true,
	.all_stacks = true,
	.write = folded_write,
};
