/* preload_leaks.c - leaks through whichever malloc the process ends up
 * with: the tests run it with LD_PRELOAD set to tcmalloc or mimalloc, whose
 * malloc family then replaces glibc's for the whole process.
 *
 * After SIGUSR1:
 *
 *   stack (frames[0] <- frames[1])           outstanding  bytes  allocs frees
 *   leak_preload_malloc <- chain_preload_malloc   150    105000    150     0
 *       150 x malloc(700)
 *   leak_preload_calloc <- chain_preload_calloc    60     24000     60     0
 *       60 x calloc(4, 100)
 *   grow_preload <- leak_preload_realloc            1     65536      3     2
 *       malloc(32), then grow_preload: realloc to 2048, then to 65536; each
 *       realloc retires the old record (1 free + 1 alloc)
 *   churn_preload <- run_leaks                      0         0   5000  5000
 *       5000 x malloc(8 + i * 13 % 1500) + free
 *
 * Totals: outstanding_allocs 211, outstanding_bytes 194536, allocs 5213,
 * frees 5002, unknown_frees 0. Exactly 3 stacks have outstanding bytes.
 */
#include "target.h"

__attribute__((noinline)) static void leak_preload_malloc(void)
{
	for (int i = 0; i < 150; i++)
		target_keep(malloc(700));
}

__attribute__((noinline)) static void chain_preload_malloc(void)
{
	leak_preload_malloc();
}

__attribute__((noinline)) static void leak_preload_calloc(void)
{
	for (int i = 0; i < 60; i++)
		target_keep(calloc(4, 100));
}

__attribute__((noinline)) static void chain_preload_calloc(void)
{
	leak_preload_calloc();
}

__attribute__((noinline)) static void *grow_preload(void *p, size_t size)
{
	void *q = realloc(p, size);

	if (!q)
		target_die("realloc failed");
	return q;
}

__attribute__((noinline)) static void leak_preload_realloc(void)
{
	void *p = malloc(32);

	target_touch(p);
	p = grow_preload(p, 2048);
	p = grow_preload(p, 65536);
	target_keep(p);
}

__attribute__((noinline)) static void churn_preload(void)
{
	for (int i = 0; i < 5000; i++) {
		void *p = malloc(8 + i * 13 % 1500);

		target_touch(p);
		free(p);
	}
}

__attribute__((noinline)) static void run_leaks(void)
{
	chain_preload_malloc();
	chain_preload_calloc();
	leak_preload_realloc();
	churn_preload();
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
