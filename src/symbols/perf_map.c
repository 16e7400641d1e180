/* perf_map.c - perf maps parsed into an array sorted by start. Like
 * elf_object's symbols, each entry records the highest end of the entries
 * up to it (cover), so a lookup walks back from the last start <= addr only
 * as far as an overlapping entry could reach; among those that hold addr
 * the latest line wins.
 *
 * The file is the target's, and may be anything: it is read in blocks,
 * never more than PERF_MAP_BYTES_MAX, a line is kept only up to
 * PERF_MAP_LINE_MAX bytes, and at most PERF_MAP_ENTRIES_MAX entries. */
#include "symbols/perf_map.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PERF_MAP_BLOCK (64 * 1024)

#include "target/target_file.h"

struct item {
	struct perf_map_entry e;
	size_t line;    /* later lines win */
	uint64_t cover; /* highest end of the items up to this one */
};

struct perf_map {
	struct item *items;
	size_t n, cap, skipped;
	bool cut;
};

/* A line being read: up to PERF_MAP_LINE_MAX bytes of it are kept. */
struct line {
	char text[PERF_MAP_LINE_MAX + 1];
	size_t len;
	bool too_long;
	size_t number;
};

void perf_map__free(struct perf_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free((char *)m->items[i].e.name);
	free(m->items);
	free(m);
}

static bool parse_hex(const char *s, char **end, uint64_t *out)
{
	errno = 0;
	if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
		return false;
	*out = strtoull(s, end, 16);
	return !errno && (**end == ' ' || **end == '\t');
}

/* false for a malformed line; line is modified. */
static bool parse_line(char *line, struct perf_map_entry *out)
{
	uint64_t start, size;
	char *p, *name;

	line[strcspn(line, "\r\n")] = '\0';
	if (!parse_hex(line, &p, &start) || !parse_hex(p + strspn(p, " \t"), &p, &size))
		return false;
	name = p + strspn(p, " \t");
	if (!size || start + size < start || !*name)
		return false;
	*out = (struct perf_map_entry){ .start = start, .size = size, .name = name };
	return true;
}

static int push(struct perf_map *m, const struct perf_map_entry *e, size_t line)
{
	char *name;

	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct item *t = realloc(m->items, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		m->items = t;
		m->cap = cap;
	}
	name = strdup(e->name);
	if (!name)
		return -ENOMEM;
	m->items[m->n++] = (struct item){ .e = { e->start, e->size, name }, .line = line };
	return 0;
}

