/* test_report_flame.c - the folded and SVG writers and their flame graph:
 * frame labels, folded lines against a golden file (merged, sorted,
 * sanitized), and the SVG's frames for a fixture: positions and widths in
 * pixels, escaping, frames too narrow to draw left out, the inverted
 * (icicle) tree merged from the allocating function. That the SVG parses,
 * draws and reacts in a browser is tests/integration/test_flamegraph.py's. */
#include <errno.h>
#include <stdlib.h>

#include "report/flame_graph.h"
#include "memleakd.h"
#include "report/report.h"
#include "unit.h"

#define GOLDEN_DIR "tests/unit/report/golden/"

#define FN(name) { .addr = 0x401000, .function = name, .module = "/srv/app" }

/* frames[] are innermost first: frames[0] is the allocating function. */
static struct frame via_serve[] = { FN("leak_here"), FN("serve"), FN("main") };
static struct frame via_other[] = { FN("leak_here"), FN("other"), FN("main") };
static struct frame cxx[] = {
	FN("std::vector<int>::push_back&"),
	{ .addr = 0x7f0000001234, .module = "/usr/lib/libfoo.so.1", .map_start = 0x7f0000000000,
	  .map_end = 0x7f0000100000, .map_offset = 0x1000 },
	{ .addr = 0x1234 },
	FN("odd;name\nwith newline"),
	FN("main"),
};
/* Deeper than any other stack, and too narrow to draw. */
static struct frame tiny[] = {
	FN("tiny_leak"), FN("tiny_4"), FN("tiny_3"), FN("tiny_2"), FN("tiny_1"), FN("main"),
};

static struct snapshot_stack stacks[] = {
	{ .bytes = 300000, .allocs = 3, .n_frames = 3, .frames = via_other },
	{ .bytes = 100000, .allocs = 1, .n_frames = 3, .frames = via_serve,
	  .trend = { .cls = STACK_SUSPECT } },
	{ .bytes = 50000, .allocs = 5, .n_frames = 5, .frames = cxx },
	/* Another call site in serve: the same labels as the second stack. */
	{ .bytes = 500, .allocs = 1, .n_frames = 3, .frames = via_serve },
	{ .stack_id = MEMLEAKD_STACK_LOST, .bytes = 64, .allocs = 1 },
	{ .bytes = 2, .allocs = 1, .n_frames = 6, .frames = tiny },
};

#define TOTAL (300000 + 100000 + 50000 + 500 + 64 + 2)

static struct snapshot fixture(void)
{
	return (struct snapshot){
		.time = { .tv_sec = 1795320000 },
		.pid = 4242,
		.totals = { .outstanding_bytes = TOTAL },
		.n_stacks = 6,
		.n_top = 6,
		.stacks = stacks,
	};
}

/* The writer's output for snap, NUL-terminated; the caller frees it. */
static char *write_report(const struct report_writer *w, const struct snapshot *snap,
			  bool inverted)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	EXPECT(out != NULL);
	if (!out)
		return NULL;
	EXPECT_EQ(w->write(out, snap, &(struct report_options){ .inverted = inverted }), 0);
	fclose(out);
	return buf;
}

/* The SVG of the fixture; the caller frees it. */
static char *fixture_svg(bool inverted)
{
	struct snapshot s = fixture();

	return write_report(&report_svg, &s, inverted);
}

/* One drawn frame: what the SVG says of the frame whose title starts with
 * label and, when depth >= 0, whose data-d is depth. */
struct drawn {
	bool found;
	unsigned long long bytes;
	int depth;
	double x, y, width;
};

static struct drawn find_frame(const char *svg, const char *label, int depth)
{
	struct drawn d = { 0 };
	char title[256];
	const char *p = svg;

