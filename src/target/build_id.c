/* build_id.c - the GNU build-id, wherever it is read from. All roads end in
 * one walk over note bytes: Elf32_Nhdr and Elf64_Nhdr are the same three
 * 32-bit words, so it serves both classes. From a file, libelf finds the
 * notes; from a live process, the object's first mapping (file offset 0)
 * holds its ELF header, its program headers and, as linkers place them,
 * its PT_NOTE segments: a note at file offset o is at start + o. Nothing
 * here trusts a process's image: every offset and size is checked against
 * what the mapping holds before it is read. */
#include "target/build_id.h"

#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "target/process_image.h"

/* Larger PT_NOTE segments than this are not worth reading for a build-id. */
#define NOTES_MAX (64 * 1024)
#define PHDRS_MAX 256

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

/* 1 and *out when d holds a GNU build-id note, 0 when not, -ENOMEM. libelf
 * has the notes in host byte order. */
static int build_id_in_notes(Elf_Data *d, size_t align, char **out)
{
	int r = d && d->d_buf ? build_id_from_notes(d->d_buf, d->d_size, align, out) : -ENOENT;

	return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

/* Note sections first: a debug file keeps them while its PT_NOTE segments
 * point at data it no longer has. Segments cover files without sections. */
int build_id_from_elf(Elf *elf, char **out)
{
	Elf_Scn *scn = NULL;
	size_t phnum;
	GElf_Shdr sh;
	int r = 0;

	while (!r && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		r = build_id_in_notes(d, sh.sh_addralign == 8 ? 8 : 4, out);
	}
	if (elf_getphdrnum(elf, &phnum) < 0)
		phnum = 0;
	for (size_t i = 0; !r && i < phnum; i++) {
		GElf_Phdr p;
		Elf_Data *d;

		if (!gelf_getphdr(elf, i, &p) || p.p_type != PT_NOTE)
			continue;
		d = elf_getdata_rawchunk(elf, p.p_offset, p.p_filesz,
					 p.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
		r = build_id_in_notes(d, p.p_align == 8 ? 8 : 4, out);
	}
	return r < 0 ? r : 0;
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

int build_id_from_image(const struct image_source *src, char **out)
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
	int pidfd;
	uint64_t start;
};

static int remote_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct remote *m = ctx;

	return process_image__read(m->pid, m->pidfd, m->start + off, buf, len);
}

int build_id_from_mapping(pid_t pid, int pidfd, uint64_t start, uint64_t end, char **out)
{
	struct remote m = { .pid = pid, .pidfd = pidfd, .start = start };
	struct image_source src = { .read = remote_read, .ctx = &m, .size = end - start };

	return build_id_from_image(&src, out);
}

bool build_id_matches(const char *known, const char *id)
{
	return !known || (id && !strcmp(known, id));
}
