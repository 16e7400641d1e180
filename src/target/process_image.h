/* process_image.h - ELF images as a live process maps them, read from its
 * memory rather than from any file: the build-id of a mapped object, which
 * tells whether the file on disk is still the one the process mapped, and
 * the bytes of an image that has no file at all, the vDSO. Library code:
 * it returns -errno and never logs. */
#ifndef PROCESS_IMAGE_H
#define PROCESS_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where an image's bytes come from: read copies len bytes at offset off
 * from the image's start into buf and returns 0, or -errno (-EFAULT when
 * they are not all there). */
struct image_source {
	int (*read)(void *ctx, uint64_t off, void *buf, size_t len);
	void *ctx;
	uint64_t size; /* bytes readable from offset 0 */
};

/* Copy len bytes at addr of process pid into buf (process_vm_readv).
 * Returns 0, -EFAULT when fewer were readable, -ESRCH once the process is
 * gone, -EPERM, or another -errno. */
int process_image__read(pid_t pid, uint64_t addr, void *buf, size_t len);

/* The GNU build-id, as lowercase hex, of the ELF image src holds (an
 * object's first mapping: its ELF header, program headers and PT_NOTE
 * segments, found by their file offsets). Only 64-bit images. Returns 0 and
 * *out (the caller frees it), -ENOENT when it has no build-id, -ENOEXEC
 * when it is not a 64-bit ELF image, -ENOMEM, or src's error. */
int process_image__build_id(const struct image_source *src, char **out);

/* process_image__build_id of the image mapped at [start, end) in pid. */
int process_image__mapped_build_id(pid_t pid, uint64_t start, uint64_t end, char **out);

#endif
