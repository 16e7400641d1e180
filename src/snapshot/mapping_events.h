/* mapping_events.h - the ring buffer of mapping events (struct
 * mapping_event), which every traced process's programs write: one reader
 * hands each event to the ranges of its target (mappings.h), and drops
 * those of a target gone. A ring buffer has one consumer position, so one
 * reader serves every target. */
#ifndef MAPPING_EVENTS_H
#define MAPPING_EVENTS_H

#include <stdint.h>

#include "snapshot/mappings.h"

struct mapping_events;

/* A reader of the ring buffer events_fd (the caller's). Returns 0 and
 * *out, or -ENOMEM, or -errno from libbpf. */
int mapping_events__new(int events_fd, struct mapping_events **out);
/* Hand the events of target index target to m (the caller's), from now
 * on; NULL stops. Returns 0, or -EINVAL for an index out of range. */
int mapping_events__route(struct mapping_events *e, uint32_t target, struct mappings *m);
/* For poll(2): readable when events are waiting past the ring buffer's
 * wake-up mark; then call mapping_events__drain. */
int mapping_events__fd(const struct mapping_events *e);
/* Hand every event waiting to its target. Returns 0, or -errno from the
 * ring buffer when events were left unread. */
int mapping_events__drain(struct mapping_events *e);
/* Accepts NULL. */
void mapping_events__free(struct mapping_events *e);

#endif
