/* elf_object.c - one ELF file read with libelf: its image, segments and
 * build-id, and the accessors. A file is read, never mapped: the target may
 * own it and truncate it, which would kill memleakd with SIGBUS at the next
 * access to a mapping. libelf reads it with pread as parts are asked for
 * (headers, then the sections used: symbols, notes, DWARF), into memory of
 * its own, and keeps the descriptor for that; a read of a file that shrank
 * comes back short and fails like a corrupt file. An image held in memory
 * (the vDSO, a MiniDebugInfo) is a copy of our own. The symbols are
 * elf_symbols.c's, the search for a separate debug file debug_file.c's, the
 * MiniDebugInfo minidebuginfo.c's. */
#include "target/elf_object.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "target/build_id.h"
#include "target/elf_object_internal.h"
#include "target/minidebuginfo.h"
#include "target/target_file.h"

void elf_image_close(struct elf_image *img)
{
	elf_end(img->elf);
	if (img->data)
		free(img->data);
	else if (img->elf)
		close(img->fd);
	*img = (struct elf_image){ 0 };
}

/* Takes img's file or data: 0, or -ENOEXEC with them freed when libelf sees
 * no ELF file there. */
static int image_check(struct elf_image *img)
{
	if (img->elf && elf_kind(img->elf) == ELF_K_ELF)
		return 0;
	if (!img->elf && !img->data)
		close(img->fd);
	elf_image_close(img);
	return -ENOEXEC;
}

int elf_image_open(int dir_fd, const char *path, struct elf_image *img)
{
	struct stat st;
	int fd;

	fd = target_file_open(dir_fd, path);
	if (fd < 0)
		return fd == -EINVAL ? -ENOEXEC : fd;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		int r = st.st_size <= 0 ? -ENOEXEC : -errno;

		close(fd);
		return r;
	}
	*img = (struct elf_image){ .fd = fd, .size = st.st_size,
				   .elf = elf_begin(fd, ELF_C_READ, NULL) };
	return image_check(img);
}

int elf_image_copy(const void *data, size_t len, struct elf_image *img)
{
	void *copy;

	if (!len)
		return -ENOEXEC;
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	*img = (struct elf_image){ .data = copy, .size = len, .elf = elf_memory(copy, len) };
	return image_check(img);
}

/* Up to len bytes of img at offset off into buf: how many (fewer at the end,
 * or when the file shrank), or -errno. */
static long image_read(const struct elf_image *img, uint64_t off, void *buf, size_t len)
{
	ssize_t n;

	if (img->data) {
		if (off >= img->size)
			return 0;
		n = len < img->size - off ? len : img->size - off;
		memcpy(buf, (char *)img->data + off, n);
		return n;
	}
	n = pread(img->fd, buf, len, off);
	return n < 0 ? -errno : n;
}

int elf_image_crc32(const struct elf_image *img, uint32_t *out)
{
	enum { CHUNK = 64 * 1024 };
	unsigned char *buf = malloc(CHUNK);
	uint32_t crc = 0;
	uint64_t off = 0;
	long n;

	if (!buf)
		return -ENOMEM;
	while ((n = image_read(img, off, buf, CHUNK)) > 0) {
		crc = crc32_z(crc, buf, n);
		off += n;
	}
	free(buf);
	if (n < 0)
		return n;
	*out = crc;
	return 0;
}

Elf_Scn *elf_section_of_type(Elf *elf, Elf64_Word type, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, sh) && sh->sh_type == type)
			return scn;
	return NULL;
}

Elf_Scn *elf_section_named(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx) < 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;

		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

bool elf_has_dwarf(Elf *elf)
{
	return elf && elf_section_named(elf, ".debug_info");
}

/* A static-pie has PT_DYNAMIC, for relocating itself, but no PT_INTERP,
 * like a shared library; its DF_1_PIE flag is what tells the two apart. */
