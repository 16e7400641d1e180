/* target.c - inspect a live process without stopping it: /proc/PID files
 * and, for the dynamic linker's search order, its link_map chain read with
 * process_vm_readv (the r_debug structure that debuggers use). */
#include "target/target.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "target/elf_object.h"
#include "target/execfn.h"
#include "target/process_image.h"

/* A link_map chain longer than this is taken as corrupt. */
#define MAX_LINK_MAPS 4096

/* Offsets in glibc's public struct link_map and struct r_debug (<link.h>),
 * stable ABI on x86-64. */
#define R_DEBUG_R_MAP 8
#define R_DEBUG_R_STATE 24
#define LINK_MAP_L_LD 16
#define LINK_MAP_L_NEXT 24

/* The mapping of the executable: the one whose file is /proc/PID/exe. */
static const struct proc_map *exe_mapping(const struct target *t)
{
	struct stat st;

	if (fstatat(t->proc_fd, "exe", &st, 0))
		return NULL;
	for (size_t i = 0; i < t->maps->count; i++) {
		const struct proc_map *m = &t->maps->maps[i];

		if (m->path && m->inode == st.st_ino &&
		    makedev(m->dev_major, m->dev_minor) == st.st_dev)
			return m;
	}
	return NULL;
}

/* The pidfd first: a /proc directory opened after it, while the pidfd
 * says the process still lives, is that process's. */
