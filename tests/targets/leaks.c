/* leaks.c - every way glibc's malloc family can leak, with exact numbers.
 *
 * Before "ready" (so before memleakd attaches): 5 x malloc(100), kept in
 * early[]. After SIGUSR1, run_leaks() (called from main) runs these chains;
 * the first function named is frames[0] of the stack, the second frames[1]:
 *
 *   stack (frames[0] <- frames[1])       outstanding  bytes   allocs  frees
 *   leak_malloc <- chain_malloc             100       100000     100      0
 *       100 x malloc(1000)
 *   leak_calloc <- chain_calloc              50        12000      50      0
 *       50 x calloc(10, 24)
 *   grow_buffer <- leak_realloc               1       100000       4      3
 *       start_buffer: malloc(16), then grow_buffer: realloc to 64, 4096,
 *       100000; each realloc retires the old record (1 free + 1 alloc) and
 *       the survivor is recorded under the last realloc's stack
 *   leak_posix_memalign <- chain_posix_memalign
 *                                            20        60000      20      0
 *       20 x posix_memalign(&p, 64, 3000)
 *   leak_aligned_alloc <- chain_aligned_alloc
 *                                            30        15360      30      0
 *       30 x aligned_alloc(256, 512)
 *   leak_realloc_null <- chain_realloc_null  40         8000      40      0
 *       40 x realloc(NULL, 200): a malloc (glibc's realloc calls malloc)
 *   leak_reallocarray <- chain_reallocarray  25        20000      25      0
 *       25 x reallocarray(NULL, 8, 100) (which calls realloc, which calls
 *       malloc: one allocation each)
 *   leak_mmapped <- chain_mmapped             3      3145728       3      0
 *       3 x malloc(1 MiB), above the mmap threshold
 *   leak_failed_realloc <- chain_failed_realloc
 *                                             4         4936       4      0
 *       4 x malloc(1234), then realloc(p, 2^62), which fails and leaves
 *       the block allocated where it was: still recorded under its malloc
 *   bounded_cache <- chain_cache              8         2048    1008   1000
 *       8 slots of malloc(256), then 1000 times: free one slot, refill it
 *   churn_all_freed <- chain_churn            0            0   10000  10000
 *       10000 x malloc(16 + i * 37 % 2000) + free
 *   alloc_for_realloc_free <- free_via_realloc
 *                                             0            0      10     10
 *       10 x malloc(500), each freed by realloc(p, 0)
 *   failed_allocations <- run_leaks: 3 x malloc(2^62) and 2 x calloc(2^32,
 *       2^32), which return NULL, and 2 x posix_memalign(&p, 3, 100), which
 *       fails (EINVAL) and leaves p as it was, 0x1000
 *                                             0            0       0      0
 *   free_early <- run_leaks: free() of the 5 early pointers
 *                                             -            -       0      5
 *
 * Totals: outstanding_allocs 281, outstanding_bytes 3468072, allocs 11294,
 * frees 11018, unknown_frees 5 (the early pointers). Exactly 10 stacks have
 * outstanding bytes. Nothing else is allocated after SIGUSR1: stdout's
 * buffer exists since "ready". leak_malloc makes the first allocations.
 */
#include "target.h"

#define EARLY_COUNT 5

static void *early[EARLY_COUNT];
/* Read through volatiles so that the compiler cannot turn realloc(NULL, n)
 * into malloc(n), or otherwise fold or warn about the calls. */
static void *volatile null_ptr;
static volatile size_t zero_size;
static volatile size_t huge_size = (size_t)1 << 62;
static volatile size_t half_huge_size = (size_t)1 << 32;
static volatile size_t bad_alignment = 3;

__attribute__((noinline)) static void alloc_before_attach(void)
{
	for (int i = 0; i < EARLY_COUNT; i++) {
		early[i] = malloc(100);
		target_touch(early[i]);
	}
}

__attribute__((noinline)) static void leak_malloc(void)
{
	for (int i = 0; i < 100; i++)
		target_keep(malloc(1000));
}

__attribute__((noinline)) static void chain_malloc(void)
{
	leak_malloc();
}

__attribute__((noinline)) static void leak_calloc(void)
{
	for (int i = 0; i < 50; i++)
		target_keep(calloc(10, 24));
}

__attribute__((noinline)) static void chain_calloc(void)
{
	leak_calloc();
}

__attribute__((noinline)) static void *start_buffer(void)
{
	return malloc(16);
}

__attribute__((noinline)) static void *grow_buffer(void *p, size_t size)
{
	void *q = realloc(p, size);

	if (!q)
		target_die("realloc failed");
	return q;
}

