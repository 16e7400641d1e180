/* process_events.h - the processes starting that the BPF programs report
 * (struct process_event, bpf/targets.bpf.h), read from their ring buffer
 * and handed to a callback one by one. */
#ifndef PROCESS_EVENTS_H
#define PROCESS_EVENTS_H

#include "memleakd.h"

struct process_events;

/* Called for each event; a negative -errno stops the reading. */
typedef int (*process_event_fn)(const struct process_event *e, void *ctx);

/* A reader of the ring buffer events_fd (the caller's) calling fn(e, ctx).
 * Returns 0 and *out, or -ENOMEM, or -errno from libbpf. */
int process_events__new(int events_fd, process_event_fn fn, void *ctx,
			struct process_events **out);
/* For poll(2): readable when events are waiting. */
int process_events__fd(const struct process_events *p);
/* Hand every event waiting to the callback. Returns 0, the callback's
 * nonzero return, or -errno from the ring buffer. */
int process_events__drain(struct process_events *p);
/* Accepts NULL. */
void process_events__free(struct process_events *p);

#endif
