/* array.h - arrays that grow by doubling. */
#ifndef ARRAY_H
#define ARRAY_H

#include <stddef.h>

/* Room in *items, of *cap elements of size bytes, for element n: the
 * array doubles (first elements at first) when n reaches *cap. Returns 0,
 * or -ENOMEM with *items and *cap kept. */
int array_grow(void **items, size_t *cap, size_t n, size_t size, size_t first);

#endif
