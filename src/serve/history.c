/* history.c - a ring of report points. Each point owns copies of what it
 * shows (the process's name, its stacks' labels), so a snapshot can be
 * freed as soon as it is added. Writing walks the ring once per process:
 * with the handful of processes a daemon follows, that is cheaper than any
 * index. */
#include "serve/history.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report/flame_graph.h"
#include "report/report_names.h"
#include "util/array.h"
#include "util/json_writer.h"

struct history_stack {
	uint64_t hash;
	char *label;
	uint64_t bytes;
};

struct history_process {
	int pid;
	char *comm;
	uint64_t rss_bytes, outstanding_bytes;
	enum verdict verdict;
	struct tracing_cost cost;
	size_t n_stacks;
	struct history_stack *stacks;
};

struct history_point {
	unsigned int report;
	double time_s, since_attach_s;
	size_t n_procs;
	struct history_process *procs;
};

struct history {
	struct history_point *points; /* a ring: the oldest at first */
	size_t capacity, n, first;
	size_t stacks;
};

struct history *history__new(size_t capacity, size_t stacks)
{
	struct history *h = calloc(1, sizeof(*h));

	if (!h || !(h->points = calloc(capacity ? capacity : 1, sizeof(*h->points)))) {
		free(h);
		return NULL;
	}
	h->capacity = capacity ? capacity : 1;
	h->stacks = stacks;
	return h;
}

static void point_clear(struct history_point *pt)
{
	for (size_t i = 0; i < pt->n_procs; i++) {
		struct history_process *p = &pt->procs[i];

		for (size_t j = 0; j < p->n_stacks; j++)
			free(p->stacks[j].label);
		free(p->stacks);
		free(p->comm);
	}
	free(pt->procs);
	*pt = (struct history_point){ 0 };
}

static int process_fill(struct history_process *hp, const struct metrics_process *mp,
			size_t max_stacks)
{
	const struct snapshot *snap = mp->snap;
	size_t n = snap->n_top < max_stacks ? snap->n_top : max_stacks;

	hp->pid = snap->pid;
	hp->rss_bytes = snap->process.rss_bytes;
	hp->outstanding_bytes = snap->totals.outstanding_bytes;
	hp->verdict = snap->process.verdict;
	hp->cost = snap->cost;
	hp->comm = strdup(mp->comm ? mp->comm : "");
	hp->stacks = calloc(n + 1, sizeof(*hp->stacks));
	if (!hp->comm || !hp->stacks)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct snapshot_stack *s = &snap->stacks[i];
		struct history_stack *hs = &hp->stacks[hp->n_stacks++];

		hs->hash = metrics_stack_hash(s);
		hs->bytes = s->bytes;
		hs->label = s->n_frames ? flame_label(&s->frames[0], false) : strdup(FLAME_STACK_LOST);
		if (!hs->label)
			return -ENOMEM;
	}
	return 0;
}

int history__add(struct history *h, const struct metrics_process *procs, size_t n)
{
	struct history_point pt = { 0 };
	size_t slot;
	int r = 0;

	if (!n)
		return 0;
	pt.report = procs[0].snap->report;
	pt.time_s = (double)procs[0].snap->time.tv_sec + procs[0].snap->time.tv_nsec / 1e9;
	pt.since_attach_s = procs[0].snap->since_attach_s;
	pt.procs = calloc(n, sizeof(*pt.procs));
	if (!pt.procs)
		return -ENOMEM;
	for (size_t i = 0; i < n && !r; i++) {
		pt.n_procs++;
		r = process_fill(&pt.procs[i], &procs[i], h->stacks);
	}
	if (r < 0) {
		point_clear(&pt);
		return r;
	}
	if (h->n == h->capacity) {
		slot = h->first;
		point_clear(&h->points[slot]);
		h->first = (h->first + 1) % h->capacity;
	} else {
		slot = (h->first + h->n++) % h->capacity;
	}
	h->points[slot] = pt;
	return 0;
}

static const struct history_point *point_at(const struct history *h, size_t i)
{
	return &h->points[(h->first + i) % h->capacity];
}

static const struct history_process *process_in(const struct history_point *pt, int pid)
{
	for (size_t i = 0; i < pt->n_procs; i++)
		if (pt->procs[i].pid == pid)
			return &pt->procs[i];
	return NULL;
}

/* Whether process pid appears in a point before point i. */
static bool seen_before(const struct history *h, size_t i, int pid)
{
	for (size_t j = 0; j < i; j++)
		if (process_in(point_at(h, j), pid))
			return true;
	return false;
}

/* The names of process pid's stacks, each hash once: walked newest first,
 * so that a name the symbolizer improved later wins. */
