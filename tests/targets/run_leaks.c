/* run_leaks.c - a program that runs to its end on its own, for memleakd
 * -- COMMAND: no protocol, no signal to wait for; memleakd starts it and
 * must see it from its first allocation.
 *
 *   leak_on_run <- chain_run: 12 x malloc(4000), kept
 *   churn_on_run: 50 x malloc(700), each freed
 *
 * With "clean" as its first argument it frees the 12 blocks too. It exits
 * with the status given as its second argument (default 0). It writes
 * with write(2) only: stdio would allocate a buffer it never frees. The
 * final report: one stack, leak_on_run, 12 allocs, 48000 bytes; totals:
 * allocs 62, frees 50 (62 clean, with nothing outstanding).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEAKS 12

static void *kept[LEAKS];

__attribute__((noinline)) static void leak_on_run(void)
{
	for (int i = 0; i < LEAKS; i++)
		kept[i] = malloc(4000);
}

__attribute__((noinline)) static void chain_run(void)
{
	leak_on_run();
}

__attribute__((noinline)) static void churn_on_run(void)
{
	for (int i = 0; i < 50; i++) {
		char *volatile p = malloc(700);

		p[0] = 1;
		free(p);
	}
}

int main(int argc, char **argv)
{
	static const char done[] = "done\n";

	chain_run();
	churn_on_run();
	if (argc > 1 && !strcmp(argv[1], "clean"))
		for (int i = 0; i < LEAKS; i++)
			free(kept[i]);
	if (write(STDERR_FILENO, done, sizeof(done) - 1) < 0)
		return 2;
	return argc > 2 ? atoi(argv[2]) : 0;
}
