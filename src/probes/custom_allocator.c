/* custom_allocator.c - resolve --alloc/--free/--realloc/--reset specs and
 * presets in a live process. Each object is opened once and shared by every
 * spec. A spec without @MODULE looks in the objects the dynamic linker
 * searches, in its order; a symbol found in several is an error for a spec
 * given on the command line, and binds to the first (as the dynamic linker
 * does) for a preset. A preset's missing functions are skipped: presets
 * cover several versions of a library. */
#include "probes/custom_allocator.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/method_tables.h"
#include "target/elf_object.h"

struct opened {
	char *path; /* the mapping's path, the cache key */
	struct target_object object;
	int error;  /* -errno when it could not be opened */
};

struct resolver {
	const struct target *t;
	const struct allocator *family;
	struct custom_allocator *c;
	const struct proc_map **order; /* the dynamic linker's search order */
	size_t n_order;
	struct opened **opened; /* each allocated once: specs keep pointers */
	size_t n_opened;
	char **error;
};

__attribute__((format(printf, 3, 4))) static int fail(struct resolver *r,
						       const struct alloc_spec *s,
						       const char *fmt, ...)
{
	char *spec, *what;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	if (alloc_spec_format(s, &spec) < 0) {
		free(what);
		return -ENOMEM;
	}
	if (s->preset)
		n = asprintf(r->error, "--preset %s (%s): %s", s->preset, spec, what);
	else
		n = asprintf(r->error, "%s: %s", spec, what);
	free(spec);
	free(what);
	return n < 0 ? -ENOMEM : -EINVAL;
}

/* "a, b, c" from the paths of maps, malloc'd; NULL on ENOMEM. */
static char *list_paths(const struct proc_map *const *maps, size_t n)
{
	size_t len = 0;
	char *s = NULL;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", maps[i]->path);
	fclose(f);
	return s;
}

/* The object behind m, opened on first use. NULL with *err when it cannot
 * be read. */
static const struct target_object *open_object(struct resolver *r, const struct proc_map *m,
					       int *err)
{
	struct opened **grown, *o;

	for (size_t i = 0; i < r->n_opened; i++)
		if (!strcmp(r->opened[i]->path, m->path)) {
			*err = r->opened[i]->error;
			return *err ? NULL : &r->opened[i]->object;
		}
	grown = realloc(r->opened, (r->n_opened + 1) * sizeof(*grown));
	if (grown)
		r->opened = grown;
	o = grown ? calloc(1, sizeof(*o)) : NULL;
	if (o)
		o->path = strdup(m->path);
	if (!o || !o->path) {
		free(o);
		*err = -ENOMEM;
		return NULL;
	}
	r->opened[r->n_opened++] = o;
	o->error = target__open_object(r->t, m, &o->object);
	*err = o->error;
	return *err ? NULL : &o->object;
}

static bool module_matches(const char *path, const char *module)
{
	const char *base = strrchr(path, '/');
	size_t len = strlen(module);

	if (strchr(module, '/'))
		return !strcmp(path, module);
	base = base ? base + 1 : path;
	/* A soname matches the file it names: libapr-1.so.0 -> libapr-1.so.0.7.2. */
	return !strncmp(base, module, len) && (base[len] == '\0' || base[len] == '.');
}

/* Every mapped object that @MODULE names, one mapping of each. */
static int objects_named(const struct target *t, const char *module,
			 const struct proc_map ***out, size_t *n)
{
	const struct proc_map **found = NULL;

	*n = 0;
	for (size_t i = 0; i < t->maps->count; i++) {
		const struct proc_map *m = &t->maps->maps[i];
		bool seen = false;

		if (!m->path || m->path[0] != '/' || !module_matches(m->path, module))
			continue;
		for (size_t j = 0; j < *n && !seen; j++)
			seen = !strcmp(found[j]->path, m->path);
		if (seen)
			continue;
		const struct proc_map **grown = realloc(found, (*n + 1) * sizeof(*grown));

		if (!grown) {
			free(found);
			return -ENOMEM;
		}
		found = grown;
		found[(*n)++] = m;
	}
	*out = found;
	return 0;
}

/* Where to look for s's function: its module, or the search order. */
static int candidates(struct resolver *r, const struct alloc_spec *s,
		      const struct proc_map ***out, size_t *n)
{
	char *listed;
	int err;

	if (!s->module) {
		*out = malloc(r->n_order * sizeof(**out) + 1);
		if (!*out)
			return -ENOMEM;
		memcpy(*out, r->order, r->n_order * sizeof(**out));
		*n = r->n_order;
		return 0;
	}
	err = objects_named(r->t, s->module, out, n);
	if (err < 0 || *n == 1)
		return err;
	listed = list_paths(*out, *n);
	free(*out);
	if (!listed)
		return -ENOMEM;
	err = *n ? fail(r, s, "'%s' names several objects: %s", s->module, listed)
		 : fail(r, s, "pid %d maps no object '%s'", r->t->pid, s->module);
	free(listed);
	return err;
}

