/* x86_insn.c - an x86-64 instruction length decoder (x86_insn.h).
 *
 * Per opcode, a table says whether a ModRM byte follows and what
 * immediate: that and the prefixes give every length. The tables follow
 * the Intel SDM's opcode maps (volume 2, appendix A) for 64-bit mode;
 * opcodes that are invalid there, and AMD's XOP, are -EINVAL.
 */
#include "probes/x86_insn.h"

#include <errno.h>
#include <string.h>

enum {
	M = 0x01,    /* a ModRM byte, and the operand bytes it implies */
	I8 = 0x02,   /* an 8-bit immediate */
	IZ = 0x04,   /* a 16-bit (66) or 32-bit immediate */
	I16 = 0x08,  /* a 16-bit immediate */
	REL = 0x10,  /* the immediate is a branch displacement */
	BAD = 0x20,  /* no instruction in 64-bit mode */
	SPEC = 0x40, /* decoded by hand below */
};

#define ALU(base) [base] = M, [base + 1] = M, [base + 2] = M, [base + 3] = M, \
		  [base + 4] = I8, [base + 5] = IZ

static const uint8_t one_byte[256] = {
	ALU(0x00), ALU(0x08), ALU(0x10), ALU(0x18), ALU(0x20), ALU(0x28), ALU(0x30), ALU(0x38),
	[0x06] = BAD, [0x07] = BAD, [0x0e] = BAD, [0x16] = BAD, [0x17] = BAD,
	[0x1e] = BAD, [0x1f] = BAD, [0x27] = BAD, [0x2f] = BAD, [0x37] = BAD, [0x3f] = BAD,
	[0x60] = BAD, [0x61] = BAD, [0x63] = M,
	[0x68] = IZ, [0x69] = M | IZ, [0x6a] = I8, [0x6b] = M | I8,
	[0x70 ... 0x7f] = I8 | REL,
	[0x80] = M | I8, [0x81] = M | IZ, [0x82] = BAD, [0x83] = M | I8,
	[0x84 ... 0x8e] = M, [0x8f] = SPEC,
	[0x9a] = BAD,
	[0xa0 ... 0xa3] = SPEC, [0xa8] = I8, [0xa9] = IZ,
	[0xb0 ... 0xb7] = I8, [0xb8 ... 0xbf] = SPEC,
	[0xc0] = M | I8, [0xc1] = M | I8, [0xc2] = I16, [0xc6] = M | I8, [0xc7] = M | IZ,
	[0xc8] = SPEC, [0xca] = I16, [0xcd] = I8, [0xce] = BAD,
	[0xd0 ... 0xd3] = M, [0xd4 ... 0xd6] = BAD, [0xd8 ... 0xdf] = M,
	[0xe0 ... 0xe3] = I8 | REL, [0xe4 ... 0xe7] = I8, [0xe8] = IZ | REL, [0xe9] = IZ | REL,
	[0xea] = BAD, [0xeb] = I8 | REL,
	[0xf6] = SPEC, [0xf7] = SPEC, [0xfe] = M, [0xff] = M,
};

static const uint8_t two_byte[256] = {
	[0x00 ... 0x03] = M, [0x04] = BAD, [0x0a] = BAD, [0x0c] = BAD, [0x0d] = M,
	[0x0f] = M | I8,
	[0x10 ... 0x23] = M, [0x24 ... 0x27] = BAD, [0x28 ... 0x2f] = M,
	[0x36] = BAD, [0x39] = BAD, [0x3b ... 0x3f] = BAD,
	[0x40 ... 0x6f] = M, [0x70 ... 0x73] = M | I8, [0x74 ... 0x76] = M,
	[0x78] = M, [0x79] = M, [0x7a] = BAD, [0x7b] = BAD, [0x7c ... 0x7f] = M,
	[0x80 ... 0x8f] = IZ | REL,
	[0x90 ... 0x9f] = M, [0xa3] = M, [0xa4] = M | I8, [0xa5] = M, [0xa6] = BAD,
	[0xa7] = BAD, [0xab] = M, [0xac] = M | I8, [0xad ... 0xaf] = M,
	[0xb0 ... 0xb9] = M, [0xba] = M | I8, [0xbb ... 0xc1] = M, [0xc2] = M | I8,
	[0xc3] = M, [0xc4 ... 0xc6] = M | I8, [0xc7] = M,
	[0xd0 ... 0xff] = M,
};

