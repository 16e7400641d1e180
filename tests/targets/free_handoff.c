/* free_handoff.c - blocks freed by another thread the moment their
 * allocation returns. Run with one arena and no thread cache
 * (GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.tcache_count=0):
 * the consumer's frees go straight back to the shared arena, where the
 * producer's next malloc takes the same addresses again.
 *
 * After SIGUSR1, two threads at once:
 *   make_block <- producer: ROUNDS x malloc(SIZE), each pointer stored
 *                 in a one-slot mailbox as soon as malloc returns
 *   consumer: takes each pointer from the mailbox, spinning, and frees it
 *
 * The mailbox holds one pointer: the producer waits for it to be empty,
 * so at most two blocks live at a time, and the consumer frees each block
 * while the producer is already inside its next malloc. Nothing stays
 * allocated. Totals: allocs ROUNDS, frees ROUNDS, unknown_frees 0,
 * replaced_allocs 0, outstanding 0.
 */
#include "target.h"

#define ROUNDS 100000
#define SIZE 48

static void *mailbox;
static pthread_barrier_t start;

__attribute__((noinline)) static void *make_block(void)
{
	return malloc(SIZE);
}

static void *producer(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (int i = 0; i < ROUNDS; i++) {
		void *p = make_block();

		target_touch(p);
		while (__atomic_load_n(&mailbox, __ATOMIC_ACQUIRE))
			__builtin_ia32_pause();
		__atomic_store_n(&mailbox, p, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (int i = 0; i < ROUNDS; i++) {
		void *p;

		while (!(p = __atomic_exchange_n(&mailbox, NULL, __ATOMIC_ACQ_REL)))
			__builtin_ia32_pause();
		free(p);
	}
	return NULL;
}

int main(void)
{
	pthread_t threads[2];

	target_block_signals();
	pthread_barrier_init(&start, NULL, 3);
	if (pthread_create(&threads[0], NULL, producer, NULL) ||
	    pthread_create(&threads[1], NULL, consumer, NULL))
		target_die("pthread_create");
	target_ready();
	target_wait_start();
	pthread_barrier_wait(&start);
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	target_done();
	target_idle();
	return 0;
}
