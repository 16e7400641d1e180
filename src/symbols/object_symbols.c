/* object_symbols.c - an address's frames: the ELF symbol gives the
 * function and offset, DWARF (when the object or its debug file has it)
 * the source lines and the inlined calls at the address. The outermost
 * frame keeps the ELF symbol's name, which exists with DWARF or without.
 *
 * The cache is an open-addressing table keyed by address, kept at most
 * half full; each entry owns its frames and the demangled names in them,
 * so the strings handed out live as long as the object_symbols.
 */
#include "symbols/object_symbols.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/debug_info.h"
#include "symbols/demangler.h"

struct entry {
	uint64_t vaddr;
	bool used;
	unsigned int n;
	struct frame_name *frames;
	char **owned;          /* demangled names, n of them at most */
};

struct object_symbols {
	const struct elf_object *obj;
	bool demangle;
	struct debug_info *dwarf;
	bool dwarf_tried;      /* a missing DWARF is looked for once */
	struct entry *cache;
	size_t used, cap;      /* cap: a power of two */
};

int object_symbols__new(const struct elf_object *obj, bool demangle,
			struct object_symbols **out)
{
	struct object_symbols *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	o->obj = obj;
	o->demangle = demangle;
	*out = o;
	return 0;
}

static void entry_clear(struct entry *e)
{
	for (unsigned int i = 0; e->owned && i < e->n; i++)
		free(e->owned[i]);
	free(e->owned);
	free(e->frames);
}

void object_symbols__free(struct object_symbols *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->cap; i++)
		if (o->cache[i].used)
			entry_clear(&o->cache[i]);
	free(o->cache);
	debug_info__free(o->dwarf);
	free(o);
}

static struct entry *slot_of(struct entry *table, size_t cap, uint64_t vaddr)
{
	size_t i = (size_t)((vaddr * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);

	while (table[i].used && table[i].vaddr != vaddr)
		i = (i + 1) & (cap - 1);
	return &table[i];
}

static int grow(struct object_symbols *o)
{
	size_t cap = o->cap ? o->cap * 2 : 64;
	struct entry *t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < o->cap; i++)
		if (o->cache[i].used)
			*slot_of(t, cap, o->cache[i].vaddr) = o->cache[i];
	free(o->cache);
	o->cache = t;
	o->cap = cap;
	return 0;
}

/* name demangled into e's keeping, or name itself; -ENOMEM. */
static int readable(struct object_symbols *o, struct entry *e, unsigned int i, const char *name,
		    const char **out)
{
	char *d = o->demangle && name ? demangle(name) : NULL;

	*out = name;
	if (!d)
		return 0;
	if (!e->owned) {
		e->owned = calloc(OBJECT_SYMBOLS_MAX_CHAIN, sizeof(*e->owned));
		if (!e->owned) {
			free(d);
			return -ENOMEM;
		}
	}
	e->owned[i] = d;
	*out = d;
	return 0;
}

static struct debug_info *dwarf_of(struct object_symbols *o)
{
	if (!o->dwarf_tried) {
		o->dwarf_tried = true;
		if (debug_info__open(elf_object__dwarf_elf(o->obj), &o->dwarf) < 0)
			o->dwarf = NULL;
	}
	return o->dwarf;
}

/* Fill e for vaddr: DWARF's chain with the ELF symbol on the outermost
 * frame, or the ELF symbol alone. */
static int fill(struct object_symbols *o, struct entry *e, uint64_t vaddr)
{
	struct source_frame src[OBJECT_SYMBOLS_MAX_CHAIN];
	struct debug_info *dwarf = dwarf_of(o);
	struct elf_symbol sym = { 0 };
	bool have_sym = elf_object__symbol_at(o->obj, vaddr - 1, &sym) == 0;
	int n = dwarf ? debug_info__lookup(dwarf, vaddr - 1, src, OBJECT_SYMBOLS_MAX_CHAIN) : 0;
	int r = 0;

	if (n < 0)
		return n;
	if (n == 0 && !have_sym)
		return 0;
	if (n == 0)
		src[n++] = (struct source_frame){ 0 };
	e->frames = calloc((size_t)n, sizeof(*e->frames));
	if (!e->frames)
		return -ENOMEM;
	for (int i = 0; i < n && r == 0; i++) {
		struct frame_name *f = &e->frames[i];
		bool outer = i == n - 1;

		*f = (struct frame_name){ .file = src[i].file, .line = src[i].line,
					  .inlined = !outer };
		f->mangled = outer && have_sym ? sym.name : src[i].function;
		if (outer && have_sym)
			f->offset = vaddr - sym.vaddr;
		r = readable(o, e, (unsigned int)i, f->mangled, &f->function);
	}
	e->n = (unsigned int)n;
	return r;
}

int object_symbols__lookup(struct object_symbols *o, uint64_t vaddr,
			   const struct frame_name **out)
{
	struct entry *e;
	int r;

	if (2 * (o->used + 1) > o->cap && grow(o) < 0)
		return -ENOMEM;
	e = slot_of(o->cache, o->cap, vaddr);
	if (!e->used) {
		struct entry fresh = { .vaddr = vaddr, .used = true };

		r = fill(o, &fresh, vaddr);
		if (r < 0) {
			entry_clear(&fresh);
			return r;
		}
		*e = fresh;
		o->used++;
	}
	*out = e->frames;
	return (int)e->n;
}
