/* tcache_shutdown.c - where glibc's tcache_thread_shutdown() is, in the
 * object that provides free.
 *
 * The function is static: glibc exports no name for it, Debian's libc has
 * no .symtab of its own, and gcc inlines the function into its one caller,
 * __malloc_arena_thread_freeres, so even a debug file may not name it. A
 * symbol is used when there is one. Otherwise the code is found by the one
 * string only it uses, the message of its check that a cached block is
 * aligned: the string is searched in the loaded segments, then the
 * executable ones for a rip-relative lea that loads its address (the form
 * gcc gives every x86-64 object, static executables included). The
 * function holding that lea is the one that frees, and its FDE (or the
 * symbol covering it) bounds it. Every read is bounded by the file and
 * the segment: the object comes from the target, which is hostile input.
 */
#include "probes/tcache_shutdown.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unwind/unwind_table.h"

/* With its NUL: the whole string, not the head of a longer one. */
static const char message[] = "tcache_thread_shutdown(): unaligned tcache chunk detected";

/* lea disp32(%rip),%reg64: REX.W (0x48, or 0x4c for r8-r15), 0x8d, a ModRM
 * byte with mod 00 and r/m 101, then the displacement from the next
 * instruction. */
#define LEA_LEN 7

/* The offset in b[0..len) of the message, or -1. */
static long message_in(const uint8_t *b, size_t len, uint64_t vaddr, uint64_t target)
{
	const uint8_t *hit = memmem(b, len, message, sizeof(message));

	(void)vaddr;
	(void)target;
	return hit ? hit - b : -1;
}

/* The offset in b[0..len), loaded at vaddr, of the first rip-relative lea
 * that loads target, or -1. */
static long lea_in(const uint8_t *b, size_t len, uint64_t vaddr, uint64_t target)
{
	for (size_t k = 0; len >= LEA_LEN && k <= len - LEA_LEN; k++) {
		int32_t disp;

		if ((b[k] & 0xfb) != 0x48 || b[k + 1] != 0x8d || (b[k + 2] & 0xc7) != 0x05)
			continue;
		memcpy(&disp, b + k + 3, sizeof(disp));
		if (vaddr + k + LEA_LEN + (uint64_t)(int64_t)disp == target)
			return (long)k;
	}
	return -1;
}

struct search {
	long (*find)(const uint8_t *, size_t, uint64_t, uint64_t);
	uint64_t target;
	uint64_t at;
};

static int search_segment(const uint8_t *bytes, size_t len, uint64_t vaddr, void *arg)
{
	struct search *s = arg;
	long k = s->find(bytes, len, vaddr, s->target);

	if (k < 0)
		return 0;
	s->at = vaddr + (uint64_t)k;
	return 1;
}

/* The link-time address of the first match of find in o's loadable
 * segments (the executable ones only when exec). */
static int search_segments(const struct elf_object *o, bool exec,
			   long (*find)(const uint8_t *, size_t, uint64_t, uint64_t),
			   uint64_t target, uint64_t *at)
{
	struct search s = { find, target, 0 };
	int r = elf_object__each_segment(o, exec, search_segment, &s);

	if (r < 0)
		return r;
	if (!r)
		return -ENOENT;
	*at = s.at;
	return 0;
}

/* The function holding the lea that loads the message. */
static int find_by_message(const struct elf_object *o, struct tcache_shutdown *out)
{
	struct elf_symbol sym;
	uint64_t text, lea, lo, hi;
	int r = search_segments(o, false, message_in, 0, &text);

	if (r == 0)
		r = search_segments(o, true, lea_in, text, &lea);
	if (r < 0)
		return r;
	if (unwind_fde_covering(elf_object__elf(o), lea, &lo, &hi) < 0) {
		if (elf_object__symbol_at(o, lea, &sym) < 0 || !sym.size)
			return -ENOENT;
		lo = sym.vaddr;
		hi = sym.vaddr + sym.size;
	}
	*out = (struct tcache_shutdown){ lo, hi, TCACHE_SHUTDOWN_MESSAGE };
	return 0;
}

int tcache_shutdown_find(const struct elf_object *o, struct tcache_shutdown *out)
{
	struct elf_symbol sym;

	if (elf_object__find_function(o, "tcache_thread_shutdown", ELF_SYMTAB_STATIC, &sym) == 0 &&
	    sym.size) {
		*out = (struct tcache_shutdown){ sym.vaddr, sym.vaddr + sym.size,
						 TCACHE_SHUTDOWN_SYMBOL };
		return 0;
	}
	return find_by_message(o, out);
}

const char *tcache_shutdown_source_name(enum tcache_shutdown_source source)
{
	return source == TCACHE_SHUTDOWN_SYMBOL ? "symbol" : "message";
}
