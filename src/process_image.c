/* process_image.c - ELF headers and notes read out of a live process. The
 * object's first mapping (file offset 0) holds its ELF header, its program
 * headers and, as linkers place them, its PT_NOTE segments: a note at file
 * offset o is at start + o. Nothing here trusts the image: every offset and
 * size is checked against what the mapping holds before it is read. */
#include "process_image.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

/* Larger PT_NOTE segments than this are not worth reading for a build-id. */
#define NOTES_MAX (64 * 1024)
#define PHDRS_MAX 256

int process_image__read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

static int source_read(const struct image_source *src, uint64_t off, void *buf, size_t len)
{
	if (off > src->size || len > src->size - off)
		return -EFAULT;
	return src->read(src->ctx, off, buf, len);
}

static char *hex_of(const unsigned char *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	for (size_t i = 0; s && i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	if (s)
		s[2 * n] = '\0';
	return s;
}

static size_t align_up(size_t v, size_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/* Walk the notes of one PT_NOTE segment (align: 4, or 8 for ELF_T_NHDR8
 * notes). 0 and *out for a GNU build-id, -ENOENT, -ENOMEM. */
static int build_id_in(const unsigned char *notes, size_t len, size_t align, char **out)
{
	size_t off = 0;

	while (off < len && len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		size_t name_at = off + sizeof(nh), desc_at, next;

		memcpy(&nh, notes + off, sizeof(nh));
		desc_at = align_up(name_at + nh.n_namesz, align);
		next = align_up(desc_at + nh.n_descsz, align);
		/* The last note's padding may run past the segment. */
		if (nh.n_namesz > len || nh.n_descsz > len || desc_at + nh.n_descsz > len)
			return -ENOENT;
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == sizeof(ELF_NOTE_GNU) &&
		    !memcmp(notes + name_at, ELF_NOTE_GNU, sizeof(ELF_NOTE_GNU)) && nh.n_descsz) {
			*out = hex_of(notes + desc_at, nh.n_descsz);
			return *out ? 0 : -ENOMEM;
		}
		off = next;
	}
	return -ENOENT;
}

static int note_segment(const struct image_source *src, const Elf64_Phdr *p, char **out)
{
	unsigned char *notes;
	int r;

	if (!p->p_filesz || p->p_filesz > NOTES_MAX)
		return -ENOENT;
	notes = malloc(p->p_filesz);
	if (!notes)
		return -ENOMEM;
	r = source_read(src, p->p_offset, notes, p->p_filesz);
	if (r == 0)
		r = build_id_in(notes, p->p_filesz, p->p_align == 8 ? 8 : 4, out);
	else if (r == -EFAULT)
		r = -ENOENT; /* a note outside the first mapping: not this one */
	free(notes);
	return r;
}

static bool valid_header(const Elf64_Ehdr *eh)
{
	return !memcmp(eh->e_ident, ELFMAG, SELFMAG) && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
	       eh->e_phentsize == sizeof(Elf64_Phdr) && eh->e_phnum <= PHDRS_MAX;
}

int process_image__build_id(const struct image_source *src, char **out)
{
	Elf64_Phdr *ph = NULL;
	Elf64_Ehdr eh;
	int r;

	r = source_read(src, 0, &eh, sizeof(eh));
	if (r < 0)
		return r;
	if (!valid_header(&eh))
		return -ENOEXEC;
	ph = calloc(eh.e_phnum ? eh.e_phnum : 1, sizeof(*ph));
	if (!ph)
		return -ENOMEM;
	r = source_read(src, eh.e_phoff, ph, eh.e_phnum * sizeof(*ph));
	if (r == -EFAULT)
		r = -ENOEXEC;
	if (r == 0)
		r = -ENOENT;
	for (size_t i = 0; r == -ENOENT && i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_NOTE)
			r = note_segment(src, &ph[i], out);
	free(ph);
	return r;
}

struct remote {
	pid_t pid;
	uint64_t start;
};

static int remote_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct remote *m = ctx;

	return process_image__read(m->pid, m->start + off, buf, len);
}

int process_image__mapped_build_id(pid_t pid, uint64_t start, uint64_t end, char **out)
{
	struct remote m = { .pid = pid, .start = start };
	struct image_source src = { .read = remote_read, .ctx = &m, .size = end - start };

	return process_image__build_id(&src, out);
}
