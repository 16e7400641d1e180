/* unwinder.h - the tables behind --unwind dwarf|auto. A background thread
 * reads a target's executable mappings, builds each object's unwind table
 * (unwind_table.c), loads it into the BPF rows map once per object (keyed
 * by build-id, so every target mapping the object shares it), and publishes
 * the target's mappings to the BPF unwinder. Until an object's table is
 * loaded its frames take the frame-pointer walk, and the stacks that met it
 * are counted. A dlopen (the dynamic linker's _dl_debug_state) or a walk
 * into code no mapping covers makes the thread read the mappings again. */
#ifndef UNWINDER_H
#define UNWINDER_H

#include <stdbool.h>
#include <stdint.h>

#include "probes/allocator.h"
#include "target/target.h"
#include "probes/tracer.h"

struct unwinder;

/* Start the thread for target t, whose probes tracer tr runs with room for
 * capacity rows. full: tables for every function (dwarf); else only for
 * functions without frame pointers (auto). The thread logs what it loads
 * (at debug level), and "unwind tables ready" once the mappings seen at
 * start all have theirs. Returns 0 and *out, or -errno. */
int unwinder__new(struct tracer *tr, const struct target *t, bool full, uint32_t capacity,
		  struct unwinder **out);
/* Wait until the tables of the mappings seen at start are loaded, at most
 * timeout_ms. Returns 0, or -ETIMEDOUT (they keep loading). */
int unwinder__wait_ready(struct unwinder *u, unsigned int timeout_ms);
/* The probe on the dynamic linker's _dl_debug_state in target t (the
 * caller's, read from this thread), for tracer__attach; u keeps what *p
 * points to. Returns 0 and *p, -ENOENT when the process has no dynamic
 * linker (a static executable cannot dlopen), or -errno. */
int unwinder__dlopen_probe(struct unwinder *u, const struct target *t, struct allocator_probe *p);
/* A descriptor that becomes readable when a target's mappings changed;
 * then call unwinder__handle_events. */
int unwinder__events_fd(const struct unwinder *u);
void unwinder__handle_events(struct unwinder *u);
/* Stop the thread. Accepts NULL. */
void unwinder__free(struct unwinder *u);

#endif
