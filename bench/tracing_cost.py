#!/usr/bin/env python3
"""bench/tracing_cost.py - `make bench`: is the cost each report states
(its "cost" object: probe hits priced at the traps memleakd timed at start
plus the BPF run time) the cost the target pays?

bench_pairs runs PAIRS malloc(64)+free pairs on one thread and prints the
thread's own CPU time per pair (user and kernel: the probes' traps and
programs included, time waiting for a CPU excluded). The CPU time tracing
added per pair, traced minus untraced, is set beside what the final report
says a pair cost (probe_hits x ns_per_hit / PAIRS): with probes where
memleakd places them, and all at function entries, where glibc's free is
single-stepped. Sides alternate over ROUNDS rounds; medians.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import BENCH, PAIRS, ROUNDS, alternate, env, machine  # noqa: E402


def stated_ns(runs):
    """Median of what the reports say a pair cost, in ns."""
    costs = [t.report["cost"] for _, t, _ in runs]
    return statistics.median(c["probe_hits"] * c["ns_per_hit"] / PAIRS for c in costs)


def main():
    pairs = [BENCH, str(PAIRS), "--threads", "1"]
    sides = [("untraced", pairs, None),
             ("memleakd", pairs, ["--no-mappings"]),
             ("memleakd, probes at entries", pairs, ["--no-mappings"],
              env(MEMLEAKD_PROBES_AT_ENTRY="1"))]
    print(machine())
    runs = alternate(sides)
    base = statistics.median(f["cpu_ns_per_pair"] for _, _, f in runs[0])
    print(f"method: {ROUNDS} rounds, sides alternated, {PAIRS} pairs on one thread, "
          "thread CPU time per pair, medians")
    print(f"{'':30} {'cpu ns/pair':>11} {'added':>8} {'stated':>8} {'stated/added':>12}")
    print(f"{'untraced':30} {base:11.1f}")
    for (name, *_), side in zip(sides[1:], runs[1:]):
        cpu = statistics.median(f["cpu_ns_per_pair"] for _, _, f in side)
        stated = stated_ns(side)
        print(f"{name:30} {cpu:11.1f} {cpu - base:8.1f} {stated:8.1f} "
              f"{stated / (cpu - base):12.2f}")


if __name__ == "__main__":
    main()
