/* stress_churn.c - allocations at full speed on several threads, for a
 * given time, counted: the stress test and bench/stress.py compare
 * memleakd's totals with the program's own counts.
 *
 * Usage: stress_churn SECONDS [THREADS]   (2 threads by default)
 *
 * After SIGUSR1 the threads, released together, each loop for SECONDS
 * over a table of SLOTS blocks, each step on one slot drawn from the
 * thread's own linear congruential generator: an empty slot gets a
 * malloc or a calloc of 16 to 1024 bytes; a full one is freed, or
 * realloc()ed to a new size (one free and one allocation). The blocks
 * left in the tables stay allocated. Once the threads have joined:
 *
 *   allocs A frees F outstanding_allocs O outstanding_bytes B seconds S allocs_per_s R
 *
 * counting the calls that returned a block (realloc counts once in each),
 * then "done"; it waits for SIGTERM. The steps themselves run in
 * churn_step, the one stack of every allocation.
 */
#include "target.h"

#include <stdint.h>

#define SLOTS 1024
#define MIN_SIZE 16
#define MAX_SIZE 1024
#define MAX_THREADS 16
/* Steps between two looks at the clock. */
#define CLOCK_STEPS 256

struct churner {
	pthread_t thread;
	uint64_t rng;
	unsigned long allocs, frees;
	void *slots[SLOTS];
	size_t sizes[SLOTS];
};

static struct churner churners[MAX_THREADS];
static pthread_barrier_t start_line;
static double stop_at_ns;

static uint64_t next(struct churner *c)
{
	c->rng = c->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return c->rng >> 33;
}

__attribute__((noinline)) static void churn_step(struct churner *c)
{
	unsigned int slot = next(c) % SLOTS;
	size_t size = MIN_SIZE + next(c) % (MAX_SIZE - MIN_SIZE + 1);
	void *p = c->slots[slot];

	if (!p) {
		p = next(c) & 1 ? malloc(size) : calloc(1, size);
		c->allocs++;
	} else if (next(c) & 1) {
		free(p);
		c->frees++;
		c->slots[slot] = NULL;
		return;
	} else {
		p = realloc(p, size);
		c->allocs++;
		c->frees++;
	}
	target_touch(p);
	c->slots[slot] = p;
	c->sizes[slot] = size;
}

static void *churn(void *arg)
{
	struct churner *c = arg;

	pthread_barrier_wait(&start_line);
	do {
		for (int i = 0; i < CLOCK_STEPS; i++)
			churn_step(c);
	} while (target_clock_ns(CLOCK_MONOTONIC) < stop_at_ns);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: stress_churn SECONDS [THREADS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long seconds, nthreads = 2, allocs = 0, frees = 0, outstanding = 0;
	unsigned long long bytes = 0;
	double start, elapsed;

	if (argc < 2 || argc > 3)
		usage();
	seconds = target_count(argv[1], usage);
	if (argc == 3)
		nthreads = target_count(argv[2], usage);
	if (nthreads > MAX_THREADS)
		usage();
	target_block_signals();
	if (pthread_barrier_init(&start_line, NULL, nthreads + 1))
		target_die("pthread_barrier_init");
	for (unsigned long t = 0; t < nthreads; t++) {
		churners[t].rng = 0x9e3779b97f4a7c15ULL * (t + 1);
		if (pthread_create(&churners[t].thread, NULL, churn, &churners[t]))
			target_die("pthread_create");
	}
	target_ready();
	target_wait_start();
	start = target_clock_ns(CLOCK_MONOTONIC);
	stop_at_ns = start + seconds * 1e9;
	pthread_barrier_wait(&start_line);
	for (unsigned long t = 0; t < nthreads; t++) {
		struct churner *c = &churners[t];

		pthread_join(c->thread, NULL);
		allocs += c->allocs;
		frees += c->frees;
		for (int i = 0; i < SLOTS; i++)
			if (c->slots[i]) {
				outstanding++;
				bytes += c->sizes[i];
			}
	}
	elapsed = (target_clock_ns(CLOCK_MONOTONIC) - start) / 1e9;
	printf("allocs %lu frees %lu outstanding_allocs %lu outstanding_bytes %llu seconds %.3f "
	       "allocs_per_s %.0f\n", allocs, frees, outstanding, bytes, elapsed, allocs / elapsed);
	target_done();
	target_idle();
	return 0;
}
