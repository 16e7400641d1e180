/* target.h - a process being traced: its pid, its index in the BPF keys,
 * its names, handles that outlive it (its root directory, a pidfd that
 * signals its exit), its mappings, the order in which its dynamic linker
 * searches objects for a symbol, and whether that linker is done loading
 * them. */
#ifndef TARGET_H
#define TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "target/proc_maps.h"

struct elf_object;

struct target {
	int pid;
	uint32_t index;
	int root_fd;    /* O_PATH fd of /proc/PID/root: objects open through it, even after exit */
	int pidfd;      /* becomes readable when the process exits */
	/* O_PATH fd of /proc/PID: its files stay this process's, never those of
	 * a later process given the same pid */
	int proc_fd;
	struct proc_maps *maps;
	char comm[16];  /* its name, /proc/PID/comm ("" when unreadable) */
	char *exe;      /* its executable's path as it ran it: the name given to
			 * execve when that is a link to the file (execfn.h), else
			 * /proc/PID/exe; or NULL */
	char *exe_file; /* /proc/PID/exe when exe is another name for it, else NULL:
			 * the maps' name for it, which t->maps shows as exe */
};

/* Open process pid. Returns 0 and *out, -ESRCH for no such process, -EACCES,
 * -ENOMEM. */
int target__open(int pid, uint32_t index, struct target **out);
/* Re-read the mappings. -ESRCH once the process is gone: the last mappings
 * read are kept for naming what it left behind. */
int target__refresh_maps(struct target *t);
/* The loaded objects, one mapping of each, in the order the dynamic linker
 * searches them for a symbol: the executable, LD_PRELOADed objects, then the
 * others in load order. Read from the process's link_map chain; for a
 * statically linked executable, just the executable. Returns 0 with *objects
 * (pointing into t->maps; the array is the caller's to free) and *n, or
 * -errno. */
int target__search_order(const struct target *t, const struct proc_map ***objects, size_t *n);
/* Read comm and exe again (a process renames itself, or execs). Returns 0,
 * or -ESRCH once the process is gone: the names last read are kept. */
int target__read_names(struct target *t);
/* The dynamic linker's r_debug.r_state (<link.h>: RT_CONSISTENT,
 * RT_ADD, RT_DELETE): whether it is done adding or removing objects.
 * Returns 0 and *state, -ENOENT when the executable has no r_debug, or not
 * yet (a static executable; a dynamic one before its linker set it up), or
 * -errno from reading the process. */
int target__link_state(const struct target *t, int *state);
/* Accepts NULL. */
void target__free(struct target *t);

/* One object the process maps, opened for reading and for probing. */
struct target_object {
	const struct proc_map *map; /* a mapping of it, in the target's maps */
	struct elf_object *elf;
	char *attach_path;          /* where uprobes attach: through the process's
				     * root, or its map_files entry once deleted */
	uint64_t bias;              /* run-time address minus link-time address */
};

/* Open the object behind mapping m of t. Returns 0 and fills *out, or
 * -errno (-ENOENT, -ENOEXEC, -ENOMEM); *out is untouched on failure. */
int target__open_object(const struct target *t, const struct proc_map *m,
			struct target_object *out);
/* Release what target__open_object filled in; accepts a zeroed struct. */
void target_object__clear(struct target_object *o);

#endif
