/* object_tables.c - the unwind tables of a target's objects: one per
 * build-id, built once, loaded into the BPF rows map once, its rows
 * retired when no mapping of the object is left. */
#include "unwind/object_tables.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "target/elf_object.h"
#include "unwind/row_space.h"
#include "unwind/unwind_table.h"
#include "util/log.h"

/* One object whose table is in the rows map (or could not be). */
struct unwind_object {
	char *key;             /* build-id, or path and inode when it has none */
	uint64_t dev, inode;   /* the file it was read from */
	bool loaded;           /* false: no table (no CFI, unreadable, no room): frame pointers */
	bool no_room;          /* its table did not fit: tried again once rows are reclaimed */
	uint32_t first_row, n_rows;
	uint64_t base;         /* link-time address of row pc 0 */
	uint64_t first_offset; /* file offset of its lowest mapping, */
	uint64_t first_vaddr;  /* and the link-time address there */
};

struct object_tables {
	object_tables_load_fn load;
	void *load_ctx;
	bool full;
	struct row_space *space;
	const volatile bool *cancel;
	struct unwind_object *objects;
	size_t n_objects;
};

struct object_tables *object_tables__new(object_tables_load_fn load, void *ctx, bool full,
					 uint32_t capacity, const volatile bool *cancel)
{
	struct object_tables *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	*t = (struct object_tables){ .load = load, .load_ctx = ctx, .full = full,
				     .space = row_space__new(capacity), .cancel = cancel };
	if (!t->space) {
		free(t);
		return NULL;
	}
	return t;
}

void object_tables__free(struct object_tables *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_objects; i++)
		free(t->objects[i].key);
	free(t->objects);
	row_space__free(t->space);
	free(t);
}

static uint64_t dev_of(const struct proc_map *m)
{
	return (uint64_t)m->dev_major << 32 | m->dev_minor;
}

static struct unwind_object *object_by_file(const struct object_tables *t,
					    const struct proc_map *m)
{
	for (size_t i = 0; i < t->n_objects; i++)
		if (t->objects[i].inode == m->inode && t->objects[i].dev == dev_of(m))
			return &t->objects[i];
	return NULL;
}

static struct unwind_object *object_by_key(struct object_tables *t, const char *key)
{
	for (size_t i = 0; i < t->n_objects; i++)
		if (!strcmp(t->objects[i].key, key))
			return &t->objects[i];
	return NULL;
}

static struct unwind_object *object_add(struct object_tables *t, const struct proc_map *m,
					const char *key)
{
	struct unwind_object *objects = realloc(t->objects, (t->n_objects + 1) * sizeof(*objects));
	struct unwind_object *o;

	if (!objects)
		return NULL;
	t->objects = objects;
	o = &objects[t->n_objects];
	*o = (struct unwind_object){ .key = strdup(key), .dev = dev_of(m), .inode = m->inode };
	if (!o->key)
		return NULL;
	t->n_objects++;
	return o;
}

static void copy_table(struct unwind_object *o, const struct unwind_object *from)
{
	o->loaded = from->loaded;
	o->no_room = from->no_room;
	o->first_row = from->first_row;
	o->n_rows = from->n_rows;
	o->base = from->base;
}

/* Rows for table tab in a free run, loaded; an empty table takes none. */
static int load_table(struct object_tables *t, struct unwind_object *o,
		      const struct unwind_table *tab)
{
	uint32_t n = (uint32_t)tab->n_rows, first = 0;
	int r;

	if (tab->n_rows > UINT32_MAX)
		return -ENOSPC;
	if (n) {
		r = row_space__take(t->space, n, &first);
		if (r < 0)
			return r;
		r = t->load(t->load_ctx, first, tab->rows, n);
		if (r < 0) {
			row_space__give_back(t->space, first, n);
			return r;
		}
	}
	o->first_row = first;
	o->n_rows = n;
	o->base = tab->base;
	o->loaded = true;
	return 0;
}

