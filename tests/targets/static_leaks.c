/* static_leaks.c - leaks in a statically linked program: malloc lives in
 * the executable itself (glibc's, linked with -static), not in a library.
 *
 * After SIGUSR1:
 *
 *   stack (frames[0] <- frames[1])          outstanding  bytes  allocs frees
 *   leak_static_malloc <- chain_static_malloc     64    131072     64     0
 *       64 x malloc(2048)
 *   leak_static_calloc <- chain_static_calloc     32     16384     32     0
 *       32 x calloc(8, 64)
 *   churn_static <- run_leaks                      0         0   1000  1000
 *       1000 x malloc(24 + i % 500) + free
 *
 * Totals: outstanding_allocs 96, outstanding_bytes 147456, allocs 1096,
 * frees 1000, unknown_frees 0. Exactly 2 stacks have outstanding bytes.
 */
#include "target.h"

__attribute__((noinline)) static void leak_static_malloc(void)
{
	for (int i = 0; i < 64; i++)
		target_keep(malloc(2048));
}

__attribute__((noinline)) static void chain_static_malloc(void)
{
	leak_static_malloc();
}

__attribute__((noinline)) static void leak_static_calloc(void)
{
	for (int i = 0; i < 32; i++)
		target_keep(calloc(8, 64));
}

__attribute__((noinline)) static void chain_static_calloc(void)
{
	leak_static_calloc();
}

__attribute__((noinline)) static void churn_static(void)
{
	for (int i = 0; i < 1000; i++) {
		void *p = malloc(24 + i % 500);

		target_touch(p);
		free(p);
	}
}

__attribute__((noinline)) static void run_leaks(void)
{
	chain_static_malloc();
	chain_static_calloc();
	churn_static();
}

int main(void)
{
	target_ready();
	target_wait_start();
	run_leaks();
	target_done();
	target_idle();
	return 0;
}
