/* snapshot_build.h - a snapshot being built, shared by snapshot.c (the
 * per-stack totals, by generation) and alloc_records.c (the allocation
 * records). Internal to those two. */
#ifndef SNAPSHOT_BUILD_H
#define SNAPSHOT_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memleakd.h"
#include "snapshot/snapshot.h"
#include "util/key_index.h"

/* One stack's totals in one generation, summed over the CPUs. */
struct generation_entry {
	uint32_t stack_id;
	uint16_t generation;
	int64_t bytes, allocs;
	uint64_t total_bytes, total_allocs;
	uint64_t first_ns; /* its first allocation, 0 if none */
};

struct build {
	const struct snapshot_source *src;
	struct snapshot *snap;
	size_t cap;
	struct key_index index; /* stack id -> its place in snap->stacks */
	uint64_t now_ns;
	int ncpus;
	/* Every generation entry kept, sorted by stack then generation; stack
	 * i's are entries[ranges[i].begin, ranges[i].end). */
	struct generation_entry *entries;
	size_t n_entries, cap_entries;
	struct entry_range {
		size_t begin, end;
	} *ranges;
	struct stack_key *retired; /* entries to delete from the map */
	size_t n_retired, cap_retired;
	struct snapshot_stack *old; /* with --min-age: the old allocations per stack */
};

struct snapshot_stack *build_find_stack(const struct build *b, uint32_t stack_id);
/* The entry of generation gen of stack s, or NULL. */
struct generation_entry *build_find_entry(const struct build *b, const struct snapshot_stack *s,
					  uint16_t gen);

/* Visit the allocation records: for --min-age every one, else those with a
 * context when contexts were reset; after a walk of those with a context,
 * delete the reset times no record needs any more. Returns 0 or -errno. */
int alloc_records_visit(struct build *b);

#endif
