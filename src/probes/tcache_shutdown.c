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
 * symbol covering it) bounds it. Every read is bounded by the file: the
 * object comes from the target, which is hostile input.
 */
#include "probes/tcache_shutdown.h"

#include <errno.h>
#include <gelf.h>
#include <string.h>

#include "unwind/unwind_table.h"

/* With its NUL: the whole string, not the head of a longer one. */
static const char message[] = "tcache_thread_shutdown(): unaligned tcache chunk detected";

/* lea disp32(%rip),%reg64: REX.W (0x48, or 0x4c for r8-r15), 0x8d, a ModRM
 * byte with mod 00 and r/m 101, then the displacement from the next
 * instruction. */
#define LEA_LEN 7

/* The bytes of loadable segment ph in the file file[0..size), in *bytes and
 * *len. False when the segment reaches past the file. */
static bool segment_bytes(const GElf_Phdr *ph, const uint8_t *file, size_t size,
			  const uint8_t **bytes, size_t *len)
{
	if (ph->p_type != PT_LOAD || ph->p_offset > size || ph->p_filesz > size - ph->p_offset)
		return false;
	*bytes = file + ph->p_offset;
	*len = ph->p_filesz;
	return true;
}

/* The link-time address of the message in a loaded segment. */
static int find_message(Elf *elf, const uint8_t *file, size_t size, uint64_t *vaddr)
{
	size_t n = 0, len;
	const uint8_t *bytes, *hit;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n) < 0)
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph) || !segment_bytes(&ph, file, size, &bytes, &len))
			continue;
		hit = memmem(bytes, len, message, sizeof(message));
		if (hit) {
			*vaddr = ph.p_vaddr + (uint64_t)(hit - bytes);
			return 0;
		}
	}
	return -ENOENT;
}

/* The link-time address of the first rip-relative lea, in an executable
 * segment, that loads target. */
static int find_lea(Elf *elf, const uint8_t *file, size_t size, uint64_t target, uint64_t *at)
{
	size_t n = 0, len;
	const uint8_t *b;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n) < 0)
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph) || !(ph.p_flags & PF_X) ||
		    !segment_bytes(&ph, file, size, &b, &len))
			continue;
		for (size_t k = 0; k + LEA_LEN <= len; k++) {
			int32_t disp;

			if ((b[k] & 0xfb) != 0x48 || b[k + 1] != 0x8d || (b[k + 2] & 0xc7) != 0x05)
				continue;
			memcpy(&disp, b + k + 3, sizeof(disp));
			if (ph.p_vaddr + k + LEA_LEN + (uint64_t)(int64_t)disp == target) {
				*at = ph.p_vaddr + k;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/* The function holding the lea that loads the message. */
static int find_by_message(const struct elf_object *o, struct tcache_shutdown *out)
{
	Elf *elf = elf_object__elf(o);
	size_t size = 0;
	const uint8_t *file = (const uint8_t *)elf_rawfile(elf, &size);
	struct elf_symbol sym;
	uint64_t text, lea, lo, hi;
	int r;

	if (!file)
		return -ENOENT;
	r = find_message(elf, file, size, &text);
	if (r == 0)
		r = find_lea(elf, file, size, text, &lea);
	if (r < 0)
		return r;
	if (unwind_fde_covering(elf, lea, &lo, &hi) < 0) {
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
