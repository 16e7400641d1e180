/* bench_outstanding.c - many outstanding allocations over many stacks, for
 * the report benchmark (bench/report_cost.py). After SIGUSR1 it walks every
 * path of a binary tree of depth DEPTH (many_stacks.c's shape: 1024
 * distinct stacks) and at each leaf makes PER_LEAF malloc(64) calls it
 * keeps; then it prints "done" and holds them until SIGTERM. Outstanding:
 * 1024 x 1000 = 1,024,000 allocations of 64 bytes.
 *
 * Usage: bench_outstanding [PER_LEAF]   (1000 by default)
 */
#include "target.h"

#define DEPTH 10
#define LEAVES (1 << DEPTH)

static void **kept;
static unsigned long nkept, per_leaf = 1000;

static void descend(int level);

__attribute__((noinline)) static void leaf_alloc(void)
{
	for (unsigned long i = 0; i < per_leaf; i++) {
		void *p = malloc(64);

		if (!p)
			target_die("malloc");
		kept[nkept++] = p;
	}
}

__attribute__((noinline)) static void go_left(int level)
{
	descend(level + 1);
}

__attribute__((noinline)) static void go_right(int level)
{
	descend(level + 1);
}

__attribute__((noinline)) static void descend(int level)
{
	if (level == DEPTH) {
		leaf_alloc();
		return;
	}
	go_left(level);
	go_right(level);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		per_leaf = strtoul(argv[1], NULL, 10);
	/* Before attach: not one of the allocations the report counts. */
	kept = calloc(LEAVES * per_leaf, sizeof(*kept));
	if (!kept)
		target_die("calloc");
	target_ready();
	target_wait_start();
	descend(0);
	target_done();
	target_idle();
	return 0;
}
