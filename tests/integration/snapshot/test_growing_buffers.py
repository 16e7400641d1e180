"""test_growing_buffers.py - a buffer that keeps growing is one allocation
that keeps moving: a C++ std::vector (moved by new and delete,
tests/targets/grow_vector.cc) and a list in Debian's python3 (moved by
realloc). Each must be a leak suspect in every report once it is judged
(the sixth, five intervals after its first), whatever the age of its
current block; a block realloc moves keeps the buffer's birth."""

from harness import Session, describe_stacks, function_names
from real_programs import MIN_INTERVALS, judged_reports, python_go, start_python

# Verdicts over intervals of a second: nothing else shares the CPUs.
ALONE = True

# grow_vector's vector after its 10 doublings: 1024 << 9 elements of 8 bytes.
VECTOR_BYTES = (1024 << 9) * 8
# Reports are a second apart; the vector doubles half way between two.
VECTOR_ARGS = ("-i", "1")
# Appends 2,000 items every 10 ms, forever, once told to start: about 1.6
# MB a second of list, which holds LIST_FIRST_BYTES within 0.2 s.
LIST_FIRST_BYTES = 256 << 10
PYTHON_LIST = """
import sys
import time
items = []
print("ready", flush=True)
sys.stdin.readline()
while True:
    for _ in range(2000):
        items.append(None)
    time.sleep(0.01)
"""


def vector_stack(report):
    """grow_vector's vector: the stack through grow_log."""
    found = [s for s in report["stacks"] if "grow_log" in function_names(s)]
    assert len(found) == 1, describe_stacks(report)
    return found[0]


def test_vector_that_doubles_is_a_suspect():
    """The vector's stack (operator new <- ..._M_realloc_insert <- push_back
    <- append_records <- grow_log) holds one block, never older than about
    a second and a generation, twice as large at each report: new in the
    first five reports, a suspect in every one after, with the verdict
    leak_suspected; 4 MiB at the end."""
    with Session() as s:
        target = s.target("grow_vector")
        daemon = s.memleakd(target.pid, *VECTOR_ARGS, wait_tables=True)
        target.go()
        final = daemon.stop()
        target.stop()
    reports = daemon.reports()
    assert len(reports) >= 10, f"{len(reports)} reports"
    for report in reports:
        stack = vector_stack(report)
        names = function_names(stack)
        assert names[0] == "operator new(unsigned long)", names
        assert names.index("append_records") + 1 == names.index("grow_log"), names
        assert stack["allocs"] == 1 and stack["oldest_age_ms"] < 3000, stack
    for report in reports[:5]:
        assert vector_stack(report)["class"] == "new", report["report"]
        assert report["process"]["verdict"] == "undecided", report["process"]
    for report in judged_reports(reports):
        assert vector_stack(report)["class"] == "suspect", \
            (report["report"], vector_stack(report))
        assert report["process"]["verdict"] == "leak_suspected", report["process"]
    assert vector_stack(final)["bytes"] == VECTOR_BYTES, vector_stack(final)


def test_python_list_is_a_suspect():
    """Debian's python3 appends to a list forever: the list's items are one
    block that realloc grows by an eighth at a time, moving it. Its stack
    holds the largest block, one allocation, through the interpreter's
    frames; a suspect in every report that judges it, and as old as its
    first block, not as its latest move."""
    with Session() as s:
        python = start_python(s, PYTHON_LIST)
        daemon = s.memleakd(python.popen.pid, "-i", "1", "-d", "10", wait_tables=True)
        python_go(python)
        daemon.finished_report(timeout=30)
    reports = daemon.reports()
    assert len(reports) >= 10, f"{len(reports)} reports"
    # The list's stack from the first report it is in (the first, unless
    # the unwind tables took more than an interval to load).
    def largest(report):
        return max((s["bytes"] for s in report["stacks"]), default=0)

    listed = [r for r in reports if largest(r) >= LIST_FIRST_BYTES]
    first = listed[0]
    assert first["report"] <= 2 and len(listed) == len(reports) - first["report"] + 1, \
        [(r["report"], largest(r)) for r in reports]
    for report in listed:
        stack = max(report["stacks"], key=lambda s: s["bytes"])
        assert stack["allocs"] == 1, describe_stacks(report)
        assert "_PyEval_EvalFrameDefault" in function_names(stack), describe_stacks(report)
        assert stack["oldest_age_ms"] >= 1000 * (report["since_attach_s"] -
                                                 first["since_attach_s"]), \
            (report["since_attach_s"], stack["oldest_age_ms"])
        judged = report["report"] - first["report"] >= MIN_INTERVALS
        assert stack["class"] == ("suspect" if judged else "new"), (report["report"], stack)
        assert (report["process"]["verdict"] == "leak_suspected") == judged, \
            report["process"]
