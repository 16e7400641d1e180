/* prefixed_jemalloc.c - a jemalloc whose API is prefixed with _rjem_, as
 * Rust's tikv-jemallocator builds it, linked statically next to glibc's
 * malloc. The Makefile copies Debian's libjemalloc_pic.a with objcopy
 * --redefine-sym NAME=_rjem_NAME for every public name (malloc, calloc,
 * posix_memalign, aligned_alloc, realloc, free, memalign, valloc, mallocx,
 * rallocx, xallocx, sallocx, dallocx, sdallocx, nallocx, mallctl*,
 * malloc_stats_print, malloc_usable_size, malloc_message, malloc_conf*),
 * definitions and references alike, and links the copy into this PIE. The
 * executable then defines _rjem_malloc... (in .symtab only: nothing exports
 * them) and no malloc: malloc, free... bind to glibc, which memleakd traces
 * by default. --preset jemalloc --symbol-prefix _rjem_ traces the _rjem_*
 * functions of the executable. The prototypes are declared here.
 *
 * Before "ready": _rjem_malloc/_rjem_free and malloc/free, so that jemalloc
 * and glibc set themselves up before memleakd attaches.
 *
 * After SIGUSR1 every call succeeds; each leak is one call site in leak_NAME
 * called by chain_NAME (frames[0] <- frames[1]); sizes are the requested
 * ones:
 *
 *   glibc (traced by default)                           allocs  bytes
 *   leak_libc_malloc     10 x malloc(123)                  10    1230
 *   churn_libc: 100 x malloc(64) + free                     -       -
 *
 *   jemalloc (--preset jemalloc --symbol-prefix _rjem_)
 *   leak_rjem_malloc     100 x _rjem_malloc(512)           100   51200
 *   leak_rjem_calloc     50 x _rjem_calloc(8, 33)           50   13200
 *   leak_rjem_mallocx    40 x _rjem_mallocx(2000, 0)        40   80000
 *   leak_rjem_mallocx_flags 10 x _rjem_mallocx(100, MALLOCX_ALIGN(64) |
 *                        MALLOCX_ZERO)                      10    1000
 *   leak_rjem_posix_memalign 10 x _rjem_posix_memalign(&p, 64, 3000)
 *                                                           10   30000
 *   leak_rjem_aligned_alloc 10 x _rjem_aligned_alloc(256, 512)
 *                                                           10    5120
 *   leak_rjem_memalign   10 x _rjem_memalign(128, 700)      10    7000
 *   leak_rjem_valloc     5 x _rjem_valloc(100)               5     500
 *   grow_rjem <- leak_rjem_realloc: start_rjem's _rjem_malloc(32), then
 *       grow_rjem's _rjem_realloc to 2048, then to 65536     1   65536
 *   grow_rallocx <- leak_rjem_rallocx: 10 x (start_rallocx's
 *       _rjem_mallocx(100, 0), then _rjem_rallocx(p, 5000, 0))
 *                                                           10   50000
 *   churn_rjem: 500 x _rjem_malloc + _rjem_free, 300 x _rjem_mallocx(300,
 *       0) + _rjem_dallocx, 300 x _rjem_mallocx(400, 0) + _rjem_sdallocx(p,
 *       400, 0), 100 x _rjem_calloc(4, 25) + _rjem_free, 100 x
 *       _rjem_realloc(NULL, 80) + _rjem_free: 1300 allocations, all freed
 *   Each realloc or rallocx above moves the block (1 free + 1 alloc).
 *   Totals: 246 outstanding, 303556 bytes; allocs 1558 (246 + 12 reallocs
 *   + 1300), frees 1312.
 *
 * With the argument "realloc-zero", zero_realloc_rjem runs last: 10 x
 * (start_zero_rjem's _rjem_malloc(500), then shrink_rjem's _rjem_realloc(p,
 * 0)). Debian's jemalloc 5.3 runs with opt.zero_realloc "free" (checked
 * here, through _rjem_mallctl): realloc(p, 0) frees p and returns NULL, as
 * glibc's does: 10 more allocations and 10 more frees.
 */
#include "target.h"

#include <string.h>

void *_rjem_malloc(size_t size);
void *_rjem_calloc(size_t nmemb, size_t size);
int _rjem_posix_memalign(void **out, size_t align, size_t size);
void *_rjem_aligned_alloc(size_t align, size_t size);
void *_rjem_realloc(void *p, size_t size);
void _rjem_free(void *p);
void *_rjem_memalign(size_t align, size_t size);
void *_rjem_valloc(size_t size);
void *_rjem_mallocx(size_t size, int flags);
void *_rjem_rallocx(void *p, size_t size, int flags);
void _rjem_dallocx(void *p, int flags);
void _rjem_sdallocx(void *p, size_t size, int flags);
int _rjem_mallctl(const char *name, void *old, size_t *oldlen, void *new, size_t newlen);

#define MALLOCX_ALIGN_64 6 /* MALLOCX_LG_ALIGN(6) */
#define MALLOCX_ZERO 0x40

