/* x86_insn.h - the length and fields of one x86-64 instruction, for
 * probe placement: which bytes are prefixes, opcode, ModRM, SIB,
 * displacement and immediate, and where a direct branch goes.
 *
 * Every legacy, 0f, 0f38 and 0f3a opcode gcc and clang emit is decoded,
 * VEX and EVEX forms included, so that a linear walk over a function can
 * find every direct jump in it. Only what a length needs is decoded: the
 * operation is the caller's business (probe_placement.c knows the few it
 * passes over). Never reads past the buffer.
 */
#ifndef X86_INSN_H
#define X86_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define X86_MAX_INSN_LEN 15

enum x86_map {
	X86_MAP_ONE = 0, /* one-byte opcodes */
	X86_MAP_0F = 1,
	X86_MAP_0F38 = 2,
	X86_MAP_0F3A = 3,
	X86_MAP_OTHER = 4, /* EVEX maps 5 and 6 */
};

struct x86_insn {
	uint8_t len;
	bool opsize;  /* 66 */
	bool rep;     /* f3 */
	bool repne;   /* f2 */
	bool lock;    /* f0 */
	bool segment; /* a segment override (64 or 65 are %fs, %gs) */
	bool addr32;  /* 67 */
	bool vex;     /* VEX or EVEX encoded */
	uint8_t rex;  /* 0 when absent */
	enum x86_map map;
	uint8_t op;
	bool has_modrm;
	uint8_t modrm;
	bool has_sib;
	uint8_t sib;
	uint8_t imm_len;
	int64_t imm;  /* sign-extended */
	bool rel;     /* a direct branch: target = address + len + imm */
};

/* Decode the instruction at code[0..len). Returns 0 and *out, -ENODATA when
 * it does not end within len, or -EINVAL for bytes that are no instruction
 * of 64-bit mode (or one not known here). */
int x86_insn_decode(const uint8_t *code, size_t len, struct x86_insn *out);

#define X86_MODRM_MOD(m) ((m) >> 6)
#define X86_MODRM_REG(m) (((m) >> 3) & 7)
#define X86_MODRM_RM(m) ((m) & 7)
#define X86_REX_W 0x08
#define X86_REX_R 0x04
#define X86_REX_X 0x02
#define X86_REX_B 0x01

#endif
