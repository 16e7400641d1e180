/* unwind_table.c - an object's call-frame information compiled into unwind
 * rows, with libdw.
 *
 * dwarf_next_cfi walks the raw entries of .eh_frame (and of .debug_frame) to
 * find every FDE's address range; libdw leaves the FDE's pointers encoded, so
 * the encoding is read here from its CIE's augmentation. dwarf_cfi_addrframe
 * then runs the CFA program up to an address and says over which range
 * [start, end) the resulting state holds: stepping from end to end visits
 * every row of the FDE. Each state is reduced to one rule (how to find the
 * CFA, where rbp is saved), and the FDEs' rows are laid out by address, with
 * UNWIND_CFA_NONE where no FDE covers the code and equal neighbours merged.
 */
#include "unwind/unwind_table.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "target/elf_object.h"

/* x86-64 DWARF register numbers; 16 is the return-address column. */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RIP 16

#define RULE_OF(cfa) UNWIND_RULE(cfa, 0, false, 0)
#define RULE_UNSUPPORTED RULE_OF(UNWIND_CFA_UNSUPPORTED)

/* A row before layout, at its link-time address. */
struct raw_row {
	uint64_t pc;
	uint32_t rule;
};

/* One FDE's address range and its rows, builder.rows[first, first + count). */
struct span {
	uint64_t lo, hi;
	size_t first, count;
};

struct builder {
	Elf *elf;
	const unsigned char *ident;
	bool full;
	const volatile bool *cancel;
	uint64_t text_lo, text_hi; /* bounds of the executable segments */
	struct raw_row *rows;
	size_t n_rows, rows_cap;
	struct span *spans;
	size_t n_spans, spans_cap;
	size_t n_fdes, n_fp_fdes;
};

/* One CFI section as dwarf_next_cfi reads it, and the CIE decoded last. */
struct cfi_section {
	Elf_Data *data;
	uint64_t vaddr; /* sh_addr: pc-relative pointers count from here */
	bool eh_frame;
	Dwarf_Off cie_off;
	uint8_t cie_enc; /* how that CIE's FDEs encode their addresses */
	bool cie_ok;
};

/* Reads a pointer in DW_EH_PE encoding enc from *p, which lies at link-time
 * address at: fixed-size, absolute or pc-relative, the forms compilers give
 * FDE addresses (little-endian, as x86-64 is). False for anything else. */
static bool read_encoded(const uint8_t **p, const uint8_t *end, uint8_t enc, uint64_t at,
			 uint64_t *out)
{
	static const uint8_t sizes[16] = {
		[DW_EH_PE_absptr] = 8, [DW_EH_PE_udata2] = 2, [DW_EH_PE_udata4] = 4,
		[DW_EH_PE_udata8] = 8, [DW_EH_PE_sdata2] = 2, [DW_EH_PE_sdata4] = 4,
		[DW_EH_PE_sdata8] = 8,
	};
	size_t size = sizes[enc & 0x0f];
	uint64_t v = 0;

	if (!size || (size_t)(end - *p) < size || (enc & 0x70) > DW_EH_PE_pcrel)
		return false;
	memcpy(&v, *p, size);
	if ((enc & DW_EH_PE_signed) && size < 8 && (v >> (size * 8 - 1)))
		v |= ~0ULL << (size * 8);
	*p += size;
	*out = (enc & 0x70) == DW_EH_PE_pcrel ? v + at : v;
	return true;
}

/* The FDE address encoding of a CIE: its 'R' augmentation, absolute without
 * one. False for an augmentation that cannot be read past. */
