/* stack_symbols.h - name the frames of a snapshot's top stacks: each
 * return address the snapshot read becomes the function holding it and
 * the calls inlined there, so a stack may get more frames than addresses. */
#ifndef STACK_SYMBOLS_H
#define STACK_SYMBOLS_H

#include "snapshot/snapshot.h"
#include "symbols/symbolizer.h"
#include "target/proc_maps.h"

/* Fill the frames of snap's first n_top stacks and n_top_mappings mapping
 * stacks (their addresses read by
 * snapshot__read_stacks) with sym, in the process whose mappings are maps,
 * opening its objects under root_fd (see symbolizer__resolve). The frames
 * are snap's: snapshot__free frees them, also after a failure. Returns 0 or
 * -ENOMEM. */
int stack_symbols_resolve(struct snapshot *snap, struct symbolizer *sym,
			  const struct proc_maps *maps, int root_fd);

#endif
