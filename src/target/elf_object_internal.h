/* elf_object_internal.h - what the pieces of an elf_object share and no
 * caller sees: the image layer, the object's fields, and the entry points
 * between the pieces. elf_object.c holds the images (the one place that
 * decides how a file's bytes get into memory), the segments and the
 * accessors; elf_symbols.c the function symbols; debug_file.c the choice
 * of a separate debug file; minidebuginfo.c the symbols an object carries
 * compressed. Library code: returns -errno, never logs. */
#ifndef ELF_OBJECT_INTERNAL_H
#define ELF_OBJECT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gelf.h>

#include "target/elf_object.h"

/* One ELF file as libelf reads it: the object itself, its separate debug
 * file, or its MiniDebugInfo. A file is read through fd as libelf needs its
 * parts; an image without a file (data) is a copy of our own. All zero when
 * there is none. */
struct elf_image {
	int fd;       /* the file's, kept open while elf is; unused with data */
	void *data;   /* an image in memory; NULL for a file */
	size_t size;  /* bytes, the file's when it was opened */
	Elf *elf;
};

struct elf_segment {
	uint64_t vaddr, offset, filesz;
};

struct elf_sym {
	const char *name; /* points into an image's string table */
	uint64_t vaddr, size;
	uint64_t limit;   /* end of the symbol's section: bounds a size-0 symbol */
	uint64_t cover;   /* highest end of the sized symbols up to this one */
	uint8_t table;    /* ELF_SYMTAB_DYNAMIC or ELF_SYMTAB_STATIC */
	uint8_t bind;     /* 2 global, 1 weak, 0 local */
};

struct elf_object {
	struct elf_image file, debug, mini;
	struct elf_segment *segs;
	size_t nsegs;
	struct elf_sym *syms; /* sorted by address once loaded */
	size_t nsyms, syms_cap;
	char *build_id;
	bool dynamic;
	uint64_t dynamic_vaddr;
};

/* The file at path under dir_fd (see target_file_open) into the empty *img.
 * Returns 0, -ENOEXEC when it is no regular, non-empty ELF file, or
 * -errno; *img stays empty on failure. */
int elf_image_open(int dir_fd, const char *path, struct elf_image *img);
/* A copy of data[0..len) into the empty *img, for an image that has no
 * file (the vDSO, a decompressed MiniDebugInfo). Returns 0, -ENOEXEC when
 * it is not ELF, or -ENOMEM; *img stays empty on failure. */
int elf_image_copy(const void *data, size_t len, struct elf_image *img);
/* The CRC-32 of the whole image, read in chunks: 0 and *out, or -errno. */
int elf_image_crc32(const struct elf_image *img, uint32_t *out);
/* Frees what *img holds and empties it; accepts an empty image. */
void elf_image_close(struct elf_image *img);

/* The first section of elf of the given type, with its header in *sh, or
 * NULL. */
Elf_Scn *elf_section_of_type(Elf *elf, Elf64_Word type, GElf_Shdr *sh);
/* True when elf (may be NULL) has DWARF (.debug_info). */
bool elf_has_dwarf(Elf *elf);

/* Load o's function symbols (elf_symbols.c): .dynsym from o->file, .symtab
 * from o->file when it has one, else from o->debug, else from o->mini. Returns 0 or -ENOMEM;
 * what was loaded stays in o, for elf_object__free. */
int elf_symbols_load(struct elf_object *o);

#endif
