/* process_comm.c - /proc/PID/comm, read in one bounded read. The process
 * sets it (prctl PR_SET_NAME): any byte but NUL may be in it, which its
 * readers escape. */
#include "target/process_comm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int process_comm__read(int proc_fd, char out[static PROCESS_COMM_LEN])
{
	char buf[PROCESS_COMM_LEN + 1];
	int fd = openat(proc_fd, "comm", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n >= PROCESS_COMM_LEN)
		n = PROCESS_COMM_LEN - 1;
	memcpy(out, buf, (size_t)n);
	out[n] = '\0';
	return 0;
}
