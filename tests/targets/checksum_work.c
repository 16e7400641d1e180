/* checksum_work.c - deterministic allocator work whose output is a
 * checksum of every byte it read back: a run traced, or traced until
 * memleakd is killed, must print what an untraced run prints.
 *
 * Usage: checksum_work ITERATIONS
 *
 * After SIGUSR1, THREADS threads each run ITERATIONS steps over a table of
 * SLOTS blocks, choosing each step from their own linear congruential
 * generator: malloc a block and fill it, calloc one and check it is zero,
 * realloc one and check that its old bytes survived, or free one after
 * reading it back. Every byte read back goes into the thread's checksum
 * (FNV-1a), addresses never do. Thread 0 prints "progress" a quarter of
 * the way through (memleakd is killed then), and once all have joined the
 * main thread prints
 *
 *   sum THREAD0-CHECKSUM THREAD1-CHECKSUM
 *
 * then "done", and waits for SIGTERM. A block found altered prints
 * "corrupt" and exits 3.
 */
#include "target.h"

#include <stdint.h>

#define THREADS 2
#define SLOTS 256
#define MAX_SIZE 2048

struct slot {
	unsigned char *p;
	size_t size;
	unsigned char fill; /* every byte of the block holds it */
};

struct worker {
	pthread_t thread;
	unsigned int index;
	uint64_t rng;
	uint64_t sum;
	struct slot slots[SLOTS];
};

static unsigned long iterations;
static struct worker workers[THREADS];
static pthread_barrier_t start_line;

static uint64_t next(struct worker *w)
{
	w->rng = w->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return w->rng >> 33;
}

static void fold(struct worker *w, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		w->sum = (w->sum ^ p[i]) * 1099511628211ULL;
}

/* Reads the first n bytes of s back: each must still be its fill. */
static void check(struct worker *w, const struct slot *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s->p[i] != s->fill) {
			printf("corrupt\n");
			fflush(stdout);
			exit(3);
		}
	fold(w, s->p, n);
}

static void refill(struct worker *w, struct slot *s)
{
	s->fill = (unsigned char)next(w);
	memset(s->p, s->fill, s->size);
}

__attribute__((noinline)) static void step(struct worker *w)
{
	struct slot *s = &w->slots[next(w) % SLOTS];
	size_t size = 1 + next(w) % MAX_SIZE;
	unsigned int op = next(w) % 4;

	if (s->p && op == 0) {
		check(w, s, s->size);
		free(s->p);
		s->p = NULL;
	} else if (s->p && op == 1) {
		unsigned char *p = realloc(s->p, size);

		if (!p)
			target_die("realloc failed");
		s->p = p;
		check(w, s, size < s->size ? size : s->size);
		s->size = size;
		refill(w, s);
	} else if (!s->p && op == 2) {
		s->p = calloc(1, size);
		s->size = size;
		s->fill = 0;
		if (!s->p)
			target_die("calloc failed");
		check(w, s, size);
		refill(w, s);
	} else if (!s->p) {
		s->p = malloc(size);
		s->size = size;
		if (!s->p)
			target_die("malloc failed");
		refill(w, s);
	} else {
		check(w, s, s->size);
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(&start_line);
	for (unsigned long i = 0; i < iterations; i++) {
		if (w->index == 0 && i == iterations / 4) {
			printf("progress\n");
			fflush(stdout);
		}
		step(w);
	}
	for (unsigned int i = 0; i < SLOTS; i++)
		if (w->slots[i].p) {
			check(w, &w->slots[i], w->slots[i].size);
			free(w->slots[i].p);
		}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: checksum_work ITERATIONS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		usage();
	iterations = target_count(argv[1], usage);
	target_block_signals();
	if (pthread_barrier_init(&start_line, NULL, THREADS + 1))
		target_die("pthread_barrier_init");
	for (unsigned int t = 0; t < THREADS; t++) {
		workers[t] = (struct worker){ .index = t, .rng = 0x9e3779b97f4a7c15ULL * (t + 1),
					      .sum = 14695981039346656037ULL };
		if (pthread_create(&workers[t].thread, NULL, work, &workers[t]))
			target_die("pthread_create");
	}
	target_ready();
	target_wait_start();
	pthread_barrier_wait(&start_line);
	for (unsigned int t = 0; t < THREADS; t++)
		pthread_join(workers[t].thread, NULL);
	printf("sum %016llx %016llx\n", (unsigned long long)workers[0].sum,
	       (unsigned long long)workers[1].sum);
	target_done();
	target_idle();
	return 0;
}
