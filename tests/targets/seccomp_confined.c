/* seccomp_confined.c - allocates under a seccomp filter that allows only
 * the system calls it makes itself. A return probe may send the traced
 * thread through a system call of the kernel's own (uretprobe, Linux 6.11
 * on x86-64), which such a filter does not list: if the kernel filtered
 * it, tracing would kill or crash the process.
 *
 * Usage: seccomp_confined MODE, MODE one of
 *   kill    a filter whose default is SECCOMP_RET_KILL_PROCESS (systemd's
 *           SystemCallFilter=, a sandbox)
 *   errno   a filter whose default is SECCOMP_RET_ERRNO(ENOSYS) (Docker's
 *           default profile answers EPERM the same way)
 *   strict  SECCOMP_MODE_STRICT: read, write, exit and rt_sigreturn only
 *
 * In kill and errno modes it confines itself before "ready", so that
 * memleakd attaches to a process already confined, as it does to a
 * service started confined; in strict mode, which allows no sigwait,
 * after SIGUSR1. After SIGUSR1:
 *
 *   leak_confined <- chain_confined: 100 x malloc(200), kept
 *   grow_confined <- chain_confined: malloc(100), realloc to 300, kept
 *   churn_confined: 1000 x (malloc(64), free)
 *
 * prints "done" and, in kill and errno modes, waits for SIGTERM and
 * exits 0 (exit_group); in strict mode, which allows neither sigwait nor
 * exit_group, it exits 0 at once with exit(2), its only thread. Warmed up
 * before "ready", the heap serves every allocation without a system call.
 * Totals: allocs 1000 + 100 + 2, frees 1000 + 1, outstanding 101 blocks,
 * 100 x 200 + 300 bytes.
 */
#include "target.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define LEAKS 100
#define CHURN 1000
/* Blocks allocated and freed before "ready": the heap grows once, and
 * stays under glibc's trim threshold (128 KiB) so that free keeps it. */
#define WARM_BLOCKS 200
#define WARM_SIZE 256

static char out_buffer[4096];

#define ALLOW(nr)                                              \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),       \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static void confine(const char *mode)
{
	struct sock_filter kill_filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		ALLOW(__NR_write),
		ALLOW(__NR_getpid),
		ALLOW(__NR_rt_sigtimedwait),
		ALLOW(__NR_rt_sigprocmask),
		ALLOW(__NR_rt_sigreturn),
		ALLOW(__NR_exit_group),
		ALLOW(__NR_exit),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = {
		.len = sizeof(kill_filter) / sizeof(kill_filter[0]),
		.filter = kill_filter,
	};

	if (!strcmp(mode, "strict")) {
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL))
			target_die("seccomp strict");
		return;
	}
	if (!strcmp(mode, "errno"))
		kill_filter[prog.len - 1].k = SECCOMP_RET_ERRNO | ENOSYS;
	else if (strcmp(mode, "kill"))
		target_die("usage: seccomp_confined kill|errno|strict");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		target_die("PR_SET_NO_NEW_PRIVS");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		target_die("seccomp filter");
}

__attribute__((noinline)) static void leak_confined(void)
{
	for (int i = 0; i < LEAKS; i++)
		target_keep(malloc(200));
}

__attribute__((noinline)) static void grow_confined(void)
{
	void *p = malloc(100);

	target_touch(p);
	target_keep(realloc(p, 300));
}

__attribute__((noinline)) static void chain_confined(void)
{
	leak_confined();
	grow_confined();
}

__attribute__((noinline)) static void churn_confined(void)
{
	TARGET_CHURN(CHURN, malloc(64), free(p));
}

static void warm_heap(void)
{
	static void *blocks[WARM_BLOCKS];

	for (int i = 0; i < WARM_BLOCKS; i++)
		blocks[i] = malloc(WARM_SIZE);
	for (int i = 0; i < WARM_BLOCKS; i++)
		free(blocks[i]);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		target_die("usage: seccomp_confined kill|errno|strict");
	warm_heap();
	if (strcmp(argv[1], "strict")) {
		/* stdout's own buffer would be allocated at the first output,
		 * after an fstat the filter does not allow. */
		setvbuf(stdout, out_buffer, _IOLBF, sizeof(out_buffer));
		confine(argv[1]);
	}
	target_ready();
	target_wait_start();
	if (!strcmp(argv[1], "strict"))
		confine(argv[1]);
	chain_confined();
	churn_confined();
	target_done();
	if (!strcmp(argv[1], "strict"))
		syscall(SYS_exit, 0);
	target_idle();
	return 0;
}
