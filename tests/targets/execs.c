/* execs.c - leaks, then calls exec: memleakd must end with the final
 * report of the program it traced (end_reason "target called exec"), and
 * leave the new program alone.
 *
 * Usage: execs [--from-thread]
 *
 * After SIGUSR1:
 *
 *   leak_before_exec <- chain_before_exec: 10 x malloc(3000), kept
 *   churn_before_exec: 100 x (malloc(64), free)
 *
 * then "done", and exec of this same file (so the new program's calls go
 * through the same libc, whose probes are still there), from the main
 * thread, or with --from-thread from a second thread, started before
 * "ready" and released now (the kernel ends the main thread, and the
 * exec'ing thread takes over the pid). The new
 * program at once runs
 *
 *   leak_after_exec <- main: 20 x malloc(700), kept
 *
 * prints "after exec <pid>", and waits for SIGTERM. The final report holds
 * one stack, leak_before_exec: 10 allocs, 30000 bytes; totals: allocs 110,
 * frees 100. Nothing of the new program's.
 */
#include "target.h"

#include <string.h>

static char *self;
static pthread_barrier_t go_exec;

__attribute__((noinline)) static void leak_before_exec(void)
{
	for (int i = 0; i < 10; i++)
		target_keep(malloc(3000));
}

__attribute__((noinline)) static void chain_before_exec(void)
{
	leak_before_exec();
}

__attribute__((noinline)) static void churn_before_exec(void)
{
	TARGET_CHURN(100, malloc(64), free(p));
}

__attribute__((noinline)) static void leak_after_exec(void)
{
	for (int i = 0; i < 20; i++)
		target_keep(malloc(700));
}

static void exec_self(void)
{
	execl("/proc/self/exe", self, "--after-exec", (char *)NULL);
	target_die("exec");
}

static void *exec_thread(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&go_exec);
	exec_self();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t thread;

	self = argv[0];
	if (argc == 2 && !strcmp(argv[1], "--after-exec")) {
		leak_after_exec();
		printf("after exec %d\n", (int)getpid());
		fflush(stdout);
		target_idle();
	}
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--from-thread")))
		target_die("usage: execs [--from-thread]");
	target_block_signals();
	if (argc == 2 && (pthread_barrier_init(&go_exec, NULL, 2) ||
			  pthread_create(&thread, NULL, exec_thread, NULL)))
		target_die("pthread_create");
	target_ready();
	target_wait_start();
	chain_before_exec();
	churn_before_exec();
	target_done();
	if (argc == 1)
		exec_self();
	pthread_barrier_wait(&go_exec);
	pthread_join(thread, NULL);
	return 0;
}
