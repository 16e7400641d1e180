/* direct_allocators.c - tcmalloc's and mimalloc's own entry points called
 * by name, in a process where glibc still provides malloc. The Makefile
 * links it with
 *
 *     -Wl,--no-as-needed -lc -l:libtcmalloc_minimal.so.4 -l:libmimalloc.so.2
 *
 * so that libc.so.6 comes before both allocators in the dynamic linker's
 * search order: malloc, free... bind to glibc (memleakd: "takes malloc from
 * .../libc.so.6"), and tc_* and mi_* are reached only by their own names.
 * Default tracing sees only the glibc calls; --preset tcmalloc adds the tc_*
 * calls, --preset mimalloc the mi_* calls. Debian ships no tcmalloc or
 * mimalloc header with the libraries, so the prototypes are declared here:
 * std::nothrow_t is passed by reference (any pointer), std::align_val_t by
 * value (a size_t).
 *
 * Before "ready": one tc_malloc/tc_free, mi_malloc/mi_free and malloc/free
 * pair, so that each allocator sets itself up before memleakd attaches.
 *
 * After SIGUSR1 every call succeeds. Each leak is one call site in
 * leak_NAME, called by chain_NAME (frames[0] <- frames[1]); sizes are the
 * requested ones:
 *
 *   glibc (traced by default)                          allocs  bytes
 *   leak_libc_malloc      20 x malloc(111)                20    2220
 *   churn_libc: 100 x malloc(200) + free                   -       -
 *
 *   tcmalloc (--preset tcmalloc)
 *   leak_tc_malloc        100 x tc_malloc(300)           100   30000
 *   leak_tc_calloc        40 x tc_calloc(5, 60)           40   12000
 *   leak_tc_memalign      10 x tc_memalign(64, 1000)      10   10000
 *   leak_tc_posix_memalign 10 x tc_posix_memalign(&p, 128, 2000)
 *                                                          10   20000
 *   leak_tc_new           30 x tc_new(48)                 30    1440
 *   leak_tc_newarray      30 x tc_newarray(48)            30    1440
 *   leak_tc_new_nothrow   20 x tc_new_nothrow(80)         20    1600
 *   leak_tc_newarray_nothrow 20 x tc_newarray_nothrow(80) 20    1600
 *   leak_tc_new_aligned   10 x tc_new_aligned(256, 64)    10    2560
 *   leak_tc_new_aligned_nothrow 10 x (256, 64)            10    2560
 *   leak_tc_skip_new_handler 10 x tc_malloc_skip_new_handler(77)
 *                                                          10     770
 *   grow_tc <- leak_tc_realloc: start_tc's tc_realloc(NULL, 64), then
 *       grow_tc's tc_realloc to 4096, then to 20000        1   20000
 *   churn_tc: 500 x tc_malloc + tc_free, 100 x tc_malloc + tc_cfree,
 *       100 x tc_malloc + tc_free_sized, 100 x tc_new + tc_delete,
 *       100 x tc_newarray + tc_deletearray_sized, 100 x tc_new_nothrow +
 *       tc_delete_nothrow, 50 x tc_calloc + tc_deletearray, 50 x
 *       tc_memalign + tc_free, 50 x tc_new_aligned + tc_delete_aligned,
 *       50 x tc_new_aligned + tc_delete_sized_aligned, 50 x
 *       tc_new_aligned_nothrow + tc_delete_aligned_nothrow, 50 x
 *       tc_realloc(NULL, 150) + tc_free: 1300 allocations, all freed
 *   tc_newarray*, tc_cfree, tc_deletearray* are aliases (same address) of
 *   tc_new*, tc_free, tc_delete*: probed once, each call counted once.
 *   tc_posix_memalign calls tc_memalign: 10 nested calls.
 *   Totals: 291 outstanding, 103970 bytes; allocs 1593 (291 + 2 reallocs
 *   + 1300), frees 1302; nested calls 10.
 *
 *   mimalloc (--preset mimalloc)
 *   leak_mi_malloc        100 x mi_malloc(250)           100   25000
 *   leak_mi_zalloc        50 x mi_zalloc(40)              50    2000
 *   leak_mi_calloc        30 x mi_calloc(3, 70)           30    6300
 *   leak_mi_mallocn       20 x mi_mallocn(4, 25)          20    2000
 *   leak_mi_malloc_small  20 x mi_malloc_small(64)        20    1280
 *   leak_mi_zalloc_small  20 x mi_zalloc_small(32)        20     640
 *   leak_mi_malloc_aligned 10 x mi_malloc_aligned(500, 64) 10   5000
 *   leak_mi_zalloc_aligned 10 x mi_zalloc_aligned(300, 64) 10   3000
 *   leak_mi_calloc_aligned 10 x mi_calloc_aligned(2, 150, 64)
 *                                                          10    3000
 *   leak_mi_malloc_aligned_at 10 x (100, 64, 16)          10    1000
 *   leak_mi_zalloc_aligned_at 10 x (50, 64, 8)            10     500
 *   leak_mi_calloc_aligned_at 10 x (3, 20, 64, 8)         10     600
 *   leak_mi_posix_memalign 10 x mi_posix_memalign(&p, 64, 300)
 *                                                          10    3000
 *   leak_mi_new           20 x mi_new(56)                 20    1120
 *   leak_mi_new_n         10 x mi_new_n(3, 40)            10    1200
 *   leak_mi_new_nothrow   10 x mi_new_nothrow(90)         10     900
 *   leak_mi_new_aligned   10 x mi_new_aligned(200, 64)    10    2000
 *   leak_mi_new_aligned_nothrow 10 x (200, 64)            10    2000
 *   grow_mi <- leak_mi_realloc: start_mi's mi_malloc(16), then grow_mi's
 *       mi_realloc to 1000, then to 9000                   1    9000
 *   grow_mi_aligned <- leak_mi_realloc_aligned: 5 x (start_mi_aligned's
 *       mi_malloc_aligned(100, 128), then mi_realloc_aligned(p, 5000, 128))
 *                                                           5   25000
 *   grow_mi_aligned_at <- leak_mi_realloc_aligned_at: 5 x
 *       (mi_malloc_aligned_at(10, 64, 8), then mi_realloc_aligned_at(p,
 *       900, 64, 8))                                        5    4500
 *   regrow_mi <- leak_mi_rezalloc: 10 x (mi_zalloc(10), then
 *       mi_rezalloc(p, 600))                               10    6000
 *   regrow_mi_aligned <- leak_mi_rezalloc_aligned: 5 x
 *       (mi_zalloc_aligned(10, 64), then mi_rezalloc_aligned(p, 800, 64))
 *                                                           5    4000
 *   refit_mi <- leak_mi_reallocf: 10 x (mi_malloc(20), then
 *       mi_reallocf(p, 700))                               10    7000
 *   churn_mi: 1000 x mi_malloc + mi_free, 100 x mi_new + mi_free, 50 x
 *       mi_zalloc + mi_free, 50 x (mi_malloc(16), mi_new_realloc(p, 3000),
 *       mi_free): 1250 allocations, all freed
 *   Each reallocation above moves the block: 1 free + 1 alloc, and the
 *   block is recorded under the reallocating function. Nested calls: the
 *   reallocs free the old block with mi_free (2 + 5 + 5 + 10 + 5 + 10 = 37,
 *   and 50 in churn_mi's mi_new_realloc, which calls mi_realloc: 50 more),
 *   mi_posix_memalign, mi_new_aligned and mi_new_aligned_nothrow call
 *   mi_malloc_aligned (30).
 *   Totals: 406 outstanding, 116040 bytes; allocs 1693 (406 + 37 + 1250),
 *   frees 1287 (37 + 1250); nested calls 167 (37 + 50 + 50 + 30).
 *
 * Nothing frees memory allocated before attach. Optional extra work, after
 * the above, named by the arguments:
 *
 *   tail-allocs: allocation functions that end by jumping (a tail call) to
 *   another traced allocation function, with the same size or with the
 *   size rounded up to a page:
 *   leak_tc_valloc        5 x tc_valloc(100)  (jmp tc_memalign)   5   500
 *   leak_tc_pvalloc       5 x tc_pvalloc(100) (jmp tc_memalign, 4096)
 *                                                                 5   500
 *   leak_mi_memalign      10 x mi_memalign(64, 300) (jmp mi_malloc_aligned)
 *                                                                10  3000
 *   leak_mi_aligned_alloc 10 x mi_aligned_alloc(64, 300) (jmp
 *                         mi_malloc_aligned)                     10  3000
 *   leak_mi_valloc        5 x mi_valloc(300) (jmp mi_memalign, jmp
 *                         mi_malloc_aligned)                      5  1500
 *   leak_mi_pvalloc       5 x mi_pvalloc(300) (jmp mi_malloc_aligned,
 *                         4096)                                   5  1500
 *   40 more allocations, 10000 more bytes, 0 more frees.
 *
 *   free-chains: free functions that end by jumping to another traced
 *   free function: churn_mi_free_chains: 100 x mi_malloc + mi_free_size
 *   (jmp mi_free), 100 x mi_malloc_aligned + mi_free_aligned (jmp
 *   mi_free), 100 x mi_malloc_aligned + mi_free_size_aligned (jmp
 *   mi_free_size, jmp mi_free), 100 x mi_malloc + mi_cfree (jmp mi_free):
 *   400 more allocations and 400 more frees, none unknown.
 *
 *   realloc-zero: zero_realloc_tc: 10 x (start_zero_tc's tc_malloc(500),
 *   then shrink_tc's tc_realloc(p, 0), which frees p and returns NULL, as
 *   glibc's realloc does): 10 more allocations and 10 more frees.
 */
