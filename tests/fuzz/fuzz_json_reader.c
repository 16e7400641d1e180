/* fuzz_json_reader.c - what `memleakd diff` reads a saved report with: the
 * JSON parser (json_parse, and json_parse_next over a stream of values),
 * the report reader on top of it (saved_report__parse), and the diff of
 * the report with itself, written as text and as JSON. The input is the
 * file's contents.
 *
 * Beyond not crashing: an error's line and column are those of its
 * offset; a tree nests no deeper than asked, its strings end where their
 * length says, and written back as JSON (strings by json_write_string, as
 * the reports write them) it parses to the same tree; a stream advances
 * with every value; a report diffed with itself has grown by nothing, and
 * the diff's JSON output parses. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "diff/diff.h"
#include "diff/json_reader.h"
#include "diff/saved_report.h"
#include "fuzz.h"
#include "util/json_writer.h"

static void check_error(const char *buf, size_t len, const struct json_error *e)
{
	unsigned int line, column;

	FUZZ_CHECK(e->offset <= len && e->message[0]);
	json_position(buf, e->offset, &line, &column);
	FUZZ_CHECK(line == e->line && column == e->column);
}

static void check_tree(const struct json_value *v, size_t len, unsigned int depth)
{
	FUZZ_CHECK(v->offset < len);
	switch (v->type) {
	case JSON_STRING:
		FUZZ_CHECK(v->string.s && v->string.s[v->string.len] == '\0');
		break;
	case JSON_NUMBER:
		FUZZ_CHECK(!v->number.is_uint64 || !v->number.is_int64 || v->number.i64 < 0 ||
			   (uint64_t)v->number.i64 == v->number.u64);
		break;
	case JSON_ARRAY:
		FUZZ_CHECK(depth < JSON_DEFAULT_DEPTH);
		for (size_t i = 0; i < v->array.n; i++)
			check_tree(&v->array.items[i], len, depth + 1);
		break;
	case JSON_OBJECT:
		FUZZ_CHECK(depth < JSON_DEFAULT_DEPTH);
		for (size_t i = 0; i < v->object.n; i++) {
			FUZZ_CHECK(v->object.members[i].key.type == JSON_STRING);
			check_tree(&v->object.members[i].key, len, depth + 1);
			check_tree(&v->object.members[i].value, len, depth + 1);
		}
		break;
	default:
		break;
	}
}

/* v as JSON. A string stops at its first NUL, as the writers' strings do. */
static void write_tree(FILE *f, const struct json_value *v)
{
	switch (v->type) {
	case JSON_NULL:
	case JSON_FALSE:
	case JSON_TRUE:
		fputs(json_type_name(v->type), f);
		break;
	case JSON_NUMBER:
		if (v->number.is_int64)
			fprintf(f, "%" PRId64, v->number.i64);
		else if (v->number.is_uint64)
			fprintf(f, "%" PRIu64, v->number.u64);
		else
			fprintf(f, "%.17g", v->number.d);
		break;
	case JSON_STRING:
		json_write_string(f, v->string.s);
		break;
	case JSON_ARRAY:
		fputc('[', f);
		for (size_t i = 0; i < v->array.n; i++) {
			fputs(i ? "," : "", f);
			write_tree(f, &v->array.items[i]);
		}
		fputc(']', f);
		break;
	case JSON_OBJECT:
		fputc('{', f);
		for (size_t i = 0; i < v->object.n; i++) {
			fputs(i ? "," : "", f);
			write_tree(f, &v->object.members[i].key);
			fputc(':', f);
			write_tree(f, &v->object.members[i].value);
		}
		fputc('}', f);
		break;
	}
}

