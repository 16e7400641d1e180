/* module_cache.c - the modules live in an array that grows by doubling,
 * found through a key_index of a hash of their device and inode (and of
 * their path when the inode is 0, as for a process no longer alive). A
 * file that fails to open is cached too, as a module without an object, so
 * a broken or vanished file costs one open, not one per frame. Each module
 * is checked once against the build-id the process has in memory
 * (mapped_object). An object without DWARF may have its debug file fetched
 * from debuginfod: the report path polls for it, never waits, and reopens
 * the module with it once it arrives; the object it had is kept (retired)
 * because frames already handed out point into it. */
#include "symbols/module_cache.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/mapped_object.h"
#include "symbols/string_pool.h"
#include "util/array.h"
#include "util/key_index.h"
#include "util/log.h"

struct cached_module {
	unsigned int dev_major, dev_minor;
	uint64_t inode;
	const char *path;       /* the caller's; part of the key only when inode is 0 */
	struct elf_object *obj; /* NULL when the file could not be opened */
	struct object_symbols *names; /* of obj */
	bool fetching;          /* its debug file is being fetched */
	/* Checked against the mapping's build-id (mapped_object), once. */
	bool checked;
	bool mismatch;          /* the file is not what was mapped: no names */
	char *mapped_build_id;  /* read from the process; NULL when unknown */
};

/* An object replaced by its reopening with a fetched debug file. */
struct retired {
	struct elf_object *obj;
	struct object_symbols *names;
};

struct module_cache {
	bool demangle;
	struct debug_search search; /* fetched stays NULL: set per reopening */
	struct debuginfod_fetch *fetch; /* NULL: no debuginfod */
	struct cached_module *modules;
	size_t n, cap;
	struct key_index index; /* module_key() -> its place in modules */
	struct retired *retired;
	size_t n_retired, retired_cap;
};

int module_cache__new(bool demangle, const struct debug_search *search,
		      struct debuginfod_fetch *fetch, struct module_cache **out)
{
	struct module_cache *c = calloc(1, sizeof(*c));

	if (!c) {
		debuginfod_fetch__free(fetch);
		return -ENOMEM;
	}
	c->demangle = demangle;
	c->search = *search;
	c->search.fetched = NULL;
	c->fetch = fetch;
	*out = c;
	return 0;
}

void module_cache__free(struct module_cache *c)
{
	if (!c)
		return;
	debuginfod_fetch__free(c->fetch);
	for (size_t i = 0; i < c->n; i++) {
		object_symbols__free(c->modules[i].names);
		elf_object__free(c->modules[i].obj);
		free(c->modules[i].mapped_build_id);
	}
	for (size_t i = 0; i < c->n_retired; i++) {
		object_symbols__free(c->retired[i].names);
		elf_object__free(c->retired[i].obj);
	}
	free(c->modules);
	free(c->retired);
	key_index__clear(&c->index);
	free(c);
}

/* The splitmix64 finalizer: inodes are often small and sequential. */
static uint64_t mix(uint64_t h)
{
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static uint64_t module_key(const struct proc_map *map, const char *path)
{
	uint64_t dev = (uint64_t)map->dev_major << 32 | map->dev_minor;

	return mix(map->inode ^ mix(dev ^ (map->inode ? 0 : string_pool__hash(path))));
}

static bool is_module_of(const struct cached_module *m, const struct proc_map *map,
			 const char *path)
{
	return m->dev_major == map->dev_major && m->dev_minor == map->dev_minor &&
	       m->inode == map->inode && (m->inode || !strcmp(m->path, path));
}

static struct cached_module *find(struct module_cache *c, uint64_t key,
				  const struct proc_map *map, const char *path)
{
	size_t cursor = 0, i;

	while ((i = key_index__next(&c->index, key, &cursor)) != KEY_INDEX_NONE)
		if (is_module_of(&c->modules[i], map, path))
			return &c->modules[i];
	return NULL;
}

/* A deleted file of a live process opens through map_files. Otherwise the
 * kernel's " (deleted)" suffix is dropped: the name may still reach the
 * file (or its replacement). */
static int open_object(const struct proc_maps *maps, const struct proc_map *map, int root_fd,
		       const char *path, const struct debug_search *search, struct elf_object **obj)
{
	size_t len = strlen(path) - strlen(PROC_MAP_DELETED_SUFFIX);
	char buf[PATH_MAX];
	const char *where;
	int dir_fd;

	if (!proc_map__deleted(map))
		return elf_object__open_debug(root_fd, path, search, obj);
	if (maps->pid &&
	    !proc_maps__object_location(maps, map, root_fd, buf, sizeof(buf), &dir_fd, &where) &&
	    !elf_object__open_debug(dir_fd, where, search, obj))
		return 0;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len);
	buf[len] = '\0';
	return elf_object__open_debug(root_fd, buf, search, obj);
}

/* An object that found no DWARF on disk is worth a fetch; only ENOMEM is
 * an error. */
