/* test_report.c - the writers against golden files: a fixed snapshot in,
 * byte-exact text and JSON out. The JSON field names are a contract. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memleakd.h"
#include "report/report.h"
#include "unit.h"

#define GOLDEN_DIR "tests/unit/report/golden/"

static struct frame leak_frames[] = {
	{ .addr = 0x401136, .function = "leak_here", .offset = 0x16, .module = "/opt/app/bin/server" },
	{ .addr = 0x7f0000001000, .function = NULL, .offset = 0, .module = "[anon]" },
	{ .addr = 0x401200, .function = "main\"quoted\\", .offset = 0x40, .module = "/opt/app/bin/server" },
};

static struct snapshot_stack stacks[] = {
	{ .stack_id = 3, .bytes = 1048576, .allocs = 1024, .total_bytes = 2097152,
	  .total_allocs = 2048, .sampled_bytes = 1048576, .sampled_allocs = 1024, .oldest_age_ns = 2500000000ULL, .n_frames = 3,
	  .frames = leak_frames,
	  .trend = { .cls = STACK_SUSPECT, .growth_bytes = 262144, .growth_allocs = 256,
		     .growth_rate_bps = 104857.6, .intervals = 4, .grown = 3 } },
	{ .stack_id = MEMLEAKD_STACK_LOST, .bytes = 64, .allocs = 1, .total_bytes = 64,
	  .total_allocs = 1, .sampled_bytes = 64, .sampled_allocs = 1, .oldest_age_ns = 1000000,
	  .trend = { .cls = STACK_NEW, .growth_bytes = 64, .growth_allocs = 1 } },
	{ .stack_id = 9, .bytes = 8, .allocs = 1, .sampled_bytes = 8, .sampled_allocs = 1,
	  .trend = { .cls = STACK_STEADY, .growth_bytes = -16, .growth_allocs = -2,
		     .intervals = 4, .grown = 1 } },
};

static struct snapshot fixture(enum end_reason end)
{
	struct snapshot s = {
		.time = { .tv_sec = 1795320000, .tv_nsec = 123456789 },
		.pid = 4242,
		.comm = "server",
		.exe = (char *)"/opt/app/bin/server",
		.end = end,
		.report = 5,
		.since_attach_s = 12.5,
		.interval_s = 2.5,
		.process = { .rss_bytes = 52428800, .rss_anon_bytes = 31457280,
			     .rss_growth_bytes = 2097152, .rss_anon_growth_bytes = 1572864,
			     .tracked_growth_bytes = 1048648, .suspects = 1,
			     .suspect_rate_bps = 104857.6, .verdict = VERDICT_LEAK },
		.totals = { .outstanding_bytes = 1048648, .outstanding_allocs = 1026, .allocs = 5000,
			    .frees = 3974, .unknown_frees = 5, .dropped_allocs = 2, .dropped_totals = 3,
			    .stack_errors = 1, .stack_map_full = 1, .failed_allocs = 3, .nested_calls = 7,
			    .replaced_allocs = 0, .resets = 12,
			    .reset_frees = 40, .dropped_resets = 1, .unwind_no_table = 6,
			    .unwind_truncated = 4, .unwind_anon_stops = 2, .allocator_frees = 9 },
		.n_stacks = 3,
		.n_top = 2,
		.stacks = stacks,
	};

	/* A periodic report whose cost could not be measured, a final one
	 * whose was: 7,500 hits over 2.5 s, a third single-stepped. */
	if (end != END_NONE)
		s.cost = (struct tracing_cost){ .known = true, .hits = 7500, .stepped_hits = 2500,
						.hits_per_s = 3000, .ns_per_hit = 4000,
						.cpu_share = 0.012, .syscall_cpu_share = 0.0005 };
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

/* An interval without a probe hit says so, not "0 probe hits/s at 0.00 us". */
TEST(text_cost_without_hits)
{
	struct snapshot s = fixture(END_SIGNAL);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	s.cost = (struct tracing_cost){ .known = true, .syscall_cpu_share = 0.0005 };
	EXPECT(out && report_text.write(out, &s, &(struct report_options){ 0 }) == 0);
	if (out)
		fclose(out);
	EXPECT(buf && strstr(buf, "\ntracing cost: no probe hit since the last report; watching "
				  "mappings, 0.05% of a CPU machine-wide\n"));
	free(buf);
}

/* The verdict line for each verdict, and a process never read. */
TEST(text_verdicts)
{
	static const struct {
		enum verdict verdict;
		const char *line;
	} cases[] = {
		{ VERDICT_UNTRACED, "verdict: NOT A LEAK OF TRACED ALLOCATIONS: anonymous RSS grew "
				    "+1.5 MiB since attach, traced outstanding only +1.0 MiB;" },
		{ VERDICT_NO_LEAK, "verdict: no leak seen: no stack keeps growing\n" },
		{ VERDICT_UNDECIDED, "verdict: undecided: too little history yet; a stack is judged "
				     "once 5 intervals have followed the one it appeared in\n" },
		{ VERDICT_NONE, "verdict: unknown: the process's memory could not be read\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct snapshot s = fixture(END_NONE);
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);

		s.process.verdict = cases[i].verdict;
		EXPECT(out && report_text.write(out, &s, &(struct report_options){ 0 }) == 0);
		if (out)
			fclose(out);
		EXPECT(buf && strstr(buf, cases[i].line));
		EXPECT(buf && (cases[i].verdict == VERDICT_NONE) == !strstr(buf, "\nmemory: RSS"));
		free(buf);
	}
}

