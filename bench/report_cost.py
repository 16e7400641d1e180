#!/usr/bin/env python3
"""bench/report_cost.py - `make bench`: what a report costs with 1,024,000
outstanding allocations over 1,024 stacks (build/targets/bench_outstanding),
and what memleakd holds meanwhile; then 10,000,000 allocations tracked.

memleakd -v -i 1 -f json traces the target while it makes its
allocations; then REPORTS more reports are taken with everything in place.
memleakd's -v line "report N: ... R records read, in T ms (maps, names,
writing)" gives each report's time: the first full report names every
frame (cold), the later ones from the cache. Sides: without --min-age
(per-stack totals by generation, kept in BPF: O(stacks), no record read)
and with --min-age 0.5 (every record read in batches). Also memleakd's
resident memory and its CPU time per report interval. Medians over the
warm reports of ROUNDS runs per side, sides alternated.

Scale (BENCH_SCALE=0 skips it): one run with --max-allocs 10000000 and
9,999,360 allocations (9,765 per stack): the kernel memory per tracked
allocation that -v prints, the final totals (nothing dropped), and the
report times with and without --min-age.
"""
import json
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
REPORT_RE = re.compile(r"report (\d+): (\d+) stacks, \d+ shown, (\d+) records read, "
                       r"in ([\d.]+) ms \(maps ([\d.]+), names ([\d.]+), writing ([\d.]+)\)")
MAP_RE = re.compile(r"allocation map: (\d+) entries, ([\d.]+) MiB of kernel memory "
                    r"\(([\d.]+) bytes per tracked allocation\)")
SCALE_MAX = 10000000
SCALE_PER_LEAF = 9765
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


def one_run(args, per_leaf=1000, out="/dev/null"):
    """Returns ([(total, maps, names, writing, records) of each warm
    report], memleakd's RSS MiB, its CPU seconds per second while
    reporting, the -v lines before the reports)."""
    target = subprocess.Popen([TARGET, str(per_leaf)], stdout=subprocess.PIPE, text=True)
    tracer = None
    try:
        pid = int(wait_lines(target.stdout, ["ready"])[-1].split()[1])
        tracer = subprocess.Popen([MEMLEAKD, "-p", str(pid), "-v", "-i", "1", "-f", "json",
                                   "-o", out, *args],
                                  stderr=subprocess.PIPE, text=True)
        head = wait_lines(tracer.stderr, ["memleakd: attached to pid",
                                          "memleakd: unwind tables ready"])
        os.kill(pid, signal.SIGUSR1)
        wait_lines(target.stdout, ["done"], timeout=600)
        reports, first, cpu = [], None, None
        while len(reports) < REPORTS:
            line = tracer.stderr.readline()
            match = REPORT_RE.search(line)
            if not match or int(match.group(2)) < 1024:
                continue
            if first is None:
                first, cpu, since = int(match.group(1)), cpu_seconds(tracer.pid), time.time()
                continue
            reports.append(tuple(float(match.group(i)) for i in (4, 5, 6, 7, 3)))
        busy = (cpu_seconds(tracer.pid) - cpu) / (time.time() - since)
        return reports, rss_mib(tracer.pid), busy, head
    finally:
        for p in (tracer, target):
            if p and p.poll() is None:
                p.send_signal(signal.SIGINT)
                p.wait()


def scale():
    """10M allocations: kernel bytes per allocation, the final totals, and
    report times without and with --min-age."""
    out = "/tmp/memleakd-bench-scale.json"
    print(f"\nscale: {SCALE_PER_LEAF * 1024:,} outstanding malloc(64) over 1,024 stacks, "
          f"--max-allocs {SCALE_MAX}; one run per side; {machine()}")
    for name, args in [("no --min-age", []), ("--min-age 0.5", ["--min-age", "0.5"])]:
        reports, rss, _, head = one_run(["--max-allocs", str(SCALE_MAX), *args],
                                        SCALE_PER_LEAF, out)
        with open(out) as f:
            totals = json.loads(f.read().splitlines()[-1])["totals"]
        kernel = next(MAP_RE.search(l) for l in head if MAP_RE.search(l))
        print(f"  {name}: report {statistics.median(r[0] for r in reports):.1f} ms "
              f"(maps {statistics.median(r[1] for r in reports):.1f}), "
              f"{int(reports[-1][4]):,} records read; allocation maps "
              f"{float(kernel.group(2)):.1f} MiB, {kernel.group(3)} bytes per tracked "
              f"allocation; final: {totals['outstanding_allocs']:,} outstanding, "
              f"{totals['dropped_allocs']} dropped; memleakd RSS {rss:.1f} MiB")
    os.unlink(out)


def main():
    sides = [("no --min-age", []), ("--min-age 0.5", ["--min-age", "0.5"])]
    results = {name: ([], [], []) for name, _ in sides}
    for _ in range(ROUNDS):
        for name, args in sides:
            reports, rss, busy, _ = one_run(args)
            results[name][0].extend(reports)
            results[name][1].append(rss)
            results[name][2].append(busy)
    print(f"\nreports: 1,024,000 outstanding malloc(64) over 1,024 stacks "
          f"(bench_outstanding), -i 1 -f json; {ROUNDS} runs per side, "
          f"{REPORTS} warm reports each, medians; {machine()}")
    print(f"{'':16} {'report ms':>10} {'maps':>8} {'names':>8} {'writing':>8} "
          f"{'records':>8} {'RSS MiB':>8} {'CPU s/s':>8}")
    for name, _ in sides:
        reports, rss, busy = results[name]
        cols = [statistics.median(r[i] for r in reports) for i in range(5)]
        print(f"{name:16} {cols[0]:10.1f} {cols[1]:8.1f} {cols[2]:8.1f} {cols[3]:8.1f} "
              f"{cols[4]:8.0f} {statistics.median(rss):8.1f} {statistics.median(busy):8.3f}")
    if os.environ.get("BENCH_SCALE", "1") != "0":
        scale()


if __name__ == "__main__":
    main()
