"""test_tracking.py - how the probes track: a full map, where the probes
sit, the executable as the allocator, and a longjmp out of malloc."""

import os
import re

from expected import (ARENA_LEAKS, ARENA_SPECS, ARENA_TOTALS, LEAKS, LEAKS_TOTALS,
                      LEAK_MALLOC, Leak)
from harness import TARGETS, Session, expect_stacks, expect_totals, function_names, trace


def test_full_map_counts_every_drop():
    """--max-allocs 50: leak_malloc's first 50 allocations fill the map and
    stay; every later allocation is dropped and counted, and every free of a
    dropped pointer is an unknown free."""
    with Session() as s:
        _, _, report = trace(s, "leaks", "--max-allocs", "50")
    attempted = LEAKS_TOTALS["allocs"]
    totals = report["totals"]
    got = {k: totals[k] for k in ("allocs", "dropped_allocs", "outstanding_allocs",
                                  "outstanding_bytes", "frees", "unknown_frees")}
    assert got == {
        "allocs": 50,
        "dropped_allocs": attempted - 50,
        "outstanding_allocs": 50,
        "outstanding_bytes": 50 * 1000,
        "frees": LEAKS_TOTALS["frees"],
        "unknown_frees": LEAKS_TOTALS["frees"],
    }, f"totals {got}"
    expect_stacks(report, [LEAK_MALLOC._replace(allocs=50, bytes=50 * 1000)])


def test_probe_placement_is_reported():
    """-v says where each probe went: glibc's free at its je (+0x3), an
    emulated instruction, instead of the single-stepped test at +0."""
    with Session() as s:
        target = s.target("leaks")
        daemon = s.memleakd(target.pid, "-v")
        daemon.stop()
        target.stop()
    lines = daemon.stderr.lines
    free_at = lines.index("memleakd:   free")
    assert re.match(r"memleakd: debug:     probe at \+0x3 \(je rel32, emulated, "
                    r"1 instruction passed over; ptr in %rdi\)", lines[free_at + 1]), \
        lines[free_at + 1]
    malloc_at = lines.index("memleakd:   malloc")
    assert "probe at +0x0 (push %r12, emulated" in lines[malloc_at + 1], lines[malloc_at + 1]


def test_allocation_map_cost_is_reported():
    """-v says what the preallocated allocation map costs the kernel, as
    its fdinfo's memlock says: the entries asked for, and bytes per entry
    (a hash map's element, key, value and its share of the buckets); and
    how long each report took."""
    with Session() as s:
        target = s.target("leaks")
        daemon = s.memleakd(target.pid, "-v", "--max-allocs", "300000")
        daemon.stop()
        target.stop()
    line = next((l for l in daemon.stderr.lines if "allocation map:" in l), None)
    match = re.fullmatch(r"memleakd: debug: allocation map: 300000 entries, ([\d.]+) MiB "
                         r"of kernel memory \(([\d.]+) bytes per tracked allocation\)",
                         line or "")
    assert match, f"no allocation map line: {daemon.stderr.text()}"
    mib, per_entry = float(match.group(1)), float(match.group(2))
    assert abs(mib * (1 << 20) - per_entry * 300000) < 0.1 * (1 << 20), line
    # Key (8) and value (16) bytes at least; 96 at most with the
    # overhead, which splitting the capacity at 262144 keeps.
    assert 24 <= per_entry <= 96, line
    # And each report's time, split by step (bench/report_cost.py reads it).
    assert any(re.fullmatch(r"memleakd: debug: report 1: 0 stacks, 0 shown, 0 records read, "
                            r"in [\d.]+ ms \(maps [\d.]+, names [\d.]+, writing [\d.]+\)", l)
               for l in daemon.stderr.lines), daemon.stderr.text()


EXE_LEAKS = [
    Leak("shallow_leak", "run", 10, 10 * 300),
    Leak("deep_leak", "deeper", 20, 20 * 400),
]


def test_executable_allocator_and_longjmp():
    """The executable exports malloc, so it is traced instead of libc; a
    malloc left by longjmp does not swallow the allocations after it, not
    even those made deeper in the stack than the abandoned call."""
    with Session() as s:
        target, daemon, report = trace(s, "exe_allocator")
    assert any(l.startswith("memleakd: pid ") and "takes malloc from "
               + str(target.argv[0]) in l for l in daemon.stderr.lines), \
        daemon.stderr.text()
    expect_stacks(report, EXE_LEAKS)
    expect_totals(report, {"outstanding_allocs": 30, "outstanding_bytes": 11000,
                           "allocs": 30, "frees": 0, "unknown_frees": 0})


