"""test_allocators.py - the allocator the process really uses is traced,
in all its threads and only in that process: glibc's malloc from several
threads, a forked child (not traced), glibc linked statically, jemalloc
linked in (with its own mallocx/dallocx/sdallocx API) or statically into the
executable, tcmalloc and mimalloc through LD_PRELOAD (also once deleted
from disk)."""

import shutil

from expected import (FORKS_LEAK, FORKS_TOTALS, JEMALLOC_LEAKS,
                      JEMALLOC_TOTALS, PRELOAD_LEAKS, PRELOAD_TOTALS,
                      STATIC_LEAKS, STATIC_TOTALS, THREAD_LEAK,
                      THREADS_TOTALS)
from harness import (JEMALLOC_PIC, MIMALLOC, TARGET_CFLAGS, TARGET_SOURCES,
                     TCMALLOC, Session, expect_stacks, expect_totals, trace,
                     trace_started)


def test_threads():
    """4 threads leaking 1000 x malloc(128) each while churning and freeing
    each other's blocks: one stack, thread_leak <- thread_main, with all
    4000 allocations."""
    with Session() as s:
        _, _, report = trace(s, "threads")
        expect_stacks(report, [THREAD_LEAK], main=False)
        expect_totals(report, THREADS_TOTALS)


def test_forked_child_not_traced():
    """A child forked by the target allocates through the same probed libc;
    only the target's own allocations are reported."""
    with Session() as s:
        _, _, report = trace(s, "forks")
        expect_stacks(report, [FORKS_LEAK])
        expect_totals(report, FORKS_TOTALS)


def test_static_glibc():
    """malloc and calloc inside a statically linked executable."""
    with Session() as s:
        _, _, report = trace(s, "static_leaks")
        expect_stacks(report, STATIC_LEAKS)
        expect_totals(report, STATIC_TOTALS)


def test_jemalloc_linked():
    """A program linked with -ljemalloc: memleakd says it traces
    libjemalloc.so.2, and catches malloc, mallocx and rallocx leaks while
    the dallocx/sdallocx/free churn leaves nothing."""
    with Session() as s:
        _, daemon, report = trace(s, "jemalloc_leaks")
        assert "libjemalloc.so.2" in daemon.stderr.text(), \
            f"memleakd does not name libjemalloc.so.2:\n{daemon.describe()}"
        expect_stacks(report, JEMALLOC_LEAKS)
        expect_totals(report, JEMALLOC_TOTALS)


def test_jemalloc_linked_statically():
    """preload_leaks.c linked with jemalloc's static archive: the executable
    itself provides malloc and is the allocator to trace."""
    with Session() as s:
        binary = s.compile("jemalloc_static", *TARGET_CFLAGS,
                           TARGET_SOURCES / "preload_leaks.c", JEMALLOC_PIC,
                           "-lm", "-ldl")
        _, _, report = trace(s, "jemalloc_static", path=binary)
        expect_stacks(report, PRELOAD_LEAKS)
        expect_totals(report, PRELOAD_TOTALS)


def test_deleted_preloaded_allocator():
    """tcmalloc copied aside, LD_PRELOADed from there, then deleted while the
    target runs (as after an upgrade): the process still allocates with
    it, so memleakd must trace it, not glibc's unused malloc."""
    with Session() as s:
        library = s.tmp / TCMALLOC.name
        shutil.copy(TCMALLOC, library)
        target = s.target("preload_leaks", preload=library)
        library.unlink()
        daemon, report = trace_started(s, target)
        assert str(library) in daemon.stderr.text(), \
            f"memleakd does not name {library}:\n{daemon.describe()}"
        expect_stacks(report, PRELOAD_LEAKS)
        expect_totals(report, PRELOAD_TOTALS)


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
