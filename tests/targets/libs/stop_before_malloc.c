/* stop_before_malloc.c - a library to LD_PRELOAD into a real program so that
 * memleakd can attach before its first malloc: the process stops itself
 * (SIGSTOP) once every object is loaded and libc is mapped, and goes on when
 * it gets SIGCONT. tests/integration/probes/test_valgrind.py builds it.
 *
 * A constructor would run too late: the dynamic linker initialises a
 * preloaded object after every other library, whose constructors may
 * allocate (libstdc++'s emergency exception pool does). The stop is in an
 * IFUNC resolver instead, which the dynamic linker calls while it relocates
 * this object: after libc is relocated, before it switches its own
 * allocations from its minimal malloc to libc's, and before any
 * constructor. So early, the resolver makes raw system calls only.
 *
 * The constructor then takes LD_PRELOAD out of the environment (unsetenv
 * allocates nothing), so that the program sees the same environment
 * natively and under valgrind, which puts its own libraries in LD_PRELOAD;
 * programs that copy their environment (python3's os.environ) allocate
 * alike in both.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>

static long raw_syscall2(long nr, long a, long b)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static void stopped(void)
{
}

static void (*stop_before_malloc(void))(void)
{
	raw_syscall2(SYS_kill, raw_syscall2(SYS_getpid, 0, 0), SIGSTOP);
	return stopped;
}

/* The relocation of stop_reference resolves stop_point: the resolver runs. */
void stop_point(void) __attribute__((ifunc("stop_before_malloc")));
void (*const volatile stop_reference)(void) = stop_point;

__attribute__((constructor)) static void scrub_environment(void)
{
	unsetenv("LD_PRELOAD");
}
