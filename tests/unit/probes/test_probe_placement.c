/* test_probe_placement.c - probe placement over byte fixtures: the
 * prologues of Debian 12's glibc 2.36, tcmalloc 2.10, mimalloc 2.0.9,
 * jemalloc 5.3 and PostgreSQL 15 entry points, each given as the whole
 * function (its jumps are what the walk checks); arguments followed through
 * register moves; %rsp kept still under a hooked return; jumps into the
 * prologue; truncated buffers. Every fixture is copied into a buffer of
 * exactly its length so that a read past the end shows under ASan or
 * valgrind. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "memleakd.h"
#include "probes/probe_placement.h"
#include "unit.h"

#define ARG(n) (1u << (n))

static struct probe_placement place_req(const uint8_t *bytes, size_t len, unsigned int args,
					bool returns)
{
	uint8_t *buf = len ? malloc(len) : NULL;
	struct probe_placement p;
	struct placement_request req = {
		.code = buf, .len = len, .whole = true, .vaddr = 0x1000, .args = args,
		.returns = returns,
	};

	if (buf)
		memcpy(buf, bytes, len);
	probe_placement_find(&req, &p);
	free(buf);
	return p;
}

/* A free: argument 1 read, no return. */
static struct probe_placement place(const uint8_t *bytes, size_t len)
{
	return place_req(bytes, len, ARG(1), false);
}

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })
#define PLACE(...) place(BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)))
#define PLACE_ALLOC(args, ...) \
	place_req(BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)), args, true)

#define EXPECT_PLACED(p, off, name, emu, skip)                                   \
	do {                                                                      \
		struct probe_placement p_ = (p);                                  \
		EXPECT_EQ(p_.offset, off);                                        \
		EXPECT_STREQ(p_.insn, name);                                      \
		EXPECT_EQ(p_.emulated, emu);                                      \
		EXPECT_EQ(p_.skipped, skip);                                      \
	} while (0)

/* Offset 0, single-stepped, and why. */
#define EXPECT_AT_ENTRY(p, name, reason)                                          \
	do {                                                                      \
		struct probe_placement q_ = (p);                                  \
		EXPECT_PLACED(q_, 0, name, false, 0);                             \
		EXPECT_STREQ(q_.why, reason);                                     \
	} while (0)

/* test %rdi,%rdi; je rel32 (to +0xc8); push %rbp; lea -0x10(%rdi),%rsi */
static const uint8_t glibc_free[] = {
	0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00, 0x55, 0x48, 0x8d, 0x77, 0xf0,
};

TEST(glibc_free_probes_the_je)
{
	struct probe_placement p = place(glibc_free, sizeof(glibc_free));

	EXPECT_PLACED(p, 3, "je rel32", true, 1);
	EXPECT_EQ(p.arg_loc[1], 1);
	EXPECT_EQ(p.stack_words, 0);
}

TEST(glibc_malloc_stays_on_its_push)
{
	/* push %r12; push %rbp; push %rbx; mov %rdi,%rbx */
	struct probe_placement p = PLACE_ALLOC(ARG(1), 0x41, 0x54, 0x55, 0x53, 0x48, 0x89, 0xfb);

	EXPECT_PLACED(p, 0, "push %r12", true, 0);
	EXPECT_STREQ(p.why, "the first instruction is emulated");
}

TEST(glibc_posix_memalign_skips_rip_relative_cmp)
{
	/* cmpb $0x0,0x140201(%rip); push %r12: the push is probed, not passed */
	EXPECT_PLACED(PLACE_ALLOC(ARG(1) | ARG(3), 0x80, 0x3d, 0x01, 0x02, 0x14, 0x00, 0x00,
				  0x41, 0x54),
		      7, "push %r12", true, 1);
}

/* mov %rsi,%rax; mul %rdx; mov %rax,%rsi; jo +5; jmp realloc */
static const uint8_t glibc_reallocarray[] = {
	0x48, 0x89, 0xf0, 0x48, 0xf7, 0xe2, 0x48, 0x89, 0xc6, 0x70, 0x05,
	0xe9, 0x40, 0xb8, 0xf8, 0xff, 0xc3, 0xc3, 0xc3, 0xc3, 0xc3,
};

