"""harness.py - what the integration tests share.

A test opens a Session (a context manager); everything started through it
is killed when the test ends, whether it passed or not. The usual flow:

    with Session() as s:
        target = s.target("leaks")            # waits for "ready PID"
        daemon = s.memleakd(target.pid)        # waits for "attached to pid"
        target.go()                            # SIGUSR1, waits for "done"
        report = daemon.stop()                 # SIGINT, exit 0, final report
        target.stop()                          # SIGTERM, exit 0

which trace() does in one call.

Nothing here skips a test: when memleakd is missing or cannot attach, the
test fails and says why.
"""

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ROOT / "build" / "targets"
TARGET_SOURCES = ROOT / "tests" / "targets"
# The Makefile's TARGET_CFLAGS, for targets a test builds itself.
TARGET_CFLAGS = ["-O1", "-g", "-fno-omit-frame-pointer", "-fno-inline",
                 "-fno-optimize-sibling-calls", "-pthread", "-Wall", "-Werror"]
# The daemon under test: $MEMLEAKD (make check's sanitized build), else the
# build's ./memleakd.
MEMLEAKD = Path(os.environ.get("MEMLEAKD") or ROOT / "memleakd")
# What AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer print
# when they find a fault: in any process's stderr, it fails the test.
SANITIZER_RE = re.compile(r"^==\d+==ERROR: (Address|Leak)Sanitizer|: runtime error: ")
TCMALLOC = Path("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4")
MIMALLOC = Path("/usr/lib/x86_64-linux-gnu/libmimalloc.so.2")
# jemalloc's static archive, compiled -fPIC for PIE executables.
JEMALLOC_PIC = Path("/usr/lib/x86_64-linux-gnu/libjemalloc_pic.a")

READY_TIMEOUT = 10
ATTACH_TIMEOUT = 20
DONE_TIMEOUT = 20
EXIT_TIMEOUT = 15
# From attach to memleakd's unwind tables for every object mapped then.
TABLES_TIMEOUT = 30

ATTACHED_RE = re.compile(r"^memleakd: attached to pid (\d+)\b")
TABLES_READY = "memleakd: unwind tables ready"
RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class LineStream:
    """Collects the lines of one pipe in a thread, so that pipes never fill
    up and a test can wait for a given line."""

    def __init__(self, pipe):
        self.lines = []
        self.closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(pipe,),
                                        daemon=True)
        self._thread.start()

    def _read(self, pipe):
        for raw in pipe:
            with self._cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait_for(self, match, timeout, start=0):
        """Returns the first line from index start on for which match(line)
        is true, or None when the pipe closes or the time runs out first."""
        deadline = time.monotonic() + timeout
        index = start
        with self._cond:
            while True:
                while index < len(self.lines):
                    if match(self.lines[index]):
                        return self.lines[index]
                    index += 1
                remaining = deadline - time.monotonic()
                if self.closed or remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def finish(self, timeout=5):
        """Waits until the writer closed the pipe (the process exited)."""
        self._thread.join(timeout)

    def text(self):
        with self._cond:
            return "\n".join(self.lines)


class Process:
    """A child process with its stdout and stderr collected line by line.
    user: run it as that user (and its group, no other group). stdin: give
    it a pipe, self.popen.stdin, rather than /dev/null."""

    def __init__(self, name, argv, env=None, user=None, stdin=False):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.started = time.monotonic()
        identity = {}
        if user is not None:
            identity = dict(user=user, group=pwd.getpwnam(user).pw_gid,
                            extra_groups=[])
        self.popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            **identity)
        self.stdout = LineStream(self.popen.stdout)
        self.stderr = LineStream(self.popen.stderr)

    def describe(self):
        return (f"{self.name} ({' '.join(self.argv)}), exit status "
                f"{self.popen.poll()}\n--- stdout:\n{self.stdout.text()}\n"
                f"--- stderr:\n{self.stderr.text()}")

    def signal(self, sig):
        self.popen.send_signal(sig)

    def wait(self, timeout=EXIT_TIMEOUT):
        """Waits for the exit and returns the exit status (negative: the
        signal that killed it)."""
        try:
            status = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not exit within {timeout} s:"
                                 f"\n{self.describe()}") from None
        self.stdout.finish()
        self.stderr.finish()
        return status

    def running(self):
        return self.popen.poll() is None

    def kill(self):
        if self.running():
            self.popen.kill()
        self.popen.wait()
        if self.popen.stdin:
            try:
                self.popen.stdin.close()
            except OSError:
                pass
        self.stdout.finish()
        self.stderr.finish()


