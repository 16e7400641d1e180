/* exits.c - leaks, then exits on its own: memleakd must notice, print its
 * final report (end_reason "target exited") and exit 0.
 *
 * After SIGUSR1:
 *
 *   leak_before_exit <- chain_exit: 10 x malloc(5000), kept
 *
 * then "done", one second of sleep, and exit(0) without waiting for
 * SIGTERM. The final report holds one stack, leak_before_exit: 10 allocs,
 * 50000 bytes; totals: allocs 10, outstanding_bytes 50000.
 */
#include "target.h"

__attribute__((noinline)) static void leak_before_exit(void)
{
	for (int i = 0; i < 10; i++)
		target_keep(malloc(5000));
}

__attribute__((noinline)) static void chain_exit(void)
{
	leak_before_exit();
}

int main(void)
{
	target_ready();
	target_wait_start();
	chain_exit();
	target_done();
	target_sleep_ms(1000);
	exit(0);
}
