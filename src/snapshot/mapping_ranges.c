/* mapping_ranges.c - disjoint address ranges in a treap: a binary search
 * tree by start address that is also a heap by random priority, so that it
 * stays balanced (O(log n) deep, expected) whatever order ranges come in.
 * Every change is a split by address and a merge: cutting [a, b) out is
 * two splits, at most two new nodes for the pieces left on either side,
 * and merges. Nodes live in one array and link by index (0: none); before
 * a change takes nodes, the array is grown to hold them all, so that a
 * change cannot fail half way. */
#include "snapshot/mapping_ranges.h"

#include <errno.h>
#include <stdlib.h>

#include "util/array.h"

struct node {
	struct mapping_range m;
	uint32_t left, right;
	uint32_t priority;
};

struct mapping_ranges {
	struct node *nodes; /* nodes[0] is the empty tree */
	size_t cap;         /* nodes allocated */
	size_t used;        /* nodes[0, used) handed out at least once */
	uint32_t free_list; /* nodes given back, linked by left */
	size_t n_free;
	uint32_t root;
	uint64_t seed;
};

/* Nodes any one change takes at most: mapping_ranges__move's cut of the
 * old range (2), of the new one (2, given back) and its growth (1). */
#define MAX_NEW_NODES 5

struct mapping_ranges *mapping_ranges__new(void)
{
	struct mapping_ranges *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->used = 1;
	r->seed = 0x9e3779b97f4a7c15ULL;
	return r;
}

void mapping_ranges__free(struct mapping_ranges *r)
{
	if (!r)
		return;
	free(r->nodes);
	free(r);
}

/* Room for MAX_NEW_NODES more nodes. Returns 0 or -ENOMEM. */
static int reserve(struct mapping_ranges *r)
{
	while (r->used + MAX_NEW_NODES > r->cap + r->n_free) {
		if (r->cap >= UINT32_MAX / 2)
			return -ENOMEM;
		if (array_grow((void **)&r->nodes, &r->cap, r->cap, sizeof(*r->nodes), 64))
			return -ENOMEM;
	}
	return 0;
}

/* xorshift64: priorities need only be distinct and unordered. */
static uint32_t next_priority(struct mapping_ranges *r)
{
	r->seed ^= r->seed << 13;
	r->seed ^= r->seed >> 7;
	r->seed ^= r->seed << 17;
	return (uint32_t)(r->seed >> 32);
}

/* Within the room reserve() made. */
static uint32_t new_node(struct mapping_ranges *r, const struct mapping_range *m)
{
	uint32_t i;

	if (r->free_list) {
		i = r->free_list;
		r->free_list = r->nodes[i].left;
		r->n_free--;
	} else {
		i = (uint32_t)r->used++;
	}
	r->nodes[i] = (struct node){ .m = *m, .priority = next_priority(r) };
	return i;
}

static void free_tree(struct mapping_ranges *r, uint32_t t)
{
	if (!t)
		return;
	free_tree(r, r->nodes[t].left);
	free_tree(r, r->nodes[t].right);
	r->nodes[t].left = r->free_list;
	r->free_list = t;
	r->n_free++;
}

/* t into *below (starts < key) and *rest (starts >= key). */
static void split(struct mapping_ranges *r, uint32_t t, uint64_t key, uint32_t *below,
		  uint32_t *rest)
{
	struct node *n;

	if (!t) {
		*below = *rest = 0;
		return;
	}
	n = &r->nodes[t];
	if (n->m.start < key) {
		split(r, n->right, key, &n->right, rest);
		*below = t;
	} else {
		split(r, n->left, key, below, &n->left);
		*rest = t;
	}
}

/* Every start in a is below every start in b. */
static uint32_t merge(struct mapping_ranges *r, uint32_t a, uint32_t b)
{
	if (!a || !b)
		return a ? a : b;
	if (r->nodes[a].priority > r->nodes[b].priority) {
		r->nodes[a].right = merge(r, r->nodes[a].right, b);
		return a;
	}
	r->nodes[b].left = merge(r, a, r->nodes[b].left);
	return b;
}

static uint32_t rightmost(const struct mapping_ranges *r, uint32_t t)
{
	while (t && r->nodes[t].right)
		t = r->nodes[t].right;
	return t;
}

static struct mapping_range piece(const struct mapping_range *m, uint64_t start, uint64_t end)
{
	struct mapping_range p = *m;

	p.start = start;
	p.end = end;
	return p;
}

