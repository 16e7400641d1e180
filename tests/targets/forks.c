/* forks.c - a child process's allocations are not the target's.
 *
 * After SIGUSR1 the target forks; the child (same code, same libc mapping)
 * runs child_leak <- child_main: 100 x malloc(777), kept, and
 * child_churn <- child_main: 100 x malloc(50) + free, then _exit(0). Once
 * the child is reaped, the target itself runs
 *
 *   parent_leak <- chain_parent: 20 x malloc(333), kept
 *
 * Traced as the parent: one stack, parent_leak: 20 allocs, 6660 bytes;
 * totals: allocs 20, frees 0, unknown_frees 0, outstanding_allocs 20,
 * outstanding_bytes 6660. Nothing of the child's.
 */
#include "target.h"

#include <sys/wait.h>

__attribute__((noinline)) static void child_leak(void)
{
	for (int i = 0; i < 100; i++)
		target_keep(malloc(777));
}

__attribute__((noinline)) static void child_churn(void)
{
	for (int i = 0; i < 100; i++) {
		void *p = malloc(50);

		target_touch(p);
		free(p);
	}
}

__attribute__((noinline)) static void child_main(void)
{
	child_leak();
	child_churn();
	_exit(0);
}

__attribute__((noinline)) static void run_child(void)
{
	pid_t child = fork();
	int status;

	if (child < 0)
		target_die("fork");
	if (!child)
		child_main();
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		target_die("child failed");
}

__attribute__((noinline)) static void parent_leak(void)
{
	for (int i = 0; i < 20; i++)
		target_keep(malloc(333));
}

__attribute__((noinline)) static void chain_parent(void)
{
	parent_leak();
}

int main(void)
{
	target_ready();
	target_wait_start();
	run_child();
	chain_parent();
	target_done();
	target_idle();
	return 0;
}
