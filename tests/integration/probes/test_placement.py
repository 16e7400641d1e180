"""test_placement.py - where -v says each probe went on Debian 12's
allocators, and that tracking stays exact through probes moved past a
prologue: glibc, tcmalloc and mimalloc preloaded, jemalloc linked in, and
PostgreSQL 15's postgres with --preset postgres. The offsets are those of
Debian's builds (src/probes/probe_placement.c explains the walk)."""

import re

from expected import (JEMALLOC_LEAKS, JEMALLOC_TOTALS, LEAKS, LEAKS_TOTALS,
                      PRELOAD_LEAKS, PRELOAD_TOTALS)
from harness import MIMALLOC, TCMALLOC, Session, expect_stacks, expect_totals, trace
from postgres import start_postgres

PROBE = re.compile(r"memleakd: debug:     probe at (.*)")


def placements(daemon):
    """{function: what -v says of its probe}; a method probed in the place
    of the function that jumps to it is named "FUNCTION's method at
    ADDRESS"."""
    lines, out = daemon.stderr.lines, {}
    for i, line in enumerate(lines):
        m = PROBE.fullmatch(line)
        if m:
            name = lines[i - 1].split(" in ")[0].split(None, 1)[-1].split(None, 1)[-1]
            out[name] = m[1]
    assert out, f"no placements:\n{daemon.describe()}"
    return out


def check(placed, expected, single_stepped=()):
    for function, where in expected.items():
        assert placed.get(function) == where, f"{function}: {placed.get(function)!r}"
    stepped = sorted(f for f, where in placed.items() if "single-stepped" in where)
    assert stepped == sorted(single_stepped), f"single-stepped: {stepped}"


def test_glibc():
    """free and aligned_alloc pass a test or cmp; reallocarray passes the
    multiplication of its nmemb by its size and reads their product. The
    leaks are counted exactly, reallocarray's among them."""
    with Session() as s:
        _, daemon, report = trace(s, "leaks", "-v")
    check(placements(daemon), {
        "free": "+0x3 (je rel32, emulated, 1 instruction passed over; ptr in %rdi)",
        "aligned_alloc": "+0x7 (je rel8, emulated, 1 instruction passed over; size in %rsi)",
        "malloc": "+0x0 (push %r12, emulated: the first instruction is emulated)",
        "reallocarray": "+0x9 (jo rel8, emulated, 3 instructions passed over; "
                        "nmemb x size in %rax; ptr in %rdi)",
    })
    expect_stacks(report, LEAKS)
    expect_totals(report, LEAKS_TOTALS)


def test_tcmalloc_preloaded():
    """Every probe of tcmalloc's lands on an emulated instruction after a
    load and a test; the preloaded leaks are exact."""
    with Session() as s:
        _, daemon, report = trace(s, "preload_leaks", "-v", preload=TCMALLOC)
    check(placements(daemon), {
        "malloc": "+0xa (jne rel8, emulated, 2 instructions passed over; size in %rdi)",
        "free": "+0xa (jne rel32, emulated, 2 instructions passed over; ptr in %rdi)",
        "posix_memalign": "+0xb (jne rel8, emulated, 3 instructions passed over; "
                          "size in %rdx; out in %rdi)",
        "aligned_alloc": "+0xa (ja rel32, emulated, 2 instructions passed over; size in %rsi)",
    })
    expect_stacks(report, PRELOAD_LEAKS)
    expect_totals(report, PRELOAD_TOTALS)


def test_mimalloc_preloaded():
    """mimalloc's entry points move their arguments to make room for the
    heap: malloc's size is read from %rsi, calloc's count from %rax,
    realloc's pointer and size from %rsi and %rdx. The preloaded leaks
    (malloc, calloc, realloc) are exact through them."""
    with Session() as s:
        _, daemon, report = trace(s, "preload_leaks", "-v", preload=MIMALLOC)
    check(placements(daemon), {
        "malloc": "+0x15 (ja rel8, emulated, 4 instructions passed over; size in %rsi)",
        "calloc": "+0x12 (je rel8, emulated, 4 instructions passed over; size in %rsi; "
                  "nmemb in %rax)",
        "realloc": "+0x14 (jmp rel32, emulated, 5 instructions passed over; size in %rdx; "
                   "ptr in %rsi)",
        "free": "+0x6 (je rel8, emulated, 2 instructions passed over; ptr in %rdi)",
        "mi_reallocn": "+0x17 (jmp rel32, emulated, 6 instructions passed over; "
                       "size in %rcx; nmemb in %rdx; ptr in %rsi)",
    })
    expect_stacks(report, PRELOAD_LEAKS)
    expect_totals(report, PRELOAD_TOTALS)


def test_jemalloc_linked():
    """jemalloc's free passes 9 instructions of address arithmetic;
    sdallocx and rallocx a few; none is single-stepped."""
    with Session() as s:
        _, daemon, report = trace(s, "jemalloc_leaks", "-v")
    check(placements(daemon), {
        "free": "+0x30 (jne rel32, emulated, 9 instructions passed over; ptr in %rdi)",
        "sdallocx": "+0xa (ja rel8, emulated, 2 instructions passed over; ptr in %rdi)",
        "rallocx": "+0x2 (jmp rel32, emulated, 1 instruction passed over; size in %rsi; "
                   "ptr in %rdi)",
    })
    expect_stacks(report, JEMALLOC_LEAKS)
    expect_totals(report, JEMALLOC_TOTALS)


def test_postgres_preset():
    """--preset postgres on a backend: repalloc_huge and
    MemoryContextSetParent pass a move, MemoryContextResetOnly a test.
    pfree jumps through its context's methods before any emulated
    instruction: the free functions of the three methods tables (AllocSet,
    Generation, Slab), found in the four calls that pass them to
    MemoryContextCreate, are probed in its place, GenerationFree's past 7
    instructions with the pointer in %rsi. No probe is single-stepped."""
    with Session() as s:
        server = start_postgres(s)
        backend = server.connect()
        daemon = s.memleakd(backend.pid, "-v", "--preset", "postgres")
        backend.query("select 1")
        daemon.stop()
    check(placements(daemon), {
        "repalloc_huge": "+0x5 (jmp rel32, emulated, 1 instruction passed over; "
                         "size in %rsi; ptr in %rdi)",
        "MemoryContextSetParent": "+0x7 (je rel8, emulated, 2 instructions passed over; "
                                  "ptr in %rdi; ctx in %rsi)",
        "MemoryContextResetOnly": "+0x4 (je rel8, emulated, 1 instruction passed over; "
                                  "ctx in %rdi)",
        "palloc": "+0x0 (push %rbp, emulated: the first instruction is emulated)",
    })
    placed = placements(daemon)
    assert "pfree" not in placed
    methods = sorted(where for name, where in placed.items()
                     if name.startswith("pfree's method at 0x"))
    assert methods == [
        "+0x0 (push %rbp, emulated: the first instruction is emulated)",
        "+0x0 (push %rbp, emulated: the first instruction is emulated)",
        "+0x1b (jl rel8, emulated, 7 instructions passed over; ptr in %rsi)",
    ], placed
    assert any(line.rstrip().endswith(
        "pfree jumps through methods tables: its 3 free functions, from the tables of "
        "4 calls, are probed in its place") for line in daemon.stderr.lines), daemon.describe()
