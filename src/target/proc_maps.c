/* proc_maps.c - parse /proc/PID/maps into a sorted array of mappings. */
#include "target/proc_maps.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void proc_map_clear(struct proc_map *m)
{
	free(m->path);
}

void proc_maps__free(struct proc_maps *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->count; i++)
		proc_map_clear(&m->maps[i]);
	free(m->maps);
	free(m);
}

/* "start-end perms offset major:minor inode   path" */
static int parse_line(char *line, struct proc_map *out)
{
	char perms[5];
	int path_at = -1;
	struct proc_map m = { 0 };

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n",
		   &m.start, &m.end, perms, &m.offset, &m.dev_major, &m.dev_minor,
		   &m.inode, &path_at) < 7 || path_at < 0 || m.end <= m.start || strlen(perms) != 4)
		return -EINVAL;
	m.readable = perms[0] == 'r';
	m.writable = perms[1] == 'w';
	m.executable = perms[2] == 'x';
	line[strcspn(line, "\n")] = '\0';
	if (line[path_at]) {
		m.path = strdup(line + path_at);
		if (!m.path)
			return -ENOMEM;
	}
	*out = m;
	return 0;
}

int proc_maps__parse(FILE *f, struct proc_maps **out)
{
	struct proc_maps *m = calloc(1, sizeof(*m));
	size_t cap = 0, len = 0;
	char *line = NULL;
	int r = 0;

	if (!m)
		return -ENOMEM;
	m->proc_fd = m->pidfd = -1;
	while (getline(&line, &len, f) > 0) {
		if (m->count == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct proc_map *n = realloc(m->maps, ncap * sizeof(*n));

			if (!n) {
				r = -ENOMEM;
				goto fail;
			}
			m->maps = n;
			cap = ncap;
		}
		r = parse_line(line, &m->maps[m->count]);
		if (r < 0)
			goto fail;
		m->count++;
	}
	free(line);
	*out = m;
	return 0;
fail:
	free(line);
	proc_maps__free(m);
	return r;
}

/* Parse f (taken) as the maps of pid. */
static int read_maps(FILE *f, int pid, int proc_fd, int pidfd, struct proc_maps **out)
{
	int r;

	if (!f)
		return -errno;
	r = proc_maps__parse(f, out);
	fclose(f);
	if (r == 0) {
		(*out)->pid = pid;
		(*out)->proc_fd = proc_fd;
		(*out)->pidfd = pidfd;
	}
	return r;
}

int proc_maps__read(int pid, struct proc_maps **out)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	return read_maps(fopen(path, "re"), pid, -1, -1, out);
}

int proc_maps__read_at(int proc_fd, int pid, int pidfd, struct proc_maps **out)
{
	int fd = openat(proc_fd, "maps", O_RDONLY | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;

	if (fd >= 0 && !f)
		close(fd);
	return read_maps(f, pid, proc_fd, pidfd, out);
}

int proc_maps__proc_path(const struct proc_maps *m, const char *name, char *buf, size_t len)
{
	int n = m->proc_fd >= 0 ? snprintf(buf, len, "/proc/self/fd/%d/%s", m->proc_fd, name)
				: snprintf(buf, len, "/proc/%d/%s", m->pid, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

const struct proc_map *proc_maps__find(const struct proc_maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct proc_map *p = &m->maps[mid];

		if (addr < p->start)
			hi = mid;
		else if (addr >= p->end)
			lo = mid + 1;
		else
			return p;
	}
	return NULL;
}

const struct proc_map *proc_maps__first_of(const struct proc_maps *maps, const struct proc_map *m)
{
	const struct proc_map *first = m;

	for (size_t i = 0; i < maps->count; i++) {
		const struct proc_map *c = &maps->maps[i];

		if (c->inode == m->inode && c->dev_major == m->dev_major &&
		    c->dev_minor == m->dev_minor && c->offset < first->offset)
			first = c;
	}
	return first;
}

bool proc_map__deleted(const struct proc_map *m)
{
	size_t len = m->path ? strlen(m->path) : 0, suffix = strlen(PROC_MAP_DELETED_SUFFIX);

	return len > suffix && !strcmp(m->path + len - suffix, PROC_MAP_DELETED_SUFFIX);
}

int proc_maps__object_location(const struct proc_maps *maps, const struct proc_map *m,
			       int root_fd, char *buf, size_t len, int *dir_fd, const char **path)
{
	char name[64];

	if (!maps->pid || !proc_map__deleted(m)) {
		*dir_fd = root_fd;
		*path = m->path;
		return 0;
	}
	snprintf(name, sizeof(name), "map_files/%" PRIx64 "-%" PRIx64, m->start, m->end);
	if (proc_maps__proc_path(maps, name, buf, len) < 0)
		return -ENAMETOOLONG;
	*dir_fd = AT_FDCWD;
	*path = buf;
	return 0;
}
