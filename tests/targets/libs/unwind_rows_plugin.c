/* unwind_rows_plugin.c - libunwind_rows_plugin.so: a plugin whose unwind
 * table is large, which unwind_dlclose dlopen()s and dlclose()s in turn
 * under several names. Built -O2 -fomit-frame-pointer -fPIC without a
 * build-id, so that each copy is an object of its own to memleakd, keyed
 * by its path.
 *
 *   rows_plugin_leak(size) -> rows_plugin_alloc: returns malloc(size)
 *
 * rows_plugin_leak (push_pop.h) is 50,000 pairs of push %rbx; pop %rbx,
 * each instruction with its CFI: 100,000 rows, the call to
 * rows_plugin_alloc in the middle at CFA = rsp + 16. Its caller is found
 * only through those rows.
 */
#include <stdlib.h>

#include "push_pop.h"

void *rows_plugin_leak(size_t size);

static void *volatile rows_plugin_sink;

/* Hidden: the assembly calls it directly, not through the PLT. The store
 * after malloc keeps it from being a tail call. */
__attribute__((noipa, visibility("hidden"))) void *rows_plugin_alloc(size_t size)
{
	void *p = malloc(size);

	rows_plugin_sink = p;
	return p;
}

__asm__(PUSH_POP_FUNCTION(rows_plugin_leak, rows_plugin_alloc, 25000));
