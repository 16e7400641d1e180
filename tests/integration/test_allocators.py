"""test_allocators.py - the allocator the process really uses is traced:
glibc's malloc from several threads, glibc linked statically, jemalloc
linked in (with its own mallocx/dallocx/sdallocx API), tcmalloc and
mimalloc through LD_PRELOAD."""

from expected import (JEMALLOC_LEAKS, JEMALLOC_TOTALS, PRELOAD_LEAKS,
                      PRELOAD_TOTALS, STATIC_LEAKS, STATIC_TOTALS,
                      THREAD_LEAK, THREADS_TOTALS)
from harness import MIMALLOC, TCMALLOC, Session, expect_stacks, \
    expect_totals, trace


def test_threads():
    """4 threads leaking 1000 x malloc(128) each while churning: one stack,
    thread_leak <- thread_main, with all 4000 allocations."""
    with Session() as s:
        _, _, report = trace(s, "threads")
        expect_stacks(report, [THREAD_LEAK], main=False)
        expect_totals(report, THREADS_TOTALS)


def test_static_glibc():
    """malloc and calloc inside a statically linked executable."""
    with Session() as s:
        _, _, report = trace(s, "static_leaks")
        expect_stacks(report, STATIC_LEAKS)
        expect_totals(report, STATIC_TOTALS)


def test_jemalloc_linked():
    """A program linked with -ljemalloc: memleakd says it traces
    libjemalloc.so.2, and catches malloc and mallocx leaks while the
    dallocx/sdallocx/free churn leaves nothing."""
    with Session() as s:
        _, daemon, report = trace(s, "jemalloc_leaks")
        assert "libjemalloc.so.2" in daemon.stderr.text(), \
            f"memleakd does not name libjemalloc.so.2:\n{daemon.describe()}"
        expect_stacks(report, JEMALLOC_LEAKS)
        expect_totals(report, JEMALLOC_TOTALS)


def check_preloaded(library):
    with Session() as s:
        _, daemon, report = trace(s, "preload_leaks", preload=library)
        assert library.name in daemon.stderr.text(), \
            f"memleakd does not name {library.name}:\n{daemon.describe()}"
        expect_stacks(report, PRELOAD_LEAKS)
        expect_totals(report, PRELOAD_TOTALS)


def test_tcmalloc_preloaded():
    """LD_PRELOAD=libtcmalloc_minimal.so.4: its malloc family is traced."""
    check_preloaded(TCMALLOC)


def test_mimalloc_preloaded():
    """LD_PRELOAD=libmimalloc.so.2: its malloc family is traced."""
    check_preloaded(MIMALLOC)
