/* object_symbols.h - the names of addresses in one object: the ELF symbol,
 * the inlined calls and source lines DWARF adds, demangled, cached per
 * address so that a stack seen in every report is named once. */
#ifndef OBJECT_SYMBOLS_H
#define OBJECT_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target/elf_object.h"

/* At most this many frames per address: inlined calls and their function. */
#define OBJECT_SYMBOLS_MAX_CHAIN 16

/* One frame's names at an address; strings live as long as the
 * object_symbols. */
struct frame_name {
	const char *function; /* demangled (or as is); NULL unknown */
	const char *mangled;  /* the symbol as the object spells it; NULL unknown */
	const char *file;     /* source file, NULL unknown */
	unsigned int line;    /* 0 unknown */
	uint64_t offset;      /* from the function's symbol; 0 for inlined frames */
	bool inlined;
};

struct object_symbols;

/* Names for obj, which stays the caller's and must outlive *out. demangle:
 * function holds the demangled name (false: the symbol as is). Returns 0
 * and *out, or -ENOMEM. */
int object_symbols__new(const struct elf_object *obj, bool demangle,
			struct object_symbols **out);
/* Accepts NULL. */
void object_symbols__free(struct object_symbols *o);

/* The frames at link-time address vaddr, a return address (named by the
 * byte before it), innermost first: inlined calls, then the function
 * (inlined false). *out points into the cache. Returns how many (0 when
 * nothing names vaddr), or -ENOMEM. */
int object_symbols__lookup(struct object_symbols *o, uint64_t vaddr,
			   const struct frame_name **out);

#endif
