"""test_valgrind.py - memleakd counts what valgrind's memcheck counts, on
real Debian programs: allocations, frees, and the bytes and blocks still
in use when the program exits, exactly.

Each program runs twice with the same arguments and environment: once
under memcheck, once traced by memleakd attached before its first malloc.
tests/targets/libs/stop_before_malloc.c, preloaded in both runs, stops the
process once libc is mapped and before anything calls malloc; the test
attaches memleakd (or just goes on, under memcheck) and sends SIGCONT.
memleakd's final report, printed when the program exits, is compared with
memcheck's HEAP SUMMARY. What keeps the two runs alike:

- memcheck's tool binary runs directly (VALGRIND_LAUNCHER says where the
  launcher is): Debian's /usr/bin/valgrind is a script that adds
  LD_LIBRARY_PATH and GLIBCXX_FORCE_NEW to the program's environment, and
  its launcher would load the preloaded library itself;
- --run-libc-freeres=no and --run-cxx-freeres=no: by default memcheck makes
  glibc and libstdc++ free their internal memory at exit, which a program
  does not do on its own;
- the preloaded library takes LD_PRELOAD out of the environment, where
  memcheck adds its own libraries.

memcheck replaces malloc, so glibc's thread caches do not exist under it;
natively, an exiting thread's cache is freed by glibc itself, calls the
program never made (allocator_frees), which git grep's worker threads show.
"""

import os
import re
import signal
import time
from pathlib import Path

from harness import READY_TIMEOUT, ROOT, Session

MEMCHECK = Path("/usr/libexec/valgrind/memcheck-amd64-linux")
LAUNCHER = Path("/usr/bin/valgrind.bin")
STOP_LIBRARY = ROOT / "tests" / "targets" / "libs" / "stop_before_malloc.c"
PROGRAM_TIMEOUT = 60

IN_USE_RE = re.compile(r"in use at exit: ([\d,]+) bytes in ([\d,]+) blocks")
TOTAL_RE = re.compile(r"total heap usage: ([\d,]+) allocs, ([\d,]+) frees")


def number(text):
    return int(text.replace(",", ""))


def wait_stopped(process):
    """Waits until process is stopped (SIGSTOP)."""
    deadline = time.monotonic() + READY_TIMEOUT
    stat = Path(f"/proc/{process.popen.pid}/stat")
    while time.monotonic() < deadline:
        if stat.read_text().rsplit(")", 1)[1].split()[0] == "T":
            return
        assert process.running(), f"exited before it stopped:\n{process.describe()}"
        time.sleep(0.01)
    raise AssertionError(f"never stopped itself:\n{process.describe()}")


def finish(process):
    """Waits for process to exit 0 and returns its standard output."""
    status = process.wait(PROGRAM_TIMEOUT)
    assert status == 0, f"exit status {status}:\n{process.describe()}"
    return process.stdout.text()


