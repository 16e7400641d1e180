/* context_resets.h - the user-space half of O(1) context resets. A reset
 * only stamps its context with the time (the BPF resets map). Allocations
 * of that context made before it are released, but their records stay in
 * the context allocation map, and in their stack's totals, until the
 * programs meet the same address again (arenas hand addresses out again
 * quickly) or the sweep program retires them (ctx_sweep.h). User space
 * never deletes a record itself: the address may have been handed out
 * anew between its read and its delete. Instead each snapshot subtracts
 * the released records it walks over, so reports are exact whenever they
 * are taken, and the times no record needs any more leave the map
 * (map_cleanup.h). */
#ifndef CONTEXT_RESETS_H
#define CONTEXT_RESETS_H

#include <stdbool.h>
#include <stdint.h>

#include "memleakd.h"

struct context_resets;

struct context_resets *context_resets__new(void);
/* Accepts NULL. */
void context_resets__free(struct context_resets *r);

/* Read the reset time of every context of target from the resets map fd.
 * Call before reading the stack totals: a record released by these times
 * was allocated before them, so the totals include it. Returns 0 or
 * -errno. */
int context_resets__load(struct context_resets *r, int resets_fd, uint32_t target);
/* Were no reset times loaded? */
bool context_resets__empty(const struct context_resets *r);
/* Was an allocation of target in context ctx, made at allocated_ns,
 * released by a reset loaded last? A context found holding such a record
 * keeps its reset time in the map. */
bool context_resets__released(struct context_resets *r, uint32_t target, uint64_t ctx,
			      uint64_t allocated_ns);
/* Called with a reset time's key in the resets map and the time loaded;
 * nonzero stops. */
typedef int (*context_reset_fn)(uint64_t key, uint64_t reset_ns, void *ctx);
/* After a walk of every record: call fn for each context that holds no
 * released record any more, whose reset time the map no longer needs
 * (map_cleanup_resets deletes them). Returns 0 or fn's nonzero return. */
int context_resets__each_unneeded(const struct context_resets *r, context_reset_fn fn, void *ctx);

#endif
