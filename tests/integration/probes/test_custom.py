"""test_custom.py - custom allocators given as --alloc/--free/--realloc/
--reset specs (and --create/--delete), on tests/targets/arena_leaks.c, an
arena allocator with contexts that are reset and deleted, a "current
context" global, nested allocator calls and a longjmp out of the allocator:
exact bytes per leaking stack, nothing from released contexts, resets that
release far more than --max-allocs without a drop, and clear errors for
bad specs."""

import os
import re
import signal

from expected import ARENA_ALL_FREED, ARENA_LEAKS, ARENA_SPECS, ARENA_TOTALS
from harness import (MEMLEAKD, Session, describe_stacks, expect_stacks,
                     final_report, top_functions, trace)

# Every call the target makes after SIGUSR1, as tests/integration/expected.py
# derives them: 3390 custom allocations + 103 reallocs + 25 arena headers
# malloc'd outside traced calls; 1000 arena_free + 103 reallocs + 25 headers
# freed by arena_destroy + 313 frees of big chunks' blocks whose malloc was
# nested (not tracked) by arena_free; 925 nested custom calls + 566 block
# mallocs inside traced calls - 20 nested arena_destroy (a reset inside a
# reset still counts) + 240 frees of blocks inside arena_reset and
# arena_destroy (the allocator's own: 2 a request, 3 more every 10th for
# its child and grandchild, 2 a scratch arena).
ARENA_COUNTS = dict(
    ARENA_TOTALS,
    allocs=3390 + 103 + 25,
    frees=1000 + 103 + 25 + 313,
    unknown_frees=313,
    failed_allocs=4,
    nested_calls=925 + 566 - 20 + 240,
    replaced_allocs=0,
    resets=100 + 25,
    reset_frees=2185,
    dropped_resets=0,
)


def expect_arena_report(report):
    expect_stacks(report, ARENA_LEAKS)
    got = {key: report["totals"][key] for key in ARENA_COUNTS}
    expected = dict(ARENA_COUNTS, dropped_allocs=0, stack_errors=0)
    got.update(dropped_allocs=report["totals"]["dropped_allocs"],
               stack_errors=report["totals"]["stack_errors"])
    assert got == expected, f"totals {got}, expected {expected}"
    freed = set(ARENA_ALL_FREED) & set(top_functions(report))
    assert not freed, f"released allocations still outstanding: {freed}:\n" \
        + describe_stacks(report)


def test_arena_contexts_exact():
    """Every leaking stack exact; resets and deletes (children deleted by
    their parent's reset included) release everything else."""
    with Session() as s:
        _, daemon, report = trace(s, "arena_leaks", "-n", "20", *ARENA_SPECS)
        expect_arena_report(report)
        err = daemon.stderr.text()
        assert "tracing 9 custom allocator functions" in err, err


# The arenas as allocations: arena_create and arena_create_child create
# them (an arena has no size argument: 0 bytes), arena_destroy deletes them.
assert ARENA_SPECS[-2:] == ["--reset", "arena_destroy:ctx=1"]
CONTEXT_SPECS = ARENA_SPECS[:-2] + [
    "--delete", "arena_destroy:ctx=1",
    "--create", "arena_create",
    "--create", "arena_create_child:parent=1",
]


