/* unwind_deep.c - a leak 8 calls deep in code without frame pointers, for
 * DWARF unwinding (--unwind dwarf and auto) and for the comparison with
 * gdb's bt.
 *
 * Built -O2 -g -fomit-frame-pointer (TARGET_FLAGS_unwind_deep in the
 * Makefile), not with TARGET_CFLAGS. So the frame-pointer walk cannot find
 * the callers: rbp is an ordinary register here. Every level is noipa (not
 * inlined, cloned or merged with another), does work after its call (no
 * tail call), and has a stack frame of its own, each of a different shape
 * so that the CFA rules differ: a volatile array of its own size, values
 * held in callee-saved registers across the call (pushed on entry), and in
 * level5 a variable-length array, which makes the compiler keep the CFA in
 * rbp (rbp + 16) in that one function.
 *
 * After SIGUSR1, run_deep() (called from main) runs DEEP_COUNT times
 *
 *   level1 -> level2 -> ... -> level8: malloc(DEEP_SIZE), kept
 *
 * so the one outstanding stack is
 *
 *   level8 <- level7 <- ... <- level1 <- run_deep <- main
 *
 * holding 50 blocks, 216050 bytes. Nothing else is allocated after
 * SIGUSR1. Totals: outstanding_allocs 50, outstanding_bytes 216050, allocs
 * 50, frees 0, unknown_frees 0. DEEP_SIZE is allocated nowhere else, so a
 * debugger can stop on malloc($rdi == 4321).
 */
#include "target.h"

#define DEEP_COUNT 50
#define DEEP_SIZE 4321

/* Folded into by every level after its call, so that no call is a tail
 * call and the values live across it stay in callee-saved registers. */
static volatile unsigned long deep_sink;

__attribute__((noipa)) static void *level8(unsigned long n)
{
	volatile char pad[24];
	void *p;

	pad[0] = (char)n;
	p = malloc(DEEP_SIZE);
	pad[1] = pad[0] + 1;
	return p;
}

__attribute__((noipa)) static void *level7(unsigned long n)
{
	volatile char pad[200];
	unsigned long a = n * 7, b = n ^ 0x77;
	void *p;

	pad[n % 200] = (char)a;
	p = level8(n + 1);
	deep_sink += a + b + pad[0];
	return p;
}

__attribute__((noipa)) static void *level6(unsigned long n)
{
	unsigned long a = n * 6, b = n ^ 0x66, c = n + 6;
	void *p = level7(n + 1);

	deep_sink += a * b + c;
	return p;
}

/* The variable-length array: the compiler sets up rbp as a frame pointer
 * in this function only, and its CFA rule is rbp + 16. */
__attribute__((noipa)) static void *level5(unsigned long n)
{
	volatile char vla[n % 7 + 16];
	void *p;

	vla[0] = (char)n;
	p = level6(n + 1);
	deep_sink += vla[0];
	return p;
}

/* A bigger frame: 1 KiB of locals. */
__attribute__((noipa)) static void *level4(unsigned long n)
{
	volatile char pad[1024];
	unsigned long a = n * 4;
	void *p;

	pad[n % 1024] = (char)n;
	p = level5(n + 1);
	deep_sink += a + pad[n % 1024];
	return p;
}

__attribute__((noipa)) static void *level3(unsigned long n)
{
	volatile unsigned long local = n * 3;
	void *p = level4(n + 1);

	deep_sink += local;
	return p;
}

__attribute__((noipa)) static void *level2(unsigned long n)
{
	volatile char pad[64];
	unsigned long a = n * 2, b = n ^ 0x22, c = n + 2, d = n << 2;
	void *p;

	pad[0] = (char)n;
	p = level3(n + 1);
	deep_sink += a + b + c + d + pad[0];
	return p;
}

__attribute__((noipa)) static void *level1(unsigned long n)
{
	volatile char pad[40];
	void *p;

	pad[0] = (char)n;
	p = level2(n + 1);
	deep_sink += pad[0];
	return p;
}

__attribute__((noipa)) static void run_deep(void)
{
	for (unsigned long i = 0; i < DEEP_COUNT; i++)
		target_keep(level1(i));
}

int main(void)
{
	target_ready();
	target_wait_start();
	run_deep();
	target_done();
	target_idle();
	return 0;
}