static void expect_same(const struct json_value *a, const struct json_value *b)
{
	FUZZ_CHECK(a->type == b->type);
	switch (a->type) {
	case JSON_NUMBER:
		/* An exact value stays exact; a double written as %.17g may
		 * become one (a number that underflowed to 0). */
		FUZZ_CHECK(a->number.d == b->number.d);
		FUZZ_CHECK(!a->number.is_int64 || (b->number.is_int64 && a->number.i64 == b->number.i64));
		FUZZ_CHECK(!a->number.is_uint64 ||
			   (b->number.is_uint64 && a->number.u64 == b->number.u64));
		break;
	case JSON_STRING:
		FUZZ_CHECK(b->string.len == strlen(a->string.s) &&
			   !strcmp(a->string.s, b->string.s));
		break;
	case JSON_ARRAY:
		FUZZ_CHECK(a->array.n == b->array.n);
		for (size_t i = 0; i < a->array.n; i++)
			expect_same(&a->array.items[i], &b->array.items[i]);
		break;
	case JSON_OBJECT:
		FUZZ_CHECK(a->object.n == b->object.n);
		for (size_t i = 0; i < a->object.n; i++) {
			expect_same(&a->object.members[i].key, &b->object.members[i].key);
			expect_same(&a->object.members[i].value, &b->object.members[i].value);
		}
		break;
	default:
		break;
	}
}

static void round_trip(const struct json_value *v)
{
	struct json_value *again = NULL;
	struct json_error e;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	FUZZ_CHECK(f != NULL);
	write_tree(f, v);
	FUZZ_CHECK(fclose(f) == 0);
	FUZZ_CHECK(json_parse(text, len, JSON_DEFAULT_DEPTH, &again, &e) == 0);
	expect_same(v, again);
	json_free(again);
	free(text);
}

static void fuzz_document(const char *buf, size_t len)
{
	struct json_value *v = NULL;
	struct json_error e = { 0 };
	int r = json_parse(buf, len, JSON_DEFAULT_DEPTH, &v, &e);

	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL);
		check_error(buf, len, &e);
		return;
	}
	check_tree(v, len, 0);
	round_trip(v);
	json_free(v);
}

static void fuzz_stream(const char *buf, size_t len)
{
	struct json_error e = { 0 };
	size_t pos = 0;
	int r;

	for (;;) {
		struct json_value *v = NULL;
		size_t before = pos;

		r = json_parse_next(buf, len, &pos, JSON_DEFAULT_DEPTH, &v, &e);
		if (r < 0)
			break;
		FUZZ_CHECK(pos > before && pos <= len);
		check_tree(v, len, 0);
		json_free(v);
	}
	FUZZ_CHECK(r == -ENODATA || r == -EINVAL);
	if (r == -EINVAL)
		check_error(buf, len, &e);
}

/* The diff's outputs, for a report against itself. */
static void fuzz_diff(const struct saved_report *r)
{
	struct json_value *v = NULL;
	struct json_error e;
	struct diff *d = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	FUZZ_CHECK(diff_compute(r, r, &d) == 0);
	FUZZ_CHECK(d->growth_bytes == 0 && d->growth_allocs == 0 && d->n == r->n_stacks);
	f = open_memstream(&text, &len);
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(diff_write_text(f, d, 0) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	free(text);
	f = open_memstream(&text, &len);
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(diff_write_json(f, d, 0) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	FUZZ_CHECK(json_parse(text, len, JSON_DEFAULT_DEPTH, &v, &e) == 0);
	json_free(v);
	free(text);
	diff_free(d);
}

static void fuzz_report(const char *buf, size_t len)
{
	struct saved_report *r = NULL;
	char *error = NULL;
	int rc = saved_report__parse(buf, len, "fuzz", &r, &error);

	if (rc < 0) {
		FUZZ_CHECK(rc == -ENODATA || rc == -EINVAL);
		FUZZ_CHECK(error && !strncmp(error, "fuzz", 4));
		free(error);
		return;
	}
	FUZZ_CHECK(r->count >= 1 && r->time && (r->stacks || !r->n_stacks));
	for (size_t i = 0; i < r->n_stacks; i++)
		FUZZ_CHECK(r->stacks[i].frames || !r->stacks[i].n_frames);
	fuzz_diff(r);
	saved_report__free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;

	fuzz_document(buf, size);
	fuzz_stream(buf, size);
	fuzz_report(buf, size);
	return 0;
}
