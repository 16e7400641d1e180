/* alloc_spec.c - parse SYMBOL[@MODULE][:key=value,...] into a struct
 * alloc_spec, check it, and encode it as an attach cookie. */
#include "probes/alloc_spec.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND_BIT(k) (1u << (k))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Which keys each kind takes, and where each argument number goes. The
 * ctx field holds the context a record is in: the one allocated from, the
 * one reset or deleted, a new context's parent. A moved context is the ptr
 * field: the record that moves. */
static const struct spec_key {
	const char *name;
	size_t field; /* offsetof the uint8_t argument number */
	unsigned int kinds;
} keys[] = {
	{ "size", offsetof(struct alloc_spec, size),
	  KIND_BIT(PROBE_ALLOC) | KIND_BIT(PROBE_REALLOC) | KIND_BIT(PROBE_CREATE) },
	{ "nmemb", offsetof(struct alloc_spec, nmemb),
	  KIND_BIT(PROBE_ALLOC) | KIND_BIT(PROBE_REALLOC) },
	{ "ptr", offsetof(struct alloc_spec, ptr), KIND_BIT(PROBE_FREE) | KIND_BIT(PROBE_REALLOC) },
	{ "out", offsetof(struct alloc_spec, out), KIND_BIT(PROBE_ALLOC) | KIND_BIT(PROBE_CREATE) },
	{ "ctx", offsetof(struct alloc_spec, ctx),
	  KIND_BIT(PROBE_ALLOC) | KIND_BIT(PROBE_RESET) | KIND_BIT(PROBE_DELETE) },
	{ "ctx", offsetof(struct alloc_spec, ptr), KIND_BIT(PROBE_REPARENT) },
	{ "parent", offsetof(struct alloc_spec, ctx),
	  KIND_BIT(PROBE_CREATE) | KIND_BIT(PROBE_REPARENT) },
};

static const char *const flags[] = {
	[PROBE_ALLOC] = "--alloc",
	[PROBE_FREE] = "--free",
	[PROBE_REALLOC] = "--realloc",
	[PROBE_RESET] = "--reset",
	[PROBE_CREATE] = "--create",
	[PROBE_DELETE] = "--delete",
	[PROBE_REPARENT] = "--reparent",
};

const char *alloc_spec_flag(enum probe_kind kind)
{
	return (size_t)kind < ARRAY_SIZE(flags) ? flags[kind] : NULL;
}

enum probe_kind alloc_spec_kind(const char *flag)
{
	for (size_t k = 0; k < ARRAY_SIZE(flags); k++)
		if (flags[k] && !strcmp(flags[k], flag))
			return (enum probe_kind)k;
	return 0;
}

__attribute__((format(printf, 4, 5))) static int fail(char **error, enum probe_kind kind,
						       const char *text, const char *fmt, ...)
{
	char *what;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	r = asprintf(error, "%s '%s': %s", alloc_spec_flag(kind), text, what);
	free(what);
	return r < 0 ? -ENOMEM : -EINVAL;
}

static uint8_t *arg_field(struct alloc_spec *s, const struct spec_key *k)
{
	return (uint8_t *)s + k->field;
}

/* The key of kind named name[0..len), or NULL. */
static const struct spec_key *key_named(enum probe_kind kind, const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if ((keys[i].kinds & KIND_BIT(kind)) && strlen(keys[i].name) == len &&
		    !strncmp(keys[i].name, name, len))
			return &keys[i];
	return NULL;
}

static bool is_ctx_field(const struct spec_key *k)
{
	return k->field == offsetof(struct alloc_spec, ctx);
}

/* "size, nmemb" for the keys kind takes, into buf. */
static const char *keys_of(enum probe_kind kind, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].kinds & KIND_BIT(kind))
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? ", " : "", keys[i].name);
	if (kind == PROBE_FREE)
		snprintf(buf + at, len - at, ", methods");
	return buf;
}

