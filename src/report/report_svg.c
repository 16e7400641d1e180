/* report_svg.c - a flame graph of outstanding bytes as one self-contained
 * SVG document: the stacks merged into a tree (flame_graph.c), each frame a
 * box as wide as the bytes allocated under it, callers below callees; with
 * --inverted an icicle, merged from the allocating function and drawn from
 * the top, which groups a leak that many call paths reach. Frames narrower
 * than SVG_MIN_WIDTH pixels are left out (their bytes stay in their
 * callers' width), so a report of many stacks stays small. Style and script
 * are inline (flame_graph.css and flame_graph.js, embedded by
 * flame_graph_assets.S): hover, click to zoom, search. */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "report/flame_graph.h"
#include "report/flame_graph_assets.h"
#include "util/human_size.h"

#define SVG_WIDTH 1200
#define SVG_PAD 10 /* left and right margins */
#define SVG_FRAMES_WIDTH (SVG_WIDTH - 2 * SVG_PAD)
#define SVG_FRAME_HEIGHT 16
#define SVG_TOP 70    /* title, subtitle, buttons */
#define SVG_BOTTOM 30 /* the details line */
/* A 12 px monospace character: labels are cut to fit their box. */
#define SVG_CHAR_WIDTH 7.2
/* As flamegraph.pl's --minwidth default. */
#define SVG_MIN_WIDTH 0.1

/* Text and attribute values: C++ names hold < > &. Labels are valid UTF-8
 * without control characters already (flame_label). */
static void xml_text(FILE *out, const char *s, size_t len)
{
	static const char special[] = "&<>\"'";
	static const char *const entities[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };

	for (size_t i = 0; i < len; i++) {
		const char *e = s[i] ? strchr(special, s[i]) : NULL;

		if (e)
			fputs(entities[e - special], out);
		else
			fputc(s[i], out);
	}
}

/* How many bytes of label to draw in a box w pixels wide, and whether to
 * end them with "..": the same rule as the script's fit(). Never cuts a
 * UTF-8 sequence in two. */
