/* debug_info.h - source lines and inlined calls from an object's DWARF
 * (libdw). Library code: returns -errno, never logs. */
#ifndef DEBUG_INFO_H
#define DEBUG_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libelf.h>

struct debug_info;

/* One call at an address: an inlined call, or the function it is in. */
struct source_frame {
	/* The linkage (mangled) name when DWARF has one, else the name, in
	 * C++ and Rust qualified with its namespaces and classes; NULL
	 * unknown. */
	const char *function;
	const char *file;     /* as DWARF spells it; NULL unknown */
	unsigned int line;    /* 0 unknown */
	bool inlined;
};

/* Read the DWARF of elf (an object or its separate debug file; elf stays
 * the caller's and must outlive *out). Returns 0 and *out, -ENODATA when
 * elf has no DWARF, -ENOMEM. */
int debug_info__open(Elf *elf, struct debug_info **out);
/* Accepts NULL. */
void debug_info__free(struct debug_info *d);

/* The calls at link-time address pc, innermost first: the inlined calls pc
 * is inside, then the function that holds them (inlined false). The first
 * frame's line is pc's own; each later frame's is where it made the call
 * inside it. Strings live as long as d. Returns how many frames were
 * filled (at most max: past it the middle of the chain is dropped, the
 * last frame is the function), 0 when no DWARF covers pc, or -ENOMEM. */
int debug_info__lookup(struct debug_info *d, uint64_t pc, struct source_frame *out, size_t max);

#endif
