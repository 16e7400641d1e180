/* fuzz_preset.c - the custom allocator spec parser (alloc_spec_parse) and
 * the preset file parser (preset_parse), on text a user or a shipped
 * preset file gives. The first byte picks the spec's kind and whether the
 * preset's symbols get a prefix; the rest is read both as one spec and as
 * a preset file.
 *
 * Beyond not crashing: an accepted spec has a symbol, argument numbers in
 * range, no argument in two roles, only the keys its kind takes and its
 * defaults filled in; written back as SYMBOL[@MODULE]:key=N,... it parses
 * to the same spec; a rejected one, or preset, says why (the preset's
 * message names it and the line), and every spec of a preset names it. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "probes/alloc_spec.h"
#include "probes/preset.h"

static const enum probe_kind kinds[] = { PROBE_ALLOC, PROBE_FREE, PROBE_REALLOC, PROBE_RESET };

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_spec(const struct alloc_spec *a, const struct alloc_spec *b)
{
	return a->kind == b->kind && same_string(a->symbol, b->symbol) &&
	       same_string(a->module, b->module) && same_string(a->ctx_global, b->ctx_global) &&
	       a->size == b->size && a->nmemb == b->nmemb && a->ptr == b->ptr && a->out == b->out &&
	       a->ctx == b->ctx;
}

/* What an accepted spec must be, whatever the text was. */
static void check_spec(const struct alloc_spec *s)
{
	const uint8_t args[] = { s->size, s->nmemb, s->ptr, s->out, s->ctx };
	char *text = NULL;

	FUZZ_CHECK(s->symbol && *s->symbol && !strchr(s->symbol, '@') && !strchr(s->symbol, ':'));
	FUZZ_CHECK(!s->module || (*s->module && !strchr(s->module, ':')));
	for (size_t i = 0; i < sizeof(args); i++) {
		FUZZ_CHECK(args[i] <= ALLOC_SPEC_MAX_ARG);
		for (size_t j = i + 1; j < sizeof(args); j++)
			FUZZ_CHECK(!args[i] || args[i] != args[j]);
	}
	switch (s->kind) {
	case PROBE_ALLOC:
		FUZZ_CHECK(s->size && !s->ptr);
		break;
	case PROBE_FREE:
		FUZZ_CHECK(s->ptr && !s->size && !s->nmemb && !s->out && !s->ctx && !s->ctx_global);
		break;
	case PROBE_REALLOC:
		FUZZ_CHECK(s->ptr && s->size && !s->out && !s->ctx && !s->ctx_global);
		break;
	case PROBE_RESET:
		FUZZ_CHECK((s->ctx || s->ctx_global) && !s->size && !s->nmemb && !s->ptr && !s->out);
		break;
	default:
		FUZZ_CHECK(!"a kind that was not asked for");
	}
	FUZZ_CHECK(alloc_spec_format(s, &text) == 0);
	FUZZ_CHECK(!strncmp(text, alloc_spec_flag(s->kind), strlen(alloc_spec_flag(s->kind))));
	free(text);
	(void)alloc_spec_cookie(s);
}

/* s written back as a spec's text, every argument given. */
static char *write_back(const struct alloc_spec *s)
{
	static const char *const names[] = { "size", "nmemb", "ptr", "out", "ctx" };
	const uint8_t args[] = { s->size, s->nmemb, s->ptr, s->out, s->ctx };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const char *sep = ":";

	FUZZ_CHECK(f != NULL);
	fprintf(f, "%s%s%s", s->symbol, s->module ? "@" : "", s->module ? s->module : "");
	for (size_t i = 0; i < sizeof(args); i++) {
		if (args[i])
			fprintf(f, "%s%s=%u", sep, names[i], args[i]);
		sep = args[i] ? "," : sep;
	}
	if (s->ctx_global)
		fprintf(f, "%sctx=@%s", sep, s->ctx_global);
	FUZZ_CHECK(fclose(f) == 0);
	return text;
}

static void fuzz_spec(enum probe_kind kind, const char *text)
{
	struct alloc_spec s, again;
	char *error = NULL, *back;
	int r = alloc_spec_parse(kind, text, &s, &error);

	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL && error && !strncmp(error, alloc_spec_flag(kind),
							      strlen(alloc_spec_flag(kind))));
		free(error);
		return;
	}
	FUZZ_CHECK(s.kind == kind && !error);
	check_spec(&s);
	back = write_back(&s);
	r = alloc_spec_parse(kind, back, &again, &error);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(same_spec(&s, &again));
	alloc_spec_clear(&again);
	alloc_spec_clear(&s);
	free(back);
}

static void fuzz_preset(const uint8_t *data, size_t size, const char *prefix)
{
	struct alloc_specs list = { 0 };
	char *error = NULL;
	FILE *f = fmemopen((void *)data, size, "r");
	int r;

	if (!size)
		return;
	FUZZ_CHECK(f != NULL);
	r = preset_parse(f, "fuzz", prefix, &list, &error);
	fclose(f);
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	FUZZ_CHECK(r == 0 ? !error : error && !strncmp(error, "--preset fuzz, line ", 20));
	for (size_t i = 0; i < list.n; i++) {
		check_spec(&list.items[i]);
		FUZZ_CHECK(same_string(list.items[i].preset, "fuzz"));
		FUZZ_CHECK(!prefix || !strncmp(list.items[i].symbol, prefix, strlen(prefix)));
	}
	free(error);
	alloc_specs_clear(&list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t choice = (uint8_t)fuzz_take(&data, &size, 1);
	char *text = malloc(size + 1);

	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	fuzz_spec(kinds[choice % 4], text);
	fuzz_preset(data, size, choice & 4 ? "pg_" : NULL);
	free(text);
	return 0;
}
