/* test_json_reader.c - the JSON parser: valid documents, exact integers,
 * escapes and UTF-8, every error with its message and line:column, the
 * depth limit, streams of values, and input that is not NUL-terminated. */
#include <errno.h>

#include "diff/json_reader.h"
#include "unit.h"

static struct json_value *parse(const char *text)
{
	struct json_value *v = NULL;
	struct json_error e;
	int r = json_parse(text, strlen(text), JSON_DEFAULT_DEPTH, &v, &e);

	if (r < 0)
		fprintf(stderr, "  parsing %s: %d %u:%u %s\n", text, r, e.line, e.column, e.message);
	EXPECT_EQ(r, 0);
	return v;
}

/* text must fail with -EINVAL, message at line:column. */
static void expect_error_n(const char *text, size_t len, unsigned int line, unsigned int column,
			   const char *message)
{
	struct json_value *v = NULL;
	struct json_error e = { 0 };
	int r = json_parse(text, len, JSON_DEFAULT_DEPTH, &v, &e);

	EXPECT_EQ(r, -EINVAL);
	EXPECT(v == NULL);
	EXPECT_STREQ(e.message, message);
	if (e.line != line || e.column != column)
		fprintf(stderr, "  %s: at %u:%u\n", text, e.line, e.column);
	EXPECT_EQ(e.line, line);
	EXPECT_EQ(e.column, column);
}

static void expect_error(const char *text, unsigned int line, unsigned int column,
			 const char *message)
{
	expect_error_n(text, strlen(text), line, column, message);
}

TEST(scalars)
{
	struct json_value *v;

	v = parse(" true ");
	EXPECT_EQ(v->type, JSON_TRUE);
	json_free(v);
	v = parse("false");
	EXPECT_EQ(v->type, JSON_FALSE);
	json_free(v);
	v = parse("\n\tnull\r\n");
	EXPECT_EQ(v->type, JSON_NULL);
	json_free(v);
	v = parse("\"report\"");
	EXPECT_EQ(v->type, JSON_STRING);
	EXPECT_STREQ(v->string.s, "report");
	EXPECT_EQ(v->string.len, 6);
	json_free(v);
}

TEST(containers)
{
	struct json_value *v = parse("{\"a\": [1, {\"b\": null}, []], \"c\": {}, \"a\": 2}");
	const struct json_value *a = json_get(v, "a");
	uint64_t n = 0;

	EXPECT_EQ(v->type, JSON_OBJECT);
	EXPECT_EQ(v->object.n, 3);
	EXPECT(a && a->type == JSON_ARRAY && a->array.n == 3);
	if (a && a->array.n == 3) {
		EXPECT_EQ(json_uint64(&a->array.items[0], &n), 0);
		EXPECT_EQ(n, 1);
		EXPECT_EQ(json_get(&a->array.items[1], "b")->type, JSON_NULL);
		EXPECT_EQ(a->array.items[2].array.n, 0);
		EXPECT_EQ(a->array.items[1].offset, 10);
	}
	EXPECT_EQ(json_get(v, "c")->object.n, 0);
	EXPECT(json_get(v, "missing") == NULL);
	EXPECT(json_get(a, "a") == NULL);
	EXPECT_STREQ(v->object.members[2].key.string.s, "a");
	json_free(v);
	json_free(NULL);
}

/* text's double, and what json_uint64 and json_int64 return for it. */
struct number_case {
	const char *text;
	double d;
	int uint_r;
	uint64_t u;
	int int_r;
	int64_t i;
};

#define NOT_EXACT -EINVAL, 7

