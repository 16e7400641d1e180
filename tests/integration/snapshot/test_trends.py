"""test_trends.py - growth across reports and the verdicts: a target with
one growing leak, one cache that fills then stays, and one churn site,
reported every second (tests/targets/trends.c), must end with exactly
those classes; targets whose resident memory grows without a traced leak
(tests/targets/rss_growth.c: mmap, and heap fragmentation) must get the
verdict that says so."""

import re
import signal

from expected import (RSS_GROWTH_BYTES, RSS_GROWTH_TRACED, TRENDS_LEAKS,
                      TRENDS_LEAK_PER_PHASE, TRENDS_TOTALS)
from harness import Session, describe_stacks, expect_totals, find_stack, \
    trace_started

# Classes at exact reports a second apart: nothing else shares the CPUs.
ALONE = True

TRENDS_ARGS = ("-i", "1")


def trends_run(*args):
    """Traces trends with -i 1 ARGS; returns (memleakd, every JSON report)."""
    with Session() as s:
        target = s.target("trends")
        daemon, _ = trace_started(s, target, *TRENDS_ARGS, *args)
        return daemon, daemon.reports()


def leak_stacks(reports, function):
    """function's stack in each report (None where it is absent)."""
    return [find_stack(r, function) for r in reports]


def test_classes_after_intervals():
    """The final report: leak_site suspect, cache_site and churn_site
    steady, with exact bytes; the verdict is leak_suspected, and the
    suspect ranks first."""
    _, reports = trends_run()
    final = reports[-1]
    expect_totals(final, TRENDS_TOTALS)
    for cls, leaks in TRENDS_LEAKS.items():
        for leak in leaks:
            stack = find_stack(final, leak.function)
            assert stack and stack["class"] == cls and \
                (stack["bytes"], stack["allocs"]) == (leak.bytes, leak.allocs), \
                (f"{leak.function}: expected {cls} with {leak.bytes} bytes:\n"
                 + describe_stacks(final) + f"\n{stack}")
            assert stack["frames"][1]["function"] == leak.caller, stack
    assert final["stacks"][0]["frames"][0]["function"] == "leak_site", \
        describe_stacks(final)
    assert final["process"]["verdict"] == "leak_suspected", final["process"]
    assert final["process"]["suspects"] == 1, final["process"]
    suspect = final["stacks"][0]
    assert suspect["intervals"] >= 3 and \
        suspect["intervals_grown"] == suspect["intervals"], suspect


def test_first_reports_are_new_and_growth_adds_up():
    """Every stack is new, and the verdict undecided, in the first five
    reports: a stack is judged once five intervals have followed the one
    it appeared in. From the sixth on, leak_site is a suspect in every
    report. Its growth_bytes, report after report, add up to its
    outstanding bytes, each a whole number of phases."""
    _, reports = trends_run()
    assert len(reports) >= 8, f"{len(reports)} reports"
    for report in reports[:5]:
        assert {s["class"] for s in report["stacks"]} == {"new"}, report["stacks"]
        assert report["process"]["verdict"] == "undecided", report["process"]
    for report in reports[5:]:
        assert find_stack(report, "leak_site")["class"] == "suspect", \
            describe_stacks(report)
        assert report["process"]["verdict"] == "leak_suspected", report["process"]
    growths = [s["growth_bytes"] if s else 0
               for s in leak_stacks(reports, "leak_site")]
    assert sum(growths) == TRENDS_LEAKS["suspect"][0].bytes, growths
    assert all(g % TRENDS_LEAK_PER_PHASE == 0 for g in growths), growths
    rates = [s["growth_rate_bps"] for s in leak_stacks(reports, "leak_site")[2:-1]]
    # 8000 bytes per second while the target runs; the window may hold a
    # last interval after it stopped.
    assert all(4000 <= r <= 9000 for r in rates), rates


def test_text_sections():
    """The text report: the verdict right under the header, then the
    suspects' section with leak_site, then the steady section."""
    with Session() as s:
        target = s.target("trends")
        daemon = s.memleakd(target.pid, *TRENDS_ARGS, json_format=False)
        target.go()
        daemon.signal(signal.SIGINT)
        assert daemon.wait() == 0, daemon.describe()
        text = daemon.stdout.text()
        final = text[text.rindex("== "):]
        lines = final.splitlines()
        assert lines[0].endswith("- final report (signal) =="), lines[0]
        assert lines[1].startswith("verdict: LEAK SUSPECTED: 1 stack keeps growing"), \
            lines[1]
        assert lines[2].startswith("memory: RSS "), lines[2]
        suspects = final.index("-- LEAK SUSPECTS")
        steady = final.index("-- STEADY")
        assert suspects < final.index("leak_site+") < steady, final
        assert steady < final.index("cache_site+"), final
        assert steady < final.index("churn_site+"), final
        assert re.search(r"#1 +62\.5 KiB \(64000 B\) in 64 allocations;", final), final


def rss_case(mode, *args, retention=False):
    with Session() as s:
        target = s.target("rss_growth", mode)
        _, report = trace_started(s, target, "-i", "1", *args)
    allocs, traced = RSS_GROWTH_TRACED[mode]
    process = report["process"]
    assert (report["totals"]["outstanding_allocs"],
            report["totals"]["outstanding_bytes"]) == (allocs, traced), \
        report["totals"]
    assert process["tracked_growth_bytes"] == traced, process
    # The whole 64 MiB is resident, give or take a few pages.
    assert RSS_GROWTH_BYTES <= process["rss_anon_growth_bytes"] \
        < RSS_GROWTH_BYTES + (8 << 20), process
    assert process["verdict"] == "rss_growth_untraced", process
    assert process["suspects"] == 0, process
    assert process["allocator_retention"] is retention, process
    if retention:
        assert process["heap_mapped_bytes"] >= RSS_GROWTH_BYTES, process


def test_rss_growth_from_mmap_is_not_a_traced_leak():
    """8 x 8 MiB of touched anonymous mmap, with the mappings not watched
    (--no-mappings): verdict rss_growth_untraced, nothing traced
    outstanding."""
    rss_case("mmap", "--no-mappings")


def test_rss_growth_from_mmap_is_mapped_memory():
    """The same 8 x 8 MiB of mmap, the mappings watched (the default): the
    growth is the program's mapped memory, 64 MiB to the byte, so it is no
    untraced growth, and one mapping, made once, is no suspect."""
    with Session() as s:
        target = s.target("rss_growth", "mmap")
        _, report = trace_started(s, target, "-i", "1")
    process = report["process"]
    assert process["mapped_growth_bytes"] == RSS_GROWTH_BYTES, process
    assert process["tracked_growth_bytes"] == RSS_GROWTH_BYTES, process
    assert process["rss_growth_untraced"] is False, process
    assert process["verdict"] != "rss_growth_untraced" and process["suspects"] == 0, process


def test_rss_growth_from_fragmentation_is_not_a_traced_leak():
    """64 MiB malloc'd, 63/64 freed between live blocks: glibc keeps the
    pages; traced outstanding is exactly the 256 live blocks, and the
    verdict says the growth is not a traced leak but the allocator's
    retention: its heap, which malloc mapped, holds the 64 MiB."""
    rss_case("fragment", retention=True)
