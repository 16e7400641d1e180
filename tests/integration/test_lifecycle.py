"""test_lifecycle.py - when memleakd reports and stops: on SIGTERM, when
--duration ends, when the target exits, and periodically every
--interval."""

import signal
import time

from expected import EXIT_LEAK, LEAKS, LEAKS_TOTALS
from harness import Session, expect_stack, expect_stacks, expect_totals, \
    parse_reports, trace


def test_sigterm_final_report():
    """SIGTERM, like SIGINT, ends memleakd with exit status 0 and a complete
    final report whose end_reason is "signal"."""
    with Session() as s:
        _, _, report = trace(s, "leaks", sig=signal.SIGTERM)
        assert report["end_reason"] == "signal", report["end_reason"]
        expect_stacks(report, LEAKS)
        expect_totals(report, LEAKS_TOTALS)


def test_duration_ends_tracing():
    """With --duration 4 memleakd stops by itself after 4 s, exit status 0,
    end_reason "duration", with the leaks made in the meantime."""
    with Session() as s:
        target = s.target("leaks")
        daemon = s.memleakd(target.pid, "--duration", "4")
        target.go()
        report = daemon.finished_report(timeout=20)
        elapsed = time.monotonic() - daemon.started
        assert elapsed >= 4, f"memleakd stopped after {elapsed:.1f} s"
        assert report["end_reason"] == "duration", report["end_reason"]
        expect_stacks(report, LEAKS)
        target.stop()


def test_target_exit_ends_tracing():
    """When the target exits on its own, memleakd prints a final report with
    end_reason "target exited", still symbolized, and exits 0."""
    with Session() as s:
        target = s.target("exits")
        daemon = s.memleakd(target.pid)
        target.go()
        status = target.wait()
        assert status == 0, f"exits exited with status {status}"
        report = daemon.finished_report()
        assert report["end_reason"] == "target exited", report["end_reason"]
        expect_stacks(report, [EXIT_LEAK])
        totals = {key: report["totals"][key]
                  for key in ("allocs", "outstanding_allocs",
                              "outstanding_bytes")}
        assert totals == {"allocs": 10, "outstanding_allocs": 10,
                          "outstanding_bytes": 50000}, totals


def test_periodic_reports():
    """With --interval 1, non-final reports keep coming while the target
    runs; the ones after the work show its leaks."""
    with Session() as s:
        target = s.target("leaks")
        daemon = s.memleakd(target.pid, "--interval", "1")
        target.go()
        seen = len(daemon.stdout.lines)
        assert daemon.stdout.wait_for(lambda line: True, 5, seen), \
            f"no report within 5 s of done:\n{daemon.describe()}"
        assert daemon.stdout.wait_for(lambda line: True, 5, seen + 1), \
            f"no second report within 5 s:\n{daemon.describe()}"
        periodic = parse_reports("\n".join(daemon.stdout.lines[seen:
                                                               seen + 2]))
        for report in periodic:
            assert report["final"] is False, "a periodic report is final"
        expect_stack(periodic[1], LEAKS[0])
        expect_totals(periodic[1], LEAKS_TOTALS)
        daemon.stop()
        assert len(daemon.reports()) >= 3, "expected 2 periodic + 1 final"
        target.stop()
