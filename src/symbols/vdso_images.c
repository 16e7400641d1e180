/* vdso_images.c - vDSO images read out of processes, kept by content: the
 * kernel's build-id note would do as a key, but comparing the few pages
 * of the image needs no parsing and cannot be fooled by a missing note. */
#include "symbols/vdso_images.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target/process_image.h"

/* The vDSO is a few pages; a [vdso] mapping larger than this is not one. */
#define VDSO_MAX (1 << 20)

struct entry {
	unsigned char *bytes;
	size_t len;
	struct vdso_image image;
};

struct vdso_images {
	bool demangle;
	struct entry *entries;
	size_t n;
	/* The last mapping asked for, and its entry. */
	pid_t last_pid;
	uint64_t last_start, last_end;
	size_t last;
};

struct vdso_images *vdso_images__new(bool demangle)
{
	struct vdso_images *v = calloc(1, sizeof(*v));

	if (v)
		v->demangle = demangle;
	return v;
}

void vdso_images__free(struct vdso_images *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		object_symbols__free(v->entries[i].image.names);
		elf_object__free(v->entries[i].image.obj);
		free(v->entries[i].bytes);
	}
	free(v->entries);
	free(v);
}

/* Takes bytes. 0 and the new entry's index in *at, or -errno. */
static int add_entry(struct vdso_images *v, unsigned char *bytes, size_t len, size_t *at)
{
	struct entry e = { .bytes = bytes, .len = len };
	struct entry *grown;
	int r;

	r = elf_object__open_memory(bytes, len, &e.image.obj);
	if (r == 0)
		r = object_symbols__new(e.image.obj, v->demangle, &e.image.names);
	grown = r == 0 ? realloc(v->entries, (v->n + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		object_symbols__free(e.image.names);
		elf_object__free(e.image.obj);
		free(bytes);
		return r < 0 ? r : -ENOMEM;
	}
	v->entries = grown;
	v->entries[v->n] = e;
	*at = v->n++;
	return 0;
}

/* The entry of the image in map, read now: 0 and *at, or -errno. */
static int find_entry(struct vdso_images *v, const struct proc_maps *maps,
		      const struct proc_map *map, size_t *at)
{
	size_t len = map->end - map->start;
	unsigned char *bytes;
	int r;

	if (len > VDSO_MAX)
		return -ENOEXEC;
	bytes = malloc(len);
	if (!bytes)
		return -ENOMEM;
	r = process_image__read(maps->pid, maps->pidfd, map->start, bytes, len);
	if (r < 0) {
		free(bytes);
		return r;
	}
	for (size_t i = 0; i < v->n; i++) {
		if (v->entries[i].len == len && !memcmp(v->entries[i].bytes, bytes, len)) {
			free(bytes);
			*at = i;
			return 0;
		}
	}
	return add_entry(v, bytes, len, at);
}

int vdso_images__get(struct vdso_images *v, const struct proc_maps *maps,
		     const struct proc_map *map, const struct vdso_image **out)
{
	size_t at;
	int r;

	if (v->n && maps->pid == v->last_pid && map->start == v->last_start && map->end == v->last_end) {
		*out = &v->entries[v->last].image;
		return 0;
	}
	r = find_entry(v, maps, map, &at);
	if (r < 0)
		return r;
	v->last_pid = maps->pid;
	v->last_start = map->start;
	v->last_end = map->end;
	v->last = at;
	*out = &v->entries[at].image;
	return 0;
}
