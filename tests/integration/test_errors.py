"""test_errors.py - memleakd refuses clearly and leaves the target alone:
a missing process, no privileges, no BTF, no uprobes, no malloc in the
target, invalid option values. Each error must exit non-zero with the
contract's phrase in stderr (compared case-insensitively), and the target
must still work afterwards."""

import os
import subprocess
from pathlib import Path

from harness import MEMLEAKD, TARGET_SOURCES, Session


def expect_error(session, argv, phrase):
    status, out, err = session.run(argv)
    assert status != 0, f"{argv}: exit status 0\nstdout: {out}\nstderr: {err}"
    assert status > 0, f"{argv}: killed by signal {-status}\nstderr: {err}"
    assert phrase.lower() in err.lower(), \
        f"{argv}: stderr lacks {phrase!r}:\n{err}"
    assert "attached to pid" not in err, f"{argv}: claims to be attached"


def expect_untouched(target):
    """The target still runs its work and exits cleanly."""
    target.go()
    target.stop()


def test_no_such_process():
    with Session() as s:
        gone = subprocess.Popen(["true"])
        gone.wait()
        assert not os.path.exists(f"/proc/{gone.pid}"), "pid reused"
        expect_error(s, [MEMLEAKD, "-p", gone.pid], "no such process")


def test_not_root():
    """Without capabilities (uid 65534, none kept) memleakd names CAP_BPF."""
    with Session() as s:
        target = s.target("leaks")
        expect_error(s, ["setpriv", "--reuid=65534", "--regid=65534",
                         "--clear-groups", MEMLEAKD, "-p", target.pid],
                     "CAP_BPF")
        expect_untouched(target)


def test_root_without_bpf_capabilities():
    """uid 0 without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (dropped from
    the bounding set, so the exec'd memleakd lacks them): CAP_BPF named."""
    with Session() as s:
        target = s.target("leaks")
        expect_error(s, ["setpriv", "--bounding-set=-bpf,-perfmon,-sys_admin",
                         MEMLEAKD, "-p", target.pid], "CAP_BPF")
        expect_untouched(target)


def in_namespace_with_tmpfs_over(directory, target):
    """memleakd -p PID in a private mount namespace where an empty tmpfs
    hides directory."""
    return ["unshare", "-m", "sh", "-c",
            f'mount -t tmpfs none {directory} && exec "$0" -p "$1"',
            MEMLEAKD, target.pid]


def test_no_btf():
    with Session() as s:
        target = s.target("leaks")
        expect_error(s, in_namespace_with_tmpfs_over("/sys/kernel/btf",
                                                     target), "BTF")
        expect_untouched(target)


def test_no_uprobes():
    with Session() as s:
        target = s.target("leaks")
        expect_error(s, in_namespace_with_tmpfs_over(
            "/sys/bus/event_source/devices/uprobe", target), "uprobe")
        expect_untouched(target)


def test_no_malloc():
    """A process without libc (built here with -nostdlib) has no malloc."""
    with Session() as s:
        binary = s.compile("no_malloc", "-O1", "-g", "-static", "-nostdlib",
                           "-fno-stack-protector", "-e", "main",
                           TARGET_SOURCES / "no_malloc.c")
        target = s.target("no_malloc", path=binary)
        expect_error(s, [MEMLEAKD, "-p", target.pid], "no malloc")
        assert target.running(), "no_malloc died"
        status = Path(f"/proc/{target.pid}/status").read_text()
        assert "\nState:\tS" in status and "\nTracerPid:\t0\n" in status, \
            f"no_malloc is not left sleeping and untraced:\n{status}"


def test_invalid_option_values():
    """Each invalid value is refused with a message naming its option."""
    cases = [("--pid", "abc"), ("--interval", "abc"), ("--interval", "-1"),
             ("--duration", "abc"), ("--duration", "-1"), ("--top", "abc"),
             ("--top", "-1"), ("--min-age", "abc"), ("--min-age", "-1"),
             ("--format", "xml"), ("--max-allocs", "abc"),
             ("--max-allocs", "-1")]
    with Session() as s:
        target = s.target("leaks")
        for option, value in cases:
            argv = [MEMLEAKD, "-p", target.pid, option, value]
            if option == "--pid":
                argv = [MEMLEAKD, option, value]
            expect_error(s, argv, option)
        expect_untouched(target)