static double ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 + (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Build and load the table of object o, read from elf. A failure leaves
 * the object to frame pointers, said once. */
static void build_object(struct object_tables *t, struct unwind_object *o, Elf *elf,
			 const struct proc_map *m, struct object_table_note *note)
{
	struct unwind_table *tab = NULL;
	struct timespec start;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &start);
	r = unwind_table__build(elf, t->full, t->cancel, &tab);
	if (r == 0)
		r = load_table(t, o, tab);
	if (r == 0)
		*note = (struct object_table_note){
			.built = true, .rows = tab->n_rows, .bytes = unwind_table__bytes(tab),
			.fdes = tab->n_fdes, .fp_fdes = tab->n_fp_fdes,
			.unsupported = tab->n_unsupported, .ms = ms_since(&start),
		};
	else if (r == -ENOSPC) {
		uint32_t used, capacity;

		o->no_room = true;
		row_space__usage(t->space, &used, &capacity);
		log_warn("unwind table: %s: %zu rows do not fit (%u of %u rows used): its frames "
			 "take the frame-pointer walk", m->path, tab->n_rows, used, capacity);
	}
	else if (r != -ECANCELED)
		log_warn("unwind table: %s: %s: its frames take the frame-pointer walk", m->path,
			 strerror(-r));
	unwind_table__free(tab);
}

/* The bias of file mapping m of object o: its lowest-offset mapping is
 * where the object was opened from the first time. */
static bool bias_of(const struct unwind_object *o, const struct proc_maps *maps,
		    const struct proc_map *m, uint64_t *bias)
{
	const struct proc_map *first = proc_maps__first_of(maps, m);

	if (first->offset != o->first_offset)
		return false;
	*bias = first->start - o->first_vaddr;
	return true;
}

/* The ELF file behind file mapping m, opened under root_fd without its
 * symbols: the table needs only its sections, the key its build-id.
 * Returns 0, *out and the run-time address of its lowest mapping minus the
 * link-time one, or -errno. */
static int open_file(const struct proc_maps *maps, const struct proc_map *m, int root_fd,
		     struct elf_object **out, uint64_t *bias)
{
	const struct proc_map *first = proc_maps__first_of(maps, m);
	char buf[PATH_MAX];
	const char *path;
	uint64_t vaddr;
	int dir_fd;
	int r = proc_maps__object_location(maps, m, root_fd, buf, sizeof(buf), &dir_fd, &path);

	if (r == 0)
		r = elf_object__open_headers(dir_fd, path, out);
	if (r < 0)
		return r;
	r = elf_object__offset_to_vaddr(*out, first->offset, &vaddr);
	if (r < 0) {
		elf_object__free(*out);
		return r;
	}
	*bias = first->start - vaddr;
	return 0;
}

/* Open the object behind file mapping m, not seen before as a file: a
 * known build-id takes the table already loaded, else the table is built.
 * NULL when it cannot be read or on ENOMEM. */
static struct unwind_object *object_open(struct object_tables *t, const struct proc_maps *maps,
					 const struct proc_map *m, int root_fd,
					 struct object_table_note *note)
{
	struct unwind_object *o, *same;
	struct elf_object *elf;
	const char *build_id;
	char key[PATH_MAX + 32];
	uint64_t bias;

	if (open_file(maps, m, root_fd, &elf, &bias) < 0)
		return NULL;
	build_id = elf_object__build_id(elf);
	if (build_id)
		snprintf(key, sizeof(key), "%s", build_id);
	else
		snprintf(key, sizeof(key), "%s:%llu", m->path, (unsigned long long)m->inode);
	same = object_by_key(t, key);
	o = object_add(t, m, key);
	if (o) {
		const struct proc_map *first = proc_maps__first_of(maps, m);

		o->first_offset = first->offset;
		o->first_vaddr = first->start - bias;
		if (same)
			copy_table(o, same);
		else
			build_object(t, o, elf_object__elf(elf), m, note);
	}
	elf_object__free(elf);
	return o;
}

