/* report_output.c - stdout, a file, or a directory of reports.
 *
 * Files are written under a temporary name and renamed into place, so a
 * reader (a dashboard, `pprof -http`, a browser tab) never sees half a
 * report, and `latest` is replaced the same way. Rotation deletes only
 * files this run's naming pattern matches, oldest first: names sort by
 * time.
 */
#include "report/report_output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum output_kind {
	OUTPUT_STDOUT,
	OUTPUT_STREAM,   /* one file, reports appended */
	OUTPUT_DOCUMENT, /* one file, replaced by each report */
	OUTPUT_DIR,
};

struct report_output {
	enum output_kind kind;
	const struct report_writer *writer;
	char *path;
	FILE *stream;
	int dir_fd;
	unsigned int keep;
	char prefix[32]; /* "memleakd-PID-" */
};

static bool names_directory(const char *path)
{
	struct stat st;

	return path[strlen(path) - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode));
}

static int open_dir(struct report_output *o, const char **error)
{
	o->kind = OUTPUT_DIR;
	if (mkdir(o->path, 0755) < 0 && errno != EEXIST) {
		*error = "cannot create the directory";
		return -errno;
	}
	o->dir_fd = open(o->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->dir_fd < 0) {
		*error = "cannot open the directory";
		return -errno;
	}
	return 0;
}

static int open_file(struct report_output *o, const char **error)
{
	if (o->writer->document) {
		/* Fail now, not at the first report: the directory must take a
		 * temporary file beside the report. */
		int fd = open(o->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0) {
			*error = "cannot open the file";
			return -errno;
		}
		close(fd);
		o->kind = OUTPUT_DOCUMENT;
		return 0;
	}
	o->stream = fopen(o->path, "we");
	if (!o->stream) {
		*error = "cannot open the file";
		return -errno;
	}
	o->kind = OUTPUT_STREAM;
	return 0;
}

int report_output__open(const char *path, unsigned int keep, const struct report_writer *w,
			int pid, struct report_output **out, const char **error)
{
	struct report_output *o = calloc(1, sizeof(*o));
	int r = 0;

	*error = "out of memory";
	if (!o)
		return -ENOMEM;
	*o = (struct report_output){ .writer = w, .keep = keep, .dir_fd = -1 };
	snprintf(o->prefix, sizeof(o->prefix), "memleakd-%d-", pid);
	if (!path) {
		*out = o;
		return 0;
	}
	o->path = strdup(path);
	if (!o->path)
		r = -ENOMEM;
	else if (names_directory(path))
		r = open_dir(o, error);
	else if (keep) {
		*error = "--keep needs a directory (end the path with /)";
		r = -EINVAL;
	} else
		r = open_file(o, error);
	if (r < 0) {
		report_output__close(o);
		return r;
	}
	*out = o;
	return 0;
}

/* Write the report to a temporary file in dir_fd, then rename it to name. */
static int write_replacing(struct report_output *o, int dir_fd, const char *name,
			   const struct snapshot *snap, const struct report_options *opt)
{
	char tmp[NAME_MAX + 1];
	FILE *f;
	int fd, r;

	snprintf(tmp, sizeof(tmp), ".%.200s.tmp", name);
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		unlinkat(dir_fd, tmp, 0);
		return r;
	}
	r = o->writer->write(f, snap, opt);
	if (fclose(f) && r == 0)
		r = -EIO;
	if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dir_fd, tmp, 0);
	return r;
}

static int point_latest(struct report_output *o, const char *name)
{
	if (unlinkat(o->dir_fd, ".latest.tmp", 0) < 0 && errno != ENOENT)
		return -errno;
	if (symlinkat(name, o->dir_fd, ".latest.tmp") < 0 ||
	    renameat(o->dir_fd, ".latest.tmp", o->dir_fd, "latest") < 0)
		return -errno;
	return 0;
}

static bool is_ours(const struct report_output *o, const char *name)
{
	size_t n = strlen(name), p = strlen(o->prefix), e = strlen(o->writer->extension);

	return n > p + e + 1 && !strncmp(name, o->prefix, p) && name[n - e - 1] == '.' &&
	       !strcmp(name + n - e, o->writer->extension);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Delete this run's oldest reports beyond --keep. */
static int rotate(struct report_output *o)
{
	DIR *d = fdopendir(dup(o->dir_fd));
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int r = 0;

	if (!d)
		return -errno;
	rewinddir(d);
	while ((e = readdir(d)) && r == 0) {
		if (!is_ours(o, e->d_name))
			continue;
		if (n == cap) {
			char **grown = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*names));

			if (!grown) {
				r = -ENOMEM;
				break;
			}
			names = grown;
		}
		names[n] = strdup(e->d_name);
		r = names[n] ? (n++, 0) : -ENOMEM;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; r == 0 && n > o->keep && i < n - o->keep; i++)
		if (unlinkat(o->dir_fd, names[i], 0) < 0 && errno != ENOENT)
			r = -errno;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int write_to_dir(struct report_output *o, const struct snapshot *snap,
			const struct report_options *opt)
{
	char name[NAME_MAX + 1], when[32];
	struct tm tm;
	int r;

	gmtime_r(&snap->time.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm);
	snprintf(name, sizeof(name), "%s%s.%03ldZ.%s", o->prefix, when,
		 snap->time.tv_nsec / 1000000, o->writer->extension);
	r = write_replacing(o, o->dir_fd, name, snap, opt);
	if (r == 0)
		r = point_latest(o, name);
	if (r == 0 && o->keep)
		r = rotate(o);
	return r;
}

/* The document's directory and base name, for write_replacing. */
static int write_document(struct report_output *o, const struct snapshot *snap,
			  const struct report_options *opt)
{
	char *slash = strrchr(o->path, '/');
	int dir_fd, r;

	if (!slash)
		return write_replacing(o, AT_FDCWD, o->path, snap, opt);
	*slash = '\0';
	dir_fd = open(o->path[0] ? o->path : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*slash = '/';
	if (dir_fd < 0)
		return -errno;
	r = write_replacing(o, dir_fd, slash + 1, snap, opt);
	close(dir_fd);
	return r;
}

int report_output__write(struct report_output *o, const struct snapshot *snap,
			 const struct report_options *opt)
{
	switch (o->kind) {
	case OUTPUT_STDOUT:
		/* Documents one after the other make no document: pprof and
		 * browsers read the first, or nothing. */
		if (o->writer->document && !snap->end)
			return 0;
		return o->writer->write(stdout, snap, opt);
	case OUTPUT_STREAM:
		return o->writer->write(o->stream, snap, opt);
	case OUTPUT_DOCUMENT:
		return write_document(o, snap, opt);
	default:
		return write_to_dir(o, snap, opt);
	}
}

void report_output__close(struct report_output *o)
{
	if (!o)
		return;
	if (o->stream)
		fclose(o->stream);
	if (o->dir_fd >= 0)
		close(o->dir_fd);
	free(o->path);
	free(o);
}
