/* process_select.c - resolve --exe and --cgroup, and find the processes
 * that match them among those running. Each process is looked at through
 * its /proc directory, opened once; one that goes meanwhile is skipped. */
#include "target/process_select.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util/array.h"

#define CGROUP2_SUPER_MAGIC 0x63677270
/* Deeper cgroup trees than this are not walked (the BPF side's bound). */
#define CGROUP_MAX_DEPTH 32

__attribute__((format(printf, 3, 4))) static int fail(char **error, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(error, fmt, ap) < 0)
		*error = NULL;
	va_end(ap);
	return r;
}

static int resolve_exe(const char *path, struct process_filter *f, char **error)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return fail(error, -errno, "--exe: %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(error, -EINVAL, "--exe: %s is not a file", path);
	f->dev[f->n_files] = st.st_dev;
	f->ino[f->n_files++] = st.st_ino;
	return 0;
}

/* A cgroup v2 directory's id is its inode number. */
static int resolve_cgroup(const char *path, struct process_filter *f, char **error)
{
	struct statfs sfs;
	struct stat st;

	if (stat(path, &st) < 0)
		return fail(error, -errno, "--cgroup: %s: %s", path, strerror(errno));
	if (statfs(path, &sfs) < 0)
		return fail(error, -errno, "--cgroup: %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return fail(error, -EINVAL, "--cgroup: %s is not a cgroup v2 directory (they are "
			    "under the cgroup2 file system, /sys/fs/cgroup on most systems)", path);
	f->cgroups[f->n_cgroups++] = st.st_ino;
	return 0;
}

int process_select_resolve(const char *const *exes, size_t n_exes, const char *const *cgroups,
			   size_t n_cgroups, struct process_filter *f, char **error)
{
	int r = 0;

	if (n_exes > MEMLEAKD_MAX_WATCHED)
		return fail(error, -EINVAL, "--exe: at most %d files", MEMLEAKD_MAX_WATCHED);
	if (n_cgroups > MEMLEAKD_MAX_WATCHED)
		return fail(error, -EINVAL, "--cgroup: at most %d cgroups", MEMLEAKD_MAX_WATCHED);
	for (size_t i = 0; i < n_exes && r == 0; i++)
		r = resolve_exe(exes[i], f, error);
	for (size_t i = 0; i < n_cgroups && r == 0; i++)
		r = resolve_cgroup(cgroups[i], f, error);
	return r;
}

bool process_select_runs_file(const struct process_filter *f, int proc_fd)
{
	struct stat st;

	if (!f->n_files)
		return true;
	if (fstatat(proc_fd, "exe", &st, 0) < 0)
		return false;
	for (size_t i = 0; i < f->n_files; i++)
		if (f->dev[i] == st.st_dev && f->ino[i] == st.st_ino)
			return true;
	return false;
}

struct pid_list {
	int *pids;
	size_t n, cap;
};

static int add_pid(struct pid_list *l, int pid)
{
	int r;

	for (size_t i = 0; i < l->n; i++)
		if (l->pids[i] == pid)
			return 0;
	r = array_grow((void **)&l->pids, &l->cap, l->n, sizeof(*l->pids), 64);
	if (r == 0)
		l->pids[l->n++] = pid;
	return r;
}

/* Keep pid if it runs one of f's files; a process gone is no error. */
static int consider(const struct process_filter *f, int pid, struct pid_list *l)
{
	char path[32];
	bool runs;
	int fd;

	if (pid == getpid())
		return 0;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	runs = process_select_runs_file(f, fd);
	close(fd);
	return runs ? add_pid(l, pid) : 0;
}

static int read_procs(const struct process_filter *f, int dir_fd, struct pid_list *l)
{
	int fd = openat(dir_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	FILE *in = fd >= 0 ? fdopen(fd, "r") : NULL;
	int pid, r = 0;

	if (!in) {
		if (fd >= 0)
			close(fd);
		return errno == ENOENT ? 0 : -errno;
	}
	while (r == 0 && fscanf(in, "%d", &pid) == 1)
		r = consider(f, pid, l);
	fclose(in);
	return r;
}

/* The processes of the cgroup dir_fd (closed here) and its descendants. */
static int walk_cgroup(const struct process_filter *f, int dir_fd, int depth, struct pid_list *l)
{
	DIR *d;
	struct dirent *e;
	int r = read_procs(f, dir_fd, l);

	if (r < 0 || depth >= CGROUP_MAX_DEPTH || !(d = fdopendir(dir_fd))) {
		close(dir_fd);
		return r;
	}
	while (r == 0 && (e = readdir(d))) {
		int child;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		child = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (child >= 0)
			r = walk_cgroup(f, child, depth + 1, l);
	}
	closedir(d);
	return r;
}

static int scan_proc(const struct process_filter *f, struct pid_list *l)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int r = 0;

	if (!d)
		return -errno;
	while (r == 0 && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end == '\0' && pid > 0)
			r = consider(f, (int)pid, l);
	}
	closedir(d);
	return r;
}

int process_select_scan(const struct process_filter *f, const char *const *cgroups,
			size_t n_cgroups, int **pids, size_t *n)
{
	struct pid_list l = { 0 };
	int r = 0;

	for (size_t i = 0; i < n_cgroups && r == 0; i++) {
		int fd = open(cgroups[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		r = fd < 0 ? -errno : walk_cgroup(f, fd, 0, &l);
	}
	if (!n_cgroups)
		r = scan_proc(f, &l);
	if (r < 0) {
		free(l.pids);
		return r;
	}
	*pids = l.pids;
	*n = l.n;
	return 0;
}
