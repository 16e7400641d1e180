/* build_id.c - walk notes for NT_GNU_BUILD_ID. Elf32_Nhdr and Elf64_Nhdr
 * are the same three 32-bit words, so one walk serves both classes. */
#include "target/build_id.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char *to_hex(const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 0xf];
	}
	s[2 * n] = '\0';
	return s;
}

static size_t align_up(size_t v, size_t align)
{
	return (v + align - 1) & ~(align - 1);
}

int build_id_from_notes(const unsigned char *notes, size_t len, size_t align, char **out)
{
	size_t off = 0;

	while (off < len && len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		size_t name_at = off + sizeof(nh), desc_at, next;

		memcpy(&nh, notes + off, sizeof(nh));
		desc_at = align_up(name_at + nh.n_namesz, align);
		next = align_up(desc_at + nh.n_descsz, align);
		/* The last note's padding may run past the end. */
		if (nh.n_namesz > len || nh.n_descsz > len || desc_at + nh.n_descsz > len)
			return -ENOENT;
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == sizeof(ELF_NOTE_GNU) &&
		    !memcmp(notes + name_at, ELF_NOTE_GNU, sizeof(ELF_NOTE_GNU)) && nh.n_descsz) {
			*out = to_hex(notes + desc_at, nh.n_descsz);
			return *out ? 0 : -ENOMEM;
		}
		off = next;
	}
	return -ENOENT;
}
