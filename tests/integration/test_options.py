"""test_options.py - the options that shape the report: --top, --output,
--format text, --min-age, --max-allocs, and --help / --version."""

import os
import re
import signal
import time

from expected import LEAK_MALLOC, LEAKS, LEAKS_ALL_FREED, LEAKS_TOTALS
from harness import MEMLEAKD, Session, expect_stacks, expect_totals, \
    final_report, parse_reports, top_functions, trace

LONG_OPTIONS = ["--pid", "--interval", "--duration", "--top", "--min-age",
                "--format", "--output", "--max-allocs", "--verbose", "--help",
                "--version"]


def test_top_limits_stacks():
    """--top 3 keeps the 3 biggest stacks (3145728, 100000 and 100000
    bytes); the totals still count everything."""
    with Session() as s:
        _, _, report = trace(s, "leaks", "--top", "3")
        biggest = sorted(LEAKS, key=lambda l: l.bytes, reverse=True)[:3]
        expect_stacks(report, biggest)
        expect_totals(report, LEAKS_TOTALS)


def test_output_file():
    """-o PATH writes the reports to PATH, not to stdout, each as soon as
    it is made (a periodic report is there while memleakd runs)."""
    with Session() as s:
        path = s.tmp / "report.json"
        target = s.target("leaks")
        daemon = s.memleakd(target.pid, "-o", str(path), "-i", "1")
        target.go()
        deadline = time.monotonic() + 5
        while not (path.exists() and path.read_text().endswith("\n")):
            assert time.monotonic() < deadline, \
                f"no report in {path} after 5 s"
            time.sleep(0.1)
        assert daemon.running(), "memleakd stopped by itself"
        daemon.signal(signal.SIGINT)
        status = daemon.wait()
        assert status == 0, f"status {status}:\n{daemon.describe()}"
        assert path.exists(), f"{path} was not written"
        report = final_report(parse_reports(path.read_text()))
        expect_stacks(report, LEAKS)
        expect_totals(report, LEAKS_TOTALS)
        assert not daemon.stdout.lines, \
            f"stdout is not empty with -o:\n{daemon.stdout.text()}"
        target.stop()


def test_output_directory():
    """-o DIR/ writes one file per report, memleakd-PID-TIME.json, points
    `latest` at the newest (the final report), and --keep 2 deletes this
    run's older reports, and nothing else."""
    with Session() as s:
        out = s.tmp / "reports"
        out.mkdir()
        (out / "notes.txt").write_text("mine\n")
        other = out / "memleakd-1-20260101T000000.000Z.json"
        other.write_text("{}\n")
        target = s.target("leaks")
        daemon = s.memleakd(target.pid, "-o", f"{out}/", "-i", "0.2", "--keep", "2")
        target.go()
        prefix = f"memleakd-{target.pid}-"
        deadline = time.monotonic() + 5
        while len(list(out.glob(f"{prefix}*"))) < 2 or \
                not (out / "latest").exists():
            assert time.monotonic() < deadline, sorted(out.iterdir())
            time.sleep(0.1)
        time.sleep(0.6)
        daemon.signal(signal.SIGINT)
        assert daemon.wait() == 0, daemon.describe()
        assert not daemon.stdout.lines, daemon.stdout.text()
        ours = sorted(p.name for p in out.glob(f"{prefix}*"))
        assert len(ours) == 2, ours
        assert all(re.fullmatch(re.escape(prefix) + r"\d{8}T\d{6}\.\d{3}Z\.json", n)
                   for n in ours), ours
        assert os.readlink(out / "latest") == ours[-1]
        reports = [parse_reports((out / n).read_text()) for n in ours]
        assert [len(r) for r in reports] == [1, 1]
        assert reports[0][0]["final"] is False and reports[1][0]["final"] is True
        assert reports[0][0]["report"] + 1 == reports[1][0]["report"] >= 4, \
            [r[0]["report"] for r in reports]
        expect_stacks(reports[1][0], LEAKS)
        expect_totals(reports[1][0], LEAKS_TOTALS)
        assert (out / "notes.txt").exists() and other.exists()
        assert not list(out.glob(".*")), list(out.glob(".*"))
        target.stop()