static bool is_static_pie(Elf *elf, const GElf_Phdr *dyn)
{
	Elf_Data *d = elf_getdata_rawchunk(elf, dyn->p_offset, dyn->p_filesz, ELF_T_DYN);
	GElf_Dyn e;

	for (int i = 0; d && gelf_getdyn(d, i, &e) && e.d_tag != DT_NULL; i++)
		if (e.d_tag == DT_FLAGS_1 && (e.d_un.d_val & DF_1_PIE))
			return true;
	return false;
}

static int load_segments(struct elf_object *o)
{
	GElf_Phdr dyn = { .p_type = PT_NULL };
	bool interp = false;
	GElf_Ehdr eh;
	size_t n;

	if (!gelf_getehdr(o->file.elf, &eh) || elf_getphdrnum(o->file.elf, &n) < 0)
		return -ENOEXEC;
	o->segs = calloc(n ? n : 1, sizeof(*o->segs));
	if (!o->segs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr p;

		if (!gelf_getphdr(o->file.elf, i, &p))
			continue;
		if (p.p_type == PT_LOAD && p.p_filesz)
			o->segs[o->nsegs++] = (struct elf_segment){ p.p_vaddr, p.p_offset, p.p_filesz };
		interp |= p.p_type == PT_INTERP;
		if (p.p_type == PT_DYNAMIC)
			dyn = p;
	}
	o->dynamic_vaddr = dyn.p_type == PT_DYNAMIC ? dyn.p_vaddr : 0;
	o->dynamic = (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) &&
		     (interp || (dyn.p_type == PT_DYNAMIC && !is_static_pie(o->file.elf, &dyn)));
	return 0;
}

/* 0 and a new, empty *out; -ENOEXEC when libelf is unusable, -ENOMEM. */
static int object_new(struct elf_object **out)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOEXEC;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

/* What every object has once its file is in o->file: segments, build-id. */
static int read_headers(struct elf_object *o)
{
	int r = load_segments(o);

	return r < 0 ? r : build_id_from_elf(o->file.elf, &o->build_id);
}

/* The MiniDebugInfo of an object that has no .symtab of its own nor from a
 * debug file. One that cannot be read is passed over like a missing one:
 * only ENOMEM is an error. */
static int open_minidebuginfo(struct elf_object *o)
{
	GElf_Shdr sh;
	int r;

	if (elf_section_of_type(o->file.elf, SHT_SYMTAB, &sh) ||
	    (o->debug.elf && elf_section_of_type(o->debug.elf, SHT_SYMTAB, &sh)))
		return 0;
	r = minidebuginfo_open(o->file.elf, &o->mini);
	return r == -ENOMEM ? r : 0;
}

static int open_object(int dir_fd, const char *path, bool symbols,
		       const struct debug_search *search, struct elf_object **out)
{
	struct elf_object *o;
	int r;

	r = object_new(&o);
	if (r < 0)
		return r;
	r = elf_image_open(dir_fd, path, &o->file);
	if (r == 0)
		r = read_headers(o);
	if (r == 0 && symbols)
		r = debug_file_find(o->file.elf, dir_fd, path, o->build_id, search, &o->debug);
	if (r == 0 && symbols)
		r = open_minidebuginfo(o);
	if (r == 0 && symbols)
		r = elf_symbols_load(o);
	if (r < 0) {
		elf_object__free(o);
		return r;
	}
	*out = o;
	return 0;
}

int elf_object__open(int dir_fd, const char *path, struct elf_object **out)
{
	return open_object(dir_fd, path, true, NULL, out);
}

int elf_object__open_debug(int dir_fd, const char *path, const struct debug_search *search,
			   struct elf_object **out)
{
	return open_object(dir_fd, path, true, search, out);
}

int elf_object__open_headers(int dir_fd, const char *path, struct elf_object **out)
{
	return open_object(dir_fd, path, false, NULL, out);
}

/* There is no file to find a separate debug file by: only the image's own
 * tables are read. */
int elf_object__open_memory(const void *data, size_t len, struct elf_object **out)
{
	struct elf_object *o;
	int r;

	r = object_new(&o);
	if (r < 0)
		return r;
	r = elf_image_copy(data, len, &o->file);
	if (r == 0)
		r = read_headers(o);
	if (r == 0)
		r = elf_symbols_load(o);
	if (r < 0) {
		elf_object__free(o);
		return r;
	}
	*out = o;
	return 0;
}