def test_arena_contexts_as_allocations():
    """The same run with the arenas created and deleted as contexts: the 25
    made after SIGUSR1 are allocations of their creators instead of the
    malloc of their headers, which is nested in the creating call (as are
    arena_create's 20 calls inside arena_create_child), and so is the free
    of the header inside the delete, the allocator's own. The 5 scratch
    arenas, made without a parent, are freed by their delete; the 10
    children of "request" and their 10 children are released by their
    parent's reset or delete, which come first. The leaks are the same.
    Through uprobe sessions, and through perf-event entry and return
    probes (MEMLEAKD_NO_UPROBE_MULTI, kernels before 6.6) alike."""
    counts = dict(ARENA_COUNTS,
                  frees=ARENA_COUNTS["frees"] - 25 + 5,
                  reset_frees=ARENA_COUNTS["reset_frees"] + 20,
                  nested_calls=ARENA_COUNTS["nested_calls"] + 20 + 25 + 25)
    expected = dict(counts, dropped_allocs=0, stack_errors=0)
    for perf_events in (False, True):
        if perf_events:
            os.environ["MEMLEAKD_NO_UPROBE_MULTI"] = "1"
        with Session() as s:
            _, daemon, report = trace(s, "arena_leaks", "-n", "20", *CONTEXT_SPECS)
        err = daemon.stderr.text()
        assert "memleakd:   --create arena_create_child in " in err, err
        assert "memleakd:   --delete arena_destroy in " in err, err
        expect_stacks(report, ARENA_LEAKS)
        got = {key: report["totals"][key] for key in expected}
        assert got == expected, f"perf events {perf_events}: totals {got}, expected {expected}"


def released_rounds(rounds, chunks, capacity):
    """arena_leaks released ROUNDS CHUNKS 1 traced with --max-allocs
    capacity: (memleakd, final report)."""
    with Session() as s:
        target = s.target("arena_leaks", "released", rounds, chunks, 1)
        daemon = s.memleakd(target.pid, "--max-allocs", capacity, "-v", *ARENA_SPECS)
        target.go()
        report = daemon.stop()
        target.stop()
    return daemon, report


def test_resets_release_far_more_than_max_allocs():
    """200 arenas of 2,000 chunks each, created, filled and destroyed one
    after the other: resets release 400,000 allocations, 24 times what
    --max-allocs 16384 holds, at addresses the arena does not hand out
    again. The released records are swept from the map as it fills (-v
    says so), so none is dropped, and nothing is outstanding at the end.
    The contrast, without the sweep (MEMLEAKD_NO_SWEEP, what kernels
    before 6.10 get): the map fills with released records, and every
    allocation past its capacity is dropped, and counted."""
    rounds, chunks, capacity = 200, 2000, 16384
    daemon, report = released_rounds(rounds, chunks, capacity)
    totals = report["totals"]
    released = rounds * chunks
    # The arenas' headers: malloc'd by arena_create, untraced, and freed
    # inside arena_destroy.
    got = {k: totals[k] for k in ("allocs", "frees", "reset_frees", "resets",
                                  "outstanding_allocs", "replaced_allocs",
                                  "unknown_frees", "dropped_allocs")}
    assert got == dict(allocs=released + rounds, frees=rounds, reset_frees=released,
                       resets=rounds, outstanding_allocs=0, replaced_allocs=0,
                       unknown_frees=0, dropped_allocs=0), totals
    swept = [int(m.group(1)) for m in
             (re.search(r"swept the context records: (\d+) released ones", line)
              for line in daemon.stderr.lines) if m]
    print(f"{len(swept)} sweeps between reports retired {sum(swept)}")
    assert swept and sum(swept) >= released - 2 * capacity, daemon.stderr.text()

    os.environ["MEMLEAKD_NO_SWEEP"] = "1"
    daemon, report = released_rounds(rounds, chunks, capacity)
    totals = report["totals"]
    assert "this kernel cannot run the sweep program" in daemon.stderr.text()
    got = {k: totals[k] for k in ("allocs", "reset_frees", "dropped_allocs")}
    assert got == dict(allocs=capacity + rounds, reset_frees=capacity,
                       dropped_allocs=released - capacity), totals


def test_periodic_report_is_exact_while_attached():
    """Stale records are reaped by user space at each report, not only in
    the final one taken with the probes paused: a periodic report after the
    work shows the same numbers, and the final one still does."""
    with Session() as s:
        target = s.target("arena_leaks")
        daemon = s.memleakd(target.pid, "-i", "1", "-n", "20", *ARENA_SPECS)
        target.go()
        count = len(daemon.reports())
        assert daemon.stdout.wait_for(lambda l: True, 5, start=count + 1), \
            "no periodic report after the work:\n" + daemon.describe()
        periodic = daemon.reports()[count + 1]
        assert periodic["final"] is False
        expect_arena_report(periodic)
        report = daemon.stop()
        target.stop()
        expect_arena_report(report)


