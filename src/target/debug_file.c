/* debug_file.c - the places a separate debug file may be, generated in the
 * order debug_file.h gives: the debuglink before the build-id, as the
 * debuglink is the object's own statement of where its debug file went, and
 * a fetch over the network only when nothing on disk fits. Paths that do not
 * fit in PATH_MAX are skipped, not truncated. */
#include "target/debug_file.h"

#include <endian.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "target/elf_object.h"

#define SYSTEM_DEBUG_DIR "/usr/lib/debug"

/* The name and CRC32 stored in .gnu_debuglink, in the object's byte order. */
static bool read_debuglink(Elf *elf, const char **name, uint32_t *crc)
{
	Elf_Scn *scn = elf_section_named(elf, ".gnu_debuglink");
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	size_t len, crc_at;
	uint32_t raw;
	GElf_Ehdr eh;

	if (!d || !d->d_buf || !gelf_getehdr(elf, &eh))
		return false;
	len = strnlen(d->d_buf, d->d_size);
	crc_at = (len + 4) & ~(size_t)3;
	if (!len || crc_at + sizeof(raw) > d->d_size)
		return false;
	memcpy(&raw, (char *)d->d_buf + crc_at, sizeof(raw));
	*crc = eh.e_ident[EI_DATA] == ELFDATA2MSB ? be32toh(raw) : le32toh(raw);
	*name = d->d_buf;
	return true;
}

/* One search in progress: the callback and the candidate being formatted. */
struct walk {
	debug_file_try_fn try;
	void *arg;
	char buf[PATH_MAX];
};

__attribute__((format(printf, 4, 5))) static int offer(struct walk *w, int dir_fd,
						       const uint32_t *crc, const char *fmt, ...)
{
	struct debug_candidate c = { .dir_fd = dir_fd, .path = w->buf, .crc = crc };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(w->buf, sizeof(w->buf), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(w->buf))
		return 0;
	return w->try(&c, w->arg);
}

/* The places gdb also looks: next to the object, in .debug/ beside it, and
 * under each debug directory mirroring the object's directory (only for an
 * absolute path: a relative one has no place to mirror). */
static int by_debuglink(struct walk *w, Elf *elf, int dir_fd, const char *path,
			const struct debug_search *s)
{
	const char *slash = strrchr(path, '/');
	const char *dir = slash ? path : ".";
	int len = slash ? (int)(slash - path) : 1;
	const char *name;
	uint32_t crc;
	int r;

	if (!read_debuglink(elf, &name, &crc))
		return 0;
	r = offer(w, dir_fd, &crc, "%.*s/%s", len, dir, name);
	if (!r)
		r = offer(w, dir_fd, &crc, "%.*s/.debug/%s", len, dir, name);
	if (path[0] != '/')
		return r;
	for (size_t i = 0; !r && i < s->n_dirs; i++)
		r = offer(w, AT_FDCWD, &crc, "%s%.*s/%s", s->dirs[i], len, dir, name);
	return r ? r : offer(w, dir_fd, &crc, SYSTEM_DEBUG_DIR "%.*s/%s", len, dir, name);
}

static int by_build_id(struct walk *w, int dir_fd, const char *id, const struct debug_search *s)
{
	int r = 0;

	if (!id || strlen(id) <= 2)
		return 0;
	for (size_t i = 0; !r && i < s->n_dirs; i++)
		r = offer(w, AT_FDCWD, NULL, "%s/.build-id/%.2s/%s.debug", s->dirs[i], id, id + 2);
	return r ? r : offer(w, dir_fd, NULL, SYSTEM_DEBUG_DIR "/.build-id/%.2s/%s.debug", id, id + 2);
}

int debug_file_search(Elf *elf, int dir_fd, const char *path, const char *build_id,
		      const struct debug_search *search, debug_file_try_fn try, void *arg)
{
	static const struct debug_search none;
	const struct debug_search *s = search ? search : &none;
	struct walk w = { .try = try, .arg = arg };
	int r;

	r = by_debuglink(&w, elf, dir_fd, path, s);
	if (!r)
		r = by_build_id(&w, dir_fd, build_id, s);
	if (!r && s->fetched && build_id)
		r = offer(&w, AT_FDCWD, NULL, "%s", s->fetched);
	return r;
}
