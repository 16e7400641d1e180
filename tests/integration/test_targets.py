"""Several processes at once, each reported apart with exact bytes: -p
given twice; --exe, with a process started after memleakd; --cgroup, a
process inside a cgroup the test makes traced and one outside not; and
memleakd -- COMMAND, which starts the command, traces it from its first
allocation and exits with its status (--fail-on-leak: 3 when blocks
remained)."""

import os
import re
import signal
import uuid
from pathlib import Path

from expected import LEAKS, LEAKS_TOTALS, RUN_CLEAN_TOTALS, RUN_LEAK, RUN_TOTALS
from harness import ATTACH_TIMEOUT, EXIT_TIMEOUT, MEMLEAKD, TARGETS, Memleakd, \
    Session, describe_stacks, expect_stacks, expect_totals, final_report, parse_reports

# --exe traces every process of an executable, another test's too.
ALONE = True

ATTACHED_RE = re.compile(r"^memleakd: attached to pid (\d+)\b")


def cgroup2_root():
    """Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup, or
    /sys/fs/cgroup/unified on a hybrid system."""
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        if fields[2] == "cgroup2":
            return Path(fields[1])
    raise AssertionError("no cgroup2 file system is mounted")


def start_daemon(s, *args):
    daemon = s._start(Memleakd, "memleakd",
                      [MEMLEAKD, *args, "-i", "3600", "-f", "json"])
    return daemon


def wait_attached(daemon, pids):
    """Waits until memleakd said it attached to each of pids."""
    for pid in pids:
        line = daemon.stderr.wait_for(
            lambda l, pid=pid: (m := ATTACHED_RE.match(l)) and int(m.group(1)) == pid,
            ATTACH_TIMEOUT)
        assert line, f"memleakd never attached to {pid}:\n" + daemon.describe()


def without_stdio_buffer(process, total):
    """process's report, and the round's total, less the stdout buffer the
    leaks target allocates as it first prints. True when it was there: the
    process was traced from its start."""
    buffers = [st for st in process["stacks"]
               if st["frames"] and st["frames"][0]["function"] == "_IO_file_doallocate"]
    assert len(buffers) <= 1, describe_stacks(process)
    for buffer in buffers:
        process["stacks"].remove(buffer)
        for totals in (process["totals"], total):
            totals["outstanding_bytes"] -= buffer["bytes"]
            totals["outstanding_allocs"] -= buffer["allocs"]
            totals["allocs"] -= buffer["allocs"]
    return bool(buffers)


def expect_round(report, pids, caught_starting=()):
    """report is a round of several processes: exactly pids, each with the
    leaks target's exact stacks and totals, and a total that adds them. A
    process of caught_starting (--exe or --cgroup found it starting) is
    traced from wherever memleakd caught it: from its start, it holds its
    stdout buffer too, and the blocks it allocated before "ready" and
    freed later are allocations and frees seen, not unknown frees."""
    got = [p["pid"] for p in report["processes"]]
    assert sorted(got) == sorted(pids), f"processes {got}, expected {pids}"
    expected_total = dict.fromkeys(LEAKS_TOTALS, 0)
    for process in report["processes"]:
        expected = dict(LEAKS_TOTALS)
        if process["pid"] in caught_starting and without_stdio_buffer(process, report["total"]):
            expected.update(allocs=expected["allocs"] + expected["unknown_frees"],
                            unknown_frees=0)
        assert process["comm"] == "leaks", process["comm"]
        assert process["exe"] == str(TARGETS / "leaks"), process["exe"]
        expect_stacks(process, LEAKS)
        expect_totals(process, expected)
        for key, value in expected.items():
            expected_total[key] += value
    for key, value in expected_total.items():
        assert report["total"][key] == value, \
            f"total {key} {report['total'][key]}, expected {value}"


def stop(daemon, targets):
    daemon.signal(signal.SIGINT)
    status = daemon.wait(EXIT_TIMEOUT)
    assert status == 0, f"memleakd exited with {status}:\n" + daemon.describe()
    for target in targets:
        target.stop()
    return final_report(parse_reports(daemon.stdout.text()))


def test_two_pids():
    """-p twice: one round of two reports, each process's exact bytes, and
    their total; the text format has a section for each and the total."""
    with Session() as s:
        targets = [s.target("leaks"), s.target("leaks")]
        pids = [t.pid for t in targets]
        daemon = start_daemon(s, "-p", str(pids[0]), "-p", str(pids[1]))
        wait_attached(daemon, pids)
        for target in targets:
            target.go()
        expect_round(stop(daemon, targets), pids)


def test_two_pids_text_and_one_exits():
    """A process that exits has its final section alone and is let go; the
    other is traced on, and reported at the end with the total."""
    with Session() as s:
        first, second = s.target("exits"), s.target("leaks")
        daemon = s._start(Memleakd, "memleakd",
                          [MEMLEAKD, "-p", str(first.pid), "-p", str(second.pid),
                           "-i", "3600"])
        wait_attached(daemon, [first.pid, second.pid])
        first.go()
        assert first.wait() == 0
        assert daemon.stderr.wait_for(lambda l: l == f"memleakd: pid {first.pid} exited",
                                      EXIT_TIMEOUT), daemon.describe()
        second.go()
        daemon.signal(signal.SIGINT)
        assert daemon.wait(EXIT_TIMEOUT) == 0, daemon.describe()
        second.stop()
        text = daemon.stdout.text()
        headers = re.findall(r"^== \S+ pid (\d+) (\S+) \((\S+)\), .*$", text, re.M)
        assert [(int(p), c) for p, c, _ in headers] == \
            [(first.pid, "exits"), (second.pid, "leaks")], headers
        assert re.search(rf"^== total, 1 process \(pid {first.pid}\) ==\n"
                         r"outstanding since attach: 50000 bytes", text, re.M), text
        total = sum(l.bytes for l in LEAKS)
        assert re.search(rf"^== total, 1 process \(pid {second.pid}\) ==\n"
                         rf"outstanding since attach: {total} bytes", text, re.M), text


