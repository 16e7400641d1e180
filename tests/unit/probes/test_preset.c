/* test_preset.c - preset files: one spec per line as on the command line,
 * comments, the symbol prefix, errors naming the preset and the line, and
 * the shipped presets themselves parse. */
#include <errno.h>
#include <stdlib.h>

#include "probes/preset.h"
#include "unit.h"

static int parse_text(const char *text, const char *prefix, struct alloc_specs *list,
		      char **error)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r = preset_parse(f, "test", prefix, list, error);

	fclose(f);
	return r;
}

TEST(lines_comments_and_prefix)
{
	struct alloc_specs list = { 0 };
	char *error = NULL;

	EXPECT_EQ(parse_text("# a description\n\n  --alloc mallocx:size=1\n"
			     "--free\tsdallocx\n# --alloc commented\n--reset pool_clear:ctx=1\r\n",
			     "_rjem_", &list, &error), 0);
	EXPECT(error == NULL);
	EXPECT_EQ(list.n, 3);
	EXPECT_STREQ(list.items[0].symbol, "_rjem_mallocx");
	EXPECT_EQ(list.items[0].kind, PROBE_ALLOC);
	EXPECT_STREQ(list.items[1].symbol, "_rjem_sdallocx");
	EXPECT_EQ(list.items[1].kind, PROBE_FREE);
	EXPECT_STREQ(list.items[2].symbol, "_rjem_pool_clear");
	EXPECT_STREQ(list.items[2].preset, "test");
	alloc_specs_clear(&list);
}

TEST(errors_name_preset_and_line)
{
	struct alloc_specs list = { 0 };
	char *error = NULL;

	EXPECT_EQ(parse_text("--alloc a\n--alloc b:sise=1\n", NULL, &list, &error), -EINVAL);
	EXPECT_STREQ(error, "--preset test, line 2: --alloc 'b:sise=1': unknown key 'sise' "
			    "(--alloc takes: size, nmemb, out, ctx)");
	free(error);
	error = NULL;
	EXPECT_EQ(parse_text("--allocate a\n", NULL, &list, &error), -EINVAL);
	EXPECT(error && strstr(error, "--preset test, line 1: expected"));
	free(error);
	error = NULL;
	EXPECT_EQ(parse_text("--free a b\n", NULL, &list, &error), -EINVAL);
	EXPECT(error && strstr(error, "line 1"));
	free(error);
	alloc_specs_clear(&list);
}

TEST(shipped_presets_load)
{
	static const char *const names[] = { "postgres", "jemalloc", "tcmalloc", "mimalloc", "apr" };
	struct alloc_specs list = { 0 };
	char *error = NULL;

	setenv("MEMLEAKD_PRESET_DIR", "presets", 1);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t before = list.n;

		EXPECT_EQ(preset_load(names[i], NULL, &list, &error), 0);
		EXPECT(list.n > before);
		if (error)
			fprintf(stderr, "  %s: %s\n", names[i], error);
	}
	for (size_t i = 0; i < list.n; i++)
		if (!strcmp(list.items[i].symbol, "palloc")) {
			EXPECT_STREQ(list.items[i].ctx_global, "CurrentMemoryContext");
			EXPECT_EQ(list.items[i].size, 1);
		}
	alloc_specs_clear(&list);
}

TEST(missing_preset_lists_directories)
{
	struct alloc_specs list = { 0 };
	char *error = NULL;

	setenv("MEMLEAKD_PRESET_DIR", "presets", 1);
	EXPECT_EQ(preset_load("no-such-preset", NULL, &list, &error), -ENOENT);
	EXPECT(error && strstr(error, "no preset 'no-such-preset' (looked in: presets, "));
	free(error);
	EXPECT_EQ(list.n, 0);
}

RUN_TESTS("preset", T(lines_comments_and_prefix), T(errors_name_preset_and_line),
	  T(shipped_presets_load), T(missing_preset_lists_directories))
