/* object_tables.h - the unwind tables of the targets' objects, in the BPF
 * rows map. Each object's table is built once (unwind_table.h) and loaded
 * once, keyed by build-id (by path and inode without one), so every
 * mapping of the same object, under any path, shares its rows. An object
 * whose table cannot be built or does not fit is left to the
 * frame-pointer walk. The rows of an object no mapping holds any more are
 * retired, then reclaimed for other tables (row_space.h). Only the
 * publisher's thread (unwind_publisher.h) uses it; it logs the tables it
 * cannot build or load (warning), since that thread has no caller to hand
 * errors to, and says what it built (object_table_note). */
#ifndef OBJECT_TABLES_H
#define OBJECT_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memleakd.h"
#include "target/proc_maps.h"

struct object_tables;

/* Writes rows[0, n) at first in the rows map; returns 0 or -errno. */
typedef int (*object_tables_load_fn)(void *ctx, uint32_t first, const struct unwind_row *rows,
				     uint32_t n);

/* Tables for a rows map with room for capacity rows, which load(ctx, ...)
 * fills. full: tables for every function (dwarf); else only for functions
 * without frame pointers (auto). *cancel becoming true (set by another
 * thread) stops a table being built. Returns NULL on ENOMEM. */
struct object_tables *object_tables__new(object_tables_load_fn load, void *ctx, bool full,
					 uint32_t capacity, const volatile bool *cancel);
/* Forgets the objects; their rows stay in the map. Accepts NULL. */
void object_tables__free(struct object_tables *t);

/* Describe executable file mapping m of maps for the BPF side, if its
 * object was opened already (for m or another mapping of the same file):
 * its rows, or none when the object has no table. Returns false, *out
 * untouched, for an object not opened yet. */
bool object_tables__describe(const struct object_tables *t, const struct proc_maps *maps,
			     const struct proc_map *m, struct unwind_mapping *out);
/* A table just built and loaded: for the line the publisher logs once it
 * is published, since stacks through the object are exact from then on. */
struct object_table_note {
	bool built;
	size_t rows, bytes, fdes, fp_fdes, unsupported;
	double ms; /* to build and load it */
};

/* Describe executable file mapping m of maps as object_tables__describe
 * does, first opening its object under root_fd and building and loading
 * its table when not opened yet: the slow step, milliseconds to seconds.
 * An object that cannot be read, or ENOMEM, gives a mapping without rows.
 * *note says whether a table was built and loaded. */
void object_tables__build(struct object_tables *t, const struct proc_maps *maps,
			  const struct proc_map *m, int root_fd, struct unwind_mapping *out,
			  struct object_table_note *note);

/* Forget the objects none of whose executable mappings is in maps[0..n)
 * any more (the mappings of every target), and retire their rows (unless
 * an object still mapped shares them). Call it once the maps have been
 * published: the rows are reclaimed only by object_tables__reclaim, when
 * no BPF program reads an older publication. Returns whether rows wait to
 * be reclaimed; then the objects whose table did not fit are forgotten
 * too, to be opened again with the room made. */
bool object_tables__forget_unmapped(struct object_tables *t, const struct proc_maps *const *maps,
				    size_t n);
/* The rows retired become free for other tables. */
void object_tables__reclaim(struct object_tables *t);

/* The objects opened, the rows they take, and the room for rows. */
void object_tables__usage(const struct object_tables *t, size_t *objects, uint32_t *rows,
			  uint32_t *capacity);

#endif
