/* unwind_dlopen.c - leaks from a library loaded after memleakd attached.
 *
 * An application with frame pointers (TARGET_CFLAGS). After SIGUSR1 it
 * dlopen()s libunwind_plugin.so (tests/targets/libs/, built without frame
 * pointers, next to this program and not linked to it: it is not mapped
 * before SIGUSR1), waits PLUGIN_SETTLE_MS so that memleakd can notice the
 * new mapping and load its unwind table, then runs
 *
 *   plugin_alloc <- plugin_step3 <- plugin_step2 <- plugin_step1
 *       <- plugin_leak <- call_plugin <- run_plugin <- main
 *       25 x malloc(5005): 125125 bytes
 *
 * dlopen() allocates too (the link map, its search paths, ...): those
 * blocks have stacks of their own, through dlopen and load_plugin, and
 * their number depends on glibc, so the totals are not part of the
 * contract; the plugin's stack is exact. 5005 is allocated nowhere else.
 */
#include <dlfcn.h>
#include <limits.h>
#include <string.h>

#include "target.h"

#define PLUGIN_LEAKS 25
#define PLUGIN_SIZE 5005
#define PLUGIN_SETTLE_MS 1000

typedef void *(*plugin_leak_fn)(size_t size);

/* This program's directory + "/libunwind_plugin.so", found before SIGUSR1
 * so that nothing but dlopen() allocates around the load. */
static char plugin_path[PATH_MAX];

static void find_plugin(void)
{
	ssize_t n = readlink("/proc/self/exe", plugin_path,
			     sizeof(plugin_path) - 1);
	char *slash;

	if (n <= 0)
		target_die("readlink /proc/self/exe");
	plugin_path[n] = '\0';
	slash = strrchr(plugin_path, '/');
	if (!slash || (size_t)(slash - plugin_path) + 32 > sizeof(plugin_path))
		target_die("executable path");
	strcpy(slash, "/libunwind_plugin.so");
}

__attribute__((noinline)) static plugin_leak_fn load_plugin(void)
{
	void *handle = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
	plugin_leak_fn leak;

	if (!handle)
		target_die("dlopen libunwind_plugin.so");
	leak = (plugin_leak_fn)dlsym(handle, "plugin_leak");
	if (!leak)
		target_die("dlsym plugin_leak");
	return leak;
}

__attribute__((noinline)) static void call_plugin(plugin_leak_fn leak)
{
	for (int i = 0; i < PLUGIN_LEAKS; i++)
		target_keep(leak(PLUGIN_SIZE));
}

__attribute__((noinline)) static void run_plugin(void)
{
	plugin_leak_fn leak = load_plugin();

	target_sleep_ms(PLUGIN_SETTLE_MS);
	call_plugin(leak);
}

int main(void)
{
	find_plugin();
	target_ready();
	target_wait_start();
	run_plugin();
	target_done();
	target_idle();
	return 0;
}