def test_without_resets_contexts_stay_outstanding():
    """The same run without the --reset specs: what the resets released
    is either reported as outstanding or, where the arena handed the same
    address out again, retired as a replaced allocation (a free not seen).
    So the resets above did the work."""
    specs = [a for i, a in enumerate(ARENA_SPECS)
             if a != "--reset" and (i == 0 or ARENA_SPECS[i - 1] != "--reset")]
    with Session() as s:
        _, _, report = trace(s, "arena_leaks", "-n", "40", *specs)
        totals = report["totals"]
        assert totals["resets"] == 0 and totals["reset_frees"] == 0, totals
        held = ARENA_TOTALS["outstanding_allocs"] + ARENA_COUNTS["reset_frees"]
        assert totals["outstanding_allocs"] + totals["replaced_allocs"] == held, totals
        assert totals["outstanding_allocs"] > ARENA_TOTALS["outstanding_allocs"], totals
        assert "fill_request" in top_functions(report), describe_stacks(report)


def test_no_malloc_traces_only_the_specs():
    """--no-malloc: the arena headers malloc'd after SIGUSR1 and the blocks
    freed by the arena are not seen; the custom leaks are the same."""
    with Session() as s:
        _, daemon, report = trace(s, "arena_leaks", "-n", "20", "--no-malloc",
                                  *ARENA_SPECS)
        expect_stacks(report, ARENA_LEAKS)
        totals = report["totals"]
        assert (totals["allocs"], totals["frees"], totals["unknown_frees"]) == \
            (3390 + 103, 1000 + 103, 0), totals
        assert "takes malloc from" not in daemon.stderr.text()


def test_same_function_probed_once():
    """A spec for a function the malloc family already probes (malloc
    itself) adds no second probe: numbers are unchanged."""
    with Session() as s:
        _, daemon, report = trace(s, "arena_leaks", "-n", "20", *ARENA_SPECS,
                                  "--alloc", "malloc@libc.so.6")
        expect_arena_report(report)
        assert "tracing 9 custom allocator functions" in daemon.stderr.text()


def expect_refused(session, target, args, *phrases):
    """memleakd exits non-zero, naming each phrase, attaches nothing, and
    the target still works."""
    status, out, err = session.run([MEMLEAKD, "-p", target.pid, *args])
    assert status != 0, f"{args}: exit status 0\n{err}"
    for phrase in phrases:
        assert phrase in err, f"{args}: stderr lacks {phrase!r}:\n{err}"
    assert "attached to pid" not in err, err
    assert out == "", out


def test_bad_specs_are_refused():
    with Session() as s:
        target = s.target("arena_leaks")
        exe = str(target.argv[0])
        expect_refused(s, target, ["--alloc", "arena_alloc:sise=2"],
                       "--alloc 'arena_alloc:sise=2': unknown key 'sise'")
        expect_refused(s, target, ["--reset", "arena_reset:ctx=7"],
                       "--reset 'arena_reset:ctx=7': ctx=7: arguments are numbered from 1 to 6")
        expect_refused(s, target, ["--alloc", "no_such_alloc"],
                       "--alloc no_such_alloc: no function 'no_such_alloc' in pid",
                       f"(looked in: {exe}, ", "libc.so.6")
        expect_refused(s, target, ["--free", "arena_free@libnothere.so"],
                       "--free arena_free@libnothere.so: pid",
                       "maps no object 'libnothere.so'")
        expect_refused(s, target, ["--alloc", "arena_alloc@libc.so.6"],
                       "no function 'arena_alloc'", "(looked in: /")
        expect_refused(s, target, ["--alloc", "current_alloc:ctx=@no_such_global"],
                       "ctx=@no_such_global: no such variable in pid")
        expect_refused(s, target, ["--alloc", "current_alloc:ctx=@errno"],
                       "ctx=@errno is thread-local")
        expect_refused(s, target, ["--preset", "no-such-preset"],
                       "no preset 'no-such-preset'")
        target.go()
        target.stop()


