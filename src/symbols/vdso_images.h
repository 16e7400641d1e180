/* vdso_images.h - the vDSO, named: the kernel maps one image into every
 * process (one per ABI), with no file behind it, so its symbols are read
 * from a process's memory. Images are kept by content, so every process
 * of a kernel shares one, read and parsed once. Library code: it returns
 * -errno and never logs. */
#ifndef VDSO_IMAGES_H
#define VDSO_IMAGES_H

#include <stdbool.h>
#include <sys/types.h>

#include "target/elf_object.h"
#include "symbols/object_symbols.h"
#include "target/proc_maps.h"

struct vdso_images;

/* One image's object and names, owned by the vdso_images. */
struct vdso_image {
	struct elf_object *obj;
	struct object_symbols *names;
};

/* demangle as object_symbols__new. Returns NULL on ENOMEM. */
struct vdso_images *vdso_images__new(bool demangle);
/* Accepts NULL. */
void vdso_images__free(struct vdso_images *v);

/* The image in map, the [vdso] mapping of the process maps are of (read
 * by its pid, kept only while its pidfd says it lives). The last process and
 * mapping asked for are remembered, so the image is read once per process,
 * not per frame. Returns 0 and *out, -ENOEXEC when the bytes are no ELF
 * image, -ENOMEM, or process_image__read's error (-ESRCH once the process
 * is gone, -EPERM). */
int vdso_images__get(struct vdso_images *v, const struct proc_maps *maps,
		     const struct proc_map *map, const struct vdso_image **out);

#endif
