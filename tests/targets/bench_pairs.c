/* bench_pairs.c - the cost of one malloc(64) + free pair, for `make bench`.
 *
 * Usage: bench_pairs N [--threads T] [--wait]
 *
 * Runs N malloc(64) + free pairs and prints one line:
 *
 *   pairs N ns_per_pair X.XX
 *
 * With --threads T, T threads (not the main thread) each run N pairs, all
 * released together by a barrier; the line is then
 *
 *   pairs N threads T pairs_per_s Y cpu_ns_per_pair C.CC ns_per_pair X.XX
 *
 * where ns_per_pair is the wall-clock time from the release to the last
 * thread's end, over N (per pair, per thread), pairs_per_s is T * N over
 * that time (the aggregate throughput), and cpu_ns_per_pair the threads'
 * own CPU time (user and kernel, probes included) over T * N: unlike the
 * wall clock, it does not count time a thread waited for its CPU while
 * another process ran there. ns_per_pair stays the last field either way. The threads are created before "ready", so their
 * creation is neither traced nor timed.
 *
 * With --wait it first prints "ready <pid>" and waits for SIGUSR1 (so that
 * memleakd can attach before the timed loop); a SIGTERM instead exits 0.
 * It exits 0 once the line is printed.
 */
#include "target.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

static unsigned long n;
static pthread_barrier_t start_line;
/* Each thread's CPU time in run_pairs, ns. */
static double cpu_ns[64];

__attribute__((noinline)) static void run_pairs(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		void *p = malloc(64);

		target_touch(p);
		free(p);
	}
}

static void *worker(void *arg)
{
	double *cpu = arg;

	pthread_barrier_wait(&start_line);
	*cpu = target_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	run_pairs(n);
	*cpu = target_clock_ns(CLOCK_THREAD_CPUTIME_ID) - *cpu;
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_pairs N [--threads T] [--wait]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	pthread_t threads[sizeof(cpu_ns) / sizeof(cpu_ns[0])];
	unsigned long nthreads = 0;
	bool wait = false;
	double start, elapsed, cpu = 0;

	if (argc < 2)
		usage();
	n = target_count(argv[1], usage);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--wait")) {
			wait = true;
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			nthreads = target_count(argv[++i], usage);
			if (nthreads > sizeof(threads) / sizeof(threads[0]))
				usage();
		} else {
			usage();
		}
	}
	/* Threads started after this inherit its mask (target.h). */
	target_block_signals();
	if (nthreads) {
		if (pthread_barrier_init(&start_line, NULL, nthreads + 1))
			target_die("pthread_barrier_init");
		for (unsigned long t = 0; t < nthreads; t++)
			if (pthread_create(&threads[t], NULL, worker, &cpu_ns[t]))
				target_die("pthread_create");
	}
	if (wait) {
		target_ready();
		target_wait_start();
	}
	if (!nthreads) {
		start = target_clock_ns(CLOCK_MONOTONIC);
		run_pairs(n);
		printf("pairs %lu ns_per_pair %.2f\n", n, (target_clock_ns(CLOCK_MONOTONIC) - start) / n);
		return 0;
	}
	start = target_clock_ns(CLOCK_MONOTONIC);
	pthread_barrier_wait(&start_line);
	for (unsigned long t = 0; t < nthreads; t++)
		pthread_join(threads[t], NULL);
	elapsed = target_clock_ns(CLOCK_MONOTONIC) - start;
	for (unsigned long t = 0; t < nthreads; t++)
		cpu += cpu_ns[t];
	printf("pairs %lu threads %lu pairs_per_s %.0f cpu_ns_per_pair %.2f ns_per_pair %.2f\n", n,
	       nthreads, nthreads * n / elapsed * 1e9, cpu / (nthreads * n), elapsed / n);
	return 0;
}
