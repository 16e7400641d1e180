/* array.c - arrays that grow by doubling. */
#include "util/array.h"

#include <errno.h>
#include <stdlib.h>

int array_grow(void **items, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t want = *cap ? *cap * 2 : first;
	void *more;

	if (n < *cap)
		return 0;
	more = reallocarray(*items, want, size);
	if (!more)
		return -ENOMEM;
	*items = more;
	*cap = want;
	return 0;
}
