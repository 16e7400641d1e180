"""test_verdicts.py - the verdict tells the whole story: Debian's python3
growing objects that pymalloc carves from its own mmap'ed arenas, with
the mappings not watched (--no-mappings), says that the growth is
untraced, beside the suspect when there is one; watched, the arenas
explain it; and a run too short to judge anything says undecided, not "no
leak seen"."""

import re
import signal

from harness import Session, describe_stacks, function_names
from real_programs import python_go, start_python

# Verdicts over intervals of a second: nothing else shares the CPUs.
ALONE = True

# A list of empty dicts: the list's items (realloc'ed, traced) grow by 8
# bytes an element, the dicts (pymalloc, untraced) by 64.
PYTHON_LIST_OF_DICTS = """
import sys
import time
items = []
print("ready", flush=True)
sys.stdin.readline()
while True:
    for _ in range(200):
        items.append({})
    time.sleep(0.01)
"""
# A dict of small dicts: the outer dict's table (traced) doubles now and
# then; the small dicts, their keys and the ints are pymalloc's.
PYTHON_DICT_OF_DICTS = """
import sys
import time
table = {}
n = 0
print("ready", flush=True)
sys.stdin.readline()
while True:
    for _ in range(200):
        table[n] = {"n": n}
        n += 1
    time.sleep(0.01)
"""
UNTRACED_MIN_BYTES = 4 << 20
HEADER_RE = re.compile(r"^== \S+ pid \d+ .*, report (\d+), ")


def text_reports(text):
    """{report number: its lines} of a text stream."""
    reports, lines = {}, None
    for line in text.splitlines():
        m = HEADER_RE.match(line)
        if m:
            lines = reports.setdefault(int(m.group(1)), [])
        if lines is not None:
            lines.append(line)
    return reports


def untraced(process):
    """Anonymous memory grew by 4 MiB or more, traced bytes explain less
    than half of it."""
    return (process["rss_anon_growth_bytes"] >= UNTRACED_MIN_BYTES and
            process["tracked_growth_bytes"] * 2 < process["rss_anon_growth_bytes"])


def test_python_list_of_dicts_names_suspect_and_untraced_growth():
    """python3 appends empty dicts to a list, its mappings not watched:
    the list's block is a
    suspect from the sixth report on (the seventh if it first shows in the
    second), and the anonymous memory grows about eight times faster than
    it. Every text report from then on names both: the LEAK SUSPECTED
    line, then the AND UNTRACED GROWTH line with the figures of the memory
    line."""
    with Session() as s:
        python = start_python(s, PYTHON_LIST_OF_DICTS)
        daemon = s.memleakd(python.popen.pid, "-i", "1", "-d", "9", "--no-mappings",
                            json_format=False, wait_tables=True)
        python_go(python)
        assert daemon.wait(30) == 0, daemon.describe()
    reports = text_reports(daemon.stdout.text())
    assert len(reports) >= 9, sorted(reports)
    # The list is judged five intervals after the first report it is in:
    # the first, unless the unwind tables took more than an interval.
    leak = [n for n, lines in reports.items()
            if lines[1].startswith("verdict: LEAK SUSPECTED:")]
    assert leak and leak[0] in (6, 7), {n: lines[1] for n, lines in reports.items()}
    for number, lines in reports.items():
        if number < leak[0]:
            assert lines[1].startswith(("verdict: undecided:", "verdict: no leak seen",
                                        "verdict: NOT A LEAK OF TRACED ALLOCATIONS:")), lines[1]
            continue
        assert lines[1].startswith("verdict: LEAK SUSPECTED: 1 stack keeps growing"), \
            "\n".join(lines)
        assert re.match(r"verdict: AND UNTRACED GROWTH: anonymous RSS grew \+[\d.]+ MiB since "
                        r"attach, traced outstanding only \+[\d.]+ (KiB|MiB); the rest is "
                        r"allocator retention, fragmentation, or memory not allocated "
                        r"through traced functions$", lines[2]), lines[2]
        grew = lines[2].split("grew ")[1].split(" since")[0]
        traced = lines[2].split("only ")[1].split(";")[0]
        assert f"({grew})" in lines[3] and lines[3].endswith(f"traced outstanding {traced}"), \
            (lines[2], lines[3])


