/* allocator.c - the malloc family as data: each entry names a function and
 * which argument holds the size, the pointer, the element count or the
 * out-pointer. The generic BPF programs read that from the attach cookie,
 * so supporting another allocator's entry point is one line here. */
#include "probes/allocator.h"

#include <errno.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/elf_object.h"
#include "memleakd.h"

#define ARG(shift, n) ((__u64)(n) << (shift))
#define ALLOC(size) (PROBE_ALLOC | ARG(COOKIE_SIZE_SHIFT, size))
#define CALLOC(nmemb, size) (ALLOC(size) | ARG(COOKIE_NMEMB_SHIFT, nmemb))
#define FREE(ptr) (PROBE_FREE | ARG(COOKIE_PTR_SHIFT, ptr))
/* realloc(NULL, n) is malloc(n), which it may call through the public
 * entry point (glibc does): a call that nests (PROBE_F_NESTS). */
#define REALLOC(ptr, size)                                                     \
	(PROBE_REALLOC | ARG(COOKIE_PTR_SHIFT, ptr) | ARG(COOKIE_SIZE_SHIFT, size) | \
	 ARG(COOKIE_FLAGS_SHIFT, PROBE_F_NESTS))
#define OUT_ALLOC(out, size) (ALLOC(size) | ARG(COOKIE_OUT_SHIFT, out))
#define ZERO_SIZE_FREES ARG(COOKIE_FLAGS_SHIFT, PROBE_F_ZERO_SIZE_FREES)

struct family_member {
	const char *name;
	__u64 spec;
};

/* Order matters only for aliases: the first name of an address is the one
 * reported. */
static const struct family_member malloc_family[] = {
	{ "malloc", ALLOC(1) },
	{ "calloc", CALLOC(1, 2) },
	{ "realloc", REALLOC(1, 2) | ZERO_SIZE_FREES },
	{ "reallocarray", REALLOC(1, 3) | ARG(COOKIE_NMEMB_SHIFT, 2) | ZERO_SIZE_FREES },
	{ "free", FREE(1) },
	{ "posix_memalign", OUT_ALLOC(1, 3) },
	{ "aligned_alloc", ALLOC(2) },
	{ "memalign", ALLOC(2) },
	{ "valloc", ALLOC(1) },
	{ "pvalloc", ALLOC(1) },
	{ "free_sized", FREE(1) },
	{ "free_aligned_sized", FREE(1) },
	/* jemalloc's non-standard API */
	{ "mallocx", ALLOC(1) },
	{ "rallocx", REALLOC(1, 2) },
	{ "xallocx", PROBE_RESIZE | ARG(COOKIE_PTR_SHIFT, 1) },
	{ "sdallocx", FREE(1) },
	{ "dallocx", FREE(1) },
	/* tcmalloc's */
	{ "tc_malloc", ALLOC(1) },
	{ "tc_malloc_skip_new_handler", ALLOC(1) },
	{ "tc_calloc", CALLOC(1, 2) },
	{ "tc_realloc", REALLOC(1, 2) | ZERO_SIZE_FREES },
	{ "tc_free", FREE(1) },
	{ "tc_free_sized", FREE(1) },
	{ "tc_memalign", ALLOC(2) },
	{ "tc_posix_memalign", OUT_ALLOC(1, 3) },
	{ "tc_valloc", ALLOC(1) },
	{ "tc_pvalloc", ALLOC(1) },
	{ "tc_new", ALLOC(1) },
	{ "tc_newarray", ALLOC(1) },
	{ "tc_new_nothrow", ALLOC(1) },
	{ "tc_newarray_nothrow", ALLOC(1) },
	{ "tc_delete", FREE(1) },
	{ "tc_deletearray", FREE(1) },
	{ "tc_delete_nothrow", FREE(1) },
	{ "tc_deletearray_nothrow", FREE(1) },
	{ "tc_delete_sized", FREE(1) },
	{ "tc_deletearray_sized", FREE(1) },
	/* mimalloc's */
	{ "mi_malloc", ALLOC(1) },
	{ "mi_zalloc", ALLOC(1) },
	{ "mi_calloc", CALLOC(1, 2) },
	{ "mi_mallocn", CALLOC(1, 2) },
	{ "mi_realloc", REALLOC(1, 2) },
	{ "mi_reallocn", REALLOC(1, 3) | ARG(COOKIE_NMEMB_SHIFT, 2) },
	{ "mi_malloc_aligned", ALLOC(1) },
	{ "mi_zalloc_aligned", ALLOC(1) },
	{ "mi_calloc_aligned", CALLOC(1, 2) },
	{ "mi_realloc_aligned", REALLOC(1, 2) },
	{ "mi_free", FREE(1) },
	{ "mi_free_size", FREE(1) },
	{ "mi_free_aligned", FREE(1) },
	{ "mi_free_size_aligned", FREE(1) },
	/* C++ operators, when the allocator itself defines them (tcmalloc,
	 * mimalloc); libstdc++'s own call malloc, traced above. */
	{ "_Znwm", ALLOC(1) },
	{ "_Znam", ALLOC(1) },
	{ "_ZnwmRKSt9nothrow_t", ALLOC(1) },
	{ "_ZnamRKSt9nothrow_t", ALLOC(1) },
	{ "_ZnwmSt11align_val_t", ALLOC(1) },
	{ "_ZnamSt11align_val_t", ALLOC(1) },
	{ "_ZdlPv", FREE(1) },
	{ "_ZdaPv", FREE(1) },
	{ "_ZdlPvm", FREE(1) },
	{ "_ZdaPvm", FREE(1) },
	{ "_ZdlPvRKSt9nothrow_t", FREE(1) },
	{ "_ZdaPvRKSt9nothrow_t", FREE(1) },
	{ "_ZdlPvSt11align_val_t", FREE(1) },
	{ "_ZdaPvSt11align_val_t", FREE(1) },
	{ "_ZdlPvmSt11align_val_t", FREE(1) },
	{ "_ZdaPvmSt11align_val_t", FREE(1) },
};

