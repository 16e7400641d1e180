"""test_stress.py - memleakd under sustained load: two threads allocating
and freeing at full speed, traced without a pause, reported on time, and
counted exactly. bench/stress.py runs the same for 60 s and measures
memleakd's memory (BENCHMARKS.md)."""

import signal
import time

from harness import Session, expect_totals

# Reports on time under the heaviest load: nothing else shares the CPUs.
ALONE = True

STRESS_SECONDS = 4
INTERVAL_S = 0.5
# How late a report may come: generous, for a loaded CI machine.
LATE_S = 1.0


def test_stress_reports_on_time_totals_exact():
    """stress_churn: 2 threads of malloc, calloc, realloc and free at full
    speed for 4 s (half a million allocations or more traced on a loaded
    2-CPU machine; 200,000 at least, or the run proves little),
    memleakd reporting every 0.5 s: every report due came, none more than
    1 s after its time, and the final totals equal the program's own
    counts, nothing dropped or unknown."""
    with Session() as s:
        target = s.target("stress_churn", str(STRESS_SECONDS))
        daemon = s.memleakd(target.pid, "-i", str(INTERVAL_S))
        attached = time.monotonic()
        target.signal(signal.SIGUSR1)
        line = target.stdout.wait_for(lambda l: l.startswith("allocs "),
                                      STRESS_SECONDS + 30)
        assert line, f"stress_churn never finished:\n{target.describe()}"
        traced_s = time.monotonic() - attached
        report = daemon.stop()
        target.stop()
        periodic = daemon.reports()[:-1]
    fields = line.split()
    counts = {k: int(v) for k, v in zip(fields[::2], fields[1::2])
              if k in ("allocs", "frees", "outstanding_allocs",
                       "outstanding_bytes")}
    assert counts["allocs"] > 200000, f"too little load: {line}"
    expect_totals(report, dict(counts, unknown_frees=0, replaced_allocs=0))
    late = [(r["report"], r["since_attach_s"]) for r in periodic
            if r["since_attach_s"] - r["report"] * INTERVAL_S > LATE_S]
    assert not late, f"reports late (report, seconds after attach): {late}"
    due = int(traced_s / INTERVAL_S) - 1
    assert len(periodic) >= due, \
        f"{len(periodic)} periodic reports in {traced_s:.1f} s, expected {due}"
