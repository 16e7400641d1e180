/* unwind_dlclose.c - plugins loaded and unloaded in turn, more unwind rows
 * in all than memleakd has room for, then a leak through the last.
 *
 * argv[1] is a directory holding plugin0.so ... plugin<N-1>.so, copies of
 * libunwind_rows_plugin.so (tests/targets/libs/) under other names; argv[2]
 * is N. After each SIGUSR1 the program dlclose()s the plugin it holds (if
 * any), dlopen()s the next and says "loaded I"; the test waits for
 * memleakd's table of it before the next SIGUSR1. With argv[3] "overlap",
 * it dlopen()s the next plugin first, says "loaded I", and dlclose()s the
 * one it held only after another SIGUSR1, saying "closed". After the
 * last plugin's SIGUSR1 it runs PLUGIN_LEAKS times
 *
 *   call_plugin -> rows_plugin_leak -> rows_plugin_alloc: malloc(PLUGIN_SIZE), kept
 *
 * so that stack, rows_plugin_alloc <- rows_plugin_leak <- call_plugin <-
 * run_plugins <- main, holds 20 blocks, 20 x 9009 bytes. dlopen() and
 * dlclose() allocate and free too, as glibc decides: the totals are not
 * part of the contract; that stack is exact, and 9009 is allocated nowhere
 * else.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>

#include "target.h"

#define PLUGIN_LEAKS 20
#define PLUGIN_SIZE 9009

typedef void *(*plugin_leak_fn)(size_t size);

__attribute__((noinline)) static void *load(const char *dir, int i, void **handle)
{
	char path[PATH_MAX];
	void *leak;

	snprintf(path, sizeof(path), "%s/plugin%d.so", dir, i);
	*handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!*handle || !(leak = dlsym(*handle, "rows_plugin_leak")))
		target_die("dlopen plugin");
	return leak;
}

__attribute__((noinline)) static void call_plugin(plugin_leak_fn leak)
{
	for (int i = 0; i < PLUGIN_LEAKS; i++)
		target_keep(leak(PLUGIN_SIZE));
}

static void say(const char *what, int i)
{
	printf(i < 0 ? "%s\n" : "%s %d\n", what, i);
	fflush(stdout);
}

__attribute__((noinline)) static void run_plugins(const char *dir, int n, bool overlap)
{
	plugin_leak_fn leak = NULL;
	void *handle = NULL, *next;

	for (int i = 0; i < n; i++) {
		target_wait_start();
		if (handle && !overlap && dlclose(handle))
			target_die("dlclose");
		leak = (plugin_leak_fn)load(dir, i, &next);
		say("loaded", i);
		if (handle && overlap) {
			target_wait_start();
			if (dlclose(handle))
				target_die("dlclose");
			say("closed", -1);
		}
		handle = next;
	}
	target_wait_start();
	call_plugin(leak);
}

int main(int argc, char **argv)
{
	bool overlap = argc == 4 && !strcmp(argv[3], "overlap");

	if ((argc != 3 && !overlap) || atoi(argv[2]) < 1)
		target_die("usage: unwind_dlclose DIRECTORY N [overlap]");
	target_ready();
	run_plugins(argv[1], atoi(argv[2]), overlap);
	target_done();
	target_idle();
	return 0;
}
