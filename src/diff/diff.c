/* diff.c - `memleakd diff [-f text|json] [-n N] OLD NEW`: read two saved
 * reports, pair their stacks, and rank the pairs by growth. Pairing is
 * hashed (each pass sorts OLD's keys once and looks NEW's up by binary
 * search), so reports listing many thousands of stacks diff quickly.
 * Only diff_main prints; the rest returns -errno. */
#include "diff/diff.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define DEFAULT_LIMIT 20
#define NO_MATCH SIZE_MAX

/* What identifies a stack in one pass: addresses, or names. */
enum key {
	KEY_ADDR,
	KEY_NAME,
};

struct slot {
	uint64_t hash;
	size_t index; /* in OLD's stacks */
};

struct matcher {
	const struct saved_report *old, *new;
	size_t *old_of_new;      /* per NEW stack: its OLD stack, or NO_MATCH */
	enum diff_match *how;    /* per NEW stack */
	bool *old_taken;
	struct slot *slots;
};

/* The module's file name: the same library may live under another path
 * on another host or in a container. */
static const char *module_name(const char *module)
{
	const char *slash = module ? strrchr(module, '/') : NULL;

	return slash ? slash + 1 : module ? module : "";
}

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

static uint64_t stack_hash(const struct saved_stack *s, enum key k)
{
	uint64_t h = fnv(FNV_OFFSET, &s->n_frames, sizeof(s->n_frames));

	for (size_t i = 0; i < s->n_frames; i++) {
		const struct saved_frame *f = &s->frames[i];
		const char *m = module_name(f->module);

		h = fnv(h, m, strlen(m) + 1);
		if (k == KEY_ADDR) {
			h = fnv(h, &f->addr, sizeof(f->addr));
		} else {
			h = fnv(h, f->function, strlen(f->function) + 1);
			h = fnv(h, &f->offset, sizeof(f->offset));
		}
	}
	return h;
}

static bool frames_equal(const struct saved_stack *a, const struct saved_stack *b, enum key k)
{
	if (a->n_frames != b->n_frames)
		return false;
	for (size_t i = 0; i < a->n_frames; i++) {
		const struct saved_frame *f = &a->frames[i], *g = &b->frames[i];

		if (strcmp(module_name(f->module), module_name(g->module)))
			return false;
		if (k == KEY_ADDR ? f->addr != g->addr
				  : strcmp(f->function, g->function) || f->offset != g->offset)
			return false;
	}
	return true;
}

/* Names identify a stack only when every frame has one: an unnamed frame
 * could be any code of its module. */
static bool has_key(const struct saved_stack *s, enum key k)
{
	for (size_t i = 0; k == KEY_NAME && i < s->n_frames; i++)
		if (!s->frames[i].function)
			return false;
	return true;
}

