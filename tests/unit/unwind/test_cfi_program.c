/* test_cfi_program.c - cfi_program's rows against libdw's, and its own
 * limits.
 *
 * The reference is the way tables were built before cfi_program: for each
 * address of an FDE, libdw's dwarf_cfi_addrframe runs the program from the
 * FDE's start up to it (quadratic in the FDE's rows), and the frame it
 * gives is reduced to a rule through dwarf_frame_register and
 * dwarf_frame_cfa. unwind_table__build_with builds the same object's table
 * both ways, and the tables must be identical row for row: for every
 * DW_CFA_* instruction (an assembled object made for it, with
 * .cfi_escape for those gas has no directive for), for a compressed
 * .debug_frame, and for Debian's libc, libstdc++ and the dynamic linker.
 * UNWIND_COMPARE_LIST names a file listing more objects, one path a line:
 * the comparison run over a whole system's objects.
 *
 * What libdw would do differently on purpose (a bounded remember stack,
 * truncated numbers, instructions a CIE may not hold), and what the
 * assembler cannot write (DW_CFA_set_loc), run hand-made programs. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <link.h>
#include <stdlib.h>

#include "target/elf_object.h"
#include "unit.h"
#include "unwind/cfi_program.h"
#include "unwind/unwind_table_internal.h"

#define RSP(off) UNWIND_RULE(UNWIND_CFA_RSP, off, false, 0)
#define RULE_OF(cfa) UNWIND_RULE(cfa, 0, false, 0)

/* Every instruction the interpreter knows, each in a row of its own (a nop
 * after each), in one function per CIE shape. The numbers in the comments
 * are the rule the row must have; the comparison with libdw checks them. */
