/* allocator.h - find the allocator a process really uses and the functions
 * of it to probe. The object that provides `malloc` as the dynamic linker
 * resolves it (the executable, an LD_PRELOADed library, jemalloc, tcmalloc,
 * mimalloc, else libc) is traced; every malloc-family entry point it defines
 * is probed, each address once. */
#ifndef ALLOCATOR_H
#define ALLOCATOR_H

#include <stddef.h>

#include "probe_placement.h"
#include "target.h"
#include "tracer.h"

struct allocator_probe {
	struct attach_point point;       /* function, path, offset, cookie */
	struct probe_placement placement; /* where in the function, and why */
};

struct allocator {
	char *module;      /* the object providing malloc, as the process maps it */
	char *attach_path; /* the same, reached through /proc/PID/root */
	size_t n_probes;
	struct allocator_probe *probes;
};

/* Find the allocator of target t. Returns 0 and *out; -ENOENT when no loaded
 * object defines malloc (*searched then lists where it looked, malloc'd),
 * or -errno when an object could not be read (*searched then names it). */
int allocator__find(const struct target *t, struct allocator **out, char **searched);
/* Accepts NULL. */
void allocator__free(struct allocator *a);

#endif