/* Suspects that explain less than half of the growth: the text gives
 * both findings, one verdict line each, and JSON keeps the verdict and
 * says rss_growth_untraced. */
TEST(suspects_and_untraced_growth)
{
	struct snapshot s = fixture(END_NONE);
	char *text = NULL, *json = NULL;
	size_t len = 0;
	FILE *out;

	s.process.rss_anon_growth_bytes = 75078042;
	s.process.tracked_growth_bytes = 7654604;
	s.process.untraced_growth = true;
	out = open_memstream(&text, &len);
	EXPECT(out && report_text.write(out, &s, &(struct report_options){ 0 }) == 0);
	if (out)
		fclose(out);
	EXPECT(text && strstr(text, "\nverdict: LEAK SUSPECTED: 1 stack keeps growing, together "
			    "+102.4 KiB/s\nverdict: AND UNTRACED GROWTH: anonymous RSS grew +71.6 "
			    "MiB since attach, traced outstanding only +7.3 MiB; the rest is "
			    "allocator retention, fragmentation, or memory not allocated through "
			    "traced functions\nmemory: RSS "));
	out = open_memstream(&json, &len);
	EXPECT(out && report_json.write(out, &s, &(struct report_options){ 0 }) == 0);
	if (out)
		fclose(out);
	EXPECT(json && strstr(json, "\"verdict\":\"leak_suspected\",\"rss_growth_untraced\":true,"
			    "\"mapped_growth_bytes\":0,\"heap_mapped_bytes\":0,"
			    "\"allocator_retention\":false}"));
	free(text);
	free(json);
}

/* Untraced growth that the allocators' own heaps explain: the verdict says
 * they keep it. */
TEST(allocator_retention)
{
	struct snapshot s = fixture(END_NONE);
	char *text = NULL, *json = NULL;
	size_t len = 0;
	FILE *out;

	s.process.verdict = VERDICT_UNTRACED;
	s.process.rss_anon_growth_bytes = 64 << 20;
	s.process.tracked_growth_bytes = 4 << 20;
	s.process.heap_mapped_bytes = 60 << 20;
	s.process.untraced_growth = s.process.allocator_retention = true;
	out = open_memstream(&text, &len);
	EXPECT(out && report_text.write(out, &s, &(struct report_options){ 0 }) == 0);
	if (out)
		fclose(out);
	EXPECT(text && strstr(text, "\nverdict: NOT A LEAK OF TRACED ALLOCATIONS: anonymous RSS "
			    "grew +64.0 MiB since attach, traced outstanding only +4.0 MiB; the "
			    "allocators keep it: their own heaps hold 60.0 MiB (retention, "
			    "fragmentation; see MAPPED BY ALLOCATORS)\n"));
	out = open_memstream(&json, &len);
	EXPECT(out && report_json.write(out, &s, &(struct report_options){ 0 }) == 0);
	if (out)
		fclose(out);
	EXPECT(json && strstr(json, "\"verdict\":\"rss_growth_untraced\",\"rss_growth_untraced\":"
			    "true,\"mapped_growth_bytes\":0,\"heap_mapped_bytes\":62914560,"
			    "\"allocator_retention\":true}"));
	free(text);
	free(json);
}

/* A frame whose file is not the mapped object: no name, and both
 * writers say why. */
TEST(module_mismatch_is_marked)
{
	struct frame frame = { .addr = 0x401136, .module = "/opt/app/bin/server",
			       .build_id = "0123abcd", .module_mismatch = true };
	struct snapshot_stack stack = { .stack_id = 1, .bytes = 8, .allocs = 1, .n_frames = 1,
					.frames = &frame };
	const struct report_writer *writers[] = { &report_text, &report_json };
	const char *want[] = {
		"    0x401136 [/opt/app/bin/server] [module: build-id mismatch]\n",
		"\"function\":null,\"offset\":0,\"module\":\"/opt/app/bin/server\",\"file\":null,"
		"\"line\":null,\"inlined\":false,\"build_id\":\"0123abcd\",\"mangled\":null,"
		"\"module_mismatch\":true}",
	};

	for (size_t i = 0; i < 2; i++) {
		struct snapshot s = fixture(END_NONE);
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);

		s.stacks = &stack;
		s.n_stacks = s.n_top = 1;
		EXPECT(out && writers[i]->write(out, &s, &(struct report_options){ 0 }) == 0);
		if (out)
			fclose(out);
		EXPECT(buf && strstr(buf, want[i]));
		free(buf);
	}
}

