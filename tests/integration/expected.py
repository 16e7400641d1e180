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