#define N_FAMILY (sizeof(malloc_family) / sizeof(malloc_family[0]))

/* Which table tells what an object provides: the exported symbols of a
 * dynamic object, everything in a static executable. */
static enum elf_symtab provider_table(const struct elf_object *o)
{
	return elf_object__is_dynamic(o) ? ELF_SYMTAB_DYNAMIC : ELF_SYMTAB_ANY;
}

uint64_t allocator_probe_function_offset(const struct allocator_probe *p)
{
	return p->point.offset - p->placement.offset;
}

/* MEMLEAKD_PROBES_AT_ENTRY, a bench knob (bench/emulation.py): every probe
 * at its function's first byte, whatever is there. */
static bool probes_at_entry(void)
{
	const char *v = getenv("MEMLEAKD_PROBES_AT_ENTRY");

	return v && *v && strcmp(v, "0");
}

/* The cookie's fields that name an argument (memleakd.h). */
static const unsigned int arg_fields[] = {
	COOKIE_SIZE_SHIFT, COOKIE_NMEMB_SHIFT, COOKIE_PTR_SHIFT, COOKIE_OUT_SHIFT, COOKIE_CTX_SHIFT,
};

#define N_ARG_FIELDS (sizeof(arg_fields) / sizeof(arg_fields[0]))

/* A context read from a global names no argument in its ctx field. */
static bool field_names_arg(uint64_t cookie, unsigned int shift)
{
	return shift != COOKIE_CTX_SHIFT ||
	       !(COOKIE_FIELD(cookie, COOKIE_FLAGS_SHIFT) & PROBE_F_CTX_GLOBAL);
}

/* Which arguments the programs read at the probe of cookie, one bit per
 * argument number. */
static unsigned int args_read(uint64_t cookie)
{
	unsigned int args = 0;

	for (size_t i = 0; i < N_ARG_FIELDS; i++)
		if (field_names_arg(cookie, arg_fields[i]))
			args |= 1u << COOKIE_FIELD(cookie, arg_fields[i]);
	return args & ~1u;
}

