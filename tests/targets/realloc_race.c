/* realloc_race.c - blocks realloc moves, handed to other threads before
 * realloc returns. Run with one arena and no thread cache
 * (GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.tcache_count=0):
 * a block realloc frees goes straight back to the shared arena, where the
 * other threads' mallocs of the same size take it, often while the
 * reallocating thread is still between realloc's free and its return.
 *
 * After SIGUSR1, all at once:
 *   grow_block <- mover: ROUNDS x (malloc(SMALL), realloc to LARGE, free)
 *   take_block <- taker (TAKERS threads): ROUNDS x (malloc(SMALL), free)
 *
 * Nothing stays allocated. Totals: allocs 2 x ROUNDS + TAKERS x ROUNDS
 * (realloc's new block counts), frees the same (realloc's old block
 * counts), unknown_frees 0, replaced_allocs 0, outstanding 0.
 */
#include "target.h"

#define ROUNDS 120000
#define TAKERS 2
#define SMALL 48
#define LARGE 4000

static pthread_barrier_t start;

__attribute__((noinline)) static void *grow_block(void *p)
{
	return realloc(p, LARGE);
}

static void *mover(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (int i = 0; i < ROUNDS; i++) {
		void *p = malloc(SMALL);

		target_touch(p);
		p = grow_block(p);
		target_touch(p);
		free(p);
	}
	return NULL;
}

__attribute__((noinline)) static void *take_block(void)
{
	return malloc(SMALL);
}

static void *taker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (int i = 0; i < ROUNDS; i++) {
		void *p = take_block();

		target_touch(p);
		free(p);
	}
	return NULL;
}

int main(void)
{
	pthread_t threads[1 + TAKERS];

	target_block_signals();
	pthread_barrier_init(&start, NULL, 2 + TAKERS);
	if (pthread_create(&threads[0], NULL, mover, NULL))
		target_die("pthread_create");
	for (int i = 1; i <= TAKERS; i++)
		if (pthread_create(&threads[i], NULL, taker, NULL))
			target_die("pthread_create");
	target_ready();
	target_wait_start();
	pthread_barrier_wait(&start);
	for (int i = 0; i <= TAKERS; i++)
		pthread_join(threads[i], NULL);
	target_done();
	target_idle();
	return 0;
}
