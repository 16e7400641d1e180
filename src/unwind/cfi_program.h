/* cfi_program.h - call-frame information programs, each run once from its
 * first instruction to its last. A CIE's initial instructions give the
 * state its FDEs start from; an FDE's instructions, run from there, give
 * the rows of its function, each state reduced to the one rule the BPF
 * unwinder follows (UNWIND_RULE() in memleakd.h: how to find the CFA,
 * where rbp is saved). The states are those libdw's dwarf_cfi_addrframe
 * computes for each address, reached in one pass: the cost is linear in
 * the program's bytes. The bytes come from files the target controls:
 * every read is bounded by the program, and so is the state
 * DW_CFA_remember_state keeps. Library code: it returns -errno and never
 * logs. */
#ifndef CFI_PROGRAM_H
#define CFI_PROGRAM_H

#include <stdbool.h>
#include <stdint.h>

/* What a program needs of its CIE (as libdw's dwarf_next_cfi reads it),
 * and of the section it lies in. */
struct cfi_cie {
	const uint8_t *initial, *initial_end; /* its initial instructions */
	uint64_t code_align;
	int64_t data_align;
	uint64_t ra_register;   /* the return-address column */
	uint8_t fde_encoding;   /* DW_EH_PE_* of its FDEs' addresses, and of DW_CFA_set_loc's */
	bool signal_frame;      /* augmentation 'S': every row is UNWIND_CFA_SIGNAL */
	const uint8_t *section; /* the bytes of the section, and the link-time */
	uint64_t section_vaddr; /* address of the first: pc-relative values count from there */
};

/* How a register is recovered, as far as the rule needs to know. */
struct cfi_register {
	uint8_t how;    /* enum register_how in cfi_program.c */
	int64_t offset; /* saved at CFA + offset */
};

/* The CFA and the registers the rule depends on, in one row. Its fields
 * are cfi_program.c's. */
struct cfi_state {
	uint8_t cfa_how;       /* enum cfa_how in cfi_program.c */
	uint64_t cfa_register; /* or a PLT stub's threshold */
	uint64_t cfa_offset;
	struct cfi_register rbp, rip;
};

/* The state the FDEs of cie start from: the x86-64 ABI's (rbp and the
 * return address keep their values, the CFA is not known), then cie's
 * initial instructions. Returns 0 and *out, or -EINVAL for instructions
 * that cannot be run: malformed, unknown, or not allowed in a CIE (an
 * advance, a restore). */
int cfi_cie_state(const struct cfi_cie *cie, struct cfi_state *out);

/* Receives the rows of an FDE in order: the rule from pc on. A nonzero
 * return ends the run, which returns it. */
typedef int (*cfi_row_fn)(void *ctx, uint64_t pc, uint32_t rule);

/* Run the instructions [insns, end) of the FDE that covers [lo, hi), whose
 * CIE is cie and starts in state initial (NULL: cie_state failed), and
 * hand each row to row(ctx, ...): the first at lo; each holds until the
 * next one, the last until hi. Rows with the same rule may follow each
 * other. From an instruction that cannot be run, the rule is
 * UNWIND_CFA_UNSUPPORTED up to hi; so it is everywhere for initial NULL.
 * *cancel (may be NULL) is read every few thousand instructions. Returns
 * 0, row's nonzero return, or -ECANCELED once *cancel is true. */
int cfi_fde_rows(const struct cfi_cie *cie, const struct cfi_state *initial, const uint8_t *insns,
		 const uint8_t *end, uint64_t lo, uint64_t hi, const volatile bool *cancel,
		 cfi_row_fn row, void *ctx);

/* Read an unsigned LEB128 number of up to 64 bits at *p (before end).
 * Returns true, *out and *p past it, or false when end comes first. */
bool cfi_read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *out);

/* Read a pointer in DW_EH_PE encoding enc at *p (before end), which lies at
 * link-time address at: fixed-size, absolute or pc-relative, the forms
 * compilers give FDE addresses (x86-64 is little-endian). Returns true,
 * *out and *p past it, or false for anything else. */
bool cfi_read_encoded(const uint8_t **p, const uint8_t *end, uint8_t enc, uint64_t at,
		      uint64_t *out);

#endif
