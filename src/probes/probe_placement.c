/* probe_placement.c - a tiny x86-64 decoder that knows just enough prologue
 * instructions to move a uprobe onto the first one the kernel emulates.
 *
 * Which forms are emulated was measured on this kernel (6.18), not assumed:
 * an empty BPF uprobe on a function starting with each form, median ns per
 * call with the probe (2 ns without). Emulated, 765-865 ns: push %reg with no
 * prefix or with REX 41 only, jmp and jcc rel8/rel32, call rel32, and the
 * kernel's own eight NOP encodings (kernel_nops below; 0f 1f 44 00 00 is
 * even rewritten into a call, 575 ns). Single-stepped, 4115-4175 ns: test,
 * cmp (register, rip-relative or SIB operand), endbr64, mov, sub, push with
 * any other prefix (40 55), and every other NOP encoding (0f 1f 04 00). In
 * glibc: free probed at +0 (test) 4260 ns, at +3 (je) 790 ns; malloc at +0
 * (push %r12) 880 ns.
 *
 * Only forms recognised here are passed over, and only those that write
 * nothing but flags (NOPs, endbr64, test and cmp); anything else ends the
 * walk. If the walk ends on an instruction that is not emulated the probe
 * stays at the entry: moving it would cost the same single-step.
 */
#include "probes/probe_placement.h"

#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Bounds on the walk, so a misread prologue cannot carry the probe far. */
#define MAX_SKIPPED_INSNS 4
#define MAX_SKIPPED_BYTES 32
/* The architectural limit; anything longer is not an instruction. */
#define MAX_INSN_LEN 15

#define REX_W 0x08
#define REX_B 0x01
/* The only REX prefix the kernel's push emulation accepts. */
#define REX_PUSH_EMULATED 0x41

#define MODRM_MOD(m) ((m) >> 6)
#define MODRM_REG(m) (((m) >> 3) & 7)
#define MODRM_RM(m) ((m) & 7)
#define SIB_BASE(s) ((s) & 7)
#define MOD_REGISTER 3
#define RM_SIB 4
#define RM_DISP32 5 /* with mod 0: rip-relative, or no base in a SIB */
#define GROUP1_CMP 7

/* The kernel emulates a NOP only when its bytes equal its preferred NOP of
 * that length; any other NOP encoding is single-stepped. Indexed by length. */
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

/* Indexed by REX.B and the register bits of the opcode. */
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

/* One instruction being decoded from code[start], never reading past len. */
struct decoder {
	const uint8_t *code;
	size_t len;
	size_t start;
	size_t pos;
	bool truncated; /* a read ran past len */
	bool opsize;    /* 66 */
	bool rep;       /* f3 */
	bool repne;     /* f2 */
	uint8_t rex;    /* 0 when absent */
	uint8_t op;     /* the opcode byte, after 0f for two-byte opcodes */
};

struct insn {
	size_t len;
	const char *name;
	bool emulated;
	bool skippable; /* writes only flags: no register, no memory, no branch */
};

static bool take(struct decoder *d, uint8_t *byte)
{
	if (d->pos >= d->len) {
		d->truncated = true;
		return false;
	}
	*byte = d->code[d->pos++];
	return true;
}

static bool advance(struct decoder *d, size_t n)
{
	if (d->len - d->pos < n) {
		d->truncated = true;
		return false;
	}
	d->pos += n;
	return true;
}

/* Legacy prefixes 66/f2/f3 in any order, then at most one REX, then the
 * opcode. A REX followed by anything but an opcode is left for the form
 * table to reject. */
static bool read_prefixes(struct decoder *d)
{
	for (;;) {
		if (d->pos - d->start >= MAX_INSN_LEN || !take(d, &d->op))
			return false;
		if (d->op == 0x66)
			d->opsize = true;
		else if (d->op == 0xf3)
			d->rep = true;
		else if (d->op == 0xf2)
			d->repne = true;
		else
			break;
	}
	if (d->op < 0x40 || d->op > 0x4f)
		return true;
	d->rex = d->op;
	return take(d, &d->op);
}

