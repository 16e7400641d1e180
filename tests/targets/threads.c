/* threads.c - four threads leak concurrently through glibc's malloc.
 *
 * The threads are created before "ready" (pthread_create allocates their
 * TLS with calloc), then wait on a barrier until main has seen SIGUSR1.
 * Each thread then runs:
 *
 *   thread_leak <- thread_main: 1000 x malloc(128), kept
 *   thread_churn <- thread_main: 2000 x malloc(64) + free
 *   thread_handoff_alloc <- thread_main: 500 x malloc(96), then, once every
 *       thread has allocated its share, thread_handoff_free frees the 500
 *       blocks of the next thread: freed on another thread (and often on
 *       another CPU) than allocated, nothing outstanding
 *
 * and parks forever: what glibc frees as a thread exits is thread_exit.c's
 * business.
 *
 * Totals: one stack, thread_leak: 4000 allocs, 512000 bytes; allocs 14000,
 * frees 10000, unknown_frees 0, outstanding_allocs 4000, outstanding_bytes
 * 512000.
 */
#include "target.h"

#define NTHREADS 4
#define LEAKS_PER_THREAD 1000
#define CHURN_PER_THREAD 2000
#define HANDOFF_PER_THREAD 500

static pthread_barrier_t start_barrier;
static pthread_barrier_t handoff_barrier;
static pthread_barrier_t end_barrier;
static void *handoff[NTHREADS][HANDOFF_PER_THREAD];

__attribute__((noinline)) static void thread_leak(void)
{
	for (int i = 0; i < LEAKS_PER_THREAD; i++)
		target_keep(malloc(128));
}

__attribute__((noinline)) static void thread_churn(void)
{
	for (int i = 0; i < CHURN_PER_THREAD; i++) {
		void *p = malloc(64);

		target_touch(p);
		free(p);
	}
}

__attribute__((noinline)) static void thread_handoff_alloc(int index)
{
	for (int i = 0; i < HANDOFF_PER_THREAD; i++) {
		handoff[index][i] = malloc(96);
		target_touch(handoff[index][i]);
	}
}

__attribute__((noinline)) static void thread_handoff_free(int index)
{
	for (int i = 0; i < HANDOFF_PER_THREAD; i++)
		free(handoff[(index + 1) % NTHREADS][i]);
}

__attribute__((noinline)) static void *thread_main(void *arg)
{
	int index = (int)(long)arg;

	pthread_barrier_wait(&start_barrier);
	thread_leak();
	thread_churn();
	thread_handoff_alloc(index);
	pthread_barrier_wait(&handoff_barrier);
	thread_handoff_free(index);
	pthread_barrier_wait(&end_barrier);
	for (;;)
		pause();
	return NULL;
}

__attribute__((noinline)) static void start_threads(void)
{
	pthread_t thread;

	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&thread, NULL, thread_main, (void *)i))
			target_die("pthread_create");
}

int main(void)
{
	if (pthread_barrier_init(&start_barrier, NULL, NTHREADS + 1) ||
	    pthread_barrier_init(&handoff_barrier, NULL, NTHREADS) ||
	    pthread_barrier_init(&end_barrier, NULL, NTHREADS + 1))
		target_die("pthread_barrier_init");
	target_block_signals();
	start_threads();
	target_ready();
	target_wait_start();
	pthread_barrier_wait(&start_barrier);
	pthread_barrier_wait(&end_barrier);
	target_done();
	target_idle();
	return 0;
}
