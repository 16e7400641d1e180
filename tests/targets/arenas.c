/* arenas.c - glibc's malloc growing an arena per thread
 * (tests/integration/snapshot/test_mappings.py). After SIGUSR1, main
 * starts NTHREADS threads with 256 KiB stacks; each keeps BLOCKS blocks of
 * BLOCK_SIZE (2 MiB) from thread_alloc, then waits. glibc gives each new
 * thread an arena of its own: a 64 MiB PROT_NONE reservation that malloc
 * opens with mprotect as the arena grows, inside the malloc calls: mapped
 * memory of the allocator, under thread_alloc <- thread_main. The threads'
 * stacks are the program's: mapped by pthread_create (opened with mprotect
 * past their guard page), under start_threads <- main.
 */
#include "target.h"

#define NTHREADS 4
#define STACK_SIZE (256 << 10)
#define BLOCKS 2048
#define BLOCK_SIZE 1000

static pthread_barrier_t allocated;

__attribute__((noinline)) static void thread_alloc(void)
{
	for (int i = 0; i < BLOCKS; i++)
		target_keep(malloc(BLOCK_SIZE));
}

static void *thread_main(void *arg)
{
	(void)arg;
	thread_alloc();
	pthread_barrier_wait(&allocated);
	for (;;)
		pause();
	return NULL;
}

__attribute__((noinline)) static void start_threads(void)
{
	pthread_attr_t attr;
	pthread_t t;

	if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, STACK_SIZE))
		target_die("pthread_attr");
	for (int i = 0; i < NTHREADS; i++)
		if (pthread_create(&t, &attr, thread_main, NULL))
			target_die("pthread_create");
	pthread_attr_destroy(&attr);
}

int main(void)
{
	if (pthread_barrier_init(&allocated, NULL, NTHREADS + 1))
		target_die("pthread_barrier_init");
	target_ready();
	target_wait_start();
	start_threads();
	pthread_barrier_wait(&allocated);
	target_done();
	target_idle();
	return 0;
}