/* With --sample-bytes, the text header says so, each stack what its
 * estimate was made from, and JSON carries the rate and the raw figures. */
TEST(sampled_report)
{
	static const char *const want[][2] = {
		{ ", sampled every 512.0 KiB: bytes and allocations are estimates ==\n",
		  "    (estimated from 3 sampled allocations of 1572864 B)\n" },
		{ ",\"sample_bytes\":524288,",
		  "{\"kind\":\"alloc\",\"bytes\":1048576,\"allocs\":1024,\"sampled_bytes\":1572864,"
		  "\"sampled_allocs\":3," },
	};
	const struct report_writer *writers[] = { &report_text, &report_json };

	for (size_t i = 0; i < 2; i++) {
		struct snapshot s = fixture(END_NONE);
		struct snapshot_stack stack = stacks[0];
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);

		stack.sampled_bytes = 1572864;
		stack.sampled_allocs = 3;
		s.stacks = &stack;
		s.n_stacks = s.n_top = 1;
		s.sample_bytes = 524288;
		EXPECT(out && writers[i]->write(out, &s, &(struct report_options){ 0 }) == 0);
		if (out)
			fclose(out);
		EXPECT(buf && strstr(buf, want[i][0]) && strstr(buf, want[i][1]));
		free(buf);
	}
}

/* Mapping stacks: the text's sections and header line, JSON's array. */
TEST(mapped_stacks)
{
	static const char *const want[][3] = {
		{ "mapped since attach: 1048576 bytes (1.0 MiB) in 4 ranges by the program, "
		  "8192 bytes (8.0 KiB) in 1 range by traced allocators for their heaps; 2 stacks\n",
		  "-- MAPPED BY THE PROGRAM: anonymous memory it mapped itself (mmap, mremap, brk, "
		  "mprotect) (1) --\n#1      1.0 MiB (1048576 B) in 4 ranges, new;",
		  "-- MAPPED BY ALLOCATORS: their own heaps, which the allocations above are in "
		  "(1) --\n#1      8.0 KiB (8192 B) in 1 range, new;" },
		{ ",\"mapped_bytes\":1048576,\"mapped_ranges\":4,\"heap_mapped_bytes\":8192,"
		  "\"heap_mapped_ranges\":1,\"mapping_stacks\":2,\"mapping_events\":9,"
		  "\"dropped_mapping_events\":0}",
		  ",\"mappings\":[{\"kind\":\"mapped\",\"bytes\":1048576,\"allocs\":4,",
		  "{\"kind\":\"heap\",\"bytes\":8192,\"allocs\":1," },
	};
	const struct report_writer *writers[] = { &report_text, &report_json };

	for (size_t i = 0; i < 2; i++) {
		struct snapshot s = fixture(END_NONE);
		struct snapshot_stack mappings[] = {
			{ .stack_id = 7, .kind = STACK_MAPPED, .bytes = 1048576, .allocs = 4 },
			{ .stack_id = 8, .kind = STACK_HEAP, .bytes = 8192, .allocs = 1 },
		};
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);

		s.mappings = mappings;
		s.n_mappings = s.n_top_mappings = 2;
		s.totals.mapped_bytes = 1048576;
		s.totals.mapped_ranges = 4;
		s.totals.heap_mapped_bytes = 8192;
		s.totals.heap_mapped_ranges = 1;
		s.totals.mapping_events = 9;
		EXPECT(out && writers[i]->write(out, &s, &(struct report_options){ 0 }) == 0);
		if (out)
			fclose(out);
		for (size_t k = 0; k < 3; k++)
			EXPECT(buf && strstr(buf, want[i][k]));
		free(buf);
	}
}

TEST(writer_lookup)
{
	EXPECT(report_writer_find("json") == &report_json);
	EXPECT(report_writer_find("text") == &report_text);
	EXPECT(report_writer_find("folded") == &report_folded);
	EXPECT(report_writer_find("svg") == &report_svg);
	EXPECT(report_writer_find("xml") == NULL);
	EXPECT(report_writer_find("pprof") == &report_pprof);
	EXPECT_STREQ(report_writer_names(), "text, json, folded, svg, pprof");
}

TEST(write_error_is_reported)
{
	static const struct report_writer *const writers[] = { &report_text, &report_json,
								&report_pprof };
	struct snapshot s = fixture(END_NONE);

	for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
		FILE *full = fopen("/dev/full", "w");

		EXPECT(full != NULL);
		if (!full)
			return;
		EXPECT_EQ(writers[i]->write(full, &s, &(struct report_options){ 0 }), -EIO);
		fclose(full);
	}
}

RUN_TESTS("report", T(json_periodic), T(json_final), T(text_final), T(text_cost_without_hits),
	  T(text_verdicts),
	  T(suspects_and_untraced_growth), T(allocator_retention),
	  T(module_mismatch_is_marked), T(sampled_report), T(mapped_stacks), T(writer_lookup),
	  T(write_error_is_reported))