static int cmp_item(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;

	if (a->e.start != b->e.start)
		return a->e.start < b->e.start ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static void sort_items(struct perf_map *m)
{
	uint64_t cover = 0;

	if (!m->n)
		return;
	qsort(m->items, m->n, sizeof(*m->items), cmp_item);
	for (size_t i = 0; i < m->n; i++) {
		uint64_t end = m->items[i].e.start + m->items[i].e.size;

		cover = end > cover ? end : cover;
		m->items[i].cover = cover;
	}
}

/* The line is whole: parse it into m. 0, or -ENOMEM. */
static int end_line(struct perf_map *m, struct line *l)
{
	struct perf_map_entry e;
	int r = 0;

	l->number++;
	l->text[l->len] = '\0';
	if (l->too_long || !parse_line(l->text, &e))
		m->skipped++;
	else if (m->n == PERF_MAP_ENTRIES_MAX)
		m->cut = true;
	else
		r = push(m, &e, l->number);
	l->len = 0;
	l->too_long = false;
	return r;
}

/* Add block[0..n) to the lines read so far. 0, or -ENOMEM. */
static int add_block(struct perf_map *m, struct line *l, const char *block, size_t n)
{
	while (n && !m->cut) {
		const char *nl = memchr(block, '\n', n);
		size_t take = nl ? (size_t)(nl - block) : n;
		size_t room = PERF_MAP_LINE_MAX - l->len;
		int r;

		memcpy(l->text + l->len, block, take < room ? take : room);
		l->len += take < room ? take : room;
		l->too_long |= take > room;
		if (!nl)
			return 0;
		r = end_line(m, l);
		if (r < 0)
			return r;
		block = nl + 1;
		n -= take + 1;
	}
	return 0;
}

int perf_map__parse(FILE *f, struct perf_map **out)
{
	struct perf_map *m = calloc(1, sizeof(*m));
	struct line *l = malloc(sizeof(*l));
	char *block = malloc(PERF_MAP_BLOCK);
	uint64_t total = 0;
	size_t got;
	int r = 0;

	if (!m || !l || !block) {
		r = -ENOMEM;
		goto out;
	}
	*l = (struct line){ .len = 0 };
	while (r == 0 && !m->cut && (got = fread(block, 1, PERF_MAP_BLOCK, f)) > 0) {
		r = add_block(m, l, block, got);
		total += got;
		m->cut |= total >= PERF_MAP_BYTES_MAX;
	}
	/* A last line without its newline, unless the limit cut it short. */
	if (r == 0 && !m->cut && (l->len || l->too_long))
		r = end_line(m, l);
out:
	free(block);
	free(l);
	if (r < 0) {
		perf_map__free(m);
		return r;
	}
	sort_items(m);
	*out = m;
	return 0;
}

const struct perf_map_entry *perf_map__find(const struct perf_map *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;
	const struct item *best = NULL;

	/* lo: the first item starting above addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->items[mid].e.start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && m->items[i].cover > addr;) {
		const struct item *it = &m->items[i];

		if (addr - it->e.start < it->e.size && (!best || it->line > best->line))
			best = it;
	}
	return best ? &best->e : NULL;
}

size_t perf_map__entries(const struct perf_map *m)
{
	return m->n;
}

size_t perf_map__skipped(const struct perf_map *m)
{
	return m->skipped;
}

bool perf_map__cut(const struct perf_map *m)
{
	return m->cut;
}

void perf_map_file__clear(struct perf_map_file *f)
{
	perf_map__free(f->map);
	*f = (struct perf_map_file){ 0 };
}

/* The last PID of status's "NSpid:" line, the innermost namespace's; pid
 * itself when the line is missing (kernels before 4.1) or unreadable. */
static pid_t ns_pid_of(pid_t pid)
{
	char path[64], *line = NULL;
	size_t len = 0;
	pid_t ns = pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	while (getline(&line, &len, f) > 0) {
		char *last;

		if (strncmp(line, "NSpid:", 6))
			continue;
		line[strcspn(line, "\n")] = '\0';
		last = strrchr(line, '\t');
		ns = last ? (pid_t)strtol(last + 1, NULL, 10) : pid;
		break;
	}
	free(line);
	fclose(f);
	return ns > 0 ? ns : pid;
}

static bool same_file(const struct perf_map_file *f, const struct stat *st)
{
	return f->map && f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
	       f->mtime.tv_sec == st->st_mtim.tv_sec && f->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Parse the open file fd (taken) into f. 1, or -ENOMEM. */
static int reread(struct perf_map_file *f, int fd, const struct stat *st)
{
	FILE *in = fdopen(fd, "re");
	struct perf_map *m = NULL;
	int r;

	if (!in) {
		close(fd);
		return -ENOMEM;
	}
	r = perf_map__parse(in, &m);
	fclose(in);
	if (r < 0)
		return r;
	perf_map__free(f->map);
	f->map = m;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->size = st->st_size;
	f->mtime = st->st_mtim;
	return 1;
}

int perf_map_file__refresh(struct perf_map_file *f, int root_fd, pid_t pid)
{
	char path[64];
	struct stat st;
	int fd;

	if (f->pid != pid) {
		perf_map_file__clear(f);
		f->pid = pid;
		f->ns_pid = ns_pid_of(pid);
	}
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)f->ns_pid);
	fd = target_file_open(root_fd, path);
	if (fd >= 0 && fstat(fd, &st) == 0) {
		if (!same_file(f, &st))
			return reread(f, fd, &st);
		close(fd);
		return 0;
	}
	if (fd >= 0)
		close(fd);
	perf_map__free(f->map);
	f->map = NULL;
	return 0;
}
