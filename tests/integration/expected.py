"""expected.py - the exact numbers each target produces after SIGUSR1, as
documented at the top of its source in tests/targets/. A Leak is one stack
with outstanding bytes: frames[0] is function, frames[1] is caller."""

from collections import namedtuple

Leak = namedtuple("Leak", "function caller allocs bytes")

LEAKS = [
    Leak("leak_malloc", "chain_malloc", 100, 100 * 1000),
    Leak("leak_calloc", "chain_calloc", 50, 50 * 10 * 24),
    Leak("grow_buffer", "leak_realloc", 1, 100000),
    Leak("leak_posix_memalign", "chain_posix_memalign", 20, 20 * 3000),
    Leak("leak_aligned_alloc", "chain_aligned_alloc", 30, 30 * 512),
    Leak("leak_realloc_null", "chain_realloc_null", 40, 40 * 200),
    Leak("leak_reallocarray", "chain_reallocarray", 25, 25 * 8 * 100),
    Leak("leak_mmapped", "chain_mmapped", 3, 3 * (1 << 20)),
    Leak("leak_failed_realloc", "chain_failed_realloc", 4, 4 * 1234),
    Leak("bounded_cache", "chain_cache", 8, 8 * 256),
]
# The target's first allocations after SIGUSR1.
LEAK_MALLOC = LEAKS[0]
# allocs: the leaks' own 100 + 50 + 20 + 30 + 40 + 25 + 3 + 4 (the nested
# calls inside realloc(NULL, n) and reallocarray count once; failed calls,
# the 4 realloc(p, 2^62) included, count neither as allocs nor as frees);
# the realloc chain's malloc and its 3 reallocs (each realloc is 1 free +
# 1 alloc); the cache's 8 + 1000; the churn's 10000; the 10 malloc(500)
# freed by realloc(p, 0).
# frees: 3 (reallocs) + 1000 (cache) + 10000 (churn) + 10 (realloc(p, 0))
# + 5 (early pointers, allocated before attach, hence also unknown_frees).
# outstanding_allocs = allocs - (frees - unknown_frees) = 11294 - 11013.
LEAKS_TOTALS = {
    "outstanding_allocs": 281,
    "outstanding_bytes": sum(l.bytes for l in LEAKS),
    "allocs": 100 + 50 + 20 + 30 + 40 + 25 + 3 + 4 + (1 + 3) + (8 + 1000)
              + 10000 + 10,
    "frees": 3 + 1000 + 10000 + 10 + 5,
    "unknown_frees": 5,
}
# Functions that allocate after SIGUSR1 but free everything.
LEAKS_ALL_FREED = ["churn_all_freed", "alloc_for_realloc_free",
                   "start_buffer", "failed_allocations"]

THREAD_LEAK = Leak("thread_leak", "thread_main", 4 * 1000, 4 * 1000 * 128)
THREADS_TOTALS = {
    "outstanding_allocs": 4000,
    "outstanding_bytes": 512000,
    "allocs": 4 * (1000 + 2000 + 500),
    "frees": 4 * (2000 + 500),
    "unknown_frees": 0,
}

JEMALLOC_LEAKS = [
    Leak("leak_je_malloc", "chain_je_malloc", 200, 200 * 512),
    Leak("leak_mallocx", "chain_mallocx", 100, 100 * 2000),
    Leak("grow_rallocx", "leak_rallocx", 10, 10 * 5000),
]
# rallocx, like realloc, counts 1 free + 1 alloc.
JEMALLOC_TOTALS = {
    "outstanding_allocs": 310,
    "outstanding_bytes": 352400,
    "allocs": 200 + 100 + (10 + 10) + 1000 + 1000 + 500,
    "frees": 10 + 1000 + 1000 + 500,
    "unknown_frees": 0,
}

PRELOAD_LEAKS = [
    Leak("leak_preload_malloc", "chain_preload_malloc", 150, 150 * 700),
    Leak("leak_preload_calloc", "chain_preload_calloc", 60, 60 * 4 * 100),
    Leak("grow_preload", "leak_preload_realloc", 1, 65536),
]
PRELOAD_TOTALS = {
    "outstanding_allocs": 211,
    "outstanding_bytes": 194536,
    "allocs": 150 + 60 + (1 + 2) + 5000,
    "frees": 2 + 5000,
    "unknown_frees": 0,
}

STATIC_LEAKS = [
    Leak("leak_static_malloc", "chain_static_malloc", 64, 64 * 2048),
    Leak("leak_static_calloc", "chain_static_calloc", 32, 32 * 8 * 64),
]
STATIC_TOTALS = {
    "outstanding_allocs": 96,
    "outstanding_bytes": 147456,
    "allocs": 64 + 32 + 1000,
    "frees": 1000,
    "unknown_frees": 0,
}

FORKS_LEAK = Leak("parent_leak", "chain_parent", 20, 20 * 333)
FORKS_TOTALS = {
    "outstanding_allocs": 20,
    "outstanding_bytes": 6660,
    "allocs": 20,
    "frees": 0,
    "unknown_frees": 0,
}

