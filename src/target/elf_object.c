/* elf_object.c - one ELF file read with libelf. The file is mapped privately
 * and handed to libelf as memory, so the descriptor is closed at once, symbol
 * names point straight into the mapping and elf_object__read copies from it.
 * Function symbols from .dynsym and .symtab (or the .symtab of a separate
 * debug file, found where debug_file.h says) go into one array sorted by
 * address; among aliases the best name is chosen by sym_better() below. */
#include "target/elf_object.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "target/build_id.h"
#include "target/debug_file.h"

#define VERSYM_HIDDEN 0x8000

/* One mapped ELF file: the object itself or its separate debug file. */
struct image {
	void *data;
	size_t size;
	Elf *elf;
};

struct segment {
	uint64_t vaddr, offset, filesz;
};

struct sym {
	const char *name; /* points into an image's string table */
	uint64_t vaddr, size;
	uint64_t limit;   /* end of the symbol's section: bounds a size-0 symbol */
	uint64_t cover;   /* highest end of the sized symbols up to this one */
	uint8_t table;    /* ELF_SYMTAB_DYNAMIC or ELF_SYMTAB_STATIC */
	uint8_t bind;     /* 2 global, 1 weak, 0 local */
};

struct elf_object {
	struct image file, debug;
	struct segment *segs;
	size_t nsegs;
	struct sym *syms;
	size_t nsyms, syms_cap;
	char *build_id;
	bool dynamic;
	uint64_t dynamic_vaddr;
};

/* Paths come from the target's mount namespace: with dir_fd as the root,
 * absolute symlinks inside a container resolve inside it too. Kernels
 * without openat2 get a plain openat below dir_fd. */
int elf_open_under(int dir_fd, const char *path)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
	int fd;

	if (dir_fd == AT_FDCWD) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} else {
		fd = syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
		if (fd < 0 && errno == ENOSYS)
			fd = openat(dir_fd, path + strspn(path, "/"), O_RDONLY | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

static void image_close(struct image *img)
{
	elf_end(img->elf);
	if (img->data)
		munmap(img->data, img->size);
	*img = (struct image){ 0 };
}

/* A private writable mapping, because libelf may convert foreign-endian data
 * in place; the pages stay shared with the page cache until it does. */
static int image_open(int dir_fd, const char *path, struct image *img)
{
	struct stat st;
	void *data;
	int fd, r;

	fd = elf_open_under(dir_fd, path);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	r = -ENOEXEC;
	if (!S_ISREG(st.st_mode) || st.st_size <= 0)
		goto out;
	data = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (data == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	img->data = data;
	img->size = st.st_size;
	img->elf = elf_memory(data, img->size);
	r = img->elf && elf_kind(img->elf) == ELF_K_ELF ? 0 : -ENOEXEC;
out:
	if (r < 0)
		image_close(img);
	close(fd);
	return r;
}

static Elf_Scn *section_of_type(Elf *elf, Elf64_Word type, GElf_Shdr *sh)
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

/* 1 and *out when d holds a GNU build-id note, 0 when not, -ENOMEM. libelf
 * has the notes in host byte order. */
static int build_id_in_notes(Elf_Data *d, size_t align, char **out)
{
	int r = d && d->d_buf ? build_id_from_notes(d->d_buf, d->d_size, align, out) : -ENOENT;

	return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

/* Note sections first: a debug file keeps them while its PT_NOTE segments
 * point at data it no longer has. Segments cover files without sections. */
static int read_build_id(Elf *elf, char **out)
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
			o->segs[o->nsegs++] = (struct segment){ p.p_vaddr, p.p_offset, p.p_filesz };
		interp |= p.p_type == PT_INTERP;
		if (p.p_type == PT_DYNAMIC)
			dyn = p;
	}
	o->dynamic_vaddr = dyn.p_type == PT_DYNAMIC ? dyn.p_vaddr : 0;
	o->dynamic = (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) &&
		     (interp || (dyn.p_type == PT_DYNAMIC && !is_static_pie(o->file.elf, &dyn)));
	return 0;
}

/* Where a size-0 symbol may stretch to: the end of its section. */
static uint64_t section_end(Elf *elf, const GElf_Sym *s)
{
	Elf_Scn *scn = s->st_shndx < SHN_LORESERVE ? elf_getscn(elf, s->st_shndx) : NULL;
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh))
		return s->st_value + s->st_size;
	return sh.sh_addr + sh.sh_size;
}

