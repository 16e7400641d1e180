#!/usr/bin/env python3
"""bench/redis_bench.py - `make bench`: what memleakd costs a real Redis
(Debian's redis-server, which allocates through jemalloc).

One server on a Unix socket in a temporary directory. Each run is
redis-benchmark's SET and GET with 50 clients and REQUESTS requests each,
untraced, with memleakd attached to the server (full tracking, stacks,
unwinding auto), or with memleakd sampling every SAMPLE bytes
(--sample-bytes), alternating (A B C A B C ...). Prints the medians of the
requests per second and their ratios to untraced.
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
from run import MEMLEAKD, machine, trace  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
REQUESTS = int(os.environ.get("BENCH_REDIS_REQUESTS", "100000"))
TESTS = ["SET", "GET"]
SAMPLE = os.environ.get("BENCH_SAMPLE_BYTES", "512K")
# (name, memleakd's arguments or None for untraced)
SIDES = [("untraced", None), ("traced", []), (f"sampled {SAMPLE}", ["--sample-bytes", SAMPLE])]


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


def one_run(server, sock, args):
    tracer = trace(server.pid, args) if args is not None else None
    try:
        return requests_per_second(sock)
    finally:
        if tracer:
            tracer.send_signal(signal.SIGINT)
            tracer.communicate(timeout=60)


def main():
    runs = [[] for _ in SIDES]
    with tempfile.TemporaryDirectory(prefix="memleakd-redis-") as directory:
        server, sock = start_server(directory)
        try:
            for _ in range(ROUNDS):
                for (_, args), side_runs in zip(SIDES, runs):
                    side_runs.append(one_run(server, sock, args))
        finally:
            server.kill()
            server.wait()
    print(f"\nredis: redis-benchmark -c 50 -n {REQUESTS} over a Unix socket, "
          f"redis-server (jemalloc) untraced and traced by {os.path.basename(MEMLEAKD)}; "
          f"{ROUNDS} rounds alternated, medians; {machine()}")
    print(f"{'':6} " + " ".join(f"{name + ' req/s':>22} {'ratio':>6}" for name, _ in SIDES))
    for test in TESTS:
        medians = [statistics.median(r[test] for r in side_runs) for side_runs in runs]
        print(f"{test:6} " + " ".join(f"{m:22.0f} {m / medians[0]:6.2f}" for m in medians))
        for (name, _), side_runs in zip(SIDES, runs):
            print(f"{'':8}{name}: " + " ".join(f"{r[test]:.0f}" for r in side_runs))


if __name__ == "__main__":
    main()