	snprintf(title, sizeof(title), "<title>%s\n", label);
	while ((p = strstr(p, "<g class=\"f\"")) != NULL) {
		const char *t = strstr(p, "<title>");

		if (sscanf(p, "<g class=\"f\" data-x=\"%*u\" data-b=\"%llu\" data-d=\"%d\"",
			   &d.bytes, &d.depth) == 2 && t && !strncmp(t, title, strlen(title)) &&
		    (depth < 0 || d.depth == depth)) {
			const char *r = strstr(t, "<rect ");

			d.found = r && sscanf(r, "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\"", &d.x, &d.y,
					      &d.width) == 3;
			return d;
		}
		p++;
	}
	return (struct drawn){ 0 };
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

TEST(labels)
{
	char *l;

	l = flame_label(&cxx[1], true);
	EXPECT_STREQ(l, "[libfoo.so.1+0x2234]");
	free(l);
	l = flame_label(&cxx[2], true);
	EXPECT_STREQ(l, "0x1234");
	free(l);
	l = flame_label(&cxx[3], true);
	EXPECT_STREQ(l, "odd:name?with newline");
	free(l);
	l = flame_label(&(struct frame){ .addr = 0x7f0000000010, .module = "[anon]",
					 .map_start = 0x7f0000000000 }, true);
	EXPECT_STREQ(l, "[anon+0x10]");
	free(l);
	/* A lone continuation byte and a truncated sequence. */
	l = flame_label(&(struct frame){ .function = "bad\x80name\xc3" }, true);
	EXPECT_STREQ(l, "bad?name?");
	free(l);
	l = flame_label(&(struct frame){ .function = "caf\xc3\xa9" }, true);
	EXPECT_STREQ(l, "caf\xc3\xa9");
	free(l);
	l = flame_label(&(struct frame){ .function = "ns::f(int)", .file = "src/a;b.cc",
					 .line = 12, .inlined = true }, true);
	EXPECT_STREQ(l, "ns::f(int) (src/a:b.cc:12)");
	free(l);
	l = flame_label(&(struct frame){ .function = "ns::f(int)", .file = "a.cc", .line = 1 }, false);
	EXPECT_STREQ(l, "ns::f(int)");
	free(l);
}

TEST(folded_golden)
{
	struct snapshot s = fixture();
	char *got = write_report(&report_folded, &s, false), *want = NULL;
	size_t want_len = 0;
	FILE *in = fopen(GOLDEN_DIR "flame.folded", "r");

	EXPECT(in != NULL);
	if (in) {
		EXPECT(getdelim(&want, &want_len, '\0', in) >= 0);
		fclose(in);
	}
	EXPECT_STREQ(got, want);
	free(got);
	free(want);
}

TEST(svg_frames)
{
	char *svg = fixture_svg(false);
	struct drawn root = find_frame(svg, "all", 0), main_ = find_frame(svg, "main", 1);
	struct drawn other = find_frame(svg, "other", 2), serve = find_frame(svg, "serve", 2);
	struct drawn leak = find_frame(svg, "leak_here", 3);

	EXPECT(root.found && main_.found && other.found && serve.found && leak.found);
	EXPECT_EQ(root.bytes, TOTAL);
	EXPECT(root.x == 10 && root.width == 1180);
	EXPECT_EQ(main_.bytes, TOTAL - 64);
	/* Siblings in label order, side by side: "odd:name...", "other", then
	 * "serve", whose two call sites are one frame. */
	EXPECT_EQ(serve.bytes, 100500);
	EXPECT(find_frame(svg, "odd:name?with newline", 2).x == main_.x);
	EXPECT(other.x > main_.x && serve.x > other.x + other.width - 0.01 &&
	       serve.x < other.x + other.width + 0.01);
	EXPECT(serve.width > 1180.0 * 100500 / TOTAL - 0.01 &&
	       serve.width < 1180.0 * 100500 / TOTAL + 0.01);
	/* Callers below callees: a flame. */
	EXPECT(root.y > main_.y && main_.y > other.y && other.y > leak.y);
	EXPECT(find_frame(svg, FLAME_STACK_LOST, 1).found);
	/* all, main, [stack lost]; other, serve, odd:name; 2 leak_here, 0x1234;
	 * [libfoo], std::vector: not tiny_leak. */
	EXPECT_EQ(count(svg, "<g class=\"f\""), 11);
	free(svg);
}

TEST(svg_escapes_names)
{
	char *svg = fixture_svg(false);

	EXPECT(find_frame(svg, "std::vector&lt;int&gt;::push_back&amp;", 5).found);
	EXPECT(!strstr(svg, "<int>"));
	EXPECT(!strstr(svg, "push_back&<"));
	EXPECT(find_frame(svg, "odd:name?with newline", 2).found);
	free(svg);
}

TEST(svg_prunes_narrow_frames)
{
	char *svg = fixture_svg(false);

	/* 2 bytes of 450566 are 0.005 pixels: not drawn, still counted. */
	EXPECT(!strstr(svg, "tiny_"));
	EXPECT_EQ(find_frame(svg, "main", 1).bytes, TOTAL - 64);
	/* Rows 0 to 5, the deepest drawn, not to 6: title and buttons (70),
	 * 6 rows of 16, the details line (30). */
	EXPECT(strstr(svg, " height=\"196\" "));
	EXPECT(find_frame(svg, "all", 0).y == 70 + 5 * 16);
	free(svg);
}

TEST(svg_inverted)
{
	char *svg = fixture_svg(true);
	struct drawn root = find_frame(svg, "all", 0), leak = find_frame(svg, "leak_here", 1);
	struct drawn other = find_frame(svg, "other", 2), serve = find_frame(svg, "serve", 2);

	/* Every path to leak_here is under one frame, drawn on top. */
	EXPECT(leak.found && other.found && serve.found);
	EXPECT_EQ(leak.bytes, 400500);
	EXPECT_EQ(count(svg, "<title>leak_here\n"), 1);
	EXPECT(root.y < leak.y && leak.y < other.y && other.y == serve.y);
	EXPECT(find_frame(svg, "main", 3).found);
	EXPECT(strstr(svg, "outstanding memory by allocating function"));
	free(svg);
}

TEST(svg_suspect_color)
{
	char *svg = fixture_svg(false);
	const char *serve = strstr(svg, "<title>serve\n"), *other = strstr(svg, "<title>other\n");

	EXPECT(serve && strstr(serve, "in a suspect stack</title>") < strstr(serve, "<rect"));
	EXPECT(other && strstr(other, "in a suspect stack</title>") > strstr(other, "<rect"));
	free(svg);
}

TEST(svg_empty)
{
	struct snapshot s = fixture();
	char *svg;

	s.n_stacks = s.n_top = 0;
	svg = write_report(&report_svg, &s, false);
	EXPECT_EQ(count(svg, "<g class=\"f\""), 1);
	EXPECT(find_frame(svg, "all", 0).width == 1180);
	EXPECT(!strstr(svg, "nan"));
	free(svg);
}

TEST(write_errors)
{
	struct snapshot s = fixture();
	FILE *full = fopen("/dev/full", "w");

	EXPECT(full != NULL);
	if (!full)
		return;
	EXPECT_EQ(report_folded.write(full, &s, &(struct report_options){ 0 }), -EIO);
	EXPECT_EQ(report_svg.write(full, &s, &(struct report_options){ 0 }), -EIO);
	fclose(full);
}

RUN_TESTS("report_flame", T(labels), T(folded_golden), T(svg_frames), T(svg_escapes_names),
	  T(svg_prunes_narrow_frames), T(svg_inverted), T(svg_suspect_color), T(svg_empty),
	  T(write_errors))
