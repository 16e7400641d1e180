/* flame_graph.c - stacks to labelled paths, and paths to a laid-out tree.
 *
 * Sorting the paths does the merging: stacks that share a prefix of labels
 * become neighbours, so the tree is built in one pass that compares each
 * path with the one before it, and a node's x is the bytes of every path
 * sorted before its first one. Children come out in label order, the order
 * flamegraph.pl draws, and the same snapshot always gives the same graph.
 */
#include "report/flame_graph.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

/* Length of the valid UTF-8 sequence at s, or 0: XML parsers reject a
 * document with a bad byte, and names come from arbitrary binaries. */
static size_t valid_length(const unsigned char *s)
{
	size_t n = utf8_length(s[0]);

	return n && utf8_valid(s, n) ? n : 0;
}

/* ';' separates folded frames and a newline ends the line: neither may
 * appear inside a label. */
static void sanitize(char *label)
{
	unsigned char *p = (unsigned char *)label;

	while (*p) {
		size_t n = valid_length(p);

		if (*p == ';')
			*p = ':';
		else if (*p < 0x20 || *p == 0x7f || n == 0)
			*p = '?';
		p += n ? n : 1;
	}
}

char *flame_label(const struct frame *f, bool lines)
{
	char *label = NULL;
	int r;

	if (lines && f->function && f->file) {
		r = asprintf(&label, "%s (%s:%u)", f->function, f->file, f->line);
	} else if (f->function) {
		label = strdup(f->function);
		r = label ? 0 : -1;
	} else if (f->module) {
		const char *base = strrchr(f->module, '/');
		size_t len;

		base = base ? base + 1 : f->module;
		len = strlen(base);
		/* "[anon]" comes bracketed: "[anon+0x10]", not "[[anon]+0x10]". */
		if (len >= 2 && base[0] == '[' && base[len - 1] == ']') {
			base++;
			len -= 2;
		}
		r = asprintf(&label, "[%.*s+0x%" PRIx64 "]", (int)len, base,
			     f->addr - f->map_start + f->map_offset);
	} else {
		r = asprintf(&label, "0x%" PRIx64, f->addr);
	}
	if (r < 0)
		return NULL;
	sanitize(label);
	return label;
}

static void path_free(struct flame_path *p)
{
	for (size_t i = 0; i < p->depth; i++)
		free(p->labels[i]);
	free(p->labels);
}

void flame_paths__free(struct flame_paths *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		path_free(&p->paths[i]);
	free(p->paths);
	free(p);
}

/* The labels of s, innermost first: a lost stack's one label, or its
 * frames'; then FLAME_MAPPED for mapped memory. Returns the count, or 0 on
 * ENOMEM. */
static size_t leaf_first_labels(char **labels, const struct snapshot_stack *s, bool lines)
{
	size_t n = 0;

	if (s->kind == STACK_MAPPED && !(labels[n++] = strdup(FLAME_MAPPED)))
		return 0;
	if (!s->n_frames)
		return (labels[n++] = strdup(FLAME_STACK_LOST)) ? n : 0;
	for (size_t i = 0; i < s->n_frames; i++)
		if (!(labels[n++] = flame_label(&s->frames[i], lines)))
			return 0;
	return n;
}

static int path_init(struct flame_path *p, const struct snapshot_stack *s, bool leaf_first,
		     bool lines)
{
	size_t depth = (s->n_frames ? s->n_frames : 1) + (s->kind == STACK_MAPPED);

	*p = (struct flame_path){ .bytes = s->bytes, .suspect = s->trend.cls == STACK_SUSPECT,
				  .mapped = s->kind == STACK_MAPPED };
	p->labels = calloc(depth, sizeof(*p->labels));
	if (!p->labels)
		return -ENOMEM;
	p->depth = depth;
	if (leaf_first_labels(p->labels, s, lines) != depth)
		return -ENOMEM;
	/* Root first: the outermost caller at 0. */
	for (size_t i = 0; !leaf_first && i < depth / 2; i++) {
		char *t = p->labels[i];

		p->labels[i] = p->labels[depth - 1 - i];
		p->labels[depth - 1 - i] = t;
	}
	return 0;
}

static int path_cmp(const void *va, const void *vb)
{
	const struct flame_path *a = va, *b = vb;

	for (size_t i = 0; i < a->depth && i < b->depth; i++) {
		int c = strcmp(a->labels[i], b->labels[i]);

		if (c)
			return c;
	}
	return a->depth < b->depth ? -1 : a->depth > b->depth;
}