static void *volatile null_ptr;

TARGET_LEAK(libc_malloc, 10, malloc(123))

__attribute__((noinline)) static void churn_libc(void)
{
	TARGET_CHURN(100, malloc(64), free(p))
}

TARGET_LEAK(rjem_malloc, 100, _rjem_malloc(512))
TARGET_LEAK(rjem_calloc, 50, _rjem_calloc(8, 33))
TARGET_LEAK(rjem_mallocx, 40, _rjem_mallocx(2000, 0))
TARGET_LEAK(rjem_mallocx_flags, 10, _rjem_mallocx(100, MALLOCX_ALIGN_64 | MALLOCX_ZERO))
TARGET_LEAK(rjem_aligned_alloc, 10, _rjem_aligned_alloc(256, 512))
TARGET_LEAK(rjem_memalign, 10, _rjem_memalign(128, 700))
TARGET_LEAK(rjem_valloc, 5, _rjem_valloc(100))

__attribute__((noinline)) static void leak_rjem_posix_memalign(void)
{
	for (int i = 0; i < 10; i++) {
		void *p = NULL;

		if (_rjem_posix_memalign(&p, 64, 3000))
			target_die("_rjem_posix_memalign failed");
		target_keep(p);
	}
}

__attribute__((noinline)) static void chain_rjem_posix_memalign(void)
{
	leak_rjem_posix_memalign();
}

__attribute__((noinline)) static void *start_rjem(void)
{
	return _rjem_malloc(32);
}

__attribute__((noinline)) static void *grow_rjem(void *p, size_t size)
{
	void *q = _rjem_realloc(p, size);

	if (!q)
		target_die("_rjem_realloc failed");
	return q;
}

__attribute__((noinline)) static void leak_rjem_realloc(void)
{
	void *p = start_rjem();

	target_touch(p);
	p = grow_rjem(p, 2048);
	p = grow_rjem(p, 65536);
	target_keep(p);
}

__attribute__((noinline)) static void *start_rallocx(void)
{
	return _rjem_mallocx(100, 0);
}

__attribute__((noinline)) static void *grow_rallocx(void *p)
{
	void *q = _rjem_rallocx(p, 5000, 0);

	if (!q)
		target_die("_rjem_rallocx failed");
	return q;
}

__attribute__((noinline)) static void leak_rjem_rallocx(void)
{
	for (int i = 0; i < 10; i++) {
		void *p = start_rallocx();

		target_touch(p);
		target_keep(grow_rallocx(p));
	}
}

__attribute__((noinline)) static void churn_rjem(void)
{
	TARGET_CHURN(500, _rjem_malloc(8 + i * 13 % 1500), _rjem_free(p))
	TARGET_CHURN(300, _rjem_mallocx(300, 0), _rjem_dallocx(p, 0))
	TARGET_CHURN(300, _rjem_mallocx(400, 0), _rjem_sdallocx(p, 400, 0))
	TARGET_CHURN(100, _rjem_calloc(4, 25), _rjem_free(p))
	TARGET_CHURN(100, _rjem_realloc(null_ptr, 80), _rjem_free(p))
}

__attribute__((noinline)) static void *start_zero_rjem(void)
{
	return _rjem_malloc(500);
}

__attribute__((noinline)) static void shrink_rjem(void *p)
{
	if (_rjem_realloc(p, 0))
		target_die("_rjem_realloc(p, 0) did not free p");
}

__attribute__((noinline)) static void zero_realloc_rjem(void)
{
	for (int i = 0; i < 10; i++) {
		void *p = start_zero_rjem();

		target_touch(p);
		shrink_rjem(p);
	}
}

__attribute__((noinline)) static void run_leaks(int zero)
{
	chain_libc_malloc();
	churn_libc();
	chain_rjem_malloc();
	chain_rjem_calloc();
	chain_rjem_mallocx();
	chain_rjem_mallocx_flags();
	chain_rjem_posix_memalign();
	chain_rjem_aligned_alloc();
	chain_rjem_memalign();
	chain_rjem_valloc();
	leak_rjem_realloc();
	leak_rjem_rallocx();
	churn_rjem();
	if (zero)
		zero_realloc_rjem();
}

int main(int argc, char **argv)
{
	int zero = argc > 1 && !strcmp(argv[1], "realloc-zero");
	const char *zero_realloc = NULL;
	size_t len = sizeof(zero_realloc);

	if (argc > 1 && !zero)
		target_die("usage: prefixed_jemalloc [realloc-zero]");
	_rjem_free(_rjem_malloc(1));
	free(malloc(1));
	if (_rjem_mallctl("opt.zero_realloc", &zero_realloc, &len, NULL, 0) ||
	    strcmp(zero_realloc, "free"))
		target_die("jemalloc's opt.zero_realloc is not \"free\"");
	target_ready();
	target_wait_start();
	run_leaks(zero);
	target_done();
	target_idle();
	return 0;
}
