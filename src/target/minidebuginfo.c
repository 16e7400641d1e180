/* minidebuginfo.c - .gnu_debugdata decompressed with liblzma into memory
 * of our own, then handed to libelf like the vDSO's image. The output
 * buffer doubles as it fills, below MINIDEBUGINFO_MAX, so a truncated or
 * hostile stream costs at most that much memory and one pass over it. */
#include "target/minidebuginfo.h"

#include <errno.h>
#include <lzma.h>
#include <stdlib.h>

#include "target/elf_object.h"
#include "target/elf_object_internal.h"

/* Room for more output in *buf: doubled, from 64 KiB. 0, -ENOEXEC past
 * MINIDEBUGINFO_MAX, or -ENOMEM. */
static int grow(lzma_stream *s, uint8_t **buf, size_t *cap)
{
	size_t more = *buf ? 2 * *cap : 64 * 1024;
	uint8_t *n;

	if (more > MINIDEBUGINFO_MAX)
		return -ENOEXEC;
	n = realloc(*buf, more);
	if (!n)
		return -ENOMEM;
	*buf = n;
	*cap = more;
	s->next_out = n + s->total_out;
	s->avail_out = more - s->total_out;
	return 0;
}

/* Decompress in[0..len) into *out (malloc'd, *out_len bytes). The
 * decoder's own memory is bounded too: a stream's header names its
 * dictionary size. 0, -ENOEXEC, or -ENOMEM. */
static int xz_decode(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret ret = LZMA_OK;
	uint8_t *buf = NULL;
	size_t cap = 0;
	int r = 0;

	if (lzma_stream_decoder(&s, MINIDEBUGINFO_MAX, 0) != LZMA_OK)
		return -ENOMEM;
	s.next_in = in;
	s.avail_in = len;
	while (r == 0 && ret == LZMA_OK) {
		if (!s.avail_out)
			r = grow(&s, &buf, &cap);
		if (r == 0)
			ret = lzma_code(&s, LZMA_FINISH);
	}
	if (r == 0 && ret != LZMA_STREAM_END)
		r = ret == LZMA_MEM_ERROR ? -ENOMEM : -ENOEXEC;
	if (r == 0) {
		*out = buf;
		*out_len = s.total_out;
	} else {
		free(buf);
	}
	lzma_end(&s);
	return r;
}

int minidebuginfo_open(Elf *elf, struct elf_image *out)
{
	Elf_Scn *scn = elf_section_named(elf, ".gnu_debugdata");
	Elf_Data *d = scn ? elf_rawdata(scn, NULL) : NULL;
	uint8_t *image;
	size_t len;
	int r;

	if (!d || !d->d_buf || !d->d_size)
		return -ENOENT;
	r = xz_decode(d->d_buf, d->d_size, &image, &len);
	if (r < 0)
		return r;
	r = elf_image_copy(image, len, out);
	free(image);
	return r;
}
