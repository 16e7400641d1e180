/* symbolize_bench.c - `make bench`: what naming frames costs. The benchmark
 * names addresses spread over the code of every object mapped in its own
 * process (memleakd's objects and the libraries it links: libc, libelf,
 * libdw, libbpf, zlib...), one every STRIDE bytes of executable mapping,
 * with a fresh symbolizer (cold: objects opened, symbols and DWARF read),
 * then again (warm: the per-address cache), ROUNDS times each, and prints
 * the medians: frames per second, and the memory the symbolizer holds
 * (malloc'd bytes, from mallinfo2, and resident growth). */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "target/proc_maps.h"
#include "symbols/symbolizer.h"

#define STRIDE 64
#define ROUNDS 5

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	if (f)
		fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Every STRIDE-th byte of every executable file mapping. */
static uint64_t *addresses(const struct proc_maps *m, size_t *n, size_t *objects)
{
	uint64_t *out = NULL;
	size_t cap = 0;

	*n = *objects = 0;
	for (size_t i = 0; i < m->count; i++) {
		const struct proc_map *p = &m->maps[i];

		if (!p->executable || !p->path || p->path[0] != '/')
			continue;
		(*objects)++;
		for (uint64_t a = p->start + STRIDE; a < p->end; a += STRIDE) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 4096;
				out = realloc(out, cap * sizeof(*out));
				if (!out)
					return NULL;
			}
			out[(*n)++] = a;
		}
	}
	return out;
}

/* Names every address once; returns the frames made (inlined ones too). */
static long name_all(struct symbolizer *s, const struct proc_maps *m, const uint64_t *addrs,
		     size_t n)
{
	struct frame chain[SYMBOLIZER_MAX_FRAMES];
	long frames = 0;

	for (size_t i = 0; i < n; i++) {
		int r = symbolizer__resolve(s, m, AT_FDCWD, addrs[i], chain);

		if (r < 0)
			return r;
		frames += r;
	}
	return frames;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, ROUNDS, sizeof(*v), by_value);
	return v[ROUNDS / 2];
}

int main(void)
{
	double cold[ROUNDS], warm[ROUNDS], held[ROUNDS], resident[ROUNDS];
	struct proc_maps *m = NULL;
	size_t n, objects;
	uint64_t *addrs;
	long frames = 0;

	if (proc_maps__read(getpid(), &m) < 0 || !(addrs = addresses(m, &n, &objects)))
		return 1;
	for (int r = 0; r < ROUNDS; r++) {
		size_t before = mallinfo2().uordblks;
		long rss = rss_kib();
		struct symbolizer *s = symbolizer__new(&(struct symbolizer_options){ .demangle = true });
		double t0 = now_s(), t1;

		if (!s || (frames = name_all(s, m, addrs, n)) < 0)
			return 1;
		t1 = now_s();
		if (name_all(s, m, addrs, n) != frames)
			return 1;
		cold[r] = (double)frames / (t1 - t0);
		warm[r] = (double)frames / (now_s() - t1);
		held[r] = (double)(mallinfo2().uordblks - before) / (1 << 20);
		resident[r] = (double)(rss_kib() - rss) / 1024;
		symbolizer__free(s);
	}
	printf("symbolization: %zu addresses (every %d bytes of code) in %zu objects, %ld frames "
	       "with inlined calls; %d rounds, medians\n", n, STRIDE, objects, frames, ROUNDS);
	printf("  cold (objects opened, symbols and DWARF read): %.0f frames/s\n", median(cold));
	printf("  warm (cached):                                 %.0f frames/s\n", median(warm));
	printf("  held by the symbolizer: %.1f MiB malloc'd, %.1f MiB more resident\n",
	       median(held), median(resident));
	free(addrs);
	proc_maps__free(m);
	return 0;
}
