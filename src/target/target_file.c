/* target_file.c - openat2 with RESOLVE_IN_ROOT, O_NONBLOCK until the file
 * is known to be regular. Without openat2 (kernels before 5.6) a lookup
 * cannot be kept inside a root: it goes ahead only when the target's root
 * is memleakd's own, where there is nothing to stay inside. */
#include "target/target_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)

static bool is_own_root(int root_fd)
{
	struct stat ours, theirs;

	return stat("/", &ours) == 0 && fstat(root_fd, &theirs) == 0 &&
	       ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
}

static int open_in_root(int root_fd, const char *path)
{
	struct open_how how = { .flags = OPEN_FLAGS, .resolve = RESOLVE_IN_ROOT };
	int fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));

	if (fd >= 0 || errno != ENOSYS)
		return fd < 0 ? -errno : fd;
	if (!is_own_root(root_fd))
		return -ENOSYS;
	fd = open(path, OPEN_FLAGS);
	return fd < 0 ? -errno : fd;
}

int target_file_open(int root_fd, const char *path)
{
	struct stat st;
	int fd, r = 0;

	fd = root_fd == AT_FDCWD ? open(path, OPEN_FLAGS) : open_in_root(root_fd, path);
	if (fd < 0)
		return root_fd == AT_FDCWD ? -errno : fd;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if (fcntl(fd, F_SETFL, O_RDONLY) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}
