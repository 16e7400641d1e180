/* saved_report.c - reads a report back from the JSON report_json.c writes.
 * A file may hold a stream of them (one per line) that memleakd may still
 * be appending to: every value is parsed, the last kept, and a last value
 * cut short by the end of the file (a report being written) is skipped.
 * The kept document stays allocated: frames point at its strings. */
#include "diff/saved_report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diff/json_reader.h"

/* Byte counts above this make no sense, and growth must fit an int64. */
#define MAX_COUNT ((uint64_t)INT64_MAX)

struct reader {
	const char *buf;
	const char *name;
	char **error;
};

static int fail(char **error, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(error, fmt, ap) < 0)
		*error = NULL;
	va_end(ap);
	return r;
}

/* "NAME:LINE:COL: not a memleakd report: WHAT", at value at. */
static int not_report(const struct reader *rd, const struct json_value *at, const char *fmt, ...)
{
	unsigned int line, column;
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	json_position(rd->buf, at->offset, &line, &column);
	return fail(rd->error, -EINVAL, "%s:%u:%u: not a memleakd report: %s", rd->name, line,
		    column, what);
}

/* obj's member key, of type type. */
static int member(const struct reader *rd, const struct json_value *obj, const char *where,
		  const char *key, enum json_type type, const struct json_value **out)
{
	const struct json_value *v = json_get(obj, key);

	if (!v)
		return not_report(rd, obj, "%s has no \"%s\"", where, key);
	if (v->type != type)
		return not_report(rd, v, "%s.%s is a %s", where, key, json_type_name(v->type));
	*out = v;
	return 0;
}

static int count(const struct reader *rd, const struct json_value *obj, const char *where,
		 const char *key, uint64_t *out)
{
	const struct json_value *v;
	int r = member(rd, obj, where, key, JSON_NUMBER, &v);

	if (r < 0)
		return r;
	if (json_uint64(v, out) < 0 || *out > MAX_COUNT)
		return not_report(rd, v, "%s.%s is not a count", where, key);
	return 0;
}

/* A string or null member; absent counts as null. */
static int optional_string(const struct reader *rd, const struct json_value *obj,
			   const char *where, const char *key, const char **out)
{
	const struct json_value *v = json_get(obj, key);

	*out = NULL;
	if (!v || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_STRING)
		return not_report(rd, v, "%s.%s is a %s", where, key, json_type_name(v->type));
	*out = v->string.s;
	return 0;
}

static int read_addr(const struct reader *rd, const struct json_value *obj, const char *where,
		     uint64_t *out)
{
	const struct json_value *v;
	size_t digits;
	int r = member(rd, obj, where, "addr", JSON_STRING, &v);

	if (r < 0)
		return r;
	/* At most 16 digits: strtoull cannot overflow. */
	digits = v->string.len - 2;
	if (v->string.len < 3 || strncmp(v->string.s, "0x", 2) || digits > 16 ||
	    strspn(v->string.s + 2, "0123456789abcdefABCDEF") != digits)
		return not_report(rd, v, "%s.addr is not a hex address", where);
	*out = strtoull(v->string.s + 2, NULL, 16);
	return 0;
}

static int read_frame(const struct reader *rd, const struct json_value *v, const char *where,
		      struct saved_frame *f)
{
	int r;

	if (v->type != JSON_OBJECT)
		return not_report(rd, v, "%s is a %s", where, json_type_name(v->type));
	r = read_addr(rd, v, where, &f->addr);
	if (r >= 0)
		r = optional_string(rd, v, where, "function", &f->function);
	if (r >= 0)
		r = optional_string(rd, v, where, "module", &f->module);
	if (r >= 0)
		r = count(rd, v, where, "offset", &f->offset);
	return r;
}

static int read_stack(const struct reader *rd, const struct json_value *v, size_t index,
		      struct saved_stack *s)
{
	const struct json_value *frames;
	char where[64];
	int r;

