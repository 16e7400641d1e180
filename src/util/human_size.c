/* human_size.c - the unit is the largest power of 1024 the count reaches. */
#include "util/human_size.h"

#include <inttypes.h>
#include <stdio.h>

char *human_size(char *buf, size_t len, const char *prefix, uint64_t bytes)
{
	static const char units[] = "KMGTPE";
	unsigned int shift = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%s%" PRIu64 " B", prefix, bytes);
		return buf;
	}
	while (shift < 50 && bytes >> (shift + 10) >= 1024)
		shift += 10;
	snprintf(buf, len, "%s%.1f %ciB", prefix, (double)bytes / (double)(1ULL << (shift + 10)),
		 units[shift / 10]);
	return buf;
}
