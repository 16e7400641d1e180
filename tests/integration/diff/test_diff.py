"""test_diff.py - `memleakd diff OLD NEW` on reports of a real traced
target, tests/targets/diff_growth.c (its rounds and numbers are at the top
of its source): two reports of one run, taken from a stream of reports
(-o FILE) after round 1 and at the end; two runs of the same binary (ASLR
moves its addresses: stacks are matched by name); a directory of -o DIR/;
and every error, with its exit status and message."""

import json
import signal
import time

from harness import MEMLEAKD, Session, find_stack

# Stack (frames[0]) -> status, growth bytes, growth allocs, old bytes, new
# bytes, from round 1 to round 2 of diff_growth.c.
GROWTH = {
    "leak_grow": ("grown", 10000, 10, 10000, 20000),
    "leak_late": ("new", 5400, 6, 0, 5400),
    "leak_steady": ("unchanged", 0, 0, 1500, 1500),
    "fill_shrink": ("shrunk", -1500, -3, 4000, 2500),
    "fill_gone": ("gone", -2800, -4, 2800, 0),
}
ORDER = ["leak_grow", "leak_late", "leak_steady", "fill_shrink", "fill_gone"]
OLD_TOTAL = (18300, 27)
NEW_TOTAL = (29400, 36)
REPORT_WAIT = 20


def round_of_work(target, done_lines):
    """SIGUSR1: one round; waits for its own "done" (the target prints one
    per round). Returns how many "done" lines there are now."""
    target.signal(signal.SIGUSR1)
    index = 0
    for _ in range(done_lines + 1):
        line = target.stdout.wait_for(lambda l: l == "done", REPORT_WAIT,
                                      start=index)
        assert line, f"target never said done:\n{target.describe()}"
        index = target.stdout.lines.index(line, index) + 1
    return done_lines + 1


def complete_lines(path):
    text = path.read_text() if path.exists() else ""
    return text[:text.rfind("\n") + 1] if "\n" in text else ""


def wait_reports(path, count):
    """Waits until path holds count complete reports; returns its text."""
    deadline = time.monotonic() + REPORT_WAIT
    while time.monotonic() < deadline:
        text = complete_lines(path)
        if text.count("\n") >= count:
            return text
        time.sleep(0.05)
    raise AssertionError(f"{path}: fewer than {count} reports after "
                         f"{REPORT_WAIT} s")


def stop(daemon):
    daemon.signal(signal.SIGINT)
    status = daemon.wait()
    assert status == 0, f"memleakd exited {status}:\n{daemon.describe()}"


def diff(session, *args, status=0):
    code, out, err = session.run([MEMLEAKD, "diff", *map(str, args)])
    assert code == status, \
        f"memleakd diff {args}: exit {code}, expected {status}:\n{out}\n{err}"
    return out, err


def expect_growth(result, matched_by):
    """The exact figures of GROWTH, in ORDER, matched as said."""
    assert (result["growth_bytes"], result["growth_allocs"]) == (11100, 9), \
        f"total growth {result['growth_bytes']}, {result['growth_allocs']}"
    assert (result["old"]["outstanding_bytes"],
            result["old"]["outstanding_allocs"]) == OLD_TOTAL, result["old"]
    assert (result["new"]["outstanding_bytes"],
            result["new"]["outstanding_allocs"]) == NEW_TOTAL, result["new"]
    tops = [s["frames"][0]["function"] for s in result["stacks"]]
    assert tops == ORDER, f"stacks in order {tops}, expected {ORDER}"
    for stack in result["stacks"]:
        name = stack["frames"][0]["function"]
        got = (stack["status"], stack["growth_bytes"], stack["growth_allocs"],
               stack["old_bytes"], stack["new_bytes"])
        assert got == GROWTH[name], f"{name}: {got}, expected {GROWTH[name]}"
        expected = None if stack["status"] in ("new", "gone") else matched_by
        assert stack["matched_by"] == expected, \
            f"{name}: matched by {stack['matched_by']}, expected {expected}"
        assert stack["frames"][1]["function"] == name.replace(
            "leak_", "chain_").replace("fill_", "chain_"), stack["frames"]


def test_one_run_two_moments():
    """One run writing a report every 0.2 s to a file: a copy of the file
    after round 1 against the file after round 2 (its last report, the
    final one). Stacks are matched by address; the text output shows the
    same figures, human and exact."""
    with Session() as s:
        stream = s.tmp / "stream.json"
        target = s.target("diff_growth")
        daemon = s.memleakd(target.pid, "-i", "0.2", "-o", stream)
        round_of_work(target, 0)
        # The second report written after "done" was taken after it.
        before = complete_lines(stream).count("\n")
        old = s.tmp / "old.json"
        old.write_text(wait_reports(stream, before + 2))
        round_of_work(target, 1)
        stop(daemon)
        target.stop()
        reports = complete_lines(stream).count("\n")
        out, err = diff(s, "-f", "json", old, stream)
        result = json.loads(out)
        expect_growth(result, "addr")
        assert result["new"]["final"] is True, result["new"]
        assert result["new"]["reports"] == reports, result["new"]
        assert result["old"]["pid"] == result["new"]["pid"] == target.pid
        assert result["elapsed_s"] > 0, result["elapsed_s"]
        assert "different processes" not in err, err
        text, _ = diff(s, old, stream)
        print(text)
        assert "growth in " in text and "+10.8 KiB (+11100 bytes), +9 " \
            "allocations" in text, text
        assert f"the last complete of its {reports} reports, final" in text, text
        row = next(l for l in text.splitlines() if l.endswith("  grown"))
        assert row.split() == ["+9.8", "KiB", "+10000", "+10", "9.8", "KiB",
                               "10000", "19.5", "KiB", "20000", "grown"], row


