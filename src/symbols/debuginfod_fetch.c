/* debuginfod_fetch.c - one thread, one libdebuginfod client (a client must
 * not be shared between threads), and a list of requests under a mutex.
 * Requests are served in the order they came; the list only grows, so an
 * index into it stays valid while the lock is dropped for the fetch, and
 * the build-id strings it holds never move. */
#include "symbols/debuginfod_fetch.h"

#include <elfutils/debuginfod.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct request {
	char *build_id;
	char *path; /* the fetched file, once done */
	int error;  /* -EINPROGRESS until done; then 0 or the fetch's -errno */
};

struct debuginfod_fetch {
	debuginfod_client *client; /* used by the thread only, once started */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	atomic_bool stop; /* read by the progress callback without the lock */
	struct request *reqs;
	size_t n, cap;
	size_t next; /* the first request not yet taken by the thread */
};

bool debuginfod_fetch__configured(void)
{
	const char *urls = getenv(DEBUGINFOD_URLS_ENV_VAR);

	return urls && urls[strspn(urls, " \t")];
}

/* Called by libdebuginfod while it transfers: non-zero abandons the fetch,
 * which lets debuginfod_fetch__free return without waiting out the
 * timeout. */
static int progress(debuginfod_client *c, long done, long total)
{
	struct debuginfod_fetch *f = debuginfod_get_user_data(c);

	(void)done;
	(void)total;
	return atomic_load(&f->stop);
}

/* The next request to fetch, or SIZE_MAX when told to stop. */
static size_t take(struct debuginfod_fetch *f, const char **build_id)
{
	size_t i = SIZE_MAX;

	pthread_mutex_lock(&f->lock);
	while (!atomic_load(&f->stop) && f->next == f->n)
		pthread_cond_wait(&f->wake, &f->lock);
	if (!atomic_load(&f->stop)) {
		i = f->next++;
		*build_id = f->reqs[i].build_id;
	}
	pthread_mutex_unlock(&f->lock);
	return i;
}

static void *run(void *arg)
{
	struct debuginfod_fetch *f = arg;
	const char *id;
	size_t i;

	while ((i = take(f, &id)) != SIZE_MAX) {
		char *path = NULL;
		/* Length 0: the build-id is given as a hex string. */
		int fd = debuginfod_find_debuginfo(f->client, (const unsigned char *)id, 0, &path);

		if (fd >= 0)
			close(fd);
		pthread_mutex_lock(&f->lock);
		f->reqs[i].path = fd >= 0 ? path : NULL;
		f->reqs[i].error = fd >= 0 ? 0 : fd;
		pthread_mutex_unlock(&f->lock);
		if (fd < 0)
			free(path);
	}
	return NULL;
}

int debuginfod_fetch__new(struct debuginfod_fetch **out)
{
	struct debuginfod_fetch *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->wake, NULL);
	f->client = debuginfod_begin();
	if (!f->client) {
		r = -ENOSYS;
		goto fail;
	}
	debuginfod_set_user_data(f->client, f);
	debuginfod_set_progressfn(f->client, progress);
	r = -pthread_create(&f->thread, NULL, run, f);
	if (r < 0)
		goto fail;
	*out = f;
	return 0;
fail:
	if (f->client)
		debuginfod_end(f->client);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f);
	return r;
}

void debuginfod_fetch__free(struct debuginfod_fetch *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	atomic_store(&f->stop, true);
	pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	debuginfod_end(f->client);
	for (size_t i = 0; i < f->n; i++) {
		free(f->reqs[i].build_id);
		free(f->reqs[i].path);
	}
	free(f->reqs);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* Called with the lock held. */
static struct request *find(struct debuginfod_fetch *f, const char *build_id)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->reqs[i].build_id, build_id))
			return &f->reqs[i];
	return NULL;
}

/* Called with the lock held. */
static int append(struct debuginfod_fetch *f, const char *build_id)
{
	char *id;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct request *n = realloc(f->reqs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		f->reqs = n;
		f->cap = cap;
	}
	id = strdup(build_id);
	if (!id)
		return -ENOMEM;
	f->reqs[f->n++] = (struct request){ .build_id = id, .error = -EINPROGRESS };
	pthread_cond_signal(&f->wake);
	return 0;
}

int debuginfod_fetch__request(struct debuginfod_fetch *f, const char *build_id)
{
	int r = 0;

	pthread_mutex_lock(&f->lock);
	if (!find(f, build_id))
		r = append(f, build_id);
	pthread_mutex_unlock(&f->lock);
	return r;
}

int debuginfod_fetch__result(struct debuginfod_fetch *f, const char *build_id, char **path)
{
	struct request *req;
	int r;

	pthread_mutex_lock(&f->lock);
	req = find(f, build_id);
	r = req ? req->error : -ESRCH;
	if (!r) {
		*path = strdup(req->path);
		r = *path ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&f->lock);
	return r;
}