static const char opcodes_s[] =
	"	.text\n"
	"	.globl every_opcode\n"
	"	.type every_opcode, @function\n"
	"every_opcode:\n"
	"	.cfi_startproc\n"
	"	push %rbp\n"
	"	.cfi_def_cfa_offset 16\n"
	"	.cfi_offset %rbp, -16\n"
	"	mov %rsp, %rbp\n"
	"	.cfi_def_cfa_register %rbp\n"
	"	nop\n"
	"	.cfi_remember_state\n"
	"	.cfi_def_cfa %rsp, 24\n"
	"	nop\n"
	"	.cfi_restore %rbp\n"
	"	nop\n"
	"	.cfi_restore_state\n"
	"	nop\n"
	"	.cfi_escape 0x12, 0x07, 0x7e\n"             /* def_cfa_sf rsp, -2: rsp + 16 */
	"	nop\n"
	"	.cfi_escape 0x13, 0x7d\n"                   /* def_cfa_offset_sf -3: rsp + 24 */
	"	nop\n"
	"	.cfi_escape 0x11, 0x06, 0x7e\n"             /* offset_extended_sf rbp, -2: CFA + 16 */
	"	nop\n"
	"	.cfi_escape 0x2f, 0x06, 0x03\n"             /* GNU_negative_offset_extended rbp, 3: CFA + 24 */
	"	nop\n"
	"	.cfi_escape 0x05, 0x06, 0x03\n"             /* offset_extended rbp, 3: CFA - 24 */
	"	nop\n"
	"	.cfi_escape 0x06, 0x06\n"                   /* restore_extended rbp */
	"	nop\n"
	"	.cfi_escape 0x2e, 0x10\n"                   /* GNU_args_size 16 */
	"	nop\n"
	"	.cfi_val_offset %rbp, -16\n"
	"	nop\n"
	"	.cfi_escape 0x15, 0x06, 0x7e\n"             /* val_offset_sf rbp */
	"	nop\n"
	"	.cfi_register %rbp, %rbx\n"
	"	nop\n"
	"	.cfi_same_value %rbp\n"
	"	nop\n"
	"	.cfi_escape 0x10, 0x06, 0x02, 0x23, 0x10\n" /* expression rbp: plus_uconst 16 */
	"	nop\n"
	"	.cfi_escape 0x10, 0x06, 0x00\n"             /* expression rbp, empty */
	"	nop\n"
	"	.cfi_escape 0x10, 0x06, 0x02, 0x77, 0x10\n" /* expression rbp: breg7 16 */
	"	nop\n"
	"	.cfi_escape 0x16, 0x06, 0x02, 0x23, 0x10\n" /* val_expression rbp */
	"	nop\n"
	"	.cfi_escape 0x16, 0x06, 0x00\n"             /* val_expression rbp, empty */
	"	nop\n"
	"	.cfi_undefined %rbp\n"
	"	nop\n"
	"	.cfi_escape 0x0f, 0x02, 0x77, 0x20\n"       /* def_cfa_expression breg7 32: rsp + 32 */
	"	nop\n"
	"	.cfi_def_cfa_offset 40\n"                   /* not register + offset: invalid */
	"	nop\n"
	"	.cfi_escape 0x0f, 0x03, 0x92, 0x06, 0x10\n" /* def_cfa_expression bregx rbp 16 */
	"	nop\n"
	"	.cfi_escape 0x0f, 0x0b, 0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22\n"
	"	nop\n"                                      /* the PLT expression, threshold 11 */
	"	.cfi_offset %rbp, -16\n"                    /* not with rbp saved */
	"	nop\n"
	"	.cfi_escape 0x0f, 0x0b, 0x77, 0x08, 0x80, 0x01, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22\n"
	"	nop\n"                                      /* almost: rip + 1 */
	"	.cfi_escape 0x0f, 0x00\n"                   /* def_cfa_expression, empty */
	"	nop\n"
	"	.cfi_escape 0x0d, 0x07\n"                   /* def_cfa_register on it: invalid */
	"	nop\n"
	"	.cfi_same_value %rbp\n"
	"	.cfi_def_cfa %rsp, 8\n"
	"	.skip 300, 0x90\n"                          /* advance_loc2 */
	"	.cfi_def_cfa_offset 16\n"
	"	.skip 70000, 0x90\n"                        /* advance_loc4 */
	"	.cfi_def_cfa_offset 8\n"
	"	nop\n"
	"	.cfi_escape 0x1d, 1, 0, 0, 0, 0, 0, 0, 0\n" /* MIPS_advance_loc8 by 1 */
	"	.cfi_escape 0x2d\n"                         /* GNU_window_save: ra at CFA */
	"	nop\n"
	"	.cfi_restore 16\n"
	"	.cfi_escape 0x00\n"                         /* nop */
	"	nop\n"
	"	.cfi_escape 0x43, 0x40\n"                   /* advance by 3, an advance by 0 */
	"	.cfi_def_cfa_offset 1048584\n"              /* beyond the rule's offsets */
	"	nop\n"
	"	.cfi_def_cfa_offset 8\n"
	"	nop\n"
	"	.cfi_escape 0x07, 0xff, 0xff, 0xff, 0x7f\n" /* undefined, a column libdw refuses */
	"	.skip 16, 0x90\n"                           /* room for the escapes' advances */
	"	ret\n"
	"	.cfi_endproc\n"
	"	.size every_opcode, . - every_opcode\n"
	"	.globl outermost\n"
	"outermost:\n"
	"	.cfi_startproc\n"
	"	.cfi_undefined %rip\n"
	"	nop\n"
	"	.cfi_escape 0x10, 0x10, 0x00\n"             /* expression rip, empty: undefined too */
	"	nop\n"
	"	.cfi_escape 0x1c\n"                         /* unknown: the rest is unsupported */
	"	nop\n"
	"	.cfi_def_cfa_offset 16\n"
	"	ret\n"
	"	.cfi_endproc\n"
	"	.globl unbalanced\n"
	"unbalanced:\n"
	"	.cfi_startproc\n"
	"	nop\n"
	"	.cfi_escape 0x0b\n"                         /* restore_state, nothing remembered */
	"	nop\n"
	"	ret\n"
	"	.cfi_endproc\n"
	"	.globl signal_frame\n"
	"signal_frame:\n"
	"	.cfi_startproc\n"
	"	.cfi_signal_frame\n"
	"	nop\n"
	"	.cfi_def_cfa_offset 16\n"
	"	ret\n"
	"	.cfi_endproc\n"
	"	.globl other_column\n"
	"other_column:\n"
	"	.cfi_startproc\n"
	"	.cfi_return_column 30\n"
	"	nop\n"
	"	ret\n"
	"	.cfi_endproc\n";

static const char prog_c[] =
	"#include <stdio.h>\n"
	"__attribute__((noinline)) long pusher(long a, long b, long c, long d)\n"
	"{\n"
	"	long s = 0;\n"
	"	for (long i = 0; i < a; i++)\n"
	"		s += printf(\"%ld\", i * b) * c + d;\n"
	"	return s;\n"
	"}\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	(void)argv;\n"
	"	return (int)pusher(argc, 2, 3, 4);\n"
	"}\n";

