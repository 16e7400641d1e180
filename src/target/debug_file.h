/* debug_file.h - where an object's separate debug file may be, in the order
 * the places are tried: the object's .gnu_debuglink (next to the object, in
 * .debug/ beside it, under each debug directory mirroring the object's
 * directory), then its build-id (DIR/.build-id/xx/rest.debug under each
 * debug directory), then a file fetched by build-id (debuginfod). The debug
 * directories are the caller's (--debug-dir) followed by /usr/lib/debug.
 * Which candidate fits is the caller's decision. Library code: returns
 * -errno and never logs. */
#ifndef DEBUG_FILE_H
#define DEBUG_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <libelf.h>

/* What to search besides the object's own directory and /usr/lib/debug
 * (which are resolved under the target's root). Paths here are the
 * tracer's own, opened as they are. All fields may be 0/NULL. */
struct debug_search {
	const char *const *dirs; /* searched like /usr/lib/debug, before it, in order */
	size_t n_dirs;
	const char *fetched;     /* a debug file fetched by build-id: tried last */
};

/* One place to try. */
struct debug_candidate {
	int dir_fd;          /* the target's root for its own paths; AT_FDCWD for ours */
	const char *path;
	const uint32_t *crc; /* debuglink: the CRC32 the file must have; NULL: the
			      * build-id must match instead */
};

/* Returns 0 to go on to the next place, anything else to stop with it. */
typedef int (*debug_file_try_fn)(const struct debug_candidate *c, void *arg);

/* Offer the places for the object at path (resolved under dir_fd, as the
 * object was; elf is its handle, for its .gnu_debuglink; build_id may be
 * NULL) to try, in order, until it returns non-zero. Returns that value, or
 * 0 when every place was refused or none applies. */
int debug_file_search(Elf *elf, int dir_fd, const char *path, const char *build_id,
		      const struct debug_search *search, debug_file_try_fn try, void *arg);

#endif
