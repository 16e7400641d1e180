"""test_stack_ids.py - the stacks map (--max-stacks) over a long run: the
ids of stacks that hold nothing are given back, so a target that allocated
and freed from more distinct stacks than the map holds still has a later
leak named exactly (tests/targets/transient_stacks.c); and a map full of
stacks that hold memory is counted (stack_map_full) and warned about,
never silent (tests/targets/many_stacks.c)."""

import re
import signal

from expected import Leak
from harness import Session, describe_stacks, expect_stacks, final_report

CAPACITY = 1024
TRANSIENT = 5000
EARLY = Leak("leak_early", "chain_early", 10, 10 * 500)
LATE = Leak("leak_late", "chain_late", 100, 100 * 777)
WAIT = 20
RECLAIMED_RE = re.compile(r"^memleakd: debug: stacks: (\d+) in the map of (\d+); "
                          r"(\d+) ids reclaimed")
# many_stacks.c: 2048 stacks, one block each, 2128896 bytes in all.
MANY_STACKS, MANY_BYTES = 2048, 2128896


def wait_line(stream, match, start, what):
    """The index after the first line from start on that matches."""
    line = stream.wait_for(match, WAIT, start=start)
    assert line, f"never saw {what}"
    return stream.lines.index(line, start) + 1


def next_round(target, done_seen):
    """SIGUSR1: the target's next round; waits for its "done"."""
    target.signal(signal.SIGUSR1)
    return wait_line(target.stdout, lambda l: l == "done", done_seen,
                     "the target's done")


def test_transient_stacks_give_back_their_ids():
    """5000 stacks allocate and free with room for 1024: the ids of those
    that hold nothing are reclaimed as the map fills, leak_early's stays,
    and a leak from a stack first seen after them is named exactly. Two
    reports after the churn, a reclaim pass has run since it ended (one
    follows each report), so the late leak finds room whatever the burst
    left; what found the map full meanwhile is counted."""
    with Session() as s:
        target = s.target("transient_stacks")
        daemon = s.memleakd(target.pid, "--max-stacks", str(CAPACITY), "-i", "1", "-v")
        done = next_round(target, 0)
        reports = len(daemon.stdout.lines)
        for _ in range(2):
            reports = wait_line(daemon.stdout, lambda l: True, reports, "a report")
        next_round(target, done)
        report = daemon.stop()
        target.stop()
    expect_stacks(report, [EARLY, LATE])
    lost = [st for st in report["stacks"] if st["stack_lost"]]
    assert not lost, describe_stacks(report)
    totals = report["totals"]
    assert (totals["outstanding_allocs"], totals["outstanding_bytes"]) == \
        (EARLY.allocs + LATE.allocs, EARLY.bytes + LATE.bytes), totals
    assert (totals["allocs"], totals["frees"]) == (10 + TRANSIENT + 100, TRANSIENT), totals
    assert totals["stack_errors"] == totals["stack_map_full"], totals
    passes = [RECLAIMED_RE.match(l) for l in daemon.stderr.lines]
    passes = [m for m in passes if m]
    assert all(int(m.group(2)) == CAPACITY for m in passes), passes
    reclaimed = sum(int(m.group(3)) for m in passes)
    # Every transient stack that got an id, but those in the map still.
    assert reclaimed >= TRANSIENT - totals["stack_map_full"] - CAPACITY, \
        (reclaimed, totals)


def trace_many_stacks(s, json_format=True):
    target = s.target("many_stacks")
    daemon = s.memleakd(target.pid, "--max-stacks", str(CAPACITY), "--no-mappings",
                        json_format=json_format)
    target.go()
    daemon.signal(signal.SIGINT)
    assert daemon.wait() == 0, daemon.describe()
    target.stop()
    return daemon


def test_full_map_is_counted():
    """2048 stacks hold a block each with room for 1024 (mappings not
    watched: their stacks would take ids too): nothing can be
    reclaimed, the first 1024 stacks are named, the others' blocks are
    under the lost stack, every refusal is counted in stack_map_full (all
    of stack_errors), and the outstanding totals stay exact."""
    with Session() as s:
        report = final_report(trace_many_stacks(s).reports())
    totals = report["totals"]
    assert (totals["outstanding_allocs"], totals["outstanding_bytes"]) == \
        (MANY_STACKS, MANY_BYTES), totals
    assert totals["stack_map_full"] == MANY_STACKS - CAPACITY, totals
    assert totals["stack_errors"] == totals["stack_map_full"], totals
    assert totals["dropped_totals"] == 0 and totals["dropped_allocs"] == 0, totals
    lost = [st for st in report["stacks"] if st["stack_lost"]]
    assert len(lost) == 1 and lost[0]["allocs"] == MANY_STACKS - CAPACITY, \
        describe_stacks(report)
    assert totals["stacks"] == CAPACITY + 1, totals


def test_full_map_is_warned_in_text():
    """The text report says how many stacks found the map full, and which
    flag makes room."""
    with Session() as s:
        text = trace_many_stacks(s, json_format=False).stdout.text()
    warning = (f"WARNING: {MANY_STACKS - CAPACITY} of them found the stack map full: more "
               "distinct stacks held memory at once than it holds (raise --max-stacks)")
    assert warning in text.splitlines(), text