class Comparison:
    """Runs programs with the stopping library preloaded, in session s."""

    def __init__(self, s):
        for path in (MEMCHECK, LAUNCHER):
            assert path.exists(), f"{path} is missing: scripts/install-deps.sh installs valgrind"
        self.s = s
        self.library = s.compile("libstop_before_malloc.so", "-O2", "-fPIC", "-shared",
                                 STOP_LIBRARY)

    def environment(self, extra):
        return {"PATH": "/usr/bin:/bin", "HOME": str(self.s.tmp), "LANG": "C",
                "LD_PRELOAD": str(self.library), **extra}

    def memcheck(self, argv, env):
        """(counts, output) of argv under memcheck."""
        process = self.s.spawn("memcheck", [MEMCHECK, "--run-libc-freeres=no",
                                            "--run-cxx-freeres=no", *argv],
                               dict(env, VALGRIND_LAUNCHER=str(LAUNCHER)))
        wait_stopped(process)
        process.signal(signal.SIGCONT)
        output = finish(process)
        summary = process.stderr.text()
        in_use, total = IN_USE_RE.search(summary), TOTAL_RE.search(summary)
        assert in_use and total, f"no HEAP SUMMARY:\n{summary}"
        return {"allocs": number(total.group(1)), "frees": number(total.group(2)),
                "outstanding_bytes": number(in_use.group(1)),
                "outstanding_allocs": number(in_use.group(2))}, output

    def traced(self, argv, env):
        """(memleakd's final totals, output) of argv."""
        process = self.s.spawn(argv[0], argv, env)
        wait_stopped(process)
        daemon = self.s.memleakd(process.popen.pid)
        process.signal(signal.SIGCONT)
        output = finish(process)
        report = daemon.finished_report()
        assert report["end_reason"] == "target exited", report["end_reason"]
        return report["totals"], output

    def compare(self, argv, **extra):
        """Runs argv both ways; asserts the same output and the same counts;
        returns memleakd's totals."""
        env = self.environment(extra)
        expected, expected_output = self.memcheck(argv, env)
        totals, output = self.traced(argv, env)
        assert output == expected_output, \
            f"output differs: {output!r}, under memcheck {expected_output!r}: {argv!r}"
        got = {key: totals[key] for key in expected}
        assert got == expected, f"memleakd {got}, memcheck {expected}: {argv!r}"
        for key in ("dropped_allocs", "failed_allocs", "unknown_frees", "replaced_allocs"):
            assert totals[key] == 0, f"{argv[0]}: {key} {totals[key]}: {totals}"
        return totals


def test_matches_valgrind_on_c_and_cxx_programs():
    """jq and sqlite3 (C) and cmake (C++, whose libraries' constructors
    allocate before main): exactly memcheck's counts."""
    sql = ("create table t(a, b);"
           " with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000)"
           " insert into t select x, 'v' || x from c;"
           " create index i on t(b);"
           " select count(*), sum(a) from t where b like '%7%';")
    with Session() as s:
        compare = Comparison(s)
        compare.compare(["/usr/bin/jq", "-n",
                         "[range(2000)] | map(tostring) | join(\",\") | length"])
        compare.compare(["/usr/bin/sqlite3", ":memory:", sql])
        compare.compare(["/usr/bin/cmake", "--version"])


def test_matches_valgrind_on_python():
    """Debian's python3 with PYTHONMALLOC=malloc (every object through
    malloc): a dict of lists, then json; 500 blocks still in use at exit.
    A fixed PYTHONHASHSEED: the same hashes in both runs. PYTHONSAFEPATH:
    the working directory is not searched for modules, so that its listing,
    which make check's other tests change meanwhile, is not read (a
    directory of 300 files adds 321 allocations)."""
    script = ("d = {str(i): [i] * 3 for i in range(3000)}\n"
              "import json\n"
              "print(len(json.dumps(d)))\n")
    with Session() as s:
        totals = Comparison(s).compare(["/usr/bin/python3", "-c", script],
                                       PYTHONMALLOC="malloc", PYTHONHASHSEED="0",
                                       PYTHONSAFEPATH="1")
    assert totals["allocs"] > 50000, totals


def test_matches_valgrind_on_git_grep_threads():
    """git grep --threads 4 in a repository of 40 files: its worker threads
    exit, and glibc frees what their caches hold. Those are not the
    program's frees: memleakd's frees stay memcheck's, and the cache frees
    are counted apart (allocator_frees)."""
    with Session() as s:
        repo = s.tmp / "repo"
        repo.mkdir()
        words = ["alpha", "beta", "gamma", "leak", "malloc", "free"]
        for f in range(40):
            (repo / f"f{f}.txt").write_text("".join(
                " ".join(words[(f * 7 + line * 3 + w * w) % 6] for w in range(8)) + "\n"
                for line in range(200)))
        git = ["/usr/bin/git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
        env = {"PATH": "/usr/bin:/bin", "HOME": str(s.tmp)}
        for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "files"]):
            status, _, err = s.run([*git, *command], env=env)
            assert status == 0, err
        totals = Comparison(s).compare([*git, "grep", "--threads=4", "-n", "-e", "leak",
                                        "-e", "free gamma"])
    assert totals["allocator_frees"] > 0, totals
