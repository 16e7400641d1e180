"""test_hostile_files.py - the target's files are the target's: an
unprivileged user may truncate a debug file memleakd has read, put a FIFO
where its perf map should be, or make that map 64 GiB without a newline.
memleakd, as root, must not die, hang or swell: it reports to the end,
with what it could read."""

import os
import signal
import subprocess
import time

from harness import (TARGET_CFLAGS, TARGET_SOURCES, Session, describe_stacks,
                     find_stack)

TWO_PHASES = r"""#include "target.h"

__attribute__((noinline)) static void *first_leak(size_t n)
{
	return malloc(n);
}

__attribute__((noinline)) static void *second_leak(size_t n)
{
	return malloc(n);
}

int main(void)
{
	target_ready();
	target_wait_start();
	target_keep(first_leak(1111));
	target_done();
	target_wait_start();
	target_keep(second_leak(2222));
	printf("second\n");
	fflush(stdout);
	target_idle();
}
"""

PERF_MAP_TIMEOUT = 5


def stripped_with_debuglink(s):
    """TWO_PHASES stripped, its symbols and DWARF in s.tmp/app/prog.debug,
    named by its .gnu_debuglink. Returns (program, debug file)."""
    src = s.tmp / "two_phases.c"
    src.write_text(TWO_PHASES)
    full = s.compile("full", *TARGET_CFLAGS, "-I", TARGET_SOURCES, src)
    (s.tmp / "app").mkdir()
    program, debug = s.tmp / "app" / "prog", s.tmp / "app" / "prog.debug"
    subprocess.run(["objcopy", "--only-keep-debug", full, debug], check=True)
    subprocess.run(["objcopy", "--strip-all", f"--add-gnu-debuglink={debug}",
                    full, program], check=True)
    return program, debug


def wait_for_report(daemon, n):
    deadline = time.monotonic() + 10
    while len(daemon.reports()) < n:
        assert time.monotonic() < deadline, daemon.describe()
        time.sleep(0.05)
    return daemon.reports()[-1]


def test_debug_file_truncated_after_reading():
    """The debug file is read (the first leak is named from it), then cut to
    nothing; the second leak, at addresses never named before, is named all
    the same and the final report comes: what memleakd read is its own."""
    with Session() as s:
        program, debug = stripped_with_debuglink(s)
        target = s.target("two_phases", path=program)
        daemon = s.memleakd(target.pid, "-i", "0.5")
        target.go()
        report = wait_for_report(daemon, 1)
        assert find_stack(report, "first_leak"), describe_stacks(report)
        os.truncate(debug, 0)
        target.signal(signal.SIGUSR1)
        assert target.stdout.wait_for(lambda l: l == "second", 10), target.describe()
        report = daemon.stop()
        for function in ("first_leak", "second_leak"):
            assert find_stack(report, function), describe_stacks(report)
        target.stop()


def jit_with_perf_map_replaced(s, replace):
    """perf_map_jit, whose /tmp/perf-PID.map is replaced by replace(path)
    once the target wrote it and before memleakd reads it. Returns the
    target and its perf map's path."""
    target = s.target("perf_map_jit")
    path = f"/tmp/perf-{target.pid}.map"
    s.cleanups.append(lambda: os.path.lexists(path) and os.unlink(path))
    deadline = time.monotonic() + PERF_MAP_TIMEOUT
    while not (os.path.exists(path) and open(path).read().count("\n") == 3):
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.02)
    os.unlink(path)
    replace(path)
    return target, path


def jit_stack(report):
    """The stack of the JIT's leak: jit_leak's caller is in [anon]."""
    stack = find_stack(report, "jit_leak")
    assert stack and stack["bytes"] == 25 * 3131, describe_stacks(report)
    return stack


def test_perf_map_fifo():
    """A FIFO where the perf map should be is no perf map: memleakd neither
    blocks on it nor reads it, and stops with its report when told."""
    with Session() as s:
        target, _ = jit_with_perf_map_replaced(s, lambda p: os.mkfifo(p, 0o666))
        daemon = s.memleakd(target.pid, "-i", "0.5")
        target.go()
        wait_for_report(daemon, 2)
        stack = jit_stack(daemon.stop())
        assert stack["frames"][1]["module"] == "[anon]" and \
            stack["frames"][1]["function"] is None, stack["frames"][:2]
        target.stop()


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))


def test_perf_map_without_end():
    """A perf map of 64 GiB without a newline (sparse: it costs the target
    nothing) is read up to its bound and no further: -v says what was cut,
    memleakd's peak memory stays small, and reports keep coming."""
    def sparse(path):
        with open(path, "wb") as f:
            f.truncate(64 << 30)
    with Session() as s:
        target, path = jit_with_perf_map_replaced(s, sparse)
        daemon = s.memleakd(target.pid, "-i", "0.5", "-v")
        target.go()
        wait_for_report(daemon, 2)
        peak = vm_hwm_kib(daemon.popen.pid)
        assert peak < 256 * 1024, f"memleakd peaked at {peak} KiB"
        jit_stack(daemon.stop())
        cut = (f"memleakd: debug: pid {target.pid}: perf map {path}: 0 entries, "
               "0 lines skipped (malformed, or over 4096 bytes); the rest left "
               "unread, past 64 MiB or 1048576 entries")
        assert cut in daemon.stderr.lines, daemon.stderr.text()
        target.stop()
