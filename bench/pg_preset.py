#!/usr/bin/env python3
"""bench/pg_preset.py - `make bench`: what --preset postgres costs a real
PostgreSQL 15 backend (Debian's), on pgbench's TPC-B-like transaction.

One server (tests/integration/postgres.py), tables from `pgbench -i`, one
backend held open. Each run sends it the same TRANSACTIONS transactions,
untraced, with memleakd --preset postgres attached (the malloc family
traced too), the same with pfree probed itself rather than through its
methods (the preset's specs given as flags, pfree's without methods=:
single-stepped), and with every probe at its function's first byte
(MEMLEAKD_PROBES_AT_ENTRY: memleakd before it placed its probes),
alternating (A B C D A B C D ...), and times them. Prints the medians of
the seconds per run, transactions per second and their ratios to
untraced.
"""
import os
import random
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from harness import MEMLEAKD, Session  # noqa: E402
from postgres import pgbench_init, start_postgres  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import load, machine  # noqa: E402

TRANSACTIONS = int(os.environ.get("BENCH_PG_TRANSACTIONS", "300"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SCALE = 1  # pgbench -s: 100,000 accounts, 10 tellers, 1 branch
PRESET = os.path.join(ROOT, "presets", "postgres.preset")


def preset_flags(pfree_itself):
    """--preset postgres as flags; pfree's spec without methods= when
    pfree_itself."""
    flags = []
    with open(PRESET) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if not line:
                continue
            flag, spec = line.split(None, 1)
            if pfree_itself and spec.startswith("pfree:"):
                spec = "pfree"
            flags += [flag, spec]
    return flags


# (name, memleakd's arguments or None: untraced, memleakd's environment)
SIDES = [("untraced", None, None),
         ("memleakd --preset postgres", preset_flags(False), None),
         ("the same, pfree probed itself", preset_flags(True), None),
         ("the same, probes at entry", preset_flags(False),
          dict(os.environ, MEMLEAKD_PROBES_AT_ENTRY="1"))]


def tpcb(seed):
    """TRANSACTIONS of pgbench's built-in "TPC-B (sort of)" script, as SQL."""
    rng = random.Random(seed)
    parts = []
    for _ in range(TRANSACTIONS):
        aid, tid, bid = rng.randint(1, 100000 * SCALE), rng.randint(1, 10 * SCALE), 1
        delta = rng.randint(-5000, 5000)
        parts.append(
            "begin;\n"
            f"update pgbench_accounts set abalance = abalance + {delta} where aid = {aid};\n"
            f"select abalance from pgbench_accounts where aid = {aid};\n"
            f"update pgbench_tellers set tbalance = tbalance + {delta} where tid = {tid};\n"
            f"update pgbench_branches set bbalance = bbalance + {delta} where bid = {bid};\n"
            "insert into pgbench_history (tid, bid, aid, delta, mtime) "
            f"values ({tid}, {bid}, {aid}, {delta}, current_timestamp);\n"
            "end")
    return ";\n".join(parts)


def one_run(session, backend, args, tracer_env, seed):
    """Seconds for one run of the transactions, traced by memleakd ARGS
    (in tracer_env), or untraced when args is None."""
    daemon = session.memleakd(backend.pid, *args, env=tracer_env) if args else None
    sql = tpcb(seed)
    started = time.monotonic()
    backend.query(sql, timeout=300)
    took = time.monotonic() - started
    if daemon:
        daemon.stop()
    return took


def main():
    with Session() as s:
        server = start_postgres(s)
        pgbench_init(server, SCALE)
        backend = server.connect()
        one_run(s, backend, None, None, 0)  # warm the caches
        runs = [[] for _ in SIDES]
        for r in range(ROUNDS):
            for (_, args, tracer_env), side_runs in zip(SIDES, runs):
                side_runs.append(one_run(s, backend, args, tracer_env, r))
    print(f"PostgreSQL 15, one backend, {TRANSACTIONS} TPC-B-like transactions per run, "
          f"{ROUNDS} rounds alternated, medians; {machine()}; load average {load()}")
    base = statistics.median(runs[0])
    for (name, _, _), values in zip(SIDES, runs):
        median = statistics.median(values)
        print(f"{name:30} {median:7.3f} s  {TRANSACTIONS / median:8.0f} tps  "
              f"{base / median:5.3f} of untraced   runs: {' '.join(f'{x:.3f}' for x in values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
