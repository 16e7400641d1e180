/* target.h - the protocol every integration target follows.
 *
 *   1. target_ready(): block SIGUSR1 and SIGTERM (target_block_signals();
 *      threads created afterwards inherit the mask), print "ready <pid>" on
 *      stdout and flush. This is the first output, so stdout's buffer is
 *      allocated here, before memleakd attaches, and later output allocates
 *      nothing.
 *   2. target_wait_start(): sigwait() for SIGUSR1, sent by the test once
 *      memleakd says it is attached. A SIGTERM first exits 0.
 *   3. the target's work: every allocation the tests count happens here.
 *   4. target_done(): print "done" and flush.
 *   5. target_idle(): sigwait() for SIGTERM, then exit 0.
 *
 * target_rounds() runs steps 2 to 4 again for each SIGUSR1.
 *
 * target_keep() parks leaked pointers in a global array so that they stay
 * reachable; memleakd does not care, but it keeps the leaks honest.
 * target_touch() uses a block that is about to be freed, so the compiler
 * keeps the malloc()/free() pair.
 *
 * TARGET_LEAK() defines a leaking site and its caller, TARGET_CHURN()
 * allocates and frees in a loop, for targets with many sites alike.
 * target_jit_stub() writes code into an executable page, as a JIT does.
 * target_clock_ns() and target_count() serve the benchmark targets.
 *
 * All helpers are static inline so that each target uses what it needs
 * without -Wunused-function; most targets are built with -fno-inline
 * anyway (the unwinding targets, -O2, inline them: none is in a stack).
 * The header is C and C++ (unwind_cxx.cc).
 */
#ifndef TARGET_H
#define TARGET_H

/* g++ defines _GNU_SOURCE itself (unwind_cxx.cc). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TARGET_MAX_KEPT 8192

static void *target_kept[TARGET_MAX_KEPT];
static unsigned int target_nkept;
/* Every churned pointer is written here, so the compiler cannot drop a
 * malloc()/free() pair whose pointer is otherwise unused. */
static void *volatile target_sink;

static inline void target_die(const char *what)
{
	fprintf(stderr, "target: %s\n", what);
	exit(2);
}

static inline void target_keep(void *p)
{
	unsigned int i = __atomic_fetch_add(&target_nkept, 1, __ATOMIC_RELAXED);

	if (!p)
		target_die("allocation failed");
	if (i >= TARGET_MAX_KEPT)
		target_die("too many kept pointers");
	target_kept[i] = p;
}

/* Uses a block the target is about to free: it must really be allocated. */
static inline void target_touch(void *p)
{
	if (!p)
		target_die("allocation failed");
	*(volatile char *)p = 1;
	target_sink = p;
}

static inline void target_sigset(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGTERM);
}

/* Threads created after this call inherit the mask: a target that starts
 * threads before "ready" calls it first. */
static inline void target_block_signals(void)
{
	sigset_t set;

	target_sigset(&set);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		target_die("pthread_sigmask");
}

static inline void target_ready(void)
{
	target_block_signals();
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
}

/* Waits for SIGUSR1 (returns) or SIGTERM (exits 0). */
static inline void target_wait_start(void)
{
	sigset_t set;
	int sig;

	target_sigset(&set);
	if (sigwait(&set, &sig))
		target_die("sigwait");
	if (sig == SIGTERM)
		exit(0);
}

/* Sleeps ms milliseconds, signals or not. */
static inline void target_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts))
		;
}

/* The benchmark targets' clocks, in ns. */
static inline double target_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* A count from the command line, at least 1; else usage(), which exits. */
static inline unsigned long target_count(const char *s, void (*usage)(void))
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || !v)
		usage();
	return v;
}

static inline void target_done(void)
{
	printf("done\n");
	fflush(stdout);
}

/* The protocol in rounds: after "ready", each SIGUSR1 runs round(n), n
 * from 1, then prints "done"; SIGTERM exits 0. */
static inline void target_rounds(void (*round)(unsigned int n))
{
	target_ready();
	for (unsigned int n = 1;; n++) {
		target_wait_start();
		round(n);
		target_done();
	}
}

/* Waits for SIGTERM, ignoring any further SIGUSR1, and exits 0. */
static inline void target_idle(void)
{
	sigset_t set;
	int sig;

	target_sigset(&set);
	do {
		if (sigwait(&set, &sig))
			target_die("sigwait");
	} while (sig != SIGTERM);
	exit(0);
}

/* Writes at code (in a writable executable page) a stub that calls fn:
 * sub $8,%rsp; movabs $fn,%rax; call *%rax; add $8,%rsp; ret, a frame of
 * its own, so the return address into it (code + 16) is on the stack.
 * Returns the stub. */
static inline void (*target_jit_stub(unsigned char *code, void (*fn)(void)))(void)
{
	static const unsigned char head[] = { 0x48, 0x83, 0xec, 0x08, 0x48, 0xb8 };
	static const unsigned char tail[] = { 0xff, 0xd0, 0x48, 0x83, 0xc4, 0x08, 0xc3 };
	void *target = (void *)fn;

	memcpy(code, head, sizeof(head));
	memcpy(code + sizeof(head), &target, sizeof(target));
	memcpy(code + sizeof(head) + sizeof(target), tail, sizeof(tail));
	return (void (*)(void))(void *)code;
}

/* leak_NAME: COUNT x CALL, kept; chain_NAME calls it (frames[0] and
 * frames[1] of the leak's stack). */
#define TARGET_LEAK(name, count, call)                                   \
	__attribute__((noinline)) static void leak_##name(void)          \
	{                                                                \
		for (int i = 0; i < (count); i++)                        \
			target_keep(call);                               \
	}                                                                \
	__attribute__((noinline)) static void chain_##name(void)         \
	{                                                                \
		leak_##name();                                           \
	}

/* COUNT x (p = ALLOC; use p; FREE_CALL), in the calling function. */
#define TARGET_CHURN(count, alloc, free_call)                            \
	for (int i = 0; i < (count); i++) {                              \
		void *p = (alloc);                                       \
		target_touch(p);                                         \
		free_call;                                               \
	}

#endif