class Target(Process):
    """A program of tests/targets that follows target.h's protocol."""

    def wait_ready(self):
        line = self.stdout.wait_for(lambda l: l.startswith("ready "),
                                    READY_TIMEOUT)
        assert line, f"target never said ready:\n{self.describe()}"
        self.pid = int(line.split()[1])
        assert self.pid == self.popen.pid, \
            f"target says pid {self.pid}, its pid is {self.popen.pid}"

    def go(self):
        """Lets the target do its work (SIGUSR1) and waits for "done"."""
        self.signal(signal.SIGUSR1)
        assert self.stdout.wait_for(lambda l: l == "done", DONE_TIMEOUT), \
            f"target never said done:\n{self.describe()}"

    def stop(self):
        """SIGTERM; the target must exit 0, so it survived memleakd."""
        self.signal(signal.SIGTERM)
        status = self.wait()
        assert status == 0, \
            f"target exited with status {status}:\n{self.describe()}"


class Memleakd(Process):

    def wait_attached(self, pid):
        line = self.stderr.wait_for(lambda l: bool(ATTACHED_RE.match(l)),
                                    ATTACH_TIMEOUT)
        assert line, ("memleakd never said it was attached:\n"
                      + self.describe())
        attached = int(ATTACHED_RE.match(line).group(1))
        assert attached == pid, \
            f"memleakd attached to pid {attached}, not {pid}: {line!r}"

    def wait_tables_ready(self):
        """Waits for the DWARF unwind tables of every object mapped at
        attach (--unwind dwarf or auto): until then, stacks through code
        without frame pointers may be cut short."""
        line = self.stderr.wait_for(lambda l: l.startswith(TABLES_READY),
                                    TABLES_TIMEOUT)
        assert line, (f"memleakd never said {TABLES_READY!r}:\n"
                      + self.describe())

    def reports(self):
        return parse_reports(self.stdout.text())

    def stop(self, sig=signal.SIGINT):
        """Stops memleakd with sig; it must exit 0 after printing its final
        JSON report, which is returned."""
        self.signal(sig)
        return self.finished_report()

    def finished_report(self, timeout=EXIT_TIMEOUT):
        """Waits for memleakd to exit by itself with status 0 and returns
        its final JSON report."""
        status = self.wait(timeout)
        assert status == 0, \
            f"memleakd exited with status {status}:\n{self.describe()}"
        return final_report(self.reports())


