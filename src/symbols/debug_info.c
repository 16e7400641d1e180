/* debug_info.c - lines and inline chains with libdw.
 *
 * dwarf_addrdie finds the compilation unit of an address (through
 * .debug_aranges, or the units' ranges) and dwarf_getsrc_die its line. The
 * DIEs around the address are found by walking the unit's tree down to it:
 * the subprogram, DW_TAG_inlined_subroutine for each inlined call inside
 * it, and the lexical blocks between them. libdw's dwarf_getscopes is not
 * used: it never looks inside a DIE without addresses, and rustc (LLVM)
 * puts every function inside the DW_TAG_namespace of its module, where
 * dwarf_getscopes finds nothing. An inlined call's DW_AT_call_file and
 * DW_AT_call_line say where, in the function around it, the call was
 * made: that is the line of the next frame out.
 *
 * A function is named by its linkage (mangled) name. A C++ function with
 * internal linkage has none in DWARF (g++ gives static and inline-only
 * functions a bare DW_AT_name): its name is qualified with the
 * namespaces and classes around its declaration, as gdb shows it, and
 * kept by the debug_info.
 */
#include "symbols/debug_info.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct debug_info {
	Dwarf *dwarf;
	char **names; /* qualified names handed out */
	size_t nnames, names_cap;
};

/* One DIE on the way from the unit down to pc, linked to the one around it. */
struct scope {
	Dwarf_Die die;
	struct scope *outer;
};

/* A lookup in progress. */
struct walk {
	struct debug_info *d;
	Dwarf_Die *cu;
	uint64_t pc;
	struct source_frame *out;
	size_t max;
	int n; /* frames filled, or -ENOMEM */
};

int debug_info__open(Elf *elf, struct debug_info **out)
{
	struct debug_info *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->dwarf = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!d->dwarf) {
		free(d);
		return -ENODATA;
	}
	*out = d;
	return 0;
}

void debug_info__free(struct debug_info *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nnames; i++)
		free(d->names[i]);
	free(d->names);
	dwarf_end(d->dwarf);
	free(d);
}

/* Keeps name, which d frees; -ENOMEM (name is freed then). */
static int keep_name(struct debug_info *d, char *name)
{
	if (d->nnames == d->names_cap) {
		size_t cap = d->names_cap ? d->names_cap * 2 : 16;
		char **t = realloc(d->names, cap * sizeof(*t));

		if (!t) {
			free(name);
			return -ENOMEM;
		}
		d->names = t;
		d->names_cap = cap;
	}
	d->names[d->nnames++] = name;
	return 0;
}

static const char *string_attr(Dwarf_Die *die, unsigned int name)
{
	Dwarf_Attribute attr;

	return dwarf_attr_integrate(die, name, &attr) ? dwarf_formstring(&attr) : NULL;
}

/* The DIE that declares die's function: through the abstract origin of
 * an inlined call or concrete instance, and the specification of an
 * out-of-line definition. Bounded: broken DWARF may loop. */
static void declaration_of(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute attr;
	Dwarf_Die next;

	*out = *die;
	for (int i = 0; i < 8; i++) {
		if (!dwarf_attr(out, DW_AT_abstract_origin, &attr) &&
		    !dwarf_attr(out, DW_AT_specification, &attr))
			return;
		/* A failed dwarf_formref_die may leave its output half-written. */
		if (!dwarf_formref_die(&attr, &next))
			return;
		*out = next;
	}
}

