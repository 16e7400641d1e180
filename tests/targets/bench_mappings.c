/* bench_mappings.c - the cost of one mmap + munmap pair of 64 KiB of
 * anonymous memory, and of one getppid(), for bench/mappings.py.
 *
 * Usage: bench_mappings N [--raw | --getppid] [--wait]
 *
 * Runs N pairs, through libc's mmap() and munmap(), or with --raw through
 * syscall(2) (what uprobes on libc's wrappers miss); or with --getppid N
 * getppid() calls, a syscall memleakd does not watch. Prints one line:
 *
 *   pairs N ns_per_pair X.XX
 *
 * With --wait it first prints "ready <pid>" and waits for SIGUSR1 (so that
 * memleakd can attach before the timed loop); a SIGTERM instead exits 0.
 * It exits 0 once the line is printed. Built dynamic, and static as
 * bench_mappings_static.
 */
#include "target.h"

#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#define SIZE (64 << 10)

enum mode { LIBC, RAW, GETPPID };

__attribute__((noinline)) static void run_pairs(unsigned long n, enum mode mode)
{
	for (unsigned long i = 0; i < n; i++) {
		void *p;

		if (mode == GETPPID) {
			target_sink = (void *)(long)getppid();
			continue;
		}
		p = mode == RAW ? (void *)syscall(SYS_mmap, 0L, SIZE, PROT_READ | PROT_WRITE,
						  MAP_PRIVATE | MAP_ANONYMOUS, -1L, 0L) :
				  mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				       -1, 0);
		if (p == MAP_FAILED)
			target_die("mmap");
		if (mode == RAW ? syscall(SYS_munmap, p, SIZE) : munmap(p, SIZE))
			target_die("munmap");
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_mappings N [--raw | --getppid] [--wait]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	enum mode mode = LIBC;
	bool wait = false;
	unsigned long n;
	double start;

	if (argc < 2)
		usage();
	n = target_count(argv[1], usage);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--wait"))
			wait = true;
		else if (!strcmp(argv[i], "--raw"))
			mode = RAW;
		else if (!strcmp(argv[i], "--getppid"))
			mode = GETPPID;
		else
			usage();
	}
	if (wait) {
		target_ready();
		target_wait_start();
	}
	start = target_clock_ns(CLOCK_MONOTONIC);
	run_pairs(n, mode);
	printf("pairs %lu ns_per_pair %.2f\n", n, (target_clock_ns(CLOCK_MONOTONIC) - start) / n);
	return 0;
}