class Session:
    """Starts processes for one test and kills whatever is left of them, and
    removes its temporary directory, when the test ends. Before that, it
    calls the functions of self.cleanups, last added first (a server that
    must stop cleanly adds one)."""

    def __enter__(self):
        self.processes = []
        self.cleanups = []
        self.tmp = Path(tempfile.mkdtemp(prefix="memleakd-test-"))
        return self

    def __exit__(self, *exc):
        errors = []
        while self.cleanups:
            try:
                self.cleanups.pop()()
            except Exception as e:  # the others still run; raised below
                errors.append(e)
        for process in self.processes:
            process.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if errors:
            raise errors[0]
        if not exc[0]:
            for process in self.processes:
                if any(SANITIZER_RE.search(l) for l in process.stderr.lines):
                    raise AssertionError("a sanitizer found a fault:\n"
                                         + process.describe())
        return False

    def _start(self, cls, name, argv, env=None, **options):
        process = cls(name, argv, env, **options)
        self.processes.append(process)
        return process

    def compile(self, name, *gcc_args):
        """Builds program name in the session's temporary directory with
        gcc GCC_ARGS; returns its path."""
        path = self.tmp / name
        subprocess.run(["gcc", *map(str, gcc_args), "-o", str(path)],
                       check=True)
        return path

    def target(self, name, *args, path=None, preload=None, command=None):
        """Starts build/targets/NAME (or path) ARGS, LD_PRELOADing preload if
        given, and waits for it to be ready. command, if given, is run
        instead: it must end up exec'ing the target."""
        env = dict(os.environ)
        if preload:
            assert preload.exists(), f"{preload} is missing"
            env["LD_PRELOAD"] = str(preload)
        if not command:
            path = path or TARGETS / name
            assert path.exists(), f"{path} is missing: run make check"
            command = [path, *args]
        target = self._start(Target, name, command, env)
        target.wait_ready()
        return target

    def memleakd(self, pid, *args, json_format=True, wait_tables=False, env=None):
        """Starts memleakd -p PID ARGS (with -i 3600 -f json unless args or
        json_format say otherwise; in env, or this process's environment)
        and waits until it is attached, and when wait_tables is true until
        its unwind tables are loaded."""
        assert MEMLEAKD.exists(), f"{MEMLEAKD} is missing: run make memleakd"
        argv = [MEMLEAKD, "-p", pid, *args]
        if "-i" not in args and "--interval" not in args:
            argv += ["-i", "3600"]
        if json_format:
            argv += ["-f", "json"]
        daemon = self._start(Memleakd, "memleakd", argv, env)
        daemon.wait_attached(pid)
        if wait_tables:
            daemon.wait_tables_ready()
        return daemon

    def spawn(self, name, argv, env=None, user=None, stdin=False):
        """Starts a program that is not one of tests/targets, a server (see
        Process for user and stdin)."""
        return self._start(Process, name, argv, env, user=user, stdin=stdin)

    def run(self, argv, timeout=EXIT_TIMEOUT, env=None, user=None):
        """Runs a command to completion: returns (status, stdout, stderr)."""
        process = self._start(Process, os.path.basename(str(argv[0])),
                              argv, env, user=user)
        status = process.wait(timeout)
        return status, process.stdout.text(), process.stderr.text()


def trace(session, name, *args, path=None, preload=None, sig=signal.SIGINT,
          wait_tables=False):
    """The usual run: start target NAME (see Session.target), attach
    memleakd -p PID ARGS to it (JSON format; with wait_tables, wait for
    its unwind tables too), let the target work, stop memleakd with sig,
    then the target. Returns (target, memleakd, final report)."""
    target = session.target(name, path=path, preload=preload)
    daemon, report = trace_started(session, target, *args, sig=sig,
                                   wait_tables=wait_tables)
    return target, daemon, report


def trace_started(session, target, *args, sig=signal.SIGINT,
                  wait_tables=False):
    """trace() for a target the test started itself: returns (memleakd,
    final report)."""
    daemon = session.memleakd(target.pid, *args, wait_tables=wait_tables)
    target.go()
    report = daemon.stop(sig)
    target.stop()
    return daemon, report


def parse_reports(text):
    reports = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            reports.append(json.loads(line))
        except ValueError as e:
            raise AssertionError(f"not a JSON report line ({e}): {line!r}")
    return reports


def final_report(reports):
    """The last report must be the one final report; it is returned."""
    assert reports, "memleakd printed no report"
    finals = [r.get("final") for r in reports]
    assert finals[-1] is True, f"last report is not final: final={finals[-1]}"
    assert all(f is False for f in finals[:-1]), \
        f"only the last report may be final: {finals}"
    assert "end_reason" in reports[-1], "final report has no end_reason"
    for report in reports[:-1]:
        assert "end_reason" not in report, \
            f"a periodic report has an end_reason: {report['end_reason']}"
    return reports[-1]


def function_names(stack):
    return [frame["function"] for frame in stack["frames"]]


def find_stack(report, function):
    """The stack whose frames[0] is function, or None."""
    found = [s for s in report["stacks"]
             if s["frames"] and s["frames"][0]["function"] == function]
    assert len(found) <= 1, f"{len(found)} stacks start with {function}"
    return found[0] if found else None


