/* json_reader.c - a strict recursive-descent JSON parser. Strict: no
 * trailing commas, comments, leading zeros, NaN, lone surrogates, raw
 * control characters or invalid UTF-8. Safe on hostile input: every read
 * checks the length first, recursion stops at the caller's depth limit
 * (freeing a tree recurses no deeper than parsing it did), and containers
 * grow geometrically, so a large input costs linear time. Repeated keys
 * are kept, in order; json_get finds the first. */
#include "diff/json_reader.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/utf8.h"

/* Integers up to 2^53 are exact in a double. */
#define EXACT_DOUBLE_LIMIT 9007199254740992.0

struct parser {
	const char *buf;
	size_t len, pos;
	unsigned int max_depth;
	struct json_error *err;
};

static int parse_value(struct parser *p, struct json_value *v, unsigned int depth);

void json_position(const char *buf, size_t offset, unsigned int *line, unsigned int *column)
{
	*line = 1;
	*column = 1;
	for (size_t i = 0; i < offset; i++) {
		if (buf[i] == '\n') {
			++*line;
			*column = 1;
		} else {
			++*column;
		}
	}
}

/* Record the error at offset; returns -EINVAL. */
static int fail_at(struct parser *p, size_t offset, const char *fmt, ...)
{
	struct json_error *e = p->err;
	va_list ap;

	if (!e)
		return -EINVAL;
	e->offset = offset;
	json_position(p->buf, offset, &e->line, &e->column);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* At the end of the input every expectation fails the same way, which is
 * how a reader tells a truncated document from a wrong one. */
static int fail_expected(struct parser *p, const char *what)
{
	if (p->pos >= p->len)
		return fail_at(p, p->len, "unexpected end of input");
	return fail_at(p, p->pos, "expected %s", what);
}

static void skip_space(struct parser *p)
{
	while (p->pos < p->len && (p->buf[p->pos] == ' ' || p->buf[p->pos] == '\t' ||
				   p->buf[p->pos] == '\r' || p->buf[p->pos] == '\n'))
		p->pos++;
}

/* The next byte, or -1 at the end. */
static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->buf[p->pos] : -1;
}

static void value_clear(struct json_value *v)
{
	switch (v->type) {
	case JSON_STRING:
		free(v->string.s);
		break;
	case JSON_ARRAY:
		for (size_t i = 0; i < v->array.n; i++)
			value_clear(&v->array.items[i]);
		free(v->array.items);
		break;
	case JSON_OBJECT:
		for (size_t i = 0; i < v->object.n; i++) {
			value_clear(&v->object.members[i].key);
			value_clear(&v->object.members[i].value);
		}
		free(v->object.members);
		break;
	default:
		break;
	}
	v->type = JSON_NULL;
}

/* The 4 hex digits of a \u escape at p->pos (past the 'u'). Returns 0 and
 * *c, or -EINVAL. */
static int read_hex4(struct parser *p, size_t escape, uint32_t *c)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		int ch = peek(p);

		if (ch < 0)
			return fail_at(p, p->len, "unexpected end of input");
		if (ch >= '0' && ch <= '9')
			v = v << 4 | (uint32_t)(ch - '0');
		else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
			v = v << 4 | (uint32_t)((ch | 0x20) - 'a' + 10);
		else
			return fail_at(p, escape, "invalid \\u escape");
		p->pos++;
	}
	*c = v;
	return 0;
}

/* A \u escape at p->pos (the backslash), a surrogate pair taken whole. */
static int read_unicode_escape(struct parser *p, uint32_t *c)
{
	size_t escape = p->pos;
	uint32_t low;
	int r;

	p->pos += 2;
	r = read_hex4(p, escape, c);
	if (r < 0 || *c < 0xd800 || *c > 0xdfff)
		return r;
	if (*c >= 0xdc00)
		return fail_at(p, escape, "lone low surrogate");
	/* Cut short before the low half: the input ends, nothing is wrong. */
	if (p->pos == p->len || (p->pos + 1 == p->len && p->buf[p->pos] == '\\'))
		return fail_at(p, p->len, "unexpected end of input");
	if (p->len - p->pos < 2 || p->buf[p->pos] != '\\' || p->buf[p->pos + 1] != 'u')
		return fail_at(p, escape, "high surrogate without its low half");
	p->pos += 2;
	r = read_hex4(p, p->pos - 2, &low);
	if (r < 0)
		return r;
	if (low < 0xdc00 || low > 0xdfff)
		return fail_at(p, escape, "high surrogate without its low half");
	*c = 0x10000 + ((*c - 0xd800) << 10) + (low - 0xdc00);
	return 0;
}

