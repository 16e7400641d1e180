/* test_report.c - the writers against golden files: a fixed snapshot in,
 * byte-exact text and JSON out. The JSON field names are a contract. */
#include <errno.h>
#include <stdlib.h>

#include "memleakd.h"
#include "report.h"
#include "unit.h"

#define GOLDEN_DIR "tests/unit/golden/"

static struct frame leak_frames[] = {
	{ .addr = 0x401136, .function = "leak_here", .offset = 0x16, .module = "/opt/app/bin/server" },
	{ .addr = 0x7f0000001000, .function = NULL, .offset = 0, .module = "[anon]" },
	{ .addr = 0x401200, .function = "main\"quoted\\", .offset = 0x40, .module = "/opt/app/bin/server" },
};

static struct snapshot_stack stacks[] = {
	{ .stack_id = 3, .bytes = 1048576, .allocs = 1024, .total_bytes = 2097152,
	  .total_allocs = 2048, .oldest_age_ns = 2500000000ULL, .n_frames = 3,
	  .frames = leak_frames },
	{ .stack_id = MEMLEAKD_STACK_LOST, .bytes = 64, .allocs = 1, .total_bytes = 64,
	  .total_allocs = 1, .oldest_age_ns = 1000000 },
	{ .stack_id = 9, .bytes = 8, .allocs = 1 },
};

static struct snapshot fixture(enum end_reason end)
{
	struct snapshot s = {
		.time = { .tv_sec = 1795320000, .tv_nsec = 123456789 },
		.pid = 4242,
		.end = end,
		.totals = { .outstanding_bytes = 1048648, .outstanding_allocs = 1026, .allocs = 5000,
			    .frees = 3974, .unknown_frees = 5, .dropped_allocs = 2, .stack_errors = 1,
			    .failed_allocs = 3, .nested_calls = 7, .replaced_allocs = 0, .resets = 12,
			    .reset_frees = 40, .dropped_resets = 1, .unwind_no_table = 6,
			    .unwind_truncated = 4, .unwind_anon_stops = 2 },
		.n_stacks = 3,
		.n_top = 2,
		.stacks = stacks,
	};
	return s;
}

/* Write snap with writer w into memory and compare with the golden file. */
static void expect_golden(const struct report_writer *w, const struct snapshot *snap,
			  const char *golden)
{
	char *buf = NULL, *want = NULL;
	size_t len = 0, want_len = 0;
	FILE *out = open_memstream(&buf, &len);
	FILE *in = fopen(golden, "r");

	EXPECT(out && in);
	if (!out || !in)
		goto done;
	EXPECT_EQ(w->write(out, snap, &(struct report_options){ 0 }), 0);
	fflush(out);
	EXPECT(getdelim(&want, &want_len, '\0', in) >= 0);
	EXPECT_STREQ(buf, want);
done:
	if (out)
		fclose(out);
	if (in)
		fclose(in);
	free(buf);
	free(want);
}

TEST(json_periodic)
{
	struct snapshot s = fixture(END_NONE);

	expect_golden(&report_json, &s, GOLDEN_DIR "periodic.json");
}

TEST(json_final)
{
	struct snapshot s = fixture(END_TARGET_EXITED);

	expect_golden(&report_json, &s, GOLDEN_DIR "final.json");
}

TEST(text_final)
{
	struct snapshot s = fixture(END_SIGNAL);

	expect_golden(&report_text, &s, GOLDEN_DIR "final.txt");
}

TEST(writer_lookup)
{
	EXPECT(report_writer_find("json") == &report_json);
	EXPECT(report_writer_find("text") == &report_text);
	EXPECT(report_writer_find("folded") == &report_folded);
	EXPECT(report_writer_find("svg") == &report_svg);
	EXPECT(report_writer_find("xml") == NULL);
	EXPECT_STREQ(report_writer_names(), "text, json, folded, svg");
}

TEST(write_error_is_reported)
{
	struct snapshot s = fixture(END_NONE);
	FILE *full = fopen("/dev/full", "w");

	EXPECT(full != NULL);
	if (!full)
		return;
	EXPECT_EQ(report_json.write(full, &s, &(struct report_options){ 0 }), -EIO);
	fclose(full);
}

RUN_TESTS("report", T(json_periodic), T(json_final), T(text_final), T(writer_lookup),
	  T(write_error_is_reported))
