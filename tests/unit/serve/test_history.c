/* test_history.c - history.json: the last reports only (a ring), oldest
 * first, each stack's bytes under its stable id, and its name from the
 * newest report that showed it. And the live page it feeds, assembled
 * whole. */
#include <stdlib.h>

#include "serve/history.h"
#include "serve/web_page.h"
#include "unit.h"

static struct frame leak[] = { { .addr = 0x401000, .function = "leak_here" } };
static struct frame leak_named[] = { { .addr = 0x401000, .function = "leak_here_v2" } };

static struct snapshot_stack stacks[] = { { .bytes = 100, .n_frames = 1, .frames = leak } };

static char *history_json(const struct history *h)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	EXPECT_EQ(history__write_json(h, out, 2.5), 0);
	fclose(out);
	return buf;
}

static void add(struct history *h, unsigned int report, uint64_t bytes, struct frame *frames)
{
	struct snapshot_stack s = { .bytes = bytes, .n_frames = 1, .frames = frames };
	struct snapshot snap = {
		.pid = 42, .report = report, .time = { .tv_sec = 1000 + report },
		.since_attach_s = report, .totals = { .outstanding_bytes = bytes },
		.process = { .rss_bytes = 4096 * report, .verdict = VERDICT_UNDECIDED },
		.n_stacks = 1, .n_top = 1, .stacks = &s,
	};
	const struct metrics_process p = { &snap, "app" };

	EXPECT_EQ(history__add(h, &p, 1), 0);
}

TEST(ring)
{
	struct history *h = history__new(2, 10);
	char id[METRICS_STACK_ID_LEN + 1], want[1024];
	char *json;

	EXPECT(h != NULL);
	if (!h)
		return;
	json = history_json(h);
	EXPECT_STREQ(json, "{\"report\":0,\"interval_s\":2.500,\"processes\":[]}\n");
	free(json);
	add(h, 1, 100, leak);
	add(h, 2, 200, leak);
	add(h, 3, 300, leak_named);
	metrics_stack_id(metrics_stack_hash(&stacks[0]), id);
	snprintf(want, sizeof(want),
		 "{\"report\":3,\"interval_s\":2.500,\"processes\":[{\"pid\":42,\"comm\":\"app\","
		 "\"verdict\":\"undecided\",\"cost\":null,\"flame\":\"flame.svg?pid=42\",\"stacks\":{\"%s\":"
		 "\"leak_here_v2\"},\"points\":["
		 "{\"report\":2,\"time_s\":1002.000,\"since_attach_s\":2.000,\"rss_bytes\":8192,"
		 "\"outstanding_bytes\":200,\"stacks\":{\"%s\":200}},"
		 "{\"report\":3,\"time_s\":1003.000,\"since_attach_s\":3.000,\"rss_bytes\":12288,"
		 "\"outstanding_bytes\":300,\"stacks\":{\"%s\":300}}]}]}\n", id, id, id);
	json = history_json(h);
	EXPECT_STREQ(json, want);
	free(json);
	history__free(h);
}

TEST(web_page)
{
	char *page = NULL;
	size_t len = 0;

	EXPECT_EQ(web_page_build(&page, &len), 0);
	EXPECT(page && strlen(page) == len);
	EXPECT(page && !strstr(page, "@CSS@") && !strstr(page, "@JS@"));
	EXPECT(page && strstr(page, web_page_css) && strstr(page, web_page_js));
	/* Self-contained: nothing fetched from elsewhere; the one URL is the
	 * SVG namespace's. */
	EXPECT(page && !strstr(page, "https://") && !strstr(page, "<link") &&
	       !strstr(page, "<script src") && !strstr(page, "url("));
	EXPECT(page && strstr(page, "http://") == strstr(page, "http://www.w3.org/2000/svg"));
	free(page);
}

RUN_TESTS("history", T(ring), T(web_page))
