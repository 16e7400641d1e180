/* cfi_program.c - CFA programs run once, start to end, into rules.
 *
 * The interpreter follows libdw's (libdw/cfi.c, elfutils 0.188) so that a
 * row has the rule dwarf_cfi_addrframe's state at its address gives: the
 * same errors end a program, a register column libdw refuses is refused,
 * DW_CFA_def_cfa_register and DW_CFA_def_cfa_offset on a CFA that is not
 * register + offset make it invalid, and an empty DWARF expression leaves
 * its register undefined. Only rbp, the return address (rip) and the CFA
 * are kept, each reduced when it is set to what the rule can use: an
 * expression is read once, when its instruction runs, not once per row.
 *
 * Rows: libdw computes the state at an address by running the program up to
 * the first advance past it; the row then lasts until that advance. Run
 * once, the same: at each advance past the row's start, the state so far
 * is the row's, and the row ends there. An advance that does not pass the
 * row's start (by 0, or a DW_CFA_set_loc backwards) starts no row.
 *
 * Where it parts from libdw, only malformed programs notice: more than
 * MAX_REMEMBERED states remembered at once, and a number cut short by the
 * program's end, are errors (libdw remembers without bound, and reads such
 * a number as all ones or reads past the end); offsets keep 64 bits
 * (libdw 61); DW_CFA_set_loc takes the encodings FDE addresses take here.
 */
#include "unwind/cfi_program.h"

#include <dwarf.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "memleakd.h"

/* x86-64 DWARF register numbers; 16 is the return-address column. */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RIP 16
/* Columns from here on are refused, as libdw refuses them: no machine has
 * that many registers. */
#define REG_LIMIT 268435455u
/* States DW_CFA_remember_state keeps at once; one more is an error.
 * Compilers nest them once or twice. */
#define MAX_REMEMBERED 64
/* Instructions run between two readings of the cancel flag. */
#define CANCEL_EVERY 4096

#define RULE_OF(cfa) UNWIND_RULE(cfa, 0, false, 0)
#define RULE_UNSUPPORTED RULE_OF(UNWIND_CFA_UNSUPPORTED)

enum register_how {
	REG_SAME = 0,  /* keeps its value */
	REG_UNDEFINED, /* not recoverable (or an empty expression) */
	REG_AT_CFA,    /* saved at CFA + offset */
	REG_OTHER,     /* anything else: in a register, a value, an expression */
};

enum cfa_how {
	CFA_UNDEFINED = 0,
	CFA_OFFSET,    /* DW_CFA_def_cfa: register + offset */
	CFA_EXPR_REG,  /* an expression of one DW_OP_bregN / DW_OP_bregx: register + offset */
	CFA_EXPR_PLT,  /* the PLT stubs' expression: cfa_offset, threshold in cfa_register */
	CFA_EXPR_OTHER,
	CFA_INVALID,   /* def_cfa_register or def_cfa_offset without a register + offset CFA */
};

/* One operation of a DWARF expression, as the shapes below need it. */
struct op {
	uint8_t atom;
	uint64_t number, number2;
};

/* The PLT stubs' expression: CFA = rsp + N + ((rip & 15) >= K ? 8 : 0), as
 * DW_OP_breg7 N; DW_OP_breg16 0; DW_OP_lit15; DW_OP_and; DW_OP_litK;
 * DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus. 0 stands for the literal. */
static const uint8_t plt_shape[] = { DW_OP_breg7, DW_OP_breg16, DW_OP_lit15, DW_OP_and, 0,
				     DW_OP_ge,    DW_OP_lit3,   DW_OP_shl,   DW_OP_plus };
#define PLT_OPS (sizeof(plt_shape))

/* The program being run. */
struct run {
	const struct cfi_cie *cie;
	const struct cfi_state *initial; /* NULL while the CIE's own instructions run */
	const uint8_t *p, *end;
	uint64_t loc;
	struct cfi_state state;
	struct cfi_state remembered[MAX_REMEMBERED];
	unsigned int n_remembered;
};

/* What one instruction did. */
enum step {
	STEP_RULE = 0, /* changed a rule, or nothing */
	STEP_ADVANCE,  /* moved loc */
};

bool cfi_read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < 10 && *p < end; i++) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* A signed LEB128 number of up to 64 bits, as cfi_read_uleb. */
static bool read_sleb(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < 10 && *p < end; i++) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if ((b & 0x40) && i < 9)
				v |= ~0ULL << (7 * (i + 1));
			*out = v;
			return true;
		}
	}
	return false;
}