/* Describe file mapping m of object o (NULL: unreadable) for the BPF side. */
static void describe_mapping(const struct unwind_object *o, const struct proc_maps *maps,
			     const struct proc_map *m, struct unwind_mapping *out)
{
	uint64_t bias;

	*out = (struct unwind_mapping){ .start = m->start, .end = m->end, .kind = UNWIND_MAP_TABLE };
	if (o && o->loaded && bias_of(o, maps, m, &bias)) {
		out->first_row = o->first_row;
		out->n_rows = o->n_rows;
		out->table_bias = bias + o->base;
	}
}

bool object_tables__describe(const struct object_tables *t, const struct proc_maps *maps,
			     const struct proc_map *m, struct unwind_mapping *out)
{
	const struct unwind_object *o = object_by_file(t, m);

	if (!o)
		return false;
	describe_mapping(o, maps, m, out);
	return true;
}

void object_tables__build(struct object_tables *t, const struct proc_maps *maps,
			  const struct proc_map *m, int root_fd, struct unwind_mapping *out,
			  struct object_table_note *note)
{
	struct unwind_object *o = object_by_file(t, m);

	*note = (struct object_table_note){ .built = false };
	if (!o)
		o = object_open(t, maps, m, root_fd, note);
	describe_mapping(o, maps, m, out);
}

/* The mappings of every target, as the last scan of each read them. */
struct all_maps {
	const struct proc_maps *const *maps;
	size_t n;
};

/* Whether object o is among the executable mappings of some target. */
static bool still_mapped(const struct unwind_object *o, const struct all_maps *all)
{
	for (size_t t = 0; t < all->n; t++) {
		const struct proc_maps *maps = all->maps[t];

		for (size_t i = 0; i < maps->count; i++) {
			const struct proc_map *m = &maps->maps[i];

			if (m->executable && m->path && m->inode == o->inode && dev_of(m) == o->dev)
				return true;
		}
	}
	return false;
}

/* Whether another object than o holds o's rows. */
static bool rows_shared(const struct object_tables *t, const struct unwind_object *o)
{
	for (size_t i = 0; i < t->n_objects; i++)
		if (&t->objects[i] != o && t->objects[i].loaded && t->objects[i].n_rows &&
		    t->objects[i].first_row == o->first_row)
			return true;
	return false;
}

/* Forget the objects for which keep(o, all) is false. */
static void forget(struct object_tables *t, const struct all_maps *all,
		   bool (*keep)(const struct unwind_object *o, const struct all_maps *all))
{
	size_t i = 0;

	while (i < t->n_objects) {
		struct unwind_object *o = &t->objects[i];

		if (keep(o, all)) {
			i++;
			continue;
		}
		if (o->loaded && o->n_rows && !rows_shared(t, o))
			row_space__retire(t->space, o->first_row, o->n_rows);
		free(o->key);
		*o = t->objects[--t->n_objects];
	}
}

static bool had_room(const struct unwind_object *o, const struct all_maps *all)
{
	(void)all;
	return !o->no_room;
}

bool object_tables__forget_unmapped(struct object_tables *t, const struct proc_maps *const *maps,
				    size_t n)
{
	const struct all_maps all = { .maps = maps, .n = n };

	forget(t, &all, still_mapped);
	if (!row_space__retiring(t->space))
		return false;
	forget(t, &all, had_room);
	return true;
}

void object_tables__reclaim(struct object_tables *t)
{
	row_space__reclaim(t->space);
}

void object_tables__usage(const struct object_tables *t, size_t *objects, uint32_t *rows,
			  uint32_t *capacity)
{
	*objects = t->n_objects;
	row_space__usage(t->space, rows, capacity);
}
