#!/usr/bin/env python3
"""bench/report_cost.py - `make bench`: what a report costs with 1,024,000
outstanding allocations over 1,024 stacks (build/targets/bench_outstanding),
and what memleakd holds meanwhile.

memleakd -v -i 1 -f json -o /dev/null traces the target while it makes its
allocations; then REPORTS more reports are taken with everything in place.
memleakd's -v line "report N: ... in T ms (maps, names, writing)" gives each
report's time: the first full report names every frame (cold), the later
ones from the cache. Sides: without --min-age (per-stack totals kept in
BPF: O(stacks), the allocation map walked once in batches only for each
stack's oldest age) and with --min-age 0.5 (every allocation counted by
age). Also memleakd's resident memory and its CPU time per report interval.
Medians over the warm reports of ROUNDS runs per side, sides alternated.
"""
import os
import re
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import MEMLEAKD, TARGETS, machine, wait_lines  # noqa: E402

TARGET = os.path.join(TARGETS, "bench_outstanding")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
REPORTS = 4
REPORT_RE = re.compile(r"report (\d+): (\d+) stacks, \d+ shown, in ([\d.]+) ms "
                       r"\(maps ([\d.]+), names ([\d.]+), writing ([\d.]+)\)")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def one_run(args):
    """Returns ([(total, maps, names, writing) ms of each warm report],
    memleakd's RSS MiB, its CPU seconds per second while reporting)."""
    target = subprocess.Popen([TARGET], stdout=subprocess.PIPE, text=True)
    tracer = None
    try:
        pid = int(wait_lines(target.stdout, ["ready"])[-1].split()[1])
        tracer = subprocess.Popen([MEMLEAKD, "-p", str(pid), "-v", "-i", "1", "-f", "json",
                                   "-o", "/dev/null", *args],
                                  stderr=subprocess.PIPE, text=True)
        wait_lines(tracer.stderr, ["memleakd: attached to pid",
                                   "memleakd: unwind tables ready"])
        os.kill(pid, signal.SIGUSR1)
        wait_lines(target.stdout, ["done"], timeout=120)
        reports, first, cpu = [], None, None
        while len(reports) < REPORTS:
            line = tracer.stderr.readline()
            match = REPORT_RE.search(line)
            if not match or int(match.group(2)) < 1024:
                continue
            if first is None:
                first, cpu, since = int(match.group(1)), cpu_seconds(tracer.pid), time.time()
                continue
            reports.append(tuple(float(match.group(i)) for i in range(3, 7)))
        busy = (cpu_seconds(tracer.pid) - cpu) / (time.time() - since)
        return reports, rss_mib(tracer.pid), busy
    finally:
        for p in (tracer, target):
            if p and p.poll() is None:
                p.kill()
                p.wait()


def main():
    sides = [("no --min-age", []), ("--min-age 0.5", ["--min-age", "0.5"])]
    results = {name: ([], [], []) for name, _ in sides}
    for _ in range(ROUNDS):
        for name, args in sides:
            reports, rss, busy = one_run(args)
            results[name][0].extend(reports)
            results[name][1].append(rss)
            results[name][2].append(busy)
    print(f"\nreports: 1,024,000 outstanding malloc(64) over 1,024 stacks "
          f"(bench_outstanding), -i 1 -f json; {ROUNDS} runs per side, "
          f"{REPORTS} warm reports each, medians; {machine()}")
    print(f"{'':16} {'report ms':>10} {'maps':>8} {'names':>8} {'writing':>8} "
          f"{'RSS MiB':>8} {'CPU s/s':>8}")
    for name, _ in sides:
        reports, rss, busy = results[name]
        cols = [statistics.median(r[i] for r in reports) for i in range(4)]
        print(f"{name:16} {cols[0]:10.1f} {cols[1]:8.1f} {cols[2]:8.1f} {cols[3]:8.1f} "
              f"{statistics.median(rss):8.1f} {statistics.median(busy):8.3f}")


if __name__ == "__main__":
    main()