static bool read_fixed(const uint8_t **p, const uint8_t *end, size_t size, uint64_t *out)
{
	uint64_t v = 0;

	if ((size_t)(end - *p) < size)
		return false;
	memcpy(&v, *p, size);
	*p += size;
	*out = v;
	return true;
}

bool cfi_read_encoded(const uint8_t **p, const uint8_t *end, uint8_t enc, uint64_t at,
		      uint64_t *out)
{
	static const uint8_t sizes[16] = {
		[DW_EH_PE_absptr] = 8, [DW_EH_PE_udata2] = 2, [DW_EH_PE_udata4] = 4,
		[DW_EH_PE_udata8] = 8, [DW_EH_PE_sdata2] = 2, [DW_EH_PE_sdata4] = 4,
		[DW_EH_PE_sdata8] = 8,
	};
	size_t size = sizes[enc & 0x0f];
	uint64_t v;

	if (!size || (enc & 0x70) > DW_EH_PE_pcrel || !read_fixed(p, end, size, &v))
		return false;
	if ((enc & DW_EH_PE_signed) && size < 8 && (v >> (size * 8 - 1)))
		v |= ~0ULL << (size * 8);
	*out = (enc & 0x70) == DW_EH_PE_pcrel ? v + at : v;
	return true;
}

/* The operation at *p (before end), when it is one the shapes use; false
 * for any other, or a truncated one: no shape holds it. */
static bool read_op(const uint8_t **p, const uint8_t *end, struct op *op)
{
	*op = (struct op){ .atom = *(*p)++ };
	if (op->atom >= DW_OP_breg0 && op->atom <= DW_OP_breg31)
		return read_sleb(p, end, &op->number);
	if (op->atom >= DW_OP_lit0 && op->atom <= DW_OP_lit31)
		return true;
	switch (op->atom) {
	case DW_OP_bregx:
		return cfi_read_uleb(p, end, &op->number) && read_sleb(p, end, &op->number2);
	case DW_OP_plus_uconst:
		return cfi_read_uleb(p, end, &op->number);
	case DW_OP_and:
	case DW_OP_ge:
	case DW_OP_shl:
	case DW_OP_plus:
		return true;
	default:
		return false;
	}
}

/* The operations of expression [p, end) into ops: how many, or -1 for more
 * than max or one that read_op does not know. */
static int read_ops(const uint8_t *p, const uint8_t *end, struct op *ops, int max)
{
	int n = 0;

	while (p < end) {
		if (n == max || !read_op(&p, end, &ops[n]))
			return -1;
		n++;
	}
	return n;
}

static bool plt_expression(const struct op *ops, int n)
{
	if (n != (int)PLT_OPS || ops[1].number != 0 || ops[4].atom < DW_OP_lit0 ||
	    ops[4].atom > DW_OP_lit31)
		return false;
	for (size_t i = 0; i < PLT_OPS; i++)
		if (plt_shape[i] && ops[i].atom != plt_shape[i])
			return false;
	return true;
}

/* DW_CFA_def_cfa_expression [p, end): register + offset, the PLT stubs'
 * expression, or another the unwinder cannot follow. */
static void set_cfa_expression(struct cfi_state *s, const uint8_t *p, const uint8_t *end)
{
	struct op ops[PLT_OPS];
	int n = read_ops(p, end, ops, PLT_OPS);

	s->cfa_how = CFA_EXPR_OTHER;
	if (n == 1 && ops[0].atom == DW_OP_bregx) {
		s->cfa_how = CFA_EXPR_REG;
		s->cfa_register = ops[0].number;
		s->cfa_offset = ops[0].number2;
	} else if (n == 1 && ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		s->cfa_how = CFA_EXPR_REG;
		s->cfa_register = ops[0].atom - DW_OP_breg0;
		s->cfa_offset = ops[0].number;
	} else if (plt_expression(ops, n)) {
		s->cfa_how = CFA_EXPR_PLT;
		s->cfa_register = ops[4].atom - DW_OP_lit0;
		s->cfa_offset = ops[0].number;
	}
}

/* A register's DW_CFA_expression (value: DW_CFA_val_expression) [p, end).
 * libdw puts DW_OP_call_frame_cfa before an expression (and
 * DW_OP_stack_value after a value's), so DW_OP_plus_uconst N alone means
 * saved at CFA + N; a value is never a saved slot; empty is undefined. */
