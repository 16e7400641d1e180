/* report.c - the table of report writers, and what a writer is shown. */
#include "report/report.h"

#include <stddef.h>
#include <string.h>

static const struct report_writer *const writers[] = {
	&report_text,
	&report_json,
	&report_folded,
	&report_svg,
	&report_pprof,
};

const struct report_writer *report_writer_find(const char *name)
{
	for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++)
		if (!strcmp(writers[i]->name, name))
			return writers[i];
	return NULL;
}

struct snapshot report_view(const struct snapshot *snap, const struct report_writer *w,
			    size_t top)
{
	struct snapshot view = *snap;

	if (!w->all_stacks) {
		view.n_top = view.n_top < top ? view.n_top : top;
		view.n_top_mappings = view.n_top_mappings < top ? view.n_top_mappings : top;
	}
	return view;
}

const char *report_writer_names(void)
{
	static char names[128];

	if (!names[0]) {
		for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
			if (i)
				strcat(names, ", ");
			strcat(names, writers[i]->name);
		}
	}
	return names;
}
