/* symbolizer.h - turn user-space addresses into function+offset and module.
 * Objects are opened once and cached for the life of the symbolizer, keyed by
 * their device and inode, so every report and every target shares them. */
#ifndef SYMBOLIZER_H
#define SYMBOLIZER_H

#include <stddef.h>
#include <stdint.h>

#include "proc_maps.h"

/* One frame of a symbolized stack. Strings are owned by the symbolizer and
 * stay valid until symbolizer__free. */
struct frame {
	uint64_t addr;
	const char *function; /* NULL when unknown */
	uint64_t offset;      /* addr - start of function (0 when unknown) */
	const char *module;   /* path of the mapped object, "[vdso]", "[anon]"; NULL if unmapped */
	/* The mapping that holds addr (all 0 when unmapped), and its object's
	 * build-id as hex (NULL when unknown): what pprof's mappings need. */
	uint64_t map_start, map_end, map_offset;
	const char *build_id;
};

struct symbolizer;

/* Returns NULL on ENOMEM. */
struct symbolizer *symbolizer__new(void);
/* Accepts NULL. */
void symbolizer__free(struct symbolizer *s);

/* Resolve addr, a return or instruction address in the process whose
 * mappings are maps; objects are opened under root_fd (an O_PATH fd of
 * /proc/PID/root, or AT_FDCWD). Always fills *out: an address that cannot be
 * named keeps function NULL and whatever module is known. Returns 0, or
 * -ENOMEM. */
int symbolizer__resolve(struct symbolizer *s, const struct proc_maps *maps, int root_fd,
			uint64_t addr, struct frame *out);

#endif
