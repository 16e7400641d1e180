#!/usr/bin/env python3
"""bench/sweep_cost.py - `make bench`: what the sweep of released context
records costs (src/snapshot/ctx_sweep.h, bpf/sweep.bpf.h).

1. Per million records: build/targets/arena_leaks makes 1,024,000 chunks
   in 256 arenas ("released": each arena destroyed, its chunks released
   and never handed out again; "kept": the arenas kept, every record
   live), traced with --max-allocs 4194304 so that no sweep runs before
   the final report, whose sweep walks them all. The sweep's time (-v),
   in ms per million records, for records all released (each retired)
   and all live (each only looked at).
2. Under PostgreSQL 15 (Debian's): one backend of a server with pgbench's
   tables, traced with --preset postgres -i 5 for SECONDS seconds while
   it serves pgbench's TPC-B-like transactions (bench/pg_preset.py's), and
   while it also leaks LEAK_REQUESTS prepared statements every
   TRANSACTIONS (postgres.py's prepare_requests). memleakd's CPU time
   over the run (user + system, which includes the sweep program's runs;
   /proc's clock ticks), and the sweeps' own time (their runs' wall time,
   as -v logs them; the final report's left out), as shares of one CPU.

ROUNDS rounds, medians.
"""
import os
import re
import signal
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from run import machine  # noqa: E402  (bench/run.py: before pg_preset puts tests first)
from expected import ARENA_SPECS  # noqa: E402
from harness import Session  # noqa: E402
from pg_preset import tpcb  # noqa: E402
from postgres import pgbench_init, prepare_requests, start_postgres  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = float(os.environ.get("BENCH_SWEEP_SECONDS", "30"))
ARENAS, CHUNKS = 256, 4000
# Prepared statements leaked with each run of pg_preset's transactions.
LEAK_REQUESTS = 100
SWEPT_RE = re.compile(r"(?:swept the context records: |the sweep retired )(\d+) released "
                      r"(?:ones retired|context records) in ([\d.]+) ms")
TICK = os.sysconf("SC_CLK_TCK")


def swept(daemon, lines=None):
    """(records retired, ms) of every sweep memleakd logged (in its first
    lines lines of standard error)."""
    found = [SWEPT_RE.search(line) for line in daemon.stderr.lines[:lines]]
    return [(int(m.group(1)), float(m.group(2))) for m in found if m]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def arena_sweep(mode):
    """ms per million records of the final report's sweep."""
    with Session() as s:
        target = s.target("arena_leaks", mode, ARENAS, CHUNKS, 0)
        daemon = s.memleakd(target.pid, "--max-allocs", 4194304, "-v", "--no-malloc",
                            *ARENA_SPECS)
        target.go()
        daemon.stop()
        target.stop()
    ms = swept(daemon)[-1][1]
    return ms * 1e6 / (ARENAS * CHUNKS)


def pg_run(session, server, leak):
    """(memleakd's CPU share, the sweeps' share, records retired) over one
    run of SECONDS."""
    backend = server.connect()
    backend.query(tpcb(0))
    daemon = session.memleakd(backend.pid, "--preset", "postgres", "-i", "5", "-v",
                              json_format=False)
    cpu, started, n = cpu_seconds(daemon.popen.pid), time.monotonic(), 0
    while time.monotonic() - started < SECONDS:
        sql = tpcb(n)
        if leak:
            sql += ";\n" + prepare_requests(n * LEAK_REQUESTS, LEAK_REQUESTS, "leak")
        backend.query(sql, timeout=300)
        n += 1
    wall = time.monotonic() - started
    cpu = cpu_seconds(daemon.popen.pid) - cpu
    sweeps = swept(daemon, len(daemon.stderr.lines))
    daemon.signal(signal.SIGINT)
    daemon.wait()
    backend.close()
    return cpu / wall, sum(ms for _, ms in sweeps) / 1e3 / wall, sum(r for r, _ in sweeps)


def main():
    stale = [arena_sweep("released") for _ in range(ROUNDS)]
    live = [arena_sweep("kept") for _ in range(ROUNDS)]
    print(f"Sweep of the context records, {ARENAS * CHUNKS} in the map, {ROUNDS} rounds, "
          f"medians; {machine()}")
    for name, values in (("all released (retired)", stale), ("all live (looked at)", live)):
        print(f"  {name:24} {statistics.median(values):7.0f} ms per million records   "
              "runs: " + " ".join(f"{v:.0f}" for v in values))
    with Session() as s:
        server = start_postgres(s)
        pgbench_init(server)
        for leak in (False, True):
            runs = [pg_run(s, server, leak) for _ in range(ROUNDS)]
            name = "TPC-B + prepared leak" if leak else "TPC-B"
            print(f"  PostgreSQL, {name:22} memleakd {statistics.median(r[0] for r in runs):6.1%}"
                  f" of a CPU, sweeps {statistics.median(r[1] for r in runs):6.2%}, "
                  f"{statistics.median(r[2] for r in runs):.0f} records retired in "
                  f"{SECONDS:.0f} s   runs: "
                  + " ".join(f"{r[0]:.1%}/{r[1]:.2%}" for r in runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