/* Take the bytes of [a, b) out of the table: returns the tree of them, each
 * range cut to [a, b). A range that began below a keeps [start, a), one
 * that ends past b keeps [b, end). Takes at most two nodes. */
static uint32_t extract(struct mapping_ranges *r, uint64_t a, uint64_t b)
{
	uint32_t below, mid, above, x, head = 0, tail = 0;

	split(r, r->root, a, &below, &mid);
	x = rightmost(r, below);
	if (x && r->nodes[x].m.end > a) {
		struct mapping_range m = r->nodes[x].m, p = piece(&m, a, m.end < b ? m.end : b);

		head = new_node(r, &p);
		if (m.end > b) {
			p = piece(&m, b, m.end);
			tail = new_node(r, &p);
		}
		r->nodes[x].m.end = a;
	}
	split(r, mid, b, &mid, &above);
	x = rightmost(r, mid);
	/* Only when no range covered a and went past b: else mid is empty. */
	if (x && r->nodes[x].m.end > b) {
		struct mapping_range p = piece(&r->nodes[x].m, b, r->nodes[x].m.end);

		tail = new_node(r, &p);
		r->nodes[x].m.end = b;
	}
	r->root = merge(r, below, merge(r, tail, above));
	return merge(r, head, mid);
}

/* The counted bytes of t: reserved ones are not. */
static uint64_t tree_bytes(const struct mapping_ranges *r, uint32_t t)
{
	const struct mapping_range *m;

	if (!t)
		return 0;
	m = &r->nodes[t].m;
	return (m->reserved ? 0 : m->end - m->start) + tree_bytes(r, r->nodes[t].left) +
	       tree_bytes(r, r->nodes[t].right);
}

/* Put tree t, whose ranges lie where the table holds nothing, in place. */
static void insert_tree(struct mapping_ranges *r, uint32_t t)
{
	uint32_t below, rest;

	if (!t)
		return;
	split(r, r->root, r->nodes[t].m.start, &below, &rest);
	r->root = merge(r, merge(r, below, t), rest);
}

/* Take [start, end) out into *cut: returns 1, 0 for an empty range (*cut
 * unset), or -ENOMEM with the table unchanged. */
static int cut_range(struct mapping_ranges *r, uint64_t start, uint64_t end, uint32_t *cut)
{
	int err;

	if (end <= start)
		return 0;
	err = reserve(r);
	if (err)
		return err;
	*cut = extract(r, start, end);
	return 1;
}

int64_t mapping_ranges__unmap(struct mapping_ranges *r, uint64_t start, uint64_t end)
{
	uint32_t cut;
	uint64_t bytes;
	int err = cut_range(r, start, end, &cut);

	if (err <= 0)
		return err;
	bytes = tree_bytes(r, cut);
	free_tree(r, cut);
	return (int64_t)bytes;
}

/* Add the counted bytes of t, and make every range of it counted (open,
 * as m's) or reserved. */
static uint64_t set_reserved(struct mapping_ranges *r, uint32_t t, bool reserved,
			     const struct mapping_range *m)
{
	struct mapping_range *x;
	uint64_t bytes;

	if (!t)
		return 0;
	x = &r->nodes[t].m;
	bytes = x->reserved == reserved ? 0 : x->end - x->start;
	if (!reserved && x->reserved)
		*x = piece(m, x->start, x->end);
	x->reserved = reserved;
	return bytes + set_reserved(r, r->nodes[t].left, reserved, m) +
	       set_reserved(r, r->nodes[t].right, reserved, m);
}

/* t without its first range, which *first gets, a tree of its own. */
static uint32_t drop_first(struct mapping_ranges *r, uint32_t t, uint32_t *first)
{
	if (!r->nodes[t].left) {
		uint32_t right = r->nodes[t].right;

		*first = t;
		r->nodes[t].right = 0;
		return right;
	}
	r->nodes[t].left = drop_first(r, r->nodes[t].left, first);
	return t;
}

static bool joinable(const struct mapping_range *below, const struct mapping_range *m)
{
	return below->end == m->start && below->stack_id == m->stack_id &&
	       below->heap == m->heap && !below->reserved && !m->reserved;
}

/* The range starting at addr joins the one ending there, when they are
 * one stack's and counted. */
static void join_at(struct mapping_ranges *r, uint64_t addr)
{
	uint32_t below, rest, x, y;

	split(r, r->root, addr, &below, &rest);
	x = rightmost(r, below);
	if (x && rest) {
		uint32_t kept = drop_first(r, rest, &y);

		if (joinable(&r->nodes[x].m, &r->nodes[y].m)) {
			r->nodes[x].m.end = r->nodes[y].m.end;
			free_tree(r, y);
			rest = kept;
		} else {
			rest = merge(r, y, kept);
		}
	}
	r->root = merge(r, below, rest);
}

