/* build_id.h - the GNU build-id note, found in raw note bytes (a note
 * section or PT_NOTE segment read from a file, or from a process's memory)
 * and written as lowercase hex. Library code: returns -errno. */
#ifndef BUILD_ID_H
#define BUILD_ID_H

#include <stddef.h>

/* The build-id among the notes at notes[0..len), in host byte order, each
 * part padded to align (4, or 8 for 8-aligned PT_NOTE segments). Returns 0
 * and *out (the caller frees it), -ENOENT when there is none or a note runs
 * past len, -ENOMEM. */
int build_id_from_notes(const unsigned char *notes, size_t len, size_t align, char **out);

#endif