/* Map 1 opcodes of VEX and EVEX that take an 8-bit immediate. */
static bool vex_map1_imm8(uint8_t op)
{
	return (op >= 0x70 && op <= 0x73) || op == 0xc2 || (op >= 0xc4 && op <= 0xc6);
}

struct cursor {
	const uint8_t *code;
	size_t len, pos;
};

static int take(struct cursor *c, uint8_t *byte)
{
	if (c->pos >= c->len)
		return -ENODATA;
	if (c->pos >= X86_MAX_INSN_LEN)
		return -EINVAL;
	*byte = c->code[c->pos++];
	return 0;
}

/* Reads an n-byte little-endian immediate, sign-extended. */
static int take_imm(struct cursor *c, unsigned int n, struct x86_insn *in)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t b;
		int r = take(c, &b);

		if (r < 0)
			return r;
		v |= (uint64_t)b << (8 * i);
	}
	if (n < 8 && n && (v >> (8 * n - 1)) & 1)
		v |= ~0ULL << (8 * n);
	in->imm = (int64_t)v;
	in->imm_len = (uint8_t)n;
	return 0;
}

static int skip(struct cursor *c, unsigned int n)
{
	uint8_t b;
	int r = 0;

	for (unsigned int i = 0; i < n && !r; i++)
		r = take(c, &b);
	return r;
}

/* The ModRM byte and the SIB and displacement it implies. */
static int take_modrm(struct cursor *c, struct x86_insn *in)
{
	unsigned int mod, disp;
	int r = take(c, &in->modrm);

	if (r < 0)
		return r;
	in->has_modrm = true;
	mod = X86_MODRM_MOD(in->modrm);
	if (mod == 3)
		return 0;
	disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (X86_MODRM_RM(in->modrm) == 4) {
		r = take(c, &in->sib);
		if (r < 0)
			return r;
		in->has_sib = true;
		if (mod == 0 && (in->sib & 7) == 5)
			disp = 4;
	} else if (mod == 0 && X86_MODRM_RM(in->modrm) == 5) {
		disp = 4;
	}
	return skip(c, disp);
}

static unsigned int imm_z(const struct x86_insn *in)
{
	return in->opsize && !(in->rex & X86_REX_W) ? 2 : 4;
}

/* An opcode with flags f, after its opcode byte. */
static int operands(struct cursor *c, struct x86_insn *in, uint8_t f)
{
	int r = 0;

	if (f & BAD)
		return -EINVAL;
	if (f & M)
		r = take_modrm(c, in);
	if (!r && (f & I8))
		r = take_imm(c, 1, in);
	if (!r && (f & I16))
		r = take_imm(c, 2, in);
	if (!r && (f & IZ)) {
		/* A 66 prefix on a near branch means different lengths on Intel
		 * and AMD; REX.W overrides it (the padded call of a TLS access). */
		if ((f & REL) && in->opsize && !(in->rex & X86_REX_W))
			return -EINVAL;
		r = take_imm(c, (f & REL) ? 4 : imm_z(in), in);
	}
	in->rel = f & REL;
	return r;
}

