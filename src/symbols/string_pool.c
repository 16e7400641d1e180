/* string_pool.c - the strings in an array that grows by doubling, each a
 * malloc'd copy (so growing the array moves no string), found through a
 * key_index of their hashes. */
#include "symbols/string_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"

uint64_t string_pool__hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

const char *string_pool__intern(struct string_pool *p, const char *s)
{
	uint64_t h = string_pool__hash(s);
	size_t cursor = 0, i;
	char *copy;

	while ((i = key_index__next(&p->index, h, &cursor)) != KEY_INDEX_NONE)
		if (!strcmp(p->strings[i], s))
			return p->strings[i];
	if (array_grow((void **)&p->strings, &p->cap, p->n, sizeof(*p->strings), 64) < 0 ||
	    key_index__reserve(&p->index, p->n + 1) < 0)
		return NULL;
	copy = strdup(s);
	if (!copy)
		return NULL;
	key_index__add(&p->index, h, p->n); /* reserved: cannot fail */
	p->strings[p->n++] = copy;
	return copy;
}

void string_pool__clear(struct string_pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->strings[i]);
	free(p->strings);
	key_index__clear(&p->index);
	*p = (struct string_pool){ 0 };
}
