/* unwind_table.h - compile an object's call-frame information (.eh_frame,
 * and .debug_frame when present) into the rows the BPF unwinder searches
 * (struct unwind_row in memleakd.h), in time linear in its size: each
 * FDE's program is run once (cfi_program.h); and find the FDE that bounds
 * a function. The file is the target's:
 * everything read from it is bounded. Library code: it returns -errno and
 * never logs. */
#ifndef UNWIND_TABLE_H
#define UNWIND_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libelf.h>

#include "memleakd.h"

struct unwind_table {
	uint64_t base;            /* link-time address the rows' pc count from */
	size_t n_rows;
	struct unwind_row *rows;  /* sorted by pc, no two neighbours with the same rule */
	size_t n_fdes;            /* FDEs read */
	size_t n_fp_fdes;         /* FDEs left to the frame-pointer walk (when !full) */
	size_t n_unsupported;     /* rows whose rule the BPF side cannot follow */
};

/* Build the table of the ELF file elf (see elf_object__elf; it stays the
 * caller's). full: every FDE (--unwind dwarf); !full (--unwind auto): the FDEs
 * of functions that set up a frame pointer and whose every row the
 * frame-pointer walk follows exactly are left out (n_fp_fdes), and their
 * addresses read as UNWIND_CFA_NONE; functions with no frame at all are
 * kept, since gcc may call from them at CFA = rsp + 8. A row holds from its pc
 * up to the next row's; the last row is an UNWIND_CFA_NONE end marker, and so
 * is a row at the end of each FDE that the next FDE does not follow at once.
 * *cancel (may be NULL) is read between FDEs and every few thousand
 * instructions of one.
 * Returns 0 and *out, owned by the caller (an object with no CFI gives a
 * table of 0 rows and rows NULL), or -errno: -ENOEXEC for a file that is not
 * an x86-64 ELF file, -EFBIG when the covered range exceeds 4 GiB, -ENOMEM,
 * -ECANCELED when *cancel became true. *out is unchanged on failure. */
int unwind_table__build(Elf *elf, bool full, const volatile bool *cancel,
			struct unwind_table **out);
/* The range [*lo, *hi) of the .eh_frame FDE of elf that covers link-time
 * address pc: the bounds of the function (or the part of one) holding it.
 * Returns 0, -ENOENT when no FDE covers pc or elf has no .eh_frame,
 * -ENOEXEC for a file that is not an x86-64 ELF file, or -ENOMEM; *lo and
 * *hi are unchanged on failure. */
int unwind_fde_covering(Elf *elf, uint64_t pc, uint64_t *lo, uint64_t *hi);
/* Accepts NULL. */
void unwind_table__free(struct unwind_table *t);

/* Bytes the table takes in the BPF map (n_rows * sizeof(struct unwind_row)). */
size_t unwind_table__bytes(const struct unwind_table *t);

#endif
