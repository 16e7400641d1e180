/* no_malloc.c - a process with no allocator at all, for memleakd's
 * "no malloc" error. It uses no libc: raw system calls only.
 *
 * The integration test builds the libc-free program itself:
 *
 *   gcc -O1 -g -static -nostdlib -fno-stack-protector -e main no_malloc.c
 *
 * It prints "ready <pid>" (write(2)), then sleeps in pause(2) until killed;
 * its only mappings are the executable, its stack, [vdso] and [vvar].
 * The Makefile's generic rule also builds it as an ordinary program linked
 * with libc, which has malloc; the tests do not use that build.
 */
#include <sys/syscall.h>

static long raw_syscall(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

/* Entered directly by the kernel when built with -e main: the stack is
 * aligned for a call instruction, not for a function body. */
__attribute__((force_align_arg_pointer)) int main(void)
{
	char line[32] = "ready ";
	char digits[16];
	long pid = raw_syscall(SYS_getpid, 0, 0, 0);
	int len = 6;
	int n = 0;

	do {
		digits[n++] = '0' + pid % 10;
		pid /= 10;
	} while (pid);
	while (n)
		line[len++] = digits[--n];
	line[len++] = '\n';
	raw_syscall(SYS_write, 1, (long)line, len);
	for (;;)
		raw_syscall(SYS_pause, 0, 0, 0);
}