/* An array allocation: pointer, nmemb and size read, the return hooked. */
static struct probe_placement place_array(const uint8_t *bytes, size_t len)
{
	uint8_t *buf = malloc(len);
	struct probe_placement p;
	struct placement_request req = {
		.code = buf, .len = len, .whole = true, .vaddr = 0x1000,
		.args = ARG(1) | ARG(2) | ARG(3), .returns = true, .nmemb_arg = 2, .size_arg = 3,
	};

	if (buf)
		memcpy(buf, bytes, len);
	probe_placement_find(&req, &p);
	free(buf);
	return p;
}

#define PLACE_ARRAY(...) place_array(BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)))

/* The multiplication overwrites nmemb and size before the first branch:
 * the probe goes to the jo, where their product is in %rax and %rsi. */
TEST(glibc_reallocarray_probes_the_product)
{
	struct probe_placement p = place_array(glibc_reallocarray, sizeof(glibc_reallocarray));

	EXPECT_PLACED(p, 9, "jo rel8", true, 3);
	EXPECT(p.product);
	EXPECT_EQ(p.arg_loc[1], 1);
	EXPECT_EQ(p.arg_loc[2], 0);
	EXPECT_EQ(p.arg_loc[3], 7);
}

/* Read as two arguments of their own, nmemb and size are lost. */
TEST(arguments_multiplied_are_lost_without_an_array)
{
	EXPECT_AT_ENTRY(place_req(glibc_reallocarray, sizeof(glibc_reallocarray),
				  ARG(1) | ARG(2) | ARG(3), true),
			"mov", "argument 3 is overwritten before an emulated instruction");
}

/* imul %rdx,%rsi; jmp: the product is where imul left it. nmemb times
 * another register, or the product overwritten, loses them. */
TEST(imul_product_and_lost_products)
{
	struct probe_placement p = PLACE_ARRAY(0x48, 0x0f, 0xaf, 0xf2, 0xe9, 0x00, 0x00, 0x00, 0x00);

	EXPECT_PLACED(p, 4, "jmp rel32", true, 1);
	EXPECT(p.product);
	EXPECT_EQ(p.arg_loc[3], 2);
	/* mov %rsi,%rax; mul %rcx */
	EXPECT_AT_ENTRY(PLACE_ARRAY(0x48, 0x89, 0xf0, 0x48, 0xf7, 0xe1, 0xe9, 0x00, 0x00, 0x00, 0x00),
			"mov", "argument 3 is overwritten before an emulated instruction");
	/* imul %rdx,%rsi; xor %esi,%esi */
	EXPECT_AT_ENTRY(PLACE_ARRAY(0x48, 0x0f, 0xaf, 0xf2, 0x31, 0xf6, 0xe9, 0x00, 0x00, 0x00, 0x00),
			"cmov, imul or movzx",
			"argument 2 is overwritten before an emulated instruction");
}

TEST(tcmalloc_malloc_passes_a_load_and_test)
{
	/* mov 0xab59(%rip),%rax; test %rax,%rax; jne +0x75 */
	struct probe_placement p = PLACE_ALLOC(ARG(1), 0x48, 0x8b, 0x05, 0x59, 0xab, 0x00, 0x00,
					       0x48, 0x85, 0xc0, 0x75, 0x00);

	EXPECT_PLACED(p, 10, "jne rel8", true, 2);
	EXPECT_EQ(p.arg_loc[1], 1);
}

TEST(mimalloc_malloc_follows_the_size_to_rsi)
{
	/* mov 0xb449(%rip),%rax; mov %rdi,%rsi; mov %fs:(%rax),%rdi;
	 * cmp $0x400,%rsi; ja +0 */
	struct probe_placement p = PLACE_ALLOC(ARG(1), 0x48, 0x8b, 0x05, 0x49, 0xb4, 0x00, 0x00,
					       0x48, 0x89, 0xfe, 0x64, 0x48, 0x8b, 0x38, 0x48,
					       0x81, 0xfe, 0x00, 0x04, 0x00, 0x00, 0x77, 0x00);

	EXPECT_PLACED(p, 21, "ja rel8", true, 4);
	EXPECT_EQ(p.arg_loc[1], 2); /* %rsi */
	EXPECT_STREQ(probe_placement_loc_name(p.arg_loc[1]), "%rsi");
}

