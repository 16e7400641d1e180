/* debuginfod_fetch.h - debug files fetched by build-id from the servers in
 * $DEBUGINFOD_URLS (libdebuginfod), on a thread of their own so that no
 * caller ever waits on the network: callers ask for a build-id, then poll
 * for its result. libdebuginfod's cache ($DEBUGINFOD_CACHE_PATH, else
 * ~/.cache/debuginfod_client) and timeout ($DEBUGINFOD_TIMEOUT) apply as
 * they do for gdb. Each build-id is fetched at most once, its outcome,
 * failures included, kept until the fetcher is freed. The functions are
 * safe to call from any one thread. Library code: returns -errno, never
 * logs. */
#ifndef DEBUGINFOD_FETCH_H
#define DEBUGINFOD_FETCH_H

#include <stdbool.h>

struct debuginfod_fetch;

/* True when $DEBUGINFOD_URLS names at least one server. */
bool debuginfod_fetch__configured(void);
/* Start the fetching thread. Returns 0 and *out, -ENOMEM, or the error of
 * pthread_create; -ENOSYS when libdebuginfod cannot start a client. */
int debuginfod_fetch__new(struct debuginfod_fetch **out);
/* Abandons a fetch in progress (at libdebuginfod's next progress call) and
 * joins the thread. Accepts NULL. */
void debuginfod_fetch__free(struct debuginfod_fetch *f);

/* Queue build_id (lowercase hex) unless it was asked for before. Returns 0
 * or -ENOMEM. */
int debuginfod_fetch__request(struct debuginfod_fetch *f, const char *build_id);
/* The outcome for build_id: 0 and *path (the cached debug file, malloc'd,
 * the caller frees it) once fetched; -EINPROGRESS while queued or being
 * fetched; the fetch's -errno when it failed (-ENOENT: no server has it);
 * -ESRCH when it was never requested; -ENOMEM. */
int debuginfod_fetch__result(struct debuginfod_fetch *f, const char *build_id, char **path);

#endif