struct found {
	const struct target_object *object;
	struct elf_symbol sym;
};

/* Find s's function among maps. Returns 0 with *f->object set, 0 with
 * f->object NULL for a preset function that is missing, or -errno. */
static int find_function(struct resolver *r, const struct alloc_spec *s,
			 const struct proc_map **maps, size_t n, struct found *f)
{
	size_t hits = 0;
	const struct proc_map *where[2];
	char *listed;
	int err;

	f->object = NULL;
	for (size_t i = 0; i < n && hits < 2; i++) {
		const struct target_object *o = open_object(r, maps[i], &err);
		struct elf_symbol sym;

		if (!o)
			return fail(r, s, "cannot read %s: %s", maps[i]->path, strerror(-err));
		if (elf_object__find_function(o->elf, s->symbol, ELF_SYMTAB_ANY, &sym) < 0)
			continue;
		where[hits++] = maps[i];
		if (!f->object) {
			f->object = o;
			f->sym = sym;
		}
		if (s->preset)
			return 0;
	}
	if (hits == 1 || (!hits && s->preset))
		return 0;
	if (hits == 2)
		return fail(r, s, "'%s' is defined in %s and %s: name one with %s@MODULE",
			    s->symbol, where[0]->path, where[1]->path, s->symbol);
	listed = list_paths(maps, n);
	err = listed ? fail(r, s, "no function '%s' in pid %d (looked in: %s)", s->symbol,
			    r->t->pid, listed)
		     : -ENOMEM;
	free(listed);
	return err;
}

/* The run-time address of variable name: the definition the dynamic linker
 * binds (exported, in search order, so copy relocations are followed), else
 * a static variable of the spec's own object. */
static int find_global(struct resolver *r, const struct alloc_spec *s,
		       const struct target_object *own, uint64_t *addr)
{
	const struct target_object *o = NULL;
	struct elf_symbol sym;
	char *listed;
	int err = -ENOENT;

	for (size_t i = 0; i < r->n_order && err == -ENOENT; i++) {
		o = open_object(r, r->order[i], &err);
		err = o ? elf_object__find_variable(o->elf, s->ctx_global, ELF_SYMTAB_DYNAMIC, &sym)
			: -ENOENT;
	}
	if (err == -ENOENT) {
		o = own;
		err = elf_object__find_variable(o->elf, s->ctx_global, ELF_SYMTAB_STATIC, &sym);
	}
	if (!err) {
		*addr = o->bias + sym.vaddr;
		return 0;
	}
	if (err == -EOPNOTSUPP)
		return fail(r, s, "ctx=@%s is thread-local: memleakd reads only plain globals",
			    s->ctx_global);
	if (err != -ENOENT)
		return err;
	listed = list_paths(r->order, r->n_order);
	err = listed ? fail(r, s, "ctx=@%s: no such variable in pid %d (looked in: %s)",
			    s->ctx_global, r->t->pid, listed)
		     : -ENOMEM;
	free(listed);
	return err;
}

/* The cookie slot of the global s names, taken on first use. */
static int global_slot(struct resolver *r, const struct alloc_spec *s,
		       const struct target_object *own, uint32_t *slot)
{
	struct custom_allocator *c = r->c;
	int err;

	for (size_t i = 0; i < c->n_globals; i++)
		if (!strcmp(c->global_names[i], s->ctx_global)) {
			*slot = (uint32_t)i;
			return 0;
		}
	if (c->n_globals == MEMLEAKD_MAX_CTX_GLOBALS)
		return fail(r, s, "more than %d ctx=@GLOBAL variables", MEMLEAKD_MAX_CTX_GLOBALS);
	err = find_global(r, s, own, &c->globals[c->n_globals]);
	if (err < 0)
		return err;
	c->global_names[c->n_globals] = s->ctx_global;
	*slot = (uint32_t)c->n_globals++;
	return 0;
}

static bool already_probed(const struct resolver *r, const struct allocator_probe *p)
{
	return allocator_probes_have(r->c->probes, r->c->n_probes, p) ||
	       (r->family && allocator_probes_have(r->family->probes, r->family->n_probes, p));
}