void elf_object__free(struct elf_object *o)
{
	if (!o)
		return;
	elf_image_close(&o->mini);
	elf_image_close(&o->debug);
	elf_image_close(&o->file);
	free(o->segs);
	free(o->syms);
	free(o->build_id);
	free(o);
}

static const struct elf_segment *segment_by_vaddr(const struct elf_object *o, uint64_t vaddr)
{
	for (size_t i = 0; i < o->nsegs; i++)
		if (vaddr - o->segs[i].vaddr < o->segs[i].filesz)
			return &o->segs[i];
	return NULL;
}

int elf_object__vaddr_to_offset(const struct elf_object *o, uint64_t vaddr, uint64_t *offset)
{
	const struct elf_segment *s = segment_by_vaddr(o, vaddr);

	if (!s)
		return -ERANGE;
	*offset = vaddr - s->vaddr + s->offset;
	return 0;
}

int elf_object__offset_to_vaddr(const struct elf_object *o, uint64_t offset, uint64_t *vaddr)
{
	for (size_t i = 0; i < o->nsegs; i++) {
		const struct elf_segment *s = &o->segs[i];

		if (offset - s->offset < s->filesz) {
			*vaddr = offset - s->offset + s->vaddr;
			return 0;
		}
	}
	return -ERANGE;
}

long elf_object__read(const struct elf_object *o, uint64_t vaddr, void *buf, size_t len)
{
	const struct elf_segment *s = segment_by_vaddr(o, vaddr);
	uint64_t n;
	long r;

	if (!s)
		return -ERANGE;
	n = s->vaddr + s->filesz - vaddr;
	if (n > len)
		n = len;
	r = image_read(&o->file, vaddr - s->vaddr + s->offset, buf, n);
	return r == 0 ? -ERANGE : r;
}

#define SEGMENT_MAX (64u << 20)

/* The file bytes of loadable segment ph, read into *bytes (to free) and
 * *len: 0, -ENOENT when it has none, -EFBIG, -EIO or -ENOMEM. */
static int read_segment(const struct elf_object *o, const GElf_Phdr *ph, uint8_t **bytes,
			size_t *len)
{
	uint8_t *b;
	long n;

	if (ph->p_type != PT_LOAD || !ph->p_filesz)
		return -ENOENT;
	if (ph->p_filesz > SEGMENT_MAX)
		return -EFBIG;
	b = malloc(ph->p_filesz);
	if (!b)
		return -ENOMEM;
	n = elf_object__read(o, ph->p_vaddr, b, ph->p_filesz);
	if (n <= 0) {
		free(b);
		return -EIO;
	}
	*bytes = b;
	*len = (size_t)n;
	return 0;
}

int elf_object__each_segment(const struct elf_object *o, bool exec, elf_segment_visit_fn *visit,
			     void *arg)
{
	size_t n = 0, len;
	uint8_t *bytes;
	GElf_Phdr ph;
	int r;

	if (elf_getphdrnum(o->file.elf, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getphdr(o->file.elf, (int)i, &ph) || (exec && !(ph.p_flags & PF_X)))
			continue;
		r = read_segment(o, &ph, &bytes, &len);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		r = visit(bytes, len, ph.p_vaddr, arg);
		free(bytes);
		if (r)
			return r;
	}
	return 0;
}

const char *elf_object__build_id(const struct elf_object *o)
{
	return o->build_id;
}

Elf *elf_object__elf(const struct elf_object *o)
{
	return o->file.elf;
}

Elf *elf_object__dwarf_elf(const struct elf_object *o)
{
	return elf_has_dwarf(o->debug.elf) ? o->debug.elf : o->file.elf;
}

bool elf_object__has_dwarf(const struct elf_object *o)
{
	return elf_has_dwarf(elf_object__dwarf_elf(o));
}

bool elf_object__is_dynamic(const struct elf_object *o)
{
	return o->dynamic;
}

uint64_t elf_object__dynamic_vaddr(const struct elf_object *o)
{
	return o->dynamic_vaddr;
}
