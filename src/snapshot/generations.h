/* generations.h - the generations allocations are counted in (struct
 * stack_key), so that a report dates each stack's oldest allocation from
 * O(stacks) totals, without visiting the allocations.
 *
 * A new generation starts at a report once the current one has lasted
 * GENERATION_MIN_NS and an eighth of the time since attach: ever longer
 * ones, so that a stack that leaks for days holds about a hundred. A
 * generation two behind the current one gets no new allocations; once its
 * allocations are all freed, its totals move here and its entries leave the
 * map. */
#ifndef GENERATIONS_H
#define GENERATIONS_H

#include <stdbool.h>
#include <stdint.h>

#define GENERATION_MIN_NS 1000000000ULL

struct generations;

/* The first generation (1) starts at attach_ns (CLOCK_MONOTONIC). */
struct generations *generations__new(uint64_t attach_ns);
/* Accepts NULL. */
void generations__free(struct generations *g);

/* Start a new generation at now_ns if one is due. Returns true with *gen
 * the new generation, which the programs must be told; false otherwise. */
bool generations__advance(struct generations *g, uint64_t now_ns, uint16_t *gen);
/* Can gen's entries be retired once they hold no allocation? Generation 0
 * (allocations that found the map full) never is. */
bool generations__retirable(const struct generations *g, uint16_t gen);

/* Add the totals of a retired entry of (target, stack_id). Returns 0 or
 * -ENOMEM. */
int generations__retire(struct generations *g, uint32_t target, uint32_t stack_id,
			uint64_t total_bytes, uint64_t total_allocs);
/* The totals of (target, stack_id) in retired entries, added to *bytes and
 * *allocs. */
void generations__add_retired(const struct generations *g, uint32_t target, uint32_t stack_id,
			      uint64_t *bytes, uint64_t *allocs);
/* Drop the retired totals of stack_id, in every target: its id was
 * reclaimed (stack_reclaim.h), and may name another stack next. */
void generations__forget(struct generations *g, uint32_t stack_id);

#endif
