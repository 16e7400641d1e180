#!/usr/bin/env python3
"""bench/compare_builds.py BEFORE AFTER [redis] - two memleakd builds side
by side, every side in each round (ROUNDS, BENCH_PAIRS as bench/run.py
takes them). Run by hand, with BEFORE a build of the commit before a
change (git worktree add, make memleakd): make bench has only the tree's
build.

On build/targets/bench_pairs: untraced, and under each build with empty
programs (MEMLEAKD_EMPTY_PROBES) and with full tracking. Prints the
medians, each build's full tracking over its empty probes per round, and
AFTER's over BEFORE's.

With redis: Debian's redis-server under redis-benchmark as
bench/redis_bench.py runs it, untraced and traced by each build; the
requests per second, and AFTER's over BEFORE's per round.
"""
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import redis_bench  # noqa: E402
import run  # noqa: E402


def added(res, side, i):
    return res[side][i] - res["untraced"][i]


def compare_redis(builds):
    sides = ["untraced", "before", "after"]
    res = {side: [] for side in sides}
    with tempfile.TemporaryDirectory(prefix="memleakd-redis-") as directory:
        server, sock = redis_bench.start_server(directory)
        try:
            for _ in range(run.ROUNDS):
                for side in sides:
                    run.MEMLEAKD = builds.get(side, builds["after"])
                    args = None if side == "untraced" else []
                    res[side].append(redis_bench.one_run(server, sock, args, {}))
        finally:
            server.kill()
            server.wait()
    print(f"machine: {run.machine()}; load average {run.load()}")
    print(f"redis-benchmark -c 50 -n {redis_bench.REQUESTS} over a Unix socket; "
          f"{run.ROUNDS} rounds, sides alternated, medians")
    for test in redis_bench.TESTS:
        base = statistics.median(r[test] for r in res["untraced"])
        for side in sides:
            median = statistics.median(r[test] for r in res[side])
            print(f"    {test} {side:10s} {median:8.0f} req/s  {median / base:6.3f} of untraced"
                  "  runs: " + " ".join(f"{r[test]:.0f}" for r in res[side]))
        ratios = [a[test] / b[test] for a, b in zip(res["after"], res["before"])]
        print(f"    {test} after / before, per round " + " ".join(f"{r:.2f}" for r in ratios)
              + f", median {statistics.median(ratios):.2f}")


def main():
    if len(sys.argv) < 3 or sys.argv[3:] not in ([], ["redis"]):
        sys.exit("usage: compare_builds.py BEFORE AFTER [redis] (two memleakd binaries)")
    builds = {"before": sys.argv[1], "after": sys.argv[2]}
    if sys.argv[3:]:
        compare_redis(builds)
        return
    empty = {"MEMLEAKD_EMPTY_PROBES": "1"}
    sides = [("untraced", None, {})]
    for name in builds:
        sides += [(f"{name}: empty probes", name, empty), (f"{name}: memleakd", name, {})]
    res = {side: [] for side, _, _ in sides}
    for _ in range(run.ROUNDS):
        for side, build, extra in sides:
            run.MEMLEAKD = builds.get(build, builds["after"])
            ns, _, _ = run.one_run([run.BENCH, str(run.PAIRS)], None if build is None else [],
                                   dict(os.environ, **extra))
            res[side].append(ns)
    print(f"machine: {run.machine()}; load average {run.load()}")
    print(f"bench_pairs {run.PAIRS} malloc(64)+free pairs per run; {run.ROUNDS} rounds, "
          "sides alternated, medians")
    base = statistics.median(res["untraced"])
    for side, runs in res.items():
        median = statistics.median(runs)
        print(f"    {side:24s} {median:8.1f} ns/pair  added {median - base:8.1f}  runs: "
              + " ".join(f"{x:.0f}" for x in runs))
    rounds = range(run.ROUNDS)
    pairs = [(f"{b}: full tracking / its empty probes",
              [added(res, f"{b}: memleakd", i) / added(res, f"{b}: empty probes", i)
               for i in rounds]) for b in builds]
    pairs.append(("full tracking, after / before",
                  [added(res, "after: memleakd", i) / added(res, "before: memleakd", i)
                   for i in rounds]))
    pairs.append(("empty probes, after / before",
                  [added(res, "after: empty probes", i) / added(res, "before: empty probes", i)
                   for i in rounds]))
    for label, ratios in pairs:
        print(f"    {label}, added, per round " + " ".join(f"{r:.2f}" for r in ratios)
              + f", median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