static const char build_sh[] =
	"gcc -shared -nostdlib opcodes.s -o opcodes.so\n"
	"gcc -O2 -g -gz -fomit-frame-pointer -fno-asynchronous-unwind-tables prog.c -o zdebug\n"
	"readelf -SW zdebug | grep -q ' .debug_frame .* C '\n";

static char fixture_dir[] = "/tmp/test_cfi_program.XXXXXX";

static bool fixture(void)
{
	static const struct unit_file files[] = { { "opcodes.s", opcodes_s }, { "prog.c", prog_c } };
	static int state = -1;

	if (state < 0)
		state = unit_fixture(fixture_dir, files, 2, build_sh);
	return state;
}

/* libdw's readers of an object's two CFI sections. */
struct libdw_cfi {
	Dwarf_CFI *eh, *debug;
	Dwarf *dwarf;
};

/* Saved at CFA + N: DW_OP_call_frame_cfa, then DW_OP_plus_uconst N unless N is 0. */
static bool at_cfa(const Dwarf_Op *ops, size_t n, int64_t *off)
{
	*off = n == 2 ? (int64_t)ops[1].number : 0;
	return (n == 1 || (n == 2 && ops[1].atom == DW_OP_plus_uconst)) &&
	       ops[0].atom == DW_OP_call_frame_cfa;
}

/* The PLT stubs' CFA expression; see cfi_program.c. */
static bool libdw_plt(const Dwarf_Op *o, size_t n)
{
	return n == 9 && o[0].atom == DW_OP_breg7 && o[1].atom == DW_OP_breg16 && !o[1].number &&
	       o[2].atom == DW_OP_lit15 && o[3].atom == DW_OP_and && o[4].atom >= DW_OP_lit0 &&
	       o[4].atom <= DW_OP_lit31 && o[5].atom == DW_OP_ge && o[6].atom == DW_OP_lit3 &&
	       o[7].atom == DW_OP_shl && o[8].atom == DW_OP_plus;
}

/* The rule of a frame as libdw states it. */
static uint32_t libdw_rule(Dwarf_Frame *frame, bool signalp)
{
	Dwarf_Op mem[3], *ops;
	size_t n;
	int64_t off, rbp_off = 0;
	uint64_t reg;
	bool saved;

	if (signalp)
		return RULE_OF(UNWIND_CFA_SIGNAL);
	if (dwarf_frame_register(frame, 16, mem, &ops, &n) < 0)
		return RULE_OF(UNWIND_CFA_UNSUPPORTED);
	if (n == 0 && ops)
		return RULE_OF(UNWIND_CFA_STOP);
	if (!at_cfa(ops, n, &off) || off != -8 || dwarf_frame_register(frame, 6, mem, &ops, &n) < 0)
		return RULE_OF(UNWIND_CFA_UNSUPPORTED);
	saved = n > 0;
	if (saved && (!at_cfa(ops, n, &rbp_off) || rbp_off % 8 || rbp_off / 8 < INT8_MIN ||
		      rbp_off / 8 > INT8_MAX))
		return RULE_OF(UNWIND_CFA_UNSUPPORTED);
	if (dwarf_frame_cfa(frame, &ops, &n) < 0 || n < 1)
		return RULE_OF(UNWIND_CFA_UNSUPPORTED);
	off = (int64_t)(ops[0].atom == DW_OP_bregx ? ops[0].number2 : ops[0].number);
	if (off < 0 || off > UNWIND_MAX_CFA_OFF)
		return RULE_OF(UNWIND_CFA_UNSUPPORTED);
	if (libdw_plt(ops, n))
		return saved ? RULE_OF(UNWIND_CFA_UNSUPPORTED) :
			       UNWIND_RULE(UNWIND_CFA_PLT, off, false, ops[4].atom - DW_OP_lit0);
	if (n != 1 || (ops[0].atom != DW_OP_bregx &&
		       (ops[0].atom < DW_OP_breg0 || ops[0].atom > DW_OP_breg31)))
		return RULE_OF(UNWIND_CFA_UNSUPPORTED);
	reg = ops[0].atom == DW_OP_bregx ? ops[0].number : (uint64_t)(ops[0].atom - DW_OP_breg0);
	if (reg != 6 && reg != 7)
		return RULE_OF(UNWIND_CFA_UNSUPPORTED);
	return UNWIND_RULE(reg == 7 ? UNWIND_CFA_RSP : UNWIND_CFA_RBP, off, saved, rbp_off / 8);
}