#include "target.h"

#include <string.h>

/* tcmalloc (gperftools 2.10) */
void *tc_malloc(size_t size);
void *tc_malloc_skip_new_handler(size_t size);
void *tc_calloc(size_t nmemb, size_t size);
void *tc_realloc(void *p, size_t size);
void tc_free(void *p);
void tc_cfree(void *p);
void tc_free_sized(void *p, size_t size);
void *tc_memalign(size_t align, size_t size);
int tc_posix_memalign(void **out, size_t align, size_t size);
void *tc_valloc(size_t size);
void *tc_pvalloc(size_t size);
void *tc_new(size_t size);
void *tc_newarray(size_t size);
void *tc_new_nothrow(size_t size, const void *nothrow);
void *tc_newarray_nothrow(size_t size, const void *nothrow);
void *tc_new_aligned(size_t size, size_t align);
void *tc_new_aligned_nothrow(size_t size, size_t align, const void *nothrow);
void tc_delete(void *p);
void tc_deletearray(void *p);
void tc_deletearray_sized(void *p, size_t size);
void tc_delete_nothrow(void *p, const void *nothrow);
void tc_delete_aligned(void *p, size_t align);
void tc_delete_sized_aligned(void *p, size_t size, size_t align);
void tc_delete_aligned_nothrow(void *p, size_t align, const void *nothrow);

