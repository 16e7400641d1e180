/* many_stacks.c - 2048 distinct allocation stacks, one block each.
 *
 * After SIGUSR1, grow_tree() walks every path of a binary tree of depth 11:
 * descend() calls go_left() then go_right(), each of which calls descend()
 * one level down; at the bottom descend() calls leaf_alloc(path), which
 * runs malloc(16 + path). path has one bit per level, the root's most
 * significant: 1 where the walk went right. So each of the 2048 stacks is
 *
 *   leaf_alloc <- descend <- (go_left|go_right <- descend) x 11
 *       <- grow_tree <- main
 *
 * and holds exactly one block of 16 + path bytes: the innermost go_* frame
 * gives bit 0 of path, the outermost bit 10. Totals: outstanding_allocs
 * 2048, outstanding_bytes 2048 * 16 + 2047 * 2048 / 2 = 2128896, allocs
 * 2048, frees 0, unknown_frees 0; 2048 stacks.
 */
#include "target.h"

#define DEPTH 11

static void descend(int level, unsigned int path);

__attribute__((noinline)) static void leaf_alloc(unsigned int path)
{
	target_keep(malloc(16 + path));
}

__attribute__((noinline)) static void go_left(int level, unsigned int path)
{
	descend(level + 1, path << 1);
}

__attribute__((noinline)) static void go_right(int level, unsigned int path)
{
	descend(level + 1, path << 1 | 1);
}

__attribute__((noinline)) static void descend(int level, unsigned int path)
{
	if (level == DEPTH) {
		leaf_alloc(path);
		return;
	}
	go_left(level, path);
	go_right(level, path);
}

__attribute__((noinline)) static void grow_tree(void)
{
	descend(0, 0);
}

int main(void)
{
	target_ready();
	target_wait_start();
	grow_tree();
	target_done();
	target_idle();
	return 0;
}
