/* trends.c - three sites with different histories, for the trend classes
 * (tests/integration/test_trends.py). After SIGUSR1, PHASES phases of
 * PHASE_MS each:
 *
 *   leak_site   every phase: LEAK_PER_PHASE x malloc(LEAK_SIZE), kept:
 *               grows in every interval, its allocations grow old. suspect.
 *   cache_site  the first CACHE_PHASES phases only: CACHE_PER_PHASE x
 *               malloc(CACHE_SIZE), kept: a cache that fills, then stays.
 *               steady.
 *   churn_site  every phase: CHURN_PER_PHASE x malloc(CHURN_SIZE) into a
 *               ring of CHURN_RING, the block it replaces freed: always
 *               CHURN_RING blocks outstanding, none of them old. steady.
 *
 * Totals after the run: leak 64 x 1000 = 64000 bytes, cache 40 x 500 =
 * 20000, churn 8 x 300 = 2400 outstanding; 86400 bytes in 112 allocations.
 * Eight seconds: churn_site's second call site (after the cache's phases)
 * starts a stack in the second report, judged from the seventh on.
 */

#include "target.h"

#define PHASES 16
#define PHASE_MS 500
#define LEAK_PER_PHASE 4
#define LEAK_SIZE 1000
#define CACHE_PHASES 2
#define CACHE_PER_PHASE 20
#define CACHE_SIZE 500
#define CHURN_PER_PHASE 200
#define CHURN_SIZE 300
#define CHURN_RING 8

static void *churn_ring[CHURN_RING];
static unsigned int churn_next;

static void leak_site(void)
{
	for (int i = 0; i < LEAK_PER_PHASE; i++)
		target_keep(malloc(LEAK_SIZE));
}

static void cache_site(void)
{
	for (int i = 0; i < CACHE_PER_PHASE; i++)
		target_keep(malloc(CACHE_SIZE));
}

static void churn_site(void)
{
	for (int i = 0; i < CHURN_PER_PHASE; i++) {
		void **slot = &churn_ring[churn_next++ % CHURN_RING];

		free(*slot);
		*slot = malloc(CHURN_SIZE);
		target_touch(*slot);
	}
}

static void run_phases(void)
{
	for (int phase = 0; phase < PHASES; phase++) {
		leak_site();
		if (phase < CACHE_PHASES)
			cache_site();
		churn_site();
		target_sleep_ms(PHASE_MS);
	}
}

int main(void)
{
	target_ready();
	target_wait_start();
	run_phases();
	target_done();
	target_idle();
	return 0;
}