static int push_symbol(struct elf_object *o, Elf *elf, const GElf_Sym *s, const char *name,
		       uint8_t table)
{
	uint8_t bind = GELF_ST_BIND(s->st_info);

	if (o->nsyms == o->syms_cap) {
		size_t cap = o->syms_cap ? o->syms_cap * 2 : 256;
		struct sym *n = realloc(o->syms, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		o->syms = n;
		o->syms_cap = cap;
	}
	o->syms[o->nsyms++] = (struct sym){
		.name = name,
		.vaddr = s->st_value,
		.size = s->st_size,
		.limit = section_end(elf, s),
		.table = table,
		.bind = bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0,
	};
	return 0;
}

/* The .gnu.version table that belongs to the .dynsym at index dynsym. */
static Elf_Data *versym_of(Elf *elf, size_t dynsym)
{
	GElf_Shdr sh;
	Elf_Scn *scn = section_of_type(elf, SHT_GNU_versym, &sh);

	return scn && sh.sh_link == dynsym ? elf_getdata(scn, NULL) : NULL;
}

/* Defined functions only; in .dynsym, hidden (non-default) versions are
 * skipped so that a name means what the dynamic linker binds it to. */
static int load_table(struct elf_object *o, Elf *elf, Elf64_Word type, uint8_t table)
{
	GElf_Shdr sh;
	Elf_Scn *scn = section_of_type(elf, type, &sh);
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	Elf_Data *versym = scn && type == SHT_DYNSYM ? versym_of(elf, elf_ndxscn(scn)) : NULL;
	size_t n = d && sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;

	for (size_t i = 1; i < n; i++) {
		GElf_Versym ver = 0;
		const char *name;
		GElf_Sym s;
		int kind;

		if (!gelf_getsym(d, i, &s) || s.st_shndx == SHN_UNDEF)
			continue;
		kind = GELF_ST_TYPE(s.st_info);
		if (kind != STT_FUNC && kind != STT_GNU_IFUNC)
			continue;
		if (versym && gelf_getversym(versym, i, &ver) && (ver & VERSYM_HIDDEN))
			continue;
		name = elf_strptr(elf, sh.sh_link, s.st_name);
		if (name && *name && push_symbol(o, elf, &s, name, table) < 0)
			return -ENOMEM;
	}
	return 0;
}

static bool has_dwarf(Elf *elf)
{
	return elf && elf_section_named(elf, ".debug_info");
}

/* What the object lacks, which a debug file must supply to be adopted. */
struct debug_need {
	struct elf_object *o;
	bool symtab, dwarf;
};

/* A candidate counts only when it provably belongs to this object (same
 * build-id, or for a debuglink the CRC32 of the whole file) and supplies
 * something the object lacks. Returns 1 when adopted as o->debug, 0 when
 * not, -ENOMEM. */
static int try_debug_file(const struct debug_candidate *c, void *arg)
{
	struct debug_need *need = arg;
	struct image img = { 0 };
	GElf_Shdr sh;
	char *id = NULL;
	bool match;
	int r;

	r = image_open(c->dir_fd, c->path, &img);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	if (c->crc) {
		match = crc32_z(0, img.data, img.size) == *c->crc;
	} else {
		r = read_build_id(img.elf, &id);
		if (r < 0)
			goto out;
		match = id && need->o->build_id && !strcmp(id, need->o->build_id);
	}
	r = 0;
	if (match && ((need->symtab && section_of_type(img.elf, SHT_SYMTAB, &sh)) ||
		      (need->dwarf && has_dwarf(img.elf)))) {
		need->o->debug = img;
		img = (struct image){ 0 };
		r = 1;
	}
out:
	free(id);
	image_close(&img);
	return r;
}

/* How aliases of one address rank, best first: exported (.dynsym) names,
 * then fewer leading underscores, then global over weak over local binding,
 * then the shorter name, then alphabetical order. Underscores come before
 * binding because glibc exports the public name weak and the internal one
 * global (calloc and __libc_calloc, fork and __fork); so libc's malloc beats
 * __libc_malloc and __GI___libc_malloc. Returns > 0 when a beats b. */
static int sym_better(const struct sym *a, const struct sym *b)
{
	size_t ua = strspn(a->name, "_"), ub = strspn(b->name, "_");
	size_t la, lb;

	if (a->table != b->table)
		return a->table == ELF_SYMTAB_DYNAMIC ? 1 : -1;
	if (ua != ub)
		return ua < ub ? 1 : -1;
	if (a->bind != b->bind)
		return a->bind > b->bind ? 1 : -1;
	la = strlen(a->name);
	lb = strlen(b->name);
	if (la != lb)
		return la < lb ? 1 : -1;
	return strcmp(b->name, a->name);
}

/* By address; within one address the best alias last, where the backward
 * scan of elf_object__symbol_at meets it first. */
static int cmp_sym(const void *pa, const void *pb)
{
	const struct sym *a = pa, *b = pb;

	if (a->vaddr != b->vaddr)
		return a->vaddr < b->vaddr ? -1 : 1;
	return sym_better(a, b);
}

static void sort_symbols(struct elf_object *o)
{
	uint64_t cover = 0;

	if (!o->nsyms)
		return;
	qsort(o->syms, o->nsyms, sizeof(*o->syms), cmp_sym);
	for (size_t i = 0; i < o->nsyms; i++) {
		struct sym *s = &o->syms[i];

		if (s->size && s->vaddr + s->size > cover)
			cover = s->vaddr + s->size;
		s->cover = cover;
	}
}

/* .symtab from the object when it has one, else from its debug file. A
 * debug file is looked for when either .symtab or DWARF is missing: an
 * object stripped with --strip-debug keeps its symbols but needs the debug
 * file for lines. */
static int load_symbols(struct elf_object *o, int dir_fd, const char *path,
			const struct debug_search *search)
{
	struct debug_need need = { .o = o };
	GElf_Shdr sh;
	Elf *symtab_elf = o->file.elf;
	int r;

	r = load_table(o, o->file.elf, SHT_DYNSYM, ELF_SYMTAB_DYNAMIC);
	if (r < 0)
		return r;
	need.symtab = !section_of_type(o->file.elf, SHT_SYMTAB, &sh);
	need.dwarf = !has_dwarf(o->file.elf);
	if (need.symtab || need.dwarf) {
		r = debug_file_search(o->file.elf, dir_fd, path, o->build_id, search,
				      try_debug_file, &need);
		if (r < 0)
			return r;
		if (r && need.symtab)
			symtab_elf = o->debug.elf;
	}
	r = load_table(o, symtab_elf, SHT_SYMTAB, ELF_SYMTAB_STATIC);
	if (r < 0)
		return r;
	sort_symbols(o);
	return 0;
}

static int open_object(int dir_fd, const char *path, bool symbols,
		       const struct debug_search *search, struct elf_object **out)
{
	struct elf_object *o;
	int r;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOEXEC;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	r = image_open(dir_fd, path, &o->file);
	if (r < 0)
		goto fail;
	r = load_segments(o);
	if (r < 0)
		goto fail;
	r = read_build_id(o->file.elf, &o->build_id);
	if (r < 0)
		goto fail;
	if (symbols) {
		r = load_symbols(o, dir_fd, path, search);
		if (r < 0)
			goto fail;
	}
	*out = o;
	return 0;
fail:
	elf_object__free(o);
	return r;
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

/* The copy goes into an anonymous mapping so that image_close, which
 * unmaps, frees it like any file's. There is no file to find a separate
 * debug file by: only the image's own tables are read. */
int elf_object__open_memory(const void *data, size_t len, struct elf_object **out)
{
	struct elf_object *o;
	void *copy;
	int r;

	if (elf_version(EV_CURRENT) == EV_NONE || !len)
		return -ENOEXEC;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	copy = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (copy == MAP_FAILED) {
		free(o);
		return -ENOMEM;
	}
	memcpy(copy, data, len);
	o->file = (struct image){ .data = copy, .size = len, .elf = elf_memory(copy, len) };
	r = -ENOEXEC;
	if (!o->file.elf || elf_kind(o->file.elf) != ELF_K_ELF)
		goto fail;
	r = load_segments(o);
	if (r == 0)
		r = read_build_id(o->file.elf, &o->build_id);
	if (r == 0)
		r = load_table(o, o->file.elf, SHT_DYNSYM, ELF_SYMTAB_DYNAMIC);
	if (r == 0)
		r = load_table(o, o->file.elf, SHT_SYMTAB, ELF_SYMTAB_STATIC);
	if (r < 0)
		goto fail;
	sort_symbols(o);
	*out = o;
	return 0;
fail:
	elf_object__free(o);
	return r;
}

void elf_object__free(struct elf_object *o)
{
	if (!o)
		return;
	image_close(&o->debug);
	image_close(&o->file);
	free(o->segs);
	free(o->syms);
	free(o->build_id);
	free(o);
}

static void fill_symbol(const struct sym *s, struct elf_symbol *out)
{
	*out = (struct elf_symbol){ .name = s->name, .vaddr = s->vaddr, .size = s->size };
}

/* A few names are looked up per object (malloc, free, ...), so a linear
 * scan beats keeping a second, name-sorted index. Where one name is defined
 * more than once, as static functions can be, the global one wins. */
int elf_object__find_function(const struct elf_object *o, const char *name,
			      enum elf_symtab where, struct elf_symbol *out)
{
	const struct sym *best = NULL;

	for (size_t i = 0; i < o->nsyms; i++) {
		const struct sym *s = &o->syms[i];

		if ((s->table & where) && !strcmp(s->name, name) && (!best || s->bind > best->bind))
			best = s;
	}
	if (!best)
		return -ENOENT;
	fill_symbol(best, out);
	return 0;
}

/* A defined data symbol called name in elf's table of the given type. */
static int scan_variable(Elf *elf, Elf64_Word type, const char *name, GElf_Sym *out,
			 const char **out_name)
{
	GElf_Shdr sh;
	Elf_Scn *scn = elf ? section_of_type(elf, type, &sh) : NULL;
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	size_t n = d && sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;

	for (size_t i = 1; i < n; i++) {
		const char *s_name;
		GElf_Sym s;
		int kind;

		if (!gelf_getsym(d, i, &s) || s.st_shndx == SHN_UNDEF)
			continue;
		kind = GELF_ST_TYPE(s.st_info);
		if (kind != STT_OBJECT && kind != STT_TLS)
			continue;
		s_name = elf_strptr(elf, sh.sh_link, s.st_name);
		if (s_name && !strcmp(s_name, name)) {
			*out = s;
			*out_name = s_name;
			return 0;
		}
	}
	return -ENOENT;
}

/* Variables are looked up once per spec, so they are not indexed: the
 * tables are scanned on demand. */
int elf_object__find_variable(const struct elf_object *o, const char *name,
			      enum elf_symtab where, struct elf_symbol *out)
{
	const char *found = NULL;
	GElf_Sym s;
	int r = -ENOENT;

	if (where & ELF_SYMTAB_DYNAMIC)
		r = scan_variable(o->file.elf, SHT_DYNSYM, name, &s, &found);
	if (r && (where & ELF_SYMTAB_STATIC))
		r = scan_variable(o->file.elf, SHT_SYMTAB, name, &s, &found);
	if (r && (where & ELF_SYMTAB_STATIC))
		r = scan_variable(o->debug.elf, SHT_SYMTAB, name, &s, &found);
	if (r < 0)
		return r;
	if (GELF_ST_TYPE(s.st_info) == STT_TLS)
		return -EOPNOTSUPP;
	*out = (struct elf_symbol){ .name = found, .vaddr = s.st_value, .size = s.st_size };
	return 0;
}

static bool sym_holds(const struct sym *s, uint64_t addr, uint64_t nearest)
{
	if (s->size)
		return addr - s->vaddr < s->size;
	return s->vaddr == nearest && addr < s->limit;
}

/* Walk back from the last symbol at or below vaddr: the first one that holds
 * it is the innermost and, among aliases, the best name. The walk ends once
 * no sized symbol further back reaches vaddr (cover). */
int elf_object__symbol_at(const struct elf_object *o, uint64_t vaddr, struct elf_symbol *out)
{
	size_t lo = 0, hi = o->nsyms;
	uint64_t nearest;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->syms[mid].vaddr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -ENOENT;
	nearest = o->syms[lo - 1].vaddr;
	for (size_t i = lo; i > 0; i--) {
		const struct sym *s = &o->syms[i - 1];

		if (s->vaddr != nearest && s->cover <= vaddr)
			break;
		if (sym_holds(s, vaddr, nearest)) {
			fill_symbol(s, out);
			return 0;
		}
	}
	return -ENOENT;
}

static const struct segment *segment_by_vaddr(const struct elf_object *o, uint64_t vaddr)
{
	for (size_t i = 0; i < o->nsegs; i++)
		if (vaddr - o->segs[i].vaddr < o->segs[i].filesz)
			return &o->segs[i];
	return NULL;
}

int elf_object__vaddr_to_offset(const struct elf_object *o, uint64_t vaddr, uint64_t *offset)
{
	const struct segment *s = segment_by_vaddr(o, vaddr);

	if (!s)
		return -ERANGE;
	*offset = vaddr - s->vaddr + s->offset;
	return 0;
}

int elf_object__offset_to_vaddr(const struct elf_object *o, uint64_t offset, uint64_t *vaddr)
{
	for (size_t i = 0; i < o->nsegs; i++) {
		const struct segment *s = &o->segs[i];

		if (offset - s->offset < s->filesz) {
			*vaddr = offset - s->offset + s->vaddr;
			return 0;
		}
	}
	return -ERANGE;
}

long elf_object__read(const struct elf_object *o, uint64_t vaddr, void *buf, size_t len)
{
	const struct segment *s = segment_by_vaddr(o, vaddr);
	uint64_t offset, n;

	if (!s)
		return -ERANGE;
	offset = vaddr - s->vaddr + s->offset;
	if (offset >= o->file.size)
		return -ERANGE;
	n = s->vaddr + s->filesz - vaddr;
	if (n > o->file.size - offset)
		n = o->file.size - offset;
	if (n > len)
		n = len;
	memcpy(buf, (char *)o->file.data + offset, n);
	return n;
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
	return has_dwarf(o->debug.elf) ? o->debug.elf : o->file.elf;
}

bool elf_object__has_dwarf(const struct elf_object *o)
{
	return has_dwarf(elf_object__dwarf_elf(o));
}

bool elf_object__is_dynamic(const struct elf_object *o)
{
	return o->dynamic;
}

uint64_t elf_object__dynamic_vaddr(const struct elf_object *o)
{
	return o->dynamic_vaddr;
}
