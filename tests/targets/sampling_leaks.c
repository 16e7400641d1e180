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
 * Everything on the main thread, after SIGUSR1; the pointers are kept in
 * arrays of this file (target_keep holds far fewer).
 */
#include "target.h"

#define SMALL_COUNT 200000
#define SMALL_SIZE 64
#define LARGE_COUNT 20000
#define LARGE_SIZE 4096
#define CHURN_COUNT 100000
#define CHURN_SIZE 128

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

int main(void)
{
	target_ready();
	target_wait_start();
	chain_small();
	chain_large();
	churn();
	target_done();
	target_idle();
	return 0;
}
