/* object_tables.h - the unwind tables of a target's objects, in the BPF
 * rows map. Each object's table is built once (unwind_table.h) and loaded
 * once, keyed by build-id (by path and inode without one), so every
 * mapping of the same object, under any path, shares its rows. An object
 * whose table cannot be built or does not fit is left to the
 * frame-pointer walk. Only the publisher's thread (unwind_publisher.h)
 * uses it; it logs what it builds (debug) and what it cannot (warning),
 * since that thread has no caller to hand errors to. */
#ifndef OBJECT_TABLES_H
#define OBJECT_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memleakd.h"
#include "probes/tracer.h"
#include "target/proc_maps.h"

struct object_tables;

/* Tables for tracer tr's rows map, which has room for capacity rows. full:
 * tables for every function (dwarf); else only for functions without frame
 * pointers (auto). *cancel becoming true (set by another thread) stops a
 * table being built. Returns NULL on ENOMEM. */
struct object_tables *object_tables__new(struct tracer *tr, bool full, uint32_t capacity,
					 const volatile bool *cancel);
/* Forgets the objects; their rows stay in the map. Accepts NULL. */
void object_tables__free(struct object_tables *t);

/* Describe executable file mapping m of maps for the BPF side, if its
 * object was opened already (for m or another mapping of the same file):
 * its rows, or none when the object has no table. Returns false, *out
 * untouched, for an object not opened yet. */
bool object_tables__describe(const struct object_tables *t, const struct proc_maps *maps,
			     const struct proc_map *m, struct unwind_mapping *out);
/* Describe executable file mapping m of maps as object_tables__describe
 * does, first opening its object under root_fd and building and loading
 * its table when not opened yet: the slow step, milliseconds to seconds.
 * An object that cannot be read, or ENOMEM, gives a mapping without rows. */
void object_tables__build(struct object_tables *t, const struct proc_maps *maps,
			  const struct proc_map *m, int root_fd, struct unwind_mapping *out);

/* The objects opened, the rows they take, and the room for rows. */
void object_tables__usage(const struct object_tables *t, size_t *objects, uint32_t *rows,
			  uint32_t *capacity);

#endif