/* mimalloc 2.0 */
void *mi_malloc(size_t size);
void *mi_zalloc(size_t size);
void *mi_calloc(size_t nmemb, size_t size);
void *mi_mallocn(size_t nmemb, size_t size);
void *mi_malloc_small(size_t size);
void *mi_zalloc_small(size_t size);
void *mi_realloc(void *p, size_t size);
void *mi_reallocf(void *p, size_t size);
void *mi_rezalloc(void *p, size_t size);
void *mi_malloc_aligned(size_t size, size_t align);
void *mi_zalloc_aligned(size_t size, size_t align);
void *mi_calloc_aligned(size_t nmemb, size_t size, size_t align);
void *mi_malloc_aligned_at(size_t size, size_t align, size_t offset);
void *mi_zalloc_aligned_at(size_t size, size_t align, size_t offset);
void *mi_calloc_aligned_at(size_t nmemb, size_t size, size_t align, size_t offset);
void *mi_realloc_aligned(void *p, size_t size, size_t align);
void *mi_realloc_aligned_at(void *p, size_t size, size_t align, size_t offset);
void *mi_rezalloc_aligned(void *p, size_t size, size_t align);
int mi_posix_memalign(void **out, size_t align, size_t size);
void *mi_memalign(size_t align, size_t size);
void *mi_aligned_alloc(size_t align, size_t size);
void *mi_valloc(size_t size);
void *mi_pvalloc(size_t size);
void *mi_new(size_t size);
void *mi_new_n(size_t nmemb, size_t size);
void *mi_new_nothrow(size_t size);
void *mi_new_aligned(size_t size, size_t align);
void *mi_new_aligned_nothrow(size_t size, size_t align);
void *mi_new_realloc(void *p, size_t size);
void mi_free(void *p);
void mi_cfree(void *p);
void mi_free_size(void *p, size_t size);
void mi_free_aligned(void *p, size_t align);
void mi_free_size_aligned(void *p, size_t size, size_t align);