static struct cfi_register register_expression(const uint8_t *p, const uint8_t *end, bool value)
{
	struct op op;

	if (p == end)
		return (struct cfi_register){ REG_UNDEFINED, 0 };
	if (!value && read_ops(p, end, &op, 1) == 1 && op.atom == DW_OP_plus_uconst)
		return (struct cfi_register){ REG_AT_CFA, (int64_t)op.number };
	return (struct cfi_register){ REG_OTHER, 0 };
}

/* The rule of a row in state s; see enum unwind_cfa. */
static uint32_t rule_of(const struct cfi_cie *cie, const struct cfi_state *s)
{
	int64_t rbp_off = s->rbp.offset, cfa_off = (int64_t)s->cfa_offset;
	bool rbp_saved = s->rbp.how == REG_AT_CFA;

	if (cie->signal_frame)
		return RULE_OF(UNWIND_CFA_SIGNAL);
	if (s->rip.how == REG_UNDEFINED)
		return RULE_OF(UNWIND_CFA_STOP); /* the outermost frame */
	if (s->rip.how != REG_AT_CFA || s->rip.offset != -8 || s->rbp.how == REG_OTHER)
		return RULE_UNSUPPORTED;
	if (rbp_saved && (rbp_off % 8 != 0 || rbp_off / 8 < INT8_MIN || rbp_off / 8 > INT8_MAX))
		return RULE_UNSUPPORTED;
	if (cfa_off < 0 || cfa_off > UNWIND_MAX_CFA_OFF)
		return RULE_UNSUPPORTED;
	if (s->cfa_how == CFA_EXPR_PLT)
		return rbp_saved ? RULE_UNSUPPORTED :
				   UNWIND_RULE(UNWIND_CFA_PLT, cfa_off, false, s->cfa_register);
	if ((s->cfa_how != CFA_OFFSET && s->cfa_how != CFA_EXPR_REG) ||
	    (s->cfa_register != REG_RSP && s->cfa_register != REG_RBP))
		return RULE_UNSUPPORTED;
	return UNWIND_RULE(s->cfa_register == REG_RSP ? UNWIND_CFA_RSP : UNWIND_CFA_RBP, cfa_off,
			   rbp_saved, rbp_off / 8);
}

/* Register column reg of the state, when the rule needs it; NULL for the
 * others. */
static struct cfi_register *column(struct cfi_state *s, uint64_t reg)
{
	return reg == REG_RBP ? &s->rbp : reg == REG_RIP ? &s->rip : NULL;
}

static const struct cfi_register *initial_column(const struct cfi_state *s, uint64_t reg)
{
	return reg == REG_RBP ? &s->rbp : &s->rip;
}

/* Set register reg's rule. False for a column libdw refuses. */
static bool set_register(struct run *r, uint64_t reg, enum register_how how, int64_t offset)
{
	struct cfi_register *c = column(&r->state, reg);

	if (reg >= REG_LIMIT)
		return false;
	if (c)
		*c = (struct cfi_register){ how, offset };
	return true;
}

/* DW_CFA_restore: the register's rule at the end of the CIE's
 * instructions, where it cannot be used. */
static bool restore_register(struct run *r, uint64_t reg)
{
	struct cfi_register *c = column(&r->state, reg);

	if (!r->initial || reg >= REG_LIMIT)
		return false;
	if (c)
		*c = *initial_column(r->initial, reg);
	return true;
}

/* Operands: a register and an unsigned (signed: sf) factored offset. */
static bool reg_and_offset(struct run *r, bool sf, uint64_t *reg, int64_t *offset)
{
	uint64_t v;

	if (!cfi_read_uleb(&r->p, r->end, reg) ||
	    !(sf ? read_sleb(&r->p, r->end, &v) : cfi_read_uleb(&r->p, r->end, &v)))
		return false;
	*offset = (int64_t)(v * (uint64_t)r->cie->data_align);
	return true;
}

/* A block operand (uleb128 length, bytes): [*start, *stop). */
static bool block(struct run *r, const uint8_t **start, const uint8_t **stop)
{
	uint64_t len;

	if (!cfi_read_uleb(&r->p, r->end, &len) || len > (uint64_t)(r->end - r->p))
		return false;
	*start = r->p;
	r->p += len;
	*stop = r->p;
	return true;
}

