/* method_tables.h - the functions a free reaches through a table of
 * methods, so that each can be probed in place of an entry the kernel
 * would single-step.
 *
 * PostgreSQL's pfree(ptr) reads the chunk's context and jumps through the
 * context's methods, `jmp *8(%rax)`, to the free function of the table the
 * context was created with (AllocSetFree, GenerationFree or SlabFree):
 * static functions, with no symbol in Debian's build, and pfree has no
 * instruction the kernel emulates before that jump. The tables are found
 * where they are passed, as argument N of a named function
 * (MemoryContextCreate): the object's executable segments are decoded from
 * their start, and before every direct call of the function, or tail jump
 * to it, the argument's register must be loaded by a rip-relative lea in
 * straight-line code that no direct branch enters. The table's slot, the
 * jump's displacement, holds in the file the link-time address of the
 * function (the addend of its relocation), which must begin an FDE of the
 * object's .eh_frame. One call not understood
 * fails the whole search: a table missed would leave its frees untraced.
 * Library code: returns -errno and never logs.
 */
#ifndef METHOD_TABLES_H
#define METHOD_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "target/elf_object.h"

#define METHOD_TABLES_MAX 8

struct method_tables {
	size_t n_calls; /* direct calls of the function that passes the tables */
	size_t n;       /* distinct functions found in the tables' slots */
	struct method_function {
		uint64_t vaddr, size; /* link-time start, and its FDE's length */
	} functions[METHOD_TABLES_MAX];
	const char *why; /* static: why the search failed */
};

/* Find the functions at byte slot of the tables o passes to its function
 * at link-time address callee as argument arg (1-6). Returns 0 and *out,
 * -ENOENT with out->why, or -ENOMEM. */
int method_tables_find(const struct elf_object *o, uint64_t callee, unsigned int arg,
		       int32_t slot, struct method_tables *out);

#endif
