/* elf_object.h - one ELF file read with libelf: its loadable segments, its
 * build-id, its bytes, and its symbols (looked up as elf_symbols.h says),
 * which may come from a separate debug file (found as debug_file.h says).
 * Used to find the functions to probe (by name, as file offsets) and to
 * name addresses (symbolizer). Library code: it returns -errno and never
 * logs. */
#ifndef ELF_OBJECT_H
#define ELF_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libelf.h>

#include "target/debug_file.h"
#include "target/elf_symbols.h"

struct elf_object;

/* Open the ELF file at path, resolved under dir_fd (an O_PATH fd of
 * /proc/PID/root, or AT_FDCWD; an absolute path is taken relative to dir_fd).
 * Reads its symbol tables, segments and build-id, and, when it lacks .symtab
 * or DWARF, adopts a separate debug file that supplies it and provably
 * belongs to it (its build-id, or its debuglink's CRC), searched as
 * debug_file.h describes (.gnu_debuglink, then /usr/lib/debug/.build-id).
 * Symbols come from the object's .symtab, else the debug file's. Returns 0
 * and *out, or -errno (-ENOENT, -ENOEXEC for a file that is not ELF,
 * -ENOMEM); a missing debug file is not an error. */
int elf_object__open(int dir_fd, const char *path, struct elf_object **out);
/* elf_object__open, searching search's debug directories before
 * /usr/lib/debug and its fetched file last (search may be NULL). */
int elf_object__open_debug(int dir_fd, const char *path, const struct debug_search *search,
			   struct elf_object **out);
/* elf_object__open without the symbols, for callers that need only the
 * segments, the build-id and the file (the unwind tables): the lookups by name
 * and address find nothing. */
int elf_object__open_headers(int dir_fd, const char *path, struct elf_object **out);
/* An ELF image held in memory, as the vDSO is: data[0..len) is copied, so
 * the caller keeps it. Reads its segments, build-id and symbol tables (no
 * separate debug file). Returns 0 and *out, -ENOEXEC when it is not ELF,
 * or -ENOMEM. */
int elf_object__open_memory(const void *data, size_t len, struct elf_object **out);
/* Accepts NULL. */
void elf_object__free(struct elf_object *o);
/* The first section of elf called name, or NULL. */
Elf_Scn *elf_section_named(Elf *elf, const char *name);

/* Convert between link-time virtual addresses and file offsets through the
 * PT_LOAD segments. -ERANGE when no segment covers it. */
int elf_object__vaddr_to_offset(const struct elf_object *o, uint64_t vaddr, uint64_t *offset);
int elf_object__offset_to_vaddr(const struct elf_object *o, uint64_t offset, uint64_t *vaddr);
/* Copy up to len bytes of the file's contents at link-time address vaddr.
 * Returns the number of bytes copied (less at the end of a segment), or -ERANGE. */
long elf_object__read(const struct elf_object *o, uint64_t vaddr, void *buf, size_t len);

/* Visits the file bytes of each loadable segment (only the executable ones
 * when exec), read one at a time through pread and freed after: the file
 * is never mapped nor read whole. Returns the first nonzero visit()
 * result, 0 when every visit returned 0, -EFBIG for a segment over 64 MiB
 * (the file is the target's), -EIO for one that cannot be read, or
 * -ENOMEM. */
typedef int elf_segment_visit_fn(const uint8_t *bytes, size_t len, uint64_t vaddr, void *arg);
int elf_object__each_segment(const struct elf_object *o, bool exec, elf_segment_visit_fn *visit,
			     void *arg);

/* Build-id as lowercase hex, or NULL when the object has none. */
const char *elf_object__build_id(const struct elf_object *o);
/* The file's libelf handle, owned by o. */
Elf *elf_object__elf(const struct elf_object *o);
/* The handle whose DWARF describes o: its separate debug file when one with
 * DWARF was adopted, else the file itself. Owned by o. */
Elf *elf_object__dwarf_elf(const struct elf_object *o);
/* True when o or its adopted debug file has DWARF (.debug_info). */
bool elf_object__has_dwarf(const struct elf_object *o);
/* True for ET_EXEC/ET_DYN with a PT_INTERP or PT_DYNAMIC (not statically
 * linked). A static-pie has PT_DYNAMIC too, but no PT_INTERP and DF_1_PIE
 * set: it is statically linked, so false. */
bool elf_object__is_dynamic(const struct elf_object *o);
/* Link-time vaddr of the PT_DYNAMIC segment, 0 if none. */
uint64_t elf_object__dynamic_vaddr(const struct elf_object *o);

#endif