def test_ambiguous_symbol_is_refused():
    """malloc is defined by both tcmalloc (preloaded) and libc: a spec
    without @MODULE must say so; with @MODULE it attaches."""
    from harness import TCMALLOC
    with Session() as s:
        target = s.target("preload_leaks", preload=TCMALLOC)
        expect_refused(s, target, ["--no-malloc", "--alloc", "malloc"],
                       "'malloc' is defined in", str(TCMALLOC),
                       "name one with malloc@MODULE")
        daemon = s.memleakd(target.pid, "--no-malloc", "--alloc",
                            "malloc@libtcmalloc_minimal.so.4")
        daemon.stop()
        target.go()
        target.stop()


def test_target_exit_while_contexts_are_tracked():
    """The target exits on its own: the final report is still exact."""
    with Session() as s:
        target = s.target("arena_leaks")
        daemon = s.memleakd(target.pid, "-n", "20", *ARENA_SPECS)
        target.go()
        target.signal(signal.SIGTERM)
        assert target.wait() == 0
        report = daemon.finished_report()
        assert report["end_reason"] == "target exited", report["end_reason"]
        expect_arena_report(report)


def test_frees_not_seen_are_replaced_exactly():
    """arena_alloc traced alone, without its context, its frees or the
    resets: every chunk the arena hands out again at an address it used
    before is an allocation whose free was not seen. Its old record, in the
    context-free maps, is overwritten in place and counted in
    replaced_allocs; the stacks' totals stay exact (3,170 outermost
    arena_alloc calls after SIGUSR1; 242 addresses end holding a chunk)."""
    with Session() as s:
        _, _, report = trace(s, "arena_leaks", "-n", "1000", "--no-malloc",
                             "--alloc", "arena_alloc:size=2")
    totals = report["totals"]
    got = {k: totals[k] for k in ("allocs", "frees", "outstanding_allocs", "outstanding_bytes",
                                  "replaced_allocs", "dropped_allocs", "stacks")}
    assert got == dict(allocs=3170, frees=0, outstanding_allocs=242, outstanding_bytes=61867,
                       replaced_allocs=2928, dropped_allocs=0, stacks=19), totals
    assert sum(x["allocs"] for x in report["stacks"]) == 242, describe_stacks(report)
    assert sum(x["bytes"] for x in report["stacks"]) == 61867, describe_stacks(report)


def test_too_many_contexts_are_counted():
    """70,000 contexts reset between two reports, more than the 65,536
    whose reset time the kernel keeps: the resets that found no room are
    counted in dropped_resets, and the chunks of their contexts stay
    counted: outstanding, or replaced where the arena handed the address
    out again. Never silently lost."""
    contexts, kept = 70000, 65536
    with Session() as s:
        target = s.target("arena_leaks", "many-contexts", contexts)
        daemon = s.memleakd(target.pid, "--no-malloc", *ARENA_SPECS)
        target.go()
        report = daemon.stop()
        target.stop()
    totals = report["totals"]
    dropped = contexts - kept
    got = {k: totals[k] for k in ("allocs", "resets", "dropped_resets", "reset_frees")}
    assert got == dict(allocs=contexts, resets=kept, dropped_resets=dropped,
                       reset_frees=kept), totals
    assert totals["outstanding_allocs"] + totals["replaced_allocs"] == dropped, totals
    assert totals["outstanding_bytes"] == 16 * totals["outstanding_allocs"] > 0, totals
    assert top_functions(report) == ["fill_context"], describe_stacks(report)
