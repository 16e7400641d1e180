/* unwind_lib.c - libunwind_lib.so: a shared library built -O2
 * -fomit-frame-pointer -fPIC (as Debian builds its libraries), called by
 * unwind_mixed, an application with frame pointers.
 *
 * Two chains, 4 library frames deep (see unwind_lib.h): one ends in the
 * library's own malloc() call, the other calls back into the application,
 * which allocates. Every function keeps a stack frame of its own (a
 * volatile array, values held across its call) and does work after its
 * call, so none is a tail call; the inner ones are static and noipa (not
 * inlined, cloned or merged), so their names are in the stacks.
 */
#include <stdlib.h>

#include "unwind_lib.h"

static volatile size_t lib_sink;

__attribute__((noipa)) static void *lib_alloc(size_t size)
{
	volatile char pad[48];
	void *p;

	pad[0] = (char)size;
	p = malloc(size);
	lib_sink += pad[0];
	return p;
}

__attribute__((noipa)) static void *lib_inner(size_t size)
{
	size_t a = size * 3, b = size ^ 0x33;
	void *p = lib_alloc(size);

	lib_sink += a + b;
	return p;
}

__attribute__((noipa)) static void *lib_middle(size_t size)
{
	volatile char pad[300];
	void *p;

	pad[size % 300] = (char)size;
	p = lib_inner(size);
	lib_sink += pad[size % 300];
	return p;
}

void *lib_leak(size_t size)
{
	volatile size_t local = size;
	void *p = lib_middle(size);

	lib_sink += local;
	return p;
}

__attribute__((noipa)) static void *lib_cb_inner(void *(*alloc)(size_t),
						 size_t size)
{
	volatile char pad[72];
	void *p;

	pad[0] = (char)size;
	p = alloc(size);
	lib_sink += pad[0];
	return p;
}

__attribute__((noipa)) static void *lib_cb_middle(void *(*alloc)(size_t),
						  size_t size)
{
	size_t a = size * 5, b = size ^ 0x55, c = size + 5;
	void *p = lib_cb_inner(alloc, size);

	lib_sink += a * b + c;
	return p;
}

void *lib_callback(void *(*alloc)(size_t), size_t size)
{
	volatile char pad[16];
	void *p;

	pad[0] = (char)size;
	p = lib_cb_middle(alloc, size);
	lib_sink += pad[0];
	return p;
}
