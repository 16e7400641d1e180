/* diff_growth.c - a program whose outstanding memory changes from one
 * round of work to the next, for `memleakd diff` (test_diff.py). Each
 * SIGUSR1 runs one round, then prints "done"; SIGTERM exits 0. Every chain
 * is called from the same call site of run_round each round, so a stack is
 * the same stack in every report:
 *
 *   stack (frames[0] <- frames[1])   after round 1    after round 2
 *   leak_grow <- chain_grow          10 x 1000 bytes  20 x 1000   grown
 *       10 x malloc(1000) every round
 *   leak_steady <- chain_steady       5 x 300          5 x 300    unchanged
 *   fill_shrink <- chain_shrink       8 x 500          5 x 500    shrunk
 *       round 2 frees 3 of the 8
 *   fill_gone <- chain_gone           4 x 700          -          gone
 *       round 2 frees all 4
 *   leak_late <- chain_late           -                6 x 900    new
 *
 * Outstanding: 18300 bytes in 27 allocations after round 1, 29400 in 36
 * after round 2 (+11100, +9). Later rounds only grow leak_grow. Nothing
 * else allocates: stdout's buffer exists since "ready".
 */
#include "target.h"

#define SHRINK_COUNT 8
#define SHRINK_FREED 3
#define GONE_COUNT 4

TARGET_LEAK(grow, 10, malloc(1000))
TARGET_LEAK(steady, 5, malloc(300))
TARGET_LEAK(late, 6, malloc(900))

/* fill_NAME: COUNT x malloc(SIZE) into NAME_blocks, which release()
 * frees in part; chain_NAME calls it. */
#define FILL(name, count, size)                                          \
	static void *name##_blocks[count];                               \
	__attribute__((noinline)) static void fill_##name(void)         \
	{                                                                \
		for (int i = 0; i < (count); i++) {                      \
			name##_blocks[i] = malloc(size);                 \
			target_touch(name##_blocks[i]);                  \
		}                                                        \
	}                                                                \
	__attribute__((noinline)) static void chain_##name(void)        \
	{                                                                \
		fill_##name();                                           \
	}

FILL(shrink, SHRINK_COUNT, 500)
FILL(gone, GONE_COUNT, 700)

__attribute__((noinline)) static void release(void)
{
	for (int i = 0; i < SHRINK_FREED; i++)
		free(shrink_blocks[i]);
	for (int i = 0; i < GONE_COUNT; i++)
		free(gone_blocks[i]);
}

__attribute__((noinline)) static void run_round(unsigned int round)
{
	chain_grow();
	if (round == 1) {
		chain_steady();
		chain_shrink();
		chain_gone();
	}
	if (round == 2) {
		release();
		chain_late();
	}
}

int main(void)
{
	target_rounds(run_round);
}
