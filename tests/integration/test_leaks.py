"""test_leaks.py - glibc's malloc family in a dynamically linked program,
tests/targets/leaks.c: every leaking chain exact, totals exact, the fields
of a JSON report."""

import os
import re

from expected import LEAKS, LEAKS_ALL_FREED, LEAKS_TOTALS
from harness import (RFC3339_RE, TARGETS, Session, expect_stacks,
                     expect_totals, find_stack, function_names, trace)


def test_leaking_stacks():
    """The 7 leaking stacks of leaks.c and nothing else, each with its exact
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


def test_report_fields():
    """The final report names the pid, an RFC 3339 time and why it ended;
    stacks are sorted by bytes; frames carry address, function, offset and
    module."""
    with Session() as s:
        target, _, report = trace(s, "leaks")
        assert report["pid"] == target.pid, f"pid {report['pid']}"
        assert RFC3339_RE.match(report["time"]), f"time {report['time']!r}"
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