static bool cie_encoding(const Dwarf_CIE *cie, uint8_t *enc)
{
	const char *aug = cie->augmentation;
	const uint8_t *p = cie->augmentation_data;
	const uint8_t *end = p ? p + cie->augmentation_data_size : NULL;
	uint64_t ignored;

	*enc = DW_EH_PE_absptr;
	if (aug[0] != 'z')
		return aug[0] == '\0';
	for (aug++; *aug; aug++) {
		if (*aug == 'S' || *aug == 'B')
			continue;
		if (p >= end)
			return false;
		switch (*aug) {
		case 'R':
			*enc = *p++;
			break;
		case 'L':
			p++;
			break;
		case 'P':
			p++;
			if (!read_encoded(&p, end, p[-1] & 0x0f, 0, &ignored))
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

/* The range [*lo, *hi) an FDE describes. False when it cannot be read. */
static bool fde_range(struct builder *b, struct cfi_section *s, const Dwarf_FDE *fde,
		      uint64_t *lo, uint64_t *hi)
{
	const uint8_t *p = fde->start;
	Dwarf_CFI_Entry cie;
	Dwarf_Off next;
	uint64_t len;

	if (fde->CIE_pointer != s->cie_off) {
		s->cie_off = fde->CIE_pointer;
		s->cie_ok = dwarf_next_cfi(b->ident, s->data, s->eh_frame, s->cie_off, &next, &cie) == 0 &&
			    dwarf_cfi_cie_p(&cie) && cie_encoding(&cie.cie, &s->cie_enc);
	}
	if (!s->cie_ok)
		return false;
	if (!read_encoded(&p, fde->end, s->cie_enc,
			  s->vaddr + (uint64_t)(p - (const uint8_t *)s->data->d_buf), lo) ||
	    !read_encoded(&p, fde->end, s->cie_enc & 0x0f, 0, &len))
		return false;
	*hi = *lo + len;
	return *hi > *lo;
}

/* Offset N of a register saved at CFA + N, as libdw spells it:
 * DW_OP_call_frame_cfa, then DW_OP_plus_uconst N unless N is 0. */
static bool saved_at_cfa(const Dwarf_Op *ops, size_t nops, int64_t *off)
{
	if (nops < 1 || nops > 2 || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	if (nops == 2 && ops[1].atom != DW_OP_plus_uconst)
		return false;
	*off = nops == 2 ? (int64_t)ops[1].number : 0;
	return true;
}

/* CFA = register + offset: libdw gives DW_OP_bregx for DW_CFA_def_cfa, and an
 * expression of one DW_OP_bregN means the same. */
static bool cfa_register(const Dwarf_Op *ops, size_t nops, uint64_t *reg, int64_t *off)
{
	if (nops != 1)
		return false;
	if (ops[0].atom == DW_OP_bregx) {
		*reg = ops[0].number;
		*off = (int64_t)ops[0].number2;
		return true;
	}
	if (ops[0].atom < DW_OP_breg0 || ops[0].atom > DW_OP_breg31)
		return false;
	*reg = ops[0].atom - DW_OP_breg0;
	*off = (int64_t)ops[0].number;
	return true;
}

/* The expression of PLT stubs: CFA = rsp + N + ((rip & 15) >= K ? 8 : 0),
 * as DW_OP_breg7 N; DW_OP_breg16 0; DW_OP_lit15; DW_OP_and; DW_OP_litK;
 * DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus. */
static bool plt_expression(const Dwarf_Op *ops, size_t nops, int64_t *off, unsigned *k)
{
	static const uint8_t shape[] = { DW_OP_breg7, DW_OP_breg16, DW_OP_lit15, DW_OP_and, 0,
					 DW_OP_ge,    DW_OP_lit3,   DW_OP_shl,   DW_OP_plus };

	if (nops != sizeof(shape) || ops[1].number != 0 || ops[4].atom < DW_OP_lit0 ||
	    ops[4].atom > DW_OP_lit31)
		return false;
	for (size_t i = 0; i < nops; i++)
		if (shape[i] && ops[i].atom != shape[i])
			return false;
	*off = (int64_t)ops[0].number;
	*k = ops[4].atom - DW_OP_lit0;
	return true;
}

/* The rule of one frame state; see enum unwind_cfa. */
static uint32_t frame_rule(Dwarf_Frame *frame, bool signalp)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int64_t off, rbp_off = 0;
	uint64_t reg;
	unsigned k;
	bool rbp_saved;

	if (signalp)
		return RULE_OF(UNWIND_CFA_SIGNAL);
	if (dwarf_frame_register(frame, REG_RIP, mem, &ops, &nops) < 0)
		return RULE_UNSUPPORTED;
	if (nops == 0 && ops)
		return RULE_OF(UNWIND_CFA_STOP); /* undefined: the outermost frame */
	if (!saved_at_cfa(ops, nops, &off) || off != -8)
		return RULE_UNSUPPORTED;
	/* Same value or undefined: rbp keeps its value. */
	if (dwarf_frame_register(frame, REG_RBP, mem, &ops, &nops) < 0)
		return RULE_UNSUPPORTED;
	rbp_saved = nops > 0;
	if (rbp_saved && (!saved_at_cfa(ops, nops, &rbp_off) || rbp_off % 8 != 0 ||
			  rbp_off / 8 < INT8_MIN || rbp_off / 8 > INT8_MAX))
		return RULE_UNSUPPORTED;
	if (dwarf_frame_cfa(frame, &ops, &nops) < 0)
		return RULE_UNSUPPORTED;
	if (plt_expression(ops, nops, &off, &k)) {
		if (rbp_saved || off < 0 || off > UNWIND_MAX_CFA_OFF)
			return RULE_UNSUPPORTED;
		return UNWIND_RULE(UNWIND_CFA_PLT, off, false, k);
	}
	if (!cfa_register(ops, nops, &reg, &off) || (reg != REG_RSP && reg != REG_RBP) ||
	    off < 0 || off > UNWIND_MAX_CFA_OFF)
		return RULE_UNSUPPORTED;
	return UNWIND_RULE(reg == REG_RSP ? UNWIND_CFA_RSP : UNWIND_CFA_RBP, off, rbp_saved,
			   rbp_off / 8);
}

/* The rule of a frame-pointer function's body: the frame is set up. */
#define RULE_FP_FRAME UNWIND_RULE(UNWIND_CFA_RBP, 16, true, -2)

/* Rules under which the frame-pointer walk finds the same caller in a
 * function that sets up a frame: entry or exit (after pop %rbp the CFI often
 * still says rbp is in the slot it was popped from), and just after push
 * %rbp. Without a frame they are not enough: gcc's IPA-RA calls functions
 * known to keep the registers it needs at CFA = rsp + 8, and a lone push of
 * rbp may make it a general register. */
static bool fp_walk_exact(uint32_t rule)
{
	return rule == UNWIND_RULE(UNWIND_CFA_RSP, 8, false, 0) ||
	       rule == UNWIND_RULE(UNWIND_CFA_RSP, 8, true, -2) ||
	       rule == UNWIND_RULE(UNWIND_CFA_RSP, 16, true, -2) || rule == RULE_FP_FRAME;
}

/* Appends a row of the FDE whose rows start at first, merged with an equal
 * predecessor. Returns 0 or -ENOMEM. */
static int add_row(struct builder *b, size_t first, uint64_t pc, uint32_t rule)
{
	if (b->n_rows > first && b->rows[b->n_rows - 1].rule == rule)
		return 0;
	if (array_grow((void **)&b->rows, &b->rows_cap, b->n_rows, sizeof(*b->rows), 1024) < 0)
		return -ENOMEM;
	b->rows[b->n_rows++] = (struct raw_row){ pc, rule };
	return 0;
}

/* Reads the rows of the FDE covering [lo, hi). An address libdw cannot
 * compute a frame for is unsupported up to the FDE's end. In auto mode, the
 * FDE of a function that sets up a frame and that the frame-pointer walk
 * follows everywhere keeps one UNWIND_CFA_NONE row. Returns 0 or -ENOMEM. */
static int walk_fde(struct builder *b, Dwarf_CFI *cfi, uint64_t lo, uint64_t hi)
{
	size_t first = b->n_rows;
	bool fp_only = true, fp_frame = false;
	uint64_t addr, end;
	int r = 0;

	for (addr = lo; addr < hi && r == 0; addr = end) {
		Dwarf_Addr start, frame_end;
		Dwarf_Frame *frame;
		uint32_t rule = RULE_UNSUPPORTED;
		bool signalp;

		end = hi;
		if (dwarf_cfi_addrframe(cfi, addr, &frame) == 0) {
			if (dwarf_frame_info(frame, &start, &frame_end, &signalp) >= 0) {
				rule = frame_rule(frame, signalp);
				if (frame_end > addr && frame_end < hi)
					end = frame_end;
			}
			free(frame);
		}
		fp_only = fp_only && fp_walk_exact(rule);
		fp_frame = fp_frame || rule == RULE_FP_FRAME;
		r = add_row(b, first, addr, rule);
	}
	if (r == 0 && fp_only && fp_frame && !b->full) {
		b->n_rows = first;
		b->n_fp_fdes++;
		r = add_row(b, first, lo, RULE_OF(UNWIND_CFA_NONE));
	}
	if (r == 0)
		r = array_grow((void **)&b->spans, &b->spans_cap, b->n_spans, sizeof(*b->spans), 1024);
	if (r == 0)
		b->spans[b->n_spans++] = (struct span){ lo, hi, first, b->n_rows - first };
	return r;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi > y->hi ? -1 : 1; /* the longer first: it covers the other */
	return x->first < y->first ? -1 : x->first > y->first;
}

/* Whether one of the first n spans (sorted) overlaps [lo, hi). */
static bool covered(const struct builder *b, size_t n, uint64_t lo, uint64_t hi)
{
	size_t l = 0, h = n;

	while (l < h) { /* the first span starting at or after hi */
		size_t m = l + (h - l) / 2;

		if (b->spans[m].lo < hi)
			l = m + 1;
		else
			h = m;
	}
	return l > 0 && b->spans[l - 1].hi > lo;
}

/* Reads every FDE of one section; with skip_first, the FDEs overlapping any
 * of the first skip_first spans are left out. Returns 0, -ENOMEM or
 * -ECANCELED. A malformed entry ends the section. */
static int read_section(struct builder *b, Dwarf_CFI *cfi, struct cfi_section *s,
			size_t skip_first)
{
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	uint64_t lo, hi;
	int r;

	for (; dwarf_next_cfi(b->ident, s->data, s->eh_frame, off, &next, &e) == 0; off = next) {
		if (b->cancel && *b->cancel)
			return -ECANCELED;
		if (dwarf_cfi_cie_p(&e) || !fde_range(b, s, &e.fde, &lo, &hi))
			continue;
		if (lo < b->text_lo || hi > b->text_hi || covered(b, skip_first, lo, hi))
			continue;
		b->n_fdes++;
		r = walk_fde(b, cfi, lo, hi);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The section called name, with its header, or NULL when it has no
 * contents in the file. */
static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = elf_section_named(elf, name);

	return scn && gelf_getshdr(scn, sh) && sh->sh_type != SHT_NOBITS ? scn : NULL;
}

/* Reads the FDEs of section name with cfi, libdw's reader of that section. */
static int read_named(struct builder *b, Dwarf_CFI *cfi, const char *name, size_t skip_first)
{
	struct cfi_section s = { .eh_frame = strcmp(name, ".eh_frame") == 0, .cie_off = (Dwarf_Off)-1 };
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(b->elf, name, &sh);

	if (!cfi || !scn)
		return 0;
	s.data = elf_getdata(scn, NULL);
	s.vaddr = sh.sh_addr;
	if (!s.data || !s.data->d_buf)
		return 0;
	return read_section(b, cfi, &s, skip_first);
}

/* Bounds of the executable PT_LOAD segments, or everything when none. */
static void text_bounds(struct builder *b)
{
	size_t n = 0;
	GElf_Phdr ph;

	b->text_lo = UINT64_MAX;
	b->text_hi = 0;
	if (elf_getphdrnum(b->elf, &n) < 0)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getphdr(b->elf, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (ph.p_vaddr < b->text_lo)
			b->text_lo = ph.p_vaddr;
		if (ph.p_vaddr + ph.p_memsz > b->text_hi)
			b->text_hi = ph.p_vaddr + ph.p_memsz;
	}
	if (b->text_lo >= b->text_hi) {
		b->text_lo = 0;
		b->text_hi = UINT64_MAX;
	}
}

/* Reads .eh_frame, then the FDEs of .debug_frame that cover code .eh_frame
 * does not. Returns 0, -ENOMEM or -ECANCELED. */
static int read_cfi(struct builder *b)
{
	Dwarf_CFI *cfi = NULL;
	Dwarf *dwarf = NULL;
	GElf_Shdr sh;
	int r;

	if (find_section(b->elf, ".eh_frame", &sh))
		cfi = dwarf_getcfi_elf(b->elf);
	r = read_named(b, cfi, ".eh_frame", 0);
	if (cfi)
		dwarf_cfi_end(cfi);
	if (r < 0 || !find_section(b->elf, ".debug_frame", &sh))
		return r;
	if (b->n_spans)
		qsort(b->spans, b->n_spans, sizeof(*b->spans), span_cmp);
	/* dwarf_begin_elf decompresses the section in place, before it is read. */
	dwarf = dwarf_begin_elf(b->elf, DWARF_C_READ, NULL);
	if (dwarf)
		r = read_named(b, dwarf_getcfi(dwarf), ".debug_frame", b->n_spans);
	dwarf_end(dwarf);
	return r;
}

static void put(struct unwind_table *t, uint64_t pc, uint32_t rule)
{
	if (t->n_rows && t->rows[t->n_rows - 1].rule == rule)
		return;
	t->rows[t->n_rows++] = (struct unwind_row){ (uint32_t)(pc - t->base), rule };
}

/* Lays the FDEs' rows out by address into t. Where FDEs overlap, the one
 * starting first holds until its end. Returns 0, -EFBIG or -ENOMEM. */
static int lay_out(struct builder *b, struct unwind_table *t)
{
	uint64_t end = 0;

	if (!b->n_spans)
		return 0;
	qsort(b->spans, b->n_spans, sizeof(*b->spans), span_cmp);
	t->base = b->spans[0].lo;
	for (size_t i = 0; i < b->n_spans; i++)
		if (b->spans[i].hi > end)
			end = b->spans[i].hi;
	if (end - t->base > UINT32_MAX)
		return -EFBIG;
	t->rows = malloc((b->n_rows + b->n_spans + 1) * sizeof(*t->rows));
	if (!t->rows)
		return -ENOMEM;
	end = t->base;
	for (size_t i = 0; i < b->n_spans; i++) {
		const struct span *s = &b->spans[i];
		const struct raw_row *row = b->rows + s->first;

		if (s->hi <= end)
			continue;
		if (s->lo > end)
			put(t, end, RULE_OF(UNWIND_CFA_NONE));
		for (size_t j = 0; j < s->count; j++) {
			/* Rows before end: only the one in force at end counts. */
			if (row[j].pc < end && j + 1 < s->count && row[j + 1].pc <= end)
				continue;
			put(t, row[j].pc > end ? row[j].pc : end, row[j].rule);
		}
		end = s->hi;
	}
	put(t, end, RULE_OF(UNWIND_CFA_NONE));
	for (size_t i = 0; i < t->n_rows; i++)
		t->n_unsupported += UNWIND_RULE_CFA(t->rows[i].rule) == UNWIND_CFA_UNSUPPORTED;
	return 0;
}

static bool is_x86_64(Elf *elf)
{
	GElf_Ehdr eh;

	return elf_kind(elf) == ELF_K_ELF && gelf_getehdr(elf, &eh) &&
	       eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_machine == EM_X86_64;
}

int unwind_table__build(Elf *elf, bool full, const volatile bool *cancel,
			struct unwind_table **out)
{
	struct builder b = { .elf = elf, .full = full, .cancel = cancel };
	struct unwind_table *t = NULL;
	int r;

	if (!is_x86_64(elf))
		return -ENOEXEC;
	b.ident = (const unsigned char *)elf_getident(b.elf, NULL);
	text_bounds(&b);
	r = cancel && *cancel ? -ECANCELED : read_cfi(&b);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	t = calloc(1, sizeof(*t));
	if (!t)
		goto out;
	t->n_fdes = b.n_fdes;
	t->n_fp_fdes = b.n_fp_fdes;
	r = lay_out(&b, t);
	if (r < 0)
		goto out;
	*out = t;
	t = NULL;
out:
	unwind_table__free(t);
	free(b.rows);
	free(b.spans);
	return r;
}

void unwind_table__free(struct unwind_table *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t);
}

size_t unwind_table__bytes(const struct unwind_table *t)
{
	return t ? t->n_rows * sizeof(struct unwind_row) : 0;
}