/* One-byte opcodes whose operands depend on more than the opcode. */
static int special(struct cursor *c, struct x86_insn *in)
{
	uint8_t op = in->op;
	int r;

	if (op == 0x8f) {
		r = take_modrm(c, in);
		/* 8f with reg != 0 is AMD's XOP prefix. */
		return r < 0 ? r : X86_MODRM_REG(in->modrm) ? -EINVAL : 0;
	}
	if (op >= 0xa0 && op <= 0xa3) /* mov to or from a full address */
		return skip(c, in->addr32 ? 4 : 8);
	if (op >= 0xb8 && op <= 0xbf) /* mov imm to register: imm64 with REX.W */
		return take_imm(c, in->rex & X86_REX_W ? 8 : imm_z(in), in);
	if (op == 0xc8) /* enter imm16, imm8 */
		return skip(c, 3);
	/* f6, f7: test takes an immediate, the rest of the group none. */
	r = take_modrm(c, in);
	if (r < 0 || X86_MODRM_REG(in->modrm) > 1)
		return r;
	return take_imm(c, op == 0xf6 ? 1 : imm_z(in), in);
}

/* VEX (c4, c5) and EVEX (62): the prefix bytes, then opcode and ModRM. */
static int vex(struct cursor *c, struct x86_insn *in, uint8_t first)
{
	uint8_t p[3];
	unsigned int n = first == 0xc5 ? 1 : first == 0xc4 ? 2 : 3, map;
	int r;

	if (in->rex || in->opsize || in->rep || in->repne || in->lock)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++)
		if ((r = take(c, &p[i])) < 0)
			return r;
	map = first == 0xc5 ? 1 : first == 0xc4 ? p[0] & 0x1f : p[0] & 7;
	if (map == 0 || map == 4 || map > 6 || (first == 0xc4 && map > 3))
		return -EINVAL;
	in->vex = true;
	in->map = map <= 3 ? (enum x86_map)map : X86_MAP_OTHER;
	if ((r = take(c, &in->op)) < 0)
		return r;
	/* vzeroupper and vzeroall have no ModRM. */
	if (!(map == 1 && in->op == 0x77 && first != 0x62) && (r = take_modrm(c, in)) < 0)
		return r;
	if (map == 3 || (map == 1 && vex_map1_imm8(in->op)))
		return take_imm(c, 1, in);
	return 0;
}

static int decode(struct cursor *c, struct x86_insn *in)
{
	uint8_t b;
	int r;

	for (;;) {
		if ((r = take(c, &b)) < 0)
			return r;
		if (b == 0x66)
			in->opsize = true;
		else if (b == 0xf3)
			in->rep = true;
		else if (b == 0xf2)
			in->repne = true;
		else if (b == 0xf0)
			in->lock = true;
		else if (b == 0x64 || b == 0x65 || b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e)
			in->segment = true;
		else if (b == 0x67)
			in->addr32 = true;
		else
			break;
	}
	if (b >= 0x40 && b <= 0x4f) {
		in->rex = b;
		if ((r = take(c, &b)) < 0)
			return r;
		/* A prefix after REX cancels it: no compiler emits that. */
		if ((b >= 0x40 && b <= 0x4f) || b == 0x66 || b == 0x67 || b == 0xf0 ||
		    b == 0xf2 || b == 0xf3 || b == 0x64 || b == 0x65 || b == 0x2e || b == 0x3e)
			return -EINVAL;
	}
	if (b == 0xc4 || b == 0xc5 || b == 0x62)
		return vex(c, in, b);
	if (b != 0x0f) {
		in->op = b;
		return one_byte[b] & SPEC ? special(c, in) : operands(c, in, one_byte[b]);
	}
	if ((r = take(c, &b)) < 0)
		return r;
	if (b == 0x38 || b == 0x3a) {
		in->map = b == 0x38 ? X86_MAP_0F38 : X86_MAP_0F3A;
		if ((r = take(c, &in->op)) < 0)
			return r;
		return operands(c, in, b == 0x38 ? M : M | I8);
	}
	in->map = X86_MAP_0F;
	in->op = b;
	return operands(c, in, two_byte[b]);
}

int x86_insn_decode(const uint8_t *code, size_t len, struct x86_insn *out)
{
	struct cursor c = { .code = code, .len = len };
	int r;

	memset(out, 0, sizeof(*out));
	r = decode(&c, out);
	if (r < 0)
		return r;
	out->len = (uint8_t)c.pos;
	return 0;
}