	snprintf(where, sizeof(where), "stacks[%zu]", index);
	if (v->type != JSON_OBJECT)
		return not_report(rd, v, "%s is a %s", where, json_type_name(v->type));
	r = count(rd, v, where, "bytes", &s->bytes);
	if (r >= 0)
		r = count(rd, v, where, "allocs", &s->allocs);
	if (r >= 0)
		r = member(rd, v, where, "frames", JSON_ARRAY, &frames);
	if (r < 0)
		return r;
	s->frames = calloc(frames->array.n + 1, sizeof(*s->frames));
	if (!s->frames)
		return -ENOMEM;
	s->n_frames = frames->array.n;
	for (size_t i = 0; i < s->n_frames && r >= 0; i++) {
		char at[96];

		snprintf(at, sizeof(at), "%s.frames[%zu]", where, i);
		r = read_frame(rd, &frames->array.items[i], at, &s->frames[i]);
	}
	return r;
}

/* "2026-11-25T12:00:00.123Z", as report_json.c writes it (any fraction). */
static int parse_time(const char *s, struct timespec *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	struct tm tm = { 0 };
	long nsec = 0, scale = 100000000;
	size_t i = sizeof(shape) - 1;

	for (size_t k = 0; k < sizeof(shape) - 1; k++)
		if (shape[k] == 'd' ? s[k] < '0' || s[k] > '9' : s[k] != shape[k])
			return -EINVAL;
	if (s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9')
		for (i++; s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
			nsec += (s[i] - '0') * scale;
	if (s[i] != 'Z' || s[i + 1])
		return -EINVAL;
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = atoi(s + 17);
	out->tv_sec = timegm(&tm);
	out->tv_nsec = nsec;
	return 0;
}

static int read_header(const struct reader *rd, const struct json_value *doc,
		       struct saved_report *rep)
{
	const struct json_value *stamp, *pid, *final = json_get(doc, "final"), *totals;
	int64_t id;
	int r = member(rd, doc, "the report", "time", JSON_STRING, &stamp);

	if (r >= 0)
		r = member(rd, doc, "the report", "pid", JSON_NUMBER, &pid);
	if (r >= 0)
		r = member(rd, doc, "the report", "totals", JSON_OBJECT, &totals);
	if (r >= 0)
		r = count(rd, totals, "totals", "outstanding_bytes", &rep->outstanding_bytes);
	if (r >= 0)
		r = count(rd, totals, "totals", "outstanding_allocs", &rep->outstanding_allocs);
	if (r < 0)
		return r;
	if (json_int64(pid, &id) < 0 || id <= 0 || id > INT32_MAX)
		return not_report(rd, pid, "pid is not a process id");
	if (parse_time(stamp->string.s, &rep->when) < 0)
		return not_report(rd, stamp, "time is not an RFC 3339 UTC time");
	rep->pid = (int)id;
	rep->time = stamp->string.s;
	rep->final = final && final->type == JSON_TRUE;
	return 0;
}

/* Fill rep from doc, a value read from rd. */
static int read_report(const struct reader *rd, const struct json_value *doc,
		       struct saved_report *rep)
{
	const struct json_value *stacks, *all;
	int r;

	if (doc->type != JSON_OBJECT)
		return not_report(rd, doc, "a JSON %s, not an object", json_type_name(doc->type));
	r = read_header(rd, doc, rep);
	if (r >= 0)
		r = member(rd, doc, "the report", "stacks", JSON_ARRAY, &stacks);
	if (r < 0)
		return r;
	rep->stacks = calloc(stacks->array.n + 1, sizeof(*rep->stacks));
	if (!rep->stacks)
		return -ENOMEM;
	rep->n_stacks = stacks->array.n;
	for (size_t i = 0; i < rep->n_stacks && r >= 0; i++)
		r = read_stack(rd, &stacks->array.items[i], i, &rep->stacks[i]);
	/* Without the count of all stacks, take it that all are listed. */
	all = json_get(json_get(doc, "totals"), "stacks");
	if (json_uint64(all, &rep->stacks_total) < 0)
		rep->stacks_total = rep->n_stacks;
	return r;
}

static int malformed(const struct reader *rd, const struct json_error *e)
{
	/* A text report fails on its first byte: say what diff reads. */
	const char *hint = e->offset == 0 ? " (diff reads reports written with -f json)" : "";

	return fail(rd->error, -EINVAL, "%s:%u:%u: %s%s", rd->name, e->line, e->column,
		    e->message, hint);
}

/* The last value of the stream in buf, and how many there are. A last
 * value the end of input cuts short is skipped when one came before. */
static int last_value(const struct reader *rd, size_t len, struct saved_report *rep,
		      struct json_value **last)
{
	struct json_error e;
	size_t pos = 0;
	int r;

	for (;;) {
		struct json_value *v;

		r = json_parse_next(rd->buf, len, &pos, JSON_DEFAULT_DEPTH, &v, &e);
		if (r == -EINVAL && e.offset == len && *last) {
			rep->truncated_tail = true;
			break;
		}
		if (r == -ENODATA)
			break;
		if (r < 0)
			return r == -EINVAL ? malformed(rd, &e) : r;
		json_free(*last);
		*last = v;
		rep->count++;
	}
	if (!*last)
		return fail(rd->error, -ENODATA, "%s: empty file: no report", rd->name);
	return 0;
}

int saved_report__parse(const char *buf, size_t len, const char *name, struct saved_report **out,
			char **error)
{
	struct reader rd = { .buf = buf, .name = name, .error = error };
	struct saved_report *rep = calloc(1, sizeof(*rep));
	int r;

	*error = NULL;
	if (!rep || !(rep->path = strdup(name))) {
		free(rep);
		return -ENOMEM;
	}
	r = last_value(&rd, len, rep, &rep->doc);
	if (r >= 0)
		r = read_report(&rd, rep->doc, rep);
	if (r < 0) {
		saved_report__free(rep);
		return r;
	}
	*out = rep;
	return 0;
}

/* The whole file at fd, read to its end (it may still be growing). */
static int read_all(int fd, char **buf, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);

	for (ssize_t got = 1; b && got > 0; n += (size_t)got) {
		if (n == cap) {
			char *more = realloc(b, cap *= 2);

			if (!more)
				break;
			b = more;
		}
		got = read(fd, b + n, cap - n);
		if (got < 0) {
			int r = -errno;

			free(b);
			return r;
		}
	}
	if (!b || n == cap) {
		free(b);
		return -ENOMEM;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* Open path, or for a directory the report its `latest` link names
 * (*is_dir set). Returns 0, *fd and *name (malloc'd), or -errno. */
static int open_report(const char *path, char **name, int *fd, bool *is_dir)
{
	struct stat st;
	int dir = open(path, O_RDONLY | O_CLOEXEC);

	if (dir < 0)
		return -errno;
	*is_dir = fstat(dir, &st) == 0 && S_ISDIR(st.st_mode);
	if (!*is_dir) {
		*fd = dir;
		*name = strdup(path);
		return *name ? 0 : -ENOMEM;
	}
	*fd = openat(dir, "latest", O_RDONLY | O_CLOEXEC);
	close(dir);
	if (*fd < 0)
		return -errno;
	if (asprintf(name, "%s%slatest", path, path[strlen(path) - 1] == '/' ? "" : "/") < 0)
		*name = NULL;
	return *name ? 0 : -ENOMEM;
}

int saved_report__load(const char *path, struct saved_report **out, char **error)
{
	char *name = NULL, *buf = NULL;
	bool is_dir = false;
	size_t len = 0;
	int fd = -1;
	int r = open_report(path, &name, &fd, &is_dir);

	*error = NULL;
	if (r == -ENOENT && is_dir)
		r = fail(error, r, "%s: a directory without a `latest` report", path);
	else if (r < 0 && r != -ENOMEM)
		r = fail(error, r, "%s: %s", path, strerror(-r));
	if (r >= 0) {
		r = read_all(fd, &buf, &len);
		if (r < 0 && r != -ENOMEM)
			r = fail(error, r, "%s: %s", name, strerror(-r));
	}
	if (r >= 0)
		r = saved_report__parse(buf, len, name, out, error);
	if (fd >= 0)
		close(fd);
	free(buf);
	free(name);
	return r;
}

void saved_report__free(struct saved_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_stacks; i++)
		free(r->stacks[i].frames);
	free(r->stacks);
	json_free(r->doc);
	free(r->path);
	free(r);
}
