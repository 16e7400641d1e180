/* unwind_pushpop.c - one function whose call-frame information has
 * hundreds of thousands of rows, for the time the unwind tables take to
 * build.
 *
 * pushpop (libs/push_pop.h) is 120,000 pairs of push %rbx; pop %rbx, each
 * instruction with its CFI (.cfi_adjust_cfa_offset), so its FDE describes
 * 240,000 rows; half way through it calls pushpop_alloc at CFA = rsp + 16.
 * After SIGUSR1, run_pushpop() (called from main) runs PUSHPOP_COUNT times
 *
 *   pushpop -> pushpop_alloc: malloc(PUSHPOP_SIZE), kept
 *
 * so the one outstanding stack is
 *
 *   pushpop_alloc <- pushpop <- run_pushpop <- main
 *
 * holding 10 blocks, 60060 bytes, and nothing else is allocated after
 * SIGUSR1: outstanding_allocs 10, outstanding_bytes 60060, allocs 10,
 * frees 0, unknown_frees 0. The caller of pushpop_alloc is found only
 * through pushpop's rows, at the middle of its FDE.
 */
#include "libs/push_pop.h"
#include "target.h"

#define PUSHPOP_COUNT 10
#define PUSHPOP_SIZE 6006

void *pushpop(size_t size);

/* Called from pushpop's middle: global, so the assembly names it. */
__attribute__((noinline)) void *pushpop_alloc(size_t size)
{
	return malloc(size);
}

/* 60,000 pairs, the call, 60,000 pairs. */
__asm__(PUSH_POP_FUNCTION(pushpop, pushpop_alloc, 60000));

__attribute__((noinline)) static void run_pushpop(void)
{
	for (int i = 0; i < PUSHPOP_COUNT; i++)
		target_keep(pushpop(PUSHPOP_SIZE));
}

int main(void)
{
	target_ready();
	target_wait_start();
	run_pushpop();
	target_done();
	target_idle();
	return 0;
}
