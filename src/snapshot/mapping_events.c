/* mapping_events.c - read the mapping events' ring buffer, each event to
 * its target's ranges. */
#include "snapshot/mapping_events.h"

#include <errno.h>
#include <stdlib.h>

#include <bpf/libbpf.h>

#include "memleakd.h"

struct mapping_events {
	struct ring_buffer *ring;
	struct mappings *targets[MEMLEAKD_MAX_TARGETS];
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct mapping_events *e = ctx;
	const struct mapping_event *ev = data;

	if (size >= sizeof(*ev) && ev->target < MEMLEAKD_MAX_TARGETS && e->targets[ev->target])
		mappings__apply(e->targets[ev->target], ev);
	return 0;
}

int mapping_events__new(int events_fd, struct mapping_events **out)
{
	struct mapping_events *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	e->ring = ring_buffer__new(events_fd, on_event, e, NULL);
	if (!e->ring) {
		r = -errno;
		free(e);
		return r;
	}
	*out = e;
	return 0;
}

int mapping_events__route(struct mapping_events *e, uint32_t target, struct mappings *m)
{
	if (target >= MEMLEAKD_MAX_TARGETS)
		return -EINVAL;
	e->targets[target] = m;
	return 0;
}

int mapping_events__fd(const struct mapping_events *e)
{
	return ring_buffer__epoll_fd(e->ring);
}

int mapping_events__drain(struct mapping_events *e)
{
	int r = ring_buffer__consume(e->ring);

	return r < 0 ? r : 0;
}

void mapping_events__free(struct mapping_events *e)
{
	if (!e)
		return;
	ring_buffer__free(e->ring);
	free(e);
}
