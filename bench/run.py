#!/usr/bin/env python3
"""bench/run.py - `make bench`: ns added per malloc(64)+free pair.

Runs build/targets/bench_pairs untraced and traced by memleakd, alternating
(A B A B ...) so that machine noise hits both sides alike, and prints the
medians, the difference and the ratio, with a description of the machine.
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


def one_run(traced):
    """ns per pair of one bench_pairs run, traced by memleakd or not."""
    bench = subprocess.Popen([BENCH, str(PAIRS), "--wait"], stdout=subprocess.PIPE, text=True)
    tracer = None
    try:
        pid = int(wait_line(bench.stdout, "ready").split()[1])
        if traced:
            tracer = subprocess.Popen([MEMLEAKD, "-p", str(pid), "-i", "3600"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            wait_line(tracer.stderr, "memleakd: attached to pid")
        os.kill(pid, signal.SIGUSR1)
        return float(wait_line(bench.stdout, "pairs").split()[3])
    finally:
        if tracer:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=30)
        bench.kill()
        bench.wait()


def main():
    base, traced = [], []
    for _ in range(ROUNDS):
        base.append(one_run(False))
        traced.append(one_run(True))
    b, t = statistics.median(base), statistics.median(traced)
    print(f"machine: {machine()}")
    print(f"method: {ROUNDS} rounds A/B alternated, {PAIRS} malloc(64)+free pairs per run, medians")
    print(f"untraced        {b:10.1f} ns/pair   runs: {' '.join(f'{x:.0f}' for x in base)}")
    print(f"memleakd        {t:10.1f} ns/pair   runs: {' '.join(f'{x:.0f}' for x in traced)}")
    print(f"added by memleakd: {t - b:.1f} ns/pair (x{t / b:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