bool flame_path_equal(const struct flame_path *a, const struct flame_path *b)
{
	return path_cmp(a, b) == 0;
}

int flame_paths__new(const struct snapshot *snap, bool leaf_first, bool lines,
		     struct flame_paths **out)
{
	struct flame_paths *p = calloc(1, sizeof(*p));
	int r = -ENOMEM;

	if (!p)
		return -ENOMEM;
	p->paths = calloc(snap->n_top + snap->n_top_mappings + 1, sizeof(*p->paths));
	if (!p->paths)
		goto fail;
	for (size_t i = 0; i < snap->n_top + snap->n_top_mappings; i++) {
		const struct snapshot_stack *s = i < snap->n_top ? &snap->stacks[i] :
					       &snap->mappings[i - snap->n_top];

		if (!s->bytes || s->kind == STACK_HEAP)
			continue;
		/* Counted before filling, so a half-filled path is freed too. */
		r = path_init(&p->paths[p->n++], s, leaf_first, lines);
		if (r < 0)
			goto fail;
	}
	qsort(p->paths, p->n, sizeof(*p->paths), path_cmp);
	*out = p;
	return 0;
fail:
	flame_paths__free(p);
	return r;
}

void flame_graph__free(struct flame_graph *g)
{
	if (!g)
		return;
	flame_paths__free(g->paths);
	free(g->nodes);
	free(g);
}

static int add_node(struct flame_graph *g, size_t *cap, struct flame_node node)
{
	if (g->n_nodes == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		struct flame_node *nodes = realloc(g->nodes, n * sizeof(*nodes));

		if (!nodes)
			return -ENOMEM;
		g->nodes = nodes;
		*cap = n;
	}
	g->nodes[g->n_nodes++] = node;
	return 0;
}

/* How many leading labels a and b share. */
static size_t common_prefix(const struct flame_path *a, const struct flame_path *b)
{
	size_t k = 0;

	while (k < a->depth && k < b->depth && !strcmp(a->labels[k], b->labels[k]))
		k++;
	return k;
}

/* Add each path under the root: its bytes to the nodes it shares with the
 * previous path (chain[] holds those, by depth), new nodes for the rest. */
static int build_tree(struct flame_graph *g, size_t *chain)
{
	const struct flame_paths *ps = g->paths;
	uint64_t x = 0;
	size_t cap = 0;
	int r = add_node(g, &cap, (struct flame_node){ .label = "all", .mapped = ps->n > 0 });

	for (size_t i = 0; i < ps->n && r == 0; i++) {
		const struct flame_path *p = &ps->paths[i];
		size_t k = i ? common_prefix(&ps->paths[i - 1], p) : 0;

		g->nodes[0].bytes += p->bytes;
		g->nodes[0].suspect |= p->suspect;
		g->nodes[0].mapped &= p->mapped;
		for (size_t d = 0; d < k; d++) {
			g->nodes[chain[d]].bytes += p->bytes;
			g->nodes[chain[d]].suspect |= p->suspect;
			g->nodes[chain[d]].mapped &= p->mapped;
		}
		for (size_t d = k; d < p->depth && r == 0; d++) {
			chain[d] = g->n_nodes;
			r = add_node(g, &cap, (struct flame_node){ .label = p->labels[d], .x = x,
				     .bytes = p->bytes, .depth = d + 1, .suspect = p->suspect,
				     .mapped = p->mapped });
		}
		x += p->bytes;
	}
	return r;
}

int flame_graph__new(const struct snapshot *snap, bool inverted, struct flame_graph **out)
{
	struct flame_graph *g = calloc(1, sizeof(*g));
	size_t *chain = NULL, depth = 0;
	int r;

	if (!g)
		return -ENOMEM;
	r = flame_paths__new(snap, inverted, false, &g->paths);
	if (r < 0)
		goto done;
	for (size_t i = 0; i < g->paths->n; i++)
		if (g->paths->paths[i].depth > depth)
			depth = g->paths->paths[i].depth;
	chain = calloc(depth + 1, sizeof(*chain));
	r = chain ? build_tree(g, chain) : -ENOMEM;
done:
	free(chain);
	if (r < 0) {
		flame_graph__free(g);
		return r;
	}
	*out = g;
	return 0;
}
