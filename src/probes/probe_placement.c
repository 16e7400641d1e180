/* probe_placement.c - move a uprobe past a prologue onto the first
 * instruction the kernel emulates (probe_placement.h).
 *
 * Which forms are emulated was measured on this kernel (6.18) by
 * bench/emulation.py (BENCHMARKS.md): push %reg with no prefix or with REX
 * 41 alone, jmp and jcc rel8/rel32, call rel32 (none with a prefix), and
 * the kernel's eight NOP encodings; test, cmp, mov, lea, sub, xor,
 * endbr64, ret, indirect jumps and calls, push with another REX and the
 * other NOP encodings are single-stepped, 10 to 20 times dearer. A few
 * more NOP forms measure as emulated; they are not claimed here, which
 * costs nothing where they do not begin a function.
 *
 * The walk passes over instructions whose every effect is known: it
 * follows the registers each argument the probe reads is in (a 64-bit
 * register move copies it, any other write to a register loses what it
 * held), and counts pushes and `sub $imm,%rsp`. Anything else ends it: a
 * branch, a write to %rsp of another kind, a store relative to %rsp, an
 * instruction not recognised. Before the probe moves, every direct jump of
 * the function, and of the code its branches leave to (gcc's .cold
 * parts), is found by decoding all of it (x86_insn.c): a jump landing
 * after the entry and at or before the probe would run the prefix's state
 * past the probe again, so the probe stays before the first such target.
 */
#include "probes/probe_placement.h"

#include <errno.h>
#include <string.h>

#include "probes/x86_insn.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Bounds on the walk, so a misread prologue cannot carry the probe far. */
#define MAX_SKIPPED_INSNS 12
#define MAX_SKIPPED_BYTES 64
/* A function decoded to find its jumps, and the code it leaves to. */
#define MAX_SCANNED_BYTES (256 * 1024)
#define MAX_OUTSIDE_TARGETS 32
#define OUTSIDE_BYTES 256
/* What the cookie can say of a free's pushes. */
#define MAX_STACK_WORDS 15

/* x86 register numbers, in ModRM order. */
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

static const uint8_t arg_regs[PLACEMENT_MAX_ARGS + 1] = { 0, RDI, RSI, RDX, RCX, R8, R9 };
/* Cookie location of each register (memleakd.h); %rsp has none. */
static const uint8_t reg_loc[16] = {
	[RDI] = 1, [RSI] = 2, [RDX] = 3, [RCX] = 4, [R8] = 5, [R9] = 6,
	[RAX] = 7, [RBX] = 8, [RBP] = 9, [R10] = 10, [R11] = 11, [R12] = 12,
	[R13] = 13, [R14] = 14, [R15] = 15,
};
static const char *const reg_names[16] = {
	"%rax", "%rcx", "%rdx", "%rbx", "%rsp", "%rbp", "%rsi", "%rdi",
	"%r8", "%r9", "%r10", "%r11", "%r12", "%r13", "%r14", "%r15",
};

#define REX_PUSH_EMULATED 0x41

/* The kernel emulates a NOP only when its bytes equal its preferred NOP of
 * that length. Indexed by length. */
