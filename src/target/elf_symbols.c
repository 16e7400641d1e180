/* elf_symbols.c - the symbols of an elf_object. Function symbols from
 * .dynsym and .symtab (or the .symtab of the separate debug file) go into
 * one array sorted by address, for lookups by address; among aliases the
 * best name is chosen by sym_better() below. Names point into the images'
 * string tables, which live as long as the object. */
#include "target/elf_symbols.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target/elf_object_internal.h"
#include "util/array.h"

#define VERSYM_HIDDEN 0x8000

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

	if (array_grow((void **)&o->syms, &o->syms_cap, o->nsyms, sizeof(*o->syms), 256) < 0)
		return -ENOMEM;
	o->syms[o->nsyms++] = (struct elf_sym){
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
	Elf_Scn *scn = elf_section_of_type(elf, SHT_GNU_versym, &sh);

	return scn && sh.sh_link == dynsym ? elf_getdata(scn, NULL) : NULL;
}

/* Defined functions only; in .dynsym, hidden (non-default) versions are
 * skipped so that a name means what the dynamic linker binds it to. */
static int load_table(struct elf_object *o, Elf *elf, Elf64_Word type, uint8_t table)
{
	GElf_Shdr sh;
	Elf_Scn *scn = elf_section_of_type(elf, type, &sh);
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

/* How aliases of one address rank, best first: exported (.dynsym) names,
 * then fewer leading underscores, then global over weak over local binding,
 * then the shorter name, then alphabetical order. Underscores come before
 * binding because glibc exports the public name weak and the internal one
 * global (calloc and __libc_calloc, fork and __fork); so libc's malloc beats
 * __libc_malloc and __GI___libc_malloc. Returns > 0 when a beats b. */
static int sym_better(const struct elf_sym *a, const struct elf_sym *b)
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
	const struct elf_sym *a = pa, *b = pb;

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
		struct elf_sym *s = &o->syms[i];

		if (s->size && s->vaddr + s->size > cover)
			cover = s->vaddr + s->size;
		s->cover = cover;
	}
}

/* The first of the object, its debug file and its MiniDebugInfo that has
 * a .symtab, or NULL. An object stripped with --strip-debug keeps its
 * .symtab, and the debug file adopted for its DWARF is not needed for
 * names. */
static Elf *symtab_source(const struct elf_object *o)
{
	Elf *const sources[] = { o->file.elf, o->debug.elf, o->mini.elf };
	GElf_Shdr sh;

	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (sources[i] && elf_section_of_type(sources[i], SHT_SYMTAB, &sh))
			return sources[i];
	return NULL;
}

int elf_symbols_load(struct elf_object *o)
{
	Elf *symtab_elf = symtab_source(o);
	int r;

	r = load_table(o, o->file.elf, SHT_DYNSYM, ELF_SYMTAB_DYNAMIC);
	if (r == 0 && symtab_elf)
		r = load_table(o, symtab_elf, SHT_SYMTAB, ELF_SYMTAB_STATIC);
	if (r == 0)
		sort_symbols(o);
	return r;
}

static void fill_symbol(const struct elf_sym *s, struct elf_symbol *out)
{
	*out = (struct elf_symbol){ .name = s->name, .vaddr = s->vaddr, .size = s->size };
}

/* A few names are looked up per object (malloc, free, ...), so a linear
 * scan beats keeping a second, name-sorted index. Where one name is defined
 * more than once, as static functions can be, the global one wins. */
int elf_object__find_function(const struct elf_object *o, const char *name,
			      enum elf_symtab where, struct elf_symbol *out)
{
	const struct elf_sym *best = NULL;

	for (size_t i = 0; i < o->nsyms; i++) {
		const struct elf_sym *s = &o->syms[i];

		if ((s->table & where) && !strcmp(s->name, name) && (!best || s->bind > best->bind))
			best = s;
	}
	if (!best)
		return -ENOENT;
	fill_symbol(best, out);
	return 0;
}

/* A symbol called name in elf's table of the given type: a defined data
 * symbol, or when undefined, one the object imports. */
static int scan_table(Elf *elf, Elf64_Word type, const char *name, bool undefined,
		      GElf_Sym *out, const char **out_name)
{
	GElf_Shdr sh;
	Elf_Scn *scn = elf ? elf_section_of_type(elf, type, &sh) : NULL;
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	size_t n = d && sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;

	for (size_t i = 1; i < n; i++) {
		const char *s_name;
		GElf_Sym s;
		int kind;

		if (!gelf_getsym(d, i, &s) || (s.st_shndx == SHN_UNDEF) != undefined)
			continue;
		kind = GELF_ST_TYPE(s.st_info);
		if (!undefined && kind != STT_OBJECT && kind != STT_TLS)
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
		r = scan_table(o->file.elf, SHT_DYNSYM, name, false, &s, &found);
	if (r && (where & ELF_SYMTAB_STATIC))
		r = scan_table(symtab_source(o), SHT_SYMTAB, name, false, &s, &found);
	if (r < 0)
		return r;
	if (GELF_ST_TYPE(s.st_info) == STT_TLS)
		return -EOPNOTSUPP;
	*out = (struct elf_symbol){ .name = found, .vaddr = s.st_value, .size = s.st_size };
	return 0;
}

static bool sym_holds(const struct elf_sym *s, uint64_t addr, uint64_t nearest)
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
		const struct elf_sym *s = &o->syms[i - 1];

		if (s->vaddr != nearest && s->cover <= vaddr)
			break;
		if (sym_holds(s, vaddr, nearest)) {
			fill_symbol(s, out);
			return 0;
		}
	}
	return -ENOENT;
}

bool elf_object__imports(const struct elf_object *o, const char *name)
{
	const char *found;
	GElf_Sym s;

	return scan_table(o->file.elf, SHT_DYNSYM, name, true, &s, &found) == 0;
}