/* One escape sequence at p->pos (the backslash), decoded onto out. */
static int read_escape(struct parser *p, char *out, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *which;
	uint32_t c;
	int r;

	if (p->pos + 1 >= p->len)
		return fail_at(p, p->len, "unexpected end of input");
	if (p->buf[p->pos + 1] == 'u') {
		r = read_unicode_escape(p, &c);
		if (r == 0)
			*n += utf8_encode(out + *n, c);
		return r;
	}
	which = p->buf[p->pos + 1] ? strchr(from, p->buf[p->pos + 1]) : NULL;
	if (!which)
		return fail_at(p, p->pos, "invalid escape");
	out[(*n)++] = to[which - from];
	p->pos += 2;
	return 0;
}

/* Where the string opened at p->pos ends (its closing quote), or len: an
 * upper bound on its decoded size, since no escape decodes longer. */
static size_t string_end(const struct parser *p)
{
	size_t i = p->pos + 1;

	while (i < p->len && p->buf[i] != '"')
		i += p->buf[i] == '\\' ? 2 : 1;
	return i < p->len ? i : p->len;
}

static int decode_string(struct parser *p, char *s, size_t *n)
{
	for (;;) {
		int c = peek(p);
		size_t seq;

		if (c < 0)
			return fail_at(p, p->len, "unexpected end of input");
		if (c == '"')
			break;
		if (c == '\\') {
			int r = read_escape(p, s, n);

			if (r < 0)
				return r;
			continue;
		}
		if (c < 0x20)
			return fail_at(p, p->pos, "control character in a string");
		seq = utf8_length((unsigned char)c);
		if (seq && seq > p->len - p->pos)
			return fail_at(p, p->len, "unexpected end of input");
		if (!seq || !utf8_valid((const unsigned char *)p->buf + p->pos, seq))
			return fail_at(p, p->pos, "invalid UTF-8");
		memcpy(s + *n, p->buf + p->pos, seq);
		*n += seq;
		p->pos += seq;
	}
	p->pos++;
	return 0;
}

static int parse_string(struct parser *p, struct json_value *v)
{
	size_t n = 0;
	char *s = malloc(string_end(p) - p->pos + 1);
	int r;

	if (!s)
		return -ENOMEM;
	p->pos++;
	r = decode_string(p, s, &n);
	if (r < 0) {
		free(s);
		return r;
	}
	s[n] = '\0';
	v->type = JSON_STRING;
	v->string.s = s;
	v->string.len = n;
	return 0;
}

/* A number missing digits at i: cut short when the input ends there. */
static int fail_number(struct parser *p, size_t i)
{
	if (i >= p->len)
		return fail_at(p, p->len, "unexpected end of input");
	return fail_at(p, p->pos, "invalid number");
}

static size_t skip_digits(const struct parser *p, size_t i)
{
	while (i < p->len && p->buf[i] >= '0' && p->buf[i] <= '9')
		i++;
	return i;
}

/* Check the number at p->pos against the grammar: 0 and *end past it,
 * *integer when it has neither fraction nor exponent; or -EINVAL. */
static int number_end(struct parser *p, size_t *end, bool *integer)
{
	size_t i = p->pos + (p->buf[p->pos] == '-'), digits;

	digits = skip_digits(p, i);
	if (digits == i)
		return fail_number(p, i);
	if (p->buf[i] == '0' && digits > i + 1)
		return fail_at(p, p->pos, "invalid number (leading zero)");
	*integer = true;
	i = digits;
	if (i < p->len && p->buf[i] == '.') {
		digits = skip_digits(p, i + 1);
		if (digits == i + 1)
			return fail_number(p, i + 1);
		*integer = false;
		i = digits;
	}
	if (i < p->len && (p->buf[i] | 0x20) == 'e') {
		i += i + 1 < p->len && (p->buf[i + 1] == '+' || p->buf[i + 1] == '-') ? 2 : 1;
		digits = skip_digits(p, i);
		if (digits == i)
			return fail_number(p, i);
		*integer = false;
		i = digits;
	}
	*end = i;
	return 0;
}