TEST(mimalloc_reallocn_follows_three_arguments)
{
	/* mov rip,%rax; mov %rdx,%rcx; mov %rsi,%rdx; mov %rdi,%rsi;
	 * mov %fs:(%rax),%rax; mov %rax,%rdi; jmp mi_heap_reallocn */
	struct probe_placement p = PLACE_ALLOC(
		ARG(1) | ARG(2) | ARG(3), 0x48, 0x8b, 0x05, 0x29, 0xa9, 0x00, 0x00, 0x48, 0x89,
		0xd1, 0x48, 0x89, 0xf2, 0x48, 0x89, 0xfe, 0x64, 0x48, 0x8b, 0x00, 0x48, 0x89, 0xc7,
		0xe9, 0xc4, 0x49, 0xff, 0xff);

	EXPECT_PLACED(p, 23, "jmp rel32", true, 6);
	EXPECT_EQ(p.arg_loc[1], 2); /* ptr in %rsi */
	EXPECT_EQ(p.arg_loc[2], 3); /* nmemb in %rdx */
	EXPECT_EQ(p.arg_loc[3], 4); /* size in %rcx */
}

TEST(mimalloc_calloc_finds_nmemb_in_rax)
{
	/* mov rip,%rdx; mov %rdi,%rax; mov %fs:(%rdx),%rdi; cmp $1,%rax; je +0 */
	struct probe_placement p = PLACE_ALLOC(ARG(1) | ARG(2), 0x48, 0x8b, 0x15, 0xc9, 0xad,
					       0x00, 0x00, 0x48, 0x89, 0xf8, 0x64, 0x48, 0x8b,
					       0x3a, 0x48, 0x83, 0xf8, 0x01, 0x74, 0x00);

	EXPECT_PLACED(p, 18, "je rel8", true, 4);
	EXPECT_EQ(p.arg_loc[1], COOKIE_LOC_RAX);
	EXPECT_EQ(p.arg_loc[2], 2);
}

TEST(postgres_pfree_ends_in_a_jump_through_its_methods)
{
	/* mov %rdi,%rsi; mov -0x8(%rdi),%rdi; mov 0x10(%rdi),%rax; jmp *0x8(%rax) */
	struct probe_placement p = PLACE(0x48, 0x89, 0xfe, 0x48, 0x8b, 0x7f, 0xf8, 0x48, 0x8b,
					 0x47, 0x10, 0xff, 0x60, 0x08);

	EXPECT_AT_ENTRY(p, "mov", "a branch comes before any emulated instruction");
	/* The pointer went to %rsi: the methods' second argument. */
	EXPECT(p.tail_jump);
	EXPECT_EQ(p.tail_slot, 8);
	EXPECT_EQ(p.jump_arg_loc[1], 2);
	EXPECT_EQ(p.arg_loc[1], 1);
}

TEST(jumps_through_memory_and_others)
{
	/* jmp *0x100(%r8), disp32 and REX.B; the pointer stays in %rdi */
	struct probe_placement p = PLACE(0x48, 0x8b, 0x07, 0x41, 0xff, 0xa0, 0x00, 0x01, 0x00, 0x00);

	EXPECT(p.tail_jump);
	EXPECT_EQ(p.tail_slot, 0x100);
	EXPECT_EQ(p.jump_arg_loc[1], 1);
	/* jmp *(%rax), no displacement */
	p = PLACE(0x48, 0x8b, 0x07, 0xff, 0x20);
	EXPECT(p.tail_jump);
	EXPECT_EQ(p.tail_slot, 0);
	/* jmp *%rax, call *0x8(%rax), jmp *0x8(%rip) and jmp *(%rax,%rcx,8) are no
	 * jump through a table's slot */
	EXPECT(!PLACE(0x48, 0x8b, 0x07, 0xff, 0xe0).tail_jump);
	EXPECT(!PLACE(0x48, 0x8b, 0x07, 0xff, 0x50, 0x08).tail_jump);
	EXPECT(!PLACE(0x48, 0x8b, 0x07, 0xff, 0x25, 0x08, 0x00, 0x00, 0x00).tail_jump);
	EXPECT(!PLACE(0x48, 0x8b, 0x07, 0xff, 0x24, 0xc8).tail_jump);
	/* the pointer overwritten before the jump ends the walk there */
	p = PLACE(0x48, 0x8b, 0x3f, 0xff, 0x60, 0x08);
	EXPECT(!p.tail_jump);
	EXPECT_STREQ(p.why, "argument 1 is overwritten before an emulated instruction");
}

