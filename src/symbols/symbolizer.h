/* symbolizer.h - turn user-space addresses into frames: function (demangled)
 * and offset, source file and line, inlined calls, and module. Objects are
 * opened once and cached for the life of the symbolizer, keyed by their
 * device and inode, so every report and every target shares them. */
#ifndef SYMBOLIZER_H
#define SYMBOLIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target/proc_maps.h"

/* One frame of a symbolized stack. Strings are owned by the symbolizer and
 * stay valid until symbolizer__free. */
struct frame {
	uint64_t addr;
	const char *function; /* demangled; NULL when unknown */
	const char *mangled;  /* the symbol as the object spells it; NULL when unknown */
	uint64_t offset;      /* addr - start of function (0 when unknown or inlined) */
	const char *file;     /* source file from DWARF; NULL when unknown */
	unsigned int line;    /* 0 when unknown */
	bool inlined;         /* a call inlined into the next frame, at the same addr */
	const char *module;   /* path of the mapped object, "[vdso]", "[anon]"; NULL if unmapped */
	/* The mapping that holds addr (all 0 when unmapped), and its object's
	 * build-id as hex (NULL when unknown): what pprof's mappings need. */
	uint64_t map_start, map_end, map_offset;
	const char *build_id;
	/* The file at the module's path is not the object the process mapped
	 * (its build-id differs) and the mapped one is out of reach: function
	 * and file are NULL rather than names from the wrong file. */
	bool module_mismatch;
};

struct symbolizer;

struct symbolizer_options {
	bool demangle; /* false keeps symbols as the objects spell them (--no-demangle) */
	/* Searched for separate debug files before /usr/lib/debug (--debug-dir);
	 * the strings must outlive the symbolizer. */
	const char *const *debug_dirs;
	size_t n_debug_dirs;
	/* Fetch the debug files of objects without DWARF from debuginfod
	 * ($DEBUGINFOD_URLS) in the background: such an object is named from
	 * what it has until the fetch is done, and by the fetched file at the
	 * first lookup after. */
	bool debuginfod;
};

/* A symbolizer with opts (copied). When debuginfod cannot start, says so
 * once and goes on without it. Returns NULL on ENOMEM. */
struct symbolizer *symbolizer__new(const struct symbolizer_options *opts);
/* Accepts NULL. */
void symbolizer__free(struct symbolizer *s);

/* At most this many frames per address (inlined calls and their function). */
#define SYMBOLIZER_MAX_FRAMES 16

/* Resolve addr, a return address in the process whose mappings are maps;
 * objects are opened under root_fd (an O_PATH fd of /proc/PID/root, or
 * AT_FDCWD). Fills out[] (room for SYMBOLIZER_MAX_FRAMES) innermost first:
 * the calls inlined at addr, then the function holding them. An address
 * that cannot be named gives one frame with function NULL and whatever
 * module is known. Each object's build-id is checked against the one the
 * live process has in memory (see mapped_object.h); frames in [vdso] are
 * named from the image in the process, frames in anonymous memory from its
 * /tmp/perf-PID.map (under root_fd) when it has one, module "[anon]"
 * still. Returns the number of frames (at least 1), or -ENOMEM. */
int symbolizer__resolve(struct symbolizer *s, const struct proc_maps *maps, int root_fd,
			uint64_t addr, struct frame *out);

#endif
