/* unit.h - the smallest test harness that does the job: each TEST is a
 * function, each failed EXPECT prints where and why, and RUN_TESTS prints
 * one "PASS name" / "FAIL name" line per test, which tests/run-all.sh counts.
 * The binary exits non-zero when any test failed. */
#ifndef UNIT_H
#define UNIT_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Fixtures built at run time, once per suite: in a scratch directory made
 * from a mkdtemp() template, which becomes the working directory and is
 * removed at exit. */
struct unit_file {
	const char *name, *text;
};

static char *unit_fixture_dir;

static inline void unit_fixture_remove(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", unit_fixture_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", unit_fixture_dir);
}

/* Write files[0..n) and run script under sh -e in the new directory; its
 * output goes to build.log, shown when it fails. */
static inline bool unit_fixture(char *dir_template, const struct unit_file *files, size_t n,
				const char *script)
{
	FILE *sh;
	bool ok;

	if (!mkdtemp(dir_template) || chdir(dir_template) < 0)
		return false;
	unit_fixture_dir = dir_template;
	atexit(unit_fixture_remove);
	sh = popen("sh -e >build.log 2>&1", "w");
	if (!sh)
		return false;
	for (size_t i = 0; i < n; i++)
		fprintf(sh, "cat >%s <<'UNIT_EOF'\n%sUNIT_EOF\n", files[i].name, files[i].text);
	fputs(script, sh);
	ok = pclose(sh) == 0;
	if (!ok && system("cat build.log >&2") != 0)
		fprintf(stderr, "  fixture build failed\n");
	return ok;
}

/* Replace the file at path with text. */
static inline void unit_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	EXPECT(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* got must equal the whole content of the file at golden. */
static inline void unit_expect_golden(const char *got, const char *golden)
{
	FILE *in = fopen(golden, "r");
	char *want = NULL;
	size_t len = 0;

	EXPECT(in != NULL);
	if (in && getdelim(&want, &len, '\0', in) < 0)
		EXPECT(!"golden file readable");
	if (in)
		fclose(in);
	EXPECT_STREQ(got, want);
	free(want);
}

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