def test_incomplete_last_report():
    """A file whose last report is cut short (memleakd was writing it) is
    read up to the report before, with a warning."""
    with Session() as s:
        _, old, new = two_runs(s)
        cut = s.tmp / "cut.json"
        line = new.read_text()
        cut.write_text(line + line[:len(line) // 2])
        out, err = diff(s, "-f", "json", old, cut)
        expect_growth(json.loads(out), "name")
        assert "incomplete" in err, err


def two_runs(session):
    """diff_growth run twice: round 1 only, then rounds 1 and 2; returns
    the pids and the two reports' files."""
    files, pids = [], []
    for rounds in (1, 2):
        target = session.target("diff_growth")
        daemon = session.memleakd(target.pid)
        for done in range(rounds):
            round_of_work(target, done)
        stop(daemon)
        target.stop()
        path = session.tmp / f"run{rounds}.json"
        path.write_text(daemon.stdout.text() + "\n")
        files.append(path)
        pids.append(target.pid)
    return pids, *files


def test_two_runs_matched_by_name():
    """Two processes of one binary: ASLR loads it elsewhere, so no stack
    matches by address, every one by name; the different pids are a
    warning, not an error."""
    with Session() as s:
        pids, old, new = two_runs(s)
        reports = [json.loads(p.read_text()) for p in (old, new)]
        addrs = [find_stack(r, "leak_grow")["frames"][0]["addr"]
                 for r in reports]
        assert addrs[0] != addrs[1], f"ASLR did not move leak_grow: {addrs}"
        out, err = diff(s, "-f", "json", old, new)
        result = json.loads(out)
        expect_growth(result, "name")
        assert (result["matched_by_addr"], result["matched_by_name"]) == (0, 3)
        assert [result["old"]["pid"], result["new"]["pid"]] == pids
        assert f"different processes (pid {pids[0]}, pid {pids[1]})" in err, err


def test_directory_latest():
    """-o DIR/ writes one file per report and a `latest` link: diff reads
    the report it names."""
    with Session() as s:
        _, old, _ = two_runs(s)
        directory = s.tmp / "reports"
        target = s.target("diff_growth")
        daemon = s.memleakd(target.pid, "-o", f"{directory}/")
        round_of_work(target, 0)
        round_of_work(target, 1)
        stop(daemon)
        target.stop()
        assert (directory / "latest").exists(), list(directory.iterdir())
        out, _ = diff(s, "-f", "json", old, directory)
        result = json.loads(out)
        expect_growth(result, "name")
        assert result["new"]["file"] == f"{directory}/latest", result["new"]


def test_errors():
    """Each failure exits 1 with the file and the reason; usage errors
    exit 2."""
    with Session() as s:
        good = s.tmp / "good.json"
        good.write_text(json.dumps({"time": "2026-11-25T12:00:00.000Z",
                                    "pid": 1, "totals": {
                                        "outstanding_bytes": 0,
                                        "outstanding_allocs": 0},
                                    "stacks": []}) + "\n")
        cases = {
            "empty.json": ("", "empty.json: empty file: no report"),
            "blank.json": ("\n\n", "blank.json: empty file: no report"),
            "bad.json": ('{"time": "x",\n "pid" 3}\n',
                         "bad.json:2:8: expected ':'"),
            "text.txt": ("== 2026-11-25 pid 1\n",
                         "text.txt:1:1: expected a value (diff reads "
                         "reports written with -f json)"),
            "array.json": ("[1, 2]\n", "array.json:1:1: not a memleakd "
                           "report: a JSON array, not an object"),
            "nostacks.json": ('{"time": "2026-11-25T12:00:00Z", "pid": 1, '
                              '"totals": {"outstanding_bytes": 1, '
                              '"outstanding_allocs": 1}}',
                              'nostacks.json:1:1: not a memleakd report: '
                              'the report has no "stacks"'),
        }
        for name, (content, message) in cases.items():
            path = s.tmp / name
            path.write_text(content)
            for args in ((path, good), (good, path)):
                _, err = diff(s, *args, status=1)
                assert message in err, f"{name}: {err!r} lacks {message!r}"
        _, err = diff(s, s.tmp / "missing.json", good, status=1)
        assert "missing.json: No such file or directory" in err, err
        (s.tmp / "empty_dir").mkdir()
        _, err = diff(s, good, s.tmp / "empty_dir", status=1)
        assert "empty_dir: a directory without a `latest` report" in err, err
        for args, message in (((), "expected two reports"),
                              ((good,), "expected two reports"),
                              (("-f", "xml", good, good), "'xml' is not"),
                              (("-n", "x", good, good), "'x' is not a number"),
                              (("--bogus", good, good), "unknown option")):
            _, err = diff(s, *args, status=2)
            assert message in err and "usage: memleakd diff" in err, err