/* Kinds whose return is hooked at the probe (an entry and a return
 * program, or a session). */
static bool return_hooked(uint64_t cookie)
{
	unsigned int kind = COOKIE_FIELD(cookie, COOKIE_KIND_SHIFT);

	return kind != PROBE_FREE && kind != PROBE_REPARENT;
}

/* cookie with each argument's location at the probe, and a free's pushes. */
static uint64_t cookie_at_probe(uint64_t cookie, const struct probe_placement *pl)
{
	for (size_t i = 0; i < N_ARG_FIELDS; i++) {
		unsigned int shift = arg_fields[i], n = COOKIE_FIELD(cookie, shift);

		if (!n || n > PLACEMENT_MAX_ARGS || !field_names_arg(cookie, shift))
			continue;
		cookie = (cookie & ~(0xfULL << shift)) | ((uint64_t)pl->arg_loc[n] << shift);
	}
	if (!pl->emulated)
		cookie |= (uint64_t)PROBE_F_STEPPED << COOKIE_FLAGS_SHIFT;
	return cookie | ((uint64_t)pl->stack_words << COOKIE_SP_SHIFT);
}

static long read_code(void *arg, uint64_t vaddr, uint8_t *buf, size_t len)
{
	return elf_object__read(arg, vaddr, buf, len);
}

/* Bytes of a function read to find its jumps: larger ones are probed at
 * their entry unless it is emulated. */
#define MAX_FUNCTION_BYTES (256 * 1024)
/* Read when the symbol's size is unknown. */
#define UNSIZED_BYTES 64

int allocator_probe_place(struct allocator_probe *p, const struct target_object *obj,
			  const char *function, const struct elf_symbol *sym, uint64_t cookie)
{
	size_t size = sym->size && sym->size <= MAX_FUNCTION_BYTES ? sym->size : UNSIZED_BYTES;
	struct placement_request req = {
		.whole = sym->size && sym->size <= MAX_FUNCTION_BYTES, .vaddr = sym->vaddr,
		.read = read_code, .read_arg = obj->elf, .args = args_read(cookie),
		.returns = return_hooked(cookie), .at_entry = probes_at_entry(),
		.nmemb_arg = COOKIE_FIELD(cookie, COOKIE_NMEMB_SHIFT),
		.size_arg = COOKIE_FIELD(cookie, COOKIE_SIZE_SHIFT),
	};
	uint8_t *code;
	uint64_t offset;
	long len;
	int r = elf_object__vaddr_to_offset(obj->elf, sym->vaddr, &offset);

	if (r < 0)
		return r;
	code = malloc(size);
	if (!code)
		return -ENOMEM;
	len = elf_object__read(obj->elf, sym->vaddr, code, size);
	if (len < 0) {
		free(code);
		return (int)len;
	}
	req.code = code;
	req.len = (size_t)len;
	req.whole = req.whole && (size_t)len == size;
	probe_placement_find(&req, &p->placement);
	free(code);
	p->point.function = function;
	p->point.path = obj->attach_path;
	p->point.offset = offset + p->placement.offset;
	p->point.cookie = cookie_at_probe(cookie, &p->placement);
	p->module = obj->map->path;
	return 0;
}

bool allocator_probes_have(const struct allocator_probe *probes, size_t n,
			   const struct allocator_probe *p)
{
	uint64_t offset = allocator_probe_function_offset(p);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(probes[i].point.path, p->point.path) &&
		    allocator_probe_function_offset(&probes[i]) == offset)
			return true;
	return false;
}

/* Add a probe for member m if obj defines it, once per address. Returns 0
 * or -errno. */