/* The exact value of an integer token: digits summed in 64 bits, with
 * overflow noticed, since a double would round bytes above 2^53. */
static void exact_integer(const char *s, size_t len, struct json_value *v)
{
	bool neg = s[0] == '-';
	uint64_t mag = 0;

	for (size_t i = neg; i < len; i++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (mag > (UINT64_MAX - d) / 10)
			return;
		mag = mag * 10 + d;
	}
	if (!neg) {
		v->number.is_uint64 = true;
		v->number.u64 = mag;
		v->number.is_int64 = mag <= INT64_MAX;
		v->number.i64 = (int64_t)mag;
	} else if (mag <= (uint64_t)INT64_MAX + 1) {
		v->number.is_int64 = true;
		v->number.i64 = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
		v->number.is_uint64 = mag == 0;
		v->number.u64 = 0;
	}
}

/* A fraction or exponent whose double is integral and exact counts too
 * (not one that underflowed to 0). */
static void exact_double(struct json_value *v)
{
	double d = v->number.d;

	if (fabs(d) > EXACT_DOUBLE_LIMIT || (double)(int64_t)d != d)
		return;
	v->number.is_int64 = true;
	v->number.i64 = (int64_t)d;
	v->number.is_uint64 = d >= 0;
	v->number.u64 = d >= 0 ? (uint64_t)d : 0;
}

static int parse_number(struct parser *p, struct json_value *v)
{
	char small[64], *copy = small;
	bool integer = false;
	size_t end = 0, n;
	int r = number_end(p, &end, &integer);

	if (r < 0)
		return r;
	n = end - p->pos;
	/* strtod needs a terminated string; the buffer may end right here. */
	if (n >= sizeof(small) && !(copy = malloc(n + 1)))
		return -ENOMEM;
	memcpy(copy, p->buf + p->pos, n);
	copy[n] = '\0';
	v->type = JSON_NUMBER;
	errno = 0;
	v->number.d = strtod(copy, NULL);
	if (integer)
		exact_integer(copy, n, v);
	else if (errno != ERANGE)
		exact_double(v);
	if (copy != small)
		free(copy);
	if (isinf(v->number.d))
		return fail_at(p, p->pos, "number out of range");
	p->pos = end;
	return 0;
}

static int parse_literal(struct parser *p, struct json_value *v)
{
	static const struct {
		const char *word;
		enum json_type type;
	} literals[] = { { "true", JSON_TRUE }, { "false", JSON_FALSE }, { "null", JSON_NULL } };

	for (size_t i = 0; i < sizeof(literals) / sizeof(literals[0]); i++) {
		size_t n = strlen(literals[i].word), avail = p->len - p->pos;

		if (avail >= n && !memcmp(p->buf + p->pos, literals[i].word, n)) {
			v->type = literals[i].type;
			p->pos += n;
			return 0;
		}
		if (avail < n && !memcmp(p->buf + p->pos, literals[i].word, avail))
			return fail_at(p, p->len, "unexpected end of input");
	}
	return fail_at(p, p->pos, "expected a value");
}

/* After an element: ',' (another follows) or the closing bracket. Returns
 * 1 for more, 0 at the end, or -EINVAL. */
static int next_element(struct parser *p, char close, const char *expected)
{
	skip_space(p);
	if (peek(p) == ',') {
		p->pos++;
		return 1;
	}
	if (peek(p) == close) {
		p->pos++;
		return 0;
	}
	return fail_expected(p, expected);
}

static int parse_member(struct parser *p, struct json_member *m, unsigned int depth)
{
	int r;

	skip_space(p);
	if (peek(p) != '"')
		return fail_expected(p, "a string key");
	m->key.offset = p->pos;
	r = parse_string(p, &m->key);
	if (r < 0)
		return r;
	skip_space(p);
	if (peek(p) != ':')
		return fail_expected(p, "':'");
	p->pos++;
	return parse_value(p, &m->value, depth);
}

/* An array or an object (at p->pos, its bracket): elements are values or
 * members, in a vector that doubles as it fills. */
