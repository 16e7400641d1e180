/* aging.c - a stack whose oldest allocation is freed, for the age of a
 * stack's oldest allocation (tests/integration/test_leaks.py). After
 * SIGUSR1, keep_site allocates FIRST_SIZE bytes, GAP_MS later SECOND_SIZE
 * bytes from the same call, then frees the first: the stack holds one
 * allocation, made just before "done", not GAP_MS earlier. */
#include "target.h"

#define FIRST_SIZE 1000
#define SECOND_SIZE 2000
#define GAP_MS 2500

static void *keep_site(size_t size, long then_sleep_ms)
{
	void *p = malloc(size);

	target_touch(p);
	target_sleep_ms(then_sleep_ms);
	return p;
}

/* Read at run time, so that the compiler cannot unroll the loop into
 * two calls of keep_site from two places (two stacks). */
static volatile int rounds = 2;

int main(void)
{
	static const size_t sizes[] = { FIRST_SIZE, SECOND_SIZE };
	static const long sleeps[] = { GAP_MS, 0 };
	void *kept[2];

	target_ready();
	target_wait_start();
	for (int i = 0; i < rounds; i++)
		kept[i % 2] = keep_site(sizes[i % 2], sleeps[i % 2]);
	free(kept[0]);
	target_keep(kept[1]);
	target_done();
	target_idle();
}
