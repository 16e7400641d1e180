/* mapped_object.c - whether the opened object is the one the process
 * mapped, by the two build-ids (build_id.h reads and compares them), and
 * else the fallback to /proc/PID/map_files. A mapping whose build-id
 * cannot be read (no note in its first pages, a 32-bit image, the process
 * gone) is taken on trust: there is nothing to say the file is wrong. */
#include "symbols/mapped_object.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "target/build_id.h"

/* The file the process mapped at map, if map_files still reaches it and it
 * has build-id want: 0 and *out, -ENOMEM, or another -errno. */
static int open_mapped_file(const struct proc_maps *maps, const struct proc_map *map,
			    const char *want, struct elf_object **out)
{
	struct elf_object *o;
	char path[128], name[64];
	int r;

	snprintf(name, sizeof(name), "map_files/%" PRIx64 "-%" PRIx64, map->start, map->end);
	r = proc_maps__proc_path(maps, name, path, sizeof(path));
	if (r == 0)
		r = elf_object__open(AT_FDCWD, path, &o);
	if (r < 0)
		return r;
	if (!build_id_matches(want, elf_object__build_id(o))) {
		elf_object__free(o);
		return -ESTALE;
	}
	*out = o;
	return 0;
}

int mapped_object__verify(const struct proc_maps *maps, const struct proc_map *map,
			  struct elf_object **obj, char **mapped_build_id)
{
	const struct proc_map *first = proc_maps__first_of(maps, map);
	struct elf_object *reopened;
	char *id = NULL;
	int r;

	*mapped_build_id = NULL;
	if (!maps->pid || first->offset != 0)
		return MAPPED_UNCHECKED;
	r = build_id_from_mapping(maps->pid, maps->pidfd, first->start, first->end, &id);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return MAPPED_UNCHECKED;
	if (*obj && build_id_matches(id, elf_object__build_id(*obj))) {
		*mapped_build_id = id;
		return MAPPED_MATCH;
	}
	r = open_mapped_file(maps, map, id, &reopened);
	if (r == -ENOMEM) {
		free(id);
		return r;
	}
	*mapped_build_id = id;
	if (r < 0 && !*obj)
		return MAPPED_MISSING;
	elf_object__free(*obj);
	*obj = r < 0 ? NULL : reopened;
	return r < 0 ? MAPPED_MISMATCH : MAPPED_REOPENED;
}