def top_functions(report):
    """The sorted frames[0] functions of the report's stacks (None for an
    unnamed function or an empty stack)."""
    return sorted((s["frames"][0]["function"] if s["frames"] else None
                   for s in report["stacks"]), key=str)


def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def describe_stacks(report):
    return "\n".join(f"  {s['bytes']} bytes, {s['allocs']} allocs: "
                     + " <- ".join(f"{f['function']}@{f['addr']}"
                                   for f in s["frames"])
                     for s in report["stacks"])


def expect_stack(report, leak, main=True):
    """Checks the stack of an expected leak (see expected.py): its numbers,
    frames[1], and main among its frames when main is true."""
    stack = find_stack(report, leak.function)
    assert stack, (f"no stack starts with {leak.function}; stacks:\n"
                   + describe_stacks(report))
    names = function_names(stack)
    assert (stack["bytes"], stack["allocs"]) == (leak.bytes, leak.allocs), \
        (f"{leak.function}: {stack['allocs']} allocs, {stack['bytes']} bytes;"
         f" expected {leak.allocs} allocs, {leak.bytes} bytes")
    assert len(names) > 1 and names[1] == leak.caller, \
        f"{leak.function}: frames[1] should be {leak.caller}: {names}"
    if main:
        assert "main" in names, f"{leak.function}: no main in {names}"


def expect_stacks(report, leaks, main=True):
    """Exactly the expected leaks have outstanding stacks, each exact."""
    expected = sorted(l.function for l in leaks)
    assert top_functions(report) == expected, \
        (f"stacks start with {top_functions(report)}, expected {expected}:\n"
         + describe_stacks(report))
    for leak in leaks:
        expect_stack(report, leak, main)


def expect_totals(report, totals):
    """Each expected total is exact; nothing was dropped or lost."""
    expected = dict(totals, dropped_allocs=0, stack_errors=0)
    got = {key: report["totals"].get(key) for key in expected}
    assert got == expected, f"totals {got}, expected {expected}"


def probed_code(pid):
    """The files whose executable code in process pid differs from the
    file's own bytes: a uprobe's breakpoint is in it (the kernel writes one
    into the process's copy of the page and puts the original back when
    the probe goes)."""
    with open(f"/proc/{pid}/maps") as f:
        lines = f.read().splitlines()
    probed = []
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in lines:
            fields = line.split(maxsplit=5)
            if (len(fields) < 6 or "x" not in fields[1]
                    or not fields[5].startswith("/")
                    or fields[5].endswith(" (deleted)")):
                continue
            start, end = (int(a, 16) for a in fields[0].split("-"))
            mem.seek(start)
            live = mem.read(end - start)
            with open(fields[5], "rb") as f:
                f.seek(int(fields[2], 16))
                # Past the end of the file, the page holds zeros.
                on_disk = f.read(end - start).ljust(len(live), b"\0")
            if live != on_disk:
                probed.append(fields[5])
    return probed


def bpf_objects(pid):
    """The BPF links and programs process pid holds open, as
    ("link_id" or "prog_id", id) pairs read from its descriptors' fdinfo."""
    held = set()
    fdinfo = Path(f"/proc/{pid}/fdinfo")
    for entry in fdinfo.iterdir():
        try:
            text = entry.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key in ("link_id", "prog_id"):
                held.add((key, int(value)))
    return held


def bpf_objects_loaded(objects):
    """Those of objects (see bpf_objects) the kernel still has, by
    bpftool's lists of every link and program. Ids are handed out in
    turn, so a later object does not take a freed one's."""
    loaded = set()
    for kind, key in (("link", "link_id"), ("prog", "prog_id")):
        listing = subprocess.run(["bpftool", kind, "show"], check=True,
                                 capture_output=True, text=True).stdout
        ids = {int(m.group(1)) for m in re.finditer(r"^(\d+): ", listing, re.M)}
        loaded |= {o for o in objects if o[0] == key and o[1] in ids}
    return loaded
