#!/usr/bin/env python3
"""bench/compare_builds.py BEFORE AFTER - two memleakd builds side by side
on build/targets/bench_pairs: untraced, and under each build with empty
programs (MEMLEAKD_EMPTY_PROBES) and with full tracking, every side in
each round (ROUNDS, BENCH_PAIRS as bench/run.py takes them). Prints the
medians, each build's full tracking over its empty probes per round, and
AFTER's full tracking over BEFORE's. Run by hand, with BEFORE a build of
the commit before a change (git worktree add, make memleakd): make bench
has only the tree's build.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def ns_per_pair(out):
    for line in out:
        if line.startswith("pairs"):
            return float(line.split()[3])
    raise RuntimeError("bench_pairs printed no figure")


def added(res, side, i):
    return res[side][i] - res["untraced"][i]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: compare_builds.py BEFORE AFTER (two memleakd binaries)")
    builds = {"before": sys.argv[1], "after": sys.argv[2]}
    empty = {"MEMLEAKD_EMPTY_PROBES": "1"}
    sides = [("untraced", None, {})]
    for name in builds:
        sides += [(f"{name}: empty probes", name, empty), (f"{name}: memleakd", name, {})]
    res = {side: [] for side, _, _ in sides}
    for _ in range(run.ROUNDS):
        for side, build, extra in sides:
            run.MEMLEAKD = builds.get(build, builds["after"])
            ns, _ = run.run_target([run.BENCH, str(run.PAIRS)], None if build is None else [],
                                   dict(os.environ, **extra), ns_per_pair)
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
