/* http_server.h - memleakd's read-only HTTP endpoints (--listen), on
 * libmicrohttpd: /metrics, /debug/pprof/heap, /report.json, /flame.svg,
 * /history.json and the live page at /. It serves what the main loop
 * published last (latest_report.h) and changes nothing. Requests are GET or
 * HEAD without a body, bounded in size (request line and headers), in
 * number (connections in all and per client address, a timeout) and in
 * rate (a token bucket, 429 when empty). */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include "serve/latest_report.h"
#include "serve/listen_address.h"

struct http_server;

/* Listen on addr and serve latest from a thread of the server's, which
 * inherits the caller's signal mask. latest must outlive the server.
 * Returns 0 and *out, with *bound the address bound (its port when addr's
 * is 0); or -errno from socket(), bind() or listen() (-EADDRINUSE for a
 * busy port), -ENOMEM, or -EIO when libmicrohttpd does not start. */
int http_server__start(const struct listen_address *addr, struct latest_report *latest,
		       struct http_server **out, struct listen_address *bound);
/* Stops the thread, closes every connection. Accepts NULL. */
void http_server__free(struct http_server *s);

#endif
