/* unwind_table.c - an object's call-frame information compiled into unwind
 * rows.
 *
 * libdw's dwarf_next_cfi walks the raw entries of .eh_frame (and of
 * .debug_frame); libdw leaves the FDE's pointers and augmentation encoded,
 * so they are read here as its CIE's augmentation says. Each CIE's initial
 * state is computed once, and each FDE's program run once from there
 * (cfi_program.h), giving the FDE's rows. The FDEs' rows are laid out by
 * address, with UNWIND_CFA_NONE where no FDE covers the code and equal
 * neighbours merged.
 */
#include "unwind/unwind_table.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "target/elf_object.h"
#include "unwind/cfi_program.h"
#include "unwind/unwind_table_internal.h"
#include "util/array.h"
#include "util/key_index.h"

#define RULE_OF(cfa) UNWIND_RULE(cfa, 0, false, 0)
/* A compressed .debug_frame larger than this once inflated is not read. */
#define MAX_DEBUG_FRAME (256u << 20)

/* A row before layout, at its offset in its FDE (under 4 GiB: a table
 * covers no more). */
struct raw_row {
	uint32_t off;
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
	unwind_fde_rows_fn fde_rows;
	void *fde_rows_ctx;
	uint64_t text_lo, text_hi; /* bounds of the executable segments */
	struct raw_row *rows;
	size_t n_rows, rows_cap;
	struct span *spans;
	size_t n_spans, spans_cap;
	size_t n_fdes, n_fp_fdes;
};

/* A CIE, read once for all its FDEs. */
struct cie_entry {
	bool ok;        /* its augmentation is understood: its FDEs are read */
	bool sized;     /* augmentation 'z': its FDEs say how long their augmentation is */
	bool state_ok;  /* its initial instructions ran */
	struct cfi_cie cie;
	struct cfi_state state;
};

/* One CFI section as dwarf_next_cfi reads it, and its CIEs by offset. */
struct cfi_section {
	Elf_Data *data;
	uint64_t vaddr; /* sh_addr: pc-relative pointers count from here */
	bool eh_frame;
	struct cie_entry *cies;
	size_t n_cies, cies_cap;
	struct key_index cie_index;
};

/* The FDE address encoding and 'S' of a CIE, from its augmentation (none:
 * absolute); false for an augmentation that cannot be read past. */