static int open_handles(struct target *t)
{
	char path[64];

	t->pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
	if (t->pidfd < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d", t->pid);
	t->proc_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->proc_fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	if (syscall(SYS_pidfd_send_signal, t->pidfd, 0, NULL, 0) < 0)
		return -ESRCH;
	t->root_fd = openat(t->proc_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->root_fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	return 0;
}

/* The maps name the executable by the file the kernel resolved: name it
 * as the process ran it, the frames read as the user knows it. */
static int rename_executable(struct target *t)
{
	for (size_t i = 0; t->exe_file && i < t->maps->count; i++) {
		struct proc_map *m = &t->maps->maps[i];
		char *name;

		if (!m->path || strcmp(m->path, t->exe_file))
			continue;
		name = strdup(t->exe);
		if (!name)
			return -ENOMEM;
		free(m->path);
		m->path = name;
	}
	return 0;
}

/* t->exe and t->exe_file from file, /proc/PID/exe (taken; NULL when out
 * of memory): the name the process ran it by, when that is another. */
static void name_executable(struct target *t, char *file)
{
	char *run_by = NULL;

	if (!file)
		return;
	free(t->exe);
	free(t->exe_file);
	if (execfn_read(t, file, &run_by) < 0) {
		t->exe = file;
		t->exe_file = NULL;
		return;
	}
	t->exe = run_by;
	t->exe_file = file;
}

int target__open(int pid, uint32_t index, struct target **out)
{
	struct target *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->pid = pid;
	t->index = index;
	t->root_fd = t->pidfd = t->proc_fd = -1;
	r = open_handles(t);
	if (r < 0)
		goto fail;
	r = proc_maps__read_at(t->proc_fd, pid, t->pidfd, &t->maps);
	if (r < 0)
		goto fail;
	/* No executable mapping: a kernel thread, or a process exiting. */
	if (!exe_mapping(t)) {
		r = -ESRCH;
		goto fail;
	}
	target__read_names(t);
	r = rename_executable(t);
	if (r < 0)
		goto fail;
	*out = t;
	return 0;
fail:
	target__free(t);
	return r;
}

int target__refresh_maps(struct target *t)
{
	struct proc_maps *maps;
	int r = proc_maps__read_at(t->proc_fd, t->pid, t->pidfd, &maps);

	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	/* An empty maps file is what a zombie shows. */
	if (maps->count == 0) {
		proc_maps__free(maps);
		return -ESRCH;
	}
	proc_maps__free(t->maps);
	t->maps = maps;
	return rename_executable(t);
}

int target__read_names(struct target *t)
{
	char comm[sizeof(t->comm)], exe[PATH_MAX];
	ssize_t n;
	int fd = openat(t->proc_fd, "comm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, comm, sizeof(comm));
	close(fd);
	if (n > 0) {
		const char *newline = memchr(comm, '\n', (size_t)n);
		size_t len = newline ? (size_t)(newline - comm) : (size_t)n;

		len = len < sizeof(t->comm) - 1 ? len : sizeof(t->comm) - 1;
		memcpy(t->comm, comm, len);
		t->comm[len] = '\0';
	}
	n = readlinkat(t->proc_fd, "exe", exe, sizeof(exe) - 1);
	if (n > 0)
		name_executable(t, strndup(exe, (size_t)n));
	return 0;
}

/* Uprobes attach by path: the object as the process sees it, through its
 * root, or through map_files when the file was deleted. */
static int attach_path(const struct target *t, const struct proc_map *m, const char *opened,
		       char **out)
{
	if (proc_map__deleted(m)) {
		*out = strdup(opened);
		return *out ? 0 : -ENOMEM;
	}
	return asprintf(out, "/proc/%d/root%s", t->pid, m->path) < 0 ? -ENOMEM : 0;
}

/* The bias comes from the lowest-offset mapping: its file offset converts
 * to one link-time address, where a later mapping can start in a page
 * that two segments share. */
int target__open_object(const struct target *t, const struct proc_map *m,
			struct target_object *out)
{
	const struct proc_map *first;
	struct target_object o = { .map = m };
	char buf[PATH_MAX];
	const char *path;
	uint64_t vaddr;
	int dir_fd;
	int r = proc_maps__object_location(t->maps, m, t->root_fd, buf, sizeof(buf), &dir_fd, &path);

	if (r < 0)
		return r;
	r = elf_object__open(dir_fd, path, &o.elf);
	if (r < 0)
		return r;
	first = proc_maps__first_of(t->maps, m);
	r = elf_object__offset_to_vaddr(o.elf, first->offset, &vaddr);
	if (r == 0)
		r = attach_path(t, m, path, &o.attach_path);
	if (r < 0) {
		target_object__clear(&o);
		return r;
	}
	o.bias = first->start - vaddr;
	*out = o;
	return 0;
}

void target_object__clear(struct target_object *o)
{
	elf_object__free(o->elf);
	free(o->attach_path);
	*o = (struct target_object){ 0 };
}

/* The run-time address of the executable's r_debug, from DT_DEBUG in its
 * dynamic section as loaded; 0 when it has none (static) or it is unset. */
static int find_r_debug(const struct target *t, uint64_t *r_debug)
{
	const struct proc_map *exe = exe_mapping(t);
	struct target_object obj;
	uint64_t dyn, bias;
	Elf64_Dyn d;
	int r;

	*r_debug = 0;
	if (!exe)
		return -ESRCH;
	r = target__open_object(t, exe, &obj);
	if (r < 0)
		return r;
	dyn = elf_object__dynamic_vaddr(obj.elf);
	bias = obj.bias;
	target_object__clear(&obj);
	if (!dyn)
		return 0;
	for (uint64_t at = bias + dyn;; at += sizeof(d)) {
		r = process_image__read(t->pid, t->pidfd, at, &d, sizeof(d));
		if (r < 0 || d.d_tag == DT_NULL)
			return r;
		if (d.d_tag == DT_DEBUG) {
			*r_debug = d.d_un.d_ptr;
			return 0;
		}
	}
}

int target__link_state(const struct target *t, int *state)
{
	uint64_t r_debug;
	int32_t value;
	int r = find_r_debug(t, &r_debug);

	if (r < 0)
		return r;
	if (!r_debug)
		return -ENOENT;
	r = process_image__read(t->pid, t->pidfd, r_debug + R_DEBUG_R_STATE, &value, sizeof(value));
	if (r == 0)
		*state = value;
	return r;
}

static int push_object(const struct proc_map ***objects, size_t *n, const struct proc_map *m)
{
	const struct proc_map **p;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*objects)[i]->path, m->path))
			return 0;
	p = realloc(*objects, (*n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	p[(*n)++] = m;
	*objects = p;
	return 0;
}

/* Walk link_map from r_debug; each object is named by the mapping holding
 * its dynamic section (l_ld), which sidesteps path spellings such as /lib
 * versus /usr/lib. */
static int walk_link_maps(const struct target *t, uint64_t r_debug,
			  const struct proc_map ***objects, size_t *n)
{
	uint64_t lm, l_ld;
	int r = process_image__read(t->pid, t->pidfd, r_debug + R_DEBUG_R_MAP, &lm, sizeof(lm));

	for (int i = 0; !r && lm && i < MAX_LINK_MAPS; i++) {
		const struct proc_map *m;

		r = process_image__read(t->pid, t->pidfd, lm + LINK_MAP_L_LD, &l_ld, sizeof(l_ld));
		if (r < 0)
			break;
		m = proc_maps__find(t->maps, l_ld);
		if (m && m->path && m->path[0] == '/')
			r = push_object(objects, n, m);
		if (!r)
			r = process_image__read(t->pid, t->pidfd, lm + LINK_MAP_L_NEXT, &lm, sizeof(lm));
	}
	return r;
}

int target__search_order(const struct target *t, const struct proc_map ***out, size_t *n_out)
{
	const struct proc_map **objects = NULL;
	const struct proc_map *exe = exe_mapping(t);
	uint64_t r_debug;
	size_t n = 0;
	int r;

	if (!exe)
		return -ESRCH;
	r = push_object(&objects, &n, exe);
	if (r < 0)
		goto fail;
	r = find_r_debug(t, &r_debug);
	if (r < 0)
		goto fail;
	if (r_debug) {
		r = walk_link_maps(t, r_debug, &objects, &n);
		if (r < 0)
			goto fail;
	}
	*out = objects;
	*n_out = n;
	return 0;
fail:
	free(objects);
	return r;
}

void target__free(struct target *t)
{
	if (!t)
		return;
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->proc_fd >= 0)
		close(t->proc_fd);
	if (t->root_fd >= 0)
		close(t->root_fd);
	proc_maps__free(t->maps);
	free(t->exe);
	free(t->exe_file);
	free(t);
}
