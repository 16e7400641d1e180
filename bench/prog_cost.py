#!/usr/bin/env python3
"""bench/prog_cost.py - `make bench`: the BPF work of each program per
call, apart from the uprobe traps: the kernel's own accounting
(kernel.bpf_stats_enabled: run_time_ns and run_cnt in the fdinfo of each
program memleakd holds) while build/targets/bench_pairs makes its
malloc(64)+free pairs under memleakd: full tracking, with the kernel's
frame-pointer walk (--unwind fp) instead of memleakd's own, and sampled.
The goal: the free path's BPF work within 150 ns. ROUNDS rounds,
sides alternated, medians of ns per call; the stats switch is put back as
it was.
"""
import json
import os
import signal
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import BENCH, PAIRS, ROUNDS, fdinfos, machine, trace, wait_lines  # noqa: E402

STATS = "/proc/sys/kernel/bpf_stats_enabled"
SIDES = [("memleakd", []), ("--unwind fp (the kernel's bpf_get_stack)", ["--unwind", "fp"]),
         ("--sample-bytes 512K", ["--sample-bytes", "512K"])]


def prog_stats(pid):
    """{program name: (run_time_ns, run_cnt)} of the programs pid holds."""
    stats = {}
    for info in fdinfos(pid):
        if "prog_id" not in info or "run_cnt" not in info:
            continue
        prog_id = info["prog_id"].strip()
        shown = subprocess.run(["bpftool", "prog", "show", "id", prog_id, "-j"],
                               capture_output=True, text=True, check=True)
        stats[json.loads(shown.stdout)["name"]] = (int(info["run_time_ns"]),
                                                   int(info["run_cnt"]))
    return stats


def traced_run(args):
    """One bench_pairs run under memleakd ARGS; ns per call of each program
    that ran."""
    stats = {}
    bench = subprocess.Popen([BENCH, str(PAIRS), "--wait"], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(wait_lines(bench.stdout, ["ready"])[-1].split()[1])
        tracer = trace(pid, args)
        before = prog_stats(tracer.pid)
        os.kill(pid, signal.SIGUSR1)
        wait_lines(bench.stdout, ["pairs"])
        after = prog_stats(tracer.pid)
        for name, (ns, calls) in after.items():
            calls -= before[name][1]
            if calls:
                stats[name] = ((ns - before[name][0]) / calls, calls)
        tracer.kill()
        tracer.wait()
    finally:
        bench.kill()
        bench.wait()
    return stats


def main():
    with open(STATS) as f:
        was = f.read().strip()
    with open(STATS, "w") as f:
        f.write("1")
    try:
        runs = [[traced_run(args) for _, args in SIDES] for _ in range(ROUNDS)]
    finally:
        with open(STATS, "w") as f:
            f.write(was)
    print(f"\nBPF work per call (kernel.bpf_stats_enabled), bench_pairs {PAIRS} malloc(64)+free "
          f"pairs under memleakd; {ROUNDS} rounds, sides alternated, medians; {machine()}")
    for i, (side, _) in enumerate(SIDES):
        print(f"  {side}")
        for name in sorted(runs[0][i]):
            values = [r[i][name][0] for r in runs]
            calls = statistics.median(r[i][name][1] for r in runs)
            print(f"    {name:14} {statistics.median(values):7.0f} ns per call, {calls:9.0f} calls"
                  "   runs: " + " ".join(f"{v:.0f}" for v in values))


if __name__ == "__main__":
    main()