/* f2/f3 change the meaning of some opcodes (f3 90 is pause); none of the
 * skippable forms is known with them except endbr64. */
static bool no_rep(const struct decoder *d)
{
	return !d->rep && !d->repne;
}

static bool no_prefixes(const struct decoder *d)
{
	return no_rep(d) && !d->opsize && !d->rex;
}

/* Reads the ModRM operand's SIB and displacement after the ModRM byte. REX
 * does not change which rm values mean SIB or rip-relative. */
static bool skip_rm_operand(struct decoder *d, uint8_t modrm)
{
	uint8_t mod = MODRM_MOD(modrm), sib;
	size_t disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;

	if (mod == MOD_REGISTER)
		return true;
	if (MODRM_RM(modrm) == RM_SIB) {
		if (!take(d, &sib))
			return false;
		if (mod == 0 && SIB_BASE(sib) == RM_DISP32)
			disp = 4;
	} else if (mod == 0 && MODRM_RM(modrm) == RM_DISP32) {
		disp = 4;
	}
	return advance(d, disp);
}

/* Immediate of an instruction whose operand size is 16 or 32 bits. */
static size_t imm_z(const struct decoder *d)
{
	return d->opsize && !(d->rex & REX_W) ? 2 : 4;
}

static bool flags_only(struct insn *in, const char *name)
{
	in->name = name;
	in->skippable = true;
	return true;
}

static bool nop(struct decoder *d, struct insn *in)
{
	size_t len = d->pos - d->start;

	in->emulated = len <= MAX_KERNEL_NOP && !memcmp(d->code + d->start, kernel_nops[len], len);
	return flags_only(in, "nop");
}

/* The kernel emulates push only with no prefix or with REX 41 alone. */
static bool decode_push(struct decoder *d, struct insn *in)
{
	if (!no_rep(d) || d->opsize)
		return false;
	in->name = push_names[(d->rex & REX_B ? 8 : 0) | (d->op & 7)];
	in->emulated = !d->rex || d->rex == REX_PUSH_EMULATED;
	return true;
}

/* The kernel refuses branches with a 66 prefix; other prefixes on branches
 * are not worth trusting either. */
static bool branch(struct decoder *d, struct insn *in, size_t rel, const char *name)
{
	if (!no_prefixes(d) || !advance(d, rel))
		return false;
	in->name = name;
	in->emulated = true;
	return true;
}

static bool decode_jcc8(struct decoder *d, struct insn *in)
{
	return branch(d, in, 1, jcc_names[0][d->op & 0xf]);
}

static bool decode_jcc32(struct decoder *d, struct insn *in)
{
	return branch(d, in, 4, jcc_names[1][d->op & 0xf]);
}

static bool decode_jmp8(struct decoder *d, struct insn *in)
{
	return branch(d, in, 1, "jmp rel8");
}

static bool decode_rel32(struct decoder *d, struct insn *in)
{
	return branch(d, in, 4, d->op == 0xe8 ? "call rel32" : "jmp rel32");
}

/* 90 is a NOP only without REX: 41 90 exchanges eax with r8d. */
static bool decode_nop90(struct decoder *d, struct insn *in)
{
	return no_rep(d) && !d->rex && nop(d, in);
}

/* 0f 1f /0 ignores its operand whatever the addressing form. */
static bool decode_nopl(struct decoder *d, struct insn *in)
{
	uint8_t modrm;

	return no_rep(d) && take(d, &modrm) && MODRM_REG(modrm) == 0 &&
	       skip_rm_operand(d, modrm) && nop(d, in);
}

static bool decode_endbr(struct decoder *d, struct insn *in)
{
	uint8_t modrm;

	return d->rep && !d->repne && !d->opsize && !d->rex && take(d, &modrm) &&
	       modrm == 0xfa && flags_only(in, "endbr64");
}

/* test and cmp between registers (84, 85, 38-3b): a memory operand is not
 * needed by any prologue seen, so it is not recognised. */
