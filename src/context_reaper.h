/* context_reaper.h - the user-space half of O(1) context resets. A reset
 * only stamps its context with the time (the BPF resets map); allocations
 * of that context made before it are stale but still in the allocation map
 * and in their stack's totals. At each report the reaper loads the reset
 * times, the snapshot hands it the stale records it meets while walking the
 * allocations, and the reaper deletes them and remembers, per stack, what
 * it released, so that the totals stay exact across reports. */
#ifndef CONTEXT_REAPER_H
#define CONTEXT_REAPER_H

#include <stdbool.h>
#include <stdint.h>

#include "memleakd.h"

struct context_reaper;

struct context_reaper *context_reaper__new(void);
/* Accepts NULL. */
void context_reaper__free(struct context_reaper *r);

/* Read the reset time of every context of target from the resets map fd.
 * Call before reading the stack totals: a record stale by these times was
 * allocated before them, so the totals include it. Returns 0 or -errno. */
int context_reaper__load(struct context_reaper *r, int resets_fd, uint32_t target);
/* Is the record, of target, released by a reset loaded last? */
bool context_reaper__stale(const struct context_reaper *r, uint32_t target,
			   const struct alloc_info *info);
/* Delete the stale record at key from the allocation map fd and account it
 * to its stack. Returns 0 when this call deleted it; -ENOENT when the
 * programs removed it first (and accounted it themselves); -errno. */
int context_reaper__release(struct context_reaper *r, int allocs_fd, uint64_t key,
			    const struct alloc_info *info);
/* What the reaper has released from stack_id since attach. */
void context_reaper__released(const struct context_reaper *r, uint32_t stack_id,
			      uint64_t *bytes, uint64_t *allocs);
/* Allocations the reaper has released since attach. */
uint64_t context_reaper__total(const struct context_reaper *r);

#endif