/* The rows of an FDE the old way: the frame at each address from
 * dwarf_cfi_addrframe, which holds until the frame's end. */
static int libdw_rows(void *ctx, const struct unwind_fde *f, const volatile bool *cancel,
		      cfi_row_fn row, void *row_ctx)
{
	struct libdw_cfi *c = ctx;
	Dwarf_CFI *cfi = f->debug_frame ? c->debug : c->eh;
	uint64_t addr, end;
	int r = 0;

	(void)cancel;
	for (addr = f->lo; addr < f->hi && r == 0; addr = end) {
		Dwarf_Addr start, frame_end;
		Dwarf_Frame *frame;
		uint32_t rule = RULE_OF(UNWIND_CFA_UNSUPPORTED);
		bool signalp;

		end = f->hi;
		if (cfi && dwarf_cfi_addrframe(cfi, addr, &frame) == 0) {
			if (dwarf_frame_info(frame, &start, &frame_end, &signalp) >= 0) {
				rule = libdw_rule(frame, signalp);
				if (frame_end > addr && frame_end < f->hi)
					end = frame_end;
			}
			free(frame);
		}
		r = row(row_ctx, addr, rule);
	}
	return r;
}

static bool same_tables(const struct unwind_table *a, const struct unwind_table *b)
{
	return a->n_rows == b->n_rows && a->base == b->base && a->n_fdes == b->n_fdes &&
	       a->n_fp_fdes == b->n_fp_fdes && a->n_unsupported == b->n_unsupported &&
	       (!a->n_rows || !memcmp(a->rows, b->rows, unwind_table__bytes(a)));
}

/* Builds path's table both ways, full and auto, and expects them identical.
 * Returns the full table, or NULL for a file that is not ELF when any may
 * be given. */
static struct unwind_table *compare(const char *path, bool any)
{
	struct elf_object *o = NULL;
	struct unwind_table *full = NULL;
	int r = elf_object__open_headers(AT_FDCWD, path, &o);

	if (!(any && r == -ENOEXEC))
		EXPECT_EQ(r, 0);
	for (int mode = 0; r == 0 && mode < 2; mode++) {
		Elf *elf = elf_object__elf(o);
		struct libdw_cfi c = { .eh = dwarf_getcfi_elf(elf) };
		struct unwind_table *old = NULL, *new = NULL;
		int r_old, r_new;

		c.dwarf = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
		c.debug = c.dwarf ? dwarf_getcfi(c.dwarf) : NULL;
		r_old = unwind_table__build_with(elf, mode, NULL, libdw_rows, &c, &old);
		r_new = unwind_table__build(elf, mode, NULL, &new);
		EXPECT_EQ(r_new, r_old);
		if (r_old == 0 && r_new == 0 && !same_tables(old, new)) {
			fprintf(stderr, "  %s (%s): %zu rows the old way, %zu the new\n", path,
				mode ? "full" : "auto", old->n_rows, new->n_rows);
			EXPECT(!"the same table both ways");
		}
		if (mode)
			full = new;
		else
			unwind_table__free(new);
		unwind_table__free(old);
		if (c.eh)
			dwarf_cfi_end(c.eh);
		dwarf_end(c.dwarf);
	}
	elf_object__free(o);
	return full;
}

/* The link-time address of symbol name in the shared object at path,
 * loaded for the purpose. */
static uint64_t symbol(const char *path, const char *name)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	struct link_map *lm = NULL;
	void *sym = h ? dlsym(h, name) : NULL;

	EXPECT(sym != NULL);
	if (!sym || dlinfo(h, RTLD_DI_LINKMAP, &lm) < 0)
		return 0;
	return (uint64_t)sym - lm->l_addr;
}

/* The rules of the table's rows starting in [lo, hi), in order. */
static size_t rules_in(const struct unwind_table *t, uint64_t lo, uint64_t hi, uint32_t *out,
		       size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_rows && n < max; i++)
		if (t->base + t->rows[i].pc >= lo && t->base + t->rows[i].pc < hi)
			out[n++] = t->rows[i].rule;
	return n;
}

