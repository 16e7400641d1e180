/* json_reader.h - a small, strict JSON parser (RFC 8259) that builds a tree
 * of values: what `memleakd diff` reads saved reports with. Input is a
 * buffer and its length (no NUL needed); nothing is read past it, nesting
 * is bounded, and every error carries its line and column. */
#ifndef JSON_READER_H
#define JSON_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deep enough for any report; shallow enough for an 8 MiB stack. */
#define JSON_DEFAULT_DEPTH 64

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_member;

struct json_value {
	enum json_type type;
	union {
		struct {
			double d;
			/* Exact values of an integral number that fits: written
			 * without fraction or exponent, or whose double is exact
			 * (below 2^53). */
			bool is_int64, is_uint64;
			int64_t i64;
			uint64_t u64;
		} number;
		struct {
			char *s;    /* UTF-8, NUL-terminated (a \u0000 ends it early) */
			size_t len; /* bytes, \u0000 included */
		} string;
		struct {
			struct json_value *items;
			size_t n;
		} array;
		struct {
			struct json_member *members; /* in document order */
			size_t n;
		} object;
	};
	size_t offset; /* where the value starts in the buffer */
};

struct json_member {
	struct json_value key; /* JSON_STRING */
	struct json_value value;
};

struct json_error {
	size_t offset;               /* byte offset in the buffer */
	unsigned int line, column;   /* 1-based; the column counts bytes */
	char message[64];            /* "expected ',' or '}'" */
};

/* Parse the one value at buf[*pos..len), whitespace around it skipped,
 * nesting at most max_depth arrays and objects: reads a stream of
 * concatenated values (JSON Lines) one call at a time. Returns 0, *out
 * (free with json_free) and *pos past the value and the whitespace after
 * it; -ENODATA when only whitespace is left; -EINVAL for malformed input,
 * with *err filled (pass NULL to ignore); -ENOMEM. *out and *pos are
 * unchanged on failure. */
int json_parse_next(const char *buf, size_t len, size_t *pos, unsigned int max_depth,
		    struct json_value **out, struct json_error *err);

/* Parse buf[0..len) as exactly one value: json_parse_next, and -EINVAL
 * "expected the end of input" when anything follows it, or "expected a
 * value" for blank input. */
int json_parse(const char *buf, size_t len, unsigned int max_depth, struct json_value **out,
	       struct json_error *err);

/* Accepts NULL. */
void json_free(struct json_value *v);

/* The member called key of an object (the first one, if repeated), or
 * NULL when v is no object or has no such member. */
const struct json_value *json_get(const struct json_value *v, const char *key);

/* v as an exact unsigned integer. Returns 0 and *out, or -EINVAL when v is
 * no integral number in 0..UINT64_MAX (*out unchanged). */
int json_uint64(const struct json_value *v, uint64_t *out);
/* Same, for INT64_MIN..INT64_MAX. */
int json_int64(const struct json_value *v, int64_t *out);

/* The 1-based line and column (in bytes) of buf[offset]. */
void json_position(const char *buf, size_t offset, unsigned int *line, unsigned int *column);

/* "object", "string", ...: for messages. */
const char *json_type_name(enum json_type t);

#endif
