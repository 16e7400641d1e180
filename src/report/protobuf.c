/* protobuf.c - the protocol buffers wire format, encoding side only.
 *
 * A field is a tag (field number << 3 | wire type) then its value: a varint
 * (wire type 0), or a varint length and that many bytes (wire type 2:
 * strings, embedded messages, packed repeated fields). An embedded message
 * is written in place and its length inserted in front of it afterwards:
 * profile.proto's messages are small, so the move is cheaper than a second
 * buffer per message. */
#include "report/protobuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PB_WIRE_VARINT 0
#define PB_WIRE_LEN 2
#define PB_VARINT_MAX 10 /* a 64-bit value in 7-bit groups */

void pb_buf__free(struct pb_buf *b)
{
	if (!b)
		return;
	free(b->data);
	*b = (struct pb_buf){ 0 };
}

/* Makes room for n more bytes. Returns 0, or -ENOMEM (kept in b->error). */
static int reserve(struct pb_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	uint8_t *data;

	if (b->error)
		return b->error;
	if (b->len + n <= b->cap)
		return 0;
	while (cap < b->len + n)
		cap *= 2;
	data = realloc(b->data, cap);
	if (!data) {
		b->error = -ENOMEM;
		return b->error;
	}
	b->data = data;
	b->cap = cap;
	return 0;
}

static size_t varint_encode(uint8_t out[PB_VARINT_MAX], uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

static int append(struct pb_buf *b, const void *data, size_t len)
{
	int r = reserve(b, len);

	if (r)
		return r;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int pb_varint(struct pb_buf *b, uint64_t v)
{
	uint8_t bytes[PB_VARINT_MAX];

	return append(b, bytes, varint_encode(bytes, v));
}

static int tag(struct pb_buf *b, uint32_t field, unsigned int wire_type)
{
	return pb_varint(b, (uint64_t)field << 3 | wire_type);
}

int pb_uint(struct pb_buf *b, uint32_t field, uint64_t v)
{
	if (!v)
		return b->error;
	tag(b, field, PB_WIRE_VARINT);
	return pb_varint(b, v);
}

int pb_bool(struct pb_buf *b, uint32_t field, bool v)
{
	return pb_uint(b, field, v);
}

int pb_bytes(struct pb_buf *b, uint32_t field, const void *data, size_t len)
{
	tag(b, field, PB_WIRE_LEN);
	pb_varint(b, len);
	return append(b, data, len);
}

int pb_string(struct pb_buf *b, uint32_t field, const char *s)
{
	return pb_bytes(b, field, s, strlen(s));
}

int pb_packed(struct pb_buf *b, uint32_t field, const uint64_t *v, size_t n)
{
	size_t start;

	if (!n)
		return b->error;
	start = pb_message_begin(b, field);
	for (size_t i = 0; i < n; i++)
		pb_varint(b, v[i]);
	return pb_message_end(b, start);
}

size_t pb_message_begin(struct pb_buf *b, uint32_t field)
{
	tag(b, field, PB_WIRE_LEN);
	return b->len;
}

int pb_message_end(struct pb_buf *b, size_t start)
{
	uint8_t prefix[PB_VARINT_MAX];
	size_t n;
	int r;

	if (b->error)
		return b->error;
	n = varint_encode(prefix, b->len - start);
	r = reserve(b, n);
	if (r)
		return r;
	memmove(b->data + start + n, b->data + start, b->len - start);
	memcpy(b->data + start, prefix, n);
	b->len += n;
	return 0;
}