def test_documents_of_several_processes_need_a_directory():
    """A pprof or SVG document holds one process's report: with two
    processes, to stdout or one file, memleakd refuses at start, saying
    why; to a directory, each process has its files."""
    with Session() as s:
        first, second = s.target("leaks"), s.target("leaks")
        for args in (["-f", "pprof"], ["-f", "svg", "-o", str(s.tmp / "one.svg")]):
            status, _, err = s.run([MEMLEAKD, "-p", str(first.pid), "-p", str(second.pid), *args],
                                   timeout=30)
            assert status == 1 and "give a directory (-o DIR/)" in err and "attached" not in err, \
                (args, status, err)
        out = s.tmp / "profiles"
        daemon = s._start(Memleakd, "memleakd", [MEMLEAKD, "-p", str(first.pid), "-p",
                                                 str(second.pid), "-f", "pprof", "-o", f"{out}/",
                                                 "-i", "3600"])
        wait_attached(daemon, [first.pid, second.pid])
        first.go()
        second.go()
        daemon.signal(signal.SIGINT)
        assert daemon.wait(EXIT_TIMEOUT) == 0, daemon.describe()
        first.stop()
        second.stop()
        names = [p.name for p in out.iterdir()]
        for target in (first, second):
            assert [n for n in names if n.startswith(f"memleakd-{target.pid}-")
                    and n.endswith(".pb.gz")], names


def test_exe_picks_up_a_later_process():
    """--exe: the process running the file at start, and one started after
    memleakd, found by its exec, both traced with exact bytes."""
    with Session() as s:
        before = s.target("leaks")
        # Every stack listed: the later process may hold one more.
        daemon = start_daemon(s, "--exe", str(TARGETS / "leaks"), "-n", "100")
        wait_attached(daemon, [before.pid])
        after = s.target("leaks")
        wait_attached(daemon, [after.pid])
        before.go()
        after.go()
        expect_round(stop(daemon, [before, after]), [before.pid, after.pid],
                     caught_starting=[after.pid])


def move_to_cgroup(cgroup, pid):
    (cgroup / "cgroup.procs").write_text(f"{pid}\n")


def test_cgroup_limits_tracing():
    """--cgroup: a process moved into the test's cgroup before memleakd
    starts, and one moved in after, are traced; one outside is not."""
    root = cgroup2_root()
    cgroup = root / f"memleakd-test-{uuid.uuid4().hex[:8]}"
    cgroup.mkdir()
    try:
        with Session() as s:
            inside, outside = s.target("leaks"), s.target("leaks")
            move_to_cgroup(cgroup, inside.pid)
            daemon = start_daemon(s, "--cgroup", str(cgroup))
            wait_attached(daemon, [inside.pid])
            later = s.target("leaks")
            move_to_cgroup(cgroup, later.pid)
            wait_attached(daemon, [later.pid])
            for target in (inside, outside, later):
                target.go()
            report = stop(daemon, [inside, outside, later])
            expect_round(report, [inside.pid, later.pid])
            assert not any(f"attached to pid {outside.pid}" in l
                           for l in daemon.stderr.lines), daemon.describe()
    finally:
        for pid in (cgroup / "cgroup.procs").read_text().split():
            move_to_cgroup(root, pid)
        os.rmdir(cgroup)


def run_command(s, *args, fail_on_leak=False):
    argv = [MEMLEAKD, "-f", "json", *(["--fail-on-leak"] if fail_on_leak else []),
            "--", TARGETS / "run_leaks", *args]
    return s.run(argv)


def test_command_traced_from_its_start():
    """memleakd -- COMMAND: the command's every allocation, exact; its
    exit status is memleakd's."""
    with Session() as s:
        status, out, err = run_command(s)
        assert status == 0, err
        report = final_report(parse_reports(out))
        assert report["end_reason"] == "target exited", report["end_reason"]
        expect_stacks(report, [RUN_LEAK])
        expect_totals(report, RUN_TOTALS)
        status, out, err = run_command(s, "clean", "7")
        assert status == 7, f"status {status}, expected the command's 7:\n{err}"
        expect_totals(final_report(parse_reports(out)), RUN_CLEAN_TOTALS)


def test_fail_on_leak():
    """--fail-on-leak: 3 when the command exited holding blocks, 0 when it
    freed everything; a failing command's own status comes first."""
    with Session() as s:
        status, _, err = run_command(s, fail_on_leak=True)
        assert status == 3, f"status {status}, expected 3:\n{err}"
        status, _, err = run_command(s, "clean", fail_on_leak=True)
        assert status == 0, f"status {status}, expected 0:\n{err}"
        status, _, err = run_command(s, "leak", "5", fail_on_leak=True)
        assert status == 5, f"status {status}, expected 5:\n{err}"
