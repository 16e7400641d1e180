/* target_maps.h - one target's entries in the BPF maps, as a whole: taken
 * out once its process is gone or runs another program, so that its index
 * can serve another process and the maps do not fill with the dead. It
 * runs while no program writes the index: the process is gone, or its
 * probes are detached and paused. */
#ifndef TARGET_MAPS_H
#define TARGET_MAPS_H

#include <stdint.h>

#include "probes/tracer.h"

/* Delete target's outstanding records (the freed ones kept for reuse stay:
 * an allocation of the index's next process at the same address takes one
 * over), its per-stack totals, its contexts' reset times and its counters.
 * The stacks that then hold nothing are given back by stack_reclaim.h.
 * Returns 0 and *ctx_deleted, the context records deleted (for the sweep's
 * count of the map's records, ctx_sweep__adjust), or -errno: what was
 * deleted stays so. */
int target_maps_reclaim(const struct tracer_maps *maps, uint32_t target, uint64_t *ctx_deleted);

#endif
