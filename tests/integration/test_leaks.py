"""test_leaks.py - glibc's malloc family in a dynamically linked program,
tests/targets/leaks.c: every leaking chain exact, totals exact, the fields
of a JSON report; the same program built as a non-PIE or a stripped
executable, deleted while it runs, or run in its own mount namespace."""

import os
import re
import time
from datetime import datetime, timezone

from expected import LEAKS, LEAKS_ALL_FREED, LEAKS_TOTALS
from harness import (RFC3339_RE, TARGET_CFLAGS, TARGET_SOURCES, TARGETS,
                     Session, expect_stacks, expect_totals, find_stack,
                     function_names, trace, trace_started)

AGE_WAIT = 2
# -v's line for each report: how many allocation records it visited.
REPORT_READ_RE = re.compile(r"memleakd: debug: report \d+: .*, (\d+) records read, in ")


def test_leaking_stacks():
    """The 10 leaking stacks of leaks.c and nothing else, each with its exact
    bytes and allocs, its caller as frames[1] and main further up."""
    with Session() as s:
        _, _, report = trace(s, "leaks")
        expect_stacks(report, LEAKS)


def test_freed_allocations_absent():
    """Blocks freed by free() or realloc(p, 0), and the old blocks of a
    realloc chain, appear in no stack."""
    with Session() as s:
        _, _, report = trace(s, "leaks")
        for stack in report["stacks"]:
            names = function_names(stack)
            for function in LEAKS_ALL_FREED:
                assert function not in names, \
                    f"{function} appears in a stack: {names}"


def test_totals():
    """Totals are exact (see expected.py for the arithmetic), including 5
    unknown frees of blocks allocated before attach."""
    with Session() as s:
        _, _, report = trace(s, "leaks")
        expect_totals(report, LEAKS_TOTALS)


def test_non_pie_executable():
    """leaks.c linked -no-pie (loaded at its link address): same stacks,
    same names, same totals."""
    with Session() as s:
        binary = s.compile("leaks_no_pie", *TARGET_CFLAGS, "-no-pie",
                           TARGET_SOURCES / "leaks.c")
        _, _, report = trace(s, "leaks_no_pie", path=binary)
        expect_stacks(report, LEAKS)
        expect_totals(report, LEAKS_TOTALS)


def test_stripped_executable():
    """leaks.c stripped of its symbols: the same 10 stacks, exact, whose
    frames in the executable have a module but no function name (null,
    never a wrong name)."""
    with Session() as s:
        binary = s.compile("leaks_stripped", *TARGET_CFLAGS, "-s",
                           TARGET_SOURCES / "leaks.c")
        _, _, report = trace(s, "leaks_stripped", path=binary)
        got = sorted((stack["bytes"], stack["allocs"])
                     for stack in report["stacks"])
        expected = sorted((leak.bytes, leak.allocs) for leak in LEAKS)
        assert got == expected, f"stacks (bytes, allocs) {got}, expected " \
            f"{expected}"
        for stack in report["stacks"]:
            frame = stack["frames"][0]
            assert frame["module"] == os.path.realpath(binary) and \
                frame["function"] is None, f"frames[0] {frame}"
        expect_totals(report, LEAKS_TOTALS)


def test_deleted_executable():
    """leaks.c deleted from disk after it started, as a long-running program
    is after an upgrade: it still runs glibc's malloc, so memleakd attaches
    and reports the same stacks, named (the ELF stays readable through
    /proc/PID/exe), and the same totals."""
    with Session() as s:
        binary = s.compile("leaks_deleted", *TARGET_CFLAGS,
                           TARGET_SOURCES / "leaks.c")
        target = s.target("leaks_deleted", path=binary)
        binary.unlink()
        _, report = trace_started(s, target)
        expect_stacks(report, LEAKS)
        expect_totals(report, LEAKS_TOTALS)


def test_private_mount_namespace():
    """The target runs from a tmpfs mounted in its own mount namespace, as
    in a container: its executable's path means nothing in memleakd's
    namespace, yet its stacks are named and exact."""
    with Session() as s:
        hidden = s.tmp / "hidden"
        hidden.mkdir()
        script = (f"mount -t tmpfs none {hidden} && "
                  f"cp {TARGETS / 'leaks'} {hidden} && exec {hidden}/leaks")
        target = s.target("leaks", command=["unshare", "-m", "sh", "-c",
                                            script])
        assert not any(hidden.iterdir()), "the tmpfs is visible here"
        _, report = trace_started(s, target)
        expect_stacks(report, LEAKS)
        expect_totals(report, LEAKS_TOTALS)