static bool advance(struct run *r, uint64_t delta)
{
	r->loc += delta * r->cie->code_align;
	return r->initial != NULL; /* no row in a CIE */
}

static bool set_loc(struct run *r)
{
	uint64_t at = r->cie->section_vaddr + (uint64_t)(r->p - r->cie->section);

	return cfi_read_encoded(&r->p, r->end, r->cie->fde_encoding, at, &r->loc) &&
	       r->initial != NULL;
}

/* CFA register + offset, where it already is one (DW_CFA_def_cfa_register,
 * DW_CFA_def_cfa_offset); else the CFA becomes invalid. */
static void change_cfa(struct cfi_state *s, const uint64_t *reg, const uint64_t *offset)
{
	if (s->cfa_how != CFA_OFFSET) {
		s->cfa_how = CFA_INVALID;
		return;
	}
	if (reg)
		s->cfa_register = *reg;
	if (offset)
		s->cfa_offset = *offset;
}

/* The instructions that only set a register's rule. -1: not one of them. */
static int register_step(struct run *r, uint8_t op)
{
	const uint8_t *start, *stop;
	struct cfi_register e;
	uint64_t reg, other;
	int64_t offset;

	switch (op) {
	case DW_CFA_offset_extended:
	case DW_CFA_offset_extended_sf:
		return reg_and_offset(r, op == DW_CFA_offset_extended_sf, &reg, &offset) &&
		       set_register(r, reg, REG_AT_CFA, offset);
	case DW_CFA_GNU_negative_offset_extended:
		return cfi_read_uleb(&r->p, r->end, &reg) && cfi_read_uleb(&r->p, r->end, &other) &&
		       set_register(r, reg, REG_AT_CFA,
				    (int64_t)(-other * (uint64_t)r->cie->data_align));
	case DW_CFA_val_offset:
	case DW_CFA_val_offset_sf:
		return reg_and_offset(r, op == DW_CFA_val_offset_sf, &reg, &offset) &&
		       set_register(r, reg, REG_OTHER, 0);
	case DW_CFA_register:
		return cfi_read_uleb(&r->p, r->end, &reg) && cfi_read_uleb(&r->p, r->end, &other) &&
		       set_register(r, reg, REG_OTHER, 0);
	case DW_CFA_undefined:
	case DW_CFA_same_value:
		return cfi_read_uleb(&r->p, r->end, &reg) &&
		       set_register(r, reg, op == DW_CFA_undefined ? REG_UNDEFINED : REG_SAME, 0);
	case DW_CFA_expression:
	case DW_CFA_val_expression:
		if (!cfi_read_uleb(&r->p, r->end, &reg) || !block(r, &start, &stop))
			return false;
		e = register_expression(start, stop, op == DW_CFA_val_expression);
		return set_register(r, reg, e.how, e.offset);
	case DW_CFA_restore_extended:
		return cfi_read_uleb(&r->p, r->end, &reg) && restore_register(r, reg);
	case DW_CFA_GNU_window_save:
		/* SPARC's register windows: libdw puts the return-address
		 * column at CFA + 0 on any other machine too. */
		r->state.rip = (struct cfi_register){ REG_AT_CFA, 0 };
		return true;
	default:
		return -1;
	}
}

/* The instructions on the CFA. -1: not one of them. */
static int cfa_step(struct run *r, uint8_t op)
{
	struct cfi_state *s = &r->state;
	const uint8_t *start, *stop;
	uint64_t reg, v;
	int64_t offset;

	switch (op) {
	case DW_CFA_def_cfa:
	case DW_CFA_def_cfa_sf:
		if (op == DW_CFA_def_cfa) {
			if (!cfi_read_uleb(&r->p, r->end, &reg) || !cfi_read_uleb(&r->p, r->end, &v))
				return false;
		} else if (!reg_and_offset(r, true, &reg, &offset)) {
			return false;
		} else {
			v = (uint64_t)offset;
		}
		s->cfa_how = CFA_OFFSET;
		s->cfa_register = reg;
		s->cfa_offset = v;
		return true;
	case DW_CFA_def_cfa_register:
		if (!cfi_read_uleb(&r->p, r->end, &reg))
			return false;
		change_cfa(s, &reg, NULL);
		return true;
	case DW_CFA_def_cfa_offset:
		if (!cfi_read_uleb(&r->p, r->end, &v))
			return false;
		change_cfa(s, NULL, &v);
		return true;
	case DW_CFA_def_cfa_offset_sf:
		if (!read_sleb(&r->p, r->end, &v))
			return false;
		v *= (uint64_t)r->cie->data_align;
		change_cfa(s, NULL, &v);
		return true;
	case DW_CFA_def_cfa_expression:
		if (!block(r, &start, &stop))
			return false;
		set_cfa_expression(s, start, stop);
		return true;
	default:
		return -1;
	}
}