def test_perf_event_uprobes_where_uprobe_multi_is_missing():
    """Kernels before 6.6 have no uprobe_multi links: memleakd attaches one
    perf-event uprobe per probe (forced here with MEMLEAKD_NO_UPROBE_MULTI)
    and counts the same, malloc family and custom specs alike."""
    os.environ["MEMLEAKD_NO_UPROBE_MULTI"] = "1"
    with Session() as s:
        _, daemon, report = trace(s, "leaks", "-v")
        expect_stacks(report, LEAKS)
        expect_totals(report, LEAKS_TOTALS)
        assert "memleakd: debug: attaching one perf-event uprobe per probe" in \
            daemon.stderr.lines, daemon.stderr.text()
        _, _, report = trace(s, "arena_leaks", "-n", "20", *ARENA_SPECS)
        expect_stacks(report, ARENA_LEAKS)
        expect_totals(report, ARENA_TOTALS)


def test_uprobe_multi_links_by_default():
    """Where the kernel has them (this one does), probes go in as one
    uprobe_multi link per program and object."""
    with Session() as s:
        _, daemon, report = trace(s, "leaks", "-v")
        expect_totals(report, LEAKS_TOTALS)
        assert "memleakd: debug: attaching one uprobe_multi link per program and object" \
            in daemon.stderr.lines, daemon.stderr.text()


def test_kept_freed_records_leave_room():
    """A free keeps its record for the next allocation at the same address,
    within a share of --max-allocs (1/64, split between the CPUs: 10 each
    here), and deletes it past that; the maps have that much more room.
    reuse frees 1000 blocks, then leaks 1280 of another size, at other
    addresses, so the records kept stay: with --max-allocs 1280 every leak
    is still held, exact, nothing dropped."""
    with Session() as s:
        _, _, report = trace(s, "reuse", "--max-allocs", "1280")
    expect_stacks(report, [Leak("leak_site", "main", 1280, 1280 * 100)])
    expect_totals(report, {"outstanding_allocs": 1280, "allocs": 2280, "frees": 1000,
                           "unknown_frees": 0, "replaced_allocs": 0})


def test_thread_exit_cache_frees_are_the_allocators():
    """thread_exit: a worker thread mallocs and frees 20 blocks of 20 sizes
    and exits. glibc's tcache_thread_shutdown then frees the 20 blocks
    still in the thread's cache again, and the cache itself: 21 calls the
    program never made, counted as allocator_frees, neither frees nor
    unknown_frees. The one allocation outstanding is the thread's dynamic
    thread vector, calloc'd by pthread_create and kept in glibc's stack
    cache. -v says where the shutdown code is and how it was found: Debian's
    libc has no symbol for it (inlined), so by its message."""
    with Session() as s:
        _, daemon, report = trace(s, "thread_exit", "-v")
    expect_totals(report, {"allocs": 21, "frees": 20, "unknown_frees": 0,
                           "allocator_frees": 21, "outstanding_allocs": 1,
                           "nested_calls": 0, "replaced_allocs": 0})
    [stack] = report["stacks"]
    names = function_names(stack)
    assert names.index("pthread_create") < names.index("start_thread") \
        < names.index("main"), names
    assert any(re.fullmatch(r"memleakd: debug:   frees returning into 0x[0-9a-f]+-0x[0-9a-f]+ "
                            r"\(tcache_thread_shutdown, found by its message\) are glibc "
                            r"emptying an exiting thread's cache: counted apart, as "
                            r"allocator_frees", l) for l in daemon.stderr.lines), \
        daemon.stderr.text()


def test_realloc_handoff_across_threads():
    """realloc_race: a block realloc moves goes back to glibc's one arena
    (no thread cache) and another thread's malloc takes it, often before
    realloc has returned. realloc's old record leaves the map when the call
    starts, so its return cannot retire the new owner's record: every free
    is known, nothing is replaced, nothing stays outstanding."""
    rounds, takers = 120000, 2
    expect_balanced(trace_one_arena("realloc_race"), 2 * rounds + takers * rounds)


def test_free_handoff_across_threads():
    """free_handoff: one thread mallocs and hands each block to another
    thread, which frees it at once, often while the first is inside its
    next malloc, which then returns the same address (one arena, no thread
    cache). The other thread can only see the pointer once malloc has
    returned into the code that publishes it, and the return probe runs
    before that code does: each block's record is in the map before its
    free looks for it. Every free is known, nothing is replaced, nothing
    stays outstanding."""
    rounds = 100000
    expect_balanced(trace_one_arena("free_handoff"), rounds)


def trace_one_arena(name):
    """The final report of target name run to its end, traced, on glibc's
    one arena with no thread cache: a block freed goes straight back where
    any thread's next allocation takes it."""
    with Session() as s:
        tunables = "glibc.malloc.arena_max=1:glibc.malloc.tcache_count=0"
        target = s.target(name, command=[
            "env", f"GLIBC_TUNABLES={tunables}", TARGETS / name])
        daemon = s.memleakd(target.pid)
        target.go()
        report = daemon.stop()
        target.stop()
    return report


def expect_balanced(report, calls):
    """calls allocations, each freed, every free known, none replaced."""
    expect_totals(report, {"allocs": calls, "frees": calls, "unknown_frees": 0,
                           "replaced_allocs": 0, "outstanding_allocs": 0,
                           "dropped_allocs": 0})
