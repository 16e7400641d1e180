/* probe_placement.h - choose where in a function's prologue to put its uprobe.
 *
 * The x86-64 kernel either emulates the probed instruction (about 1 us per
 * hit on this machine) or single-steps a copy of it out of line (4 to
 * 20 us). Most allocators start with an instruction of the second kind: a
 * load, a register move, a test, followed within a few instructions by a
 * branch or a push, which are of the first. probe_placement_find walks the
 * straight-line instructions before the first emulated one and moves the
 * probe there when that is safe: no instruction before it branches, no jump
 * of the function (or of the code its branches leave to) lands between the
 * entry and the probe, every argument the probe reads can still be read
 * (in the register a move took it to), and %rsp has not moved if the
 * function's return is hooked at the probe (the kernel takes the return
 * address from the top of the stack there). For a probe without a return,
 * pushes and stack allocations before it are counted in stack_words.
 */
#ifndef PROBE_PLACEMENT_H
#define PROBE_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Arguments are numbered 1..6 (%rdi, %rsi, %rdx, %rcx, %r8, %r9). */
#define PLACEMENT_MAX_ARGS 6

/* Reads up to len bytes of the object at link-time address vaddr into buf;
 * returns the number read (fewer at the end of a segment) or -errno. */
typedef long placement_read_fn(void *arg, uint64_t vaddr, uint8_t *buf, size_t len);

struct placement_request {
	const uint8_t *code; /* the function's bytes: its symbol's size, or fewer */
	size_t len;
	bool whole;          /* code holds the whole function (its symbol size is known) */
	uint64_t vaddr;      /* the function's link-time address */
	placement_read_fn *read; /* reads the code its branches leave to */
	void *read_arg;
	unsigned int args;   /* bit n set: argument n is read at the probe */
	bool returns;        /* the return is hooked at the probe: %rsp must not move */
	/* An array allocation's arguments, nmemb and size, 0 for none: the
	 * walk may pass over their multiplication (reallocarray's prologue),
	 * after which the product stands for both. */
	unsigned int nmemb_arg, size_arg;
	bool at_entry;       /* MEMLEAKD_PROBES_AT_ENTRY: stay at +0 whatever it is */
};

struct probe_placement {
	uint32_t offset;      /* bytes from the function's start to the probed instruction */
	const char *insn;     /* static description of the probed instruction, e.g. "push %r12",
			       * "je rel32", "nop", "unknown", "truncated" */
	bool emulated;        /* the kernel emulates the probed instruction (fast path) */
	unsigned int skipped; /* instructions passed over */
	unsigned int stack_words; /* 8-byte words pushed or allocated before the probe */
	/* Where argument n is at the probe, as the cookie says it
	 * (memleakd.h's COOKIE_LOC_*): n itself when it did not move. */
	uint8_t arg_loc[PLACEMENT_MAX_ARGS + 1];
	/* The probe reads nmemb × size where size is (arg_loc[size_arg]),
	 * and nmemb nowhere (arg_loc[nmemb_arg] is 0). */
	bool product;
	const char *why;      /* static: why here, when the probe is single-stepped or moved */
	/* The walk ended at a jump through memory, jmp *disp(%reg): a function
	 * that dispatches through a table (method_tables.h). tail_slot is
	 * disp; jump_arg_loc[n] where argument n is at the jump, as arg_loc
	 * (0: lost). */
	bool tail_jump;
	int32_t tail_slot;
	uint8_t jump_arg_loc[PLACEMENT_MAX_ARGS + 1];
};

/* Decide where to probe the function req describes. Never fails: when no
 * emulated instruction is safely reachable it returns offset 0, whose
 * instruction is described as far as it was recognised, and why. */
void probe_placement_find(const struct placement_request *req, struct probe_placement *out);

/* The register name of a cookie location (1..15), e.g. "%rsi"; "?" for
 * anything else. */
const char *probe_placement_loc_name(unsigned int loc);

#endif
