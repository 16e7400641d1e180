/* module_cache.h - the objects behind file mappings, each opened once for
 * the life of the cache and keyed by device and inode, which name a file
 * the same way in every process and mount namespace. The cache decides
 * which object names a mapping's addresses: the file at its path when its
 * build-id is the one the process mapped, else the mapped file reached
 * through the process (mapped_object), else none; and, with debuginfod, the
 * same object reopened with its fetched debug file once that arrives. */
#ifndef MODULE_CACHE_H
#define MODULE_CACHE_H

#include <stdbool.h>

#include "symbols/debuginfod_fetch.h"
#include "symbols/object_symbols.h"
#include "target/debug_file.h"
#include "target/elf_object.h"
#include "target/proc_maps.h"

struct module_cache;

/* What names the addresses of one file mapping. The pointers are the
 * cache's and stay valid until module_cache__free. */
struct module {
	const struct elf_object *obj; /* NULL: the file could not be opened, or
				       * is not the one mapped */
	struct object_symbols *names; /* obj's; NULL with obj */
	/* The file at the path is not the object the process mapped, and the
	 * mapped one is out of reach. */
	bool mismatch;
	const char *mapped_build_id;  /* read from the process; NULL when unknown */
};

/* An empty cache whose objects demangle their names or not, and search for
 * debug files as search says (copied; its strings must outlive the cache).
 * fetch (NULL: no debuginfod) becomes the cache's, even on failure.
 * Returns 0 and *out, or -ENOMEM. */
int module_cache__new(bool demangle, const struct debug_search *search,
		      struct debuginfod_fetch *fetch, struct module_cache **out);
/* Frees every object, the fetcher too. Accepts NULL. */
void module_cache__free(struct module_cache *c);

/* The module of map, a file mapping at path (which must outlive the cache)
 * in the process whose mappings are maps, its file opened under root_fd on
 * first sight. A file that cannot be opened is remembered as such and not
 * opened again; a fetch that has ended since the last call is taken.
 * Returns 0 and *out, or -ENOMEM: running out of memory says nothing
 * about the file, so the next call for it tries again. */
int module_cache__get(struct module_cache *c, const struct proc_maps *maps,
		      const struct proc_map *map, const char *path, int root_fd,
		      struct module *out);

#endif
