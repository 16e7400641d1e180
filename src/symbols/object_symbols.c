/* object_symbols.c - an address's frames: the ELF symbol gives the
 * function and offset, DWARF (when the object or its debug file has it)
 * the source lines and the inlined calls at the address. The outermost
 * frame keeps the ELF symbol's name, which exists with DWARF or without.
 *
 * The cache is an array of entries, found through a key_index of their
 * addresses; each entry owns its frames and the demangled names in them,
 * in allocations of their own that stay put when the array grows, so the
 * frames and strings handed out live as long as the object_symbols.
 */
#include "symbols/object_symbols.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/debug_info.h"
#include "symbols/demangler.h"
#include "util/array.h"
#include "util/key_index.h"

struct entry {
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
	size_t n, cap;
	struct key_index index; /* address -> its entry's place in cache */
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
	for (size_t i = 0; i < o->n; i++)
		entry_clear(&o->cache[i]);
	free(o->cache);
	key_index__clear(&o->index);
	debug_info__free(o->dwarf);
	free(o);
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
	size_t i = key_index__find(&o->index, vaddr);
	struct entry fresh = { 0 };
	int r;

	if (i == KEY_INDEX_NONE) {
		if (array_grow((void **)&o->cache, &o->cap, o->n, sizeof(*o->cache), 64) < 0 ||
		    key_index__reserve(&o->index, o->n + 1) < 0)
			return -ENOMEM;
		r = fill(o, &fresh, vaddr);
		if (r < 0) {
			entry_clear(&fresh);
			return r;
		}
		key_index__add(&o->index, vaddr, o->n); /* reserved: cannot fail */
		i = o->n++;
		o->cache[i] = fresh;
	}
	*out = o->cache[i].frames;
	return (int)o->cache[i].n;
}