static int start_fetch(struct module_cache *c, struct cached_module *m)
{
	const char *id = elf_object__build_id(m->obj);

	if (!c->fetch || !id || elf_object__has_dwarf(m->obj))
		return 0;
	if (debuginfod_fetch__request(c->fetch, id) < 0)
		return -ENOMEM;
	m->fetching = true;
	return 0;
}

/* Reopen m's object with the fetched debug file. A file that does not fit
 * after all leaves m as it was. Returns 0 or -ENOMEM. */
static int upgrade(struct module_cache *c, const struct proc_maps *maps,
		   const struct proc_map *map, int root_fd, struct cached_module *m,
		   const char *fetched)
{
	struct debug_search search = c->search;
	struct object_symbols *names = NULL;
	struct elf_object *obj = NULL;
	int r;

	search.fetched = fetched;
	r = open_object(maps, map, root_fd, m->path, &search, &obj);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || !elf_object__has_dwarf(obj)) {
		log_debug("debuginfod: %s does not fit %s", fetched, m->path);
		elf_object__free(obj);
		return 0;
	}
	if (object_symbols__new(obj, c->demangle, &names) < 0 ||
	    array_grow((void **)&c->retired, &c->retired_cap, c->n_retired, sizeof(*c->retired),
		       4) < 0) {
		object_symbols__free(names);
		elf_object__free(obj);
		return -ENOMEM;
	}
	c->retired[c->n_retired++] = (struct retired){ m->obj, m->names };
	m->obj = obj;
	m->names = names;
	log_debug("debuginfod: %s: debug info from %s", m->path, fetched);
	return 0;
}

/* Take m's fetch once it has ended. A failure is said once, at -v, and not
 * retried. */
static int finish_fetch(struct module_cache *c, const struct proc_maps *maps,
			const struct proc_map *map, int root_fd, struct cached_module *m)
{
	const char *id = elf_object__build_id(m->obj);
	char *fetched = NULL;
	int r = debuginfod_fetch__result(c->fetch, id, &fetched);

	if (r == -EINPROGRESS || r == -ENOMEM)
		return r == -ENOMEM ? r : 0;
	m->fetching = false;
	if (r < 0) {
		log_debug("debuginfod: no debug info for %s (build-id %s): %s", m->path, id,
			  strerror(-r));
		return 0;
	}
	r = upgrade(c, maps, map, root_fd, m, fetched);
	free(fetched);
	return r;
}

/* A new module for map, its file opened (or not: that is remembered). */
static int add(struct module_cache *c, const struct proc_maps *maps, const struct proc_map *map,
	       const char *path, int root_fd, uint64_t key, struct cached_module **out)
{
	struct cached_module m = {
		.dev_major = map->dev_major,
		.dev_minor = map->dev_minor,
		.inode = map->inode,
		.path = path,
	};
	int r;

	if (array_grow((void **)&c->modules, &c->cap, c->n, sizeof(*c->modules), 32) < 0 ||
	    key_index__reserve(&c->index, c->n + 1) < 0)
		return -ENOMEM;
	r = open_object(maps, map, root_fd, path, &c->search, &m.obj);
	if (r == -ENOMEM)
		return r;
	if (m.obj && object_symbols__new(m.obj, c->demangle, &m.names) < 0) {
		elf_object__free(m.obj);
		return -ENOMEM;
	}
	key_index__add(&c->index, key, c->n); /* reserved: cannot fail */
	c->modules[c->n] = m;
	*out = &c->modules[c->n++];
	return (*out)->obj ? start_fetch(c, *out) : 0;
}

/* Once per module: a file whose build-id is not the mapping's is replaced
 * by the one the process mapped, or dropped so that no wrong name is shown. */
static int check(struct module_cache *c, const struct proc_maps *maps,
		 const struct proc_map *map, struct cached_module *m)
{
	struct elf_object *obj = m->obj;
	int r = mapped_object__verify(maps, map, &obj, &m->mapped_build_id);

	if (r < 0)
		return r;
	m->checked = true;
	m->mismatch = r == MAPPED_MISMATCH;
	if (obj == m->obj)
		return 0;
	object_symbols__free(m->names);
	m->names = NULL;
	m->obj = obj;
	if (obj && object_symbols__new(obj, c->demangle, &m->names) < 0) {
		/* Not remembered: the next frame checks again. */
		elf_object__free(obj);
		m->obj = NULL;
		m->checked = false;
		return -ENOMEM;
	}
	return 0;
}

int module_cache__get(struct module_cache *c, const struct proc_maps *maps,
		      const struct proc_map *map, const char *path, int root_fd,
		      struct module *out)
{
	uint64_t key = module_key(map, path);
	struct cached_module *m = find(c, key, map, path);
	int r = 0;

	if (!m)
		r = add(c, maps, map, path, root_fd, key, &m);
	else if (m->fetching)
		r = finish_fetch(c, maps, map, root_fd, m);
	if (r == 0 && !m->checked)
		r = check(c, maps, map, m);
	if (r < 0)
		return r;
	*out = (struct module){
		.obj = m->obj,
		.names = m->names,
		.mismatch = m->mismatch,
		.mapped_build_id = m->mapped_build_id,
	};
	return 0;
}
