/* debug_file.h - an object's separate debug file: where it may be, in the
 * order the places are tried, and which candidate is the one. The places:
 * the object's .gnu_debuglink (next to the object, in .debug/ beside it,
 * under each debug directory mirroring the object's directory), then its
 * build-id (DIR/.build-id/xx/rest.debug under each debug directory), then
 * a file fetched by build-id (debuginfod). The debug directories are the
 * caller's (--debug-dir) followed by /usr/lib/debug. The first candidate
 * that provably belongs to the object and supplies what it lacks is the
 * one. Library code: returns -errno and never logs. */
#ifndef DEBUG_FILE_H
#define DEBUG_FILE_H

#include <stddef.h>

#include <libelf.h>

struct elf_image;

/* What to search besides the object's own directory and /usr/lib/debug
 * (which are resolved under the target's root). Paths here are the
 * tracer's own, opened as they are. All fields may be 0/NULL. */
struct debug_search {
	const char *const *dirs; /* searched like /usr/lib/debug, before it, in order */
	size_t n_dirs;
	const char *fetched;     /* a debug file fetched by build-id: tried last */
};

/* The debug file of the object at path (resolved under dir_fd, as the
 * object was; elf is its handle, build_id its build-id or NULL), looked
 * for only when the object lacks .symtab or DWARF. A candidate is taken
 * when it belongs to the object (for a debuglink, the CRC32 of the whole
 * file is the one the debuglink records; otherwise its build-id is the
 * object's) and has what the object lacks. Returns 0 with the file in
 * *out (an empty image, elf_object_internal.h, filled only when one was
 * taken; the caller closes it), or -ENOMEM; candidates that cannot be
 * opened are passed over. */
int debug_file_find(Elf *elf, int dir_fd, const char *path, const char *build_id,
		    const struct debug_search *search, struct elf_image *out);

#endif
