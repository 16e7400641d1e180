/* test_probe_placement.c - probe placement over byte fixtures: the prologues
 * of glibc 2.36's allocator entry points as found in Debian 12's libc.so.6,
 * the forms that must never be skipped, the walk's limits, and truncated
 * buffers. Whether endbr64 and each NOP is emulated follows the measurement
 * cited in src/probes/probe_placement.c. Every fixture is copied into a buffer of
 * exactly its length so that a read past the end shows under ASan or
 * valgrind. */
#include <stdbool.h>
#include <stdlib.h>

#include "probes/probe_placement.h"
#include "unit.h"

static struct probe_placement place(const uint8_t *bytes, size_t len)
{
	uint8_t *buf = len ? malloc(len) : NULL;
	struct probe_placement p;

	if (buf)
		memcpy(buf, bytes, len);
	probe_placement_find(buf, len, &p);
	free(buf);
	return p;
}

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })
#define PLACE(...) place(BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)))

#define EXPECT_PLACED(p, off, name, emu, skip)                                   \
	do {                                                                      \
		struct probe_placement p_ = (p);                                  \
		EXPECT_EQ(p_.offset, off);                                        \
		EXPECT_STREQ(p_.insn, name);                                      \
		EXPECT_EQ(p_.emulated, emu);                                      \
		EXPECT_EQ(p_.skipped, skip);                                      \
	} while (0)

/* Offset 0, single-stepped: the walk found nothing worth moving to. */
#define EXPECT_AT_ENTRY(p, name) EXPECT_PLACED(p, 0, name, false, 0)

/* test %rdi,%rdi; je rel32; push %rbp; lea -0x10(%rdi),%rsi */
static const uint8_t glibc_free[] = {
	0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00, 0x55, 0x48, 0x8d, 0x77, 0xf0,
};

TEST(glibc_free_probes_the_je)
{
	EXPECT_PLACED(place(glibc_free, sizeof(glibc_free)), 3, "je rel32", true, 1);
}

TEST(glibc_malloc_stays_on_its_push)
{
	/* push %r12; push %rbp; push %rbx; mov %rdi,%rbx */
	EXPECT_PLACED(PLACE(0x41, 0x54, 0x55, 0x53, 0x48, 0x89, 0xfb), 0, "push %r12", true, 0);
}

TEST(glibc_posix_memalign_skips_rip_relative_cmp)
{
	/* cmpb $0x0,0x140201(%rip); push %r12 */
	EXPECT_PLACED(PLACE(0x80, 0x3d, 0x01, 0x02, 0x14, 0x00, 0x00, 0x41, 0x54), 7,
		      "push %r12", true, 1);
}

TEST(glibc_memalign_probes_the_je)
{
	/* cmpb $0x0,0x140e71(%rip); je +7; jmp rel32 */
	EXPECT_PLACED(PLACE(0x80, 0x3d, 0x71, 0x0e, 0x14, 0x00, 0x00, 0x74, 0x07, 0xe9, 0x32,
			    0xf6, 0xff, 0xff),
		      7, "je rel8", true, 1);
}

TEST(glibc_valloc_skips_to_push_rbx)
{
	EXPECT_PLACED(PLACE(0x80, 0x3d, 0x31, 0x0e, 0x14, 0x00, 0x00, 0x53, 0x48, 0x89, 0xfb), 7,
		      "push %rbx", true, 1);
}

TEST(writes_are_never_skipped)
{
	/* mov %rdi,%rbx; push %rbp */
	EXPECT_AT_ENTRY(PLACE(0x48, 0x89, 0xfb, 0x55), "unknown");
	/* sub $8,%rsp; push %rbp */
	EXPECT_AT_ENTRY(PLACE(0x48, 0x83, 0xec, 0x08, 0x55), "unknown");
	/* add $8,%edi; je */
	EXPECT_AT_ENTRY(PLACE(0x83, 0xc7, 0x08, 0x74, 0x00), "unknown");
	/* addb $1,disp32(%rip); je */
	EXPECT_AT_ENTRY(PLACE(0x80, 0x05, 0x01, 0x02, 0x03, 0x04, 0x01, 0x74, 0x00), "unknown");
	/* lea -0x10(%rdi),%rsi; push %rbp */
	EXPECT_AT_ENTRY(PLACE(0x48, 0x8d, 0x77, 0xf0, 0x55), "unknown");
}

