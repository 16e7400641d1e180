/* flame_graph.h - a snapshot's stacks as flame graph data: each stack a path
 * of frame labels, sorted so that equal paths and shared prefixes sit
 * together, and the tree those paths merge into, laid out by bytes. The
 * folded writer prints the paths; the SVG writer draws the tree. */
#ifndef FLAME_GRAPH_H
#define FLAME_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapshot.h"

/* The label of a lost stack's only frame. */
#define FLAME_STACK_LOST "[stack lost]"
/* The frame a stack of memory the program mapped itself ends with, at the
 * leaf end: the kind shows in every format, colours or not. */
#define FLAME_MAPPED "[mapped]"

/* One stack: labels[0] is the root end, the outermost caller, or with
 * leaf_first the allocating function. */
struct flame_path {
	char **labels;
	size_t depth;
	uint64_t bytes;
	bool suspect; /* the stack is classed suspect */
	bool mapped;  /* memory the program mapped (STACK_MAPPED), not allocations */
};

/* Every stack holding bytes, of allocations and of memory the program
 * mapped (not the allocators' heaps, which hold the allocations already
 * counted), sorted by labels (level by level, a prefix
 * first); equal paths are neighbours, not merged. */
struct flame_paths {
	struct flame_path *paths;
	size_t n;
};

/* One frame of the graph. x is in bytes: the frames of one row tile it from
 * 0 (left) to the total (right). */
struct flame_node {
	const char *label; /* owned by the graph */
	uint64_t x;
	uint64_t bytes;
	unsigned int depth; /* 0: the root, every outstanding byte */
	bool suspect;       /* a suspect stack goes through it */
	bool mapped;        /* every stack through it is of mapped memory */
};

struct flame_graph {
	struct flame_paths *paths;
	struct flame_node *nodes; /* pre-order: the root, then each subtree in label order */
	size_t n_nodes;
};

/* The label of a frame, without ';' or control characters, valid UTF-8:
 * with lines, "function (file:line)" when its source line is known; the
 * function name; else "[module+0xOFFSET]" (offset in the object), else
 * "0xADDR". Returns a string the caller frees, or NULL on ENOMEM. */
char *flame_label(const struct frame *f, bool lines);

/* Returns 0 and *out, or -ENOMEM. */
/* lines: labels carry the source line (folded); a flame graph merges a
 * function's calls from different lines into one frame. */
int flame_paths__new(const struct snapshot *snap, bool leaf_first, bool lines,
		     struct flame_paths **out);
/* Accepts NULL. */
void flame_paths__free(struct flame_paths *p);
/* Whether a and b have the same labels. */
bool flame_path_equal(const struct flame_path *a, const struct flame_path *b);

/* The tree of the snapshot's stacks, rooted at "all"; inverted merges from
 * the leaf (allocating function) side. Returns 0 and *out, or -ENOMEM. */
int flame_graph__new(const struct snapshot *snap, bool inverted, struct flame_graph **out);
/* Accepts NULL. */
void flame_graph__free(struct flame_graph *g);

#endif