#define UNSUPPORTED RULE_OF(UNWIND_CFA_UNSUPPORTED)
#define RBP16_SAVED(off8) UNWIND_RULE(UNWIND_CFA_RBP, 16, true, off8)
#define RSP_SAVED(off, off8) UNWIND_RULE(UNWIND_CFA_RSP, off, true, off8)

TEST(every_opcode_as_libdw)
{
	/* What every_opcode's rows say, neighbours that agree merged: push
	 * rbp; rbp the CFA; remembered, rsp + 24; rbp restored; the state
	 * restored; def_cfa_sf; def_cfa_offset_sf; rbp at 16, 24, -24;
	 * restore_extended (args_size changes nothing); val_offset,
	 * val_offset_sf, register; same value; expression + 16; empty
	 * expression; breg7 expression, val_expression; empty val_expression
	 * (undefined: unchanged); breg7 32 CFA; def_cfa_offset on it; bregx
	 * rbp 16; PLT; PLT with rbp saved, not quite PLT, empty, def_cfa_register on it; rsp + 8
	 * over 300 bytes, + 16 over 70000; window_save; restored; an offset
	 * too large; back; a column libdw refuses. */
	static const uint32_t want[] = {
		RSP(8), RSP_SAVED(16, -2), RBP16_SAVED(-2), RSP_SAVED(24, -2), RSP(24),
		RBP16_SAVED(-2), RSP_SAVED(16, -2), RSP_SAVED(24, -2), RSP_SAVED(24, 2),
		RSP_SAVED(24, 3), RSP_SAVED(24, -3), RSP(24), UNSUPPORTED, RSP(24),
		RSP_SAVED(24, 2), RSP(24), UNSUPPORTED, RSP(24), RSP(32), UNSUPPORTED,
		UNWIND_RULE(UNWIND_CFA_RBP, 16, false, 0), UNWIND_RULE(UNWIND_CFA_PLT, 8, false, 11),
		UNSUPPORTED, RSP(8), RSP(16), RSP(8), UNSUPPORTED, RSP(8), UNSUPPORTED, RSP(8),
		UNSUPPORTED,
	};
	uint32_t got[64];
	struct unwind_table *t;
	uint64_t lo, hi;
	size_t n;

	EXPECT(fixture());
	t = compare("opcodes.so", false);
	if (!t)
		return;
	lo = symbol("./opcodes.so", "every_opcode");
	hi = symbol("./opcodes.so", "outermost");
	n = rules_in(t, lo, hi, got, 64);
	EXPECT_EQ(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n && i < sizeof(want) / sizeof(want[0]); i++) {
		if (got[i] != want[i])
			fprintf(stderr, "  row %zu: %#x, expected %#x\n", i, got[i], want[i]);
		EXPECT_EQ(got[i], want[i]);
	}
	lo = hi;
	hi = symbol("./opcodes.so", "unbalanced");
	n = rules_in(t, lo, hi, got, 64);
	EXPECT_EQ(n, 2);
	EXPECT_EQ(got[0], RULE_OF(UNWIND_CFA_STOP));
	EXPECT_EQ(got[1], UNSUPPORTED);
	EXPECT_EQ(rules_in(t, symbol("./opcodes.so", "signal_frame"),
			   symbol("./opcodes.so", "other_column"), got, 64), 1);
	EXPECT_EQ(got[0], RULE_OF(UNWIND_CFA_SIGNAL));
	unwind_table__free(t);
}

TEST(compressed_debug_frame_as_libdw)
{
	struct unwind_table *t;

	EXPECT(fixture());
	t = compare("zdebug", false);

	EXPECT(t && t->n_fdes >= 2 && t->n_rows > 4);
	unwind_table__free(t);
}

