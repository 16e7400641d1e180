/* verdict.h - weigh the traced process's memory growth against the
 * traced outstanding bytes and the stacks' classes: a leak of traced
 * allocations, growth memleakd's allocations do not explain (allocator
 * retention, fragmentation, mmap), both, no leak, or too little history
 * yet. */
#ifndef VERDICT_H
#define VERDICT_H

#include "snapshot/snapshot.h"
#include "target/process_memory.h"

/* Fill snap->process from the memory at attach and now, the outstanding
 * totals and the stacks' classes (trend__update first). */
void verdict_decide(const struct process_memory *at_attach, const struct process_memory *now,
		    struct snapshot *snap);

#endif
