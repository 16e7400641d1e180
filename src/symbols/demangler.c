/* demangler.c - libiberty's cplus_demangle in auto mode: it tries Rust first
 * (legacy names look like C++ ones but end in a 17h<hash> segment, v0
 * names start with _R), then the Itanium C++ ABI. */
#include "symbols/demangler.h"

#include <stddef.h>

#include <libiberty/demangle.h>

char *demangle(const char *name)
{
	/* Everything mangled starts with _Z or _R; most C names do not, and
	 * skip the demangler's work. */
	if (name[0] != '_' || (name[1] != 'Z' && name[1] != 'R'))
		return NULL;
	return cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
}
