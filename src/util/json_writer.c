/* json_writer.c - JSON strings: quotes, backslashes and control characters
 * escaped, valid UTF-8 as it is. Names come from arbitrary binaries: a byte
 * that starts no valid sequence becomes U+FFFD, so that strict readers
 * accept every report. */
#include "util/json_writer.h"

#include "util/utf8.h"

void json_write_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	while (*p) {
		size_t n = utf8_length(*p);
		bool valid = n && utf8_valid(p, n);

		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else if (valid)
			fwrite(p, 1, n, out);
		else
			fputs("\\ufffd", out);
		p += valid ? n : 1;
	}
	fputc('"', out);
}
