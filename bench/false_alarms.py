#!/usr/bin/env python3
"""bench/false_alarms.py - `make bench`: how often the verdict cries wolf on
healthy servers, and how long the first judged verdict takes.

1. False alarms. Each healthy workload of
   tests/integration/snapshot/test_healthy_servers.py, traced RUNS times
   (BENCH_FALSE_ALARM_RUNS, 20 by default) with a report every second for
   REPORTS seconds: a PostgreSQL 15 backend serving pgbench's TPC-B-like
   transactions with --preset postgres (a new pgbench connection, so a new
   backend, warmed up WARM_UP seconds, per run), redis-server under six
   redis-benchmarks (one per command) on 2,000 keys and nginx under wrk
   (one server each, warmed up, traced again and again). A report is a
   false alarm when it says leak_suspected; the rates are per judged
   report (the sixth on, when a stack seen from the start is first
   judged), per report whose trend window is full (the seventh on), and
   per run with any.
2. Time to the first judged verdict at the default interval (10 s):
   build/targets/demo_leaky, which leaks on every request, traced
   FIRST_VERDICT_RUNS times for 70 s: when the first report that is not
   undecided comes, and its verdict.

Prints one table per part, with the machine.
"""
import collections
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "bench"))

from harness import TARGETS, Session  # noqa: E402
from real_programs import (Pgbench, nginx_load, redis_load, start_nginx,  # noqa: E402
                           start_redis)
from run import machine  # noqa: E402

RUNS = int(os.environ.get("BENCH_FALSE_ALARM_RUNS", "20"))
REPORTS = 12
WARM_UP = 2
FIRST_VERDICT_RUNS = int(os.environ.get("BENCH_FIRST_VERDICT_RUNS", "2"))
FIRST_VERDICT_SECONDS = 70
# The sixth report is the first to judge a stack seen from the first; the
# seventh the first whose default window (6 intervals) is full.
FIRST_JUDGED, FIRST_FULL = 6, 7


def traced(session, pid, *args):
    """Reports of one run: -i 1 for REPORTS seconds."""
    daemon = session.memleakd(pid, "-i", "1", "-d", str(REPORTS), "-n", "5", *args)
    daemon.finished_report(timeout=REPORTS + 30)
    return daemon.reports()


def pgbench_runs(session):
    pgbench = Pgbench(session)
    for _ in range(RUNS):
        load, backend = pgbench.run(WARM_UP + REPORTS + 10)
        time.sleep(WARM_UP)
        yield traced(session, backend, "--preset", "postgres")
        load.kill()


def redis_runs(session):
    redis = start_redis(session)
    redis_load(session, redis)
    time.sleep(WARM_UP)
    for _ in range(RUNS):
        yield traced(session, redis.pid)


def nginx_runs(session):
    nginx = start_nginx(session)
    nginx_load(session, nginx, WARM_UP + RUNS * (REPORTS + 10))
    time.sleep(WARM_UP)
    for _ in range(RUNS):
        yield traced(session, nginx.pid)


WORKLOADS = [("PostgreSQL 15 backend, pgbench -c 1, --preset postgres", pgbench_runs),
             ("redis-server, 6 redis-benchmarks -r 2000", redis_runs),
             ("nginx worker, wrk -c 8", nginx_runs)]


def suspects(report):
    return [" <- ".join(str(f["function"]) for f in s["frames"][:3])
            for s in report["stacks"] if s["class"] == "suspect"]


def false_alarms():
    print(f"false alarms: {RUNS} runs per workload, each traced -i 1 for {REPORTS} s; "
          f"{machine()}")
    print(f"{'workload':56} {'judged':>13} {'window full':>13} {'runs':>9}  verdicts")
    for name, runs in WORKLOADS:
        judged = full = alarms_judged = alarms_full = runs_alarmed = n = 0
        verdicts = collections.Counter()
        seen = collections.Counter()
        with Session() as s:
            for reports in runs(s):
                n += 1
                alarmed = False
                for r in reports:
                    verdict = r["process"]["verdict"]
                    verdicts[verdict] += 1
                    alarm = verdict == "leak_suspected"
                    alarmed |= alarm
                    seen.update(suspects(r))
                    judged += r["report"] >= FIRST_JUDGED
                    full += r["report"] >= FIRST_FULL
                    alarms_judged += alarm and r["report"] >= FIRST_JUDGED
                    alarms_full += alarm and r["report"] >= FIRST_FULL
                runs_alarmed += alarmed
        print(f"{name:56} {alarms_judged:>5} of {judged:<5} {alarms_full:>5} of {full:<5} "
              f"{runs_alarmed:>3} of {n:<3}  "
              + ", ".join(f"{v} {c}" for v, c in sorted(verdicts.items())), flush=True)
        for stack, count in seen.most_common(5):
            print(f"    suspect in {count} reports: {stack}")


def first_verdicts():
    print(f"\nfirst judged verdict at the default interval: demo_leaky traced "
          f"{FIRST_VERDICT_SECONDS} s, {FIRST_VERDICT_RUNS} runs")
    for _ in range(FIRST_VERDICT_RUNS):
        with Session() as s:
            demo = s.spawn("demo_leaky", [TARGETS / "demo_leaky"])
            assert demo.stdout.wait_for(lambda line: line.startswith("demo_leaky: pid"), 10)
            daemon = s.memleakd(demo.popen.pid, "-i", "10", "-d", str(FIRST_VERDICT_SECONDS))
            daemon.finished_report(timeout=FIRST_VERDICT_SECONDS + 30)
            reports = daemon.reports()
        first = next((r for r in reports if r["process"]["verdict"] != "undecided"), None)
        print("  " + ", ".join(f"{r['since_attach_s']:.1f} s {r['process']['verdict']}"
                               for r in reports))
        if first:
            print(f"  first judged: report {first['report']}, {first['since_attach_s']:.1f} s "
                  f"after attach: {first['process']['verdict']}, "
                  f"{first['process']['suspects']} suspects")


def main():
    false_alarms()
    first_verdicts()
    return 0


if __name__ == "__main__":
    sys.exit(main())
