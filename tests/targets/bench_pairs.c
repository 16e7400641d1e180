/* bench_pairs.c - the cost of one malloc(64) + free pair, for `make bench`.
 *
 * Usage: bench_pairs N [--wait]
 *
 * Runs N malloc(64) + free pairs and prints one line:
 *
 *   pairs N ns_per_pair X.XX
 *
 * With --wait it first prints "ready <pid>" and waits for SIGUSR1 (so that
 * memleakd can attach before the timed loop); a SIGTERM instead exits 0.
 * It exits 0 once the line is printed.
 */
#include "target.h"

#include <string.h>
#include <time.h>

__attribute__((noinline)) static void run_pairs(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		void *p = malloc(64);

		target_touch(p);
		free(p);
	}
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_pairs N [--wait]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long n;
	char *end;
	double start;

	if (argc < 2 || argc > 3)
		usage();
	n = strtoul(argv[1], &end, 10);
	if (*end || !n)
		usage();
	if (argc == 3) {
		if (strcmp(argv[2], "--wait"))
			usage();
		target_ready();
		target_wait_start();
	}
	start = now_ns();
	run_pairs(n);
	printf("pairs %lu ns_per_pair %.2f\n", n, (now_ns() - start) / n);
	return 0;
}
