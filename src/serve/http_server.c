/* http_server.c - libmicrohttpd (MHD) with one internal thread that polls
 * every connection, routing each request by its path to a document of
 * latest_report.h, answered in the first call of the access handler (once
 * the headers are read: no request body is ever read).
 *
 * The listening socket is ours, bound before MHD starts, so that a busy
 * port fails with its errno rather than MHD's bare NULL. The limits are
 * MHD's: a connection's memory pool bounds the request line and headers
 * (past it MHD answers 414 or 431 itself), with connection counts and an
 * idle timeout. The token bucket is touched by MHD's one thread only. */
#include "serve/http_server.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve/metrics.h"
#include "serve/web_page.h"
#include "util/clock.h"

/* Request line and headers must fit in this, with MHD's own use. */
#define CONNECTION_MEMORY 16384
#define MAX_CONNECTIONS 32
#define MAX_CONNECTIONS_PER_IP 8
#define CONNECTION_TIMEOUT_S 10
#define LISTEN_BACKLOG 16
/* Requests: a burst of BUCKET_SIZE, then BUCKET_RATE a second. A scraper,
 * a page refreshing itself and pprof use a few a second. */
#define BUCKET_SIZE 20.0
#define BUCKET_RATE 10.0

#define TEXT_PLAIN "text/plain; charset=utf-8"
/* Nothing but memleakd's own documents: the browser enforces the page's
 * self-containment. */
#define PAGE_POLICY "default-src 'none'; script-src 'unsafe-inline'; " \
	"style-src 'unsafe-inline'; connect-src 'self'; frame-src 'self'; img-src 'self'"

struct http_server {
	struct MHD_Daemon *mhd;
	struct latest_report *latest;
	int fd;
	char *page;
	size_t page_len;
	double tokens;
	uint64_t refilled_ns;
};

/* The routes to published documents. */
static const struct {
	const char *path;
	enum served_kind kind;
	const char *type;
} documents[] = {
	{ "/report.json", SERVED_JSON, "application/json" },
	{ "/debug/pprof/heap", SERVED_PPROF, "application/octet-stream" },
	{ "/flame.svg", SERVED_SVG, "image/svg+xml" },
	{ "/history.json", SERVED_HISTORY, "application/json" },
};

static bool take_token(struct http_server *s)
{
	uint64_t now = monotonic_ns();

	s->tokens += (double)(now - s->refilled_ns) / 1e9 * BUCKET_RATE;
	if (s->tokens > BUCKET_SIZE)
		s->tokens = BUCKET_SIZE;
	s->refilled_ns = now;
	if (s->tokens < 1)
		return false;
	s->tokens -= 1;
	return true;
}

static void release_doc(void *cls)
{
	served_doc__unref(cls);
}

/* Queue response r (NULL: out of memory) with status and type, and the
 * headers every answer carries. */
static enum MHD_Result send_response(struct MHD_Connection *c, unsigned int status,
				     struct MHD_Response *r, const char *type)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned int status, const char *text,
				 const char *header, const char *value)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);

	if (r && header)
		MHD_add_response_header(r, header, value);
	return send_response(c, status, r, TEXT_PLAIN);
}

/* The ?pid= of a request: 0 without one, -1 when it is no pid. */
static int requested_pid(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pid");
	char *end;
	long pid;

	if (!v)
		return 0;
	errno = 0;
	pid = strtol(v, &end, 10);
	return errno || end == v || *end || pid <= 0 || pid > INT32_MAX ? -1 : (int)pid;
}

static enum MHD_Result send_doc(struct http_server *s, struct MHD_Connection *c,
				enum served_kind kind, const char *type)
{
	int pid = requested_pid(c);
	struct served_doc *d = pid < 0 ? NULL : latest_report__get(s->latest, kind, pid);
	struct served_doc *any;
	struct MHD_Response *r;

	if (!d) {
		any = latest_report__get(s->latest, SERVED_HISTORY, 0);
		served_doc__unref(any);
		if (any)
			return send_text(c, MHD_HTTP_NOT_FOUND, "no such process traced (?pid=)\n",
					 NULL, NULL);
		return send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no report yet\n", "Retry-After",
				 "1");
	}
	r = MHD_create_response_from_buffer_with_free_callback_cls(d->len, d->data, release_doc, d);
	if (!r) {
		served_doc__unref(d);
		return MHD_NO;
	}
	if (kind == SERVED_PPROF)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
					"attachment; filename=\"heap.pb.gz\"");
	return send_response(c, MHD_HTTP_OK, r, type);
}

