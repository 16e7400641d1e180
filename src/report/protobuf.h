/* protobuf.h - a small protocol buffers encoder: what profile.proto needs
 * (varints, length-delimited strings and messages, packed repeated
 * varints), written into one growable buffer.
 *
 * Every write returns 0 or -ENOMEM. The first failure is also kept in
 * b->error and later writes do nothing, so a caller can make a run of
 * writes and check once, at the end. */
#ifndef PROTOBUF_H
#define PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pb_buf {
	uint8_t *data;
	size_t len, cap;
	int error; /* 0, or -ENOMEM from the first failed write */
};

/* Frees the bytes and empties the buffer. Accepts NULL. */
void pb_buf__free(struct pb_buf *b);

/* One base-128 varint, without a tag. */
int pb_varint(struct pb_buf *b, uint64_t v);
/* A varint field (uint64, int64 as two's complement, bool). Zero is the
 * proto3 default and is not written, as protobuf's own encoders do. */
int pb_uint(struct pb_buf *b, uint32_t field, uint64_t v);
int pb_bool(struct pb_buf *b, uint32_t field, bool v);
/* A length-delimited field; written even when empty (a repeated string
 * like the string table needs its "" entry). */
int pb_bytes(struct pb_buf *b, uint32_t field, const void *data, size_t len);
int pb_string(struct pb_buf *b, uint32_t field, const char *s);
/* A packed repeated varint field; nothing when n is 0. */
int pb_packed(struct pb_buf *b, uint32_t field, const uint64_t *v, size_t n);

/* An embedded message: pb_message_begin writes the tag and returns where
 * the message's fields start; write them, then pb_message_end puts the
 * length in front of them. */
size_t pb_message_begin(struct pb_buf *b, uint32_t field);
int pb_message_end(struct pb_buf *b, size_t start);

#endif