MANY_STACKS_DEPTH = 11
MANY_STACKS = 1 << MANY_STACKS_DEPTH
MANY_STACKS_TOTALS = {
    "outstanding_allocs": MANY_STACKS,
    "outstanding_bytes": sum(16 + path for path in range(MANY_STACKS)),
    "allocs": MANY_STACKS,
    "frees": 0,
    "unknown_frees": 0,
}

EXIT_LEAK = Leak("leak_before_exit", "chain_exit", 10, 10 * 5000)
# exit() may free glibc's own blocks, allocated before attach: frees and
# unknown_frees are left out.
EXIT_TOTALS = {
    "outstanding_allocs": 10,
    "outstanding_bytes": 50000,
    "allocs": 10,
}

# arena_leaks: the target's own context allocator, traced with these specs
# (the arena headers are malloc'd; malloc is traced as usual).
ARENA_SPECS = [
    "--alloc", "arena_alloc:ctx=1,size=2",
    "--alloc", "arena_alloc_zero:ctx=1,size=2",
    "--alloc", "arena_calloc:ctx=1,nmemb=2,size=3",
    "--alloc", "arena_memalign:out=1,ctx=2,size=4",
    "--alloc", "current_alloc:size=1,ctx=@current_arena",
    "--realloc", "arena_realloc:ptr=1,size=2",
    "--free", "arena_free",
    "--reset", "arena_reset:ctx=1",
    "--reset", "arena_destroy:ctx=1",
]
# 10 stacks, as many as the default --top shows: pass -n 20 so that a stray
# stack shows too.
ARENA_LEAKS = [
    Leak("leak_arena_alloc", "chain_arena_alloc", 50, 50 * 72),
    Leak("leak_arena_zero", "chain_arena_zero", 40, 40 * 136),
    Leak("leak_arena_calloc", "chain_arena_calloc", 30, 30 * 7 * 20),
    Leak("leak_arena_memalign", "chain_arena_memalign", 20, 20 * 200),
    Leak("leak_current", "chain_current", 25, 25 * 88),
    Leak("grow_arena_buffer", "leak_arena_realloc", 1, 6000),
    Leak("leak_arena_big", "chain_arena_big", 6, 6 * 3000),
    Leak("leak_pending_request", "serve_requests", 3, 3 * 616),
    Leak("shallow_arena_leak", "escape_then_shallow", 10, 10 * 264),
    Leak("deep_arena_leak", "deep_arena", 20, 20 * 392),
]
# Functions that allocate after SIGUSR1 (arena_create: the 25 headers of
# arenas made then) but hold nothing at the end, or whose call never returns
# (escape_from_arena) or fails (failed_arena_allocs).
ARENA_ALL_FREED = ["fill_request", "request_current", "request_realloc",
                   "request_children", "scratch_arenas", "churn_arena",
                   "arena_create", "start_arena_buffer", "escape_from_arena",
                   "failed_arena_allocs"]
ARENA_TOTALS = {
    "outstanding_allocs": 205,
    "outstanding_bytes": sum(l.bytes for l in ARENA_LEAKS),  # 55768
}
# Raw calls after SIGUSR1 (measured with -finstrument-functions):
# - successful outermost custom allocations, 3390 in all:
#   arena_alloc 2335 = 50 + 1 (start_arena_buffer) + 6 + 3 + 10 + 20
#     (leaks) + 100 x (8 + 1 + 1) (requests) + 10 x 9 (children)
#     + 5 x 31 (scratch) + 1000 (churn);
#   arena_alloc_zero 240 = 40 + 100 x 2; arena_calloc 70 = 30 + 10 x 4;
#   arena_memalign 220 = 20 + 100 x 2; current_alloc 525 = 25 + 100 x 5.
# - failed: 2 x arena_memalign (EINVAL, *out untouched), 2 x arena_calloc
#   (NULL, before any nested call). Abandoned: 2 x arena_alloc(54321),
#   left by longjmp, never returning.
# - arena_realloc 103 (3 + 100), each into a new chunk: 1 free + 1 alloc.
# - arena_free 1000 (churn).
# - resets: arena_reset 100 (outermost), arena_destroy 25 = 5 outermost
#   (scratch) + 20 nested (10 children inside arena_reset, 10 grandchildren
#   inside the children's arena_destroy). They release 2185 allocations:
#   100 x 19 by arena_reset itself, 10 x (9 + 4) by the nested destroys,
#   5 x 31 by the scratch destroys.
# - nested custom calls, 925: arena_alloc 835 (240 in arena_alloc_zero
#   outermost, 70 in arena_calloc's arena_alloc_zero, 525 in current_alloc),
#   arena_alloc_zero 70 (in arena_calloc), arena_destroy 20.
# - inside traced calls: malloc 566 (131 blocks of 8192 bytes, 435 big
#   chunks: 7 in "long", 100 request, 10 child, 5 scratch, 313 churn), never
#   tracked; free 578 = 553 of those (313 in arena_free, 240 in arena_reset
#   and arena_destroy) + 25 arena headers in arena_destroy (tracked).
# - outside traced calls: malloc 25 (arena headers: 20 arena_create <-
#   arena_create_child, 5 arena_create <- scratch_arenas), free 0.
# So: allocs 3390 + 103 + 25 = 3518; released 1000 (arena_free) + 103
# (realloc) + 2185 (resets) + 25 (headers) = 3313; 3518 - 3313 = 205.
