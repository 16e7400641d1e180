#!/usr/bin/env python3
"""bench/allocators.py - `make bench`: ns memleakd adds per malloc(64)+free
pair under each allocator users run, and what its probe placement saves.

build/targets/bench_pairs runs under glibc's malloc and with Debian's
jemalloc, tcmalloc (minimal) and mimalloc preloaded (LD_PRELOAD), each
untraced; traced by memleakd (full tracking, stacks); with programs that
return at once (MEMLEAKD_EMPTY_PROBES) at memleakd's places: the traps
alone; and the same empty programs at each function's first byte
(MEMLEAKD_PROBES_AT_ENTRY): where a tracer that does not place its probes
puts them. Every side of every allocator runs once per round, in order.
Prints each side's median, the ns added per pair over the same allocator
untraced, and the goals: each allocator's added cost within ALLOCATOR_GOAL
of glibc's, and glibc's full tracking within TRACKING_GOAL of its own
empty probes.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import BENCH, ROUNDS, env, load, machine, one_run  # noqa: E402

PAIRS = int(os.environ.get("BENCH_PAIRS", "200000"))
LIBDIR = "/usr/lib/x86_64-linux-gnu"
ALLOCATORS = [("glibc", None), ("jemalloc", "libjemalloc.so.2"),
              ("tcmalloc", "libtcmalloc_minimal.so.4"), ("mimalloc", "libmimalloc.so.2")]
EMPTY = {"MEMLEAKD_EMPTY_PROBES": "1"}
# (name, memleakd's arguments or None for untraced, memleakd's environment)
SIDES = [("untraced", None, {}), ("memleakd", [], {}),
         ("empty probes, memleakd's places", [], EMPTY),
         ("empty probes at entry", [], dict(EMPTY, MEMLEAKD_PROBES_AT_ENTRY="1"))]
ALLOCATOR_GOAL = 1.5
TRACKING_GOAL = 1.25


def target_env(lib):
    return env(LD_PRELOAD=os.path.join(LIBDIR, lib)) if lib else None


def main():
    print(f"machine: {machine()}; load average {load()}")
    runs = {(a, s): [] for a, _ in ALLOCATORS for s, _, _ in SIDES}
    for _ in range(ROUNDS):
        for allocator, lib in ALLOCATORS:
            for side, args, tracer_env in SIDES:
                runs[allocator, side].append(
                    one_run([BENCH, str(PAIRS)], args, env(**tracer_env), target_env(lib))[0])
    print(f"allocators: bench_pairs {PAIRS} malloc(64)+free pairs per run, the allocator "
          f"preloaded; {ROUNDS} rounds, every side alternated, medians; load average at the "
          f"end {load()}")
    print(f"{'':42} {'ns/pair':>8} {'added':>8}")
    added = {}
    for allocator, _ in ALLOCATORS:
        base = statistics.median(runs[allocator, "untraced"])
        for side, _, _ in SIDES:
            values = runs[allocator, side]
            median = statistics.median(values)
            added[allocator, side] = median - base
            shown = f"{median - base:8.1f}" if side != "untraced" else " " * 8
            print(f"{allocator + ', ' + side:42} {median:8.1f} {shown}  runs: "
                  + " ".join(f"{v:.0f}" for v in values))
    glibc = added["glibc", "memleakd"]
    print(f"\nadded per pair, memleakd: against glibc's (goal <= {ALLOCATOR_GOAL}); against "
          f"the same allocator's empty probes, at memleakd's places and at entry")
    for allocator, _ in ALLOCATORS:
        traced = added[allocator, "memleakd"]
        vs_glibc = traced / glibc
        print(f"  {allocator:9} {traced:8.1f} ns  x{vs_glibc:.2f} glibc's "
              f"({'met' if vs_glibc <= ALLOCATOR_GOAL else 'missed'})   "
              f"x{traced / added[allocator, SIDES[2][0]]:.2f} its empty probes   "
              f"x{traced / added[allocator, SIDES[3][0]]:.2f} empty probes at entry")
    tracking = glibc / added["glibc", SIDES[2][0]]
    # The same ratio in each round: its sides ran moments apart.
    rounds = [(t - u) / (e - u) for u, t, e in zip(
        *(runs["glibc", side] for side, _, _ in SIDES[:3]))]
    print(f"glibc, full tracking / empty probes at memleakd's places: {tracking:.2f} "
          f"(goal <= {TRACKING_GOAL}: {'met' if tracking <= TRACKING_GOAL else 'missed'}); "
          f"in each round: {' '.join(f'{x:.2f}' for x in rounds)}, "
          f"median {statistics.median(rounds):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