static bool is_identifier(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(*s == '_' || *s == '.' || *s == '$' || (*s >= '0' && *s <= '9') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

/* methods=FUNCTION:N, value[0..vlen). */
static int parse_methods(struct alloc_spec *s, const char *text, const char *value, size_t vlen,
			 char **error)
{
	const char *colon = memchr(value, ':', vlen);
	size_t name_len = colon ? (size_t)(colon - value) : vlen;

	if (s->methods_callee)
		return fail(error, s->kind, text, "methods is given twice");
	s->methods_callee = strndup(value, name_len);
	if (!s->methods_callee)
		return -ENOMEM;
	if (!colon || !is_identifier(s->methods_callee) || value + vlen != colon + 2 ||
	    colon[1] < '1' || colon[1] > '0' + ALLOC_SPEC_MAX_ARG)
		return fail(error, s->kind, text,
			    "methods=%.*s is not FUNCTION:N (N, the argument that passes the "
			    "table, from 1 to %d)", (int)vlen, value, ALLOC_SPEC_MAX_ARG);
	s->methods_arg = (uint8_t)(colon[1] - '0');
	return 0;
}

static int parse_key(struct alloc_spec *s, const char *text, const char *item, size_t len,
		     char **error)
{
	const char *eq = memchr(item, '=', len);
	const struct spec_key *k = eq ? key_named(s->kind, item, (size_t)(eq - item)) : NULL;
	const char *value = eq ? eq + 1 : NULL;
	size_t vlen = eq ? len - (size_t)(eq - item) - 1 : 0;
	char buf[64];

	if (!eq)
		return fail(error, s->kind, text, "'%.*s' is not key=value", (int)len, item);
	if (s->kind == PROBE_FREE && eq - item == 7 && !strncmp(item, "methods", 7))
		return parse_methods(s, text, value, vlen, error);
	if (!k)
		return fail(error, s->kind, text, "unknown key '%.*s' (%s takes: %s)",
			    (int)(eq - item), item, alloc_spec_flag(s->kind),
			    keys_of(s->kind, buf, sizeof(buf)));
	if (*arg_field(s, k) || (is_ctx_field(k) && s->ctx_global))
		return fail(error, s->kind, text, "%s is given twice", k->name);
	if (is_ctx_field(k) && vlen > 1 && value[0] == '@') {
		s->ctx_global = strndup(value + 1, vlen - 1);
		if (!s->ctx_global)
			return -ENOMEM;
		if (!is_identifier(s->ctx_global))
			return fail(error, s->kind, text, "%s=@%s is not a variable name", k->name,
				    s->ctx_global);
		return 0;
	}
	if ((vlen != 1 || value[0] < '1' || value[0] > '0' + ALLOC_SPEC_MAX_ARG) && is_ctx_field(k))
		return fail(error, s->kind, text,
			    "%s=%.*s: arguments are numbered from 1 to %d (or %s=@GLOBAL)", k->name,
			    (int)vlen, value, ALLOC_SPEC_MAX_ARG, k->name);
	if (vlen != 1 || value[0] < '1' || value[0] > '0' + ALLOC_SPEC_MAX_ARG)
		return fail(error, s->kind, text, "%s=%.*s: arguments are numbered from 1 to %d",
			    k->name, (int)vlen, value, ALLOC_SPEC_MAX_ARG);
	*arg_field(s, k) = (uint8_t)(value[0] - '0');
	return 0;
}

static void apply_defaults(struct alloc_spec *s)
{
	switch (s->kind) {
	case PROBE_ALLOC:
		if (!s->size)
			s->size = 1;
		break;
	case PROBE_FREE:
		if (!s->ptr)
			s->ptr = 1;
		break;
	case PROBE_REALLOC:
		if (!s->ptr)
			s->ptr = 1;
		if (!s->size)
			s->size = 2;
		break;
	case PROBE_RESET:
	case PROBE_DELETE:
		if (!s->ctx && !s->ctx_global)
			s->ctx = 1;
		break;
	case PROBE_REPARENT:
		if (!s->ptr)
			s->ptr = 1;
		if (!s->ctx && !s->ctx_global)
			s->ctx = 2;
		break;
	default:
		break;
	}
}

/* No argument may play two roles. */
static int check_roles(struct alloc_spec *s, const char *text, char **error)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		for (size_t j = i + 1; j < ARRAY_SIZE(keys); j++) {
			uint8_t a = *arg_field(s, &keys[i]), b = *arg_field(s, &keys[j]);

			if (!(keys[i].kinds & keys[j].kinds & KIND_BIT(s->kind)))
				continue;
			if (a && a == b)
				return fail(error, s->kind, text, "argument %u is both %s and %s",
					    a, keys[i].name, keys[j].name);
		}
	return 0;
}

static int parse_name(struct alloc_spec *s, const char *text, size_t len, char **error)
{
	const char *at = memchr(text, '@', len);
	size_t symbol_len = at ? (size_t)(at - text) : len;

	if (!symbol_len)
		return fail(error, s->kind, text, "no symbol name");
	if (at && at + 1 == text + len)
		return fail(error, s->kind, text, "no module after '@'");
	s->symbol = strndup(text, symbol_len);
	if (at)
		s->module = strndup(at + 1, len - symbol_len - 1);
	if (!s->symbol || (at && !s->module))
		return -ENOMEM;
	return 0;
}

int alloc_spec_parse(enum probe_kind kind, const char *text, struct alloc_spec *out,
		     char **error)
{
	struct alloc_spec s = { .kind = kind };
	const char *colon = strchr(text, ':');
	size_t name_len = colon ? (size_t)(colon - text) : strlen(text);
	int r = parse_name(&s, text, name_len, error);

	for (const char *item = colon ? colon + 1 : NULL; !r && item;) {
		const char *comma = strchr(item, ',');
		size_t len = comma ? (size_t)(comma - item) : strlen(item);

		r = parse_key(&s, text, item, len, error);
		item = comma ? comma + 1 : NULL;
	}
	if (!r) {
		apply_defaults(&s);
		r = check_roles(&s, text, error);
	}
	if (r < 0) {
		alloc_spec_clear(&s);
		return r;
	}
	*out = s;
	return 0;
}

int alloc_spec_format(const struct alloc_spec *s, char **out)
{
	int r = asprintf(out, "%s %s%s%s", alloc_spec_flag(s->kind), s->symbol,
			 s->module ? "@" : "", s->module ? s->module : "");

	return r < 0 ? -ENOMEM : 0;
}

uint64_t alloc_spec_cookie(const struct alloc_spec *s)
{
	uint64_t c = (uint64_t)s->kind << COOKIE_KIND_SHIFT;

	c |= (uint64_t)s->size << COOKIE_SIZE_SHIFT;
	c |= (uint64_t)s->nmemb << COOKIE_NMEMB_SHIFT;
	c |= (uint64_t)s->ptr << COOKIE_PTR_SHIFT;
	c |= (uint64_t)s->out << COOKIE_OUT_SHIFT;
	c |= (uint64_t)s->ctx << COOKIE_CTX_SHIFT;
	if (s->ctx_global)
		c |= (uint64_t)PROBE_F_CTX_GLOBAL << COOKIE_FLAGS_SHIFT;
	/* A realloc asked for 0 bytes that returns NULL has freed the block:
	 * no allocator fails a request for nothing. */
	if (s->kind == PROBE_REALLOC)
		c |= (uint64_t)PROBE_F_ZERO_SIZE_FREES << COOKIE_FLAGS_SHIFT;
	/* A custom allocator mostly takes its memory from another traced one
	 * (malloc), or from itself: its calls nest. */
	if (s->kind == PROBE_ALLOC || s->kind == PROBE_REALLOC || s->kind == PROBE_RESIZE ||
	    s->kind == PROBE_CREATE)
		c |= (uint64_t)PROBE_F_NESTS << COOKIE_FLAGS_SHIFT;
	return c;
}

void alloc_spec_clear(struct alloc_spec *s)
{
	free(s->symbol);
	free(s->module);
	free(s->ctx_global);
	free(s->methods_callee);
	free(s->preset);
	*s = (struct alloc_spec){ 0 };
}

int alloc_specs_add(struct alloc_specs *list, struct alloc_spec *s)
{
	struct alloc_spec *n = realloc(list->items, (list->n + 1) * sizeof(*n));

	if (!n) {
		alloc_spec_clear(s);
		return -ENOMEM;
	}
	n[list->n++] = *s;
	list->items = n;
	return 0;
}

void alloc_specs_clear(struct alloc_specs *list)
{
	for (size_t i = 0; i < list->n; i++)
		alloc_spec_clear(&list->items[i]);
	free(list->items);
	*list = (struct alloc_specs){ 0 };
}
