"""test_install.py - memleakd as a service: `make install` puts the binary,
presets, man page and systemd unit where they belong; the unit verifies
and its command line traces a unit's main process into its state
directory; -q and a journal on stderr give the log lines a service wants."""

import os
import re
import signal
import stat
import subprocess
import time
import urllib.request

from harness import MEMLEAKD, ROOT, Session, free_port

UNIT = "memleakd@.service"


def install(s, prefix, destdir=None):
    """make install PREFIX=prefix [DESTDIR=destdir]; returns the root the
    files went under."""
    argv = ["make", "-s", "--no-print-directory", "-C", str(ROOT), "install",
            f"PREFIX={prefix}"]
    if destdir:
        argv.append(f"DESTDIR={destdir}")
    status, out, err = s.run(argv, timeout=120)
    assert status == 0, (out, err)
    return destdir or "/"


def test_install_layout():
    """With DESTDIR and PREFIX=/usr: the binary in sbin (0755), the
    presets where the installed binary finds them, the man page renders
    without a warning, and the unit passes systemd-analyze verify with a
    unit to follow beside it."""
    with Session() as s:
        dest = s.tmp / "pkg"
        install(s, "/usr", dest)
        binary = dest / "usr/sbin/memleakd"
        assert stat.S_IMODE(binary.stat().st_mode) == 0o755
        status, out, err = s.run([binary, "--list-presets"])
        assert status == 0 and out.startswith(f"{dest}/usr/sbin/../share/memleakd/presets:"), \
            (out, err)
        assert re.search(r"^  postgres ", out, re.M), out
        man = subprocess.run(["man", "--warnings", "-l", str(dest / "usr/share/man/man8/memleakd.8")],
                             capture_output=True, text=True, env=dict(os.environ, MANWIDTH="80"),
                             timeout=60)
        assert man.returncode == 0 and not man.stderr and "--sample-bytes" in man.stdout, man.stderr
        unit = (dest / "usr/lib/systemd/system" / UNIT).read_text()
        assert "/usr/sbin/memleakd -q -p" in unit, unit
        units = s.tmp / "units"
        units.mkdir()
        (units / UNIT).write_text(unit)
        (units / "leaky.service").write_text("[Service]\nExecStart=/bin/sleep 1000\n")
        verify = subprocess.run(["systemd-analyze", "verify", str(units / "memleakd@leaky.service")],
                                capture_output=True, text=True, timeout=60,
                                env=dict(os.environ, SYSTEMD_UNIT_PATH=f"{units}:",
                                         MANPATH=str(dest / "usr/share/man")))
        assert verify.returncode == 0 and not verify.stderr, verify.stderr


def exec_start(unit_text, instance):
    """The unit's ExecStart as the shell receives it: systemd's $$ is a
    dollar, %i the instance."""
    line = re.search(r"^ExecStart=(.*)$", unit_text, re.M).group(1)
    argv = re.fullmatch(r"(\S+) -c '(.*)'", line)
    return [argv.group(1), "-c", argv.group(2).replace("$$", "$").replace("%i", instance)]


def test_unit_command_traces_the_main_pid():
    """The unit's command, run as systemd runs it (STATE_DIRECTORY set,
    MEMLEAKD_OPTS and MEMLEAKD_LISTEN from the environment file, systemctl
    answering the followed unit's MainPID), traces that process quietly:
    JSON reports and a `latest` link in the state directory, --keep
    honoured, /metrics served where MEMLEAKD_LISTEN says, nothing on
    stderr, and SIGTERM ends it with status 0."""
    with Session() as s:
        prefix = s.tmp / "prefix"
        install(s, prefix)
        target = s.target("leaks")
        fake = s.tmp / "bin"
        fake.mkdir()
        (fake / "systemctl").write_text(
            f"#!/bin/sh\n[ \"$*\" = 'show -P MainPID leaky.service' ] && echo {target.pid}\n")
        (fake / "systemctl").chmod(0o755)
        state = s.tmp / "state"
        state.mkdir(mode=0o700)
        unit = (prefix / "lib/systemd/system" / UNIT).read_text()
        port = free_port()
        env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}", STATE_DIRECTORY=str(state),
                   MEMLEAKD_OPTS="-i 0.5 -f json --keep 2",
                   MEMLEAKD_LISTEN=f"127.0.0.1:{port}")
        service = subprocess.Popen(exec_start(unit, "leaky"), env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        target.go()
        deadline = time.monotonic() + 20
        while len([p for p in state.iterdir() if p.name.endswith(".json")]) < 2:
            assert time.monotonic() < deadline and service.poll() is None, \
                (service.poll(), list(state.iterdir()))
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        time.sleep(1.2)
        service.send_signal(signal.SIGTERM)
        out, err = service.communicate(timeout=30)
        target.stop()
        reports = sorted(p.name for p in state.iterdir() if p.name.endswith(".json"))
        latest = os.readlink(state / "latest")
    assert service.returncode == 0 and not out and not err, (service.returncode, out, err)
    assert len(reports) == 2 and latest in reports, (reports, latest)
    assert all(name.startswith(f"memleakd-{target.pid}-") for name in reports), reports
    assert f'memleakd_outstanding_bytes{{pid="{target.pid}",comm="leaks"}}' in metrics, metrics


def test_log_lines_for_the_journal():
    """When stderr is the journal (JOURNAL_STREAM names it), each line
    starts with its syslog priority (<6> information, <3> an error);
    elsewhere it does not."""
    with Session() as s:
        target = s.target("leaks")
        target.go()
        runs = []
        for argv in ([MEMLEAKD, "-p", str(target.pid), "-d", "1"],
                     [MEMLEAKD, "-p", "1", "--max-allocs", "1"]):
            log = s.tmp / "stderr"
            with open(log, "w") as f:
                st = os.fstat(f.fileno())
                env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
                status = subprocess.run(argv, stderr=f, stdout=subprocess.DEVNULL, env=env,
                                        timeout=60).returncode
            runs.append((status, log.read_text().splitlines()))
        plain = s.run([MEMLEAKD, "-p", "1", "--max-allocs", "1"])
        target.stop()
    (traced, info), (refused, errors) = runs
    assert traced == 0 and info and all(re.match(r"<[3-7]>memleakd: ", l) for l in info), info
    assert f"<6>memleakd: attached to pid {target.pid} " in "\n".join(info), info
    assert refused == 2 and errors and all(l.startswith("<3>memleakd: error: ") for l in errors), \
        errors
    assert plain[0] == 2 and plain[2].startswith("memleakd: error: "), plain