static int slot_cmp(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The first slot of slots[0..n) whose hash is at least h. */
static size_t lower_bound(const struct slot *slots, size_t n, uint64_t h)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (slots[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Pair each unpaired NEW stack with the first unpaired OLD stack of the
 * same key, in report order, so equal stacks pair up one to one. */
static void match_pass(struct matcher *m, enum key k, enum diff_match how)
{
	const struct saved_report *old = m->old, *new = m->new;
	size_t n = 0;

	for (size_t i = 0; i < old->n_stacks; i++)
		if (!m->old_taken[i] && has_key(&old->stacks[i], k))
			m->slots[n++] = (struct slot){ stack_hash(&old->stacks[i], k), i };
	qsort(m->slots, n, sizeof(*m->slots), slot_cmp);
	for (size_t i = 0; i < new->n_stacks; i++) {
		const struct saved_stack *s = &new->stacks[i];
		uint64_t h;

		if (m->old_of_new[i] != NO_MATCH || !has_key(s, k))
			continue;
		h = stack_hash(s, k);
		for (size_t j = lower_bound(m->slots, n, h); j < n && m->slots[j].hash == h; j++) {
			size_t o = m->slots[j].index;

			if (!m->old_taken[o] && frames_equal(&old->stacks[o], s, k)) {
				m->old_taken[o] = true;
				m->old_of_new[i] = o;
				m->how[i] = how;
				break;
			}
		}
	}
}

static enum diff_status classify(const struct diff_entry *e)
{
	if (!e->old)
		return DIFF_NEW;
	if (!e->new)
		return DIFF_GONE;
	if (e->growth_bytes > 0 || (e->growth_bytes == 0 && e->growth_allocs > 0))
		return DIFF_GROWN;
	if (e->growth_bytes < 0 || e->growth_allocs < 0)
		return DIFF_SHRUNK;
	return DIFF_UNCHANGED;
}

static void add_entry(struct diff *d, const struct saved_stack *old, const struct saved_stack *new,
		      enum diff_match how)
{
	struct diff_entry *e = &d->entries[d->n++];

	e->old = old;
	e->new = new;
	e->match = how;
	/* Counts are at most INT64_MAX (saved_report.c): no overflow. */
	e->growth_bytes = (int64_t)(new ? new->bytes : 0) - (int64_t)(old ? old->bytes : 0);
	e->growth_allocs = (int64_t)(new ? new->allocs : 0) - (int64_t)(old ? old->allocs : 0);
	e->status = classify(e);
	d->by_status[e->status]++;
	d->by_addr += how == DIFF_BY_ADDR;
	d->by_name += how == DIFF_BY_NAME;
}

static int cmp_desc(int64_t a, int64_t b)
{
	return a > b ? -1 : a < b;
}

/* Largest growth first; ties in a fixed order, report order last (the
 * stacks' addresses in their arrays follow it). */
static int entry_cmp(const void *a, const void *b)
{
	const struct diff_entry *x = a, *y = b;
	int c = cmp_desc(x->growth_bytes, y->growth_bytes);

	if (!c)
		c = cmp_desc(x->growth_allocs, y->growth_allocs);
	if (!c)
		c = cmp_desc((int64_t)(x->new ? x->new->bytes : 0), (int64_t)(y->new ? y->new->bytes : 0));
	if (!c)
		c = (int)x->status - (int)y->status;
	if (!c && x->new != y->new)
		c = x->new < y->new ? -1 : 1;
	if (!c && x->old != y->old)
		c = x->old < y->old ? -1 : 1;
	return c;
}

static void fill_entries(struct diff *d, const struct matcher *m)
{
	const struct saved_report *old = d->old, *new = d->new;

	for (size_t i = 0; i < new->n_stacks; i++) {
		size_t o = m->old_of_new[i];

		add_entry(d, o == NO_MATCH ? NULL : &old->stacks[o], &new->stacks[i], m->how[i]);
	}
	for (size_t i = 0; i < old->n_stacks; i++)
		if (!m->old_taken[i])
			add_entry(d, &old->stacks[i], NULL, DIFF_UNMATCHED);
	qsort(d->entries, d->n, sizeof(*d->entries), entry_cmp);
}

static double elapsed_s(const struct timespec *from, const struct timespec *to)
{
	return (double)(to->tv_sec - from->tv_sec) + (double)(to->tv_nsec - from->tv_nsec) / 1e9;
}

int diff_compute(const struct saved_report *old, const struct saved_report *new,
		 struct diff **out)
{
	struct matcher m = { .old = old, .new = new };
	struct diff *d = calloc(1, sizeof(*d));
	int r = -ENOMEM;

	m.old_of_new = malloc((new->n_stacks + 1) * sizeof(*m.old_of_new));
	m.how = calloc(new->n_stacks + 1, sizeof(*m.how));
	m.old_taken = calloc(old->n_stacks + 1, sizeof(*m.old_taken));
	m.slots = malloc((old->n_stacks + 1) * sizeof(*m.slots));
	if (d)
		d->entries = calloc(old->n_stacks + new->n_stacks + 1, sizeof(*d->entries));
	if (!d || !d->entries || !m.old_of_new || !m.how || !m.old_taken || !m.slots)
		goto out;
	for (size_t i = 0; i < new->n_stacks; i++)
		m.old_of_new[i] = NO_MATCH;
	d->old = old;
	d->new = new;
	d->elapsed_s = elapsed_s(&old->when, &new->when);
	d->growth_bytes = (int64_t)new->outstanding_bytes - (int64_t)old->outstanding_bytes;
	d->growth_allocs = (int64_t)new->outstanding_allocs - (int64_t)old->outstanding_allocs;
	match_pass(&m, KEY_ADDR, DIFF_BY_ADDR);
	match_pass(&m, KEY_NAME, DIFF_BY_NAME);
	fill_entries(d, &m);
	*out = d;
	d = NULL;
	r = 0;
out:
	free(m.old_of_new);
	free(m.how);
	free(m.old_taken);
	free(m.slots);
	diff_free(d);
	return r;
}

void diff_free(struct diff *d)
{
	if (!d)
		return;
	free(d->entries);
	free(d);
}

static const char usage[] =
	"usage: memleakd diff [-f text|json] [-n N] OLD NEW\n"
	"Compare two reports saved with -f json (a file of reports: its last one;\n"
	"a directory of -o DIR/: its latest) and print each stack's growth.\n"
	"  -f, --format FORMAT  text (default) or json\n"
	"  -n, --top N          the N stacks that grew most (default 20; 0: all)\n"
	"  -h, --help           this help\n";

struct diff_options {
	bool json;
	size_t limit;
	const char *old, *new;
};

/* Returns 0, 1 for --help, or -EINVAL (message printed). */
static int parse_args(int argc, char **argv, struct diff_options *o)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "top", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int opt;

	/* 0, not 1: getopt starts over, whoever ran it before. */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":f:n:h", options, NULL)) != -1) {
		if (opt == 'h')
			return 1;
		if (opt == 'f' && (!strcmp(optarg, "text") || !strcmp(optarg, "json"))) {
			o->json = !strcmp(optarg, "json");
		} else if (opt == 'f') {
			log_error("diff: --format: '%s' is not text or json", optarg);
			return -EINVAL;
		} else if (opt == 'n') {
			errno = 0;
			o->limit = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-') {
				log_error("diff: --top: '%s' is not a number", optarg);
				return -EINVAL;
			}
		} else {
			log_error("diff: %s option '%s'", opt == ':' ? "missing argument to" : "unknown",
				  argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (argc - optind != 2) {
		log_error("diff: expected two reports, OLD and NEW; got %d", argc - optind);
		return -EINVAL;
	}
	o->old = argv[optind];
	o->new = argv[optind + 1];
	return 0;
}

/* Returns 0, or -errno with the error printed. */
static int load(const char *path, struct saved_report **out)
{
	char *error = NULL;
	int r = saved_report__load(path, out, &error);

	if (r < 0)
		log_error("diff: %s", error ? error : strerror(-r));
	free(error);
	return r;
}

/* What the reader may want to know before reading the figures. */
static void warn_about(const struct saved_report *old, const struct saved_report *new)
{
	const struct saved_report *reps[] = { old, new };

	if (old->pid != new->pid)
		log_warn("diff: the reports are of different processes (pid %d, pid %d): stacks "
			 "that moved with ASLR are matched by their function names", old->pid,
			 new->pid);
	for (size_t i = 0; i < 2; i++) {
		if (reps[i]->truncated_tail)
			log_warn("diff: %s: its last report is incomplete (still being written?); "
				 "using the one before", reps[i]->path);
		if (reps[i]->n_stacks < reps[i]->stacks_total)
			log_warn("diff: %s lists %zu of %" PRIu64 " stacks (--top): a stack below "
				 "the top shows as new or gone", reps[i]->path, reps[i]->n_stacks,
				 reps[i]->stacks_total);
	}
	if (new->when.tv_sec < old->when.tv_sec ||
	    (new->when.tv_sec == old->when.tv_sec && new->when.tv_nsec < old->when.tv_nsec))
		log_warn("diff: NEW (%s) is older than OLD (%s)", new->time, old->time);
}

static int run(const struct diff_options *o)
{
	struct saved_report *old = NULL, *new = NULL;
	struct diff *d = NULL;
	int r = load(o->old, &old);

	if (r >= 0)
		r = load(o->new, &new);
	if (r >= 0) {
		warn_about(old, new);
		r = diff_compute(old, new, &d);
		if (r < 0)
			log_error("diff: %s", strerror(-r));
	}
	if (r >= 0) {
		r = o->json ? diff_write_json(stdout, d, o->limit) : diff_write_text(stdout, d, o->limit);
		if (r < 0)
			log_error("diff: writing the result failed: %s", strerror(-r));
	}
	diff_free(d);
	saved_report__free(old);
	saved_report__free(new);
	return r;
}

int diff_main(int argc, char **argv)
{
	struct diff_options o = { .limit = DEFAULT_LIMIT };
	int r = parse_args(argc, argv, &o);

	if (r == 1) {
		fputs(usage, stdout);
		return 0;
	}
	if (r < 0) {
		fputs(usage, stderr);
		return 2;
	}
	return run(&o) < 0 ? 1 : 0;
}
