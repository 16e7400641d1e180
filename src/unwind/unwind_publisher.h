/* unwind_publisher.h - the tables behind --unwind dwarf|auto, kept current
 * for the BPF unwinder. A background thread reads each target's
 * executable mappings, has each object's table built and loaded into the
 * BPF rows map (object_tables.h; an object mapped by several targets has
 * one table), and publishes the target's mappings to the BPF unwinder.
 * Until an object's table is loaded its frames take the frame-pointer
 * walk, and the stacks that met it are counted. A dlopen or dlclose (the
 * dynamic linker's _dl_debug_state) or a walk into code no mapping covers
 * makes the thread read that target's mappings again; the rows of objects
 * no target maps any more go to the tables loaded next. */
#ifndef UNWIND_PUBLISHER_H
#define UNWIND_PUBLISHER_H

#include <stdbool.h>
#include <stdint.h>

#include "probes/allocator.h"
#include "probes/tracer.h"
#include "target/target.h"

struct unwind_publisher;

/* Start the thread for the targets of tracer tr, which runs with room for
 * capacity rows. full: tables for every function (dwarf); else only for
 * functions without frame pointers (auto). The thread logs each table
 * loaded once the unwinder uses it ("unwind table: PATH: N rows", at debug
 * level), and "unwind tables ready" once the mappings a target had when it
 * was added all have theirs. Returns 0 and *out, or -errno. */
int unwind_publisher__new(struct tracer *tr, bool full, uint32_t capacity,
			  struct unwind_publisher **out);
/* Publish the mappings of target t from now on. The publisher keeps its
 * own descriptors of t's /proc and root directories. Returns 0, -EEXIST
 * when t's index is published already, or -errno. */
int unwind_publisher__add(struct unwind_publisher *u, const struct target *t);
/* Stop publishing the mappings of target index target, and publish none:
 * once this returns, the thread writes nothing more for that index, which
 * may serve another target. Its objects' rows are reclaimed when no other
 * target maps them. A target not added is ignored. */
void unwind_publisher__remove(struct unwind_publisher *u, uint32_t target);
/* Wait until the tables of the mappings target index target had when it
 * was added are loaded, at most timeout_ms. Returns 0, or -ETIMEDOUT (they
 * keep loading). */
int unwind_publisher__wait_ready(struct unwind_publisher *u, uint32_t target,
				 unsigned int timeout_ms);
/* The probe on the dynamic linker's _dl_debug_state in target t (added;
 * read from the caller's thread), for tracer__attach; u keeps what *p
 * points to until t is removed. Returns 0 and *p, -ENOENT when the process
 * has no dynamic linker (a static executable cannot dlopen), or -errno. */
int unwind_publisher__dlopen_probe(struct unwind_publisher *u, const struct target *t,
				   struct allocator_probe *p);
/* A descriptor that becomes readable when a target's mappings changed;
 * then call unwind_publisher__handle_events. */
int unwind_publisher__events_fd(const struct unwind_publisher *u);
void unwind_publisher__handle_events(struct unwind_publisher *u);
/* Stop the thread, without waiting for a table being built: the build
 * stops as it goes. A thread that does not end within a second (blocked in
 * a read) is left behind, with what it uses, and calls into the tracer no
 * more: the tracer may go. Accepts NULL. */
void unwind_publisher__free(struct unwind_publisher *u);

#endif
