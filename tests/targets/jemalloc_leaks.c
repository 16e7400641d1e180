/* jemalloc_leaks.c - leaks through jemalloc (linked with -ljemalloc, so
 * jemalloc provides malloc and free for the whole process) and through its
 * own API. Debian's jemalloc has no symbol prefix: mallocx, dallocx and
 * sdallocx are exported under those names by libjemalloc.so.2.
 *
 * After SIGUSR1:
 *
 *   stack (frames[0] <- frames[1])    outstanding  bytes   allocs  frees
 *   leak_je_malloc <- chain_je_malloc     200     102400     200      0
 *       200 x malloc(512)
 *   leak_mallocx <- chain_mallocx         100     200000     100      0
 *       100 x mallocx(2000, 0)
 *   grow_rallocx <- leak_rallocx           10      50000      20     10
 *       10 x mallocx(100, 0) in start_rallocx, then rallocx(p, 5000, 0) in
 *       grow_rallocx: jemalloc's realloc, so 1 free + 1 alloc, and the
 *       block is recorded under grow_rallocx
 *   churn_dallocx <- run_leaks              0          0    1000   1000
 *       1000 x mallocx(300, 0) + dallocx(p, 0)
 *   churn_sdallocx <- run_leaks             0          0    1000   1000
 *       1000 x mallocx(400, 0) + sdallocx(p, 400, 0)
 *   churn_free <- run_leaks                 0          0     500    500
 *       500 x malloc(100) + free
 *
 * Totals: outstanding_allocs 310, outstanding_bytes 352400, allocs 2820,
 * frees 2510, unknown_frees 0. Exactly 3 stacks have outstanding bytes.
 */
#include "target.h"

#include <jemalloc/jemalloc.h>

__attribute__((noinline)) static void leak_je_malloc(void)
{
	for (int i = 0; i < 200; i++)
		target_keep(malloc(512));
}

__attribute__((noinline)) static void chain_je_malloc(void)
{
	leak_je_malloc();
}

__attribute__((noinline)) static void leak_mallocx(void)
{
	for (int i = 0; i < 100; i++)
		target_keep(mallocx(2000, 0));
}

__attribute__((noinline)) static void chain_mallocx(void)
{
	leak_mallocx();
}

__attribute__((noinline)) static void *start_rallocx(void)
{
	return mallocx(100, 0);
}

__attribute__((noinline)) static void *grow_rallocx(void *p)
{
	return rallocx(p, 5000, 0);
}

__attribute__((noinline)) static void leak_rallocx(void)
{
	for (int i = 0; i < 10; i++) {
		void *p = start_rallocx();

		target_touch(p);
		target_keep(grow_rallocx(p));
	}
}

__attribute__((noinline)) static void churn_dallocx(void)
{
	for (int i = 0; i < 1000; i++) {
		void *p = mallocx(300, 0);

		target_touch(p);
		dallocx(p, 0);
	}
}

__attribute__((noinline)) static void churn_sdallocx(void)
{
	for (int i = 0; i < 1000; i++) {
		void *p = mallocx(400, 0);

		target_touch(p);
		sdallocx(p, 400, 0);
	}
}

__attribute__((noinline)) static void churn_free(void)
{
	for (int i = 0; i < 500; i++) {
		void *p = malloc(100);

		target_touch(p);
		free(p);
	}
}

__attribute__((noinline)) static void run_leaks(void)
{
	chain_je_malloc();
	chain_mallocx();
	leak_rallocx();
	churn_dallocx();
	churn_sdallocx();
	churn_free();
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
