/* bench_outstanding.c - many outstanding allocations over many stacks, for
 * the report benchmark (bench/report_cost.py). After SIGUSR1 it walks every
 * path of a binary tree of depth DEPTH (many_stacks.c's shape: 1024
 * distinct stacks) and at each leaf makes PER_LEAF malloc(64) calls it
 * keeps; then it prints "done" and holds them until SIGTERM. Outstanding:
 * 1024 x 1000 = 1,024,000 allocations of 64 bytes.
 */
#include "target.h"

#define DEPTH 10
#define PER_LEAF 1000
#define LEAVES (1 << DEPTH)

static void **kept;
static unsigned int nkept;

static void descend(int level);

__attribute__((noinline)) static void leaf_alloc(void)
{
	for (int i = 0; i < PER_LEAF; i++) {
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

int main(void)
{
	/* Before attach: not one of the allocations the report counts. */
	kept = calloc((size_t)LEAVES * PER_LEAF, sizeof(*kept));
	if (!kept)
		target_die("calloc");
	target_ready();
	target_wait_start();
	descend(0);
	target_done();
	target_idle();
	return 0;
}
