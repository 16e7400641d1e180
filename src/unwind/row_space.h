/* row_space.h - the room in the BPF rows map: which runs of rows hold an
 * object's table, which are free. A table takes the first free run that
 * holds it (first fit); a table no target maps any more is retired, and
 * its run becomes free again only once reclaimed, after the BPF programs
 * that may still read it are done (unwind_publisher.c waits for them). Free
 * runs are kept sorted and merged with their neighbours, so that tables of
 * like sizes loaded and unloaded in turn reuse the same rows. Library code:
 * returns -errno, never logs. */
#ifndef ROW_SPACE_H
#define ROW_SPACE_H

#include <stdbool.h>
#include <stdint.h>

struct row_space;

/* Room for capacity rows, all free. Returns NULL on ENOMEM. */
struct row_space *row_space__new(uint32_t capacity);
/* Accepts NULL. */
void row_space__free(struct row_space *s);

/* A run of n (> 0) rows: returns 0 and *first, -ENOSPC when no free run
 * holds n, or -ENOMEM; nothing changes on failure. */
int row_space__take(struct row_space *s, uint32_t n, uint32_t *first);
/* Free the run [first, first + n), taken before and never published. */
void row_space__give_back(struct row_space *s, uint32_t first, uint32_t n);
/* The run [first, first + n), taken before, is no longer published: it
 * waits for row_space__reclaim. Cannot fail: take kept room for it. */
void row_space__retire(struct row_space *s, uint32_t first, uint32_t n);
/* Whether runs wait to be reclaimed. */
bool row_space__retiring(const struct row_space *s);
/* Every retired run becomes free. */
void row_space__reclaim(struct row_space *s);

/* Rows in taken or retired runs, and the room for rows. */
void row_space__usage(const struct row_space *s, uint32_t *used, uint32_t *capacity);

#endif