static int parse_container(struct parser *p, struct json_value *v, unsigned int depth,
			   bool object)
{
	char close = object ? '}' : ']';
	size_t size = object ? sizeof(struct json_member) : sizeof(struct json_value), cap = 0;
	void **items = object ? (void **)&v->object.members : (void **)&v->array.items;
	size_t *n = object ? &v->object.n : &v->array.n;
	int r;

	v->type = object ? JSON_OBJECT : JSON_ARRAY;
	p->pos++;
	skip_space(p);
	if (peek(p) == close) {
		p->pos++;
		return 0;
	}
	do {
		void *e;

		r = array_grow(items, &cap, *n, size, 4);
		if (r < 0)
			return r;
		e = (char *)*items + *n * size;
		memset(e, 0, size);
		/* Counted before it is parsed, so that a half-built one is freed. */
		++*n;
		r = object ? parse_member(p, e, depth) : parse_value(p, e, depth);
		if (r < 0)
			return r;
	} while ((r = next_element(p, close, object ? "',' or '}'" : "',' or ']'")) > 0);
	return r;
}

/* v is zeroed; on failure it holds what was built, for value_clear. */
static int parse_value(struct parser *p, struct json_value *v, unsigned int depth)
{
	int c;

	skip_space(p);
	c = peek(p);
	v->offset = p->pos;
	if ((c == '[' || c == '{') && depth >= p->max_depth)
		return fail_at(p, p->pos, "nesting deeper than %u", p->max_depth);
	if (c == '[' || c == '{')
		return parse_container(p, v, depth + 1, c == '{');
	if (c == '"')
		return parse_string(p, v);
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(p, v);
	if (c < 0)
		return fail_expected(p, "a value");
	return parse_literal(p, v);
}

int json_parse_next(const char *buf, size_t len, size_t *pos, unsigned int max_depth,
		    struct json_value **out, struct json_error *err)
{
	struct parser p = { .buf = buf, .len = len, .pos = *pos, .max_depth = max_depth,
			    .err = err };
	struct json_value *v;
	int r;

	skip_space(&p);
	if (p.pos >= len)
		return -ENODATA;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	r = parse_value(&p, v, 0);
	if (r < 0) {
		json_free(v);
		return r;
	}
	skip_space(&p);
	*pos = p.pos;
	*out = v;
	return 0;
}

int json_parse(const char *buf, size_t len, unsigned int max_depth, struct json_value **out,
	       struct json_error *err)
{
	struct parser p = { .buf = buf, .len = len, .err = err };
	struct json_value *v;
	size_t pos = 0;
	int r = json_parse_next(buf, len, &pos, max_depth, &v, err);

	if (r == -ENODATA)
		return fail_at(&p, len, "expected a value");
	if (r < 0)
		return r;
	if (pos < len) {
		json_free(v);
		return fail_at(&p, pos, "expected the end of input");
	}
	*out = v;
	return 0;
}

void json_free(struct json_value *v)
{
	if (!v)
		return;
	value_clear(v);
	free(v);
}

const struct json_value *json_get(const struct json_value *v, const char *key)
{
	size_t len = strlen(key);

	if (!v || v->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->object.n; i++) {
		const struct json_value *k = &v->object.members[i].key;

		if (k->string.len == len && !memcmp(k->string.s, key, len))
			return &v->object.members[i].value;
	}
	return NULL;
}

int json_uint64(const struct json_value *v, uint64_t *out)
{
	if (!v || v->type != JSON_NUMBER || !v->number.is_uint64)
		return -EINVAL;
	*out = v->number.u64;
	return 0;
}

int json_int64(const struct json_value *v, int64_t *out)
{
	if (!v || v->type != JSON_NUMBER || !v->number.is_int64)
		return -EINVAL;
	*out = v->number.i64;
	return 0;
}

const char *json_type_name(enum json_type t)
{
	static const char *const names[] = {
		[JSON_NULL] = "null", [JSON_FALSE] = "false", [JSON_TRUE] = "true",
		[JSON_NUMBER] = "number", [JSON_STRING] = "string", [JSON_ARRAY] = "array",
		[JSON_OBJECT] = "object",
	};

	return (unsigned int)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}
