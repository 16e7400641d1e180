/* alloc_spec.h - custom allocator specs, as given to --alloc, --free,
 * --realloc, --reset, --create, --delete and --reparent or read from a
 * preset file:
 *
 *     SYMBOL[@MODULE][:key=value,...]
 *
 * A spec says which function to probe and which of its arguments holds the
 * size, the element count, the pointer, the out-pointer or the context
 * (for --create and --reparent, parent= names the context the new or moved
 * one goes in: the ctx field; --reparent's ctx= is the moved one: ptr).
 * --free also takes methods=FUNCTION:N (a free that jumps through a table
 * of methods, each table passed to FUNCTION as argument N).
 * Parsing is pure (strings in, struct out); resolving the symbol in a live
 * process is custom_allocator.c's job. */
#ifndef ALLOC_SPEC_H
#define ALLOC_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memleakd.h"

/* Arguments passed in registers on x86-64: the ones a probe can read. */
#define ALLOC_SPEC_MAX_ARG 6

struct alloc_spec {
	enum probe_kind kind; /* PROBE_ALLOC, _FREE, _REALLOC, _RESET, _CREATE, _DELETE or
			       * _REPARENT */
	char *symbol;
	char *module;         /* NULL: search every loaded object */
	char *ctx_global;     /* ctx=@NAME: the variable holding the context, or NULL */
	/* Argument numbers from 1; 0 for none. */
	uint8_t size, nmemb, ptr, out, ctx;
	/* --free methods=FUNCTION:N: the function jumps through its object's
	 * methods tables, each passed to FUNCTION as argument N (NULL, 0:
	 * none). See method_tables.h. */
	char *methods_callee;
	uint8_t methods_arg;
	/* From a preset: a missing symbol is skipped, an ambiguous one binds as
	 * the dynamic linker would. Names the preset, else NULL. */
	char *preset;
};

struct alloc_specs {
	size_t n;
	struct alloc_spec *items;
};

/* Parse text as a spec of the given kind. Returns 0 and fills *out, or
 * -EINVAL with *error set to a message naming the flag and the problem
 * (malloc'd), or -ENOMEM. */
int alloc_spec_parse(enum probe_kind kind, const char *text, struct alloc_spec *out,
		     char **error);
/* The flag that introduces a spec of this kind ("--alloc"...), or NULL. */
const char *alloc_spec_flag(enum probe_kind kind);
/* The kind a flag introduces ("--alloc" -> PROBE_ALLOC), or 0. */
enum probe_kind alloc_spec_kind(const char *flag);
/* The spec as its flag and text, for messages: "--alloc palloc:size=1". */
int alloc_spec_format(const struct alloc_spec *s, char **out);
/* The attach cookie's kind, argument and flag fields (include/memleakd.h);
 * the caller adds the target and the global's slot. */
uint64_t alloc_spec_cookie(const struct alloc_spec *s);
void alloc_spec_clear(struct alloc_spec *s);

/* Append a copy of the parsed spec *s (taking over its strings). Returns 0
 * or -ENOMEM (s is then cleared). */
int alloc_specs_add(struct alloc_specs *list, struct alloc_spec *s);
void alloc_specs_clear(struct alloc_specs *list);

#endif
