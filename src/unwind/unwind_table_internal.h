/* unwind_table_internal.h - unwind_table__build with the rows of each FDE
 * taken from elsewhere: for the test that holds cfi_program's rows against
 * libdw's state at every address. Library code: returns -errno, never
 * logs. */
#ifndef UNWIND_TABLE_INTERNAL_H
#define UNWIND_TABLE_INTERNAL_H

#include "unwind/cfi_program.h"
#include "unwind/unwind_table.h"

/* One FDE, as the builder read it. */
struct unwind_fde {
	uint64_t lo, hi;                 /* the code it covers */
	bool debug_frame;                /* read from .debug_frame, else .eh_frame */
	const struct cfi_cie *cie;
	const struct cfi_state *initial; /* NULL: its CIE's instructions, or its own
					  * augmentation, cannot be read */
	const uint8_t *insns, *end;      /* its instructions */
};

/* Hands the rows of FDE f to row(row_ctx, ...), as cfi_fde_rows does;
 * returns as it does. */
typedef int (*unwind_fde_rows_fn)(void *ctx, const struct unwind_fde *f,
				  const volatile bool *cancel, cfi_row_fn row, void *row_ctx);

/* unwind_table__build, with each FDE's rows from fde_rows(ctx, ...). */
int unwind_table__build_with(Elf *elf, bool full, const volatile bool *cancel,
			     unwind_fde_rows_fn fde_rows, void *ctx, struct unwind_table **out);

#endif