static bool decode_reg_reg(struct decoder *d, struct insn *in)
{
	uint8_t modrm;

	return no_rep(d) && take(d, &modrm) && MODRM_MOD(modrm) == MOD_REGISTER &&
	       flags_only(in, d->op >= 0x84 ? "test reg,reg" : "cmp reg,reg");
}

static bool decode_cmp_acc(struct decoder *d, struct insn *in)
{
	return no_rep(d) && advance(d, d->op == 0x3c ? 1 : imm_z(d)) &&
	       flags_only(in, "cmp acc,imm");
}

/* Group 1 (80, 81, 83): only /7, cmp, reads its operand without writing it;
 * a memory operand is only read, so every addressing form is fine. */
static bool decode_group1(struct decoder *d, struct insn *in)
{
	uint8_t modrm;

	return no_rep(d) && take(d, &modrm) && MODRM_REG(modrm) == GROUP1_CMP &&
	       skip_rm_operand(d, modrm) && advance(d, d->op == 0x81 ? imm_z(d) : 1) &&
	       flags_only(in, "cmp r/m,imm");
}

typedef bool decode_fn(struct decoder *d, struct insn *in);

struct form {
	uint8_t first, last; /* opcode range */
	decode_fn *decode;
};

static const struct form one_byte_forms[] = {
	{ 0x38, 0x3b, decode_reg_reg },
	{ 0x3c, 0x3d, decode_cmp_acc },
	{ 0x50, 0x57, decode_push },
	{ 0x70, 0x7f, decode_jcc8 },
	{ 0x80, 0x81, decode_group1 },
	{ 0x83, 0x83, decode_group1 },
	{ 0x84, 0x85, decode_reg_reg },
	{ 0x90, 0x90, decode_nop90 },
	{ 0xe8, 0xe9, decode_rel32 },
	{ 0xeb, 0xeb, decode_jmp8 },
};

static const struct form two_byte_forms[] = {
	{ 0x1e, 0x1e, decode_endbr },
	{ 0x1f, 0x1f, decode_nopl },
	{ 0x80, 0x8f, decode_jcc32 },
};

static decode_fn *find_form(struct decoder *d)
{
	const struct form *forms = one_byte_forms;
	size_t n = ARRAY_SIZE(one_byte_forms);

	if (d->op == 0x0f) {
		if (!take(d, &d->op))
			return NULL;
		forms = two_byte_forms;
		n = ARRAY_SIZE(two_byte_forms);
	}
	for (size_t i = 0; i < n; i++)
		if (d->op >= forms[i].first && d->op <= forms[i].last)
			return forms[i].decode;
	return NULL;
}

/* Decodes the instruction at code[start]; one not recognised, or not wholly
 * inside the first len bytes, comes back with len 0 and neither emulated nor
 * skippable. */
static void decode(const uint8_t *code, size_t len, size_t start, struct insn *in)
{
	struct decoder d = { .code = code, .len = len, .start = start, .pos = start };
	decode_fn *fn;

	*in = (struct insn){ 0 };
	if (read_prefixes(&d) && (fn = find_form(&d)) && fn(&d, in) &&
	    d.pos - start <= MAX_INSN_LEN) {
		in->len = d.pos - start;
		return;
	}
	*in = (struct insn){ .name = d.truncated ? "truncated" : "unknown" };
}

void probe_placement_find(const uint8_t *code, size_t len, struct probe_placement *out)
{
	struct insn in;
	size_t off = 0;
	unsigned int skipped = 0;

	for (;;) {
		decode(code, len, off, &in);
		if (in.emulated) {
			*out = (struct probe_placement){
				.offset = off, .insn = in.name, .emulated = true, .skipped = skipped,
			};
			return;
		}
		if (!in.skippable || skipped == MAX_SKIPPED_INSNS ||
		    off + in.len > MAX_SKIPPED_BYTES)
			break;
		off += in.len;
		skipped++;
	}
	/* A single-stepped instruction further in costs the same as the entry. */
	decode(code, len, 0, &in);
	*out = (struct probe_placement){ .insn = in.name };
}
