"""test_healthy_servers.py - no false alarms on healthy servers: Debian's
PostgreSQL 15 backend serving pgbench's TPC-B-like transactions (with
--preset postgres), redis-server under redis-benchmarks on a bounded
keyspace, and nginx under wrk. Each server is warmed up, then traced a
few times, one after the other, with a report every second: no report
may say leak_suspected, and every report whose trend window is full (from
the seventh on) must say no_leak. bench/false_alarms.py repeats these runs many
more times for BENCHMARKS.md.

Each test prints what it saw (shown by run.py when it fails)."""

import time

from harness import Session, describe_stacks
from real_programs import (Pgbench, full_window_reports, nginx_load, redis_load,
                           start_nginx, start_redis)

# Verdicts on servers under their full load: nothing else shares the CPUs.
ALONE = True

RUNS = 3
# PostgreSQL's runs take longer to attach (the preset's probes, the
# server's unwind tables): two per test, in two tests.
PG_RUNS = 2
# Reports a second apart for 11 s: the window (6 intervals) is full from
# the seventh on, or a report or two later when a loaded machine delays the
# stacks' first whole capture (their unwind tables). Every stack is listed,
# so that a report shows whether any has a full window.
TRACE_ARGS = ("-i", "1", "-d", "11", "-n", "1000")
TRACE_SECONDS = 11
WARM_UP_SECONDS = 2


def trace_healthy(session, pid, *args):
    """One traced run of TRACE_ARGS on pid; returns its reports, checked."""
    daemon = session.memleakd(pid, *TRACE_ARGS, *args)
    daemon.finished_report(timeout=TRACE_SECONDS + 20)
    reports = daemon.reports()
    print([(r["report"], r["process"]["verdict"]) for r in reports], flush=True)
    assert len(reports) >= 7, f"{len(reports)} reports"
    for report in reports:
        assert report["process"]["verdict"] != "leak_suspected", \
            (report["report"], report["process"], describe_stacks(report))
    full = full_window_reports(reports)
    assert full, "no report with a full trend window"
    for report in full:
        assert report["process"]["verdict"] == "no_leak", (report["report"], report["process"])
        assert report["totals"]["dropped_allocs"] == 0, report["totals"]
    return reports


def test_pgbench_backend():
    """A backend warmed up by pgbench -c 1, traced twice with the preset
    while pgbench keeps running: the planner's and executor's memory in
    flight at one report and not the next is never a suspect."""
    with Session() as s:
        pgbench = Pgbench(s)
        load, backend = pgbench.run(WARM_UP_SECONDS + PG_RUNS * (TRACE_SECONDS + 8))
        time.sleep(WARM_UP_SECONDS)
        for _ in range(PG_RUNS):
            trace_healthy(s, backend, "--preset", "postgres")
            assert load.running(), load.describe()


def test_pgbench_new_backends():
    """The same on a new backend each run (a new pgbench connection),
    traced once warmed up: its caches still filling."""
    with Session() as s:
        pgbench = Pgbench(s)
        for _ in range(PG_RUNS):
            load, backend = pgbench.run(WARM_UP_SECONDS + TRACE_SECONDS + 8)
            time.sleep(WARM_UP_SECONDS)
            trace_healthy(s, backend, "--preset", "postgres")
            load.kill()


def test_redis_bounded_keyspace():
    """redis-server under six redis-benchmarks at once, one per command
    (SET, GET, INCR, HSET, SADD, MSET on 2,000 keys, filled before), a
    steady mix: each traced run sees the values set before attach
    replaced by values it traces, a growth that slows down as it
    completes, and is not a leak. Its frames are named by the path it was
    run by, /usr/bin/redis-server, not the file the link resolves to."""
    with Session() as s:
        redis = start_redis(s)
        load = redis_load(s, redis)
        time.sleep(WARM_UP_SECONDS)
        for _ in range(RUNS):
            reports = trace_healthy(s, redis.pid)
            assert load.running(), load.describe()
    # Debian's redis-server is a link to redis-check-rdb: the report names
    # the program as it was run.
    modules = {f["module"] for st in reports[-1]["stacks"] for f in st["frames"]}
    assert reports[-1]["exe"] == "/usr/bin/redis-server", reports[-1]["exe"]
    assert "/usr/bin/redis-server" in modules and "/usr/bin/redis-check-rdb" not in modules, \
        modules


def test_nginx_under_wrk():
    """nginx (a master and one worker, its own prefix and configuration,
    on 127.0.0.1) under wrk asking for a small page, a larger file and a
    missing one on 8 connections: its worker's request pools come and go."""
    with Session() as s:
        nginx = start_nginx(s)
        load = nginx_load(s, nginx, WARM_UP_SECONDS + RUNS * (TRACE_SECONDS + 6))
        time.sleep(WARM_UP_SECONDS)
        for _ in range(RUNS):
            trace_healthy(s, nginx.pid)
            assert load.running(), load.describe()
