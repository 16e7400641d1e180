/* human_size.h - byte counts for the eye ("97.7 KiB"), printed beside the
 * exact figure by the text report, the SVG flame graph and memleakd diff. */
#ifndef HUMAN_SIZE_H
#define HUMAN_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* prefix ("", "+" or "-") and bytes in 1024-based units with one decimal,
 * or "512 B" under 1 KiB, into buf. Returns buf. */
char *human_size(char *buf, size_t len, const char *prefix, uint64_t bytes);

#endif
