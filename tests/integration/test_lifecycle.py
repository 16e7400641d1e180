"""test_lifecycle.py - when memleakd reports and stops: on SIGTERM or SIGHUP, when
--duration ends, when the target exits, is killed or calls exec, while the
target is busy allocating, and periodically every --interval; and what a
SIGKILL of memleakd leaves behind: nothing."""

import signal
import time

from expected import EXEC_LEAK, EXEC_TOTALS, EXIT_LEAK, EXIT_TOTALS, LEAKS, \
    LEAKS_TOTALS
from harness import DONE_TIMEOUT, Session, bpf_objects, bpf_objects_loaded, \
    expect_stacks, expect_totals, parse_reports, probed_code, trace

STOP_ROUNDS = 3
# Enough pairs to still be churning, traced, 0.5 s after the start.
CHURN_PAIRS = 3000000
# checksum_work's steps per thread: seconds of work traced, a fraction of
# one untraced.
CHECKSUM_STEPS = 400000
# How long the kernel may take to free what a dead process held.
RELEASE_TIMEOUT = 10


def test_sigterm_final_report():
    """SIGTERM, like SIGINT, ends memleakd with exit status 0 and a complete
    final report whose end_reason is "signal"."""
    with Session() as s:
        _, _, report = trace(s, "leaks", sig=signal.SIGTERM)
        assert report["end_reason"] == "signal", report["end_reason"]
        expect_stacks(report, LEAKS)
        expect_totals(report, LEAKS_TOTALS)


def test_sighup_final_report():
    """SIGHUP (the ssh session that started memleakd closed) ends it like
    SIGTERM: exit status 0 and the final report, not a silent death."""
    with Session() as s:
        _, _, report = trace(s, "leaks", sig=signal.SIGHUP)
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
        totals = {key: report["totals"][key] for key in EXIT_TOTALS}
        assert totals == EXIT_TOTALS, f"totals {totals}, expected " \
            f"{EXIT_TOTALS}"


def test_target_killed_ends_tracing():
    """A target killed by SIGKILL also ends tracing with end_reason "target
    exited": the final report still names the dead process's functions."""
    with Session() as s:
        target = s.target("leaks")
        daemon = s.memleakd(target.pid)
        target.go()
        target.signal(signal.SIGKILL)
        target.wait()
        report = daemon.finished_report()
        assert report["end_reason"] == "target exited", report["end_reason"]
        expect_stacks(report, LEAKS)
        expect_totals(report, LEAKS_TOTALS)


def test_target_exec_ends_tracing():
    """A target that calls exec ends tracing with end_reason "target called
    exec" and the final report of the old program: its leak, named, and its
    totals, exact. The new program (the same file, through the same libc)
    allocates at once, and none of it is counted: the probes stopped before
    it ran. memleakd exits 0 and leaves it alone: no link or program left,
    no breakpoint in its code. Once from the main thread, once from a
    second thread, which the kernel gives the pid; and once in text, whose
    header says the same."""
    for args, json_format in (([], True), (["--from-thread"], True), ([], False)):
        with Session() as s:
            target = s.target("execs", *args)
            daemon = s.memleakd(target.pid, json_format=json_format)
            held = bpf_objects(daemon.popen.pid)
            target.signal(signal.SIGUSR1)
            if json_format:
                report = daemon.finished_report()
                assert report["end_reason"] == "target called exec", \
                    report["end_reason"]
                expect_stacks(report, [EXEC_LEAK])
                expect_totals(report, EXEC_TOTALS)
            else:
                assert daemon.wait() == 0, daemon.describe()
                lines = daemon.stdout.text().splitlines()
                assert lines[0].endswith("- final report (target called exec) =="), \
                    lines[0]
                assert "outstanding since attach: 30000 bytes (29.3 KiB) in 10 " \
                    "allocations from 1 stack" in lines, daemon.stdout.text()
            assert target.stdout.wait_for(
                lambda l: l == f"after exec {target.pid}", DONE_TIMEOUT), \
                f"the new program did not run:\n{target.describe()}"
            wait_released(held)
            assert not probed_code(target.pid), \
                f"breakpoints left in {probed_code(target.pid)}"
            target.stop()


