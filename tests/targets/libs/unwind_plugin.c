/* unwind_plugin.c - libunwind_plugin.so: a library built -O2
 * -fomit-frame-pointer -fPIC that unwind_dlopen dlopen()s after memleakd
 * attached, so that its unwind table cannot have been built at attach.
 *
 *   plugin_leak(size) -> plugin_step1 -> plugin_step2 -> plugin_step3
 *       -> plugin_alloc: returns malloc(size)
 *
 * Every function keeps a stack frame of its own and does work after its
 * call (no tail call); the static ones are noipa, so their names are in
 * the stacks.
 */
#include <stdlib.h>

void *plugin_leak(size_t size);

static volatile size_t plugin_sink;

__attribute__((noipa)) static void *plugin_alloc(size_t size)
{
	volatile char pad[32];
	void *p;

	pad[0] = (char)size;
	p = malloc(size);
	plugin_sink += pad[0];
	return p;
}

__attribute__((noipa)) static void *plugin_step3(size_t size)
{
	size_t a = size * 3, b = size ^ 0x33;
	void *p = plugin_alloc(size);

	plugin_sink += a * b;
	return p;
}

__attribute__((noipa)) static void *plugin_step2(size_t size)
{
	volatile char pad[520];
	void *p;

	pad[size % 520] = (char)size;
	p = plugin_step3(size);
	plugin_sink += pad[size % 520];
	return p;
}

__attribute__((noipa)) static void *plugin_step1(size_t size)
{
	volatile size_t local = size;
	void *p = plugin_step2(size);

	plugin_sink += local;
	return p;
}

void *plugin_leak(size_t size)
{
	volatile char pad[24];
	void *p;

	pad[0] = (char)size;
	p = plugin_step1(size);
	plugin_sink += pad[0];
	return p;
}
