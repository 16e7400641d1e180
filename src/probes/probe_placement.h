/* probe_placement.h - choose where in a function's prologue to put its uprobe.
 *
 * The x86-64 kernel either emulates the probed instruction (about 0.8 us per
 * hit on this machine) or single-steps a copy of it out of line (about
 * 4.2 us). glibc's free starts with `test %rdi,%rdi` (single-stepped) followed
 * by `je` (emulated), so probing the je sees the same arguments at a fifth of
 * the cost. probe_placement_find walks a few harmless instructions -- ones
 * that write no argument register, no %rsp, no memory and do not branch -- to
 * the first instruction the kernel emulates. Because %rsp is untouched, a
 * return probe at the same offset still finds the return address on top of
 * the stack.
 */
#ifndef PROBE_PLACEMENT_H
#define PROBE_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct probe_placement {
	uint32_t offset;      /* bytes from the function's start to the probed instruction */
	const char *insn;     /* static description of the probed instruction, e.g. "push %r12",
			       * "je rel32", "nop", "unknown", "truncated" */
	bool emulated;        /* the kernel emulates the probed instruction (fast path) */
	unsigned int skipped; /* instructions passed over */
};

/* Decide where to probe a function whose first len bytes are at code. Never
 * fails: when no emulated instruction is reachable it returns offset 0, whose
 * instruction is described as far as it was recognised. */
void probe_placement_find(const uint8_t *code, size_t len, struct probe_placement *out);

#endif
