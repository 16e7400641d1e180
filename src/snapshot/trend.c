/* trend.c - stack histories, and the windows growth_rule.c judges.
 *
 * Report 0 is the attach (every stack at 0 bytes), report n the n-th
 * report. Each stack keeps its outstanding bytes and allocations at the
 * last window + 2 reports in a ring; a report it is missing from held 0
 * (a stack in no report holds nothing). A stack's window is its last
 * `window` intervals, from the report it first appeared in on: the
 * interval it appeared in is its birth, growth from nothing, and is not
 * judged. An interval (n-1, n] is judged only when it lasted at least half
 * the report period: the final report, taken when the run is stopped, may
 * follow the last periodic one by milliseconds, and then stands in for
 * it; the ring's extra report keeps the window full across it.
 */
#include "snapshot/trend.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/growth_rule.h"
#include "util/key_index.h"

struct sample {
	uint32_t report; /* which report the slot holds; others read as 0 */
	int64_t bytes, allocs;
};

struct history {
	uint32_t id;
	uint32_t first;         /* first report the stack held memory in */
	struct sample *samples; /* ring of window + 2, by report number */
};

struct trend {
	unsigned int window, ring;
	uint64_t interval_ns;
	uint32_t reports;       /* reports recorded */
	uint32_t observed;      /* judged intervals that ended after --min-age */
	double *time_s;         /* ring: time of each report since attach */
	bool *counts;           /* ring: its interval was long enough to judge */
	struct history *hist;
	size_t n_hist, hist_cap;
	struct sample *pool;    /* hist_cap rings of samples */
	struct key_index index; /* stack id -> its place in hist */
};

struct trend *trend__new(unsigned int window, uint64_t interval_ns)
{
	struct trend *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->window = window;
	t->ring = window + 2;
	t->interval_ns = interval_ns;
	t->time_s = calloc(t->ring, sizeof(*t->time_s));
	t->counts = calloc(t->ring, sizeof(*t->counts));
	if (!t->time_s || !t->counts) {
		trend__free(t);
		return NULL;
	}
	return t;
}

void trend__free(struct trend *t)
{
	if (!t)
		return;
	free(t->time_s);
	free(t->counts);
	free(t->hist);
	free(t->pool);
	key_index__clear(&t->index);
	free(t);
}

/* Room for `more` new stacks, so that recording a report cannot fail half
 * way. */
