#!/usr/bin/env python3
"""bench/stress.py - `make bench`: memleakd under sustained load.

build/targets/stress_churn runs 2 threads of malloc, calloc, realloc and
free at full speed over tables of 1,024 blocks each (so that what is
outstanding stays bounded while the calls never stop): first untraced for
UNTRACED_SECONDS, the load it offers; then for STRESS_SECONDS (60) traced
by memleakd -i 1 -f json -v, tracking every allocation; once more sampled
(--sample-bytes SAMPLE); and once with programs that return at once
(MEMLEAKD_EMPTY_PROBES=1: the uprobe traps alone, the fastest any traced
run can go). For each traced run:

- the program's allocations per second, by its own count (realloc counts
  once);
- memleakd's resident memory, read every second: after 5 s, at the end,
  and its peak (VmHWM); and the kernel memory of its BPF maps (the memlock
  of every map it holds, fixed at load);
- its CPU time per second of the run;
- the reports: how many of the expected periodic ones came, and the
  latest of them against its schedule (report k due k intervals after
  attach, by its since_attach_s);
- the final totals against the program's counts: allocs, frees,
  outstanding allocations and bytes, and nothing dropped (full tracking;
  a sampled run's totals are estimates, and the empty programs count
  nothing: neither is compared).

BENCH_STRESS_SECONDS overrides STRESS_SECONDS.
"""
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import MEMLEAKD, SAMPLE, TARGETS, fdinfos, machine, wait_lines  # noqa: E402
from report_cost import cpu_seconds  # noqa: E402

TARGET = os.path.join(TARGETS, "stress_churn")
STRESS_SECONDS = int(os.environ.get("BENCH_STRESS_SECONDS", "60"))
UNTRACED_SECONDS = 5
THREADS = 2
EARLY_S = 5
COMPARED = ("allocs", "frees", "outstanding_allocs", "outstanding_bytes")


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def maps_memlock(pid):
    """Bytes of kernel memory the BPF maps process pid holds open take."""
    total = 0
    for info in fdinfos(pid):
        if "map_id" in info:
            total += int(info["memlock"])
    return total


def wait_ready(tracer, err):
    """Waits for memleakd's unwind tables, which follow its attach."""
    deadline = time.monotonic() + 60
    while True:
        err.seek(0)
        text = err.read()
        if "memleakd: unwind tables ready" in text:
            return
        if time.monotonic() > deadline or tracer.poll() is not None:
            raise RuntimeError("memleakd did not attach:\n" + text)
        time.sleep(0.1)


def target_line(target, timeout):
    """The program's counts line, once its threads are done."""
    line = wait_lines(target.stdout, ["allocs "], timeout)[-1].split()
    return {k: float(v) for k, v in zip(line[::2], line[1::2])}


def untraced():
    target = subprocess.Popen([TARGET, str(UNTRACED_SECONDS), str(THREADS)],
                              stdout=subprocess.PIPE, text=True)
    try:
        pid = int(wait_lines(target.stdout, ["ready"])[-1].split()[1])
        os.kill(pid, signal.SIGUSR1)
        return target_line(target, UNTRACED_SECONDS + 30)
    finally:
        target.kill()
        target.wait()


def traced(args, env=None):
    """One traced run, memleakd run with env; returns its figures."""
    target = subprocess.Popen([TARGET, str(STRESS_SECONDS), str(THREADS)],
                              stdout=subprocess.PIPE, text=True)
    out = tempfile.TemporaryFile("w+")
    err = tempfile.TemporaryFile("w+")
    tracer = None
    try:
        pid = int(wait_lines(target.stdout, ["ready"])[-1].split()[1])
        tracer = subprocess.Popen([MEMLEAKD, "-p", str(pid), "-i", "1", "-f", "json", "-v",
                                   *args], stdout=out, stderr=err, text=True,
                                  env=dict(os.environ, **(env or {})))
        wait_ready(tracer, err)
        kernel = maps_memlock(tracer.pid)
        os.kill(pid, signal.SIGUSR1)
        start, cpu, rss = time.monotonic(), cpu_seconds(tracer.pid), []
        while not select.select([target.stdout], [], [], 1.0)[0]:
            rss.append((time.monotonic() - start, status_kib(tracer.pid, "VmRSS")))
        counts = target_line(target, 30)
        busy = (cpu_seconds(tracer.pid) - cpu) / (time.monotonic() - start)
        peak = status_kib(tracer.pid, "VmHWM")
        tracer.send_signal(signal.SIGINT)
        tracer.wait(60)
        out.seek(0)
        reports = [json.loads(line) for line in out if line.startswith("{")]
    finally:
        for p in (tracer, target):
            if p and p.poll() is None:
                p.kill()
                p.wait()
    periodic = [r for r in reports if not r["final"]]
    late = max(r["since_attach_s"] - r["report"] for r in periodic)
    early = next((kib for t, kib in rss if t >= EARLY_S), rss[0][1])
    totals = reports[-1]["totals"]
    exact = all(totals[k] == counts[k] for k in COMPARED) and totals["dropped_allocs"] == 0
    return {"rate": counts["allocs_per_s"], "early": early / 1024, "end": rss[-1][1] / 1024,
            "peak": peak / 1024, "kernel": kernel / 2**20, "busy": busy,
            "reports": len(periodic), "late": late * 1000, "exact": exact,
            "totals": {k: totals[k] for k in COMPARED + ("dropped_allocs",)},
            "counts": {k: int(counts[k]) for k in COMPARED}}


def main():
    print(f"\nstress: stress_churn, {THREADS} threads of malloc/calloc/realloc/free, "
          f"{STRESS_SECONDS} s per traced run, memleakd -i 1; {machine()}")
    base = untraced()
    print(f"untraced ({UNTRACED_SECONDS} s): {base['allocs_per_s']:,.0f} allocations/s")
    print(f"{'':18} {'allocs/s':>10} {'RSS MiB at 5 s':>15} {'at end':>7} {'peak':>6} "
          f"{'BPF maps MiB':>13} {'CPU s/s':>8} {'reports':>8} {'latest ms':>10}  totals")
    sides = [("memleakd", [], None), (f"sampled {SAMPLE}", ["--sample-bytes", SAMPLE], None),
             ("empty programs", [], {"MEMLEAKD_EMPTY_PROBES": "1"})]
    for name, args, env in sides:
        r = traced(args, env)
        totals = "not compared" if args or env else \
            "exact" if r["exact"] else f"DIFFER: {r['totals']} vs {r['counts']}"
        print(f"{name:18} {r['rate']:10,.0f} {r['early']:15.1f} {r['end']:7.1f} "
              f"{r['peak']:6.1f} {r['kernel']:13.1f} {r['busy']:8.3f} "
              f"{r['reports']:8} {r['late']:10.0f}  {totals}")


if __name__ == "__main__":
    main()