def test_python_dict_of_dicts_is_untraced_growth():
    """python3 fills a dict with small dicts, its mappings not watched:
    the traced outer table is a
    sliver of the growth. Once anonymous memory has grown 4 MiB, every
    report says rss_growth_untraced (as its verdict, or beside
    leak_suspected), and the traced table's stack is there, one block."""
    with Session() as s:
        python = start_python(s, PYTHON_DICT_OF_DICTS)
        daemon = s.memleakd(python.popen.pid, "-i", "1", "-d", "8", "--no-mappings",
                            wait_tables=True)
        python_go(python)
        daemon.finished_report(timeout=30)
    reports = daemon.reports()
    grown = [r for r in reports if r["process"]["rss_anon_growth_bytes"] >= UNTRACED_MIN_BYTES]
    assert len(grown) >= len(reports) - 2, [r["process"] for r in reports]
    for report in grown:
        process = report["process"]
        assert untraced(process) and process["rss_growth_untraced"] is True, process
        assert process["verdict"] in ("rss_growth_untraced", "leak_suspected"), process
        assert (process["verdict"] == "leak_suspected") == (process["suspects"] > 0), process
        table = max(report["stacks"], key=lambda s: s["bytes"])
        assert table["allocs"] == 1 and \
            "_PyEval_EvalFrameDefault" in function_names(table), describe_stacks(report)
    for report in reports:
        assert report["process"]["verdict"] != "no_leak", report["process"]


def undecided_run(*args, sig=signal.SIGINT, go=True):
    """Traces trends (allocating while it runs if go) with memleakd ARGS
    until memleakd exits by itself, or is sent sig at once when args has
    no -d; returns every report."""
    with Session() as s:
        target = s.target("trends")
        daemon = s.memleakd(target.pid, *args)
        if go:
            target.signal(signal.SIGUSR1)
        if "-d" not in args:
            daemon.signal(sig)
        daemon.finished_report()
        return daemon.reports()


def test_python_arenas_explain_the_growth():
    """The same dict of small dicts with the mappings watched (the default):
    pymalloc's arenas are the program's mapped memory, so once anonymous
    memory has grown 4 MiB no report calls the growth untraced, and the
    traced bytes, mapped and allocated, explain at least half of it."""
    with Session() as s:
        python = start_python(s, PYTHON_DICT_OF_DICTS)
        daemon = s.memleakd(python.popen.pid, "-i", "1", "-d", "8", wait_tables=True)
        python_go(python)
        daemon.finished_report(timeout=30)
    grown = [r["process"] for r in daemon.reports()
             if r["process"]["rss_anon_growth_bytes"] >= UNTRACED_MIN_BYTES]
    assert grown, [r["process"] for r in daemon.reports()]
    for process in grown:
        assert not untraced(process) and process["rss_growth_untraced"] is False, process
        assert process["mapped_growth_bytes"] > 0, process


def test_ctrl_c_at_attach_is_undecided():
    """SIGINT right after attach: the one report, final, is undecided."""
    reports = undecided_run(go=False)
    assert len(reports) == 1 and reports[0]["final"], reports
    assert reports[0]["since_attach_s"] < 1, reports[0]["since_attach_s"]
    assert reports[0]["process"]["verdict"] == "undecided", reports[0]["process"]


def test_one_second_run_is_undecided():
    """-d 1 at the default interval: the final report, taken after 1 s, is
    undecided, whether the target allocated nothing (no stack to show) or
    allocated all along (stacks, all new)."""
    for go, stacks in ((False, 0), (True, 2)):
        reports = undecided_run("-i", "10", "-d", "1", go=go)
        assert len(reports) == 1, reports
        assert (reports[0]["totals"]["stacks"] >= 2) == bool(stacks), reports[0]["totals"]
        assert reports[0]["process"]["verdict"] == "undecided", reports[0]["process"]


def test_first_report_with_min_age_is_undecided():
    """--min-age 3 with reports every second: the first reports can show
    no allocation yet (none is old enough), and are undecided, not
    no_leak; so are the next ones, too short a history."""
    reports = undecided_run("-i", "1", "--min-age", "3", "-d", "5")
    assert len(reports) >= 4, reports
    assert reports[0]["totals"]["stacks"] == 0 and reports[0]["stacks"] == [], reports[0]
    for report in reports:
        assert report["process"]["verdict"] == "undecided", report["process"]
