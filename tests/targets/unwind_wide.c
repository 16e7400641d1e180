/* unwind_wide.c - a leak through a function whose unwind table has more
 * rows than a binary search of 24 steps can tell apart.
 *
 * argv[1] is a shared object the test generates (wide_object() in
 * tests/integration/unwind/test_unwind.py): one function,
 * wide(alloc, size), with over 2^24 rows of call-frame information, that
 * calls alloc(size) with CFA = rsp + 48. It is dlopen()ed before "ready",
 * so that memleakd builds its table at attach. After SIGUSR1, run_wide()
 * (called from main) runs WIDE_COUNT times
 *
 *   call_wide -> wide -> wide_alloc: malloc(WIDE_SIZE), kept
 *
 * so the one outstanding stack is
 *
 *   wide_alloc <- wide <- call_wide <- run_wide <- main
 *
 * holding 12 blocks, 84084 bytes: outstanding_allocs 12, outstanding_bytes
 * 84084, allocs 12, frees 0, unknown_frees 0. wide's caller is found only
 * through its row among the others.
 */
#include <dlfcn.h>

#include "target.h"

#define WIDE_COUNT 12
#define WIDE_SIZE 7007

typedef void *(*alloc_fn)(size_t size);
typedef void *(*wide_fn)(alloc_fn alloc, size_t size);

static wide_fn wide;

__attribute__((noinline)) static void *wide_alloc(size_t size)
{
	return malloc(size);
}

__attribute__((noinline)) static void *call_wide(void)
{
	return wide(wide_alloc, WIDE_SIZE);
}

__attribute__((noinline)) static void run_wide(void)
{
	for (int i = 0; i < WIDE_COUNT; i++)
		target_keep(call_wide());
}

int main(int argc, char **argv)
{
	void *object;

	if (argc != 2)
		target_die("usage: unwind_wide OBJECT");
	object = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!object || !(wide = (wide_fn)dlsym(object, "wide")))
		target_die("dlopen OBJECT");
	target_ready();
	target_wait_start();
	run_wide();
	target_done();
	target_idle();
	return 0;
}
