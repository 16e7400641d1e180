#!/usr/bin/env python3
"""bench/run.py - `make bench`: ns added per malloc(64)+free pair.

Runs build/targets/bench_pairs untraced, traced by memleakd through
uprobe_multi links, and traced through one perf-event uprobe per probe
(MEMLEAKD_NO_UPROBE_MULTI, the path of kernels before 6.6), alternating
(A B C A B C ...) so that machine noise hits every side alike, and prints
the medians, the differences and the ratios, with a description of the
machine.
"""
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "build", "targets", "bench_pairs")
MEMLEAKD = os.path.join(ROOT, "memleakd")
PAIRS = int(os.environ.get("BENCH_PAIRS", "200000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def machine():
    cpu = "unknown cpu"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cpus, kernel {platform.release()}"


def wait_line(stream, prefix, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = stream.readline()
        if not line:
            break
        if line.startswith(prefix):
            return line
    raise RuntimeError(f"no line starting with {prefix!r}")


def one_run(traced, env=None):
    """ns per pair of one bench_pairs run, traced by memleakd (with env) or
    not."""
    bench = subprocess.Popen([BENCH, str(PAIRS), "--wait"], stdout=subprocess.PIPE, text=True)
    tracer = None
    try:
        pid = int(wait_line(bench.stdout, "ready").split()[1])
        if traced:
            tracer = subprocess.Popen([MEMLEAKD, "-p", str(pid), "-i", "3600"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                      env=env)
            wait_line(tracer.stderr, "memleakd: attached to pid")
        os.kill(pid, signal.SIGUSR1)
        return float(wait_line(bench.stdout, "pairs").split()[3])
    finally:
        if tracer:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=30)
        bench.kill()
        bench.wait()


SIDES = [
    ("untraced", False, None),
    ("memleakd", True, None),
    ("memleakd, perf-event uprobes", True, dict(os.environ, MEMLEAKD_NO_UPROBE_MULTI="1")),
]


def main():
    runs = {name: [] for name, _, _ in SIDES}
    for _ in range(ROUNDS):
        for name, traced, env in SIDES:
            runs[name].append(one_run(traced, env))
    base = statistics.median(runs["untraced"])
    print(f"machine: {machine()}")
    print(f"method: {ROUNDS} rounds, sides alternated, {PAIRS} malloc(64)+free pairs per run, "
          "medians")
    for name, traced, _ in SIDES:
        median = statistics.median(runs[name])
        added = f"   added {median - base:.1f} ns/pair (x{median / base:.2f})" if traced else ""
        print(f"{name:30} {median:10.1f} ns/pair   runs: "
              f"{' '.join(f'{x:.0f}' for x in runs[name])}{added}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