static int reserve(struct trend *t, size_t more)
{
	size_t cap = t->hist_cap ? t->hist_cap : 64;
	struct history *hist;
	struct sample *pool;

	if (t->n_hist + more <= t->hist_cap)
		return 0;
	while (cap < t->n_hist + more)
		cap *= 2;
	hist = realloc(t->hist, cap * sizeof(*hist));
	if (!hist)
		return -ENOMEM;
	t->hist = hist;
	pool = realloc(t->pool, cap * t->ring * sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	t->pool = pool;
	t->hist_cap = cap;
	for (size_t i = 0; i < t->n_hist; i++)
		t->hist[i].samples = t->pool + i * t->ring;
	return key_index__reserve(&t->index, cap);
}

static struct history *history_of(struct trend *t, uint32_t id)
{
	size_t i = key_index__find(&t->index, id);
	struct history *s;

	if (i != KEY_INDEX_NONE)
		return &t->hist[i];
	/* reserve() made room: the index cannot fail here. */
	key_index__add(&t->index, id, t->n_hist);
	s = &t->hist[t->n_hist];
	*s = (struct history){ .id = id, .first = t->reports, .samples = t->pool + t->n_hist * t->ring };
	for (unsigned int i = 0; i < t->ring; i++)
		s->samples[i] = (struct sample){ .report = UINT32_MAX };
	t->n_hist++;
	return s;
}

static const struct sample *sample_at(const struct trend *t, const struct history *h, uint32_t report)
{
	static const struct sample none;
	const struct sample *s = &h->samples[report % t->ring];

	return report >= h->first && s->report == report ? s : &none;
}

static double time_at(const struct trend *t, uint32_t report)
{
	return report ? t->time_s[report % t->ring] : 0;
}

/* The first report of the window that ends at report n: window judged
 * intervals back, where the ring still holds them. */
static uint32_t window_start(const struct trend *t, uint32_t n)
{
	uint32_t since = n;

	for (unsigned int judged = 0; since > 0 && judged < t->window && n - since + 1 < t->ring;
	     since--)
		judged += t->counts[since % t->ring];
	return since;
}

/* The stack's bytes and their times at the reports from..n, an interval
 * too short to judge merged into the one before it (its point replaces
 * that one's end). Returns the number of points. */
static size_t window_points(const struct trend *t, const struct history *h, uint32_t from,
			    int64_t *bytes, double *time_s)
{
	size_t k = 0;

	for (uint32_t j = from; j <= t->reports; j++) {
		if (k && !t->counts[j % t->ring])
			k--;
		bytes[k] = sample_at(t, h, j)->bytes;
		time_s[k++] = time_at(t, j);
	}
	return k;
}

static void judge(const struct trend *t, const struct history *h, uint64_t anon_bytes,
		  struct stack_trend *out)
{
	int64_t bytes[GROWTH_MAX_INTERVALS + 2];
	double time_s[GROWTH_MAX_INTERVALS + 2];
	uint32_t n = t->reports, since = window_start(t, n);
	uint32_t judged_from = h->first > since ? h->first : since;
	/* Growth since the stack was first seen, not its birth: a full cache
	 * grows at 0 B/s. A stack born in this report grew from nothing. */
	uint32_t rate_from = judged_from < n ? judged_from : n - 1;
	const struct sample *now = sample_at(t, h, n), *prev = sample_at(t, h, n - 1);
	double span = time_at(t, n) - time_at(t, rate_from);
	size_t k = window_points(t, h, judged_from, bytes, time_s);

	*out = (struct stack_trend){
		.growth_bytes = now->bytes - prev->bytes,
		.growth_allocs = now->allocs - prev->allocs,
		.intervals = (unsigned int)(k - 1),
		.cls = growth_rule_classify(bytes, time_s, k, anon_bytes),
	};
	if (span > 0)
		out->growth_rate_bps = (double)(now->bytes - sample_at(t, h, rate_from)->bytes) / span;
	for (size_t i = 1; i < k; i++)
		out->grown += bytes[i] > bytes[i - 1];
}

static int class_rank(enum stack_class cls)
{
	return cls == STACK_SUSPECT ? 0 : cls == STACK_NEW ? 1 : 2;
}

static int by_rank(const void *pa, const void *pb)
{
	const struct snapshot_stack *a = pa, *b = pb;
	int ra = class_rank(a->trend.cls), rb = class_rank(b->trend.cls);

	if (ra != rb)
		return ra - rb;
	if (a->trend.cls == STACK_SUSPECT && a->trend.growth_rate_bps != b->trend.growth_rate_bps)
		return a->trend.growth_rate_bps > b->trend.growth_rate_bps ? -1 : 1;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

int trend__update(struct trend *t, struct snapshot *snap, uint64_t now_ns, uint64_t anon_bytes)
{
	double now_s = (double)now_ns / 1e9, prev_s;
	int r = reserve(t, snap->n_stacks);
	bool counts;

	if (r < 0)
		return r;
	prev_s = time_at(t, t->reports);
	counts = now_s - prev_s >= (double)t->interval_ns / 2e9;
	t->reports++;
	t->time_s[t->reports % t->ring] = now_s;
	t->counts[t->reports % t->ring] = counts;
	/* Before --min-age has passed no allocation is old enough to show. */
	t->observed += counts && now_ns > snap->min_age_ns;
	snap->report = t->reports;
	snap->since_attach_s = now_s;
	snap->interval_s = now_s - prev_s;
	/* A stack seen from the first report that shows anything is judged
	 * once GROWTH_MIN_INTERVALS intervals followed its birth. */
	snap->judged = t->observed > GROWTH_MIN_INTERVALS;
	for (size_t i = 0; i < snap->n_stacks; i++) {
		struct snapshot_stack *s = &snap->stacks[i];
		struct history *h = history_of(t, s->stack_id);

		h->samples[t->reports % t->ring] = (struct sample){
			.report = t->reports, .bytes = (int64_t)s->bytes, .allocs = (int64_t)s->allocs,
		};
		judge(t, h, anon_bytes, &s->trend);
	}
	if (snap->n_stacks)
		qsort(snap->stacks, snap->n_stacks, sizeof(*snap->stacks), by_rank);
	return 0;
}

void trend__forget(struct trend *t, uint32_t stack_id)
{
	size_t i = key_index__find(&t->index, stack_id), last = t->n_hist - 1;

	if (i == KEY_INDEX_NONE)
		return;
	key_index__remove_swap(&t->index, stack_id, i, t->hist[last].id, last);
	if (i != last) {
		memcpy(t->hist[i].samples, t->hist[last].samples, t->ring * sizeof(struct sample));
		t->hist[i].id = t->hist[last].id;
		t->hist[i].first = t->hist[last].first;
	}
	t->n_hist--;
}
