/* transient_stacks.c - a server's life in two rounds: first many distinct
 * stacks that allocate and free (nothing outstanding), then a leak from a
 * stack never seen before. With --max-stacks below the number of transient
 * stacks, the later leak is named only if the ids of the transient ones
 * were given back. Each SIGUSR1 runs the next round, then prints "done".
 *
 * Round 1: leak_early <- chain_early keeps 10 x malloc(500), then
 * churn_tree() walks paths 0..4999 of a binary tree of depth 13, as
 * many_stacks.c does: descend() calls go_left() then go_right(), each of
 * which calls descend() one level down; at the bottom churn_leaf(path)
 * runs malloc(32) and frees it. Each of the 5000 paths is its own stack
 *
 *   churn_leaf <- descend <- (go_left|go_right <- descend) x 13
 *       <- churn_tree <- run_round <- target_rounds <- main
 *
 * Round 2: leak_late <- chain_late keeps 100 x malloc(777).
 *
 * Outstanding after round 2: leak_early 10 allocs, 5000 bytes; leak_late
 * 100 allocs, 77700 bytes. Allocations: 10 + 5000 + 100, frees 5000.
 */
#include "target.h"

#define DEPTH 13
#define TRANSIENT 5000

TARGET_LEAK(early, 10, malloc(500))
TARGET_LEAK(late, 100, malloc(777))

static void descend(int level, unsigned int path);

__attribute__((noinline)) static void churn_leaf(unsigned int path)
{
	void *p = malloc(32);

	(void)path;
	target_touch(p);
	free(p);
}

__attribute__((noinline)) static void go_left(int level, unsigned int path)
{
	descend(level + 1, path << 1);
}

__attribute__((noinline)) static void go_right(int level, unsigned int path)
{
	descend(level + 1, path << 1 | 1);
}

/* Paths are numbered from the root's turn down: a subtree whose first
 * path is past the last wanted is not walked. */
__attribute__((noinline)) static void descend(int level, unsigned int path)
{
	if (path << (DEPTH - level) >= TRANSIENT)
		return;
	if (level == DEPTH) {
		churn_leaf(path);
		return;
	}
	go_left(level, path);
	go_right(level, path);
}

__attribute__((noinline)) static void churn_tree(void)
{
	descend(0, 0);
}

__attribute__((noinline)) static void run_round(unsigned int round)
{
	if (round == 1) {
		chain_early();
		churn_tree();
	} else if (round == 2) {
		chain_late();
	}
}

int main(void)
{
	target_rounds(run_round);
}
