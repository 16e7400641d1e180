/* thread_exit.c - a worker thread allocates, frees and exits.
 *
 * After SIGUSR1 main starts one thread and joins it. The thread runs
 *
 *   thread_churn <- thread_main: malloc(16 * (i + 1)) + free, i = 0..19
 *
 * twenty sizes of twenty different tcache bins, so every block stays in
 * the thread's cache. When the thread exits, glibc's tcache_thread_shutdown
 * frees each cached block again, and the cache itself (allocated inside
 * malloc, never returned by it): 21 calls to free that the program never
 * made.
 *
 * pthread_create allocates the thread's dynamic thread vector with calloc;
 * the thread's stack and its dtv go to glibc's stack cache when it exits,
 * so that calloc stays outstanding.
 *
 * Totals: allocs 21, frees 20, unknown_frees 0, allocator_frees 21,
 * outstanding_allocs 1 (the dtv, under start_thread's stack).
 */
#include "target.h"

#define CHURN_SIZES 20

__attribute__((noinline)) static void thread_churn(void)
{
	for (int i = 0; i < CHURN_SIZES; i++) {
		void *p = malloc(16 * (size_t)(i + 1));

		target_touch(p);
		free(p);
	}
}

__attribute__((noinline)) static void *thread_main(void *arg)
{
	(void)arg;
	thread_churn();
	return NULL;
}

__attribute__((noinline)) static void start_thread(void)
{
	pthread_t thread;

	if (pthread_create(&thread, NULL, thread_main, NULL))
		target_die("pthread_create");
	if (pthread_join(thread, NULL))
		target_die("pthread_join");
}

int main(void)
{
	target_ready();
	target_wait_start();
	start_thread();
	target_done();
	target_idle();
	return 0;
}
