/* test_seccomp_check.c - reading a process's seccomp mode, and the check
 * that return probes get through a filter. The modes are read from
 * children confined each way (strict, a filter) and from this process,
 * unconfined. The check runs on this kernel (Linux 6.18, which exempts
 * the uretprobe system call from seccomp): it must find that they pass,
 * having seen its probe fire; it needs root (perf_event_open of a uprobe),
 * as memleakd does. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probes/seccomp_check.h"
#include "unit.h"

/* A child confined as mode says: its pid. It writes to *ready_fd once
 * confined, and exits once *hold_fd is closed. */
static pid_t confined_child(enum seccomp_mode mode, int *ready_fd, int *hold_fd)
{
	struct sock_filter allow_all[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { .len = 1, .filter = allow_all };
	int ready[2], hold[2];
	pid_t pid;
	char c;

	if (pipe(ready))
		return -1;
	if (pipe(hold)) {
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		if (mode == SECCOMP_STRICT) {
			if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL))
				_exit(1);
		} else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
			   syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
			_exit(1);
		}
		/* Strict mode allows read, write and exit, no more. */
		if (write(ready[1], "r", 1) == 1)
			while (read(hold[0], &c, 1) > 0)
				;
		syscall(SYS_exit, 0);
	}
	close(ready[1]);
	close(hold[0]);
	*ready_fd = ready[0];
	*hold_fd = hold[1];
	return pid;
}

static int proc_dir(pid_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static enum seccomp_mode mode_of_child(enum seccomp_mode confined)
{
	enum seccomp_mode mode = 99;
	int ready_fd, hold_fd, dir, status;
	pid_t pid = confined_child(confined, &ready_fd, &hold_fd);
	char c;

	EXPECT(pid > 0);
	if (pid <= 0)
		return mode;
	EXPECT_EQ(read(ready_fd, &c, 1), 1);
	dir = proc_dir(pid);
	EXPECT_EQ(seccomp_check__mode(dir, &mode), 0);
	close(hold_fd);
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ready_fd);
	close(dir);
	return mode;
}

TEST(modes_are_read)
{
	enum seccomp_mode mode = 99;
	int dir = proc_dir(getpid());

	EXPECT_EQ(seccomp_check__mode(dir, &mode), 0);
	EXPECT_EQ(mode, SECCOMP_NONE);
	close(dir);
	EXPECT_EQ(mode_of_child(SECCOMP_STRICT), SECCOMP_STRICT);
	EXPECT_EQ(mode_of_child(SECCOMP_FILTERED), SECCOMP_FILTERED);
	EXPECT_STREQ(seccomp_check__mode_name(SECCOMP_STRICT), "strict");
	EXPECT_STREQ(seccomp_check__mode_name(SECCOMP_FILTERED), "filter");
}

/* A process gone: its /proc directory is there, its status is not. */
TEST(gone_process_is_esrch)
{
	enum seccomp_mode mode = 99;
	pid_t pid = fork();
	int dir, status;

	if (pid == 0)
		_exit(0);
	dir = proc_dir(pid);
	waitpid(pid, &status, 0);
	EXPECT_EQ(seccomp_check__mode(dir, &mode), -ESRCH);
	EXPECT_EQ(mode, 99);
	close(dir);
}

TEST(return_probes_pass_on_this_kernel)
{
	bool passes = false;

	EXPECT_EQ(seccomp_check__return_probes(&passes), 0);
	EXPECT(passes);
}

RUN_TESTS("seccomp_check", T(modes_are_read), T(gone_process_is_esrch),
	  T(return_probes_pass_on_this_kernel))
