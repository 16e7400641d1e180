/* unwind_mixed.c - an application with frame pointers (TARGET_CFLAGS)
 * calling into libunwind_lib.so, built without (tests/targets/libs/): the
 * frame-pointer walk loses every library frame and the application frame
 * that called the library; DWARF tables for the library alone (auto) give
 * the whole stack.
 *
 * After SIGUSR1, run_mixed() (called from main) makes two leaks:
 *
 *   lib_alloc <- lib_inner <- lib_middle <- lib_leak <- app_into_lib
 *       <- run_mixed <- main
 *       40 x malloc(3003) inside the library: 120120 bytes
 *   app_alloc <- lib_cb_inner <- lib_cb_middle <- lib_callback
 *       <- app_into_callback <- run_mixed <- main
 *       30 x malloc(2002) in the application's callback, called from the
 *       library: 60060 bytes
 *
 * Totals: outstanding_allocs 70, outstanding_bytes 180180, allocs 70,
 * frees 0, unknown_frees 0. Each size is allocated nowhere else, so a
 * debugger can stop on malloc($rdi == 3003 or 2002).
 */
#include "target.h"
#include "libs/unwind_lib.h"

#define LIB_LEAKS 40
#define LIB_SIZE 3003
#define CALLBACK_LEAKS 30
#define CALLBACK_SIZE 2002

__attribute__((noinline)) static void *app_alloc(size_t size)
{
	return malloc(size);
}

__attribute__((noinline)) static void app_into_lib(void)
{
	for (int i = 0; i < LIB_LEAKS; i++)
		target_keep(lib_leak(LIB_SIZE));
}

__attribute__((noinline)) static void app_into_callback(void)
{
	for (int i = 0; i < CALLBACK_LEAKS; i++)
		target_keep(lib_callback(app_alloc, CALLBACK_SIZE));
}

__attribute__((noinline)) static void run_mixed(void)
{
	app_into_lib();
	app_into_callback();
}

int main(void)
{
	target_ready();
	target_wait_start();
	run_mixed();
	target_done();
	target_idle();
	return 0;
}
