/* sampling_leaks.c - many small leaks and fewer large ones, for sampled
 * mode (--sample-bytes): a sample of each must stand for the whole.
 *
 *   stack (frames[0] <- frames[1])       outstanding  bytes     allocs
 *   leak_small <- chain_small            200000 x malloc(64)    12800000
 *   leak_large <- chain_large            20000 x malloc(4096)   81920000
 *   churn <- run                         100000 x malloc(128) + free, all
 *                                        freed: no stack, and no free of an
 *                                        unsampled block is counted
 *
 * With the argument "nested", only this instead: a custom allocator over
 * another over malloc, all three traced (--alloc outer_alloc:size=1
 * --alloc inner_alloc:size=1), where only the outermost call counts:
 *
 *   leak_nested <- chain_nested          200000 x outer_alloc(64)   12800000
 *       outer_alloc(n) returns inner_alloc(n), which returns malloc(n)
 *
 * Everything on the main thread, after SIGUSR1; the pointers are kept in
 * arrays of this file (target_keep holds far fewer).
 */
#include "target.h"

#include <stdbool.h>

#define SMALL_COUNT 200000
#define SMALL_SIZE 64
#define LARGE_COUNT 20000
#define LARGE_SIZE 4096
#define CHURN_COUNT 100000
#define CHURN_SIZE 128

#define API __attribute__((noinline, noclone, used))

static void *small[SMALL_COUNT];
static void *large[LARGE_COUNT];

__attribute__((noinline)) static void leak_small(void)
{
	for (int i = 0; i < SMALL_COUNT; i++) {
		small[i] = malloc(SMALL_SIZE);
		target_touch(small[i]);
	}
}

__attribute__((noinline)) static void chain_small(void)
{
	leak_small();
}

API void *inner_alloc(size_t n)
{
	return malloc(n);
}

API void *outer_alloc(size_t n)
{
	return inner_alloc(n);
}

__attribute__((noinline)) static void leak_nested(void)
{
	for (int i = 0; i < SMALL_COUNT; i++) {
		small[i] = outer_alloc(SMALL_SIZE);
		target_touch(small[i]);
	}
}

__attribute__((noinline)) static void chain_nested(void)
{
	leak_nested();
}

__attribute__((noinline)) static void leak_large(void)
{
	for (int i = 0; i < LARGE_COUNT; i++) {
		large[i] = malloc(LARGE_SIZE);
		target_touch(large[i]);
	}
}

__attribute__((noinline)) static void chain_large(void)
{
	leak_large();
}

__attribute__((noinline)) static void churn(void)
{
	TARGET_CHURN(CHURN_COUNT, malloc(CHURN_SIZE), free(p));
}

int main(int argc, char **argv)
{
	bool nested = argc == 2 && !strcmp(argv[1], "nested");

	target_ready();
	target_wait_start();
	if (nested) {
		chain_nested();
	} else {
		chain_small();
		chain_large();
		churn();
	}
	target_done();
	target_idle();
	return 0;
}
