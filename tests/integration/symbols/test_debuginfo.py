"""test_debuginfo.py - where debug info comes from: the object itself, its
.gnu_debuglink, its build-id under a debug directory (--debug-dir, searched
like /usr/lib/debug), and Debian's real debuginfod server on 127.0.0.1,
fetched through $DEBUGINFOD_URLS in the background.

Each test builds a small target (target.h's protocol) with -g in the
session's directory, splits it with objcopy --only-keep-debug and strips
it (--strip-all: no symbols left but .dynsym; --strip-debug: .symtab
kept, no DWARF). The leak is found by its size, so a stack is found
whether it is named or not, and each case is run both with and without
the debug file: the names and file:line it shows come from the debug file
and nothing else.

$DEBUGINFOD_URLS is removed from memleakd's environment except where a
test sets it."""

import contextlib
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

from harness import (TARGET_CFLAGS, TARGET_SOURCES, Session, describe_stacks, free_port,
                     parse_reports, trace)

SOURCE = r"""#include "target.h"

__attribute__((noinline)) static void *debuginfo_leak(size_t n)
{
	return malloc(n); /* leak line */
}

__attribute__((noinline)) void debuginfo_caller(void)
{
	for (int i = 0; i < 3; i++)
		target_keep(debuginfo_leak(1234));
}

int main(void)
{
	target_ready();
	target_wait_start();
	debuginfo_caller();
	target_done();
	target_idle();
}
"""
LEAK_BYTES = 3 * 1234
LEAK_LINE = SOURCE[:SOURCE.index("/* leak line */")].count("\n") + 1

SERVER_TIMEOUT = 20
FETCH_TIMEOUT = 20
# The first report of -i 1 is due 1 s after attach; more than this is late.
ON_TIME = 2.5


@contextlib.contextmanager
def environment(**values):
    """os.environ (which memleakd inherits) with values set; None removes
    a variable. Restored on exit."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = str(value)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def objcopy(*args):
    subprocess.run(["objcopy", *map(str, args)], check=True)


def build_id(path):
    out = subprocess.run(["readelf", "-n", str(path)], check=True,
                         capture_output=True, text=True).stdout
    return next(line.split(":")[1].strip() for line in out.splitlines()
                if "Build ID:" in line)


def build(s, strip, debuglink=False):
    """The target, stripped with objcopy --STRIP into s.tmp/app/, and its
    debug file s.tmp/split/prog.debug (for a debuglink, named in the
    target with its CRC). Returns (target, debug file, build-id)."""
    src = s.tmp / "debuginfo.c"
    src.write_text(SOURCE)
    full = s.compile("full", *TARGET_CFLAGS, "-Wl,--build-id=sha1",
                     "-I", TARGET_SOURCES, src)
    (s.tmp / "app").mkdir()
    (s.tmp / "split").mkdir()
    debug = s.tmp / "split" / "prog.debug"
    target = s.tmp / "app" / "prog"
    objcopy("--only-keep-debug", full, debug)
    link = [f"--add-gnu-debuglink={debug}"] if debuglink else []
    objcopy(f"--{strip}", *link, full, target)
    return target, debug, build_id(full)


def by_build_id(root, ident, debug):
    """Installs debug as ROOT/.build-id/xx/rest.debug; returns ROOT."""
    where = root / ".build-id" / ident[:2]
    where.mkdir(parents=True)
    os.link(debug, where / f"{ident[2:]}.debug")
    return root


def leak_stack(report):
    found = [st for st in report["stacks"] if st["bytes"] == LEAK_BYTES]
    assert len(found) == 1, (f"{len(found)} stacks of {LEAK_BYTES} bytes:\n"
                             + describe_stacks(report))
    assert found[0]["allocs"] == 3, found[0]
    return found[0]


def expect_lines(stack):
    """The leak named from the debug file: functions and file:line."""
    leak, caller = stack["frames"][0], stack["frames"][1]
    assert leak["function"] == "debuginfo_leak", leak
    assert caller["function"] == "debuginfo_caller", caller
    assert os.path.basename(leak["file"] or "") == "debuginfo.c", leak
    assert leak["line"] == LEAK_LINE, (leak, LEAK_LINE)
    assert os.path.basename(caller["file"] or "") == "debuginfo.c", caller


def expect_no_lines(stack, function):
    leak = stack["frames"][0]
    assert leak["function"] == function, leak
    assert leak["file"] is None and leak["line"] is None, leak


def trace_prog(s, target, *args):
    with environment(DEBUGINFOD_URLS=None):
        return trace(s, "prog", *args, path=target)[2]


def test_build_id_debug_dir_names_stripped_target():
    with Session() as s:
        target, debug, ident = build(s, "strip-all")
        root = by_build_id(s.tmp / "debug", ident, debug)
        expect_no_lines(leak_stack(trace_prog(s, target)), None)
        expect_lines(leak_stack(trace_prog(s, target, "--debug-dir", root)))


def test_build_id_debug_dir_adds_lines_to_symtab():
    with Session() as s:
        target, debug, ident = build(s, "strip-debug")
        root = by_build_id(s.tmp / "debug", ident, debug)
        expect_no_lines(leak_stack(trace_prog(s, target)), "debuginfo_leak")
        expect_lines(leak_stack(trace_prog(s, target, "--debug-dir", root)))


def test_debuglink_under_debug_dir():
    """DIR/<the object's directory>/<debuglink>, matched by its CRC; the
    build-id directory stays empty, so only the debuglink finds it."""
    with Session() as s:
        target, debug, _ = build(s, "strip-all", debuglink=True)
        root = s.tmp / "debug"
        mirror = root / str(target.parent).lstrip("/")
        mirror.mkdir(parents=True)
        debug.rename(mirror / debug.name)
        expect_no_lines(leak_stack(trace_prog(s, target)), None)
        expect_lines(leak_stack(trace_prog(s, target, "--debug-dir", root)))


def start_debuginfod(s, files, ident):
    """Debian's debuginfod indexing directory files; returns its URL once
    it serves ident's debuginfo."""
    port = free_port()
    s.spawn("debuginfod", ["debuginfod", "-p", port, "-F", "-t", "0",
                           "-g", "0", "-d", s.tmp / "debuginfod.sqlite",
                           files])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"{url}/buildid/{ident}/debuginfo",
                                        timeout=2) as answer:
                if answer.status == 200:
                    return url
        except (urllib.error.URLError, OSError):
            pass
        assert time.monotonic() < deadline, \
            f"debuginfod never served {ident} within {SERVER_TIMEOUT} s"
        time.sleep(0.2)


