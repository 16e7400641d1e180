/* tcache_shutdown.h - find the code with which glibc frees what the program
 * never asked it to free. As a thread exits, glibc's tcache_thread_shutdown()
 * calls free() on every block still in the thread's cache (blocks the
 * program had freed already, which the cache kept) and on the cache itself
 * (allocated inside malloc, never returned by it). The free probe tells
 * those calls by their return address, inside the range found here, and
 * counts them apart (allocator_frees). Library code: returns -errno and
 * never logs. */
#ifndef TCACHE_SHUTDOWN_H
#define TCACHE_SHUTDOWN_H

#include <stdint.h>

#include "target/elf_object.h"

/* How the range was found. */
enum tcache_shutdown_source {
	TCACHE_SHUTDOWN_SYMBOL = 1, /* a symbol table names tcache_thread_shutdown */
	TCACHE_SHUTDOWN_MESSAGE,    /* the function that loads its error message */
};

struct tcache_shutdown {
	uint64_t start, end; /* link-time [start, end) of the code that calls free */
	enum tcache_shutdown_source source;
};

/* Find tcache_thread_shutdown's code in o, the object that provides free:
 * by its symbol when o's symbol tables (its own, a debug file's, its
 * MiniDebugInfo) have one; else, since it is static and usually inlined
 * into its caller, as the function that loads the address of its alignment
 * check's message ("tcache_thread_shutdown(): unaligned tcache chunk
 * detected", glibc 2.32 and later) with a rip-relative lea, bounded by its
 * .eh_frame FDE or the symbol that covers it. Returns 0 and *out, or
 * -ENOENT (not glibc, or a glibc whose shutdown code cannot be told);
 * *out is unchanged on failure. */
int tcache_shutdown_find(const struct elf_object *o, struct tcache_shutdown *out);
/* "symbol", "message" for -v. */
const char *tcache_shutdown_source_name(enum tcache_shutdown_source source);

#endif
