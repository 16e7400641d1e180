/* report_output.c - stdout, a file, or a directory of reports.
 *
 * Files are written under a temporary name and renamed into place, so a
 * reader (a dashboard, `pprof -http`, a browser tab) never sees half a
 * report, and `latest` is replaced the same way. Rotation deletes only
 * files this run's naming pattern matches, oldest first: names sort by
 * time.
 *
 * memleakd runs as root and the directory may be writable by others (the
 * user whose service is traced): every file is created new, under a random
 * name and with O_EXCL, so a planted name or symbolic link is never written
 * through; rename replaces a link at the final name rather than follow it;
 * the output itself must not be a symbolic link, and a stream must be a
 * regular file (a FIFO would block). Reports are readable by root only.
 */
#include "report/report_output.h"

#include <dirent.h>
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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
	int dir_fd;        /* OUTPUT_DIR: the directory; OUTPUT_DOCUMENT: the file's */
	const char *base;  /* OUTPUT_DOCUMENT: the file's name in dir_fd */
	unsigned int keep;
};

#define FILE_MODE 0600
#define DIR_MODE 0700

static bool names_directory(const char *path)
{
	struct stat st;

	return path[strlen(path) - 1] == '/' || (lstat(path, &st) == 0 && S_ISDIR(st.st_mode));
}

/* The message for an output path open() refused with errno r. */
static const char *open_error(int r, const char *otherwise)
{
	return r == -ELOOP ? "refusing a symbolic link" : otherwise;
}

/* A name no one could plant beforehand: 0, or -errno. */
static int random_name(char tmp[static 32])
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		return -errno;
	snprintf(tmp, 32, ".memleakd-%016" PRIx64, r);
	return 0;
}

/* A new file in dir_fd under a random name (in tmp), created for writing:
 * its descriptor, or -errno. */