/* Stands for std::nothrow, passed by reference. */
static const char nothrow_tag;
#define NOTHROW ((const void *)&nothrow_tag)

/* A run-time NULL, so that realloc(NULL, n) stays a realloc call. */
static void *volatile null_ptr;

/* glibc */

TARGET_LEAK(libc_malloc, 20, malloc(111))

__attribute__((noinline)) static void churn_libc(void)
{
	TARGET_CHURN(100, malloc(200), free(p))
}

/* tcmalloc */

TARGET_LEAK(tc_malloc, 100, tc_malloc(300))
TARGET_LEAK(tc_calloc, 40, tc_calloc(5, 60))
TARGET_LEAK(tc_memalign, 10, tc_memalign(64, 1000))
TARGET_LEAK(tc_new, 30, tc_new(48))
TARGET_LEAK(tc_newarray, 30, tc_newarray(48))
TARGET_LEAK(tc_new_nothrow, 20, tc_new_nothrow(80, NOTHROW))
TARGET_LEAK(tc_newarray_nothrow, 20, tc_newarray_nothrow(80, NOTHROW))
TARGET_LEAK(tc_new_aligned, 10, tc_new_aligned(256, 64))
TARGET_LEAK(tc_new_aligned_nothrow, 10, tc_new_aligned_nothrow(256, 64, NOTHROW))
TARGET_LEAK(tc_skip_new_handler, 10, tc_malloc_skip_new_handler(77))

__attribute__((noinline)) static void leak_tc_posix_memalign(void)
{
	for (int i = 0; i < 10; i++) {
		void *p = NULL;

		if (tc_posix_memalign(&p, 128, 2000))
			target_die("tc_posix_memalign failed");
		target_keep(p);
	}
}

__attribute__((noinline)) static void chain_tc_posix_memalign(void)
{
	leak_tc_posix_memalign();
}

__attribute__((noinline)) static void *start_tc(void)
{
	return tc_realloc(null_ptr, 64);
}

__attribute__((noinline)) static void *grow_tc(void *p, size_t size)
{
	void *q = tc_realloc(p, size);

	if (!q)
		target_die("tc_realloc failed");
	return q;
}

__attribute__((noinline)) static void leak_tc_realloc(void)
{
	void *p = start_tc();

	target_touch(p);
	p = grow_tc(p, 4096);
	p = grow_tc(p, 20000);
	target_keep(p);
}

__attribute__((noinline)) static void churn_tc(void)
{
	TARGET_CHURN(500, tc_malloc(8 + i * 13 % 700), tc_free(p))
	TARGET_CHURN(100, tc_malloc(64), tc_cfree(p))
	TARGET_CHURN(100, tc_malloc(100), tc_free_sized(p, 100))
	TARGET_CHURN(100, tc_new(32), tc_delete(p))
	TARGET_CHURN(100, tc_newarray(40), tc_deletearray_sized(p, 40))
	TARGET_CHURN(100, tc_new_nothrow(24, NOTHROW), tc_delete_nothrow(p, NOTHROW))
	TARGET_CHURN(50, tc_calloc(2, 50), tc_deletearray(p))
	TARGET_CHURN(50, tc_memalign(32, 100), tc_free(p))
	TARGET_CHURN(50, tc_new_aligned(128, 64), tc_delete_aligned(p, 64))
	TARGET_CHURN(50, tc_new_aligned(128, 64), tc_delete_sized_aligned(p, 128, 64))
	TARGET_CHURN(50, tc_new_aligned_nothrow(96, 64, NOTHROW),
	      tc_delete_aligned_nothrow(p, 64, NOTHROW))
	TARGET_CHURN(50, tc_realloc(null_ptr, 150), tc_free(p))
}

/* mimalloc */

