/* symbolizer.c - names user-space addresses by where they are: in a file
 * mapping, from the file's object (module_cache); in the vDSO, from the
 * image in the process (vdso_images); in anonymous memory, where JITs put
 * code, from the process's perf map (perf_map). The strings frames point
 * to that no object owns, the module paths and the JIT names, are kept in
 * a string_pool for the life of the symbolizer. */
#include "symbols/symbolizer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/debuginfod_fetch.h"
#include "symbols/module_cache.h"
#include "symbols/object_symbols.h"
#include "symbols/perf_map.h"
#include "symbols/string_pool.h"
#include "symbols/vdso_images.h"
#include "target/elf_object.h"
#include "util/log.h"

struct symbolizer {
	bool demangle;
	struct string_pool strings;    /* module paths and JIT names in frames */
	struct module_cache *modules;
	struct vdso_images *vdso;      /* created on the first [vdso] frame */
	struct perf_map_file perf_map; /* of the last process with anonymous frames */
};

/* Without debuginfod the symbolizer still works from what is on disk, so a
 * failure to start it is only worth a warning. */
struct symbolizer *symbolizer__new(const struct symbolizer_options *opts)
{
	struct debug_search search = { .dirs = opts->debug_dirs, .n_dirs = opts->n_debug_dirs };
	struct debuginfod_fetch *fetch = NULL;
	struct symbolizer *s;
	int r;

	if (opts->debuginfod) {
		r = debuginfod_fetch__new(&fetch);
		if (r == -ENOMEM)
			return NULL;
		if (r < 0)
			log_warn("debuginfod: cannot start fetching: %s", strerror(-r));
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		debuginfod_fetch__free(fetch);
		return NULL;
	}
	s->demangle = opts->demangle;
	if (module_cache__new(opts->demangle, &search, fetch, &s->modules) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	module_cache__free(s->modules);
	vdso_images__free(s->vdso);
	perf_map_file__clear(&s->perf_map);
	string_pool__clear(&s->strings);
	free(s);
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

/* What a perf map just read held, and what of it was left out: the file
 * is the target's to make as large or as broken as it likes. */
static void describe_perf_map(const struct perf_map_file *f)
{
	const struct perf_map *m = f->map;

	log_debug("pid %d: perf map /tmp/perf-%d.map: %zu entries, %zu lines skipped (malformed, "
		  "or over %u bytes)%s",
		  (int)f->pid, (int)f->ns_pid, perf_map__entries(m), perf_map__skipped(m),
		  PERF_MAP_LINE_MAX,
		  perf_map__cut(m) ? "; the rest left unread, past " PERF_MAP_LIMITS : "");
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
	if (r == 1)
		describe_perf_map(&s->perf_map);
	/* A return address: the call is the byte before it. */
	e = s->perf_map.map ? perf_map__find(s->perf_map.map, out->addr - 1) : NULL;
	if (!e)
		return 1;
	out->function = string_pool__intern(&s->strings, e->name);
	if (!out->function)
		return -ENOMEM;
	out->offset = out->addr - e->start;
	return 1;
}

static int resolve_file(struct symbolizer *s, const struct proc_maps *maps,
			const struct proc_map *map, const char *path, int root_fd, struct frame *out)
{
	struct module mod;
	int r = module_cache__get(s->modules, maps, map, path, root_fd, &mod);

	if (r < 0)
		return r;
	out->module_mismatch = mod.mismatch;
	/* A memfd that is no ELF object holds JIT code, as anonymous memory. */
	if (!mod.obj && !mod.mismatch && !strncmp(path, "/memfd:", 7))
		return resolve_jit(s, maps, root_fd, out);
	if (!mod.obj) {
		out->build_id = mod.mapped_build_id;
		return 1;
	}
	out->build_id = elf_object__build_id(mod.obj);
	return name_frames(mod.names, mod.obj, map, out);
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
	r = vdso_images__get(s->vdso, maps, map, &img);
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
	path = map->path ? string_pool__intern(&s->strings, map->path) : "[anon]";
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
