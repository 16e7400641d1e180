"""test_output.py - where reports go when the directory is not only root's:
memleakd runs as root and writes where a user can plant names and links
(the user whose service is traced). A link at the old predictable temporary
name or at the final name is never written through, an output that is a
link is refused, a FIFO neither hangs nor is written, and reports are
readable by root only."""

import os
import signal
import stat

from harness import MEMLEAKD, Session

VICTIM_TEXT = "root's file\n"


def victims(s, n):
    """n files root owns, outside the output directory."""
    paths = []
    for i in range(n):
        path = s.tmp / f"victim{i}"
        path.write_text(VICTIM_TEXT)
        paths.append(path)
    return paths


def open_directory(s):
    """A directory anyone may write, as /tmp is."""
    out = s.tmp / "shared"
    out.mkdir()
    out.chmod(0o1777)
    return out


def write_reports(s, *args):
    """memleakd -p PID ARGS on a leaks target, to its end: the reports go
    where ARGS say, not to stdout."""
    target = s.target("leaks")
    daemon = s.memleakd(target.pid, *args, json_format=False)
    target.go()
    daemon.signal(signal.SIGINT)
    assert daemon.wait() == 0, daemon.describe()
    target.stop()


def expect_untouched(paths):
    for path in paths:
        assert path.read_text() == VICTIM_TEXT, f"{path} was written"


def test_document_through_planted_links():
    """-f svg -o DIR/report.svg, with links planted at DIR/.report.svg.tmp
    (the temporary name of earlier versions) and at DIR/report.svg: the
    report replaces the final link by a file of its own, mode 0600, and
    neither link's target is written."""
    with Session() as s:
        out = open_directory(s)
        planted_tmp, planted_final = victims(s, 2)
        os.symlink(planted_tmp, out / ".report.svg.tmp")
        os.symlink(planted_final, out / "report.svg")
        write_reports(s, "-f", "svg", "-o", str(out / "report.svg"))
        report = out / "report.svg"
        st = os.lstat(report)
        assert stat.S_ISREG(st.st_mode), "the report is not a regular file"
        assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        assert "<svg" in report.read_text()
        expect_untouched([planted_tmp, planted_final])
        leftovers = sorted(p.name for p in out.iterdir()
                           if p.name not in ("report.svg", ".report.svg.tmp"))
        assert not leftovers, leftovers


def test_directory_through_planted_latest():
    """-o DIR/ with `latest` planted as a link to root's file: it is
    replaced by a link to the newest report; the reports are 0600 and a
    directory memleakd creates is 0700."""
    with Session() as s:
        out = open_directory(s)
        (victim,) = victims(s, 1)
        os.symlink(victim, out / "latest")
        write_reports(s, "-f", "json", "-o", f"{out}/")
        newest = os.readlink(out / "latest")
        assert newest.startswith("memleakd-"), newest
        assert stat.S_IMODE(os.lstat(out / newest).st_mode) == 0o600
        expect_untouched([victim])
        created = s.tmp / "created"
        write_reports(s, "-f", "json", "-o", f"{created}/")
        assert stat.S_IMODE(os.lstat(created).st_mode) == 0o700


def test_refuses_links_and_fifos():
    """An output that is a link (a directory's, a stream file's) is refused
    before attaching, and so is a FIFO, at once: the target is left alone
    and nothing is written through."""
    with Session() as s:
        target = s.target("leaks")
        out = open_directory(s)
        (victim,) = victims(s, 1)
        elsewhere = s.tmp / "elsewhere"
        elsewhere.mkdir()
        os.symlink(elsewhere, out / "dir_link")
        os.symlink(victim, out / "stream.json")
        os.mkfifo(out / "fifo.json")
        cases = [([f"{out}/dir_link/"], "refusing a symbolic link"),
                 ([str(out / "dir_link")], "refusing a symbolic link"),
                 ([str(out / "stream.json"), "-f", "json"],
                  "refusing a symbolic link"),
                 ([str(out / "fifo.json"), "-f", "json"], "not a regular file")]
        for args, message in cases:
            status, _, err = s.run([MEMLEAKD, "-p", str(target.pid), "-o", *args],
                                   timeout=10)
            assert status == 1 and message in err and "attached" not in err, \
                (args, status, err)
        expect_untouched([victim])
        assert not list(elsewhere.iterdir())
        target.go()
        target.signal(signal.SIGTERM)
        assert target.wait() == 0


def test_directory_parents_created():
    """-o DIR/ creates the missing directories on its way, root's only; a
    --keep without a directory is refused with a message that says why and
    no errno text after it."""
    with Session() as s:
        out = s.tmp / "a" / "b" / "reports"
        write_reports(s, "-o", f"{out}/", "-f", "json")
        assert [p.name for p in out.iterdir() if p.name.endswith(".json")], \
            list(out.iterdir())
        for d in (s.tmp / "a", s.tmp / "a" / "b", out):
            assert stat.S_IMODE(d.stat().st_mode) == 0o700, (d, oct(d.stat().st_mode))
        target = s.target("leaks")
        status, _, err = s.run([MEMLEAKD, "-p", str(target.pid), "-o", str(s.tmp / "one.json"),
                                "--keep", "3"], timeout=10)
        target.go()
        target.signal(signal.SIGTERM)
        assert target.wait() == 0
    assert status == 1 and err.strip().endswith(
        "--keep needs a directory (end the path with /)"), err
