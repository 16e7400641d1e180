/* process_image.c - ELF headers and notes read out of a live process. The
 * object's first mapping (file offset 0) holds its ELF header, its program
 * headers and, as linkers place them, its PT_NOTE segments: a note at file
 * offset o is at start + o. Nothing here trusts the image: every offset and
 * size is checked against what the mapping holds before it is read. */
#include "target/process_image.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "target/build_id.h"

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
		r = build_id_from_notes(notes, p->p_filesz, p->p_align == 8 ? 8 : 4, out);
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
