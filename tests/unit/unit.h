/* unit.h - the smallest test harness that does the job: each TEST is a
 * function, each failed EXPECT prints where and why, and RUN_TESTS prints
 * one "PASS name" / "FAIL name" line per test, which tests/run-all.sh counts.
 * The binary exits non-zero when any test failed. */
#ifndef UNIT_H
#define UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_failed_checks;

#define EXPECT(cond)                                                              \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "  %s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
			unit_failed_checks++;                                     \
		}                                                                 \
	} while (0)

#define EXPECT_EQ(a, b)                                                           \
	do {                                                                      \
		long long a_ = (long long)(a), b_ = (long long)(b);               \
		if (a_ != b_) {                                                   \
			fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n",    \
				__FILE__, __LINE__, #a, a_, b_);                  \
			unit_failed_checks++;                                     \
		}                                                                 \
	} while (0)

#define EXPECT_STREQ(a, b)                                                        \
	do {                                                                      \
		const char *a_ = (a), *b_ = (b);                                  \
		if (!a_ || !b_ || strcmp(a_, b_)) {                               \
			fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #a, a_ ? a_ : "(null)",       \
				b_ ? b_ : "(null)");                              \
			unit_failed_checks++;                                     \
		}                                                                 \
	} while (0)

struct unit_test {
	const char *name;
	void (*fn)(void);
};

#define TEST(name) static void name(void)

static inline int unit_run(const char *suite, const struct unit_test *tests, size_t n)
{
	int failed = 0;

	/* Keep PASS/FAIL lines in order with the details on stderr. */
	setvbuf(stdout, NULL, _IONBF, 0);
	for (size_t i = 0; i < n; i++) {
		int before = unit_failed_checks;

		tests[i].fn();
		if (unit_failed_checks != before)
			failed++;
		printf("%s %s.%s\n", unit_failed_checks != before ? "FAIL" : "PASS", suite,
		       tests[i].name);
	}
	return failed ? 1 : 0;
}

#define T(fn) { #fn, fn }
#define RUN_TESTS(suite, ...)                                                     \
	int main(void)                                                            \
	{                                                                         \
		static const struct unit_test tests_[] = { __VA_ARGS__ };        \
		return unit_run(suite, tests_, sizeof(tests_) / sizeof(tests_[0])); \
	}

#endif
