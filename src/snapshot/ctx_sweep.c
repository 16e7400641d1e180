/* ctx_sweep.c - run the kernel's sweep program over the context records,
 * and decide when the map needs it between reports (ctx_sweep.h). */
#include "snapshot/ctx_sweep.h"

#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "memleakd.h"
#include "probes/tracer.h"
#include "snapshot/map_reader.h"
#include "util/clock.h"

/* Between sweeps, at least this share of the capacity: a map full of live
 * records is not walked again and again for nothing. */
#define MIN_HEADROOM_SHARE 64

struct ctx_sweep {
	int prog_fd, counts_fd;
	struct ring_buffer *events;
	uint32_t capacity;
	uint64_t threshold;
	int64_t adjusted; /* records user space added, less those it deleted */
	struct ctx_sweep_stats stats;
};

/* The events only wake the loop: ctx_sweep__due reads the counts. */
static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

int ctx_sweep__new(const struct tracer_maps *maps, uint32_t capacity, struct ctx_sweep **out)
{
	struct ctx_sweep *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->events = ring_buffer__new(maps->sweep_events, on_event, NULL, NULL);
	if (!s->events) {
		int err = -errno;

		free(s);
		return err;
	}
	s->prog_fd = maps->sweep;
	s->counts_fd = maps->record_counts;
	s->capacity = capacity;
	s->threshold = capacity / 2;
	*out = s;
	return 0;
}

void ctx_sweep__free(struct ctx_sweep *s)
{
	if (!s)
		return;
	ring_buffer__free(s->events);
	free(s);
}

/* The context records the map holds: the per-CPU counts summed, and
 * what user space changed. */
static int held(const struct ctx_sweep *s, uint64_t *out)
{
	int ncpus = map_ncpus();
	struct record_counts *per_cpu;
	uint32_t zero = 0;
	int64_t sum = s->adjusted;

	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(s->counts_fd, &zero, per_cpu)) {
		free(per_cpu);
		return -errno;
	}
	for (int cpu = 0; cpu < ncpus; cpu++)
		sum += per_cpu[cpu].ctx_records - per_cpu[cpu].ctx_swept;
	free(per_cpu);
	*out = sum > 0 ? (uint64_t)sum : 0;
	return 0;
}

int ctx_sweep__run(struct ctx_sweep *s)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	uint64_t start = monotonic_ns(), now, gap;
	int r = bpf_prog_test_run_opts(s->prog_fd, &opts) < 0 ? -errno : 0;

	s->stats.ns += monotonic_ns() - start;
	if (r == 0)
		r = held(s, &now);
	if (r < 0)
		return r;
	s->stats.retired += opts.retval;
	gap = now < s->capacity ? (s->capacity - now) / 2 : 0;
	if (gap < s->capacity / MIN_HEADROOM_SHARE)
		gap = s->capacity / MIN_HEADROOM_SHARE;
	s->threshold = now + gap;
	return 0;
}

void ctx_sweep__take_stats(struct ctx_sweep *s, struct ctx_sweep_stats *out)
{
	*out = s->stats;
	s->stats = (struct ctx_sweep_stats){ 0 };
}

void ctx_sweep__adjust(struct ctx_sweep *s, int64_t records)
{
	s->adjusted += records;
}

int ctx_sweep__events_fd(const struct ctx_sweep *s)
{
	return ring_buffer__epoll_fd(s->events);
}

int ctx_sweep__due(struct ctx_sweep *s, bool *due)
{
	uint64_t now;
	int r = ring_buffer__consume(s->events);

	if (r >= 0)
		r = held(s, &now);
	if (r == 0)
		*due = now > s->threshold;
	return r < 0 ? r : 0;
}