/* The latest report's series, then memleakd's own use now. */
static enum MHD_Result send_metrics(struct http_server *s, struct MHD_Connection *c)
{
	struct served_doc *d = latest_report__get(s->latest, SERVED_METRICS, 0);
	struct metrics_self self = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r = f ? 0 : -ENOMEM;

	if (f && d)
		fwrite(d->data, 1, d->len, f);
	served_doc__unref(d);
	if (f && metrics_self_read(&self) == 0)
		r = metrics_write_self(f, &self);
	if (f && fclose(f) && !r)
		r = -ENOMEM;
	if (r < 0) {
		free(text);
		return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL, NULL);
	}
	return send_response(c, MHD_HTTP_OK,
			     MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE),
			     "text/plain; version=0.0.4; charset=utf-8");
}

static enum MHD_Result send_page(struct http_server *s, struct MHD_Connection *c)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(s->page_len, s->page,
								 MHD_RESPMEM_PERSISTENT);

	if (r)
		MHD_add_response_header(r, "Content-Security-Policy", PAGE_POLICY);
	return send_response(c, MHD_HTTP_OK, r, "text/html; charset=utf-8");
}

/* Whether the request announces a body: none is read. */
static bool has_body(struct MHD_Connection *c)
{
	const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (length && strcmp(length, "0")) ||
	       MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

static enum MHD_Result route(struct http_server *s, struct MHD_Connection *c, const char *url)
{
	if (!strcmp(url, "/"))
		return send_page(s, c);
	if (!strcmp(url, "/metrics"))
		return send_metrics(s, c);
	for (size_t i = 0; i < sizeof(documents) / sizeof(documents[0]); i++)
		if (!strcmp(url, documents[i].path))
			return send_doc(s, c, documents[i].kind, documents[i].type);
	return send_text(c, MHD_HTTP_NOT_FOUND, "not found: /, /metrics, /debug/pprof/heap, "
			 "/report.json, /flame.svg, /history.json\n", NULL, NULL);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct http_server *s = cls;

	(void)version;
	(void)upload_data;
	/* Later calls carry a body the answer already refused: drop it. */
	if (*req_cls) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	*req_cls = s;
	if (!take_token(s))
		return send_text(c, MHD_HTTP_TOO_MANY_REQUESTS, "too many requests\n",
				 "Retry-After", "1");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: GET or HEAD\n",
				 MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (has_body(c))
		return send_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "no request body is accepted\n",
				 NULL, NULL);
	return route(s, c, url);
}

static int open_socket(const struct listen_address *addr, struct listen_address *bound)
{
	int fd = socket(addr->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1, r = 0;

	if (fd < 0)
		return -errno;
	/* A restart binds at once, past the last run's TIME_WAIT; a port in
	 * use by a listener is refused still. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (addr->addr.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (const struct sockaddr *)&addr->addr, addr->len) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0)
		r = -errno;
	bound->len = sizeof(bound->addr);
	if (!r && getsockname(fd, (struct sockaddr *)&bound->addr, &bound->len) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int http_server__start(const struct listen_address *addr, struct latest_report *latest,
		       struct http_server **out, struct listen_address *bound)
{
	struct http_server *s = calloc(1, sizeof(*s));
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	int r;

	if (!s)
		return -ENOMEM;
	*s = (struct http_server){ .latest = latest, .fd = -1, .tokens = BUCKET_SIZE,
				   .refilled_ns = monotonic_ns() };
	r = web_page_build(&s->page, &s->page_len);
	if (r >= 0)
		r = s->fd = open_socket(addr, bound);
	if (r < 0) {
		http_server__free(s);
		return r;
	}
	if (addr->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
				  MHD_OPTION_LISTEN_SOCKET, s->fd,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS_PER_IP,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S,
				  MHD_OPTION_END);
	if (!s->mhd) {
		http_server__free(s);
		return -EIO;
	}
	*out = s;
	return 0;
}

void http_server__free(struct http_server *s)
{
	if (!s)
		return;
	/* MHD closes the listening socket it was given. */
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	else if (s->fd >= 0)
		close(s->fd);
	free(s->page);
	free(s);
}