/* Run the instruction at r->p (before r->end). Returns enum step, or
 * -EINVAL for one that cannot be run. */
static int step(struct run *r)
{
	uint8_t op = *r->p++;
	uint64_t v;
	int done;

	switch (op & 0xc0) {
	case DW_CFA_advance_loc:
		return advance(r, op & 0x3f) ? STEP_ADVANCE : -EINVAL;
	case DW_CFA_offset:
		return cfi_read_uleb(&r->p, r->end, &v) &&
		       set_register(r, op & 0x3f, REG_AT_CFA,
				    (int64_t)(v * (uint64_t)r->cie->data_align)) ? STEP_RULE : -EINVAL;
	case DW_CFA_restore:
		return restore_register(r, op & 0x3f) ? STEP_RULE : -EINVAL;
	}
	switch (op) {
	case DW_CFA_nop:
		return STEP_RULE;
	case DW_CFA_advance_loc1:
	case DW_CFA_advance_loc2:
	case DW_CFA_advance_loc4:
	case DW_CFA_MIPS_advance_loc8:
		return read_fixed(&r->p, r->end, op == DW_CFA_MIPS_advance_loc8 ? 8 :
					     1u << (op - DW_CFA_advance_loc1), &v) &&
		       advance(r, v) ? STEP_ADVANCE : -EINVAL;
	case DW_CFA_set_loc:
		return set_loc(r) ? STEP_ADVANCE : -EINVAL;
	case DW_CFA_remember_state:
		if (r->n_remembered == MAX_REMEMBERED)
			return -EINVAL;
		r->remembered[r->n_remembered++] = r->state;
		return STEP_RULE;
	case DW_CFA_restore_state:
		if (!r->n_remembered)
			return -EINVAL;
		r->state = r->remembered[--r->n_remembered];
		return STEP_RULE;
	case DW_CFA_GNU_args_size:
		return cfi_read_uleb(&r->p, r->end, &v) ? STEP_RULE : -EINVAL;
	}
	done = cfa_step(r, op);
	if (done < 0)
		done = register_step(r, op);
	return done > 0 ? STEP_RULE : -EINVAL;
}

int cfi_cie_state(const struct cfi_cie *cie, struct cfi_state *out)
{
	struct run r = {
		.cie = cie, .p = cie->initial, .end = cie->initial_end,
		/* The x86-64 ABI's state, which libdw sets first. */
		.state = { .cfa_how = CFA_UNDEFINED, .rbp = { REG_SAME, 0 }, .rip = { REG_SAME, 0 } },
	};

	while (r.p < r.end)
		if (step(&r) != STEP_RULE)
			return -EINVAL;
	*out = r.state;
	return 0;
}

int cfi_fde_rows(const struct cfi_cie *cie, const struct cfi_state *initial, const uint8_t *insns,
		 const uint8_t *end, uint64_t lo, uint64_t hi, const volatile bool *cancel,
		 cfi_row_fn row, void *ctx)
{
	struct run r = { .cie = cie, .initial = initial, .p = insns, .end = end, .loc = lo };
	uint64_t at = lo; /* where the row being run starts */
	unsigned int n = 0;

	/* libdw gives no rule where the return-address column is not an int. */
	if (!initial || cie->ra_register > INT32_MAX)
		return row(ctx, lo, RULE_UNSUPPORTED);
	r.state = *initial;
	while (r.p < r.end) {
		int s, e;

		if (++n % CANCEL_EVERY == 0 && cancel && *cancel)
			return -ECANCELED;
		s = step(&r);
		if (s < 0)
			return row(ctx, at, RULE_UNSUPPORTED);
		if (s != STEP_ADVANCE || r.loc <= at)
			continue;
		e = row(ctx, at, rule_of(cie, &r.state));
		if (e || r.loc >= hi)
			return e;
		at = r.loc;
	}
	return row(ctx, at, rule_of(cie, &r.state));
}