TEST(pushes_are_passed_only_without_a_hooked_return)
{
	/* push %rbx (REX 48, single-stepped); mov %rdi,%rbx; sub $0x10,%rsp;
	 * test %rbx,%rbx; je +0 */
	static const uint8_t code[] = { 0x48, 0x53, 0x48, 0x89, 0xfb, 0x48, 0x83, 0xec,
					0x10, 0x48, 0x85, 0xdb, 0x74, 0x00 };
	struct probe_placement p = place(code, sizeof(code));

	EXPECT_PLACED(p, 12, "je rel8", true, 4);
	EXPECT_EQ(p.stack_words, 3);
	EXPECT_EQ(p.arg_loc[1], 1);
	EXPECT_AT_ENTRY(place_req(code, sizeof(code), ARG(1), true), "push %rbx",
			"%rsp moves before any emulated instruction, and the return is hooked there");
}

TEST(an_argument_lost_ends_the_walk)
{
	/* mov %rsi,%rdi (argument 1 gone); test %rdi,%rdi; je +0 */
	EXPECT_AT_ENTRY(PLACE(0x48, 0x89, 0xf7, 0x48, 0x85, 0xff, 0x74, 0x00), "mov",
			"argument 1 is overwritten before an emulated instruction");
	/* the same when argument 1 is not read: moved */
	EXPECT_PLACED(PLACE_ALLOC(ARG(2), 0x48, 0x89, 0xf7, 0x48, 0x85, 0xff, 0x74, 0x00), 6,
		      "je rel8", true, 2);
	/* a 32-bit move is no copy: mov %edi,%eax; mov %esi,%edi; je */
	EXPECT_AT_ENTRY(PLACE(0x89, 0xf8, 0x89, 0xf7, 0x74, 0x00), "mov",
			"argument 1 is overwritten before an emulated instruction");
}

TEST(a_jump_into_the_prologue_keeps_the_probe_out)
{
	/* test %rdi,%rdi; je +2; ...; jmp back to +3 (the je): the probe
	 * would fire twice */
	EXPECT_AT_ENTRY(PLACE(0x48, 0x85, 0xff, 0x74, 0x02, 0x90, 0x90, 0xeb, 0xfa),
			"test", "a jump lands inside the prologue");
	/* a jump to +0 is a new call: fine */
	EXPECT_PLACED(PLACE(0x48, 0x85, 0xff, 0x74, 0x02, 0x90, 0x90, 0xeb, 0xf7), 3, "je rel8",
		      true, 1);
}

/* The cold part at 0x2009 of a_jump_from_code_outside_is_found: nop;
 * jmp back to 0x1003. */
static long read_cold(void *arg, uint64_t vaddr, uint8_t *buf, size_t len)
{
	static const uint8_t cold[] = { 0x90, 0xe9, 0xf4, 0xef, 0xff, 0xff };

	(void)arg;
	if (vaddr != 0x2009 || len < sizeof(cold))
		return -ERANGE;
	memcpy(buf, cold, sizeof(cold));
	return sizeof(cold);
}

TEST(a_jump_from_code_outside_is_found)
{
	/* test %rdi,%rdi; je 0x2009 (outside the function) */
	static const uint8_t code[] = { 0x48, 0x85, 0xff, 0x0f, 0x84, 0x00, 0x10, 0x00, 0x00 };
	struct placement_request req = {
		.code = code, .len = sizeof(code), .whole = true, .vaddr = 0x1000, .args = ARG(1),
	};
	struct probe_placement p;

	probe_placement_find(&req, &p);
	EXPECT_EQ(p.offset, 3);
	/* the cold part jumps back to the je */
	req.read = read_cold;
	probe_placement_find(&req, &p);
	EXPECT_AT_ENTRY(p, "test", "a jump lands inside the prologue");
}