#define MAX_KERNEL_NOP 8
static const uint8_t kernel_nops[MAX_KERNEL_NOP + 1][MAX_KERNEL_NOP] = {
	[1] = { 0x90 },
	[2] = { 0x66, 0x90 },
	[3] = { 0x0f, 0x1f, 0x00 },
	[4] = { 0x0f, 0x1f, 0x40, 0x00 },
	[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[6] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[7] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	[8] = { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

static const char *const push_names[16] = {
	"push %rax", "push %rcx", "push %rdx", "push %rbx",
	"push %rsp", "push %rbp", "push %rsi", "push %rdi",
	"push %r8", "push %r9", "push %r10", "push %r11",
	"push %r12", "push %r13", "push %r14", "push %r15",
};

#define JCC_NAMES(width)                                                          \
	{ "jo " width, "jno " width, "jb " width, "jae " width,                   \
	  "je " width, "jne " width, "jbe " width, "ja " width,                   \
	  "js " width, "jns " width, "jp " width, "jnp " width,                   \
	  "jl " width, "jge " width, "jle " width, "jg " width }

/* Indexed by [rel32?][condition code]. */
static const char *const jcc_names[2][16] = { JCC_NAMES("rel8"), JCC_NAMES("rel32") };

/* What one instruction does, as far as the walk cares. */
struct effect {
	const char *name;
	bool emulated;
	bool known;      /* every effect below is all it does */
	bool branch;     /* may not fall through to the next instruction */
	uint16_t writes; /* registers written, bit per register number */
	int copy_src, copy_dst; /* a 64-bit register to register move, else -1 */
	int mul_dst, mul_a, mul_b; /* a 64-bit register multiplication mul_dst = mul_a *
				    * mul_b (the low half), else -1 */
	unsigned int pushed; /* bytes %rsp goes down by */
	const char *stop; /* static: why the walk cannot pass it, when known is false */
};

static bool no_prefixes(const struct x86_insn *in)
{
	return !in->opsize && !in->rep && !in->repne && !in->rex && !in->segment &&
	       !in->lock && !in->addr32;
}

static unsigned int reg_field(const struct x86_insn *in)
{
	return X86_MODRM_REG(in->modrm) | (in->rex & X86_REX_R ? 8 : 0);
}

static unsigned int rm_field(const struct x86_insn *in)
{
	return X86_MODRM_RM(in->modrm) | (in->rex & X86_REX_B ? 8 : 0);
}

/* The bit of the register a write of register n changes: a byte register
 * 4-7 without REX is %ah..%bh, in registers 0-3. */
static uint16_t reg_bits(const struct x86_insn *in, unsigned int n, bool byte)
{
	if (byte && !in->rex && n >= 4 && n <= 7)
		n -= 4;
	return (uint16_t)(1u << n);
}

/* Is the ModRM memory operand addressed from %rsp? */
static bool rsp_based(const struct x86_insn *in)
{
	return X86_MODRM_RM(in->modrm) == 4 && (in->sib & 7) == RSP && !(in->rex & X86_REX_B) &&
	       !(X86_MODRM_MOD(in->modrm) == 0 && (in->sib & 7) == 5);
}

/* The instruction writes its r/m operand: a register, or memory. */
static void writes_rm(const struct x86_insn *in, struct effect *e, bool byte)
{
	if (X86_MODRM_MOD(in->modrm) == 3)
		e->writes |= reg_bits(in, rm_field(in), byte);
	else if (rsp_based(in))
		e->stop = "a store to the stack comes before any emulated instruction";
}

static void writes_reg(const struct x86_insn *in, struct effect *e, bool byte)
{
	e->writes |= reg_bits(in, reg_field(in), byte);
}

static bool is_kernel_nop(const uint8_t *bytes, const struct x86_insn *in)
{
	return in->len <= MAX_KERNEL_NOP && !memcmp(bytes, kernel_nops[in->len], in->len);
}

/* Emulated forms, and branches: where the walk ends. */
static bool classify_ends(const uint8_t *bytes, const struct x86_insn *in, struct effect *e)
{
	uint8_t op = in->op;

	if (in->vex)
		return false;
	if (is_kernel_nop(bytes, in)) {
		e->name = "nop";
		e->emulated = e->known = true;
		return true;
	}
	if (in->map == X86_MAP_ONE && op >= 0x50 && op <= 0x57 && !in->opsize && !in->rep &&
	    !in->repne && !in->segment && !in->lock) {
		e->name = push_names[(in->rex & X86_REX_B ? 8 : 0) | (op & 7)];
		e->emulated = !in->rex || in->rex == REX_PUSH_EMULATED;
		e->known = true;
		e->pushed = 8;
		return true;
	}
	if (in->rel) {
		e->branch = true;
		if (in->map == X86_MAP_0F)
			e->name = jcc_names[1][op & 0xf];
		else if (op >= 0x70 && op <= 0x7f)
			e->name = jcc_names[0][op & 0xf];
		else
			e->name = op == 0xe8 ? "call rel32" : op == 0xe9 ? "jmp rel32" :
				  op == 0xeb ? "jmp rel8" : "loop or jrcxz";
		/* The kernel refuses branches with a 66 prefix; other prefixes
		 * on branches are not worth trusting either. */
		e->emulated = no_prefixes(in) && op != 0xe0 && op != 0xe1 && op != 0xe2 &&
			      op != 0xe3;
		return true;
	}
	if (in->map == X86_MAP_ONE &&
	    (op == 0xc2 || op == 0xc3 || op == 0xca || op == 0xcb || op == 0xcf || op == 0xcc ||
	     op == 0xcd || op == 0xf4 || (op == 0xff && X86_MODRM_REG(in->modrm) >= 2 &&
					 X86_MODRM_REG(in->modrm) <= 5))) {
		e->name = op == 0xff ? "indirect branch" : "ret or trap";
		e->branch = true;
		return true;
	}
	return false;
}

/* ALU 00-3d: add, or, adc, sbb, and, sub, xor, cmp. */
static void classify_alu(const struct x86_insn *in, struct effect *e)
{
	unsigned int col = in->op & 7, row = in->op >> 3;

	e->name = row == 7 ? "cmp" : "alu";
	e->known = true;
	if (row == 7)
		return;
	if (col <= 1)
		writes_rm(in, e, col == 0);
	else if (col <= 3)
		writes_reg(in, e, col == 2);
	else
		e->writes |= 1u << RAX;
}

/* 80, 81, 83: /7 is cmp; sub $imm,%rsp is a stack allocation. */
static void classify_group1(const struct x86_insn *in, struct effect *e)
{
	unsigned int op = X86_MODRM_REG(in->modrm);

	e->name = op == 7 ? "cmp" : "alu imm";
	e->known = true;
	if (op == 7)
		return;
	if (X86_MODRM_MOD(in->modrm) == 3 && rm_field(in) == RSP && (in->rex & X86_REX_W) &&
	    op == 5 && in->op != 0x80 && in->imm > 0) {
		e->name = "sub $imm,%rsp";
		e->pushed = (unsigned int)in->imm;
		return;
	}
	writes_rm(in, e, in->op == 0x80);
}

/* f6, f7: test, not, neg, and the multiplications and divisions. */
static void classify_group3(const struct x86_insn *in, struct effect *e)
{
	unsigned int op = X86_MODRM_REG(in->modrm);

	e->known = true;
	e->name = op <= 1 ? "test" : op <= 3 ? "not or neg" : "mul or div";
	if (op == 2 || op == 3)
		writes_rm(in, e, in->op == 0xf6);
	else if (op >= 4)
		e->writes |= (1u << RAX) | (in->op == 0xf7 ? 1u << RDX : 0);
	/* mul %reg: %rdx:%rax = %rax * %reg */
	if (op == 4 && in->op == 0xf7 && (in->rex & X86_REX_W) && X86_MODRM_MOD(in->modrm) == 3)
		e->mul_dst = RAX, e->mul_a = RAX, e->mul_b = (int)rm_field(in);
}

static void classify_mov(const struct x86_insn *in, struct effect *e)
{
	bool to_rm = in->op == 0x88 || in->op == 0x89, byte = in->op == 0x88 || in->op == 0x8a;

	e->name = "mov";
	e->known = true;
	if (to_rm)
		writes_rm(in, e, byte);
	else
		writes_reg(in, e, byte);
	if (!byte && (in->rex & X86_REX_W) && X86_MODRM_MOD(in->modrm) == 3) {
		e->copy_src = (int)(to_rm ? reg_field(in) : rm_field(in));
		e->copy_dst = (int)(to_rm ? rm_field(in) : reg_field(in));
	}
}

static void classify_one_byte(const struct x86_insn *in, struct effect *e)
{
	uint8_t op = in->op;

	if (op <= 0x3d && (op & 7) <= 5)
		classify_alu(in, e);
	else if (op == 0x80 || op == 0x81 || op == 0x83)
		classify_group1(in, e);
	else if (op == 0x84 || op == 0x85 || op == 0xa8 || op == 0xa9)
		e->name = "test", e->known = true;
	else if (op == 0xf6 || op == 0xf7)
		classify_group3(in, e);
	else if (op >= 0x88 && op <= 0x8b)
		classify_mov(in, e);
	else if (op == 0x8d && X86_MODRM_MOD(in->modrm) != 3)
		e->name = "lea", e->known = true, writes_reg(in, e, false);
	else if (op == 0x63 || op == 0x69 || op == 0x6b)
		e->name = "movsxd or imul", e->known = true, writes_reg(in, e, false);
	else if ((op == 0xc6 || op == 0xc7) && X86_MODRM_REG(in->modrm) == 0)
		e->name = "mov imm", e->known = true, writes_rm(in, e, op == 0xc6);
	else if (op >= 0xb0 && op <= 0xbf)
		e->name = "mov imm", e->known = true,
		e->writes |= reg_bits(in, (op & 7) | (in->rex & X86_REX_B ? 8 : 0), op < 0xb8);
	else if (op == 0xc0 || op == 0xc1 || (op >= 0xd0 && op <= 0xd3))
		e->name = "shift", e->known = true,
		writes_rm(in, e, op == 0xc0 || op == 0xd0 || op == 0xd2);
	else if (op == 0x98 || op == 0x99)
		e->name = "cdqe or cqo", e->known = true,
		e->writes |= 1u << (op == 0x98 ? RAX : RDX);
	else if (op == 0x90 && !in->rex && !in->rep)
		e->name = "nop", e->known = true;
}

static void classify_two_byte(const struct x86_insn *in, struct effect *e)
{
	uint8_t op = in->op;

	if (op == 0x1e && in->rep && in->modrm == 0xfa)
		e->name = "endbr64", e->known = true;
	else if (op == 0x1f && X86_MODRM_REG(in->modrm) == 0 && !in->rep && !in->repne)
		e->name = "nop", e->known = true;
	else if ((op >= 0x40 && op <= 0x4f) || op == 0xaf || op == 0xb6 || op == 0xb7 ||
		 op == 0xbe || op == 0xbf)
		e->name = "cmov, imul or movzx", e->known = true, writes_reg(in, e, false);
	else if (op >= 0x90 && op <= 0x9f)
		e->name = "setcc", e->known = true, writes_rm(in, e, true);
	/* imul %reg2,%reg: %reg *= %reg2 */
	if (op == 0xaf && (in->rex & X86_REX_W) && X86_MODRM_MOD(in->modrm) == 3)
		e->mul_dst = e->mul_a = (int)reg_field(in), e->mul_b = (int)rm_field(in);
}

static void classify(const uint8_t *bytes, const struct x86_insn *in, struct effect *e)
{
	*e = (struct effect){ .name = "unknown", .copy_src = -1, .copy_dst = -1, .mul_dst = -1 };
	if (classify_ends(bytes, in, e))
		return;
	if (in->vex || in->lock || (in->repne && in->map != X86_MAP_ONE))
		return;
	if (in->map == X86_MAP_ONE && !in->rep && !in->repne)
		classify_one_byte(in, e);
	else if (in->map == X86_MAP_0F)
		classify_two_byte(in, e);
	if (e->known && e->stop)
		e->known = false;
	if (e->known && (e->writes & (1u << RSP))) {
		e->known = false;
		e->stop = "%rsp is written before any emulated instruction";
	}
}

/* The smallest offset in (0, limit] that a direct jump of the function, or
 * of the code its branches leave to, lands on; limit + 1 when none does;
 * 0 when the function could not be decoded to its end. */
static uint64_t first_target_inside(const struct placement_request *req, uint64_t limit)
{
	uint64_t first = limit + 1, outside[MAX_OUTSIDE_TARGETS];
	size_t n_outside = 0, off = 0;
	struct x86_insn in;

	if (!req->whole || req->len > MAX_SCANNED_BYTES)
		return 0;
	while (off < req->len) {
		if (x86_insn_decode(req->code + off, req->len - off, &in) < 0)
			return 0;
		off += in.len;
		if (!in.rel)
			continue;
		uint64_t target = (uint64_t)((int64_t)off + in.imm);

		if (target > 0 && target < first)
			first = target;
		if (target >= req->len && n_outside < MAX_OUTSIDE_TARGETS)
			outside[n_outside++] = req->vaddr + target;
	}
	for (size_t i = 0; i < n_outside && req->read; i++) {
		uint8_t buf[OUTSIDE_BYTES];
		long got = req->read(req->read_arg, outside[i], buf, sizeof(buf));

		for (size_t pos = 0; got > 0 && pos < (size_t)got; pos += in.len) {
			if (x86_insn_decode(buf + pos, (size_t)got - pos, &in) < 0)
				break;
			if (!in.rel)
				continue;
			uint64_t target = outside[i] + pos + in.len + (uint64_t)in.imm;

			if (target > req->vaddr && target - req->vaddr < first)
				first = target - req->vaddr;
		}
	}
	return first;
}

/* The walk's state: where each argument read at the probe is, and where
 * nmemb × size is once the prologue multiplied them. */
struct walk {
	uint16_t where[PLACEMENT_MAX_ARGS + 1]; /* registers holding argument n */
	unsigned int args;
	unsigned int nmemb_arg, size_arg;
	uint16_t product; /* registers holding nmemb × size */
};

/* Registers in regs after e: a move copies, any other write loses. */
static uint16_t apply(uint16_t regs, const struct effect *e)
{
	uint16_t dst;

	if (e->copy_dst < 0)
		return regs & (uint16_t)~e->writes;
	dst = (uint16_t)(1u << e->copy_dst);
	return regs & (1u << e->copy_src) ? regs | dst : regs & (uint16_t)~dst;
}

/* Does e multiply nmemb by size? */
static bool multiplies_args(const struct walk *w, const struct effect *e)
{
	uint16_t a, b;

	if (e->mul_dst < 0 || !w->nmemb_arg || !w->size_arg)
		return false;
	a = (uint16_t)(1u << e->mul_a);
	b = (uint16_t)(1u << e->mul_b);
	return ((w->where[w->nmemb_arg] & a) && (w->where[w->size_arg] & b)) ||
	       ((w->where[w->nmemb_arg] & b) && (w->where[w->size_arg] & a));
}

/* Apply e to the argument registers; returns the argument lost, or 0.
 * nmemb and size may be lost once their product is held. */
static unsigned int follow(struct walk *w, const struct effect *e)
{
	bool multiplied = multiplies_args(w, e);

	w->product = apply(w->product, e);
	if (multiplied)
		w->product |= (uint16_t)(1u << e->mul_dst);
	for (unsigned int n = 1; n <= PLACEMENT_MAX_ARGS; n++) {
		if (!(w->args & (1u << n)))
			continue;
		w->where[n] = apply(w->where[n], e);
		if (!w->where[n] && !(w->product && (n == w->nmemb_arg || n == w->size_arg)))
			return n;
	}
	return 0;
}

/* The cookie location of registers regs: reg's own when it is one. */
static uint8_t location(uint16_t regs, unsigned int reg)
{
	if (regs & (1u << reg))
		return reg_loc[reg];
	for (unsigned int r = 0; r < 16; r++)
		if (regs & (1u << r))
			return reg_loc[r];
	return 0;
}

/* Each argument's location at the probe; nmemb and size, when either was
 * lost, by their product's. */
static void locate_args(const struct walk *w, struct probe_placement *out)
{
	for (unsigned int n = 1; n <= PLACEMENT_MAX_ARGS; n++)
		out->arg_loc[n] = (w->args & (1u << n)) ? location(w->where[n], arg_regs[n]) :
							  (uint8_t)n;
	if (!w->nmemb_arg || !w->size_arg ||
	    (out->arg_loc[w->nmemb_arg] && out->arg_loc[w->size_arg]))
		return;
	out->product = true;
	out->arg_loc[w->nmemb_arg] = 0;
	out->arg_loc[w->size_arg] = location(w->product, arg_regs[w->size_arg]);
}

/* Is in jmp *disp(%reg), with no index and no prefix but REX? *disp then. */
static bool jump_through_memory(const uint8_t *bytes, const struct x86_insn *in, int32_t *disp)
{
	unsigned int mod = X86_MODRM_MOD(in->modrm);

	if (in->map != X86_MAP_ONE || in->op != 0xff || !in->has_modrm ||
	    X86_MODRM_REG(in->modrm) != 4 || mod == 3 || in->has_sib || in->opsize ||
	    in->segment || in->addr32 || in->vex || (mod == 0 && X86_MODRM_RM(in->modrm) == 5))
		return false;
	*disp = 0;
	if (mod == 1)
		*disp = (int8_t)bytes[in->len - 1];
	else if (mod == 2)
		memcpy(disp, bytes + in->len - 4, sizeof(*disp));
	return true;
}

/* Where each argument the walk follows is at a tail jump through memory. */
static void locate_at_jump(const struct walk *w, int32_t slot, struct probe_placement *out)
{
	out->tail_jump = true;
	out->tail_slot = slot;
	for (unsigned int n = 1; n <= PLACEMENT_MAX_ARGS; n++)
		out->jump_arg_loc[n] = (w->args & (1u << n)) ? location(w->where[n], arg_regs[n]) : 0;
}

static void place_at_entry(const struct placement_request *req, const char *why,
			   struct probe_placement *out)
{
	struct x86_insn in;
	struct effect e = { .name = "unknown" };
	int r = x86_insn_decode(req->code, req->len, &in);

	if (r == 0)
		classify(req->code, &in, &e);
	*out = (struct probe_placement){
		.insn = r == 0 ? e.name : r == -ENODATA ? "truncated" : "unknown",
		.emulated = r == 0 && e.emulated,
	};
	out->why = out->emulated ? "the first instruction is emulated" : why;
	for (unsigned int n = 1; n <= PLACEMENT_MAX_ARGS; n++)
		out->arg_loc[n] = (uint8_t)n;
}

static const char *const lost_arg[PLACEMENT_MAX_ARGS + 1] = {
	NULL,
	"argument 1 is overwritten before an emulated instruction",
	"argument 2 is overwritten before an emulated instruction",
	"argument 3 is overwritten before an emulated instruction",
	"argument 4 is overwritten before an emulated instruction",
	"argument 5 is overwritten before an emulated instruction",
	"argument 6 is overwritten before an emulated instruction",
};

/* Why the walk cannot pass the instruction e, or NULL; *w follows it. */
static const char *pass(struct walk *w, const struct effect *e, bool returns,
			unsigned int *words)
{
	unsigned int lost;

	if (e->branch)
		return "a branch comes before any emulated instruction";
	if (!e->known)
		return e->stop ? e->stop :
				 "an instruction not known to be safe to pass comes before any emulated one";
	if ((lost = follow(w, e)))
		return lost_arg[lost];
	if (!e->pushed)
		return NULL;
	if (returns)
		return "%rsp moves before any emulated instruction, and the return is hooked there";
	*words += e->pushed / 8;
	if (e->pushed % 8 || *words > MAX_STACK_WORDS)
		return "the stack moves too far before any emulated instruction";
	return NULL;
}

void probe_placement_find(const struct placement_request *req, struct probe_placement *out)
{
	struct walk w = { .args = req->args, .nmemb_arg = req->nmemb_arg, .size_arg = req->size_arg };
	unsigned int skipped = 0, words = 0;
	uint64_t jump_target = 0;
	size_t off = 0;
	const char *stop = "no emulated instruction within the walk's limit";
	bool tail = false;
	int32_t slot = 0;

	for (unsigned int n = 1; n <= PLACEMENT_MAX_ARGS; n++)
		w.where[n] = (uint16_t)(1u << arg_regs[n]);
	if (req->at_entry)
		return place_at_entry(req, "MEMLEAKD_PROBES_AT_ENTRY", out);
	while (skipped <= MAX_SKIPPED_INSNS && off <= MAX_SKIPPED_BYTES) {
		struct x86_insn in;
		struct effect e;
		const char *why;

		if (x86_insn_decode(req->code + off, req->len - off, &in) < 0) {
			stop = "an instruction not recognised comes before any emulated one";
			break;
		}
		classify(req->code + off, &in, &e);
		if (e.emulated && !off)
			return place_at_entry(req, NULL, out);
		if (e.emulated) {
			if (!jump_target)
				jump_target = first_target_inside(req, MAX_SKIPPED_BYTES);
			if (jump_target <= off) {
				stop = jump_target ? "a jump lands inside the prologue" :
						     "the function could not be decoded to its end";
				break;
			}
			*out = (struct probe_placement){
				.offset = (uint32_t)off, .insn = e.name, .emulated = true,
				.skipped = skipped, .stack_words = words, .why = "prologue passed over",
			};
			locate_args(&w, out);
			return;
		}
		if ((why = pass(&w, &e, req->returns, &words))) {
			stop = why;
			tail = e.branch && jump_through_memory(req->code + off, &in, &slot);
			break;
		}
		off += in.len;
		skipped++;
	}
	place_at_entry(req, stop, out);
	if (tail)
		locate_at_jump(&w, slot, out);
}

const char *probe_placement_loc_name(unsigned int loc)
{
	for (unsigned int r = 0; r < 16; r++)
		if (reg_loc[r] == loc && r != RSP)
			return reg_names[r];
	return "?";
}