static bool read_augmentation(const Dwarf_CIE *cie, struct cie_entry *out)
{
	const char *aug = cie->augmentation;
	const uint8_t *p = cie->augmentation_data;
	const uint8_t *end = p ? p + cie->augmentation_data_size : NULL;
	uint64_t ignored;

	out->cie.fde_encoding = DW_EH_PE_absptr;
	if (aug[0] != 'z')
		return aug[0] == '\0';
	out->sized = true;
	for (aug++; *aug; aug++) {
		if (*aug == 'S' || *aug == 'B') {
			out->cie.signal_frame |= *aug == 'S';
			continue;
		}
		if (p >= end)
			return false;
		switch (*aug) {
		case 'R':
			out->cie.fde_encoding = *p++;
			break;
		case 'L':
			p++;
			break;
		case 'P':
			p++;
			if (!cfi_read_encoded(&p, end, p[-1] & 0x0f, 0, &ignored))
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

/* The CIE at offset off of section s, read and run the first time it is
 * asked for. NULL on ENOMEM. */
static struct cie_entry *cie_at(struct builder *b, struct cfi_section *s, Dwarf_Off off)
{
	size_t i = key_index__find(&s->cie_index, off);
	struct cie_entry *c;
	Dwarf_CFI_Entry e;
	Dwarf_Off next;

	if (i != KEY_INDEX_NONE)
		return &s->cies[i];
	if (array_grow((void **)&s->cies, &s->cies_cap, s->n_cies, sizeof(*s->cies), 16) < 0 ||
	    key_index__add(&s->cie_index, off, s->n_cies) < 0)
		return NULL;
	c = &s->cies[s->n_cies++];
	*c = (struct cie_entry){ .cie = { .section = s->data->d_buf, .section_vaddr = s->vaddr } };
	if (dwarf_next_cfi(b->ident, s->data, s->eh_frame, off, &next, &e) != 0 ||
	    !dwarf_cfi_cie_p(&e) || !read_augmentation(&e.cie, c))
		return c;
	c->ok = true;
	c->cie.initial = e.cie.initial_instructions;
	c->cie.initial_end = e.cie.initial_instructions_end;
	c->cie.code_align = e.cie.code_alignment_factor;
	c->cie.data_align = e.cie.data_alignment_factor;
	c->cie.ra_register = e.cie.return_address_register;
	c->state_ok = cfi_cie_state(&c->cie, &c->state) == 0;
	return c;
}

/* FDE fde of section s, whose CIE c is readable: its range (false when it
 * cannot be read, or is empty) and its program. An FDE whose augmentation
 * cannot be read past has no program: f->initial is NULL. */
static bool read_fde(struct cfi_section *s, const Dwarf_FDE *fde, const struct cie_entry *c,
		     struct unwind_fde *f)
{
	const uint8_t *p = fde->start, *end = fde->end;
	uint64_t len, aug_len;

	*f = (struct unwind_fde){ .debug_frame = !s->eh_frame, .cie = &c->cie, .end = end };
	if (!cfi_read_encoded(&p, end, c->cie.fde_encoding,
			      s->vaddr + (uint64_t)(p - (const uint8_t *)s->data->d_buf), &f->lo) ||
	    !cfi_read_encoded(&p, end, c->cie.fde_encoding & 0x0f, 0, &len))
		return false;
	f->hi = f->lo + len;
	if (f->hi <= f->lo)
		return false;
	if (c->sized) {
		if (!cfi_read_uleb(&p, end, &aug_len) || aug_len > (uint64_t)(end - p))
			return true;
		p += aug_len;
	}
	f->insns = p;
	f->initial = c->state_ok ? &c->state : NULL;
	return true;
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

/* Appends a row at offset off of the FDE whose rows start at first,
 * merged with an equal predecessor. Returns 0 or -ENOMEM. */
static int add_row(struct builder *b, size_t first, uint32_t off, uint32_t rule)
{
	if (b->n_rows > first && b->rows[b->n_rows - 1].rule == rule)
		return 0;
	if (array_grow((void **)&b->rows, &b->rows_cap, b->n_rows, sizeof(*b->rows), 1024) < 0)
		return -ENOMEM;
	b->rows[b->n_rows++] = (struct raw_row){ off, rule };
	return 0;
}

/* One FDE's rows as they come, and what the auto mode needs to know of them. */
struct fde_walk {
	struct builder *b;
	uint64_t lo;   /* the FDE's first address */
	size_t first;  /* the FDE's first row in b->rows */
	bool fp_only;  /* every rule so far one the frame-pointer walk follows */
	bool fp_frame; /* some row with the frame set up */
};

static int take_row(void *ctx, uint64_t pc, uint32_t rule)
{
	struct fde_walk *w = ctx;

	w->fp_only = w->fp_only && fp_walk_exact(rule);
	w->fp_frame = w->fp_frame || rule == RULE_FP_FRAME;
	return add_row(w->b, w->first, (uint32_t)(pc - w->lo), rule);
}

/* The rows of FDE f. In auto mode, the FDE of a function that sets up a
 * frame and that the frame-pointer walk follows everywhere keeps one
 * UNWIND_CFA_NONE row. Returns 0, -ENOMEM, -ECANCELED, or -EFBIG for an
 * FDE over 4 GiB long (no table covers more). */
static int walk_fde(struct builder *b, const struct unwind_fde *f)
{
	struct fde_walk w = { .b = b, .lo = f->lo, .first = b->n_rows, .fp_only = true };
	int r;

	if (f->hi - f->lo > UINT32_MAX)
		return -EFBIG;
	r = b->fde_rows(b->fde_rows_ctx, f, b->cancel, take_row, &w);
	if (r == 0 && w.fp_only && w.fp_frame && !b->full) {
		b->n_rows = w.first;
		b->n_fp_fdes++;
		r = add_row(b, w.first, 0, RULE_OF(UNWIND_CFA_NONE));
	}
	if (r == 0)
		r = array_grow((void **)&b->spans, &b->spans_cap, b->n_spans, sizeof(*b->spans), 1024);
	if (r == 0)
		b->spans[b->n_spans++] = (struct span){ f->lo, f->hi, w.first, b->n_rows - w.first };
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

/* Called with each readable FDE of a section, in order; nonzero stops the
 * walk with that value. */
typedef int (*fde_fn)(struct builder *b, const struct unwind_fde *f, void *ctx);

/* Call fn on the FDEs of s. Returns fn's nonzero value, 0 at the end,
 * -ECANCELED, or -ENOMEM. */
static int each_fde(struct builder *b, struct cfi_section *s, fde_fn fn, void *ctx)
{
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	struct unwind_fde f;
	int r;

	for (; dwarf_next_cfi(b->ident, s->data, s->eh_frame, off, &next, &e) == 0; off = next) {
		const struct cie_entry *c;

		if (b->cancel && *b->cancel)
			return -ECANCELED;
		if (dwarf_cfi_cie_p(&e))
			continue;
		c = cie_at(b, s, e.fde.CIE_pointer);
		if (!c)
			return -ENOMEM;
		if (!c->ok || !read_fde(s, &e.fde, c, &f))
			continue;
		r = fn(b, &f, ctx);
		if (r)
			return r;
	}
	return 0;
}

/* Rows of an FDE in the executable segments that none of the first
 * *skip_first spans (.eh_frame's, for .debug_frame) covers. Returns as
 * walk_fde. */
static int build_fde(struct builder *b, const struct unwind_fde *f, void *skip_first)
{
	if (f->lo < b->text_lo || f->hi > b->text_hi ||
	    covered(b, *(const size_t *)skip_first, f->lo, f->hi))
		return 0;
	b->n_fdes++;
	return walk_fde(b, f);
}

/* The section called name, with its header, or NULL when it has no
 * contents in the file. */
static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = elf_section_named(elf, name);

	return scn && gelf_getshdr(scn, sh) && sh->sh_type != SHT_NOBITS ? scn : NULL;
}

/* The contents of scn, inflated in place when compressed (to at most
 * MAX_DEBUG_FRAME bytes), or NULL. */
static Elf_Data *section_data(Elf_Scn *scn, const GElf_Shdr *sh)
{
	GElf_Chdr ch;

	if (sh->sh_flags & SHF_COMPRESSED) {
		Elf_Data *raw = elf_rawdata(scn, NULL);

		if (!raw || !gelf_getchdr(scn, &ch) || ch.ch_size > MAX_DEBUG_FRAME ||
		    elf_compress(scn, 0, 0) < 0)
			return NULL;
	}
	return elf_getdata(scn, NULL);
}

/* Walk the FDEs of section name with fn. Returns as each_fde. */
static int read_named(struct builder *b, const char *name, fde_fn fn, void *ctx)
{
	struct cfi_section s = { .eh_frame = strcmp(name, ".eh_frame") == 0 };
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(b->elf, name, &sh);
	int r;

	if (!scn)
		return 0;
	s.data = section_data(scn, &sh);
	s.vaddr = sh.sh_addr;
	if (!s.data || !s.data->d_buf)
		return 0;
	r = each_fde(b, &s, fn, ctx);
	free(s.cies);
	key_index__clear(&s.cie_index);
	return r;
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
 * does not. Returns as walk_fde. */
static int read_cfi(struct builder *b)
{
	size_t skip = 0;
	int r = read_named(b, ".eh_frame", build_fde, &skip);

	if (r < 0)
		return r;
	if (b->n_spans)
		qsort(b->spans, b->n_spans, sizeof(*b->spans), span_cmp);
	skip = b->n_spans;
	return read_named(b, ".debug_frame", build_fde, &skip);
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
		uint64_t pc, next;

		if (s->hi <= end)
			continue;
		if (s->lo > end)
			put(t, end, RULE_OF(UNWIND_CFA_NONE));
		for (size_t j = 0; j < s->count; j++) {
			/* Rows before end: only the one in force at end counts. */
			pc = s->lo + row[j].off;
			next = j + 1 < s->count ? s->lo + row[j + 1].off : s->hi;
			if (pc < end && j + 1 < s->count && next <= end)
				continue;
			put(t, pc > end ? pc : end, row[j].rule);
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

/* The rows of FDE f from its program. */
static int program_rows(void *ctx, const struct unwind_fde *f, const volatile bool *cancel,
			cfi_row_fn row, void *row_ctx)
{
	(void)ctx;
	return cfi_fde_rows(f->cie, f->initial, f->insns, f->end, f->lo, f->hi, cancel, row,
			    row_ctx);
}

int unwind_table__build(Elf *elf, bool full, const volatile bool *cancel,
			struct unwind_table **out)
{
	return unwind_table__build_with(elf, full, cancel, program_rows, NULL, out);
}

int unwind_table__build_with(Elf *elf, bool full, const volatile bool *cancel,
			     unwind_fde_rows_fn fde_rows, void *ctx, struct unwind_table **out)
{
	struct builder b = { .elf = elf, .full = full, .cancel = cancel, .fde_rows = fde_rows,
			     .fde_rows_ctx = ctx };
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

/* An address, and the FDE found to cover it. */
struct covering {
	uint64_t pc;
	struct unwind_fde fde;
};

static int holds_pc(struct builder *b, const struct unwind_fde *f, void *ctx)
{
	struct covering *c = ctx;

	(void)b;
	if (c->pc - f->lo >= f->hi - f->lo)
		return 0;
	c->fde = *f;
	return 1;
}

int unwind_fde_covering(Elf *elf, uint64_t pc, uint64_t *lo, uint64_t *hi)
{
	struct builder b = { .elf = elf };
	struct covering c = { .pc = pc };
	int r;

	if (!is_x86_64(elf))
		return -ENOEXEC;
	b.ident = (const unsigned char *)elf_getident(elf, NULL);
	r = read_named(&b, ".eh_frame", holds_pc, &c);
	if (r < 0)
		return r;
	if (!r)
		return -ENOENT;
	*lo = c.fde.lo;
	*hi = c.fde.hi;
	return 0;
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