def test_output_errors():
    """An output that cannot be written, or --keep with a file, is refused
    before attaching: the target is left alone."""
    with Session() as s:
        target = s.target("leaks")
        blocker = s.tmp / "file"
        blocker.write_text("")
        cases = [(["-o", f"{blocker}/sub/"], "cannot create the directory"),
                 (["-o", str(s.tmp / "x.json"), "--keep", "3"],
                  "--keep needs a directory"),
                 (["-o", str(s.tmp / "missing" / "x.json")],
                  "cannot open the file")]
        for args, message in cases:
            status, _, err = s.run([MEMLEAKD, "-p", str(target.pid), *args])
            assert status == 1 and message in err and "attached" not in err, \
                (args, status, err)
        target.go()
        target.stop()


def test_text_format():
    """The text report (the default format) names each leaking function
    with its byte count, and never the churn among allocations (the heap
    malloc grew while churning is in the allocators' mapped section)."""
    with Session() as s:
        target = s.target("leaks")
        daemon = s.memleakd(target.pid, json_format=False)
        target.go()
        daemon.signal(signal.SIGINT)
        status = daemon.wait()
        assert status == 0, f"status {status}:\n{daemon.describe()}"
        text = daemon.stdout.text()
        for leak in LEAKS:
            assert leak.function in text, f"{leak.function} missing:\n{text}"
            assert str(leak.bytes) in text, f"{leak.bytes} missing:\n{text}"
        assert str(LEAKS_TOTALS["outstanding_bytes"]) in text, \
            f"total {LEAKS_TOTALS['outstanding_bytes']} missing:\n{text}"
        allocations = text.split("\n-- MAPPED")[0]
        for function in LEAKS_ALL_FREED:
            assert function not in allocations, f"{function} reported:\n{text}"
        target.stop()


def test_min_age_hides_young_allocations():
    """--min-age 3600: no allocation is an hour old, so no stack; the
    totals still count everything."""
    with Session() as s:
        _, _, report = trace(s, "leaks", "--min-age", "3600")
        assert report["stacks"] == [], \
            f"stacks despite --min-age 3600: {top_functions(report)}"
        expect_totals(report, LEAKS_TOTALS)


def test_min_age_zero_shows_all():
    """--min-age 0 filters nothing."""
    with Session() as s:
        _, _, report = trace(s, "leaks", "--min-age", "0")
        expect_stacks(report, LEAKS)


def test_max_allocs_caps_tracking():
    """--max-allocs 100: the map holds exactly 100 records. leak_malloc's
    100 blocks, the target's first allocations, fill it and are never
    freed, so every later allocation is dropped and counted as such."""
    with Session() as s:
        _, _, report = trace(s, "leaks", "--max-allocs", "100")
        expect_stacks(report, [LEAK_MALLOC])
        totals = report["totals"]
        got = {"outstanding_allocs": totals["outstanding_allocs"],
               "outstanding_bytes": totals["outstanding_bytes"],
               "allocs + dropped_allocs":
                   totals["allocs"] + totals["dropped_allocs"],
               "dropped_allocs": totals["dropped_allocs"]}
        expected = {"outstanding_allocs": 100, "outstanding_bytes": 100000,
                    "allocs + dropped_allocs": LEAKS_TOTALS["allocs"],
                    "dropped_allocs": LEAKS_TOTALS["allocs"] - 100}
        assert got == expected, f"totals {got}, expected {expected}"


def test_help():
    """-h and --help exit 0 and list every long option."""
    with Session() as s:
        for flag in ("-h", "--help"):
            status, out, err = s.run([MEMLEAKD, flag])
            assert status == 0, f"{flag}: status {status}\n{err}"
            for option in LONG_OPTIONS:
                assert option in out + err, f"{flag} omits {option}:\n{out}"


def test_version():
    """-V and --version exit 0 and print a version number."""
    with Session() as s:
        for flag in ("-V", "--version"):
            status, out, err = s.run([MEMLEAKD, flag])
            assert status == 0, f"{flag}: status {status}\n{err}"
            assert any(c.isdigit() for c in out + err), \
                f"{flag} prints no version: {out!r} {err!r}"