TARGET_LEAK(mi_malloc, 100, mi_malloc(250))
TARGET_LEAK(mi_zalloc, 50, mi_zalloc(40))
TARGET_LEAK(mi_calloc, 30, mi_calloc(3, 70))
TARGET_LEAK(mi_mallocn, 20, mi_mallocn(4, 25))
TARGET_LEAK(mi_malloc_small, 20, mi_malloc_small(64))
TARGET_LEAK(mi_zalloc_small, 20, mi_zalloc_small(32))
TARGET_LEAK(mi_malloc_aligned, 10, mi_malloc_aligned(500, 64))
TARGET_LEAK(mi_zalloc_aligned, 10, mi_zalloc_aligned(300, 64))
TARGET_LEAK(mi_calloc_aligned, 10, mi_calloc_aligned(2, 150, 64))
TARGET_LEAK(mi_malloc_aligned_at, 10, mi_malloc_aligned_at(100, 64, 16))
TARGET_LEAK(mi_zalloc_aligned_at, 10, mi_zalloc_aligned_at(50, 64, 8))
TARGET_LEAK(mi_calloc_aligned_at, 10, mi_calloc_aligned_at(3, 20, 64, 8))
TARGET_LEAK(mi_new, 20, mi_new(56))
TARGET_LEAK(mi_new_n, 10, mi_new_n(3, 40))
TARGET_LEAK(mi_new_nothrow, 10, mi_new_nothrow(90))
TARGET_LEAK(mi_new_aligned, 10, mi_new_aligned(200, 64))
TARGET_LEAK(mi_new_aligned_nothrow, 10, mi_new_aligned_nothrow(200, 64))

__attribute__((noinline)) static void leak_mi_posix_memalign(void)
{
	for (int i = 0; i < 10; i++) {
		void *p = NULL;

		if (mi_posix_memalign(&p, 64, 300))
			target_die("mi_posix_memalign failed");
		target_keep(p);
	}
}

__attribute__((noinline)) static void chain_mi_posix_memalign(void)
{
	leak_mi_posix_memalign();
}

/* FIRST (the allocation) in start_NAME, then REALLOC (of p) in AGAIN,
 * COUNT times, in leak_NAME: the kept block is recorded under AGAIN. */
#define REALLOC_LEAK(name, again, count, first, realloc_call)            \
	__attribute__((noinline)) static void *start_##name(void)        \
	{                                                                \
		return first;                                            \
	}                                                                \
	__attribute__((noinline)) static void *again(void *p)            \
	{                                                                \
		void *q = realloc_call;                                  \
									 \
		if (!q)                                                  \
			target_die(#again " failed");                    \
		return q;                                                \
	}                                                                \
	__attribute__((noinline)) static void leak_##name(void)          \
	{                                                                \
		for (int i = 0; i < (count); i++) {                      \
			void *p = start_##name();                        \
									 \
			target_touch(p);                                 \
			target_keep(again(p));                           \
		}                                                        \
	}

REALLOC_LEAK(mi_realloc_aligned, grow_mi_aligned, 5, mi_malloc_aligned(100, 128),
	     mi_realloc_aligned(p, 5000, 128))
REALLOC_LEAK(mi_realloc_aligned_at, grow_mi_aligned_at, 5, mi_malloc_aligned_at(10, 64, 8),
	     mi_realloc_aligned_at(p, 900, 64, 8))
REALLOC_LEAK(mi_rezalloc, regrow_mi, 10, mi_zalloc(10), mi_rezalloc(p, 600))
REALLOC_LEAK(mi_rezalloc_aligned, regrow_mi_aligned, 5, mi_zalloc_aligned(10, 64),
	     mi_rezalloc_aligned(p, 800, 64))
REALLOC_LEAK(mi_reallocf, refit_mi, 10, mi_malloc(20), mi_reallocf(p, 700))

__attribute__((noinline)) static void *start_mi(void)
{
	return mi_malloc(16);
}

__attribute__((noinline)) static void *grow_mi(void *p, size_t size)
{
	void *q = mi_realloc(p, size);

	if (!q)
		target_die("mi_realloc failed");
	return q;
}

__attribute__((noinline)) static void leak_mi_realloc(void)
{
	void *p = start_mi();

	target_touch(p);
	p = grow_mi(p, 1000);
	p = grow_mi(p, 9000);
	target_keep(p);
}

__attribute__((noinline)) static void churn_mi(void)
{
	TARGET_CHURN(1000, mi_malloc(8 + i * 13 % 1500), mi_free(p))
	TARGET_CHURN(100, mi_new(72), mi_free(p))
	TARGET_CHURN(50, mi_zalloc(33), mi_free(p))
	for (int i = 0; i < 50; i++) {
		void *p = mi_malloc(16);

		target_touch(p);
		p = mi_new_realloc(p, 3000);
		target_touch(p);
		mi_free(p);
	}
}

/* tail-allocs */

TARGET_LEAK(tc_valloc, 5, tc_valloc(100))
TARGET_LEAK(tc_pvalloc, 5, tc_pvalloc(100))
TARGET_LEAK(mi_memalign, 10, mi_memalign(64, 300))
TARGET_LEAK(mi_aligned_alloc, 10, mi_aligned_alloc(64, 300))
TARGET_LEAK(mi_valloc, 5, mi_valloc(300))
TARGET_LEAK(mi_pvalloc, 5, mi_pvalloc(300))

__attribute__((noinline)) static void tail_allocs(void)
{
	chain_tc_valloc();
	chain_tc_pvalloc();
	chain_mi_memalign();
	chain_mi_aligned_alloc();
	chain_mi_valloc();
	chain_mi_pvalloc();
}

/* free-chains */

__attribute__((noinline)) static void churn_mi_free_chains(void)
{
	TARGET_CHURN(100, mi_malloc(100), mi_free_size(p, 100))
	TARGET_CHURN(100, mi_malloc_aligned(64, 64), mi_free_aligned(p, 64))
	TARGET_CHURN(100, mi_malloc_aligned(64, 64), mi_free_size_aligned(p, 64, 64))
	TARGET_CHURN(100, mi_malloc(24), mi_cfree(p))
}

/* realloc-zero */

__attribute__((noinline)) static void *start_zero_tc(void)
{
	return tc_malloc(500);
}

__attribute__((noinline)) static void shrink_tc(void *p)
{
	if (tc_realloc(p, 0))
		target_die("tc_realloc(p, 0) did not free p");
}

__attribute__((noinline)) static void zero_realloc_tc(void)
{
	for (int i = 0; i < 10; i++) {
		void *p = start_zero_tc();

		target_touch(p);
		shrink_tc(p);
	}
}

static int asked(int argc, char **argv, const char *mode)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], mode))
			return 1;
	return 0;
}

