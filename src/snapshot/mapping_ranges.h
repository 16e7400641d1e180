/* mapping_ranges.h - the anonymous memory a process mapped since attach, as
 * disjoint address ranges, each with the stack that mapped it, whether a
 * traced allocator did, and its birth; and the PROT_NONE reservations it
 * made, which count once mprotect opens them. A munmap, mprotect or mremap names
 * an address range, not a mapping: it may take part of one range, split it
 * in two, or span many; the table cuts exactly the bytes named, in
 * O(log n) plus the ranges touched. */
#ifndef MAPPING_RANGES_H
#define MAPPING_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mapping_range {
	uint64_t start, end; /* [start, end) */
	uint64_t born_ns;    /* CLOCK_MONOTONIC: when the mapping it is part of was made */
	uint32_t stack_id;
	bool heap;           /* mapped inside a traced allocator call */
	bool reserved;       /* PROT_NONE: not counted, kept for mprotect to open */
};

struct mapping_ranges;

/* Returns NULL on ENOMEM. */
struct mapping_ranges *mapping_ranges__new(void);
/* Accepts NULL. */
void mapping_ranges__free(struct mapping_ranges *r);

/* m is new memory: whatever it overlaps is removed first. With grow, m
 * joins the range that ends at m->start when that has m's stack and kind
 * (a heap top moving up in steps is one range). Returns 0, or -ENOMEM with
 * the table unchanged; -EINVAL for an empty range. */
int mapping_ranges__map(struct mapping_ranges *r, const struct mapping_range *m, bool grow);
/* [start, end) is no longer the process's: cut it out of every range.
 * Returns the bytes removed (0 when none was tracked), or -ENOMEM with the
 * table unchanged. */
int64_t mapping_ranges__unmap(struct mapping_ranges *r, uint64_t start, uint64_t end);
/* mprotect made [start, end) accessible: its reserved parts, and all of
 * [start, reserved_end) (one PROT_NONE reservation, maybe older than the
 * table), become m's (whose start and end are ignored); its counted parts
 * stay as they are. With grow, as for mapping_ranges__map. Returns the
 * bytes opened, or -ENOMEM with the table unchanged. */
int64_t mapping_ranges__open(struct mapping_ranges *r, uint64_t start, uint64_t end,
			     uint64_t reserved_end, const struct mapping_range *m, bool grow);
/* mprotect made [start, end) PROT_NONE: its counted parts are reserved
 * again. Returns the bytes closed, or -ENOMEM with the table unchanged. */
int64_t mapping_ranges__close(struct mapping_ranges *r, uint64_t start, uint64_t end);
/* mremap: the bytes of [old, old + old_len) are now at new, the first
 * new_len of them kept; whatever [new, new + new_len) held before is
 * replaced. Moved bytes keep their ranges' stacks and births; when new_len
 * is larger, growth (its start and end are ignored) takes the bytes past
 * old_len. Returns 0, or -ENOMEM with the table unchanged. */
int mapping_ranges__move(struct mapping_ranges *r, uint64_t old, uint64_t old_len, uint64_t new,
			 uint64_t new_len, const struct mapping_range *growth);

/* Call fn on every range in address order; a nonzero return stops the walk
 * and is returned. */
int mapping_ranges__walk(const struct mapping_ranges *r,
			 int (*fn)(const struct mapping_range *m, void *ctx), void *ctx);
size_t mapping_ranges__count(const struct mapping_ranges *r);

#endif
