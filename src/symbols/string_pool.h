/* string_pool.h - one copy of each string, kept until the pool is freed:
 * the module paths and JIT function names that frames point to, so that a
 * report holds each once however many frames name it, and equal strings
 * are the same pointer. */
#ifndef STRING_POOL_H
#define STRING_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "util/key_index.h"

struct string_pool {
	char **strings;
	size_t n, cap;
	struct key_index index; /* string_pool__hash(s) -> its place in strings */
};

/* The pool's copy of s (which stays the caller's), made on first sight;
 * it lives until string_pool__clear. Returns NULL on ENOMEM, the pool
 * holding the strings it held. */
const char *string_pool__intern(struct string_pool *p, const char *s);
/* Free every string, and the pool's memory; the pool is empty again. */
void string_pool__clear(struct string_pool *p);

/* A 64-bit hash of s (FNV-1a), for indexing items keyed by a string. */
uint64_t string_pool__hash(const char *s);

#endif
