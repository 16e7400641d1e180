/* mappings.c - anonymous memory mapped with known sizes, then cut, moved,
 * replaced and given back (tests/integration/snapshot/test_mappings.py).
 * After SIGUSR1, in pages of 4 KiB:
 *
 *   map_kept         3 x mmap 64 pages, kept; replace_fixed then maps 1
 *                    page MAP_FIXED over the first page of the first one:
 *                    map_kept holds 191 pages in 3 ranges, replace_fixed 1
 *   map_freed        mmap 256 pages, munmap them: nothing
 *   map_cut          mmap 16 pages, munmap the first 2, the last 2 and 2
 *                    in the middle: 10 pages in 2 ranges
 *   map_remapped     mmap 4 pages; remap_grow mremaps them to 12 (they may
 *                    move), remap_shrink to 10: map_remapped 4 pages,
 *                    remap_grow 6, each one range
 *   raw_mmap         syscall(SYS_mmap) of 5 pages, not through mmap()
 *   grow_brk         sbrk 8 pages, twice from one place; shrink_brk then
 *                    gives 4 back: 12 pages in 1 range (the heap top moved
 *                    up by one stack)
 *   reserve          mmap 64 pages PROT_NONE: not counted; commit opens
 *                    the first 8 with mprotect, decommit closes the last 2
 *                    of those again: commit 6 pages
 *   not_anonymous    a private file mapping and a shared anonymous one:
 *                    not counted
 *   big_malloc       malloc(1 MiB): glibc maps it (1 MiB + 1 page) inside
 *                    malloc, the allocator's heap; the allocation is the
 *                    malloc record's 1 MiB
 *
 * Mapped by the program: 191 + 1 + 10 + 4 + 6 + 5 + 12 + 6 = 235 pages in
 * 3 + 1 + 2 + 1 + 1 + 1 + 1 + 1 = 11 ranges. By the allocator: 257 pages.
 */
/* target.h first: it defines _GNU_SOURCE, which mremap needs. */
#include "target.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define PAGE 4096UL
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW (PROT_READ | PROT_WRITE)

static char *kept[3];

static void *map_pages(size_t pages, int prot, int flags, void *at)
{
	void *p = mmap(at, pages * PAGE, prot, flags, -1, 0);

	if (p == MAP_FAILED)
		target_die("mmap");
	return p;
}

static void unmap_pages(void *p, size_t pages)
{
	if (munmap(p, pages * PAGE))
		target_die("munmap");
}

__attribute__((noinline)) static void map_kept(void)
{
	for (int i = 0; i < 3; i++)
		kept[i] = mmap(NULL, 64 * PAGE, RW, ANON, -1, 0);
	for (int i = 0; i < 3; i++)
		if (kept[i] == MAP_FAILED)
			target_die("mmap");
}

__attribute__((noinline)) static void replace_fixed(void)
{
	if (mmap(kept[0], PAGE, RW, ANON | MAP_FIXED, -1, 0) != kept[0])
		target_die("mmap MAP_FIXED");
}

__attribute__((noinline)) static void map_freed(void)
{
	char *p = mmap(NULL, 256 * PAGE, RW, ANON, -1, 0);

	if (p == MAP_FAILED)
		target_die("mmap");
	p[0] = 1;
	unmap_pages(p, 256);
}

__attribute__((noinline)) static void map_cut(void)
{
	char *p = mmap(NULL, 16 * PAGE, RW, ANON, -1, 0);

	if (p == MAP_FAILED)
		target_die("mmap");
	unmap_pages(p, 2);
	unmap_pages(p + 14 * PAGE, 2);
	unmap_pages(p + 7 * PAGE, 2);
}

__attribute__((noinline)) static char *map_remapped(void)
{
	char *p = mmap(NULL, 4 * PAGE, RW, ANON, -1, 0);

	if (p == MAP_FAILED)
		target_die("mmap");
	return p;
}

__attribute__((noinline)) static char *remap_grow(char *p)
{
	p = mremap(p, 4 * PAGE, 12 * PAGE, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		target_die("mremap");
	return p;
}

__attribute__((noinline)) static void remap_shrink(char *p)
{
	if (mremap(p, 12 * PAGE, 10 * PAGE, 0) != p)
		target_die("mremap");
}

__attribute__((noinline)) static void raw_mmap(void)
{
	long p = syscall(SYS_mmap, 0L, 5 * PAGE, RW, ANON, -1L, 0L);

	if (p < 0 && p > -4096)
		target_die("syscall mmap");
}

__attribute__((noinline)) static void grow_brk(int times)
{
	for (int i = 0; i < times; i++)
		if (sbrk(8 * PAGE) == (void *)-1)
			target_die("sbrk");
}

__attribute__((noinline)) static void shrink_brk(void)
{
	if (sbrk(-4 * (long)PAGE) == (void *)-1)
		target_die("sbrk");
}

__attribute__((noinline)) static char *reserve(void)
{
	return map_pages(64, PROT_NONE, ANON | MAP_NORESERVE, NULL);
}

__attribute__((noinline)) static void commit(char *p)
{
	if (mprotect(p, 8 * PAGE, RW))
		target_die("mprotect");
}

__attribute__((noinline)) static void decommit(char *p)
{
	if (mprotect(p + 6 * PAGE, 2 * PAGE, PROT_NONE))
		target_die("mprotect");
}

__attribute__((noinline)) static void not_anonymous(void)
{
	int fd = open("/proc/self/exe", O_RDONLY);

	if (fd < 0)
		target_die("open");
	if (mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
		target_die("mmap file");
	close(fd);
	map_pages(4, RW, MAP_SHARED | MAP_ANONYMOUS, NULL);
}

__attribute__((noinline)) static void big_malloc(void)
{
	target_keep(malloc(1 << 20));
}

int main(void)
{
	char *p;

	target_ready();
	target_wait_start();
	map_kept();
	replace_fixed();
	map_freed();
	map_cut();
	p = remap_grow(map_remapped());
	remap_shrink(p);
	raw_mmap();
	grow_brk(2);
	shrink_brk();
	p = reserve();
	commit(p);
	decommit(p);
	not_anonymous();
	big_malloc();
	target_done();
	target_idle();
	return 0;
}
