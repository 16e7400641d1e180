/* test_json_writer.c - JSON strings stay valid JSON and valid UTF-8,
 * whatever bytes a binary's symbol names hold. */
#include "util/json_writer.h"

#include <stdlib.h>

#include "unit.h"

/* json_write_string(s) as a string; the caller frees it. */
static char *written(const char *s)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);

	json_write_string(out, s);
	fclose(out);
	return buf;
}

#define EXPECT_WRITES(in, expected)          \
	do {                                 \
		char *got_ = written(in);    \
		EXPECT_STREQ(got_, expected); \
		free(got_);                  \
	} while (0)

TEST(escapes)
{
	EXPECT_WRITES(NULL, "null");
	EXPECT_WRITES("main\"quoted\\", "\"main\\\"quoted\\\\\"");
	EXPECT_WRITES("tab\there\n", "\"tab\\u0009here\\u000a\"");
}

/* Valid sequences of every length pass as they are. */
TEST(valid_utf8_kept)
{
	EXPECT_WRITES("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9b",
		      "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9b\"");
}

/* Each byte that starts no valid sequence becomes U+FFFD: a lone
 * continuation byte, an overlong form, a surrogate, a sequence cut by the
 * end of the string. */
TEST(invalid_bytes_replaced)
{
	EXPECT_WRITES("a\x80z", "\"a\\ufffdz\"");
	EXPECT_WRITES("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	EXPECT_WRITES("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	EXPECT_WRITES("end\xe2\x82", "\"end\\ufffd\\ufffd\"");
}

RUN_TESTS("json_writer", T(escapes), T(valid_utf8_kept), T(invalid_bytes_replaced))
