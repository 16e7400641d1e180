/* reuse.c - freed records kept (include/memleakd.h, struct alloc_info),
 * for tests/integration/test_tracking.py. After SIGUSR1: churn_site
 * allocates CHURN blocks of CHURN_SIZE bytes and frees them all; glibc
 * keeps them in its tcache and fastbins, for blocks of that size only.
 * Then leak_site, called from main, keeps LEAKS blocks of LEAK_SIZE bytes,
 * none at those addresses: the records the frees kept stay. With
 * --max-allocs LEAKS the maps must still hold every leak: they have room
 * for the freed records besides. */
#include "target.h"

#define CHURN_SIZE 48
#define LEAK_SIZE 100
#define CHURN 1000
#define LEAKS 1280

static void *blocks[CHURN];

static void churn_site(void)
{
	for (int i = 0; i < CHURN; i++) {
		blocks[i] = malloc(CHURN_SIZE);
		target_touch(blocks[i]);
	}
	for (int i = 0; i < CHURN; i++)
		free(blocks[i]);
}

static void leak_site(void)
{
	for (int i = 0; i < LEAKS; i++)
		target_keep(malloc(LEAK_SIZE));
}

int main(void)
{
	target_ready();
	target_wait_start();
	churn_site();
	leak_site();
	target_done();
	target_idle();
}