static int create_temporary(int dir_fd, char tmp[static 32])
{
	for (int attempt = 0; attempt < 8; attempt++) {
		int fd, r = random_name(tmp);

		if (r < 0)
			return r;
		fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    FILE_MODE);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

/* The directory at path, the final component not followed when it is a
 * link (trailing slashes dropped: they would make open() follow it). */
static int open_directory(const char *path)
{
	size_t len = strlen(path);
	struct stat st;
	char *copy;
	int fd, r;

	while (len > 1 && path[len - 1] == '/')
		len--;
	copy = strndup(path, len);
	if (!copy)
		return -ENOMEM;
	fd = open(copy, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = fd < 0 ? -errno : fd;
	/* O_DIRECTORY meeting a link says ENOTDIR: say what it is. */
	if (r == -ENOTDIR && lstat(copy, &st) == 0 && S_ISLNK(st.st_mode))
		r = -ELOOP;
	free(copy);
	return r;
}

/* mkdir -p of path: each missing directory on it is created, 0700. An
 * existing parent is used as it is, link or not: the user named it. */
static int create_directories(char *path)
{
	for (char *slash = path;; slash++) {
		int r = 0;

		slash = strchr(slash, '/');
		if (slash == path)
			continue;
		if (slash)
			*slash = '\0';
		if (mkdir(path, DIR_MODE) < 0 && errno != EEXIST)
			r = -errno;
		if (!slash || r < 0) {
			if (slash)
				*slash = '/';
			return r;
		}
		*slash = '/';
	}
}

static int open_dir(struct report_output *o, const char **error)
{
	int r;

	o->kind = OUTPUT_DIR;
	r = create_directories(o->path);
	if (r < 0) {
		*error = "cannot create the directory";
		return r;
	}
	o->dir_fd = open_directory(o->path);
	if (o->dir_fd < 0)
		*error = open_error(o->dir_fd, "cannot open the directory");
	return o->dir_fd < 0 ? o->dir_fd : 0;
}

/* A document is replaced whole at each report, through a temporary file
 * beside it: fail now, not at the first report, when the directory does
 * not take one. */
static int open_document(struct report_output *o, const char **error)
{
	char *slash = strrchr(o->path, '/');
	char tmp[32];
	int fd;

	o->kind = OUTPUT_DOCUMENT;
	o->base = slash ? slash + 1 : o->path;
	if (slash) {
		*slash = '\0';
		o->dir_fd = open(o->path[0] ? o->path : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		*slash = '/';
	} else {
		o->dir_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	*error = "cannot open the file";
	if (o->dir_fd < 0)
		return -errno;
	fd = create_temporary(o->dir_fd, tmp);
	if (fd < 0)
		return fd;
	close(fd);
	unlinkat(o->dir_fd, tmp, 0);
	return 0;
}

/* A stream of reports, appended to one file: opened without following a
 * link and without blocking, and refused unless it is a regular file. */
static int open_stream(struct report_output *o, const char **error)
{
	struct stat st;
	int fd, r;

	o->kind = OUTPUT_STREAM;
	fd = open(o->path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, FILE_MODE);
	/* ENXIO: a FIFO no one reads, or a socket. */
	r = fd >= 0 ? 0 : errno == ENXIO ? -EINVAL : -errno;
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	if (r == 0 && !S_ISREG(st.st_mode))
		r = -EINVAL;
	if (r == 0 && (ftruncate(fd, 0) < 0 || fcntl(fd, F_SETFL, 0) < 0))
		r = -errno;
	if (r == 0 && !(o->stream = fdopen(fd, "w")))
		r = -errno;
	if (r < 0) {
		*error = r == -EINVAL ? "not a regular file" : open_error(r, "cannot open the file");
		if (fd >= 0)
			close(fd);
	}
	return r;
}

int report_output__open(const char *path, unsigned int keep, const struct report_writer *w,
			struct report_output **out, const char **error)
{
	struct report_output *o = calloc(1, sizeof(*o));
	int r = 0;

	*error = "out of memory";
	if (!o)
		return -ENOMEM;
	*o = (struct report_output){ .writer = w, .keep = keep, .dir_fd = -1 };
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
	} else if (w->document)
		r = open_document(o, error);
	else
		r = open_stream(o, error);
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
	char tmp[32];
	FILE *f;
	int fd, r;

	fd = create_temporary(dir_fd, tmp);
	if (fd < 0)
		return fd;
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

/* The link is made under a random name too, then renamed over `latest`. */
static int point_latest(struct report_output *o, const char *name)
{
	char tmp[32];
	int r = -EEXIST;

	for (int attempt = 0; attempt < 8 && r == -EEXIST; attempt++) {
		r = random_name(tmp);
		if (r == 0 && symlinkat(name, o->dir_fd, tmp) < 0)
			r = -errno;
	}
	if (r == 0 && renameat(o->dir_fd, tmp, o->dir_fd, "latest") < 0) {
		r = -errno;
		unlinkat(o->dir_fd, tmp, 0);
	}
	return r;
}

/* The names of one process's reports begin so: "memleakd-PID-". */
struct name_prefix {
	char s[32];
};

static struct name_prefix prefix_of(int pid)
{
	struct name_prefix p;

	snprintf(p.s, sizeof(p.s), "memleakd-%d-", pid);
	return p;
}

static bool is_ours(const struct report_output *o, const char *prefix, const char *name)
{
	size_t n = strlen(name), p = strlen(prefix), e = strlen(o->writer->extension);

	return n > p + e + 1 && !strncmp(name, prefix, p) && name[n - e - 1] == '.' &&
	       !strcmp(name + n - e, o->writer->extension);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Delete process pid's oldest reports beyond --keep. */
static int rotate(struct report_output *o, int pid)
{
	struct name_prefix prefix = prefix_of(pid);
	DIR *d = fdopendir(dup(o->dir_fd));
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int r = 0;

	if (!d)
		return -errno;
	rewinddir(d);
	while ((e = readdir(d)) && r == 0) {
		if (!is_ours(o, prefix.s, e->d_name))
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
	snprintf(name, sizeof(name), "%s%s.%03ldZ.%s", prefix_of(snap->pid).s, when,
		 snap->time.tv_nsec / 1000000, o->writer->extension);
	r = write_replacing(o, o->dir_fd, name, snap, opt);
	if (r == 0)
		r = point_latest(o, name);
	if (r == 0 && o->keep)
		r = rotate(o, snap->pid);
	return r;
}

int report_output__write(struct report_output *o, const struct snapshot *snap,
			 const struct report_options *opt)
{
	/* A file of one report holds one process's: no round around it. */
	struct snapshot alone = *snap;

	alone.round = NULL;
	switch (o->kind) {
	case OUTPUT_STDOUT:
		/* Documents one after the other make no document: pprof and
		 * browsers read the first, or nothing. */
		if (o->writer->document && !snap->end)
			return 0;
		return o->writer->write(stdout, o->writer->document ? &alone : snap, opt);
	case OUTPUT_STREAM:
		return o->writer->write(o->stream, o->writer->document ? &alone : snap, opt);
	case OUTPUT_DOCUMENT:
		return write_replacing(o, o->dir_fd, o->base, &alone, opt);
	default:
		return write_to_dir(o, &alone, opt);
	}
}

bool report_output__directory(const struct report_output *o)
{
	return o->kind == OUTPUT_DIR;
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