static size_t label_fit(const char *label, double w, bool *cut)
{
	size_t len = strlen(label), n;
	double chars = (w - 4) / SVG_CHAR_WIDTH;

	*cut = false;
	if (chars < 3)
		return 0;
	n = (size_t)chars;
	if (len <= n)
		return len;
	*cut = true;
	n -= 2;
	while (n > 0 && ((unsigned char)label[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* Colour from a hash of the label, so a function keeps its colour from
 * report to report: warm for most, blue for frames of suspect stacks, green
 * for frames only stacks of mapped memory go through, grey for the root. */
static void frame_color(FILE *out, const struct flame_node *n)
{
	uint32_t h = 2166136261u;
	unsigned int a, b, c;

	if (n->depth == 0) {
		fputs("rgb(200,200,200)", out);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)n->label; *p; p++)
		h = (h ^ *p) * 16777619u;
	a = h & 0xff;
	b = (h >> 8) & 0xff;
	c = (h >> 16) & 0xff;
	if (n->suspect)
		fprintf(out, "rgb(%u,%u,%u)", 80 + a * 60 / 255, 120 + b * 60 / 255, 215 + c * 40 / 255);
	else if (n->mapped)
		fprintf(out, "rgb(%u,%u,%u)", 60 + a * 60 / 255, 170 + b * 50 / 255, 70 + c * 60 / 255);
	else
		fprintf(out, "rgb(%u,%u,%u)", 215 + a * 40 / 255, 100 + b * 120 / 255, 30 + c * 50 / 255);
}

static void frame_title(FILE *out, const struct flame_node *n, uint64_t total)
{
	char human[32];

	human_size(human, sizeof(human), "", n->bytes);
	fputs("<title>", out);
	xml_text(out, n->label, strlen(n->label));
	fprintf(out, "\n%" PRIu64 " bytes (%s), %.2f%% of outstanding%s%s</title>", n->bytes, human,
		total ? 100.0 * (double)n->bytes / (double)total : 0.0,
		n->suspect ? ", in a suspect stack" : "", n->mapped ? ", mapped by the program" : "");
}

/* Where frames go: the graph's total bytes span SVG_FRAMES_WIDTH; rows are
 * the depths drawn (0 to max_depth), top down when inverted. */
struct svg_layout {
	uint64_t total;
	unsigned int max_depth;
	unsigned int height;
	bool inverted;
};

/* Frames under SVG_MIN_WIDTH are not drawn; their callees, no wider,
 * neither. 0 bytes outstanding: the root alone, full width. */
static bool drawn(const struct svg_layout *l, const struct flame_node *n)
{
	return !l->total ||
	       (double)n->bytes * SVG_FRAMES_WIDTH / (double)l->total >= SVG_MIN_WIDTH;
}

static void svg_frame(FILE *out, const struct svg_layout *l, const struct flame_node *n)
{
	uint64_t total = l->total;
	double scale = total ? (double)SVG_FRAMES_WIDTH / (double)total : 0;
	double x = SVG_PAD + (double)n->x * scale;
	double w = total ? (double)n->bytes * scale : SVG_FRAMES_WIDTH;
	unsigned int row = l->inverted ? n->depth : l->max_depth - n->depth;
	unsigned int y = SVG_TOP + row * SVG_FRAME_HEIGHT;
	bool cut;
	size_t fit = label_fit(n->label, w, &cut);

	fprintf(out, "<g class=\"f\" data-x=\"%" PRIu64 "\" data-b=\"%" PRIu64 "\" data-d=\"%u\">",
		n->x, n->bytes, n->depth);
	frame_title(out, n, total);
	fprintf(out, "<rect x=\"%.2f\" y=\"%u\" width=\"%.2f\" height=\"%d\" rx=\"2\" fill=\"", x, y,
		w, SVG_FRAME_HEIGHT - 1);
	frame_color(out, n);
	fprintf(out, "\"/><text x=\"%.2f\" y=\"%d\">", x + 3, y + SVG_FRAME_HEIGHT - 4);
	xml_text(out, n->label, fit);
	fprintf(out, "%s</text></g>\n", cut ? ".." : "");
}

static void svg_header(FILE *out, const struct snapshot *snap, const struct svg_layout *l)
{
	char when[32], human[32];
	struct tm tm;
	const char *verdict = verdict_name(snap->process.verdict);

	gmtime_r(&snap->time.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	human_size(human, sizeof(human), "", l->total);
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
		"height=\"%u\" viewBox=\"0 0 %d %u\" data-pad=\"%d\" data-fw=\"%d\" data-cw=\"%.1f\">\n"
		"<style><![CDATA[\n%s]]></style>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f2\"/>\n"
		"<text id=\"title\" x=\"%d\" y=\"24\">memleakd: outstanding memory%s, pid %d</text>\n"
		"<text id=\"subtitle\" x=\"%d\" y=\"44\">%s: %" PRIu64 " bytes (%s) in %zu stack%s",
		SVG_WIDTH, l->height, SVG_WIDTH, l->height, SVG_PAD, SVG_FRAMES_WIDTH, SVG_CHAR_WIDTH,
		flame_graph_css, SVG_WIDTH / 2, l->inverted ? " by allocating function" : "",
		snap->pid, SVG_WIDTH / 2, when, l->total, human, snap->n_stacks,
		snap->n_stacks == 1 ? "" : "s");
	if (verdict)
		fprintf(out, ", verdict %s", verdict);
	if (snap->process.verdict == VERDICT_LEAK && snap->process.untraced_growth)
		fprintf(out, ", %s", verdict_name(VERDICT_UNTRACED));
	fprintf(out,
		"; blue: suspect stacks; green: memory the program mapped</text>\n"
		"<text id=\"unzoom\" class=\"btn hide\" x=\"%d\" y=\"62\">Reset zoom</text>\n"
		"<text id=\"search\" class=\"btn\" x=\"%d\" y=\"62\">Search</text>\n"
		"<text id=\"clear\" class=\"btn hide\" x=\"%d\" y=\"62\">Clear search</text>\n"
		"<g id=\"frames\">\n",
		SVG_PAD, SVG_WIDTH - SVG_PAD - 160, SVG_WIDTH - SVG_PAD - 100);
}

static void svg_footer(FILE *out, unsigned int height)
{
	fprintf(out,
		"</g>\n"
		"<text id=\"details\" x=\"%d\" y=\"%u\"> </text>\n"
		"<text id=\"matched\" x=\"%d\" y=\"%u\"></text>\n"
		"<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n"
		"</svg>\n",
		SVG_PAD, height - 10, SVG_WIDTH - SVG_PAD, height - 10, flame_graph_js);
}

static int svg_write(FILE *out, const struct snapshot *snap, const struct report_options *opt)
{
	struct flame_graph *g;
	struct svg_layout l = { .inverted = opt->inverted };
	int r;

	r = flame_graph__new(snap, opt->inverted, &g);
	if (r < 0)
		return r;
	l.total = g->nodes[0].bytes;
	for (size_t i = 0; i < g->n_nodes; i++)
		if (drawn(&l, &g->nodes[i]) && g->nodes[i].depth > l.max_depth)
			l.max_depth = g->nodes[i].depth;
	l.height = SVG_TOP + (l.max_depth + 1) * SVG_FRAME_HEIGHT + SVG_BOTTOM;
	svg_header(out, snap, &l);
	for (size_t i = 0; i < g->n_nodes; i++)
		if (drawn(&l, &g->nodes[i]))
			svg_frame(out, &l, &g->nodes[i]);
	svg_footer(out, l.height);
	flame_graph__free(g);
	return fflush(out) || ferror(out) ? -EIO : 0;
}

const struct report_writer report_svg = {
	.name = "svg",
	.extension = "svg",
	.document = true,
	.all_stacks = true,
	.write = svg_write,
};