static int skip(struct custom_allocator *c, const struct alloc_spec *s)
{
	const struct alloc_spec **n = realloc(c->skipped, (c->n_skipped + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	n[c->n_skipped++] = s;
	c->skipped = n;
	return 0;
}

static struct methods_note *new_note(struct custom_allocator *c, const struct alloc_spec *s)
{
	struct methods_note *n = realloc(c->methods, (c->n_methods + 1) * sizeof(*n));

	if (!n)
		return NULL;
	c->methods = n;
	n = &c->methods[c->n_methods++];
	*n = (struct methods_note){ .function = s->symbol };
	return n;
}

/* Why another object of the process may pass tables of its own (a
 * PostgreSQL extension's contexts): it imports s's methods_callee, or it
 * cannot be read to tell. NULL when none does. */
static const char *imported_elsewhere(struct resolver *r, const struct alloc_spec *s,
				      const struct target_object *own)
{
	for (size_t i = 0; i < r->n_order; i++) {
		int err;
		const struct target_object *o = open_object(r, r->order[i], &err);

		if (!o)
			return "an object that may call the function that passes the tables "
			       "cannot be read";
		if (o != own && elf_object__imports(o->elf, s->methods_callee))
			return "another object calls the function that passes the tables";
	}
	return NULL;
}

/* Why the methods of entry, s's function probed at its entry, cannot be
 * found; NULL with *t filled in when they were. */
static const char *find_methods(struct resolver *r, const struct alloc_spec *s,
				const struct found *f, const struct allocator_probe *entry,
				struct method_tables *t, int *err)
{
	const struct probe_placement *pl = &entry->placement;
	unsigned int loc = pl->jump_arg_loc[s->ptr];
	struct elf_symbol callee;
	const char *why;

	*err = 0;
	if (!pl->tail_jump)
		return "it does not end in a jump through memory";
	if (loc < 1 || loc > PLACEMENT_MAX_ARGS)
		return "the pointer is in no argument register at its jump";
	if (elf_object__find_function(f->object->elf, s->methods_callee, ELF_SYMTAB_ANY,
				      &callee) < 0)
		return "the function that passes its tables is not in its object";
	if ((why = imported_elsewhere(r, s, f->object)))
		return why;
	*err = method_tables_find(f->object->elf, callee.vaddr, s->methods_arg, pl->tail_slot, t);
	return *err ? t->why : NULL;
}

/* Probe method m in the place of entry, the pointer where entry's jump
 * left it. */
static int add_method(struct resolver *r, const struct alloc_spec *s, const struct found *f,
		      const struct allocator_probe *entry, const struct method_function *m)
{
	struct custom_allocator *c = r->c;
	struct allocator_probe *p = &c->probes[c->n_probes];
	struct elf_symbol sym = { .vaddr = m->vaddr, .size = m->size };
	uint64_t cookie = entry->point.cookie & ~(0xfULL << COOKIE_PTR_SHIFT) &
			  ~((uint64_t)PROBE_F_STEPPED << COOKIE_FLAGS_SHIFT);
	char **names = realloc(c->names, (c->n_names + 1) * sizeof(*names));
	int err;

	if (!names)
		return -ENOMEM;
	c->names = names;
	if (asprintf(&names[c->n_names], "%s's method at 0x%" PRIx64, s->symbol, m->vaddr) < 0)
		return -ENOMEM;
	sym.name = names[c->n_names++];
	cookie |= (uint64_t)entry->placement.jump_arg_loc[s->ptr] << COOKIE_PTR_SHIFT;
	err = allocator_probe_place(p, f->object, sym.name, &sym, cookie);
	if (err < 0)
		return fail(r, s, "cannot place a probe on %s: %s", sym.name, strerror(-err));
	if (!already_probed(r, p))
		c->n_probes++;
	return 0;
}

/* s's function, probed at entry (the kernel would single-step it), jumps
 * through methods tables: probe the methods in its place where they are
 * found (method_tables.h), else keep it, the note saying why. */
static int add_methods(struct resolver *r, const struct alloc_spec *s, const struct found *f)
{
	struct custom_allocator *c = r->c;
	/* A copy: the first method takes the entry's slot. */
	struct allocator_probe entry = c->probes[c->n_probes];
	struct methods_note *note = new_note(c, s);
	struct method_tables t;
	int err;

	if (!note)
		return -ENOMEM;
	note->why = find_methods(r, s, f, &entry, &t, &err);
	if (err == -ENOMEM)
		return err;
	if (note->why) {
		if (!already_probed(r, &entry))
			c->n_probes++;
		return 0;
	}
	note->n_functions = t.n;
	note->n_calls = t.n_calls;
	for (size_t i = 0; i < t.n && !err; i++)
		err = add_method(r, s, f, &entry, &t.functions[i]);
	return err;
}

static int add_probe(struct resolver *r, const struct alloc_spec *s, const struct found *f)
{
	struct allocator_probe *p = &r->c->probes[r->c->n_probes];
	uint64_t cookie = alloc_spec_cookie(s) | (uint64_t)r->t->index << COOKIE_TARGET_SHIFT;
	uint32_t slot = 0;
	int err;

	if (s->ctx_global) {
		err = global_slot(r, s, f->object, &slot);
		if (err < 0)
			return err;
		cookie |= (uint64_t)slot << COOKIE_GLOBAL_SHIFT;
	}
	err = allocator_probe_place(p, f->object, s->symbol, &f->sym, cookie);
	if (err < 0)
		return fail(r, s, "cannot place a probe on %s: %s", s->symbol, strerror(-err));
	if (s->methods_callee && !p->placement.emulated)
		return add_methods(r, s, f);
	if (!already_probed(r, p))
		r->c->n_probes++;
	return 0;
}

static int resolve_spec(struct resolver *r, const struct alloc_spec *s)
{
	const struct proc_map **maps;
	struct found f;
	size_t n;
	int err = candidates(r, s, &maps, &n);

	if (err < 0)
		return err;
	err = find_function(r, s, maps, n, &f);
	free(maps);
	if (err < 0)
		return err;
	return f.object ? add_probe(r, s, &f) : skip(r->c, s);
}

/* A preset none of whose functions exists is a mistake, not a version
 * difference. */
static int check_presets(struct resolver *r, const struct alloc_specs *specs)
{
	for (size_t i = 0; i < specs->n; i++) {
		const struct alloc_spec *s = &specs->items[i];
		size_t missing = 0, total = 0;
		char *listed;
		int err;

		if (!s->preset)
			continue;
		for (size_t j = 0; j < specs->n; j++) {
			const struct alloc_spec *o = &specs->items[j];

			if (!o->preset || strcmp(o->preset, s->preset))
				continue;
			total++;
			for (size_t k = 0; k < r->c->n_skipped; k++)
				missing += r->c->skipped[k] == o;
		}
		if (missing < total)
			continue;
		listed = list_paths(r->order, r->n_order);
		err = listed ? asprintf(r->error, "--preset %s: none of its functions is in "
					"pid %d (looked in: %s)", s->preset, r->t->pid, listed)
			     : -1;
		free(listed);
		return err < 0 ? -ENOMEM : -ENOENT;
	}
	return 0;
}

/* Keep copies of what the probes name, so the objects can be closed. */
static int keep_names(struct resolver *r)
{
	struct custom_allocator *c = r->c;

	c->objects = calloc(r->n_opened + 1, sizeof(*c->objects));
	if (!c->objects)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_opened; i++) {
		const struct target_object *o = &r->opened[i]->object;
		struct custom_object *kept = &c->objects[c->n_objects];

		if (r->opened[i]->error)
			continue;
		kept->module = strdup(o->map->path);
		kept->attach_path = strdup(o->attach_path);
		c->n_objects++;
		if (!kept->module || !kept->attach_path)
			return -ENOMEM;
		for (size_t p = 0; p < c->n_probes; p++)
			if (c->probes[p].point.path == o->attach_path) {
				c->probes[p].point.path = kept->attach_path;
				c->probes[p].module = kept->module;
			}
	}
	return 0;
}

static void resolver_clear(struct resolver *r)
{
	for (size_t i = 0; i < r->n_opened; i++) {
		free(r->opened[i]->path);
		target_object__clear(&r->opened[i]->object);
		free(r->opened[i]);
	}
	free(r->opened);
	free(r->order);
}

int custom_allocator__resolve(const struct target *t, const struct alloc_specs *specs,
			      const struct allocator *family, struct custom_allocator **out,
			      char **error)
{
	struct resolver r = { .t = t, .family = family, .error = error };
	size_t room = 1;
	int err = -ENOMEM;

	r.c = calloc(1, sizeof(*r.c));
	if (!r.c)
		return -ENOMEM;
	for (size_t i = 0; i < specs->n; i++)
		room += 1 + (specs->items[i].methods_callee ? METHOD_TABLES_MAX : 0);
	r.c->probes = calloc(room, sizeof(*r.c->probes));
	if (!r.c->probes)
		goto fail;
	err = target__search_order(t, &r.order, &r.n_order);
	for (size_t i = 0; i < specs->n && !err; i++)
		err = resolve_spec(&r, &specs->items[i]);
	if (!err)
		err = check_presets(&r, specs);
	if (!err)
		err = keep_names(&r);
	if (err < 0)
		goto fail;
	resolver_clear(&r);
	*out = r.c;
	return 0;
fail:
	resolver_clear(&r);
	custom_allocator__free(r.c);
	return err;
}

void custom_allocator__free(struct custom_allocator *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_objects; i++) {
		free(c->objects[i].module);
		free(c->objects[i].attach_path);
	}
	free(c->objects);
	for (size_t i = 0; i < c->n_names; i++)
		free(c->names[i]);
	free(c->names);
	free(c->methods);
	free(c->skipped);
	free(c->probes);
	free(c);
}