__attribute__((noinline)) static void leak_realloc(void)
{
	void *p = start_buffer();

	target_touch(p);
	p = grow_buffer(p, 64);
	p = grow_buffer(p, 4096);
	p = grow_buffer(p, 100000);
	target_keep(p);
}

__attribute__((noinline)) static void chain_realloc(void)
{
	leak_realloc();
}

__attribute__((noinline)) static void leak_posix_memalign(void)
{
	for (int i = 0; i < 20; i++) {
		void *p;

		if (posix_memalign(&p, 64, 3000))
			target_die("posix_memalign failed");
		target_keep(p);
	}
}

__attribute__((noinline)) static void chain_posix_memalign(void)
{
	leak_posix_memalign();
}

__attribute__((noinline)) static void leak_aligned_alloc(void)
{
	for (int i = 0; i < 30; i++)
		target_keep(aligned_alloc(256, 512));
}

__attribute__((noinline)) static void chain_aligned_alloc(void)
{
	leak_aligned_alloc();
}

__attribute__((noinline)) static void leak_realloc_null(void)
{
	for (int i = 0; i < 40; i++)
		target_keep(realloc(null_ptr, 200));
}

__attribute__((noinline)) static void chain_realloc_null(void)
{
	leak_realloc_null();
}

__attribute__((noinline)) static void leak_reallocarray(void)
{
	for (int i = 0; i < 25; i++)
		target_keep(reallocarray(null_ptr, 8, 100));
}

__attribute__((noinline)) static void chain_reallocarray(void)
{
	leak_reallocarray();
}

__attribute__((noinline)) static void leak_mmapped(void)
{
	for (int i = 0; i < 3; i++)
		target_keep(malloc(1 << 20));
}

__attribute__((noinline)) static void chain_mmapped(void)
{
	leak_mmapped();
}

__attribute__((noinline)) static void leak_failed_realloc(void)
{
	for (int i = 0; i < 4; i++) {
		void *p = malloc(1234);

		target_keep(p);
		if (realloc(p, huge_size))
			target_die("realloc(p, 2^62) succeeded");
	}
}

__attribute__((noinline)) static void chain_failed_realloc(void)
{
	leak_failed_realloc();
}

__attribute__((noinline)) static void failed_allocations(void)
{
	for (int i = 0; i < 3; i++)
		if (malloc(huge_size))
			target_die("malloc(2^62) succeeded");
	for (int i = 0; i < 2; i++)
		if (calloc(half_huge_size, half_huge_size))
			target_die("calloc(2^32, 2^32) succeeded");
	for (int i = 0; i < 2; i++) {
		void *p = (void *)0x1000;

		if (!posix_memalign(&p, bad_alignment, 100) || p != (void *)0x1000)
			target_die("posix_memalign(&p, 3, 100) succeeded");
	}
}

__attribute__((noinline)) static void bounded_cache(void)
{
	static void *slots[8];

	for (int i = 0; i < 8; i++) {
		slots[i] = malloc(256);
		target_touch(slots[i]);
	}
	for (int i = 0; i < 1000; i++) {
		free(slots[i % 8]);
		slots[i % 8] = malloc(256);
		target_touch(slots[i % 8]);
	}
}

__attribute__((noinline)) static void chain_cache(void)
{
	bounded_cache();
}

__attribute__((noinline)) static void churn_all_freed(void)
{
	for (int i = 0; i < 10000; i++) {
		void *p = malloc(16 + i * 37 % 2000);

		target_touch(p);
		free(p);
	}
}

__attribute__((noinline)) static void chain_churn(void)
{
	churn_all_freed();
}

__attribute__((noinline)) static void *alloc_for_realloc_free(void)
{
	return malloc(500);
}

__attribute__((noinline)) static void free_via_realloc(void)
{
	for (int i = 0; i < 10; i++) {
		void *p = alloc_for_realloc_free();

		target_touch(p);
		/* glibc: realloc(p, 0) frees p and returns NULL. */
		if (realloc(p, zero_size))
			target_die("realloc(p, 0) did not free");
	}
}

__attribute__((noinline)) static void free_early(void)
{
	for (int i = 0; i < EARLY_COUNT; i++)
		free(early[i]);
}

__attribute__((noinline)) static void run_leaks(void)
{
	chain_malloc();
	chain_calloc();
	chain_realloc();
	chain_posix_memalign();
	chain_aligned_alloc();
	chain_realloc_null();
	chain_reallocarray();
	chain_mmapped();
	chain_failed_realloc();
	failed_allocations();
	chain_cache();
	chain_churn();
	free_via_realloc();
	free_early();
}

int main(void)
{
	alloc_before_attach();
	target_ready();
	target_wait_start();
	run_leaks();
	target_done();
	target_idle();
	return 0;
}
