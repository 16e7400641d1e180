/* debug_file.c - an object's separate debug file: the places it may be,
 * tried in the order debug_file.h gives, and the test each candidate must
 * pass. The debuglink comes before the build-id, as the debuglink is the
 * object's own statement of where its debug file went, and a fetch over
 * the network only when nothing on disk fits. A file found by name alone
 * proves nothing: another build's debug file, installed under the same
 * name, describes other addresses. Paths that do not fit in PATH_MAX are
 * skipped, not truncated. */
#include "target/debug_file.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/build_id.h"
#include "target/elf_object_internal.h"

#define SYSTEM_DEBUG_DIR "/usr/lib/debug"

/* The name and CRC32 stored in .gnu_debuglink, in the object's byte order.
 * The name is a file name, never a path: the object may be the target's,
 * and "../" would lead the search out of the debug directories. */
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
	if (!len || crc_at + sizeof(raw) > d->d_size || memchr(d->d_buf, '/', len) ||
	    !strcmp(d->d_buf, ".") || !strcmp(d->d_buf, ".."))
		return false;
	memcpy(&raw, (char *)d->d_buf + crc_at, sizeof(raw));
	*crc = eh.e_ident[EI_DATA] == ELFDATA2MSB ? be32toh(raw) : le32toh(raw);
	*name = d->d_buf;
	return true;
}

/* One search in progress: what the object is and lacks, where the file
 * taken goes, and the candidate's path being formatted. */
struct walk {
	const char *build_id;
	bool need_symtab, need_dwarf;
	struct elf_image *out;
	char buf[PATH_MAX];
};

static bool supplies(const struct walk *w, Elf *elf)
{
	GElf_Shdr sh;

	return (w->need_symtab && elf_section_of_type(elf, SHT_SYMTAB, &sh)) ||
	       (w->need_dwarf && elf_has_dwarf(elf));
}

/* The file at w->buf under dir_fd, when it belongs to the object (crc: the
 * CRC32 the debuglink records; NULL: by build-id) and supplies what it
 * lacks. Returns 1 with the file in *w->out, 0 when it is not the one,
 * -ENOMEM. */
static int try_candidate(struct walk *w, int dir_fd, const uint32_t *crc)
{
	struct elf_image img = { 0 };
	char *id = NULL;
	bool match;
	int r;

	r = elf_image_open(dir_fd, w->buf, &img);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	if (crc) {
		uint32_t got;

		r = elf_image_crc32(&img, &got);
		if (r == -ENOMEM)
			goto out;
		match = r == 0 && got == *crc;
	} else {
		r = build_id_from_elf(img.elf, &id);
		if (r < 0)
			goto out;
		match = w->build_id && build_id_matches(w->build_id, id);
	}
	r = 0;
	if (match && supplies(w, img.elf)) {
		*w->out = img;
		img = (struct elf_image){ 0 };
		r = 1;
	}
out:
	free(id);
	elf_image_close(&img);
	return r;
}

/* Try the place fmt formats: try_candidate's result, or 0 when the path
 * does not fit. */
__attribute__((format(printf, 4, 5))) static int offer(struct walk *w, int dir_fd,
						       const uint32_t *crc, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(w->buf, sizeof(w->buf), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(w->buf))
		return 0;
	return try_candidate(w, dir_fd, crc);
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

static int by_build_id(struct walk *w, int dir_fd, const struct debug_search *s)
{
	const char *id = w->build_id;
	int r = 0;

	if (!id || strlen(id) <= 2)
		return 0;
	for (size_t i = 0; !r && i < s->n_dirs; i++)
		r = offer(w, AT_FDCWD, NULL, "%s/.build-id/%.2s/%s.debug", s->dirs[i], id, id + 2);
	return r ? r : offer(w, dir_fd, NULL, SYSTEM_DEBUG_DIR "/.build-id/%.2s/%s.debug", id, id + 2);
}

/* An object stripped with --strip-debug keeps its symbols but needs a
 * debug file for lines, so either lack starts the search. */
int debug_file_find(Elf *elf, int dir_fd, const char *path, const char *build_id,
		    const struct debug_search *search, struct elf_image *out)
{
	static const struct debug_search none;
	const struct debug_search *s = search ? search : &none;
	struct walk w = { .build_id = build_id, .out = out };
	GElf_Shdr sh;
	int r;

	w.need_symtab = !elf_section_of_type(elf, SHT_SYMTAB, &sh);
	w.need_dwarf = !elf_has_dwarf(elf);
	if (!w.need_symtab && !w.need_dwarf)
		return 0;
	r = by_debuglink(&w, elf, dir_fd, path, s);
	if (!r)
		r = by_build_id(&w, dir_fd, s);
	if (!r && s->fetched && build_id)
		r = offer(&w, AT_FDCWD, NULL, "%s", s->fetched);
	return r < 0 ? r : 0;
}
