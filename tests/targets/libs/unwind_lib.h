/* unwind_lib.h - the API of libunwind_lib.so (unwind_lib.c), a library
 * built without frame pointers, which unwind_mixed.c links to. */
#ifndef UNWIND_LIB_H
#define UNWIND_LIB_H

#include <stddef.h>

/* lib_leak -> lib_middle -> lib_inner -> lib_alloc: returns
 * malloc(size). */
void *lib_leak(size_t size);
/* lib_callback -> lib_cb_middle -> lib_cb_inner -> alloc(size): the
 * caller's allocator, called from inside the library. */
void *lib_callback(void *(*alloc)(size_t), size_t size);

#endif
