"""test_seccomp.py - a target confined by seccomp: the return probes must
not get it killed. On x86-64 from Linux 6.11, a return probe sends the
thread through the kernel's uretprobe system call, which a filter of the
target's own (default kill, or default errno) does not list, nor does
strict mode: the kernel must let it through, or memleakd must refuse."""

import re

from expected import SECCOMP_LEAKS, SECCOMP_TOTALS
from harness import Session, expect_stacks, expect_totals

SECCOMP_LINE = re.compile(r"memleakd: pid (\d+) runs under seccomp \((\w+) mode\); "
                          r"this kernel lets return probes through it")


def test_seccomp_confined_target_survives():
    """seccomp_confined in each mode: confined by a filter before memleakd
    attaches (kill, errno), memleakd says so and that it found this kernel
    lets return probes through; or confined in strict mode while traced.
    The target does its work confined and exits 0, and the report is
    exact."""
    for mode in ("kill", "errno", "strict"):
        with Session() as s:
            target = s.target("seccomp_confined", mode)
            daemon = s.memleakd(target.pid)
            if mode != "strict":
                line = daemon.stderr.wait_for(SECCOMP_LINE.match, 1)
                assert line and SECCOMP_LINE.match(line).groups() == \
                    (str(target.pid), "filter"), daemon.describe()
            target.go()
            if mode == "strict":
                # strict mode allows no sigwait: it exits at once.
                assert target.wait() == 0, target.describe()
                report = daemon.finished_report()
                assert report["end_reason"] == "target exited", report["end_reason"]
            else:
                report = daemon.stop()
                target.stop()
            expect_stacks(report, SECCOMP_LEAKS)
            expect_totals(report, SECCOMP_TOTALS)
