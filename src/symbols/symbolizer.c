/* symbolizer.c - names user-space addresses. Two open-addressing hash tables
 * (linear probing, power-of-two sizes, kept at most half full) hold the
 * state: one interns every mapping path a frame reports, so module strings
 * are shared and live as long as the symbolizer; the other caches one
 * elf_object per file, keyed by device and inode because those name the
 * file the same way in every process and mount namespace. A file that fails
 * to open is cached too, as a module without an object, so a broken or
 * vanished file costs one open, not one per frame. An object without DWARF
 * may have its debug file fetched from debuginfod; the module is reopened
 * with it once it arrives, and the object it had is kept (retired) because
 * frames already handed out point into it. Each module is checked once
 * against the build-id the process has in memory (mapped_object); the vDSO
 * is read from the process (vdso_images), JIT code is named from the
 * process's perf map (perf_map). */
#include "symbols/symbolizer.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/debuginfod_fetch.h"
#include "target/elf_object.h"
#include "util/log.h"
#include "symbols/mapped_object.h"
#include "symbols/object_symbols.h"
#include "symbols/perf_map.h"
#include "symbols/vdso_images.h"

struct module {
	unsigned int dev_major, dev_minor;
	uint64_t inode;
	const char *path;       /* interned; the key only when inode is 0; NULL: free slot */
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

struct symbolizer {
	bool demangle;
	struct debug_search search; /* fetched stays NULL: set per reopening */
	struct debuginfod_fetch *fetch; /* NULL: no debuginfod */
	struct retired *retired;
	size_t n_retired;
	char **paths;
	size_t npaths, paths_cap;
	struct module *modules;
	size_t nmodules, modules_cap;
	struct vdso_images *vdso;      /* created on the first [vdso] frame */
	struct perf_map_file perf_map; /* of the last process with anonymous frames */
};

/* FNV-1a */
static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* The splitmix64 finalizer: inodes are often small and sequential. */
static uint64_t mix(uint64_t h)
{
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/* Without debuginfod the symbolizer still works from what is on disk, so a
 * failure to start it is only worth a warning. */
struct symbolizer *symbolizer__new(const struct symbolizer_options *opts)
{
	struct symbolizer *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return NULL;
	s->demangle = opts->demangle;
	s->search = (struct debug_search){ .dirs = opts->debug_dirs, .n_dirs = opts->n_debug_dirs };
	if (opts->debuginfod) {
		r = debuginfod_fetch__new(&s->fetch);
		if (r == -ENOMEM) {
			free(s);
			return NULL;
		}
		if (r < 0)
			log_warn("debuginfod: cannot start fetching: %s", strerror(-r));
	}
	return s;
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	debuginfod_fetch__free(s->fetch);
	for (size_t i = 0; i < s->modules_cap; i++) {
		object_symbols__free(s->modules[i].names);
		elf_object__free(s->modules[i].obj);
		free(s->modules[i].mapped_build_id);
	}
	for (size_t i = 0; i < s->n_retired; i++) {
		object_symbols__free(s->retired[i].names);
		elf_object__free(s->retired[i].obj);
	}
	free(s->retired);
	vdso_images__free(s->vdso);
	perf_map_file__clear(&s->perf_map);
	free(s->modules);
	for (size_t i = 0; i < s->paths_cap; i++)
		free(s->paths[i]);
	free(s->paths);
	free(s);
}

static char **path_slot(char **table, size_t cap, const char *path)
{
	size_t i = hash_str(path) & (cap - 1);

	while (table[i] && strcmp(table[i], path))
		i = (i + 1) & (cap - 1);
	return &table[i];
}

static int grow_paths(struct symbolizer *s)
{
	size_t cap = s->paths_cap ? s->paths_cap * 2 : 64;
	char **t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < s->paths_cap; i++)
		if (s->paths[i])
			*path_slot(t, cap, s->paths[i]) = s->paths[i];
	free(s->paths);
	s->paths = t;
	s->paths_cap = cap;
	return 0;
}

/* The symbolizer's own copy of path, or NULL on ENOMEM. */
static const char *intern(struct symbolizer *s, const char *path)
{
	char **slot;

	if (2 * (s->npaths + 1) > s->paths_cap && grow_paths(s) < 0)
		return NULL;
	slot = path_slot(s->paths, s->paths_cap, path);
	if (!*slot) {
		*slot = strdup(path);
		if (!*slot)
			return NULL;
		s->npaths++;
	}
	return *slot;
}

/* Interned paths compare by pointer. */
static bool same_module(const struct module *a, const struct module *b)
{
	return a->dev_major == b->dev_major && a->dev_minor == b->dev_minor &&
	       a->inode == b->inode && (a->inode || a->path == b->path);
}

static struct module *module_slot(struct module *table, size_t cap, const struct module *key)
{
	uint64_t dev = (uint64_t)key->dev_major << 32 | key->dev_minor;
	uint64_t h = mix(key->inode ^ mix(dev ^ (key->inode ? 0 : (uintptr_t)key->path)));
	size_t i = h & (cap - 1);

