/* minidebuginfo.h - MiniDebugInfo, the symbol table that Fedora, RHEL and
 * their container images ship inside the object itself: the functions
 * .dynsym lacks, as a small ELF file compressed with xz in the section
 * .gnu_debugdata. It names static functions where no separate debug file
 * is installed. Library code: returns -errno and never logs. */
#ifndef MINIDEBUGINFO_H
#define MINIDEBUGINFO_H

#include <libelf.h>

struct elf_image;

/* Larger decompressed images are refused: the section comes from a file
 * the target controls, and a few kilobytes of xz can stand for gigabytes. */
#define MINIDEBUGINFO_MAX (64u << 20)

/* Decompress elf's .gnu_debugdata into the empty *out (an image of
 * elf_object_internal.h, the caller closes it). Returns 0, -ENOENT when
 * elf has no such section, -ENOEXEC when it is not an xz stream holding
 * an ELF file smaller than MINIDEBUGINFO_MAX bytes, or -ENOMEM; *out stays
 * empty on failure. */
int minidebuginfo_open(Elf *elf, struct elf_image *out);

#endif
