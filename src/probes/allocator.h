/* allocator.h - find the allocator a process really uses and the functions
 * of it to probe. The object that provides `malloc` as the dynamic linker
 * resolves it (the executable, an LD_PRELOADed library, jemalloc, tcmalloc,
 * mimalloc, else libc) is traced; every malloc-family entry point it defines
 * is probed, each address once. In glibc, the code that frees on its own
 * behalf as a thread exits is located too, to keep those frees apart. */
#ifndef ALLOCATOR_H
#define ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>

#include "target/elf_object.h"
#include "probes/probe_placement.h"
#include "probes/tcache_shutdown.h"
#include "target/target.h"
#include "probes/tracer.h"

struct allocator_probe {
	struct attach_point point;       /* function, path, offset, cookie */
	struct probe_placement placement; /* where in the function, and why */
	const char *module;              /* the object, as the process maps it */
};

/* Place a probe on function sym of obj and fill in *p, its cookie given
 * (the target included). Returns 0 or -errno (-ERANGE: not in a loaded
 * segment). */
int allocator_probe_place(struct allocator_probe *p, const struct target_object *obj,
			  const char *function, const struct elf_symbol *sym, uint64_t cookie);
/* The file offset of the function p probes, before placement moved it. */
uint64_t allocator_probe_function_offset(const struct allocator_probe *p);
/* Does probes[0..n) already probe the function p probes (same object, same
 * function offset)? */
bool allocator_probes_have(const struct allocator_probe *probes, size_t n,
			   const struct allocator_probe *p);

/* Where, in the allocator, code frees on its own behalf (tcache_shutdown.h). */
struct allocator_own_frees {
	bool glibc;            /* the allocator is glibc's (it defines __libc_malloc) */
	int status;            /* 0 when found, or -errno: tcache_shutdown_find's answer */
	enum tcache_shutdown_source source;
	uint64_t start, end;   /* run-time [start, end) when found */
};

struct allocator {
	char *module;      /* the object providing malloc, as the process maps it */
	char *attach_path; /* the same, reached through /proc/PID/root */
	size_t n_probes;
	struct allocator_probe *probes;
	struct allocator_own_frees own_frees;
};

/* Find the allocator of target t. Returns 0 and *out; -ENOENT when no loaded
 * object defines malloc (*searched then lists where it looked, malloc'd),
 * or -errno when an object could not be read (*searched then names it). */
int allocator__find(const struct target *t, struct allocator **out, char **searched);
/* Accepts NULL. */
void allocator__free(struct allocator *a);

#endif