	while (table[i].path && !same_module(&table[i], key))
		i = (i + 1) & (cap - 1);
	return &table[i];
}

static int grow_modules(struct symbolizer *s)
{
	size_t cap = s->modules_cap ? s->modules_cap * 2 : 32;
	struct module *t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < s->modules_cap; i++)
		if (s->modules[i].path)
			*module_slot(t, cap, &s->modules[i]) = s->modules[i];
	free(s->modules);
	s->modules = t;
	s->modules_cap = cap;
	return 0;
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
static int start_fetch(struct symbolizer *s, struct module *m)
{
	const char *id = elf_object__build_id(m->obj);

	if (!s->fetch || !id || elf_object__has_dwarf(m->obj))
		return 0;
	if (debuginfod_fetch__request(s->fetch, id) < 0)
		return -ENOMEM;
	m->fetching = true;
	return 0;
}

static int retire(struct symbolizer *s, struct module *m)
{
	struct retired *n = realloc(s->retired, (s->n_retired + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	s->retired = n;
	s->retired[s->n_retired++] = (struct retired){ m->obj, m->names };
	return 0;
}

/* Reopen m's object with the fetched debug file. A file that does not fit
 * after all leaves m as it was. Returns 0 or -ENOMEM. */
static int upgrade(struct symbolizer *s, const struct proc_maps *maps, const struct proc_map *map,
		   int root_fd, struct module *m, const char *fetched)
{
	struct debug_search search = s->search;
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
	if (object_symbols__new(obj, s->demangle, &names) < 0 || retire(s, m) < 0) {
		object_symbols__free(names);
		elf_object__free(obj);
		return -ENOMEM;
	}
	m->obj = obj;
	m->names = names;
	log_debug("debuginfod: %s: debug info from %s", m->path, fetched);
	return 0;
}

/* Take m's fetch once it has ended: the report path polls, never waits. A
 * failure is said once, at -v, and not retried. */
static int finish_fetch(struct symbolizer *s, const struct proc_maps *maps,
			const struct proc_map *map, int root_fd, struct module *m)
{
	const char *id = elf_object__build_id(m->obj);
	char *fetched = NULL;
	int r = debuginfod_fetch__result(s->fetch, id, &fetched);

	if (r == -EINPROGRESS || r == -ENOMEM)
		return r == -ENOMEM ? r : 0;
	m->fetching = false;
	if (r < 0) {
		log_debug("debuginfod: no debug info for %s (build-id %s): %s", m->path, id,
			  strerror(-r));
		return 0;
	}
	r = upgrade(s, maps, map, root_fd, m, fetched);
	free(fetched);
	return r;
}

/* The cached module of map, opened on first sight. Only ENOMEM is not
 * remembered: it says nothing about the file. */
static int get_module(struct symbolizer *s, const struct proc_maps *maps,
		      const struct proc_map *map, const char *path, int root_fd, struct module **out)
{
	struct module key = {
		.dev_major = map->dev_major,
		.dev_minor = map->dev_minor,
		.inode = map->inode,
		.path = path,
	};
	struct module *slot;
	int r;

	if (2 * (s->nmodules + 1) > s->modules_cap && grow_modules(s) < 0)
		return -ENOMEM;
	slot = module_slot(s->modules, s->modules_cap, &key);
	if (!slot->path) {
		r = open_object(maps, map, root_fd, path, &s->search, &key.obj);
		if (r == -ENOMEM)
			return r;
		if (key.obj && object_symbols__new(key.obj, s->demangle, &key.names) < 0) {
			elf_object__free(key.obj);
			return -ENOMEM;
		}
		*slot = key;
		s->nmodules++;
		if (slot->obj && start_fetch(s, slot) < 0)
			return -ENOMEM;
	} else if (slot->fetching && finish_fetch(s, maps, map, root_fd, slot) < 0) {
		return -ENOMEM;
	}
	*out = slot;
	return 0;
}

/* The frames of the object's names at addr, after the mapping's fields
 * out[0] holds; returns how many (at least 1) or -ENOMEM. */
static int name_frames(struct object_symbols *names, const struct elf_object *obj,
		       const struct proc_map *map, struct frame *out)
{
	const struct frame_name *chain;
	uint64_t vaddr;
	int n;

	if (elf_object__offset_to_vaddr(obj, out->addr - map->start + map->offset, &vaddr) < 0)
		return 1;
	n = object_symbols__lookup(names, vaddr, &chain);
	if (n <= 0)
		return n < 0 ? n : 1;
	for (int i = n - 1; i >= 0; i--) {
		out[i] = out[0];
		out[i].function = chain[i].function;
		out[i].mangled = chain[i].mangled;
		out[i].offset = chain[i].offset;
		out[i].file = chain[i].file;
		out[i].line = chain[i].line;
		out[i].inlined = chain[i].inlined;
	}
	return n;
}

/* Once per module: a file whose build-id is not the mapping's is replaced
 * by the one the process mapped, or dropped so that no wrong name is shown. */
static int check_module(struct symbolizer *s, const struct proc_maps *maps,
			const struct proc_map *map, struct module *mod)
{
	struct elf_object *obj = mod->obj;
	int r = mapped_object__verify(maps, map, &obj, &mod->mapped_build_id);

	if (r < 0)
		return r;
	mod->checked = true;
	mod->mismatch = r == MAPPED_MISMATCH;
	if (obj == mod->obj)
		return 0;
	object_symbols__free(mod->names);
	mod->names = NULL;
	mod->obj = obj;
	if (obj && object_symbols__new(obj, s->demangle, &mod->names) < 0) {
		/* Not remembered: the next frame checks again. */
		elf_object__free(obj);
		mod->obj = NULL;
		mod->checked = false;
		return -ENOMEM;
	}
	return 0;
}

/* The module stays the mapping's ("[anon]"): the perf map's path holds the
 * PID, which would make the same code differ between runs. The name is
 * interned because the perf map is dropped when the file changes. */
static int resolve_jit(struct symbolizer *s, const struct proc_maps *maps, int root_fd,
		       struct frame *out)
{
	const struct perf_map_entry *e;
	int r;

	if (!maps->pid)
		return 1;
	r = perf_map_file__refresh(&s->perf_map, root_fd, maps->pid);
	if (r < 0)
		return r;
	/* A return address: the call is the byte before it. */
	e = s->perf_map.map ? perf_map__find(s->perf_map.map, out->addr - 1) : NULL;
	if (!e)
		return 1;
	out->function = intern(s, e->name);
	if (!out->function)
		return -ENOMEM;
	out->offset = out->addr - e->start;
	return 1;
}

static int resolve_file(struct symbolizer *s, const struct proc_maps *maps,
			const struct proc_map *map, const char *path, int root_fd, struct frame *out)
{
	struct module *mod;
	int r;

	r = get_module(s, maps, map, path, root_fd, &mod);
	if (r == 0 && !mod->checked)
		r = check_module(s, maps, map, mod);
	if (r < 0)
		return r;
	out->module_mismatch = mod->mismatch;
	/* A memfd that is no ELF object holds JIT code, as anonymous memory. */
	if (!mod->obj && !mod->mismatch && !strncmp(path, "/memfd:", 7))
		return resolve_jit(s, maps, root_fd, out);
	if (!mod->obj) {
		out->build_id = mod->mapped_build_id;
		return 1;
	}
	out->build_id = elf_object__build_id(mod->obj);
	return name_frames(mod->names, mod->obj, map, out);
}

/* The vDSO image is read from the process itself; one that cannot be read
 * leaves the frame unnamed. */
static int resolve_vdso(struct symbolizer *s, const struct proc_maps *maps,
			const struct proc_map *map, struct frame *out)
{
	const struct vdso_image *img;
	int r;

	if (!maps->pid)
		return 1;
	if (!s->vdso && !(s->vdso = vdso_images__new(s->demangle)))
		return -ENOMEM;
	r = vdso_images__get(s->vdso, maps->pid, map, &img);
	if (r < 0)
		return r == -ENOMEM ? r : 1;
	out->build_id = elf_object__build_id(img->obj);
	return name_frames(img->names, img->obj, map, out);
}

/* Module names keep the kernel's spelling, " (deleted)" included, which
 * tells the reader the file on disk is no longer the one mapped. */
int symbolizer__resolve(struct symbolizer *s, const struct proc_maps *maps, int root_fd,
			uint64_t addr, struct frame *out)
{
	const struct proc_map *map = proc_maps__find(maps, addr);
	const char *path;

	*out = (struct frame){ .addr = addr };
	if (!map)
		return 1;
	out->map_start = map->start;
	out->map_end = map->end;
	out->map_offset = map->offset;
	path = map->path ? intern(s, map->path) : "[anon]";
	if (!path)
		return -ENOMEM;
	out->module = path;
	/* Memory with no file behind it is where JITs put code. */
	if (!map->path || !strncmp(map->path, "[anon:", 6))
		return resolve_jit(s, maps, root_fd, out);
	if (!strcmp(path, "[vdso]"))
		return resolve_vdso(s, maps, map, out);
	/* [heap], [stack] and the like have no file to open. */
	if (path[0] != '/')
		return 1;
	return resolve_file(s, maps, map, path, root_fd, out);
}