static int add_probe(struct allocator *a, const struct target_object *obj, uint32_t target,
		     const struct family_member *m)
{
	struct allocator_probe *p = &a->probes[a->n_probes];
	struct elf_symbol sym;
	int r;

	if (elf_object__find_function(obj->elf, m->name, provider_table(obj->elf), &sym) < 0)
		return 0;
	r = allocator_probe_place(p, obj, m->name, &sym,
				  m->spec | ((__u64)target << COOKIE_TARGET_SHIFT));
	if (r == -ERANGE)
		return 0;
	if (r == 0 && !allocator_probes_have(a->probes, a->n_probes, p))
		a->n_probes++;
	return r;
}

static int build_probes(struct allocator *a, const struct target_object *obj, uint32_t target)
{
	int r = 0;

	a->probes = calloc(N_FAMILY, sizeof(*a->probes));
	if (!a->probes)
		return -ENOMEM;
	for (size_t i = 0; i < N_FAMILY && !r; i++)
		r = add_probe(a, obj, target, &malloc_family[i]);
	return r;
}

/* Where obj, the allocator, frees on its own behalf: glibc's thread cache
 * shutdown, as run-time addresses. */
static void find_own_frees(struct allocator_own_frees *own, const struct target_object *obj)
{
	struct tcache_shutdown ts;
	struct elf_symbol sym;

	own->glibc = elf_object__find_function(obj->elf, "__libc_malloc", ELF_SYMTAB_ANY, &sym) == 0;
	own->status = tcache_shutdown_find(obj->elf, &ts);
	if (own->status < 0)
		return;
	own->source = ts.source;
	own->start = ts.start + obj->bias;
	own->end = ts.end + obj->bias;
}

static int provider_new(const struct target *t, const struct target_object *obj,
			struct allocator **out)
{
	struct allocator *a = calloc(1, sizeof(*a));
	int r = -ENOMEM;

	if (!a)
		return -ENOMEM;
	a->module = strdup(obj->map->path);
	a->attach_path = strdup(obj->attach_path);
	if (!a->module || !a->attach_path)
		goto fail;
	r = build_probes(a, obj, t->index);
	if (r < 0)
		goto fail;
	find_own_frees(&a->own_frees, obj);
	/* The probes outlive obj: they name the allocator's copies. */
	for (size_t i = 0; i < a->n_probes; i++) {
		a->probes[i].module = a->module;
		a->probes[i].point.path = a->attach_path;
	}
	*out = a;
	return 0;
fail:
	allocator__free(a);
	return r;
}

static int join_paths(const struct proc_map **objects, size_t n, char **out)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(objects[i]->path) + 2;
	s = malloc(len);
	if (!s)
		return -ENOMEM;
	s[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, ", ");
		strcat(s, objects[i]->path);
	}
	*out = s;
	return 0;
}

/* Is m the object that provides malloc? Then *out is its allocator. Returns
 * 0 when it is, -ENOENT when it is not, -errno when it cannot be read: an
 * object skipped could be the real allocator, so that is an error. */
static int try_provider(const struct target *t, const struct proc_map *m, struct allocator **out)
{
	struct target_object obj;
	struct elf_symbol sym;
	int r = target__open_object(t, m, &obj);

	if (r < 0)
		return r;
	r = elf_object__find_function(obj.elf, "malloc", provider_table(obj.elf), &sym);
	if (r == 0)
		r = provider_new(t, &obj, out);
	target_object__clear(&obj);
	return r;
}

int allocator__find(const struct target *t, struct allocator **out, char **searched)
{
	const struct proc_map **objects;
	size_t n, i;
	int r = target__search_order(t, &objects, &n);

	if (r < 0)
		return r;
	r = -ENOENT;
	for (i = 0; i < n && r == -ENOENT; i++)
		r = try_provider(t, objects[i], out);
	if (r == -ENOENT) {
		if (join_paths(objects, n, searched) < 0)
			r = -ENOMEM;
	} else if (r < 0 && asprintf(searched, "%s", objects[i - 1]->path) < 0) {
		r = -ENOMEM;
	}
	free(objects);
	return r;
}

void allocator__free(struct allocator *a)
{
	if (!a)
		return;
	free(a->module);
	free(a->attach_path);
	free(a->probes);
	free(a);
}