def watch(s, target, env, *args):
    """Traces target with -i 1 under env; returns (memleakd, target, time
    of attach)."""
    prog = s.target("prog", path=target)
    with environment(**env):
        daemon = s.memleakd(prog.pid, "-i", "1", *args)
    attached = time.monotonic()
    prog.go()
    return daemon, prog, attached


def report_lines(daemon, count, timeout):
    """Waits for count report lines; returns [(arrival, report)]."""
    got = []
    for i in range(count):
        line = daemon.stdout.wait_for(lambda l: l.strip(), timeout, start=i)
        assert line, f"only {i} reports:\n{daemon.describe()}"
        got.append((time.monotonic(), parse_reports(line)[0]))
    return got


def stop(daemon, prog):
    daemon.stop()
    prog.stop()


def test_debuginfod_fetch_names_a_later_report():
    """The first report is on time, named from the stripped object alone
    (nothing); once the fetch is done a report shows the debug file's
    names and lines, and the debug file is in the private cache."""
    with Session() as s:
        target, debug, ident = build(s, "strip-all")
        served = s.tmp / "served"
        served.mkdir()
        debug.rename(served / "prog.debug")
        url = start_debuginfod(s, served, ident)
        cache = s.tmp / "cache"
        env = dict(DEBUGINFOD_URLS=url, DEBUGINFOD_CACHE_PATH=cache,
                   DEBUGINFOD_TIMEOUT=10)
        daemon, prog, attached = watch(s, target, env)
        (first_at, first), = report_lines(daemon, 1, ON_TIME + 5)
        assert first_at - attached < ON_TIME, \
            f"first report {first_at - attached:.1f} s after attach"
        leak_stack(first)
        deadline = time.monotonic() + FETCH_TIMEOUT
        seen = 1
        while True:
            (_, report), = report_lines(daemon, seen + 1, 5)[seen:]
            seen += 1
            if leak_stack(report)["frames"][0]["file"]:
                break
            assert time.monotonic() < deadline, \
                f"no report named the leak within {FETCH_TIMEOUT} s"
        expect_lines(leak_stack(report))
        assert (cache / ident / "debuginfo").exists(), list(cache.rglob("*"))
        stop(daemon, prog)


def expect_on_time(daemon, attached, count=3):
    """count reports, each within ON_TIME of the one before."""
    before = attached
    for at, report in report_lines(daemon, count, ON_TIME + 5):
        assert at - before < ON_TIME, f"report {at - before:.1f} s late"
        before = at
        expect_no_lines(leak_stack(report), None)


def test_debuginfod_closed_port():
    """Nothing listens: the fetch fails, reports come on time, named from
    the object alone, and memleakd exits cleanly."""
    with Session() as s:
        target, _, _ = build(s, "strip-all")
        env = dict(DEBUGINFOD_URLS=f"http://127.0.0.1:{free_port()}",
                   DEBUGINFOD_CACHE_PATH=s.tmp / "cache")
        daemon, prog, attached = watch(s, target, env, "-v")
        expect_on_time(daemon, attached)
        stop(daemon, prog)
        assert "debuginfod: no debug info for " in daemon.stderr.text(), \
            daemon.stderr.text()


def test_debuginfod_silent_server_never_delays_reports():
    """A server that accepts connections and never answers holds the fetch
    for DEBUGINFOD_TIMEOUT (30 s): reports still come every second, and
    SIGINT still ends memleakd at once, abandoning the fetch."""
    with Session() as s, socket.socket() as server:
        target, _, _ = build(s, "strip-all")
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        port = server.getsockname()[1]
        env = dict(DEBUGINFOD_URLS=f"http://127.0.0.1:{port}",
                   DEBUGINFOD_CACHE_PATH=s.tmp / "cache",
                   DEBUGINFOD_TIMEOUT=30)
        daemon, prog, attached = watch(s, target, env, "-v")
        expect_on_time(daemon, attached)
        stopping = time.monotonic()
        daemon.stop()
        assert time.monotonic() - stopping < 5, "memleakd waited on the fetch"
        prog.stop()
        assert "debuginfod: no debug info" not in daemon.stderr.text(), \
            f"the fetch ended, it was not held:\n{daemon.stderr.text()}"
