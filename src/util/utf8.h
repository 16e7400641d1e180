/* utf8.h - UTF-8 sequences checked and written, for the JSON reader and
 * for frame labels, which come from arbitrary binaries and must stay valid
 * in XML and JSON. */
#ifndef UTF8_H
#define UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How long a sequence starting with byte c is, 0 if c starts none. */
size_t utf8_length(unsigned char c);
/* Whether the n bytes at s (n = utf8_length(s[0])) are a valid sequence:
 * no overlong forms, no surrogates, nothing above U+10FFFF. Stops at the
 * first bad byte, so a NUL-terminated string is never read past its end. */
bool utf8_valid(const unsigned char *s, size_t n);
/* Writes code point c (at most U+10FFFF) at out; returns its length. */
size_t utf8_encode(char *out, uint32_t c);

#endif
