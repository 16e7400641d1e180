/* fuzz_perf_map.c - the perf map parser (perf_map__parse) on a file the
 * target writes: the input is the file.
 *
 * Beyond not crashing: every line is either an entry or counted as skipped
 * (nothing is cut at this size), and a lookup at any address the input
 * names, and around it, finds an entry that holds that address or none. */
#include <string.h>

#include "fuzz.h"
#include "symbols/perf_map.h"

/* Lines of data[0..size) as the parser counts them: a last line without
 * its newline counts too. */
static size_t lines(const uint8_t *data, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n + (size && data[size - 1] != '\n');
}

static void expect_holds(const struct perf_map *m, uint64_t addr)
{
	const struct perf_map_entry *e = perf_map__find(m, addr);

	FUZZ_CHECK(!e || (addr - e->start < e->size && e->name && *e->name));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = size ? fmemopen((void *)data, size, "r") : NULL;
	struct perf_map *m = NULL;
	char *text;

	if (!f)
		return 0;
	FUZZ_CHECK(perf_map__parse(f, &m) == 0);
	fclose(f);
	FUZZ_CHECK(!perf_map__cut(m));
	FUZZ_CHECK(perf_map__entries(m) + perf_map__skipped(m) == lines(data, size));
	/* Every hex number in the input, and its neighbours, as an address. */
	text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *p = text; *p; p++) {
		uint64_t addr;

		if (!strchr("0123456789abcdefABCDEF", *p) || (p > text && strchr("0123456789abcdefABCDEFxX", p[-1])))
			continue;
		addr = strtoull(p, NULL, 16);
		expect_holds(m, addr - 1);
		expect_holds(m, addr);
		expect_holds(m, addr + 1);
	}
	expect_holds(m, 0);
	expect_holds(m, UINT64_MAX);
	free(text);
	perf_map__free(m);
	return 0;
}
