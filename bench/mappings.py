#!/usr/bin/env python3
"""bench/mappings.py - `make bench`: what watching mappings costs, and what
each way of watching them sees.

1. The traced process: build/targets/bench_mappings does N mmap + munmap
   pairs of 64 KiB, untraced; with memleakd --no-malloc, whose programs
   are BTF-typed tracepoints on every syscall's entry and exit (the
   default); and with uprobes on libc's wrappers instead: memleakd
   --no-malloc --no-mappings --alloc mmap:size=2 --free munmap, the same
   work per call (a stack and a record) behind a uprobe session on mmap
   and a uprobe on munmap. ns added per pair.
2. The rest of the machine: another, untraced process does getppid() (a
   syscall memleakd does not watch) and mmap + munmap pairs while memleakd
   traces an idle process: tracepoints run for every process's syscalls,
   uprobes only in the traced one.
3. What each sees: the pairs made through syscall(2) (--raw), and by a
   static binary: events counted by the tracepoints against calls counted
   by the uprobes, out of 2 N.

Sides alternate (A B C A B C ...), ROUNDS rounds; medians.
"""
import os
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import MEMLEAKD, ROUNDS, TARGETS, machine, one_run, stop, trace  # noqa: E402

BENCH = os.path.join(TARGETS, "bench_mappings")
STATIC = os.path.join(TARGETS, "bench_mappings_static")
PAIRS = int(os.environ.get("BENCH_MAPPING_PAIRS", "50000"))
CALLS = int(os.environ.get("BENCH_GETPPID_CALLS", "500000"))
CHECKED = 1000
TRACEPOINTS = ["--no-malloc"]
UPROBES = ["--no-malloc", "--no-mappings", "--alloc", "mmap@libc.so.6:size=2",
           "--free", "munmap@libc.so.6"]


def row(name, values, base):
    median = statistics.median(values)
    added = f"{median - base:9.1f}" if base is not None else " " * 9
    print(f"{name:44} {median:9.1f} {added}  runs: {' '.join(f'{v:.0f}' for v in values)}")


def traced_process():
    pairs = [BENCH, str(PAIRS)]
    sides = [("untraced", None), ("tracepoints (memleakd --no-malloc)", TRACEPOINTS),
             ("uprobes on mmap and munmap (specs)", UPROBES)]
    runs = [[] for _ in sides]
    for _ in range(ROUNDS):
        for (_, args), side_runs in zip(sides, runs):
            side_runs.append(one_run(pairs, args)[0])
    print(f"\n1. traced process: {PAIRS} mmap+munmap pairs of 64 KiB per run")
    print(f"{'':44} {'ns/pair':>9} {'added':>9}")
    base = statistics.median(runs[0])
    for (name, args), side_runs in zip(sides, runs):
        row(name, side_runs, base if args is not None else None)


def untraced_run(argv):
    out = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=True).stdout.split()
    return float(out[out.index("ns_per_pair") + 1])


def other_processes():
    """memleakd traces an idle process; bench_mappings, not traced, runs."""
    loads = [("getppid()", [BENCH, str(CALLS), "--getppid"]),
             ("mmap+munmap pair", [BENCH, str(PAIRS)])]
    sides = [("no memleakd", None), ("tracepoints", TRACEPOINTS), ("uprobes", UPROBES)]
    runs = {(l, s): [] for l, _ in loads for s, _ in sides}
    for _ in range(ROUNDS):
        for side, args in sides:
            idle = subprocess.Popen([BENCH, "1", "--wait"], stdout=subprocess.PIPE, text=True)
            tracer = None
            try:
                pid = int(idle.stdout.readline().split()[1])
                if args is not None:
                    tracer = trace(pid, args)
                for load, argv in loads:
                    runs[(load, side)].append(untraced_run(argv))
            finally:
                if tracer:
                    stop(tracer)
                idle.kill()
                idle.wait()
    print("\n2. another process, not traced, while memleakd traces an idle one")
    print(f"{'':44} {'ns/call':>9} {'added':>9}")
    for load, _ in loads:
        base = statistics.median(runs[(load, "no memleakd")])
        for side, args in sides:
            row(f"{load}, {side}", runs[(load, side)], base if args is not None else None)


def seen(argv, args):
    """The calls of CHECKED pairs the side saw: mapping events, or the
    uprobes' allocations and frees; None when memleakd refused."""
    bench = subprocess.Popen([*argv, "--wait"], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(bench.stdout.readline().split()[1])
        tracer = subprocess.Popen([MEMLEAKD, "-p", str(pid), "-i", "3600", "-f", "json", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        line = ""
        while time.time() < deadline and "attached to pid" not in line and tracer.poll() is None:
            line = tracer.stderr.readline()
        if tracer.poll() is not None:
            return None
        tracer.lines = [line]
        os.kill(pid, signal.SIGUSR1)
        bench.stdout.readline()
        report = stop(tracer).report
        totals = report["totals"]
        if "--no-mappings" in args:
            return totals["allocs"] + totals["frees"]
        return totals["mapping_events"]
    finally:
        bench.kill()
        bench.wait()


def completeness():
    cases = [("libc's mmap()", [BENCH, str(CHECKED)]),
             ("syscall(SYS_mmap)", [BENCH, str(CHECKED), "--raw"]),
             ("static binary", [STATIC, str(CHECKED)])]
    print(f"\n3. calls seen of {2 * CHECKED} ({CHECKED} mmap+munmap pairs)")
    print(f"{'':24} {'tracepoints':>12} {'uprobes':>12}")
    for name, argv in cases:
        counts = [seen(argv, args) for args in (TRACEPOINTS, UPROBES)]
        print(f"{name:24} " + " ".join(f"{'refused' if c is None else c:>12}" for c in counts))


def main():
    print(f"machine: {machine()}")
    print(f"method: {ROUNDS} rounds, sides alternated, medians; memleakd attached before the "
          "timed loop")
    traced_process()
    other_processes()
    completeness()
    return 0


if __name__ == "__main__":
    sys.exit(main())
