/* mapped_object.h - is the file opened for a mapping the object the process
 * mapped? A path names whatever is there now: a binary rebuilt and renamed
 * over the old one, or a container's file seen from elsewhere, has other
 * code at other addresses, and its names would be wrong. The build-id the
 * process has in memory settles it. Library code: it returns -errno and
 * never logs. */
#ifndef MAPPED_OBJECT_H
#define MAPPED_OBJECT_H

#include "target/elf_object.h"
#include "target/proc_maps.h"

/* How mapped_object__verify decided. */
enum mapped_verdict {
	MAPPED_UNCHECKED, /* no build-id in memory to compare (or no live pid): *obj kept */
	MAPPED_MATCH,     /* *obj has the mapped build-id */
	MAPPED_REOPENED,  /* *obj replaced by the file the process mapped, via map_files */
	MAPPED_MISMATCH,  /* *obj freed and NULL: no file with the mapped build-id */
	MAPPED_MISSING,   /* *obj was NULL and map_files gave nothing either */
};

/* Check *obj (NULL when the file could not be opened; owned by the caller)
 * against the build-id of the object maps->pid mapped at map, read from
 * its first mapping in memory. When they differ, or *obj is NULL, the
 * object is opened through /proc/PID/map_files/START-END instead, the exact
 * file the process mapped while it is alive and map_files is readable
 * (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE). *mapped_build_id gets the
 * mapped build-id as hex (the caller frees it; NULL when unknown). Returns
 * the verdict, or -ENOMEM with *obj unchanged. */
int mapped_object__verify(const struct proc_maps *maps, const struct proc_map *map,
			  struct elf_object **obj, char **mapped_build_id);

#endif