TEST(test_with_memory_operand_is_not_recognised)
{
	/* test %eax,(%rdi); je */
	EXPECT_AT_ENTRY(PLACE(0x85, 0x07, 0x74, 0x00), "unknown");
}

TEST(endbr64_is_skipped_not_emulated)
{
	EXPECT_PLACED(PLACE(0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5), 4, "push %rbp", true, 1);
	/* endbr64; mov %rsp,%rbp */
	EXPECT_AT_ENTRY(PLACE(0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x89, 0xe5), "endbr64");
	/* endbr32 is not recognised */
	EXPECT_AT_ENTRY(PLACE(0xf3, 0x0f, 0x1e, 0xfb, 0x55), "unknown");
}

TEST(kernel_nops_are_emulated)
{
	static const struct {
		uint8_t bytes[8];
		size_t len;
	} nops[] = {
		{ { 0x90 }, 1 },
		{ { 0x66, 0x90 }, 2 },
		{ { 0x0f, 0x1f, 0x00 }, 3 },
		{ { 0x0f, 0x1f, 0x40, 0x00 }, 4 },
		{ { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5 },
		{ { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 6 },
		{ { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 }, 7 },
		{ { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 }, 8 },
	};

	for (size_t i = 0; i < sizeof(nops) / sizeof(nops[0]); i++)
		EXPECT_PLACED(place(nops[i].bytes, nops[i].len), 0, "nop", true, 0);
}

TEST(other_nops_are_skipped)
{
	/* nopl (%rax,%rax,1), which the kernel single-steps */
	EXPECT_PLACED(PLACE(0x0f, 0x1f, 0x04, 0x00, 0x55), 4, "push %rbp", true, 1);
	/* data16 data16 nop */
	EXPECT_PLACED(PLACE(0x66, 0x66, 0x90, 0x55), 3, "push %rbp", true, 1);
	/* nopl 0x0(%rax) with a nonzero disp8 */
	EXPECT_PLACED(PLACE(0x0f, 0x1f, 0x40, 0x08, 0x55), 4, "push %rbp", true, 1);
}

TEST(lookalike_nops_are_not_recognised)
{
	/* xchg %eax,%r8d writes r8 */
	EXPECT_AT_ENTRY(PLACE(0x41, 0x90, 0x55), "unknown");
	/* pause */
	EXPECT_AT_ENTRY(PLACE(0xf3, 0x90, 0x55), "unknown");
	/* 0f 1f /1 is not the NOP form */
	EXPECT_AT_ENTRY(PLACE(0x0f, 0x1f, 0x48, 0x00, 0x55), "unknown");
}

TEST(push_is_emulated_only_without_prefix_or_with_rex_41)
{
	EXPECT_PLACED(PLACE(0x50), 0, "push %rax", true, 0);
	EXPECT_PLACED(PLACE(0x41, 0x57), 0, "push %r15", true, 0);
	EXPECT_AT_ENTRY(PLACE(0x40, 0x55), "push %rbp");
	EXPECT_AT_ENTRY(PLACE(0x48, 0x55), "push %rbp");
	EXPECT_AT_ENTRY(PLACE(0x66, 0x55), "unknown");
	/* a single-stepped push after a skip gains nothing: stay at the entry */
	EXPECT_AT_ENTRY(PLACE(0x48, 0x85, 0xff, 0x40, 0x55), "test reg,reg");
}

TEST(branches_are_emulated)
{
	EXPECT_PLACED(PLACE(0xeb, 0x00), 0, "jmp rel8", true, 0);
	EXPECT_PLACED(PLACE(0xe9, 0x00, 0x00, 0x00, 0x00), 0, "jmp rel32", true, 0);
	EXPECT_PLACED(PLACE(0xe8, 0x00, 0x00, 0x00, 0x00), 0, "call rel32", true, 0);
	EXPECT_PLACED(PLACE(0x7f, 0x00), 0, "jg rel8", true, 0);
	EXPECT_PLACED(PLACE(0x0f, 0x8e, 0x00, 0x00, 0x00, 0x00), 0, "jle rel32", true, 0);
	/* the kernel refuses 66-prefixed branches */
	EXPECT_AT_ENTRY(PLACE(0x66, 0xe8, 0x00, 0x00), "unknown");
}

TEST(cmp_forms_are_skipped)
{
	/* cmp %esi,%edi / cmp %rsi,%rdi; je */
	EXPECT_PLACED(PLACE(0x39, 0xf7, 0x74, 0x00), 2, "je rel8", true, 1);
	EXPECT_PLACED(PLACE(0x48, 0x39, 0xf7, 0x74, 0x00), 3, "je rel8", true, 1);
	/* cmp $0,%al; cmp $0x1234,%ax; cmp $imm32,%rax; je */
	EXPECT_PLACED(PLACE(0x3c, 0x00, 0x74, 0x00), 2, "je rel8", true, 1);
	EXPECT_PLACED(PLACE(0x66, 0x3d, 0x34, 0x12, 0x74, 0x00), 4, "je rel8", true, 1);
	EXPECT_PLACED(PLACE(0x48, 0x3d, 0x01, 0x02, 0x03, 0x04, 0x74, 0x00), 6, "je rel8", true, 1);
	/* REX.W overrides 66: the immediate stays 32 bits */
	EXPECT_PLACED(PLACE(0x66, 0x48, 0x3d, 0x01, 0x02, 0x03, 0x04, 0x74, 0x00), 7, "je rel8",
		      true, 1);
	/* cmp $0,%edi */
	EXPECT_PLACED(PLACE(0x83, 0xff, 0x00, 0x74, 0x00), 3, "je rel8", true, 1);
	/* cmpb $0,8(%rsp): SIB with disp8 */
	EXPECT_PLACED(PLACE(0x80, 0x7c, 0x24, 0x08, 0x00, 0x75, 0x00), 5, "jne rel8", true, 1);
	/* cmpb $0,disp32: SIB without base */
	EXPECT_PLACED(PLACE(0x80, 0x3c, 0x25, 0x01, 0x02, 0x03, 0x04, 0x00, 0x74, 0x00), 8,
		      "je rel8", true, 1);
	/* cmpw $0x1234,0x10(%rdi) */
	EXPECT_PLACED(PLACE(0x66, 0x81, 0x7f, 0x10, 0x34, 0x12, 0x74, 0x00), 6, "je rel8", true, 1);
	/* cmpl $imm32,-8(%r12): REX.B keeps rm 4 meaning SIB */
	EXPECT_PLACED(PLACE(0x41, 0x81, 0x7c, 0x24, 0xf8, 0x01, 0x02, 0x03, 0x04, 0x74, 0x00), 9,
		      "je rel8", true, 1);
	/* cmpq $1,0x10(%rbp,%rcx,8) with disp32 */
	EXPECT_PLACED(PLACE(0x48, 0x83, 0xbc, 0xcd, 0x10, 0x00, 0x00, 0x00, 0x01, 0x74, 0x00), 9,
		      "je rel8", true, 1);
}

/* test %rdi,%rdi repeated n times, then je rel8. */
static struct probe_placement after_tests(unsigned int n)
{
	uint8_t code[64];
	size_t len = 0;

	for (unsigned int i = 0; i < n; i++) {
		memcpy(code + len, glibc_free, 3);
		len += 3;
	}
	code[len++] = 0x74;
	code[len++] = 0x00;
	return place(code, len);
}

TEST(at_most_four_instructions_are_skipped)
{
	EXPECT_PLACED(after_tests(4), 12, "je rel8", true, 4);
	EXPECT_AT_ENTRY(after_tests(5), "test reg,reg");
}

/* cmpq $imm32,disp32(%rip): 11 bytes each. */
#define CMPQ_RIP 0x48, 0x81, 0x3d, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08

TEST(at_most_32_bytes_are_skipped)
{
	/* 11 + 11 + 10 bytes: the je starts at 32 */
	EXPECT_PLACED(PLACE(CMPQ_RIP, CMPQ_RIP, 0x81, 0x3d, 1, 2, 3, 4, 5, 6, 7, 8, 0x74, 0x00), 32,
		      "je rel8", true, 3);
	EXPECT_AT_ENTRY(PLACE(CMPQ_RIP, CMPQ_RIP, CMPQ_RIP, 0x74, 0x00), "cmp r/m,imm");
}

TEST(overlong_instruction_is_not_recognised)
{
	EXPECT_PLACED(PLACE(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
			    0x66, 0x66, 0x90, 0x55),
		      15, "push %rbp", true, 1);
	EXPECT_AT_ENTRY(PLACE(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
			      0x66, 0x66, 0x66, 0x90, 0x55),
			"unknown");
}

TEST(empty_and_short_buffers)
{
	EXPECT_AT_ENTRY(place(NULL, 0), "truncated");
	EXPECT_AT_ENTRY(place(glibc_free, 1), "truncated");
	EXPECT_AT_ENTRY(place(glibc_free, 2), "truncated");
	EXPECT_AT_ENTRY(place(glibc_free, 3), "test reg,reg");
	/* the je's rel32 is cut off */
	EXPECT_AT_ENTRY(place(glibc_free, 8), "test reg,reg");
	EXPECT_PLACED(place(glibc_free, 9), 3, "je rel32", true, 1);
	/* cut off inside the cmp's disp32 */
	EXPECT_AT_ENTRY(PLACE(0x80, 0x3d, 0x01, 0x02), "truncated");
	/* cut off before the SIB byte */
	EXPECT_AT_ENTRY(PLACE(0x80, 0x7c), "truncated");
	EXPECT_AT_ENTRY(PLACE(0x0f), "truncated");
	EXPECT_AT_ENTRY(PLACE(0x41), "truncated");
}

TEST(every_prefix_of_a_fixture_is_safe)
{
	static const uint8_t memalign[] = {
		0x80, 0x3d, 0x71, 0x0e, 0x14, 0x00, 0x00, 0x74, 0x07, 0xe9, 0x32, 0xf6, 0xff, 0xff,
	};

	/* the je is taken only once it is wholly inside the buffer */
	for (size_t len = 0; len <= sizeof(memalign); len++)
		EXPECT_EQ(place(memalign, len).offset, len >= 9 ? 7 : 0);
	for (size_t len = 0; len <= sizeof(glibc_free); len++)
		EXPECT_EQ(place(glibc_free, len).offset, len >= 9 ? 3 : 0);
}

RUN_TESTS("probe_placement",
	  T(glibc_free_probes_the_je),
	  T(glibc_malloc_stays_on_its_push),
	  T(glibc_posix_memalign_skips_rip_relative_cmp),
	  T(glibc_memalign_probes_the_je),
	  T(glibc_valloc_skips_to_push_rbx),
	  T(writes_are_never_skipped),
	  T(test_with_memory_operand_is_not_recognised),
	  T(endbr64_is_skipped_not_emulated),
	  T(kernel_nops_are_emulated),
	  T(other_nops_are_skipped),
	  T(lookalike_nops_are_not_recognised),
	  T(push_is_emulated_only_without_prefix_or_with_rex_41),
	  T(branches_are_emulated),
	  T(cmp_forms_are_skipped),
	  T(at_most_four_instructions_are_skipped),
	  T(at_most_32_bytes_are_skipped),
	  T(overlong_instruction_is_not_recognised),
	  T(empty_and_short_buffers),
	  T(every_prefix_of_a_fixture_is_safe))
