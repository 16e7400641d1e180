/* process_events.c - read the ring buffer of processes starting. */
#include "target/process_events.h"

#include <errno.h>
#include <stdlib.h>

#include <bpf/libbpf.h>

struct process_events {
	struct ring_buffer *ring;
	process_event_fn fn;
	void *ctx;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct process_events *p = ctx;

	return size >= sizeof(struct process_event) ? p->fn(data, p->ctx) : 0;
}

int process_events__new(int events_fd, process_event_fn fn, void *ctx,
			struct process_events **out)
{
	struct process_events *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->fn = fn;
	p->ctx = ctx;
	p->ring = ring_buffer__new(events_fd, on_event, p, NULL);
	if (!p->ring) {
		r = -errno;
		free(p);
		return r;
	}
	*out = p;
	return 0;
}

int process_events__fd(const struct process_events *p)
{
	return ring_buffer__epoll_fd(p->ring);
}

int process_events__drain(struct process_events *p)
{
	int r = ring_buffer__consume(p->ring);

	return r < 0 ? r : 0;
}

void process_events__free(struct process_events *p)
{
	if (!p)
		return;
	ring_buffer__free(p->ring);
	free(p);
}
