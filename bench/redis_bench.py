#!/usr/bin/env python3
"""bench/redis_bench.py - `make bench`: what memleakd costs a real Redis
(Debian's redis-server, which allocates through jemalloc).

One server on a Unix socket in a temporary directory. Each run is
redis-benchmark's SET and GET with 50 clients and REQUESTS requests each,
untraced, with memleakd attached to the server (full tracking, stacks,
unwinding auto), with memleakd sampling every SAMPLE bytes
(--sample-bytes), and with programs that return at once
(MEMLEAKD_EMPTY_PROBES) at memleakd's places and at each function's first
byte (MEMLEAKD_PROBES_AT_ENTRY: the naive places, the floor of a tracer
that does not place its probes), alternating (A B C D E A B C D E ...).
Prints the medians of the requests per second and their ratios to
untraced, and traced against the naive floor (goal: at least
NAIVE_GOAL times its rate).
"""
import csv
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import MEMLEAKD, env, load, machine, trace  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
REQUESTS = int(os.environ.get("BENCH_REDIS_REQUESTS", "100000"))
TESTS = ["SET", "GET"]
SAMPLE = os.environ.get("BENCH_SAMPLE_BYTES", "512K")
EMPTY = {"MEMLEAKD_EMPTY_PROBES": "1"}
# (name, memleakd's arguments or None for untraced, memleakd's environment)
SIDES = [("untraced", None, {}), ("traced", [], {}),
         (f"sampled {SAMPLE}", ["--sample-bytes", SAMPLE], {}),
         ("empty, memleakd's places", [], EMPTY),
         ("empty at entry", [], dict(EMPTY, MEMLEAKD_PROBES_AT_ENTRY="1"))]
NAIVE_GOAL = 3.0


def start_server(directory):
    sock = os.path.join(directory, "redis.sock")
    server = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock,
                               "--save", "", "--appendonly", "no", "--dir", directory],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while not os.path.exists(sock):
        if time.time() > deadline or server.poll() is not None:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
    return server, sock


def requests_per_second(sock):
    """{test: requests/s} of one redis-benchmark run."""
    out = subprocess.run(["redis-benchmark", "-s", sock, "-c", "50", "-n", str(REQUESTS),
                          "-t", ",".join(t.lower() for t in TESTS), "--csv"],
                         check=True, capture_output=True, text=True).stdout
    rows = list(csv.reader(io.StringIO(out)))
    return {row[0]: float(row[1]) for row in rows[1:] if row and row[0] in TESTS}


def one_run(server, sock, args, tracer_env):
    tracer = trace(server.pid, args, env(**tracer_env)) if args is not None else None
    try:
        return requests_per_second(sock)
    finally:
        if tracer:
            tracer.send_signal(signal.SIGINT)
            tracer.communicate(timeout=60)


def main():
    runs = [[] for _ in SIDES]
    started_load = load()
    with tempfile.TemporaryDirectory(prefix="memleakd-redis-") as directory:
        server, sock = start_server(directory)
        try:
            for _ in range(ROUNDS):
                for (_, args, tracer_env), side_runs in zip(SIDES, runs):
                    side_runs.append(one_run(server, sock, args, tracer_env))
        finally:
            server.kill()
            server.wait()
    print(f"\nredis: redis-benchmark -c 50 -n {REQUESTS} over a Unix socket, "
          f"redis-server (jemalloc) untraced and traced by {os.path.basename(MEMLEAKD)}; "
          f"{ROUNDS} rounds alternated, medians; {machine()}; load average "
          f"{started_load} at the start, {load()} at the end")
    for test in TESTS:
        medians = [statistics.median(r[test] for r in side_runs) for side_runs in runs]
        print(f"{test:28} {'req/s':>8} {'ratio':>6}")
        for (name, _, _), median, side_runs in zip(SIDES, medians, runs):
            print(f"  {name:26} {median:8.0f} {median / medians[0]:6.3f}  runs: "
                  + " ".join(f"{r[test]:.0f}" for r in side_runs))
        naive = medians[1] / medians[-1]
        rounds = [t[test] / e[test] for t, e in zip(runs[1], runs[-1])]
        print(f"  traced / empty at entry: {naive:.2f} (goal >= {NAIVE_GOAL}: "
              f"{'met' if naive >= NAIVE_GOAL else 'missed'}); in each round: "
              f"{' '.join(f'{x:.2f}' for x in rounds)}")


if __name__ == "__main__":
    main()