/* Debian's objects, and those UNWIND_COMPARE_LIST names. */
TEST(system_objects_as_libdw)
{
	static const char *const paths[] = {
		"/usr/lib/x86_64-linux-gnu/libc.so.6",
		"/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30",
		"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
	};
	const char *list = getenv("UNWIND_COMPARE_LIST");
	char *line = NULL;
	size_t len = 0, n = 0;
	FILE *f;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		unwind_table__free(compare(paths[i], false));
	f = list ? fopen(list, "r") : NULL;
	EXPECT(!list || f);
	while (f && getline(&line, &len, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		unwind_table__free(compare(line, true));
		n++;
	}
	if (f) {
		fprintf(stderr, "  %zu paths of %s read\n", n, list);
		fclose(f);
	}
	free(line);
}

/* A hand-made program, run with a CIE that sets CFA = rsp + 8 and the
 * return address at CFA - 8, code and data alignment 1 and -8. */
struct rows {
	uint64_t pc[16];
	uint32_t rule[16];
	size_t n;
};

static int collect(void *ctx, uint64_t pc, uint32_t rule)
{
	struct rows *r = ctx;

	if (r->n == 16)
		return -E2BIG;
	r->pc[r->n] = pc;
	r->rule[r->n++] = rule;
	return 0;
}

static const uint8_t usual_cie[] = { DW_CFA_def_cfa, 7, 8, DW_CFA_offset | 16, 1 };

static struct cfi_cie cie_of(const uint8_t *initial, size_t len)
{
	return (struct cfi_cie){ .initial = initial, .initial_end = initial + len, .code_align = 1,
				 .data_align = -8, .ra_register = 16,
				 .fde_encoding = DW_EH_PE_udata8 };
}

static int run(const uint8_t *prog, size_t len, uint64_t lo, uint64_t hi, struct rows *out)
{
	struct cfi_cie cie = cie_of(usual_cie, sizeof(usual_cie));
	struct cfi_state initial;

	*out = (struct rows){ 0 };
	EXPECT_EQ(cfi_cie_state(&cie, &initial), 0);
	return cfi_fde_rows(&cie, &initial, prog, prog + len, lo, hi, NULL, collect, out);
}

TEST(set_loc_and_advances)
{
	/* set_loc forward to 0x1010, back to 0x1004 (starts no row), advance 8
	 * from there to 0x100c (neither), then past hi. */
	static const uint8_t prog[] = {
		DW_CFA_def_cfa_offset, 16, DW_CFA_set_loc, 0x10, 0x10, 0, 0, 0, 0, 0, 0,
		DW_CFA_def_cfa_offset, 24, DW_CFA_set_loc, 0x04, 0x10, 0, 0, 0, 0, 0, 0,
		DW_CFA_def_cfa_offset, 32, DW_CFA_advance_loc | 8, DW_CFA_def_cfa_offset, 40,
		DW_CFA_advance_loc1, 0x40, DW_CFA_def_cfa_offset, 48, DW_CFA_advance_loc | 1,
	};
	struct rows r;

	EXPECT_EQ(run(prog, sizeof(prog), 0x1000, 0x1030, &r), 0);
	EXPECT_EQ(r.n, 2);
	EXPECT_EQ(r.pc[0], 0x1000);
	EXPECT_EQ(r.rule[0], RSP(16));
	EXPECT_EQ(r.pc[1], 0x1010);
	EXPECT_EQ(r.rule[1], RSP(40));
}

TEST(remembered_states_are_bounded)
{
	uint8_t prog[200];
	struct rows r;
	size_t n = 0;

	prog[n++] = DW_CFA_advance_loc | 1;
	for (int i = 0; i < 64; i++)
		prog[n++] = DW_CFA_remember_state;
	prog[n++] = DW_CFA_advance_loc | 1;
	prog[n++] = DW_CFA_remember_state; /* the 65th */
	prog[n++] = DW_CFA_advance_loc | 1;
	EXPECT_EQ(run(prog, n, 0x10, 0x20, &r), 0);
	EXPECT_EQ(r.n, 3);
	EXPECT_EQ(r.pc[2], 0x12);
	EXPECT_EQ(r.rule[1], RSP(8));
	EXPECT_EQ(r.rule[2], UNSUPPORTED);
}

TEST(truncated_operands)
{
	static const uint8_t uleb[] = { DW_CFA_advance_loc | 2, DW_CFA_def_cfa_offset, 0x90 };
	static const uint8_t block[] = { DW_CFA_advance_loc | 2, DW_CFA_def_cfa_expression, 3, 0x77 };
	static const uint8_t fixed[] = { DW_CFA_advance_loc | 2, DW_CFA_advance_loc2, 1 };
	static const uint8_t *const progs[] = { uleb, block, fixed };
	static const size_t lens[] = { sizeof(uleb), sizeof(block), sizeof(fixed) };
	struct rows r;

	for (size_t i = 0; i < 3; i++) {
		EXPECT_EQ(run(progs[i], lens[i], 0x10, 0x20, &r), 0);
		EXPECT_EQ(r.n, 2);
		EXPECT_EQ(r.rule[0], RSP(8));
		EXPECT_EQ(r.pc[1], 0x12);
		EXPECT_EQ(r.rule[1], UNSUPPORTED);
	}
}

TEST(cie_instructions)
{
	static const uint8_t advance[] = { DW_CFA_def_cfa, 7, 8, DW_CFA_advance_loc | 1 };
	static const uint8_t restore[] = { DW_CFA_def_cfa, 7, 8, DW_CFA_restore | 6 };
	static const uint8_t unbalanced[] = { DW_CFA_restore_state };
	static const uint8_t remembered[] = { DW_CFA_remember_state, DW_CFA_def_cfa, 7, 8,
					      DW_CFA_offset | 16, 1 };
	struct cfi_cie cie = cie_of(advance, sizeof(advance));
	struct cfi_state s;
	struct rows r = { 0 };

	EXPECT_EQ(cfi_cie_state(&cie, &s), -EINVAL);
	cie = cie_of(restore, sizeof(restore));
	EXPECT_EQ(cfi_cie_state(&cie, &s), -EINVAL);
	cie = cie_of(unbalanced, sizeof(unbalanced));
	EXPECT_EQ(cfi_cie_state(&cie, &s), -EINVAL);
	/* A state remembered in the CIE is not the FDE's to restore. */
	cie = cie_of(remembered, sizeof(remembered));
	EXPECT_EQ(cfi_cie_state(&cie, &s), 0);
	EXPECT_EQ(cfi_fde_rows(&cie, &s, unbalanced, unbalanced + 1, 0x10, 0x20, NULL, collect, &r), 0);
	EXPECT_EQ(r.n, 1);
	EXPECT_EQ(r.rule[0], UNSUPPORTED);
	/* A CIE that could not run, and a return-address column beyond an int. */
	r.n = 0;
	EXPECT_EQ(cfi_fde_rows(&cie, NULL, NULL, NULL, 0x10, 0x20, NULL, collect, &r), 0);
	cie = cie_of(usual_cie, sizeof(usual_cie));
	EXPECT_EQ(cfi_cie_state(&cie, &s), 0);
	cie.ra_register = 1ull << 31;
	EXPECT_EQ(cfi_fde_rows(&cie, &s, NULL, NULL, 0x10, 0x20, NULL, collect, &r), 0);
	EXPECT_EQ(r.n, 2);
	EXPECT_EQ(r.pc[1], 0x10);
	EXPECT_EQ(r.rule[1], UNSUPPORTED);
}

static int count_rows(void *ctx, uint64_t pc, uint32_t rule)
{
	(void)pc;
	(void)rule;
	++*(size_t *)ctx;
	return 0;
}

/* A million rows run in one pass; a cancel request stops the run. */
TEST(long_program)
{
	static uint8_t prog[2000000];
	struct cfi_cie cie = cie_of(usual_cie, sizeof(usual_cie));
	struct cfi_state s;
	volatile bool cancel = false;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(prog); i += 2) {
		prog[i] = DW_CFA_advance_loc | 1;
		prog[i + 1] = i % 4 ? DW_CFA_restore_state : DW_CFA_remember_state;
	}
	EXPECT_EQ(cfi_cie_state(&cie, &s), 0);
	EXPECT_EQ(cfi_fde_rows(&cie, &s, prog, prog + sizeof(prog), 0, 1ull << 32, &cancel,
			       count_rows, &n), 0);
	EXPECT_EQ(n, sizeof(prog) / 2 + 1);
	cancel = true;
	EXPECT_EQ(cfi_fde_rows(&cie, &s, prog, prog + sizeof(prog), 0, 1ull << 32, &cancel,
			       count_rows, &n), -ECANCELED);
	/* A row's nonzero return ends the run. */
	EXPECT_EQ(cfi_fde_rows(&cie, &s, prog, prog + sizeof(prog), 0, 1ull << 32, NULL, collect,
			       &(struct rows){ 0 }), -E2BIG);
}

RUN_TESTS("cfi_program", T(every_opcode_as_libdw), T(compressed_debug_frame_as_libdw),
	  T(system_objects_as_libdw), T(set_loc_and_advances), T(remembered_states_are_bounded),
	  T(truncated_operands), T(cie_instructions), T(long_program))
