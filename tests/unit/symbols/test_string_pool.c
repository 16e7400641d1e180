/* test_string_pool.c - one copy per string: equal strings intern to the
 * same pointer, different ones to different copies, and every copy stays
 * where it is while the pool grows. */
#include "symbols/string_pool.h"

#include <stdio.h>

#include "unit.h"

TEST(equal_strings_share_a_copy)
{
	struct string_pool p = { 0 };
	char path[] = "/usr/lib/libc.so.6";
	const char *a = string_pool__intern(&p, path);

	EXPECT(a != path);
	EXPECT_STREQ(a, "/usr/lib/libc.so.6");
	path[1] = 'X';
	EXPECT_STREQ(a, "/usr/lib/libc.so.6");
	EXPECT(string_pool__intern(&p, "/usr/lib/libc.so.6") == a);
	EXPECT(string_pool__intern(&p, "/usr/lib/libm.so.6") != a);
	EXPECT(string_pool__intern(&p, "") != a);
	EXPECT_STREQ(string_pool__intern(&p, ""), "");
	string_pool__clear(&p);
}

/* Thousands of strings: the first ones' copies are still the pool's, at
 * the same place, after the array and the index have grown many times. */
TEST(copies_stay_put)
{
	struct string_pool p = { 0 };
	const char *first[100];
	char buf[32];

	for (int i = 0; i < 5000; i++) {
		const char *s;

		snprintf(buf, sizeof(buf), "/lib/%d.so", i);
		s = string_pool__intern(&p, buf);
		EXPECT(s != NULL);
		if (i < 100)
			first[i] = s;
	}
	for (int i = 0; i < 100; i++) {
		snprintf(buf, sizeof(buf), "/lib/%d.so", i);
		EXPECT(string_pool__intern(&p, buf) == first[i]);
		EXPECT_STREQ(first[i], buf);
	}
	EXPECT_EQ(p.n, 5000);
	string_pool__clear(&p);
	EXPECT_EQ(p.n, 0);
}

RUN_TESTS("string_pool", T(equal_strings_share_a_copy), T(copies_stay_put))
