/* custom_allocator.h - custom allocator specs resolved in a live process:
 * each spec's function found (in its @MODULE, or across the objects the
 * dynamic linker searches), its probe placed, and the globals that hold a
 * current context (ctx=@GLOBAL) located at their run-time addresses. */
#ifndef CUSTOM_ALLOCATOR_H
#define CUSTOM_ALLOCATOR_H

#include <stddef.h>
#include <stdint.h>

#include "probes/alloc_spec.h"
#include "probes/allocator.h"
#include "target/target.h"

struct custom_allocator {
	size_t n_probes;
	struct allocator_probe *probes;
	/* Run-time addresses of the ctx=@GLOBAL variables, by cookie slot. */
	size_t n_globals;
	uint64_t globals[MEMLEAKD_MAX_CTX_GLOBALS];
	const char *global_names[MEMLEAKD_MAX_CTX_GLOBALS];
	/* Preset functions this process does not have (owned by the specs). */
	size_t n_skipped;
	const struct alloc_spec **skipped;
	/* What became of each --free spec with methods=: its function is
	 * probed itself when why is set. */
	size_t n_methods;
	struct methods_note {
		const char *function;  /* the spec's symbol */
		size_t n_functions;    /* methods probed in its place */
		size_t n_calls;        /* calls that pass its tables */
		const char *why;       /* static, or NULL */
	} *methods;
	/* The names of the methods probed ("pfree's method at 0x..."), owned. */
	size_t n_names;
	char **names;
	/* The objects probed: module and attach path of each, owned. */
	size_t n_objects;
	struct custom_object {
		char *module;
		char *attach_path;
	} *objects;
};

/* Resolve specs (which must outlive the result) in target t. Functions that
 * family already probes are skipped (family may be NULL). Returns 0 and
 * *out, or -errno with *error (malloc'd) naming the spec's flag and the
 * problem: a symbol missing or ambiguous (listing where it looked), a
 * module not loaded, a global missing or thread-local. */
int custom_allocator__resolve(const struct target *t, const struct alloc_specs *specs,
			      const struct allocator *family, struct custom_allocator **out,
			      char **error);
/* Accepts NULL. */
void custom_allocator__free(struct custom_allocator *c);

#endif