__attribute__((noinline)) static void run_leaks(int argc, char **argv)
{
	chain_libc_malloc();
	churn_libc();

	chain_tc_malloc();
	chain_tc_calloc();
	chain_tc_memalign();
	chain_tc_posix_memalign();
	chain_tc_new();
	chain_tc_newarray();
	chain_tc_new_nothrow();
	chain_tc_newarray_nothrow();
	chain_tc_new_aligned();
	chain_tc_new_aligned_nothrow();
	chain_tc_skip_new_handler();
	leak_tc_realloc();
	churn_tc();

	chain_mi_malloc();
	chain_mi_zalloc();
	chain_mi_calloc();
	chain_mi_mallocn();
	chain_mi_malloc_small();
	chain_mi_zalloc_small();
	chain_mi_malloc_aligned();
	chain_mi_zalloc_aligned();
	chain_mi_calloc_aligned();
	chain_mi_malloc_aligned_at();
	chain_mi_zalloc_aligned_at();
	chain_mi_calloc_aligned_at();
	chain_mi_posix_memalign();
	chain_mi_new();
	chain_mi_new_n();
	chain_mi_new_nothrow();
	chain_mi_new_aligned();
	chain_mi_new_aligned_nothrow();
	leak_mi_realloc();
	leak_mi_realloc_aligned();
	leak_mi_realloc_aligned_at();
	leak_mi_rezalloc();
	leak_mi_rezalloc_aligned();
	leak_mi_reallocf();
	churn_mi();

	if (asked(argc, argv, "tail-allocs"))
		tail_allocs();
	if (asked(argc, argv, "free-chains"))
		churn_mi_free_chains();
	if (asked(argc, argv, "realloc-zero"))
		zero_realloc_tc();
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "tail-allocs") && strcmp(argv[i], "free-chains") &&
		    strcmp(argv[i], "realloc-zero"))
			target_die("usage: direct_allocators [tail-allocs] [free-chains] "
				   "[realloc-zero]");
	tc_free(tc_malloc(1));
	mi_free(mi_malloc(1));
	free(malloc(1));
	target_ready();
	target_wait_start();
	run_leaks(argc, argv);
	target_done();
	target_idle();
	return 0;
}
