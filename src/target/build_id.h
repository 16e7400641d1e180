/* build_id.h - the GNU build-id note, which names one build of an object:
 * read from raw note bytes, from an ELF file through libelf, or from an
 * image as a live process maps it, always written as lowercase hex; and
 * the rule for whether two objects can be the same build. Library code:
 * returns -errno and never logs. */
#ifndef BUILD_ID_H
#define BUILD_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libelf.h>

/* The build-id among the notes at notes[0..len), in host byte order, each
 * part padded to align (4, or 8 for 8-aligned PT_NOTE segments). Returns 0
 * and *out (the caller frees it), -ENOENT when there is none or a note runs
 * past len, -ENOMEM. */
int build_id_from_notes(const unsigned char *notes, size_t len, size_t align, char **out);

/* The build-id of the ELF file libelf reads as elf: from its note
 * sections, else its PT_NOTE segments. Returns 0 and *out (the caller
 * frees it; NULL when the file has none), or -ENOMEM. */
int build_id_from_elf(Elf *elf, char **out);

/* Where an image's bytes come from: read copies len bytes at offset off
 * from the image's start into buf and returns 0, or -errno (-EFAULT when
 * they are not all there). */
struct image_source {
	int (*read)(void *ctx, uint64_t off, void *buf, size_t len);
	void *ctx;
	uint64_t size; /* bytes readable from offset 0 */
};

/* The build-id of the ELF image src holds (an object's first mapping: its
 * ELF header, program headers and PT_NOTE segments, found by their file
 * offsets). Only 64-bit images. Returns 0 and *out (the caller frees it),
 * -ENOENT when it has no build-id, -ENOEXEC when it is not a 64-bit ELF
 * image, -ENOMEM, or src's error. */
int build_id_from_image(const struct image_source *src, char **out);

/* build_id_from_image of the image mapped at [start, end) in process pid
 * (pidfd as process_image__read takes it), read from its memory
 * (process_image__read's errors). */
int build_id_from_mapping(pid_t pid, int pidfd, uint64_t start, uint64_t end, char **out);

/* True when an object whose build-id is id (NULL: it has none) can be the
 * one whose build-id is known (NULL: unknown, so nothing contradicts it). */
bool build_id_matches(const char *known, const char *id);

#endif