static int write_stack_names(const struct history *h, FILE *out, int pid)
{
	char id[METRICS_STACK_ID_LEN + 1];
	uint64_t *seen = NULL;
	size_t n_seen = 0, cap = 0;
	int r = 0;

	fputs(",\"stacks\":{", out);
	for (size_t i = h->n; i-- > 0 && !r;) {
		const struct history_process *p = process_in(point_at(h, i), pid);

		for (size_t j = 0; p && j < p->n_stacks && !r; j++) {
			size_t k = 0;

			while (k < n_seen && seen[k] != p->stacks[j].hash)
				k++;
			if (k < n_seen)
				continue;
			r = array_grow((void **)&seen, &cap, n_seen, sizeof(*seen), 16);
			if (r < 0)
				break;
			seen[n_seen++] = p->stacks[j].hash;
			metrics_stack_id(p->stacks[j].hash, id);
			fprintf(out, "%s\"%s\":", n_seen > 1 ? "," : "", id);
			json_write_string(out, p->stacks[j].label);
		}
	}
	fputc('}', out);
	free(seen);
	return r;
}

static void write_point(FILE *out, const struct history_point *pt,
			const struct history_process *p)
{
	char id[METRICS_STACK_ID_LEN + 1];

	fprintf(out,
		"{\"report\":%u,\"time_s\":%.3f,\"since_attach_s\":%.3f,\"rss_bytes\":%" PRIu64
		",\"outstanding_bytes\":%" PRIu64 ",\"stacks\":{",
		pt->report, pt->time_s, pt->since_attach_s, p->rss_bytes, p->outstanding_bytes);
	for (size_t j = 0; j < p->n_stacks; j++) {
		bool again = false;
		uint64_t bytes = 0;

		/* Stacks of one hash are one series, as on /metrics. */
		for (size_t k = 0; k < j && !again; k++)
			again = p->stacks[k].hash == p->stacks[j].hash;
		if (again)
			continue;
		for (size_t k = j; k < p->n_stacks; k++)
			if (p->stacks[k].hash == p->stacks[j].hash)
				bytes += p->stacks[k].bytes;
		metrics_stack_id(p->stacks[j].hash, id);
		fprintf(out, "%s\"%s\":%" PRIu64, j ? "," : "", id, bytes);
	}
	fputs("}}", out);
}

static int write_process(const struct history *h, FILE *out, int pid)
{
	const struct history_process *last = NULL;
	bool first = true;
	int r;

	for (size_t i = 0; i < h->n; i++)
		last = process_in(point_at(h, i), pid) ?: last;
	fprintf(out, "{\"pid\":%d,\"comm\":", pid);
	json_write_string(out, last->comm);
	fputs(",\"verdict\":", out);
	json_write_string(out, verdict_name(last->verdict));
	if (last->cost.known)
		fprintf(out, ",\"cost\":{\"probe_hits_per_s\":%.1f,\"cpu_share\":%.6f}",
			last->cost.hits_per_s, last->cost.cpu_share);
	else
		fputs(",\"cost\":null", out);
	fprintf(out, ",\"flame\":\"flame.svg?pid=%d\"", pid);
	r = write_stack_names(h, out, pid);
	if (r < 0)
		return r;
	fputs(",\"points\":[", out);
	for (size_t i = 0; i < h->n; i++) {
		const struct history_point *pt = point_at(h, i);
		const struct history_process *p = process_in(pt, pid);

		if (!p)
			continue;
		if (!first)
			fputc(',', out);
		write_point(out, pt, p);
		first = false;
	}
	fputs("]}", out);
	return 0;
}

int history__write_json(const struct history *h, FILE *out, double interval_s)
{
	bool first = true;
	int r = 0;

	fprintf(out, "{\"report\":%u,\"interval_s\":%.3f,\"processes\":[",
		h->n ? point_at(h, h->n - 1)->report : 0, interval_s);
	for (size_t i = 0; i < h->n && !r; i++) {
		const struct history_point *pt = point_at(h, i);

		for (size_t j = 0; j < pt->n_procs && !r; j++) {
			int pid = pt->procs[j].pid;

			if (process_in(pt, pid) != &pt->procs[j] || seen_before(h, i, pid))
				continue;
			if (!first)
				fputc(',', out);
			r = write_process(h, out, pid);
			first = false;
		}
	}
	fputs("]}\n", out);
	if (r < 0)
		return r;
	return fflush(out) || ferror(out) ? -EIO : 0;
}

void history__free(struct history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		point_clear(&h->points[(h->first + i) % h->capacity]);
	free(h->points);
	free(h);
}
