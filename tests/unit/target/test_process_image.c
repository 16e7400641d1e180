/* test_process_image.c - reading a live process's memory: this process's
 * own, where the vDSO is always mapped, and the errors of an unmapped
 * address and of a process that does not exist; and a pid that now names
 * another process than the one meant, which the pidfd tells: this
 * process's pid read with the pidfd of a child that is gone. */
#include <elf.h>
#include <errno.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "target/process_image.h"
#include "unit.h"

TEST(read_errors)
{
	char buf[16];
	uint64_t vdso = getauxval(AT_SYSINFO_EHDR);

	EXPECT_EQ(process_image__read(getpid(), -1, 0, buf, sizeof(buf)), -EFAULT);
	EXPECT(vdso != 0);
	EXPECT_EQ(process_image__read(getpid(), -1, vdso, buf, 4), 0);
	EXPECT(!memcmp(buf, ELFMAG, SELFMAG));
	EXPECT_EQ(process_image__read(0x7fffffff, -1, vdso, buf, 4), -ESRCH);
}

/* A child's pidfd, then the child is reaped: its pid may go to anyone now. */
static int gone_child(void)
{
	pid_t child = fork();
	int pidfd;

	if (child == 0) {
		pause();
		_exit(0);
	}
	EXPECT(child > 0);
	pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	EXPECT(pidfd >= 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return pidfd;
}

TEST(reused_pid_is_not_read)
{
	uint64_t vdso = getauxval(AT_SYSINFO_EHDR);
	int own = (int)syscall(SYS_pidfd_open, getpid(), 0);
	int pidfd = gone_child();
	char buf[4];

	EXPECT_EQ(process_image__read(getpid(), own, vdso, buf, 4), 0);
	EXPECT_EQ(process_image__read(getpid(), pidfd, vdso, buf, 4), -ESRCH);
	close(own);
	close(pidfd);
}

RUN_TESTS("process_image", T(read_errors), T(reused_pid_is_not_read))
