/* latest_report.c - documents rendered into memory (open_memstream) by the
 * report writers, swapped in under a mutex. The mutex guards only the
 * pointers: rendering happens before it is taken, and a reader takes a
 * reference and lets go, so a slow client never holds up a report. */
#include "serve/latest_report.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "serve/history.h"

/* Stacks a process keeps in each history point: the chart's lines. */
#define HISTORY_STACKS 10

struct latest_report {
	pthread_mutex_t lock;
	struct served_doc *docs[SERVED_KINDS]; /* guarded by lock */
	struct history *history;               /* the main loop's */
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

static int render_kind(FILE *f, enum served_kind kind, const struct render *c)
{
	const struct snapshot *snap = c->procs[0].snap;
	struct snapshot view;

	switch (kind) {
	case SERVED_JSON:
		view = report_view(snap, &report_json, c->top);
		return report_json.write(f, &view, c->opt);
	case SERVED_PPROF:
		return report_pprof.write(f, snap, c->opt);
	case SERVED_SVG:
		return report_svg.write(f, snap, c->opt);
	case SERVED_METRICS:
		return metrics_write(f, c->procs, c->n, c->top);
	default:
		return history__write_json(c->history, f, c->interval_s);
	}
}

/* A new document of kind: 0 and *out, or -ENOMEM, -EIO. */
static int render(enum served_kind kind, const struct render *c, struct served_doc **out)
{
	struct served_doc *d = calloc(1, sizeof(*d));
	FILE *f = d ? open_memstream(&d->data, &d->len) : NULL;
	int r;

	if (!f) {
		free(d);
		return -ENOMEM;
	}
	r = render_kind(f, kind, c);
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

int latest_report__publish(struct latest_report *l, const struct metrics_process *procs,
			   size_t n, size_t top, double interval_s,
			   const struct report_options *opt)
{
	struct render c = { .procs = procs, .n = n, .top = top, .interval_s = interval_s,
			    .opt = opt, .history = l->history };
	struct served_doc *docs[SERVED_KINDS] = { 0 };
	int r = n ? history__add(l->history, procs, n) : -EINVAL;

	for (int k = 0; k < SERVED_KINDS && !r; k++)
		r = render((enum served_kind)k, &c, &docs[k]);
	if (!r) {
		pthread_mutex_lock(&l->lock);
		for (int k = 0; k < SERVED_KINDS; k++) {
			struct served_doc *old = l->docs[k];

			l->docs[k] = docs[k];
			docs[k] = old;
		}
		pthread_mutex_unlock(&l->lock);
	}
	/* The documents replaced, or on failure those rendered. */
	for (int k = 0; k < SERVED_KINDS; k++)
		served_doc__unref(docs[k]);
	return r;
}

struct served_doc *latest_report__get(struct latest_report *l, enum served_kind kind)
{
	struct served_doc *d;

	pthread_mutex_lock(&l->lock);
	d = l->docs[kind];
	if (d)
		atomic_fetch_add(&d->refs, 1);
	pthread_mutex_unlock(&l->lock);
	return d;
}

void latest_report__free(struct latest_report *l)
{
	if (!l)
		return;
	for (int k = 0; k < SERVED_KINDS; k++)
		served_doc__unref(l->docs[k]);
	history__free(l->history);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