static bool names_scope(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	return tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
	       tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

static const char *scope_name(Dwarf_Die *die)
{
	const char *name = dwarf_diename(die);

	return name ? name : "(anonymous namespace)";
}

/* "outer::inner::name" from scopes[1..n-1], which dwarf_getscopes_die
 * lists innermost first; NULL on ENOMEM. */
static char *join_scopes(Dwarf_Die *scopes, int n, const char *name)
{
	size_t len = strlen(name) + 1;
	int outer = 1;
	char *s, *p;

	while (outer < n && names_scope(&scopes[outer]))
		len += strlen(scope_name(&scopes[outer++])) + 2;
	s = malloc(len);
	if (!s)
		return NULL;
	p = s;
	for (int i = outer - 1; i >= 1; i--)
		p = stpcpy(stpcpy(p, scope_name(&scopes[i])), "::");
	strcpy(p, name);
	return s;
}

/* *out qualified with the scopes around decl, kept in d; unchanged
 * when there are none. Names are not shared: object_symbols asks once
 * per address. Returns 0 or -ENOMEM. */
static int qualify(struct debug_info *d, Dwarf_Die *decl, const char **out)
{
	Dwarf_Die *scopes = NULL;
	int n = dwarf_getscopes_die(decl, &scopes);
	char *name;

	if (n <= 1 || !names_scope(&scopes[1])) {
		free(scopes);
		return 0;
	}
	name = join_scopes(scopes, n, *out);
	free(scopes);
	if (!name || keep_name(d, name) < 0)
		return -ENOMEM;
	*out = name;
	return 0;
}

static bool has_scopes(Dwarf_Die *cu)
{
	switch (dwarf_srclang(cu)) {
	case DW_LANG_C_plus_plus:
	case DW_LANG_C_plus_plus_03:
	case DW_LANG_C_plus_plus_11:
	case DW_LANG_C_plus_plus_14:
	case DW_LANG_Rust:
		return true;
	default:
		return false;
	}
}

/* C++ and Rust DIEs mostly carry the mangled name, which demangles to the
 * full qualified name with parameters; without it (C, or C++ internal
 * linkage) DW_AT_name, qualified in C++ and Rust. Returns 0 (*out NULL:
 * no name) or -ENOMEM. */
static int function_name(struct walk *w, Dwarf_Die *die, const char **out)
{
	const char *name = string_attr(die, DW_AT_linkage_name);
	Dwarf_Die decl;

	if (!name)
		name = string_attr(die, DW_AT_MIPS_linkage_name);
	*out = name ? name : string_attr(die, DW_AT_name);
	if (name || !*out || !has_scopes(w->cu))
		return 0;
	declaration_of(die, &decl);
	return qualify(w->d, &decl, out);
}

/* Where the inlined call at die was made: file and line in its caller. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *die, struct source_frame *out)
{
	Dwarf_Attribute attr;
	Dwarf_Files *files;
	Dwarf_Word file, line;
	size_t n;

	if (dwarf_attr(die, DW_AT_call_line, &attr) && !dwarf_formudata(&attr, &line))
		out->line = (unsigned int)line;
	if (dwarf_attr(die, DW_AT_call_file, &attr) && !dwarf_formudata(&attr, &file) &&
	    !dwarf_getsrcfiles(cu, &files, &n) && file < n)
		out->file = dwarf_filesrc(files, file, NULL, NULL);
}

static bool is_call(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
}

/* pc's own file and line. */
static void pc_line(Dwarf_Die *cu, uint64_t pc, struct source_frame *out)
{
	Dwarf_Line *line = dwarf_getsrc_die(cu, pc);
	int line_no;

	if (!line)
		return;
	out->file = dwarf_linesrc(line, NULL, NULL);
	if (!dwarf_lineno(line, &line_no) && line_no > 0)
		out->line = (unsigned int)line_no;
}

/* The frames from the innermost call around pc out to its subprogram. */
static void fill_chain(struct walk *w, struct scope *inner)
{
	struct source_frame next = { 0 };
	size_t n = 0;

	pc_line(w->cu, w->pc, &next);
	for (struct scope *s = inner; s; s = s->outer) {
		struct source_frame *f;

		if (!is_call(&s->die))
			continue;
		/* Past max, the middle of the chain goes: the last slot ends
		 * with the outermost function, whose symbol the address has. */
		f = &w->out[n < w->max ? n : w->max - 1];
		*f = next;
		f->inlined = dwarf_tag(&s->die) == DW_TAG_inlined_subroutine;
		if (function_name(w, &s->die, &f->function) < 0) {
			w->n = -ENOMEM;
			return;
		}
		if (n < w->max)
			n++;
		if (!f->inlined)
			break;
		next = (struct source_frame){ 0 };
		call_site(w->cu, &s->die, &next);
	}
	w->n = (int)n;
}

/* DIEs with code, which hold pc and the calls around it or do not. */
static bool has_code(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_lexical_block || tag == DW_TAG_try_block ||
	       tag == DW_TAG_catch_block;
}

/* DIEs without addresses that hold functions: rustc puts each function
 * in its module's namespace, C++ may define methods in their class. */
static bool holds_code(int tag)
{
	return tag == DW_TAG_namespace || tag == DW_TAG_module || tag == DW_TAG_class_type ||
	       tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

/* Walks down from scope to the innermost DIE with code around pc and
 * fills w from there. Returns whether it was found. */
static bool find_innermost(struct walk *w, struct scope *scope)
{
	struct scope child = { .outer = scope };
	int r = dwarf_child(&scope->die, &child.die);

	for (; r == 0; r = dwarf_siblingof(&child.die, &child.die)) {
		int tag = dwarf_tag(&child.die);

		if (holds_code(tag) && find_innermost(w, &child))
			return true;
		if (has_code(tag) && dwarf_haspc(&child.die, w->pc) > 0) {
			if (!find_innermost(w, &child))
				fill_chain(w, &child);
			return true;
		}
	}
	return false;
}

int debug_info__lookup(struct debug_info *d, uint64_t pc, struct source_frame *out, size_t max)
{
	struct scope unit = { 0 };
	struct walk w = { .d = d, .cu = &unit.die, .pc = pc, .out = out, .max = max };

	if (!max || !dwarf_addrdie(d->dwarf, pc, &unit.die))
		return 0;
	find_innermost(&w, &unit);
	return w.n;
}
