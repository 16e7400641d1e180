/* method_tables.c - the functions a free reaches through its methods
 * tables (method_tables.h). Every read is bounded by the file and the
 * segment: the object comes from the target, which is hostile input. */
#include "probes/method_tables.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "probes/x86_insn.h"
#include "unwind/unwind_table.h"

/* How far before a call its table's lea may be. */
#define MAX_LOOKBACK 16
#define MAX_TRANSFERS 64

/* The argument registers, in ModRM numbering. */
static const uint8_t arg_reg[7] = { 0, 7, 6, 2, 1, 8, 9 };

struct search {
	const struct elf_object *o;
	uint64_t callee;
	unsigned int reg;
	int32_t slot;
	struct method_tables *out;
};

/* An executable segment [lo, lo + len) decoded from its start: which bytes
 * begin an instruction, which a direct branch lands on, and the branches
 * (calls, tail jumps) that go to the callee. */
struct decoded {
	uint64_t lo;
	size_t len;
	uint8_t *starts, *targets; /* bitmaps */
	size_t n_transfers;
	size_t transfers[MAX_TRANSFERS];
};

static bool bit(const uint8_t *map, size_t i)
{
	return map[i / 8] & (1u << (i % 8));
}

static void set_bit(uint8_t *map, size_t i)
{
	map[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* Decode code[0..d->len) instruction after instruction, as compilers lay
 * functions out (padding is nops and int3). Returns 0, or 1 with why when
 * some bytes are no instruction or there are too many transfers. */
static int sweep(const struct search *s, const uint8_t *code, struct decoded *d)
{
	struct x86_insn in;

	for (size_t off = 0; off < d->len; off += in.len) {
		int64_t to;

		if (x86_insn_decode(code + off, d->len - off, &in) < 0) {
			s->out->why = "the code that may pass tables could not be decoded";
			return 1;
		}
		set_bit(d->starts, off);
		if (!in.rel)
			continue;
		to = (int64_t)(off + in.len) + in.imm;
		if (to >= 0 && (uint64_t)to < d->len)
			set_bit(d->targets, (size_t)to);
		if (d->lo + (uint64_t)to != s->callee)
			continue;
		if (d->n_transfers == MAX_TRANSFERS) {
			s->out->why = "too many calls pass tables";
			return 1;
		}
		d->transfers[d->n_transfers++] = off;
	}
	return 0;
}

/* Registers in the mov, lea and xor forms a compiler puts between a call's
 * argument loads: the register in writes, or -1 for a store to memory.
 * false for anything else. */
static bool simple_write(const struct x86_insn *in, int *writes)
{
	unsigned int reg = X86_MODRM_REG(in->modrm) | (in->rex & X86_REX_R ? 8 : 0);
	unsigned int rm = X86_MODRM_RM(in->modrm) | (in->rex & X86_REX_B ? 8 : 0);
	bool to_reg = in->has_modrm && X86_MODRM_MOD(in->modrm) == 3;
	uint8_t op = in->op;

	if (in->map != X86_MAP_ONE || in->vex || in->lock || in->rep || in->repne)
		return false;
	if (op == 0x8a || op == 0x8b || op == 0x8d || op == 0x33)
		*writes = (int)reg;
	else if (op == 0x88 || op == 0x89 || op == 0x31 ||
		 ((op == 0xc6 || op == 0xc7) && X86_MODRM_REG(in->modrm) == 0))
		*writes = to_reg ? (int)rm : -1;
	else if (op >= 0xb0 && op <= 0xbf)
		*writes = (op & 7) | (in->rex & X86_REX_B ? 8 : 0);
	else
		return false;
	/* Without REX, byte registers 4-7 are %ah to %bh. */
	if (*writes >= 4 && *writes <= 7 && !in->rex && (op == 0x88 || op == 0x8a || op == 0xc6 ||
							 (op >= 0xb4 && op <= 0xb7)))
		*writes -= 4;
	return true;
}

/* The table the lea at off loads into reg: lea disp32(%rip), %reg64. */
static bool table_lea(const uint8_t *code, const struct x86_insn *in, uint64_t vaddr,
		      unsigned int reg, uint64_t *table)
{
	int32_t disp;

	if (in->map != X86_MAP_ONE || in->op != 0x8d || !(in->rex & X86_REX_W) ||
	    X86_MODRM_MOD(in->modrm) != 0 || X86_MODRM_RM(in->modrm) != 5 ||
	    (X86_MODRM_REG(in->modrm) | (in->rex & X86_REX_R ? 8 : 0)) != reg)
		return false;
	memcpy(&disp, code + in->len - 4, sizeof(disp));
	*table = vaddr + in->len + (uint64_t)(int64_t)disp;
	return true;
}

/* The table loaded into s->reg before the call (or tail jump) at d's
 * offset call, in straight-line code no direct branch lands in. */
static const char *table_before(const struct search *s, const uint8_t *code,
				const struct decoded *d, size_t call, uint64_t *table)
{
	size_t off = call;
	struct x86_insn in;
	int writes;

	for (int n = 0; n < MAX_LOOKBACK && off > 0; n++) {
		if (bit(d->targets, off))
			return "a jump lands between a table's load and its call";
		do
			off--;
		while (off > 0 && !bit(d->starts, off));
		if (x86_insn_decode(code + off, d->len - off, &in) < 0)
			return "the code before a call could not be decoded";
		if (table_lea(code + off, &in, d->lo + off, s->reg, table))
			return NULL;
		if (!simple_write(&in, &writes) || writes == (int)s->reg)
			return "the table argument of a call is not loaded by a lea";
	}
	return "the table argument of a call is not loaded by a lea";
}

/* Add the function in table's slot, once. */
static const char *add_function(const struct search *s, uint64_t table)
{
	struct method_tables *out = s->out;
	uint64_t fn = 0, lo, hi;

	if (elf_object__read(s->o, table + (uint64_t)(int64_t)s->slot, &fn, sizeof(fn)) !=
	    sizeof(fn))
		return "a table is outside the file";
	if (unwind_fde_covering(elf_object__elf(s->o), fn, &lo, &hi) < 0 || lo != fn)
		return "a table's slot holds no function's start";
	for (size_t i = 0; i < out->n; i++)
		if (out->functions[i].vaddr == fn)
			return NULL;
	if (out->n == METHOD_TABLES_MAX)
		return "too many tables";
	out->functions[out->n++] = (struct method_function){ fn, hi - lo };
	return NULL;
}

/* The table passed at each transfer to the callee. 1 when one is not
 * understood (s->out->why). */
static int follow_transfers(struct search *s, const uint8_t *code, const struct decoded *d)
{
	uint64_t table;
	const char *why;

	for (size_t i = 0; i < d->n_transfers; i++) {
		s->out->n_calls++;
		why = table_before(s, code, d, d->transfers[i], &table);
		if (!why)
			why = add_function(s, table);
		if (why) {
			s->out->why = why;
			return 1;
		}
	}
	return 0;
}

static int search_segment(const uint8_t *seg, size_t len, uint64_t vaddr, void *arg)
{
	struct search *s = arg;
	struct decoded d = { .lo = vaddr, .len = len };
	int r;

	d.starts = calloc(2, len / 8 + 1);
	if (!d.starts)
		return -ENOMEM;
	d.targets = d.starts + len / 8 + 1;
	r = sweep(s, seg, &d);
	if (!r)
		r = follow_transfers(s, seg, &d);
	free(d.starts);
	return r;
}

int method_tables_find(const struct elf_object *o, uint64_t callee, unsigned int arg,
		       int32_t slot, struct method_tables *out)
{
	struct search s = { o, callee, arg_reg[arg < 7 ? arg : 0], slot, out };
	int r;

	*out = (struct method_tables){ 0 };
	if (arg < 1 || arg > 6) {
		out->why = "the table's argument is not one passed in a register";
		return -ENOENT;
	}
	r = elf_object__each_segment(o, true, search_segment, &s);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		out->why = "the object's code could not be read";
	if (r)
		return -ENOENT;
	if (!out->n_calls) {
		out->why = "no direct call passes a table";
		return -ENOENT;
	}
	return 0;
}
