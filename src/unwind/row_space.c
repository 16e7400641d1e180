/* row_space.c - free runs of the rows map, first fit, merged on return.
 *
 * There are never more free runs than taken ones plus one, nor more
 * retired runs than taken ones: take makes room in both arrays before it
 * hands a run out, so retire and reclaim cannot fail. */
#include "unwind/row_space.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"

struct run {
	uint32_t first, n;
};

struct row_space {
	uint32_t capacity, used;
	size_t n_taken;         /* runs handed out and not yet reclaimed */
	struct run *free;       /* sorted by first, none adjacent */
	size_t n_free, free_cap;
	struct run *retired;
	size_t n_retired, retired_cap;
};

struct row_space *row_space__new(uint32_t capacity)
{
	struct row_space *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->capacity = capacity;
	if (capacity && array_grow((void **)&s->free, &s->free_cap, 0, sizeof(*s->free), 16) < 0) {
		free(s);
		return NULL;
	}
	if (capacity)
		s->free[s->n_free++] = (struct run){ 0, capacity };
	return s;
}

void row_space__free(struct row_space *s)
{
	if (!s)
		return;
	free(s->free);
	free(s->retired);
	free(s);
}

int row_space__take(struct row_space *s, uint32_t n, uint32_t *first)
{
	size_t i;

	for (i = 0; i < s->n_free && s->free[i].n < n; i++)
		;
	if (!n || i == s->n_free)
		return -ENOSPC;
	/* Room for one more free run and one more retired run. */
	if (array_grow((void **)&s->free, &s->free_cap, s->n_taken + 1, sizeof(*s->free), 16) < 0 ||
	    array_grow((void **)&s->retired, &s->retired_cap, s->n_taken, sizeof(*s->retired),
		       16) < 0)
		return -ENOMEM;
	*first = s->free[i].first;
	s->free[i].first += n;
	s->free[i].n -= n;
	if (!s->free[i].n) {
		memmove(&s->free[i], &s->free[i + 1], (s->n_free - i - 1) * sizeof(*s->free));
		s->n_free--;
	}
	s->n_taken++;
	s->used += n;
	return 0;
}

void row_space__retire(struct row_space *s, uint32_t first, uint32_t n)
{
	s->retired[s->n_retired++] = (struct run){ first, n };
}

bool row_space__retiring(const struct row_space *s)
{
	return s->n_retired > 0;
}

/* Return run r to the free runs, merged with the runs next to it. */
static void release(struct row_space *s, struct run r)
{
	size_t i;

	for (i = 0; i < s->n_free && s->free[i].first < r.first; i++)
		;
	if (i > 0 && s->free[i - 1].first + s->free[i - 1].n == r.first) {
		s->free[i - 1].n += r.n;
		if (i < s->n_free && r.first + r.n == s->free[i].first) {
			s->free[i - 1].n += s->free[i].n;
			memmove(&s->free[i], &s->free[i + 1], (s->n_free - i - 1) * sizeof(*s->free));
			s->n_free--;
		}
	} else if (i < s->n_free && r.first + r.n == s->free[i].first) {
		s->free[i].first = r.first;
		s->free[i].n += r.n;
	} else {
		memmove(&s->free[i + 1], &s->free[i], (s->n_free - i) * sizeof(*s->free));
		s->free[i] = r;
		s->n_free++;
	}
	s->n_taken--;
	s->used -= r.n;
}

void row_space__give_back(struct row_space *s, uint32_t first, uint32_t n)
{
	release(s, (struct run){ first, n });
}

void row_space__reclaim(struct row_space *s)
{
	for (size_t i = 0; i < s->n_retired; i++)
		release(s, s->retired[i]);
	s->n_retired = 0;
}

void row_space__usage(const struct row_space *s, uint32_t *used, uint32_t *capacity)
{
	*used = s->used;
	*capacity = s->capacity;
}
