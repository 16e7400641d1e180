/* stack_symbols.c - name the frames of a snapshot's top stacks, of
 * allocations and of mappings. */
#include "symbols/stack_symbols.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Resolve s's addresses into s->frames, growing it for inlined calls. */
static int resolve_stack(struct snapshot_stack *s, struct symbolizer *sym,
			 const struct proc_maps *maps, int root_fd)
{
	size_t cap = s->n_addrs + 1;

	s->frames = calloc(cap, sizeof(*s->frames));
	if (!s->frames)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_addrs; i++) {
		struct frame chain[SYMBOLIZER_MAX_FRAMES];
		int n = symbolizer__resolve(sym, maps, root_fd, s->addrs[i], chain);

		if (n < 0)
			return n;
		if (s->n_frames + (size_t)n > cap) {
			struct frame *grown;

			cap = s->n_frames + (size_t)n + (s->n_addrs - i);
			grown = realloc(s->frames, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			s->frames = grown;
		}
		memcpy(s->frames + s->n_frames, chain, (size_t)n * sizeof(*chain));
		s->n_frames += (size_t)n;
	}
	return 0;
}

int stack_symbols_resolve(struct snapshot *snap, struct symbolizer *sym,
			  const struct proc_maps *maps, int root_fd)
{
	int r = 0;

	for (size_t i = 0; i < snap->n_top && r >= 0; i++)
		r = resolve_stack(&snap->stacks[i], sym, maps, root_fd);
	for (size_t i = 0; i < snap->n_top_mappings && r >= 0; i++)
		r = resolve_stack(&snap->mappings[i], sym, maps, root_fd);
	return r < 0 ? r : 0;
}
