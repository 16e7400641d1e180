/* execfn.c - the path a process ran its executable by (execfn.h).
 *
 * The kernel names an executable by the file it resolved: Debian's
 * redis-server is a link to redis-check-rdb, so /proc/PID/exe and the
 * maps say /usr/bin/redis-check-rdb where the user started, and looks
 * for, redis-server. The name given to execve is in the process's memory,
 * where the auxiliary vector's AT_EXECFN points. The process controls that
 * memory: the name is taken only when it resolves, under the process's
 * root, to the file /proc/PID/exe is (same device and inode), so it can
 * only be another name of the same file. */
#include "target/execfn.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/process_image.h"
#include "target/target.h"
#include "target/target_file.h"

/* The auxiliary vector is a few dozen pairs. */
#define AUXV_MAX 4096
#define PAGE 4096u

/* AT_EXECFN's value, from /proc/PID/auxv. */
static int execfn_address(const struct target *t, uint64_t *addr)
{
	Elf64_auxv_t auxv[AUXV_MAX / sizeof(Elf64_auxv_t)];
	int fd = openat(t->proc_fd, "auxv", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, auxv, sizeof(auxv));
	close(fd);
	if (n < 0)
		return -errno;
	for (size_t i = 0; i < (size_t)n / sizeof(auxv[0]) && auxv[i].a_type != AT_NULL; i++)
		if (auxv[i].a_type == AT_EXECFN) {
			*addr = auxv[i].a_un.a_val;
			return 0;
		}
	return -ENOENT;
}

/* The NUL-terminated string at addr, read a page at most at a time (the
 * string ends near the top of the stack): 0, or -ENOENT when none ends
 * within PATH_MAX bytes. */
static int read_string(const struct target *t, uint64_t addr, char buf[static PATH_MAX])
{
	size_t got = 0;

	while (got < PATH_MAX) {
		size_t len = PAGE - (addr + got) % PAGE;
		int r;

		if (len > PATH_MAX - got)
			len = PATH_MAX - got;
		r = process_image__read(t->pid, t->pidfd, addr + got, buf + got, len);
		if (r < 0)
			return r;
		if (memchr(buf + got, '\0', len))
			return 0;
		got += len;
	}
	return -ENOENT;
}

/* Is path, under the process's root, the file /proc/PID/exe is? */
static bool same_file(const struct target *t, const char *path)
{
	struct stat exe, st;
	int fd = target_file_open(t->root_fd, path);
	bool same;

	if (fd < 0)
		return false;
	same = fstat(fd, &st) == 0 && fstatat(t->proc_fd, "exe", &exe, 0) == 0 &&
	       st.st_dev == exe.st_dev && st.st_ino == exe.st_ino;
	close(fd);
	return same;
}

int execfn_read(const struct target *t, const char *exe, char **out)
{
	char name[PATH_MAX];
	uint64_t addr = 0;
	int r = execfn_address(t, &addr);

	if (r == 0)
		r = read_string(t, addr, name);
	if (r == -EFAULT)
		r = -ENOENT;
	if (r < 0)
		return r;
	if (name[0] != '/' || (exe && !strcmp(name, exe)) || !same_file(t, name))
		return -ENOENT;
	*out = strdup(name);
	return *out ? 0 : -ENOMEM;
}
