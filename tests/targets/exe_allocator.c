/* exe_allocator.c - the executable itself provides malloc (exported with
 * -rdynamic), and one call leaves it by longjmp.
 *
 * malloc/free/calloc/realloc here wrap glibc's __libc_* functions, so every
 * allocation of the process, libc's included, goes through this executable
 * and memleakd must trace it, not libc. malloc(LONGJMP_SIZE) while armed
 * never returns: it longjmps back to run(), leaving memleakd an in-flight
 * record for a call that will not return. After SIGUSR1:
 *
 *   stack (frames[0] <- frames[1])          allocs   bytes
 *   shallow_leak <- run                        10      3000   right after the longjmp
 *   deep_leak <- deeper <- deep <- run         20      8000   after 1.2 s, from
 *       frames deeper than the abandoned call: counted only once the
 *       abandoned record is recognised as stale
 *
 * Totals: outstanding_allocs 30, outstanding_bytes 11000, allocs 30,
 * frees 0, unknown_frees 0.
 */
#include "target.h"

#include <setjmp.h>
#include <string.h>
#include <time.h>

#define LONGJMP_SIZE 12345

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static jmp_buf escape;
static volatile int armed;

void *malloc(size_t n)
{
	if (armed && n == LONGJMP_SIZE) {
		armed = 0;
		longjmp(escape, 1);
	}
	return __libc_malloc(n);
}

void free(void *p)
{
	__libc_free(p);
}

void *calloc(size_t nmemb, size_t n)
{
	return __libc_calloc(nmemb, n);
}

void *realloc(void *p, size_t n)
{
	return __libc_realloc(p, n);
}

/* The padding puts the abandoned call below shallow_leak's calls. */
__attribute__((noinline)) static void escape_from_malloc(void)
{
	char pad[1024];

	memset(pad, 0, sizeof(pad));
	target_sink = pad;
	armed = 1;
	target_keep(malloc(LONGJMP_SIZE));
}

__attribute__((noinline)) static void shallow_leak(void)
{
	for (int i = 0; i < 10; i++)
		target_keep(malloc(300));
}

__attribute__((noinline)) static void deep_leak(void)
{
	for (int i = 0; i < 20; i++)
		target_keep(malloc(400));
}

/* Burn stack so that deep_leak's malloc runs below the abandoned call. */
__attribute__((noinline)) static void deeper(void)
{
	char pad[4096];

	memset(pad, 0, sizeof(pad));
	target_sink = pad;
	deep_leak();
}

__attribute__((noinline)) static void deep(void)
{
	char pad[4096];

	memset(pad, 0, sizeof(pad));
	target_sink = pad;
	deeper();
}

__attribute__((noinline)) static void run(void)
{
	struct timespec wait = { .tv_sec = 1, .tv_nsec = 200000000 };

	if (!setjmp(escape))
		escape_from_malloc();
	shallow_leak();
	nanosleep(&wait, NULL);
	deep();
}

int main(void)
{
	target_ready();
	target_wait_start();
	run();
	target_done();
	target_idle();
}
