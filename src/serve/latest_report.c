/* latest_report.c - documents rendered into memory (open_memstream) by the
 * report writers, swapped in under a mutex. The mutex guards only the
 * pointers: rendering happens before it is taken, and a reader takes a
 * reference and lets go, so a slow client never holds up a report. */
#include "serve/latest_report.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "memleakd.h"
#include "serve/history.h"

/* Stacks a process keeps in each history point: the chart's lines. */
#define HISTORY_STACKS 10

/* The current documents: those of the whole round, and each process's
 * own (SERVED_JSON, SERVED_PPROF, SERVED_SVG), in the round's order. */
struct served_set {
	struct served_doc *docs[SERVED_KINDS];
	struct served_doc *own[SERVED_PER_PROCESS][MEMLEAKD_MAX_TARGETS];
	int pids[MEMLEAKD_MAX_TARGETS];
	size_t n;
};

struct latest_report {
	pthread_mutex_t lock;
	struct served_set set;   /* guarded by lock */
	struct history *history; /* the main loop's */
};

struct latest_report *latest_report__new(size_t history_points)
{
	struct latest_report *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->history = history__new(history_points, HISTORY_STACKS);
	if (!l->history || pthread_mutex_init(&l->lock, NULL)) {
		history__free(l->history);
		free(l);
		return NULL;
	}
	return l;
}

void served_doc__unref(struct served_doc *d)
{
	if (d && atomic_fetch_sub(&d->refs, 1) == 1) {
		free(d->data);
		free(d);
	}
}

/* What one renderer writes. */
struct render {
	const struct metrics_process *procs;
	size_t n, top;
	double interval_s;
	const struct report_options *opt;
	const struct history *history;
};

/* A document of kind: of process i of the round for the per-process
 * kinds, each a document of its own (no round around it). */
static int render_kind(FILE *f, enum served_kind kind, size_t i, const struct render *c)
{
	struct snapshot view = *c->procs[i].snap;

	view.round = NULL;
	switch (kind) {
	case SERVED_JSON:
		view = report_view(&view, &report_json, c->top);
		return report_json.write(f, &view, c->opt);
	case SERVED_PPROF:
		return report_pprof.write(f, &view, c->opt);
	case SERVED_SVG:
		return report_svg.write(f, &view, c->opt);
	case SERVED_METRICS:
		return metrics_write(f, c->procs, c->n, c->top);
	default:
		return history__write_json(c->history, f, c->interval_s);
	}
}

/* A new document of kind (of process i): 0 and *out, or -ENOMEM, -EIO. */
static int render(enum served_kind kind, size_t i, const struct render *c,
		  struct served_doc **out)
{
	struct served_doc *d = calloc(1, sizeof(*d));
	FILE *f = d ? open_memstream(&d->data, &d->len) : NULL;
	int r;

	if (!f) {
		free(d);
		return -ENOMEM;
	}
	r = render_kind(f, kind, i, c);
	if (fclose(f) && !r)
		r = -ENOMEM;
	if (r < 0) {
		free(d->data);
		free(d);
		return r;
	}
	atomic_init(&d->refs, 1);
	*out = d;
	return 0;
}

static void set_clear(struct served_set *set)
{
	for (int k = 0; k < SERVED_KINDS; k++)
		served_doc__unref(set->docs[k]);
	for (int k = 0; k < SERVED_PER_PROCESS; k++)
		for (size_t i = 0; i < set->n; i++)
			served_doc__unref(set->own[k][i]);
	*set = (struct served_set){ 0 };
}

static int render_set(const struct render *c, struct served_set *set)
{
	int r = 0;

	set->n = c->n;
	for (size_t i = 0; i < c->n; i++)
		set->pids[i] = c->procs[i].snap->pid;
	for (int k = SERVED_PER_PROCESS; k < SERVED_KINDS && !r; k++)
		r = render((enum served_kind)k, 0, c, &set->docs[k]);
	for (int k = 0; k < SERVED_PER_PROCESS && !r; k++)
		for (size_t i = 0; i < c->n && !r; i++)
			r = render((enum served_kind)k, i, c, &set->own[k][i]);
	return r;
}

int latest_report__publish(struct latest_report *l, const struct metrics_process *procs,
			   size_t n, size_t top, double interval_s,
			   const struct report_options *opt)
{
	struct render c = { .procs = procs, .n = n, .top = top, .interval_s = interval_s,
			    .opt = opt, .history = l->history };
	struct served_set set = { 0 }, old;
	int r = n && n <= MEMLEAKD_MAX_TARGETS ? history__add(l->history, procs, n) : -EINVAL;

	if (!r)
		r = render_set(&c, &set);
	if (r) {
		set_clear(&set);
		return r;
	}
	pthread_mutex_lock(&l->lock);
	old = l->set;
	l->set = set;
	pthread_mutex_unlock(&l->lock);
	set_clear(&old);
	return 0;
}

/* The document of kind for pid (0: the first process's). */
static struct served_doc *doc_of(const struct served_set *set, enum served_kind kind, int pid)
{
	if (kind >= SERVED_PER_PROCESS)
		return set->docs[kind];
	for (size_t i = 0; i < set->n; i++)
		if (!pid || set->pids[i] == pid)
			return set->own[kind][i];
	return NULL;
}

struct served_doc *latest_report__get(struct latest_report *l, enum served_kind kind, int pid)
{
	struct served_doc *d;

	pthread_mutex_lock(&l->lock);
	d = doc_of(&l->set, kind, pid);
	if (d)
		atomic_fetch_add(&d->refs, 1);
	pthread_mutex_unlock(&l->lock);
	return d;
}

void latest_report__free(struct latest_report *l)
{
	if (!l)
		return;
	set_clear(&l->set);
	history__free(l->history);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
