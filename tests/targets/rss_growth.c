/* rss_growth.c - resident memory that grows with no traced leak, the two
 * ways the gperftools seed met it (tests/integration/test_trends.py).
 * After SIGUSR1:
 *
 *   rss_growth mmap       in each of PHASES phases of PHASE_MS, maps and
 *                         touches MAP_CHUNK bytes of anonymous memory:
 *                         memory malloc never sees.
 *   rss_growth fragment   mallocs FRAG_BLOCKS blocks of FRAG_SIZE from the
 *                         heap and frees all but every FRAG_KEEP-th: glibc
 *                         keeps the freed pages, each between live blocks.
 *
 * mmap: 8 x 8 MiB = 64 MiB more anonymous RSS, nothing traced outstanding.
 * fragment: 16384 x 4096 = 64 MiB allocated, 1/64 of it kept: 1 MiB traced
 * outstanding (256 blocks), the rest retained by the allocator.
 */
#include <string.h>
#include <sys/mman.h>

#include "target.h"

#define PHASES 8
#define PHASE_MS 400
#define MAP_CHUNK (8UL << 20)
#define FRAG_BLOCKS 16384
#define FRAG_SIZE 4096
#define FRAG_KEEP 64

static void map_chunk(void)
{
	char *p = mmap(NULL, MAP_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		target_die("mmap");
	memset(p, 1, MAP_CHUNK);
}

static void fragment(void)
{
	static void *blocks[FRAG_BLOCKS];

	for (int i = 0; i < FRAG_BLOCKS; i++) {
		blocks[i] = malloc(FRAG_SIZE);
		target_touch(blocks[i]);
		memset(blocks[i], 1, FRAG_SIZE);
	}
	for (int i = 0; i < FRAG_BLOCKS; i++) {
		if (i % FRAG_KEEP == 0)
			target_keep(blocks[i]);
		else
			free(blocks[i]);
	}
}

int main(int argc, char **argv)
{
	int frag = argc > 1 && !strcmp(argv[1], "fragment");

	if (argc < 2 || (!frag && strcmp(argv[1], "mmap")))
		target_die("usage: rss_growth mmap|fragment");
	target_ready();
	target_wait_start();
	if (frag)
		fragment();
	for (int phase = 0; !frag && phase < PHASES; phase++) {
		map_chunk();
		target_sleep_ms(PHASE_MS);
	}
	target_done();
	target_idle();
	return 0;
}
