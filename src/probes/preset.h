/* preset.h - named lists of custom allocator specs shipped as text files,
 * one spec per line as on the command line ("--alloc palloc:size=1,..."),
 * so users can read and edit them. --preset NAME loads presets/NAME.preset
 * from the first preset directory that has it. */
#ifndef PRESET_H
#define PRESET_H

#include <stdio.h>

#include "probes/alloc_spec.h"

/* Parse the preset text in f, named name, prefixing every symbol with
 * prefix (NULL for none), and append its specs to list. Returns 0, or
 * -EINVAL with *error naming the preset, the line and the problem
 * (malloc'd), or -ENOMEM. */
int preset_parse(FILE *f, const char *name, const char *prefix, struct alloc_specs *list,
		 char **error);
/* Find preset name (or, when it holds a '/', the file at that path) and
 * parse it as preset_parse does. -ENOENT with *error listing the
 * directories searched when there is no such preset. */
int preset_load(const char *name, const char *prefix, struct alloc_specs *list, char **error);
/* Print every preset found, one per line with its description. Returns 0
 * or -errno. */
int preset_list(FILE *out);

#endif