def test_stop_while_target_allocates():
    """Stopping memleakd while the target churns malloc(64)+free pairs at
    full speed: memleakd exits 0 with a self-consistent final report (its
    outstanding figures match allocs - frees + unknown_frees and its
    stacks; at most the one pair in flight is outstanding), and the target,
    left mid-loop without probes, finishes normally. Three rounds, since an
    inconsistency depends on timing."""
    for _ in range(STOP_ROUNDS):
        with Session() as s:
            target = s.target("bench_pairs", str(CHURN_PAIRS), "--wait")
            daemon = s.memleakd(target.pid)
            target.signal(signal.SIGUSR1)
            time.sleep(0.5)
            report = daemon.stop()
            status = target.wait()
            assert status == 0 and target.stdout.lines[-1].startswith(
                f"pairs {CHURN_PAIRS} "), \
                f"bench_pairs failed:\n{target.describe()}"
            totals = report["totals"]
            n = totals["outstanding_allocs"]
            got = {"allocs - frees + unknown_frees": totals["allocs"]
                   - totals["frees"] + totals["unknown_frees"],
                   "allocs in stacks": sum(stack["allocs"]
                                           for stack in report["stacks"]),
                   "bytes in stacks": sum(stack["bytes"]
                                          for stack in report["stacks"]),
                   "outstanding_bytes": totals["outstanding_bytes"],
                   "unknown_frees": totals["unknown_frees"]}
            expected = {"allocs - frees + unknown_frees": n,
                        "allocs in stacks": n, "bytes in stacks": 64 * n,
                        "outstanding_bytes": 64 * n, "unknown_frees": 0}
            assert got == expected, \
                (f"final report inconsistent with outstanding_allocs {n}: "
                 f"{got}, expected {expected}; totals {totals}")
            assert n <= 1 and totals["allocs"] > 0, f"totals {totals}"


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
        expect_stacks(periodic[1], LEAKS)
        expect_totals(periodic[1], LEAKS_TOTALS)
        daemon.stop()
        assert len(daemon.reports()) >= 3, "expected 2 periodic + 1 final"
        target.stop()


def test_sigkill_leaves_target_untouched():
    """memleakd killed by SIGKILL while two threads of checksum_work call
    malloc, calloc, realloc and free at full speed, some of them inside a
    traced call: every link and program it held goes with its descriptors,
    the target's code is its files' again (no breakpoint left), and the
    target finishes with the checksum an untraced run prints."""
    with Session() as s:
        untraced = s.target("checksum_work", str(CHECKSUM_STEPS))
        untraced.go()
        expected = untraced.stdout.lines[-2]
        untraced.stop()

        target = s.target("checksum_work", str(CHECKSUM_STEPS))
        daemon = s.memleakd(target.pid)
        held = bpf_objects(daemon.popen.pid)
        assert held and bpf_objects_loaded(held) == held, \
            f"memleakd holds no BPF link or program: {held}"
        probed = probed_code(target.pid)
        assert any("libc.so" in path for path in probed), \
            f"no breakpoint in libc's code while attached: {probed}"
        target.signal(signal.SIGUSR1)
        assert target.stdout.wait_for(lambda l: l == "progress", 20), \
            f"checksum_work never got a quarter through:\n{target.describe()}"
        daemon.signal(signal.SIGKILL)
        assert daemon.wait() == -signal.SIGKILL, daemon.describe()
        wait_released(held)
        assert target.stdout.wait_for(lambda l: l == "done", 30), \
            f"checksum_work never finished:\n{target.describe()}"
        assert not probed_code(target.pid), \
            f"breakpoints left in {probed_code(target.pid)}"
        assert target.stdout.lines[-2] == expected, \
            (f"traced: {target.stdout.lines[-2]!r}, untraced: {expected!r}"
             f"\n{target.describe()}")
        target.stop()


def wait_released(held):
    """Waits until the kernel has freed the BPF objects memleakd held."""
    deadline = time.monotonic() + RELEASE_TIMEOUT
    while bpf_objects_loaded(held) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not bpf_objects_loaded(held), \
        f"left loaded after memleakd ended: {bpf_objects_loaded(held)}"
