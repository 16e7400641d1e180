/* process_image.c - a live process's memory, read with process_vm_readv:
 * one call per range, no ptrace stop, and a partial read is an error, as
 * callers want whole headers and whole images or nothing. The pidfd check
 * comes after the read: a process alive then was alive during it, and its
 * pid could not have been anyone else's. */
#include "target/process_image.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int process_image__read(pid_t pid, int pidfd, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return -ESRCH;
	return (size_t)n == len ? 0 : -EFAULT;
}
