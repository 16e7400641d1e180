/* bench_deep.c - the cost of one malloc(64) + free pair made D calls deep,
 * for the unwinding benchmark of `make bench` (bench/run.py).
 *
 * Usage: bench_deep N D [big] [--wait]
 *
 * main calls padded(), which calls level(D): D nested frames of level() (of
 * big_level() with "big"), the deepest of which runs N malloc(64) + free
 * pairs (run_pairs), then prints one line:
 *
 *   pairs N depth D ns_per_pair X.XX
 *
 * so every malloc's stack is malloc <- run_pairs <- level x D <- padded <-
 * main <- libc's start. One more malloc(64), before the pairs, is kept
 * (leaked), so that memleakd's final report shows that stack as its walk
 * saw it. --wait is bench_pairs' protocol: "ready <pid>", then SIGUSR1
 * starts the timed loop (SIGTERM exits 0).
 *
 * memleakd's BPF walk copies the 4 KiB of stack above sp once and reads
 * frames from the copy; a copy that covers a page never touched fails, and
 * only sp's own page is copied then. The kernel leaves such pages at the
 * top of the main thread's stack, above main's frame, a random 0-8 KiB of
 * them, so how near main an allocation is decides how much of its stack
 * is in the copy. padded() puts 8 KiB of touched stack
 * between main and the chain, so the chain is always in the copy: level()'s
 * frames are 32 bytes. big_level()'s are 4 KiB, so that every frame but the
 * first is outside the copy and read one by one.
 *
 * Built twice from this file: build/targets/bench_deep with -O2 -g
 * -fomit-frame-pointer (TARGET_FLAGS_bench_deep), the code DWARF tables are
 * for, and build/targets/bench_deep_fp with TARGET_CFLAGS (frame pointers),
 * where the frame-pointer walk is valid. Every function of the chain is
 * noipa (not inlined, cloned or turned into a loop), keeps a stack frame of
 * its own (volatile locals), and does work after its call, so no call is a
 * tail call.
 */
#include "target.h"

#include <string.h>
#include <time.h>

#define PAD_BYTES 8192
#define BIG_FRAME 4096

static volatile unsigned long deep_sink;

__attribute__((noipa)) static void run_pairs(unsigned long n)
{
	target_keep(malloc(64));
	for (unsigned long i = 0; i < n; i++) {
		void *p = malloc(64);

		target_touch(p);
		free(p);
	}
}

__attribute__((noipa)) static void level(unsigned long depth, unsigned long n)
{
	volatile unsigned long local = depth;

	if (depth > 1)
		level(depth - 1, n);
	else
		run_pairs(n);
	deep_sink += local;
}

__attribute__((noipa)) static void big_level(unsigned long depth, unsigned long n)
{
	volatile char pad[BIG_FRAME];

	pad[0] = (char)depth;
	if (depth > 1)
		big_level(depth - 1, n);
	else
		run_pairs(n);
	deep_sink += pad[0];
}

__attribute__((noipa)) static void padded(unsigned long depth, unsigned long n, int big)
{
	volatile char pad[PAD_BYTES];

	for (size_t i = 0; i < sizeof(pad); i += 64)
		pad[i] = 1;
	if (big)
		big_level(depth, n);
	else
		level(depth, n);
	deep_sink += pad[0];
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_deep N D [big] [--wait]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long n, depth;
	int big = 0, wait = 0;
	double start;

	if (argc < 3)
		usage();
	n = target_count(argv[1], usage);
	depth = target_count(argv[2], usage);
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "big") && !big)
			big = 1;
		else if (!strcmp(argv[i], "--wait") && !wait)
			wait = 1;
		else
			usage();
	}
	if (wait) {
		target_ready();
		target_wait_start();
	}
	start = target_clock_ns(CLOCK_MONOTONIC);
	padded(depth, n, big);
	printf("pairs %lu depth %lu ns_per_pair %.2f\n", n, depth, (target_clock_ns(CLOCK_MONOTONIC) - start) / n);
	return 0;
}