TEST(undecodable_or_partial_functions_stay_at_entry)
{
	/* test %rdi,%rdi; je; then bytes no instruction starts with */
	EXPECT_AT_ENTRY(PLACE(0x48, 0x85, 0xff, 0x74, 0x00, 0x06),
			"test", "the function could not be decoded to its end");
	/* every prefix of glibc's free: the je only when the prefix ends on
	 * an instruction's end after it (9, 10 and 14 bytes) */
	for (size_t len = 0; len <= sizeof(glibc_free); len++)
		EXPECT_EQ(place(glibc_free, len).offset,
			  len == 9 || len == 10 || len == sizeof(glibc_free) ? 3 : 0);
}

TEST(forms_the_kernel_emulates)
{
	EXPECT_PLACED(PLACE(0x90), 0, "nop", true, 0);
	EXPECT_PLACED(PLACE(0x0f, 0x1f, 0x44, 0x00, 0x00), 0, "nop", true, 0);
	EXPECT_PLACED(PLACE(0x41, 0x54), 0, "push %r12", true, 0);
	EXPECT_PLACED(PLACE(0x40, 0x55), 0, "push %rbp", false, 0);
	EXPECT_PLACED(PLACE(0x48, 0x55), 0, "push %rbp", false, 0);
	EXPECT_PLACED(PLACE(0xe8, 0x00, 0x00, 0x00, 0x00), 0, "call rel32", true, 0);
	EXPECT_PLACED(PLACE(0x66, 0xe9, 0x00, 0x00), 0, "unknown", false, 0);
	/* 41 90 exchanges %eax and %r8d: never a nop */
	EXPECT_PLACED(PLACE(0x41, 0x90, 0x74, 0x00), 0, "unknown", false, 0);
	/* endbr64 and a nop the kernel does not emulate are passed over */
	EXPECT_PLACED(PLACE(0xf3, 0x0f, 0x1e, 0xfa, 0x0f, 0x1f, 0x04, 0x00, 0x55), 8,
		      "push %rbp", true, 2);
}

TEST(stores_to_the_stack_and_rsp_writes_end_the_walk)
{
	/* mov %rdi,0x8(%rsp); je */
	EXPECT_AT_ENTRY(PLACE(0x48, 0x89, 0x7c, 0x24, 0x08, 0x74, 0x00), "mov",
			"a store to the stack comes before any emulated instruction");
	/* mov %rdi,%rsp; je */
	EXPECT_AT_ENTRY(PLACE(0x48, 0x89, 0xfc, 0x74, 0x00), "mov",
			"%rsp is written before any emulated instruction");
	/* mov $1,%ah writes %rax, not %rsp: passed */
	EXPECT_PLACED(PLACE(0xb4, 0x01, 0x74, 0x00), 2, "je rel8", true, 1);
}

TEST(the_walk_is_bounded)
{
	uint8_t code[80];

	/* 13 instructions of test %rdi,%rdi, then je */
	for (size_t i = 0; i < 13; i++)
		memcpy(code + 3 * i, BYTES(0x48, 0x85, 0xff), 3);
	memcpy(code + 39, BYTES(0x74, 0x00), 2);
	EXPECT_AT_ENTRY(place(code, 41), "test", "no emulated instruction within the walk's limit");
	EXPECT_PLACED(place(code + 3, 38), 36, "je rel8", true, 12);
}

RUN_TESTS("probe_placement",
	  T(glibc_free_probes_the_je),
	  T(glibc_malloc_stays_on_its_push),
	  T(glibc_posix_memalign_skips_rip_relative_cmp),
	  T(glibc_reallocarray_probes_the_product),
	  T(arguments_multiplied_are_lost_without_an_array), T(imul_product_and_lost_products),
	  T(tcmalloc_malloc_passes_a_load_and_test),
	  T(mimalloc_malloc_follows_the_size_to_rsi),
	  T(mimalloc_reallocn_follows_three_arguments),
	  T(mimalloc_calloc_finds_nmemb_in_rax),
	  T(postgres_pfree_ends_in_a_jump_through_its_methods), T(jumps_through_memory_and_others),
	  T(pushes_are_passed_only_without_a_hooked_return),
	  T(an_argument_lost_ends_the_walk),
	  T(a_jump_into_the_prologue_keeps_the_probe_out),
	  T(a_jump_from_code_outside_is_found),
	  T(undecodable_or_partial_functions_stay_at_entry),
	  T(forms_the_kernel_emulates),
	  T(stores_to_the_stack_and_rsp_writes_end_the_walk),
	  T(the_walk_is_bounded))
