/* map_cleanup.h - delete from the BPF maps what a snapshot found they no
 * longer need: the per-stack totals of retired generations, whose totals
 * moved to user space (generations.h), and the reset times of contexts
 * that hold no released record any more (context_resets.h). These are the
 * only writes a report makes to the maps; each is safe against the
 * programs changing the same entry at the same time. */
#ifndef MAP_CLEANUP_H
#define MAP_CLEANUP_H

#include <stddef.h>

#include "memleakd.h"
#include "snapshot/context_resets.h"

/* Delete keys[0..n) from the stack totals map fd. An entry of a retired
 * generation gets no new allocation, and holds none to free, so the
 * programs no longer touch it. Returns 0 or -errno (an entry already gone
 * is no error). */
int map_cleanup_retired(int stack_totals_fd, const struct stack_key *keys, size_t n);
/* After a walk of every record with a context: delete from the resets map
 * fd the reset times r no longer needs, keeping a reset that came since r
 * was loaded. Returns 0 or -errno. */
int map_cleanup_resets(int resets_fd, const struct context_resets *r);

#endif
