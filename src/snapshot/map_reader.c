/* map_reader.c - batched map reads: one syscall per few thousand entries
 * instead of two per entry, which is what keeps a report over a million
 * tracked allocations cheap. */
#include "snapshot/map_reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define BATCH 4096

int map_ncpus(void)
{
	static int ncpus;

	if (!ncpus)
		ncpus = libbpf_num_possible_cpus();
	return ncpus;
}

size_t map_percpu_value_size(size_t value_size)
{
	int ncpus = map_ncpus();

	return ncpus > 0 ? ((value_size + 7) & ~(size_t)7) * (size_t)ncpus : 0;
}

static int visit(const char *keys, const char *values, uint32_t count, size_t key_size,
		 size_t value_size, map_entry_fn fn, void *ctx)
{
	for (uint32_t i = 0; i < count; i++) {
		int r = fn(keys + i * key_size, values + i * value_size, ctx);

		if (r)
			return r;
	}
	return 0;
}

int map_read_all(int fd, size_t key_size, size_t value_size, map_entry_fn fn, void *ctx)
{
	/* A hash map's batch token is a bucket index; 8 bytes hold it. */
	uint64_t token = 0;
	char *keys = malloc(BATCH * key_size);
	char *values = malloc(BATCH * value_size);
	bool first = true;
	int r = 0;

	if (!keys || !values) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		uint32_t count = BATCH;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, values,
					       &count, NULL);

		if (err < 0 && errno != ENOENT) {
			r = -errno;
			break;
		}
		first = false;
		r = visit(keys, values, count, key_size, value_size, fn, ctx);
		if (r || err < 0)
			break;
	}
out:
	free(keys);
	free(values);
	return r;
}

int map_memlock(int fd, uint64_t *bytes)
{
	char path[64], line[128];
	int r = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (r == -ENOENT && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %" SCNu64, bytes) == 1)
			r = 0;
	fclose(f);
	return r;
}
