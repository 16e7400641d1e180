/* proc_maps.h - the memory mappings of a process, as /proc/PID/maps lists
 * them. The parser reads any FILE *, so tests feed it fixtures. */
#ifndef PROC_MAPS_H
#define PROC_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct proc_map {
	uint64_t start, end; /* [start, end) */
	uint64_t offset;     /* file offset of start */
	uint64_t inode;
	unsigned int dev_major, dev_minor;
	bool readable, writable, executable;
	char *path; /* as the kernel prints it; NULL for anonymous memory */
};

struct proc_maps {
	int pid; /* whose maps these are; 0 when parsed from elsewhere */
	/* The process's /proc directory (O_PATH) and pidfd, borrowed from its
	 * target (-1 when read by pid alone): files read through proc_fd, and
	 * memory read while pidfd says it lives, are that process's even once
	 * its pid has gone to another. */
	int proc_fd, pidfd;
	size_t count;
	struct proc_map *maps; /* sorted by start, as the kernel lists them */
};

/* Parse a maps file. Returns 0 and a new proc_maps in *out, -EINVAL on a
 * malformed line, -ENOMEM; *out is untouched on failure. */
int proc_maps__parse(FILE *f, struct proc_maps **out);
/* Read /proc/PID/maps: as proc_maps__parse, or -errno from open (-ENOENT
 * when the process is gone, -EACCES). */
int proc_maps__read(int pid, struct proc_maps **out);
/* Read the maps of process pid through proc_fd, its /proc directory,
 * keeping proc_fd and pidfd (borrowed, see struct proc_maps). Returns as
 * proc_maps__read; -ENOENT or -ESRCH once the process is gone. */
int proc_maps__read_at(int proc_fd, int pid, int pidfd, struct proc_maps **out);
/* The path of file name in the process's /proc directory, into buf of
 * len bytes: through proc_fd when there is one, else by pid. Returns 0, or
 * -ENAMETOOLONG. */
int proc_maps__proc_path(const struct proc_maps *m, const char *name, char *buf, size_t len);
/* The mapping that contains addr, or NULL. */
const struct proc_map *proc_maps__find(const struct proc_maps *m, uint64_t addr);
/* The mapping of the same file as m with the lowest file offset: where
 * the object's first segment is loaded. */
const struct proc_map *proc_maps__first_of(const struct proc_maps *maps, const struct proc_map *m);
/* How the kernel marks the path of a file unlinked or replaced after mapping. */
#define PROC_MAP_DELETED_SUFFIX " (deleted)"

/* True when the kernel marks m's file as unlinked or replaced. */
bool proc_map__deleted(const struct proc_map *m);
/* Where the file behind m can be opened: *dir_fd and a path for openat().
 * A deleted file is reached through /proc/PID/map_files (the path is
 * written into buf, of len bytes); any other under root_fd by its own path.
 * Returns 0, or -ENAMETOOLONG. */
int proc_maps__object_location(const struct proc_maps *maps, const struct proc_map *m,
			       int root_fd, char *buf, size_t len, int *dir_fd, const char **path);
/* Accepts NULL. */
void proc_maps__free(struct proc_maps *m);

#endif