int64_t mapping_ranges__open(struct mapping_ranges *r, uint64_t start, uint64_t end,
			     uint64_t reserved_end, const struct mapping_range *m, bool grow)
{
	uint64_t opened = 0, from = start;
	uint32_t cut;
	/* Enough for both parts: the first takes one node in the end. */
	int err = reserve(r);

	if (err)
		return err;
	if (reserved_end > end)
		reserved_end = end;
	if (reserved_end > start) {
		struct mapping_range whole = piece(m, start, reserved_end);

		whole.reserved = false;
		cut = extract(r, start, reserved_end);
		opened = reserved_end - start - tree_bytes(r, cut);
		free_tree(r, cut);
		insert_tree(r, new_node(r, &whole));
		from = reserved_end;
	}
	if (from < end) {
		cut = extract(r, from, end);
		opened += set_reserved(r, cut, false, m);
		insert_tree(r, cut);
	}
	if (grow)
		join_at(r, start);
	return (int64_t)opened;
}

int64_t mapping_ranges__close(struct mapping_ranges *r, uint64_t start, uint64_t end)
{
	uint32_t cut;
	uint64_t closed;
	int err = cut_range(r, start, end, &cut);

	if (err <= 0)
		return err;
	closed = set_reserved(r, cut, true, NULL);
	insert_tree(r, cut);
	return (int64_t)closed;
}

int mapping_ranges__map(struct mapping_ranges *r, const struct mapping_range *m, bool grow)
{
	uint32_t below, rest, x;
	int err;

	if (m->end <= m->start)
		return -EINVAL;
	err = reserve(r);
	if (err)
		return err;
	free_tree(r, extract(r, m->start, m->end));
	split(r, r->root, m->start, &below, &rest);
	x = rightmost(r, below);
	if (grow && x && joinable(&r->nodes[x].m, m)) {
		r->nodes[x].m.end = m->end;
		r->root = merge(r, below, rest);
		return 0;
	}
	r->root = merge(r, merge(r, below, new_node(r, m)), rest);
	return 0;
}

/* Shift every range of t by delta (mod 2^64: down as well as up). */
static void shift_tree(struct mapping_ranges *r, uint32_t t, uint64_t delta)
{
	if (!t)
		return;
	r->nodes[t].m.start += delta;
	r->nodes[t].m.end += delta;
	shift_tree(r, r->nodes[t].left, delta);
	shift_tree(r, r->nodes[t].right, delta);
}

int mapping_ranges__move(struct mapping_ranges *r, uint64_t old, uint64_t old_len, uint64_t new,
			 uint64_t new_len, const struct mapping_range *growth)
{
	uint64_t kept = old_len < new_len ? old_len : new_len;
	uint32_t moved, dropped, x;
	int err = reserve(r);

	if (err)
		return err;
	moved = extract(r, old, old + old_len);
	free_tree(r, extract(r, new, new + new_len));
	shift_tree(r, moved, new - old);
	split(r, moved, new + kept, &moved, &dropped);
	free_tree(r, dropped);
	x = rightmost(r, moved);
	if (x && r->nodes[x].m.end > new + kept)
		r->nodes[x].m.end = new + kept;
	insert_tree(r, moved);
	if (new_len > old_len)
		insert_tree(r, new_node(r, &(struct mapping_range){
			.start = new + old_len, .end = new + new_len, .born_ns = growth->born_ns,
			.stack_id = growth->stack_id, .heap = growth->heap }));
	return 0;
}

static int walk(const struct mapping_ranges *r, uint32_t t,
		int (*fn)(const struct mapping_range *m, void *ctx), void *ctx)
{
	int ret;

	if (!t)
		return 0;
	ret = walk(r, r->nodes[t].left, fn, ctx);
	if (!ret)
		ret = fn(&r->nodes[t].m, ctx);
	if (!ret)
		ret = walk(r, r->nodes[t].right, fn, ctx);
	return ret;
}

int mapping_ranges__walk(const struct mapping_ranges *r,
			 int (*fn)(const struct mapping_range *m, void *ctx), void *ctx)
{
	return walk(r, r->root, fn, ctx);
}

size_t mapping_ranges__count(const struct mapping_ranges *r)
{
	return r->used - 1 - r->n_free;
}
