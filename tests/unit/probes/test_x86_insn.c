/* test_x86_insn.c - instruction lengths over forms whose length depends on
 * more than the opcode: prefixes, REX.W, ModRM/SIB/displacement, the f6
 * and f7 groups, VEX and EVEX, and bytes that are no instruction. The whole
 * decoder was also checked against objdump over the .text of Debian 12's
 * libc, libstdc++, tcmalloc, mimalloc, jemalloc, postgres, redis-server and
 * python3.11: the same instruction boundaries everywhere. */
#include <errno.h>

#include "probes/x86_insn.h"
#include "unit.h"

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })

/* Length of the instruction in the bytes, or -errno. */
static int length_of(const uint8_t *code, size_t len)
{
	struct x86_insn in;
	int r = x86_insn_decode(code, len, &in);

	return r < 0 ? r : in.len;
}

#define LEN(...) length_of(BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)))

TEST(lengths)
{
	EXPECT_EQ(LEN(0x90), 1);
	EXPECT_EQ(LEN(0x48, 0x8b, 0x05, 1, 2, 3, 4), 7);              /* mov rip,%rax */
	EXPECT_EQ(LEN(0x64, 0x48, 0x03, 0x04, 0x25, 0, 0, 0, 0), 9);  /* add %fs:0,%rax */
	EXPECT_EQ(LEN(0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8), 10);       /* movabs */
	EXPECT_EQ(LEN(0xb8, 1, 2, 3, 4), 5);
	EXPECT_EQ(LEN(0x66, 0xb8, 1, 2), 4);
	EXPECT_EQ(LEN(0xf6, 0x07, 0x01), 3);                          /* testb $1,(%rdi) */
	EXPECT_EQ(LEN(0x48, 0xf7, 0xde), 3);                          /* neg %rsi */
	EXPECT_EQ(LEN(0xf7, 0xc7, 1, 0, 0, 0), 6);                    /* test $1,%edi */
	EXPECT_EQ(LEN(0x66, 0x66, 0x48, 0xe8, 1, 2, 3, 4), 8);        /* TLS call */
	EXPECT_EQ(LEN(0xa1, 1, 2, 3, 4, 5, 6, 7, 8), 9);              /* mov moffs,%eax */
	EXPECT_EQ(LEN(0xc8, 0x10, 0x00, 0x00), 4);                    /* enter */
	EXPECT_EQ(LEN(0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0), 8);
	EXPECT_EQ(LEN(0xc5, 0xf9, 0x6f, 0x07), 4);                    /* vmovdqa (%rdi),%xmm0 */
	EXPECT_EQ(LEN(0xc4, 0xe3, 0x79, 0x16, 0xc0, 0x01), 6);        /* vpextrd $1 */
	EXPECT_EQ(LEN(0xc5, 0xf8, 0x77), 3);                          /* vzeroupper */
	EXPECT_EQ(LEN(0x62, 0xf1, 0xfe, 0x48, 0x6f, 0x47, 0x01), 7);  /* vmovdqu64 0x40(%rdi) */
	EXPECT_EQ(LEN(0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x08), 6);        /* palignr */
	EXPECT_EQ(LEN(0x66, 0x0f, 0x38, 0x00, 0xc1), 5);              /* pshufb */
}

TEST(branches)
{
	struct x86_insn in;

	EXPECT_EQ(x86_insn_decode(BYTES(0x0f, 0x84, 0xbf, 0, 0, 0), 6, &in), 0);
	EXPECT(in.rel);
	EXPECT_EQ(in.imm, 0xbf);
	EXPECT_EQ(x86_insn_decode(BYTES(0xeb, 0xfa), 2, &in), 0);
	EXPECT(in.rel);
	EXPECT_EQ(in.imm, -6);
	EXPECT_EQ(x86_insn_decode(BYTES(0xff, 0xe0), 2, &in), 0);
	EXPECT(!in.rel);
}

TEST(not_instructions)
{
	EXPECT_EQ(LEN(0x06), -EINVAL);
	EXPECT_EQ(LEN(0x8f, 0xe8, 0x78, 0xc2), -EINVAL);  /* XOP */
	EXPECT_EQ(LEN(0x48, 0x66, 0x90), -EINVAL);        /* prefix after REX */
	EXPECT_EQ(LEN(0x66, 0xe9, 0, 0), -EINVAL);        /* 66 on a near branch */
	EXPECT_EQ(LEN(0x48, 0x8b), -ENODATA);
	EXPECT_EQ(length_of(BYTES(0), 0), -ENODATA);
	/* 15 prefixes and more: longer than any instruction */
	EXPECT_EQ(LEN(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
		      0x66, 0x66, 0x66, 0x90), -EINVAL);
}

RUN_TESTS("x86_insn", T(lengths), T(branches), T(not_instructions))
