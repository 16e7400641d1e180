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

EXEC_LEAK = Leak("leak_before_exec", "chain_before_exec", 10, 10 * 3000)
# The old program's calls only: 10 leaked, 100 churned.
EXEC_TOTALS = {
    "outstanding_allocs": 10,
    "outstanding_bytes": 30000,
    "allocs": 110,
    "frees": 100,
    "unknown_frees": 0,
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


def outstanding(leaks, **counts):
    """Totals: the outstanding figures summed over leaks, and counts."""
    return dict(outstanding_allocs=sum(l.allocs for l in leaks),
                outstanding_bytes=sum(l.bytes for l in leaks), **counts)


# apr_pools: Debian's libapr-1 traced with --preset apr. Per handle_request:
# 32 apr_palloc/apr_pcalloc calls (2 of them the apr_pcalloc function,
# whose apr_palloc is nested), 4 pools created (the request, its two
# children, a grandchild), 5 resets (apr_pool_clear of the request, the
# apr_pool_destroy of its child inside it, apr_pool_destroy of the request
# and, inside it, of its second child and of that child's child): the
# request pool is freed, the 3 others released by their parent's clear or
# destroy. APR maps its blocks: no malloc or free after SIGUSR1. The pools
# are allocations of 0 bytes; two are never destroyed.
APR_LEAKS = [
    Leak("leak_palloc", "chain_palloc", 100, 100 * 1000),
    Leak("leak_pcalloc_macro", "chain_pcalloc_macro", 50, 50 * 24),
    Leak("leak_pcalloc", "chain_pcalloc", 40, 40 * 72),
    Leak("leak_in_subpool", "chain_subpool", 30, 30 * 200),
    Leak("leak_pending_request", "serve_pending", 3, 3 * 616),
    Leak("chain_subpool", "run_leaks", 1, 0),
    Leak("serve_pending", "run_leaks", 1, 0),
]
APR_REQUESTS = 100
APR_TOTALS = outstanding(
    APR_LEAKS,
    # leaks, requests, scratch clears, scratch subpools, pending request;
    # pools: the leaked subpool, the requests', the scratch subpools, the
    # pending request
    allocs=(100 + 50 + 40 + 30) + APR_REQUESTS * 32 + 50 * 8 + 20 * 10
           + (5 + 3) + (1 + APR_REQUESTS * 4 + 20 + 1),
    frees=APR_REQUESTS + 20,
    unknown_frees=0,
    failed_allocs=0,
    replaced_allocs=0,
    nested_calls=40 + APR_REQUESTS * 2,
    resets=APR_REQUESTS * 5 + 50 + 20 + 1,
    reset_frees=APR_REQUESTS * 32 + 50 * 8 + 20 * 10 + 5 + APR_REQUESTS * 3,
    dropped_resets=0,
)

# direct_allocators: glibc provides malloc; tcmalloc's and mimalloc's own
# functions are called by name. One group per allocator: its leaks, and the
# allocs, frees and nested calls it adds to the totals.
Group = namedtuple("Group", "leaks allocs frees nested_calls")


def _leak(name, allocs, size):
    return Leak("leak_" + name, "chain_" + name, allocs, allocs * size)


DIRECT_LIBC = Group([_leak("libc_malloc", 20, 111)], 20 + 100, 100, 0)
_TC_LEAKS = [
    _leak("tc_malloc", 100, 300),
    _leak("tc_calloc", 40, 5 * 60),
    _leak("tc_memalign", 10, 1000),
    _leak("tc_posix_memalign", 10, 2000),
    _leak("tc_new", 30, 48),
    _leak("tc_newarray", 30, 48),
    _leak("tc_new_nothrow", 20, 80),
    _leak("tc_newarray_nothrow", 20, 80),
    _leak("tc_new_aligned", 10, 256),
    _leak("tc_new_aligned_nothrow", 10, 256),
    _leak("tc_skip_new_handler", 10, 77),
    Leak("grow_tc", "leak_tc_realloc", 1, 20000),
]
# 2 reallocs (1 free + 1 alloc each) and 1300 churned allocations;
# tc_posix_memalign calls tc_memalign.
DIRECT_TCMALLOC = Group(_TC_LEAKS, sum(l.allocs for l in _TC_LEAKS) + 2 + 1300,
                        2 + 1300, 10)
_MI_LEAKS = [
    _leak("mi_malloc", 100, 250),
    _leak("mi_zalloc", 50, 40),
    _leak("mi_calloc", 30, 3 * 70),
    _leak("mi_mallocn", 20, 4 * 25),
    _leak("mi_malloc_small", 20, 64),
    _leak("mi_zalloc_small", 20, 32),
    _leak("mi_malloc_aligned", 10, 500),
    _leak("mi_zalloc_aligned", 10, 300),
    _leak("mi_calloc_aligned", 10, 2 * 150),
    _leak("mi_malloc_aligned_at", 10, 100),
    _leak("mi_zalloc_aligned_at", 10, 50),
    _leak("mi_calloc_aligned_at", 10, 3 * 20),
    _leak("mi_posix_memalign", 10, 300),
    _leak("mi_new", 20, 56),
    _leak("mi_new_n", 10, 3 * 40),
    _leak("mi_new_nothrow", 10, 90),
    _leak("mi_new_aligned", 10, 200),
    _leak("mi_new_aligned_nothrow", 10, 200),
    Leak("grow_mi", "leak_mi_realloc", 1, 9000),
    Leak("grow_mi_aligned", "leak_mi_realloc_aligned", 5, 5 * 5000),
    Leak("grow_mi_aligned_at", "leak_mi_realloc_aligned_at", 5, 5 * 900),
    Leak("regrow_mi", "leak_mi_rezalloc", 10, 10 * 600),
    Leak("regrow_mi_aligned", "leak_mi_rezalloc_aligned", 5, 5 * 800),
    Leak("refit_mi", "leak_mi_reallocf", 10, 10 * 700),
]
# 37 reallocs (2 + 5 + 5 + 10 + 5 + 10), each freeing the old block with a
# nested mi_free; 1250 churned allocations, 50 of them by mi_new_realloc,
# whose mi_realloc and that mi_realloc's mi_free are nested; 30 calls of
# mi_malloc_aligned nested in mi_posix_memalign, mi_new_aligned and
# mi_new_aligned_nothrow.
DIRECT_MIMALLOC = Group(_MI_LEAKS, sum(l.allocs for l in _MI_LEAKS) + 37 + 1250,
                        37 + 1250, 37 + 50 + 50 + 30)
# Extra work, asked for by the target's arguments (see direct_allocators.c).
# tail-allocs: functions that jump to another traced allocation function.
# The size is the one the program asked for; the jumped-to function is a
# nested call (mi_valloc jumps twice).
DIRECT_TC_TAIL_ALLOCS = Group([
    _leak("tc_valloc", 5, 100),
    _leak("tc_pvalloc", 5, 100),
], 10, 0, 5 + 5)
DIRECT_MI_TAIL_ALLOCS = Group([
    _leak("mi_memalign", 10, 300),
    _leak("mi_aligned_alloc", 10, 300),
    _leak("mi_valloc", 5, 300),
    _leak("mi_pvalloc", 5, 300),
], 30, 0, 10 + 10 + 2 * 5 + 5)
# free-chains: free functions that jump to another traced free function:
# each free counted once (mi_free_size_aligned jumps twice).
DIRECT_FREE_CHAINS = Group([], 400, 400, 100 + 100 + 2 * 100 + 100)
# realloc-zero: tc_realloc(p, 0) frees p.
DIRECT_REALLOC_ZERO = Group([], 10, 10, None)


def direct_totals(*groups):
    """Totals of direct_allocators traced with these groups."""
    leaks = [l for g in groups for l in g.leaks]
    counts = dict(allocs=sum(g.allocs for g in groups),
                  frees=sum(g.frees for g in groups), unknown_frees=0,
                  failed_allocs=0, replaced_allocs=0)
    if all(g.nested_calls is not None for g in groups):
        counts["nested_calls"] = sum(g.nested_calls for g in groups)
    return outstanding(leaks, **counts)


# prefixed_jemalloc: Debian's jemalloc archive with its API renamed _rjem_*,
# linked into an executable that keeps glibc's malloc.
PREFIXED_LIBC_LEAKS = [_leak("libc_malloc", 10, 123)]
PREFIXED_LIBC_TOTALS = outstanding(PREFIXED_LIBC_LEAKS, allocs=10 + 100,
                                   frees=100, unknown_frees=0)
PREFIXED_JEMALLOC_LEAKS = [
    _leak("rjem_malloc", 100, 512),
    _leak("rjem_calloc", 50, 8 * 33),
    _leak("rjem_mallocx", 40, 2000),
    _leak("rjem_mallocx_flags", 10, 100),
    _leak("rjem_posix_memalign", 10, 3000),
    _leak("rjem_aligned_alloc", 10, 512),
    _leak("rjem_memalign", 10, 700),
    _leak("rjem_valloc", 5, 100),
    Leak("grow_rjem", "leak_rjem_realloc", 1, 65536),
    Leak("grow_rallocx", "leak_rjem_rallocx", 10, 10 * 5000),
]
# glibc's, then jemalloc's: 12 reallocs (2 realloc, 10 rallocx), 1300
# churned allocations. No _rjem_ function calls another.
PREFIXED_JEMALLOC_TOTALS = outstanding(
    PREFIXED_LIBC_LEAKS + PREFIXED_JEMALLOC_LEAKS,
    allocs=110 + sum(l.allocs for l in PREFIXED_JEMALLOC_LEAKS) + 12 + 1300,
    frees=100 + 12 + 1300, unknown_frees=0, failed_allocs=0,
    replaced_allocs=0, nested_calls=0)

# Unwinding without frame pointers: targets tests/targets/unwind_*
# and tests/targets/libs/. frames: the names of the stack from frames[0] to
# main, exactly (for unwind_cxx, the application's part: the frames before
# it are libstdc++'s, frames[0] being operator new, _Znwm).
UnwindLeak = namedtuple("UnwindLeak", "frames allocs bytes")

UNWIND_DEEP_LEVELS = [f"level{n}" for n in range(8, 0, -1)]
UNWIND_DEEP_SIZE = 4321
UNWIND_DEEP = UnwindLeak(UNWIND_DEEP_LEVELS + ["run_deep", "main"],
                         50, 50 * UNWIND_DEEP_SIZE)
UNWIND_DEEP_TOTALS = outstanding([UNWIND_DEEP], allocs=50, frees=0,
                                 unknown_frees=0)

UNWIND_CXX_LEAKS = [
    UnwindLeak(["make_widget", "leak_widgets", "run_cxx", "main"],
               40, 40 * 96),
    UnwindLeak(["reserve_strings", "run_cxx", "main"], 30, 30 * 1001),
    UnwindLeak(["grow_strings", "run_cxx", "main"], 20, 20 * 1921),
]
# The block size each leak's first allocation asks for (the first growth of
# a grown string asks for 31 bytes, its last for 1921).
UNWIND_CXX_SIZES = {"make_widget": 96, "reserve_strings": 1001,
                    "grow_strings": 1921}
# 20 strings x 7 allocations, 6 of them freed by the next growth.
UNWIND_CXX_TOTALS = outstanding(UNWIND_CXX_LEAKS, allocs=40 + 30 + 20 * 7,
                                frees=20 * 6, unknown_frees=0)

UNWIND_MIXED_LEAKS = [
    UnwindLeak(["lib_alloc", "lib_inner", "lib_middle", "lib_leak",
                "app_into_lib", "run_mixed", "main"], 40, 40 * 3003),
    UnwindLeak(["app_alloc", "lib_cb_inner", "lib_cb_middle", "lib_callback",
                "app_into_callback", "run_mixed", "main"], 30, 30 * 2002),
]
UNWIND_MIXED_SIZES = {"lib_alloc": 3003, "app_alloc": 2002}
# The functions of libunwind_lib.so, which has no frame pointers.
UNWIND_LIB_FUNCTIONS = {"lib_alloc", "lib_inner", "lib_middle", "lib_leak",
                        "lib_cb_inner", "lib_cb_middle", "lib_callback"}
UNWIND_MIXED_TOTALS = outstanding(UNWIND_MIXED_LEAKS, allocs=70, frees=0,
                                  unknown_frees=0)

# dlopen()'s own allocations are not counted: glibc decides them.
UNWIND_PLUGIN_LEAK = UnwindLeak(
    ["plugin_alloc", "plugin_step3", "plugin_step2", "plugin_step1",
     "plugin_leak", "call_plugin", "run_plugin", "main"], 25, 25 * 5005)

# One FDE of 240,000 rows (tests/targets/unwind_pushpop.c).
UNWIND_PUSHPOP = UnwindLeak(["pushpop_alloc", "pushpop", "run_pushpop", "main"],
                            10, 10 * 6006)
UNWIND_PUSHPOP_TOTALS = outstanding([UNWIND_PUSHPOP], allocs=10, frees=0,
                                    unknown_frees=0)

# Over 2^24 rows in one table (tests/targets/unwind_wide.c).
UNWIND_WIDE = UnwindLeak(["wide_alloc", "wide", "call_wide", "run_wide",
                          "main"], 12, 12 * 7007)
UNWIND_WIDE_TOTALS = outstanding([UNWIND_WIDE], allocs=12, frees=0,
                                 unknown_frees=0)

# Plugins loaded and unloaded in turn (tests/targets/unwind_dlclose.c);
# dlopen's and dlclose's own allocations are glibc's.
UNWIND_ROWS_PLUGIN_LEAK = UnwindLeak(
    ["rows_plugin_alloc", "rows_plugin_leak", "call_plugin", "run_plugins",
     "main"], 20, 20 * 9009)

# Only the handler's part of the stack is certain: signal_leak <- on_sigusr2.
UNWIND_SIGNAL = UnwindLeak(["signal_leak", "on_sigusr2"], 20, 20 * 1717)
# Below the signal frame, the program's frames the signal interrupted.
UNWIND_SIGNAL_INTERRUPTED = ["send_signal", "run_signals", "main"]
UNWIND_SIGNAL_TOTALS = outstanding([UNWIND_SIGNAL], allocs=20, frees=0,
                                   unknown_frees=0)

# A SIGSEGV that interrupts getppid's PLT stub (tests/targets/unwind_plt.c):
# the handler's frames, the signal frame in libc, the stub, its callers.
UNWIND_PLT = UnwindLeak(["plt_leak", "on_sigsegv"], 15, 15 * 2323)
UNWIND_PLT_STUB = "getppid@plt"
UNWIND_PLT_INTERRUPTED = ["call_through_plt", "run_plt", "main"]
UNWIND_PLT_TOTALS = outstanding([UNWIND_PLT], allocs=15, frees=0,
                                unknown_frees=0)

# trends: three sites with different histories over 16 phases of 0.5 s.
TRENDS_LEAKS = {
    "suspect": [Leak("leak_site", "run_phases", 64, 64 * 1000)],
    "steady": [Leak("cache_site", "run_phases", 40, 40 * 500),
               Leak("churn_site", "run_phases", 8, 8 * 300)],
}
# What leak_site adds per phase: each report's growth is a multiple of it.
TRENDS_LEAK_PER_PHASE = 4 * 1000
TRENDS_TOTALS = outstanding(TRENDS_LEAKS["suspect"] + TRENDS_LEAKS["steady"],
                            allocs=64 + 40 + 16 * 200, frees=16 * 200 - 8)

# rss_growth: 64 MiB more anonymous memory with no traced leak; traced
# outstanding is nothing (mmap) or 256 blocks of 4096 (fragment).
RSS_GROWTH_BYTES = 64 << 20
RSS_GROWTH_TRACED = {"mmap": (0, 0), "fragment": (256, 256 * 4096)}

# symbols_cxx and symbols_rust (tests/targets/symbols_*): each leak's
# function (the first frame of the target's own code, demangled), the
# "LINE:" mark of the line that frame must show, its allocs and bytes.
SymbolLeak = namedtuple("SymbolLeak", "function mark allocs bytes")
SYMBOLS_CXX_LEAKS = [
    SymbolLeak("ns::Registry<int>::add(int)", "registry_new", 25, 25 * 56),
    SymbolLeak("ns::Shape::clone() const", "shape_clone", 30, 30 * 72),
    SymbolLeak("double* ns::make_array<double, 24u>()", "make_array_new", 20,
               20 * 192),
    SymbolLeak("ns::Pool::fill(unsigned long)", "fill_calls_grab", 15,
               15 * 333),
    SymbolLeak("ns::Journal::write(int)", "journal_append", 12, 12 * 961),
    SymbolLeak("ns::Series::record(int)", "series_push", 10, 10 * 1024),
]
# 12 strings x 6 allocations and 10 vectors x 8, all but the last freed.
SYMBOLS_CXX_TOTALS = outstanding(SYMBOLS_CXX_LEAKS,
                                 allocs=25 + 30 + 20 + 15 + 72 + 80,
                                 frees=60 + 70, unknown_frees=0)
SYMBOLS_CXX_POOL_SIZE = 333
# The same leaks in both builds; a generic function's name is the one thing
# the manglings tell apart (legacy names no type arguments).
SYMBOLS_RUST_LEAKS = {
    "legacy": [
        SymbolLeak("symbols_rust::make_widget", "widget_box", 40, 40 * 88),
        SymbolLeak("symbols_rust::leak_boxed", "boxed_box", 30, 30 * 152),
        SymbolLeak("symbols_rust::grow_samples", "samples_push", 12,
                   12 * 1024),
    ],
    "v0": [
        SymbolLeak("symbols_rust::make_widget", "widget_box", 40, 40 * 88),
        SymbolLeak("symbols_rust::leak_boxed::<symbols_rust::Gadget>",
                   "boxed_box", 30, 30 * 152),
        SymbolLeak("symbols_rust::grow_samples", "samples_push", 12,
                   12 * 1024),
    ],
}
# malloc(32), then 5 reallocs per vector, each retiring the block before.
SYMBOLS_RUST_TOTALS = outstanding(SYMBOLS_RUST_LEAKS["v0"],
                                  allocs=40 + 30 + 12 * 6, frees=12 * 5,
                                  unknown_frees=0)

# seccomp_confined: the same work in every mode.
SECCOMP_LEAKS = [
    Leak("leak_confined", "chain_confined", 100, 100 * 200),
    Leak("grow_confined", "chain_confined", 1, 300),
]
# realloc counts 1 free + 1 alloc.
SECCOMP_TOTALS = {
    "outstanding_allocs": 101,
    "outstanding_bytes": 100 * 200 + 300,
    "allocs": 1000 + 100 + 2,
    "frees": 1000 + 1,
    "unknown_frees": 0,
}

# run_leaks, started by memleakd -- COMMAND: 12 x malloc(4000) kept, 50 x
# malloc(700) freed; with "clean", the 12 freed too.
RUN_LEAK = Leak("leak_on_run", "chain_run", 12, 12 * 4000)
RUN_TOTALS = {"outstanding_bytes": 48000, "outstanding_allocs": 12,
              "allocs": 62, "frees": 50, "unknown_frees": 0}
RUN_CLEAN_TOTALS = {"outstanding_bytes": 0, "outstanding_allocs": 0,
                    "allocs": 62, "frees": 62, "unknown_frees": 0}
