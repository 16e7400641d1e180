/* debug_info.c - lines and inline chains with libdw.
 *
 * dwarf_addrdie finds the compilation unit of an address (through
 * .debug_aranges, or the units' ranges), dwarf_getsrc_die its line, and
 * dwarf_getscopes the DIEs that contain it, innermost first: lexical
 * blocks, DW_TAG_inlined_subroutine for each inlined call, and the
 * DW_TAG_subprogram. An inlined call's DW_AT_call_file/DW_AT_call_line say
 * where, in the function around it, the call was made: that is the line of
 * the next frame out.
 */
#include "debug_info.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdlib.h>

struct debug_info {
	Dwarf *dwarf;
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
	dwarf_end(d->dwarf);
	free(d);
}

static const char *string_attr(Dwarf_Die *die, unsigned int name)
{
	Dwarf_Attribute attr;

	return dwarf_attr_integrate(die, name, &attr) ? dwarf_formstring(&attr) : NULL;
}

/* C++ and Rust DIEs carry the mangled name, which demangles to the full
 * qualified name with parameters; C has only DW_AT_name. */
static const char *function_name(Dwarf_Die *die)
{
	const char *name = string_attr(die, DW_AT_linkage_name);

	if (!name)
		name = string_attr(die, DW_AT_MIPS_linkage_name);
	return name ? name : string_attr(die, DW_AT_name);
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

int debug_info__lookup(struct debug_info *d, uint64_t pc, struct source_frame *out, size_t max)
{
	struct source_frame next = { 0 };
	Dwarf_Die cu, *scopes = NULL;
	int nscopes;
	size_t n = 0;

	if (!max || !dwarf_addrdie(d->dwarf, pc, &cu))
		return 0;
	nscopes = dwarf_getscopes(&cu, pc, &scopes);
	pc_line(&cu, pc, &next);
	for (int i = 0; i < nscopes; i++) {
		struct source_frame *f;
		Dwarf_Die *more;

		if (!is_call(&scopes[i]))
			continue;
		/* Past max, the middle of the chain goes: the last slot ends
		 * with the outermost function, whose symbol the address has. */
		f = &out[n < max ? n : max - 1];
		*f = next;
		f->function = function_name(&scopes[i]);
		f->inlined = dwarf_tag(&scopes[i]) == DW_TAG_inlined_subroutine;
		if (n < max)
			n++;
		if (!f->inlined)
			break;
		next = (struct source_frame){ 0 };
		call_site(&cu, &scopes[i], &next);
		/* Past an inlined call, dwarf_getscopes goes on with the scopes
		 * of the inlined function's definition; the call's own
		 * parents, the function it was inlined into, start over. */
		nscopes = dwarf_getscopes_die(&scopes[i], &more);
		free(scopes);
		scopes = more;
		i = 0;
	}
	free(scopes);
	return (int)n;
}
