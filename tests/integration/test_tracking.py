"""test_tracking.py - how the probes track: a full map, where the probes
sit, the executable as the allocator, and a longjmp out of malloc."""

import re

from expected import LEAKS_TOTALS, LEAK_MALLOC, Leak
from harness import Session, expect_stacks, expect_totals, trace


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
                    r"1 instructions passed over\)", lines[free_at + 1]), lines[free_at + 1]
    malloc_at = lines.index("memleakd:   malloc")
    assert "probe at +0x0 (push %r12, emulated" in lines[malloc_at + 1], lines[malloc_at + 1]


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