TEST(numbers)
{
	static const struct number_case cases[] = {
		{ "0", 0, 0, 0, 0, 0 },
		{ "-0", 0, 0, 0, 0, 0 },
		{ "1048576", 1048576, 0, 1048576, 0, 1048576 },
		/* Byte counts beyond 2^53 stay exact. */
		{ "9007199254740993", 9007199254740992.0, 0, 9007199254740993ULL, 0,
		  9007199254740993LL },
		{ "18446744073709551615", 18446744073709551615.0, 0, UINT64_MAX, NOT_EXACT },
		{ "9223372036854775808", 9223372036854775808.0, 0, 9223372036854775808ULL, NOT_EXACT },
		{ "9223372036854775807", 9223372036854775807.0, 0, INT64_MAX, 0, INT64_MAX },
		{ "-9223372036854775808", -9223372036854775808.0, NOT_EXACT, 0, INT64_MIN },
		{ "-42", -42, NOT_EXACT, 0, -42 },
		{ "1e3", 1000, 0, 1000, 0, 1000 },
		{ "2.50E1", 25, 0, 25, 0, 25 },
		{ "-1.0", -1, NOT_EXACT, 0, -1 },
		{ "18446744073709551616", 18446744073709551616.0, NOT_EXACT, NOT_EXACT },
		{ "1.5", 1.5, NOT_EXACT, NOT_EXACT },
		{ "-2.5e-3", -2.5e-3, NOT_EXACT, NOT_EXACT },
		{ "1e300", 1e300, NOT_EXACT, NOT_EXACT },
		{ "1e20", 1e20, NOT_EXACT, NOT_EXACT },
		/* Underflow is 0 as a double, but the number is not 0. */
		{ "1e-400", 0, NOT_EXACT, NOT_EXACT },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct number_case *c = &cases[k];
		struct json_value *v = parse(c->text);
		uint64_t u = 7;
		int64_t i = 7;

		if (!v)
			continue;
		EXPECT(v->type == JSON_NUMBER && v->number.d == c->d);
		EXPECT_EQ(json_uint64(v, &u), c->uint_r);
		EXPECT_EQ(json_int64(v, &i), c->int_r);
		if (u != c->u || i != c->i)
			fprintf(stderr, "  %s: %" PRIu64 ", %" PRId64 "\n", c->text, u, i);
		EXPECT(u == c->u && i == c->i);
		json_free(v);
	}
}

TEST(not_numbers)
{
	struct json_value *v = parse("\"5\"");
	uint64_t u = 0;
	int64_t i = 0;

	EXPECT_EQ(json_uint64(v, &u), -EINVAL);
	EXPECT_EQ(json_int64(v, &i), -EINVAL);
	json_free(v);
	EXPECT_EQ(json_uint64(NULL, &u), -EINVAL);
}

static void expect_string(const char *text, const char *want, size_t len)
{
	struct json_value *v = parse(text);

	EXPECT_EQ(v->type, JSON_STRING);
	EXPECT_EQ(v->string.len, len);
	EXPECT(v->string.len == len && !memcmp(v->string.s, want, len + 1));
	json_free(v);
}