def test_report_fields():
    """The final report names the pid, an RFC 3339 time and why it ended;
    stacks are sorted by bytes; frames carry address, function, offset and
    module."""
    with Session() as s:
        target, _, report = trace(s, "leaks")
        assert report["pid"] == target.pid, f"pid {report['pid']}"
        assert RFC3339_RE.match(report["time"]), f"time {report['time']!r}"
        skew = datetime.now(timezone.utc) - \
            datetime.fromisoformat(report["time"])
        assert abs(skew.total_seconds()) < 60, \
            f"time {report['time']} is {skew} away from now"
        assert report["end_reason"] == "signal", report["end_reason"]
        sizes = [stack["bytes"] for stack in report["stacks"]]
        assert sizes == sorted(sizes, reverse=True), \
            f"stacks not sorted by bytes: {sizes}"
        for stack in report["stacks"]:
            age = stack["oldest_age_ms"]
            assert isinstance(age, int) and age >= 0, f"oldest_age_ms {age}"
            for frame in stack["frames"]:
                assert re.fullmatch(r"0x[0-9a-f]+", frame["addr"]), frame
                assert isinstance(frame["offset"], int), frame
                assert frame["function"] is None or \
                    isinstance(frame["function"], str), frame
                assert isinstance(frame["module"], str) and \
                    frame["module"].startswith("/"), frame
        frame = find_stack(report, "leak_malloc")["frames"][0]
        binary = os.path.realpath(TARGETS / "leaks")
        assert os.path.realpath(frame["module"]) == binary, \
            f"leak_malloc's module is {frame['module']}, not {binary}"
        assert frame["offset"] > 0, f"return address at offset {frame}"


def test_oldest_age():
    """oldest_age_ms is the age in milliseconds of a stack's oldest block:
    at least the 2 s waited after the work, at most the time since it
    began."""
    with Session() as s:
        target = s.target("leaks")
        daemon = s.memleakd(target.pid)
        before = time.monotonic()
        target.go()
        time.sleep(AGE_WAIT)
        report = daemon.stop()
        bound = (time.monotonic() - before) * 1000
        target.stop()
        for stack in report["stacks"]:
            age = stack["oldest_age_ms"]
            assert AGE_WAIT * 1000 <= age <= bound, \
                f"oldest_age_ms {age}, expected {AGE_WAIT * 1000}..{bound:.0f}"


def test_oldest_age_follows_frees():
    """When a stack's oldest allocation is freed, its age is that of the
    next oldest: aging's keep_site allocates, 2.5 s later allocates again
    and frees the first. Reports every 0.5 s start new generations (one a
    second at first); the stack's age counts from the second allocation,
    dated by its generation, without visiting the allocations."""
    with Session() as s:
        target = s.target("aging")
        daemon = s.memleakd(target.pid, "-i", "0.5", "-v")
        target.go()
        done = time.monotonic()
        time.sleep(AGE_WAIT)
        report = daemon.stop()
        bound = (time.monotonic() - done) * 1000
        target.stop()
    stack = find_stack(report, "keep_site")
    # The first allocation's generation was retired from the map once
    # freed; its totals stay in the stack's.
    got = {k: stack[k] for k in ("bytes", "allocs", "total_bytes", "total_allocs")}
    assert got == {"bytes": 2000, "allocs": 1, "total_bytes": 3000, "total_allocs": 2}, got
    assert AGE_WAIT * 1000 <= stack["oldest_age_ms"] <= bound + 50, \
        f"oldest_age_ms {stack['oldest_age_ms']}, expected {AGE_WAIT * 1000}..{bound:.0f}"
    reads = [int(m.group(1)) for m in map(REPORT_READ_RE.match, daemon.stderr.lines) if m]
    assert len(reads) >= 5 and set(reads) == {0}, daemon.stderr.text()


def test_min_age_reads_every_record():
    """--min-age needs each allocation's own age: each report visits every
    record (the leaks target's outstanding allocations), and the stacks'
    ages are exact."""
    with Session() as s:
        target = s.target("leaks")
        daemon = s.memleakd(target.pid, "-v", "--min-age", "0.1")
        target.go()
        time.sleep(AGE_WAIT)
        report = daemon.stop()
        target.stop()
    reads = [int(m.group(1)) for m in map(REPORT_READ_RE.match, daemon.stderr.lines) if m]
    assert reads == [LEAKS_TOTALS["outstanding_allocs"]], daemon.stderr.text()
    expect_totals(report, LEAKS_TOTALS)
    for stack in report["stacks"]:
        assert AGE_WAIT * 1000 <= stack["oldest_age_ms"], stack