TEST(escapes)
{
	expect_string("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\" \\ / \b \f \n \r \t", 15);
	expect_string("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6);
	/* A surrogate pair is one code point, U+1F600, in 4 bytes. */
	expect_string("\"\\ud83d\\ude00!\"", "\xf0\x9f\x98\x80!", 5);
	expect_string("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);
	expect_string("\"a\\u0000b\"", "a\0b", 3);
	/* Raw UTF-8 passes through. */
	expect_string("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
	expect_string("\"\"", "", 0);
}

TEST(syntax_errors)
{
	expect_error("", 1, 1, "expected a value");
	expect_error("  \n ", 2, 2, "expected a value");
	expect_error("[1,]", 1, 4, "expected a value");
	expect_error("[1 2]", 1, 4, "expected ',' or ']'");
	expect_error("{\"a\" 1}", 1, 6, "expected ':'");
	expect_error("{\"a\":1 \"b\":2}", 1, 8, "expected ',' or '}'");
	expect_error("{1:2}", 1, 2, "expected a string key");
	expect_error("{\"a\":1,}", 1, 8, "expected a string key");
	expect_error("[1] x", 1, 5, "expected the end of input");
	expect_error("{}{}", 1, 3, "expected the end of input");
	expect_error("[tru]", 1, 2, "expected a value");
	expect_error("[NaN]", 1, 2, "expected a value");
	expect_error("Infinity", 1, 1, "expected a value");
	expect_error("'a'", 1, 1, "expected a value");
	expect_error("/* c */ 1", 1, 1, "expected a value");
	expect_error("{\n  \"a\": 1\n  \"b\": 2\n}", 3, 3, "expected ',' or '}'");
}

TEST(number_errors)
{
	expect_error("[01]", 1, 2, "invalid number (leading zero)");
	expect_error("-01", 1, 1, "invalid number (leading zero)");
	expect_error("[1.]", 1, 2, "invalid number");
	expect_error("[1.e5]", 1, 2, "invalid number");
	expect_error("[1e]", 1, 2, "invalid number");
	expect_error("[1e+]", 1, 2, "invalid number");
	expect_error("[-]", 1, 2, "invalid number");
	expect_error("[-a]", 1, 2, "invalid number");
	expect_error("[.5]", 1, 2, "expected a value");
	expect_error("[+1]", 1, 2, "expected a value");
	expect_error("[0x10]", 1, 3, "expected ',' or ']'");
	expect_error("[1e400]", 1, 2, "number out of range");
	expect_error("-1e400", 1, 1, "number out of range");
}

TEST(string_errors)
{
	expect_error("[\"a\\qb\"]", 1, 4, "invalid escape");
	expect_error_n("[\"a\\\0\"]", 7, 1, 4, "invalid escape");
	expect_error("[\"\\u12G4\"]", 1, 3, "invalid \\u escape");
	expect_error("[\"\\udc00\"]", 1, 3, "lone low surrogate");
	expect_error("[\"\\ud800\"]", 1, 3, "high surrogate without its low half");
	expect_error("[\"\\ud800\\u0041\"]", 1, 3, "high surrogate without its low half");
	expect_error("[\"\\ud800\\n\"]", 1, 3, "high surrogate without its low half");
	expect_error("[\"\\ud800\\uZZZZ\"]", 1, 9, "invalid \\u escape");
	expect_error("[\"a\tb\"]", 1, 4, "control character in a string");
	expect_error("\"line\nbreak\"", 1, 6, "control character in a string");
	expect_error_n("\"a\0b\"", 5, 1, 3, "control character in a string");
	expect_error("{\"k\x01\":1}", 1, 4, "control character in a string");
}

TEST(utf8_errors)
{
	expect_error("\"\xff\"", 1, 2, "invalid UTF-8");
	expect_error("\"\x80\"", 1, 2, "invalid UTF-8");
	/* Overlong '/', an encoded surrogate, past U+10FFFF, a bad tail. */
	expect_error("\"\xc0\xaf\"", 1, 2, "invalid UTF-8");
	expect_error("\"\xe0\x80\xaf\"", 1, 2, "invalid UTF-8");
	expect_error("\"\xed\xa0\x80\"", 1, 2, "invalid UTF-8");
	expect_error("\"\xf4\x90\x80\x80\"", 1, 2, "invalid UTF-8");
	expect_error("\"\xf5\x80\x80\x80\"", 1, 2, "invalid UTF-8");
	expect_error("\"a\xc3(\"", 1, 3, "invalid UTF-8");
	expect_error("\"\xe2\x82\"", 1, 2, "invalid UTF-8");
}

/* A report cut short anywhere fails at its end, which tells a reader that
 * the input was truncated rather than wrong. */
TEST(truncated)
{
	static const char *const cut[] = {
		"{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,", "[1,", "[", "\"abc", "\"a\\",
		"\"\\u12", "\"\\ud83d", "\"\\ud83d\\u", "tr", "nul", "f", "-", "1.", "1e", "1e-",
		"\"\xe2\x82", "\"\xf0",
	};

	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		struct json_value *v = NULL;
		struct json_error e = { 0 };
		size_t len = strlen(cut[i]);

		EXPECT_EQ(json_parse(cut[i], len, JSON_DEFAULT_DEPTH, &v, &e), -EINVAL);
		if (e.offset != len || strcmp(e.message, "unexpected end of input"))
			fprintf(stderr, "  %s: %s at %zu\n", cut[i], e.message, e.offset);
		EXPECT_EQ(e.offset, len);
		EXPECT_STREQ(e.message, "unexpected end of input");
	}
}

/* Only len bytes are read: what follows in memory is not looked at. */
TEST(length_bounded)
{
	static const char text[] = "[123] garbage";
	char exact[3] = { '4', '5', '6' };
	struct json_value *v = NULL;
	struct json_error e;
	uint64_t n = 0;

	EXPECT_EQ(json_parse(text, 5, 4, &v, &e), 0);
	json_free(v);
	EXPECT_EQ(json_parse(exact, 2, 4, &v, &e), 0);
	EXPECT_EQ(json_uint64(v, &n), 0);
	EXPECT_EQ(n, 45);
	json_free(v);
	EXPECT_EQ(json_parse("true", 3, 4, &v, &e), -EINVAL);
	EXPECT_STREQ(e.message, "unexpected end of input");
	EXPECT_EQ(json_parse("\"ab\"", 3, 4, &v, &e), -EINVAL);
	EXPECT_EQ(e.offset, 3);
}

static char *nested(size_t depth, const char *inner)
{
	size_t n = strlen(inner);
	char *s = malloc(2 * depth + n + 1);

	memset(s, '[', depth);
	memcpy(s + depth, inner, n);
	memset(s + depth + n, ']', depth);
	s[2 * depth + n] = '\0';
	return s;
}

TEST(depth_limit)
{
	struct json_value *v = NULL;
	struct json_error e;
	char *ok = nested(JSON_DEFAULT_DEPTH, "1"), *deep = nested(JSON_DEFAULT_DEPTH + 1, "1");
	char *huge = nested(1000000, "");

	EXPECT_EQ(json_parse(ok, strlen(ok), JSON_DEFAULT_DEPTH, &v, &e), 0);
	json_free(v);
	expect_error(deep, 1, JSON_DEFAULT_DEPTH + 1, "nesting deeper than 64");
	/* A million brackets fail at the limit, without a million frames. */
	EXPECT_EQ(json_parse(huge, strlen(huge), JSON_DEFAULT_DEPTH, &v, &e), -EINVAL);
	EXPECT_EQ(e.offset, JSON_DEFAULT_DEPTH);
	EXPECT_EQ(json_parse("{\"a\":{\"b\":1}}", 13, 1, &v, &e), -EINVAL);
	EXPECT_STREQ(e.message, "nesting deeper than 1");
	EXPECT_EQ(e.column, 6);
	EXPECT_EQ(json_parse("[]", 2, 0, &v, &e), -EINVAL);
	EXPECT_EQ(json_parse("7", 1, 0, &v, &e), 0);
	json_free(v);
	free(ok);
	free(deep);
	free(huge);
}

/* JSON Lines: one call per value, -ENODATA once only blanks are left. */
TEST(stream)
{
	static const char text[] = "{\"n\":1}\n[2]\n\n  3 \n";
	struct json_value *v = NULL;
	struct json_error e;
	size_t pos = 0;
	uint64_t n = 0;

	EXPECT_EQ(json_parse_next(text, strlen(text), &pos, 8, &v, &e), 0);
	EXPECT_EQ(pos, 8);
	EXPECT_EQ(json_uint64(json_get(v, "n"), &n), 0);
	EXPECT_EQ(n, 1);
	json_free(v);
	EXPECT_EQ(json_parse_next(text, strlen(text), &pos, 8, &v, &e), 0);
	EXPECT_EQ(v->type, JSON_ARRAY);
	json_free(v);
	EXPECT_EQ(json_parse_next(text, strlen(text), &pos, 8, &v, &e), 0);
	EXPECT_EQ(v->offset, 15);
	json_free(v);
	EXPECT_EQ(pos, strlen(text));
	EXPECT_EQ(json_parse_next(text, strlen(text), &pos, 8, &v, &e), -ENODATA);
	pos = 0;
	EXPECT_EQ(json_parse_next("[1}\n", 4, &pos, 8, &v, &e), -EINVAL);
	EXPECT_EQ(pos, 0);
	EXPECT_EQ(json_parse_next("[1}\n", 4, &pos, 8, &v, NULL), -EINVAL);
}

TEST(type_names)
{
	EXPECT_STREQ(json_type_name(JSON_OBJECT), "object");
	EXPECT_STREQ(json_type_name(JSON_ARRAY), "array");
	EXPECT_STREQ(json_type_name(JSON_NUMBER), "number");
	EXPECT_STREQ(json_type_name((enum json_type)99), "?");
}

RUN_TESTS("json_reader",
	  T(scalars), T(containers), T(numbers), T(not_numbers), T(escapes), T(syntax_errors),
	  T(number_errors), T(string_errors), T(utf8_errors), T(truncated), T(length_bounded),
	  T(depth_limit), T(stream), T(type_names))
