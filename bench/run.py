#!/usr/bin/env python3
"""bench/run.py - `make bench`: ns added per malloc(64)+free pair, and what
DWARF unwinding costs.

1. build/targets/bench_pairs untraced, traced by memleakd through
   uprobe sessions (the default where the kernel has them), through
   uprobe_multi entry and return probes (MEMLEAKD_NO_UPROBE_SESSION, the
   path of kernels before 6.10), and through one perf-event uprobe per
   probe (MEMLEAKD_NO_UPROBE_MULTI, before 6.6); sampled every SAMPLE
   bytes (--sample-bytes, Go's default rate), with sessions and without;
   and the floor: the same probes with programs that return at once
   (MEMLEAKD_EMPTY_PROBES), with and without sessions.
2. Unwinding: build/targets/bench_deep makes its pairs D calls deep in code
   without frame pointers, bench_deep_fp is the same code with frame
   pointers; at each depth of BENCH_DEPTHS, untraced and with --unwind fp,
   dwarf and auto, and with 4 KiB frames (bench_deep's "big": frames
   outside the stack window memleakd copies, read one by one). The cost per
   unwound frame, in each round: the added ns/pair at the last depth minus
   that at the first, over the frames the final report's stack gained; the
   median of the rounds.
3. The unwind tables memleakd -v reports (rows, bytes, build time) for the
   objects of part 2, for libstdc++ (build/targets/unwind_cxx) and for
   PostgreSQL 15's postgres (a backend of a server started for it;
   BENCH_TABLES_POSTGRES=0 skips it).
4. Threads (the per-pair cost with the target's threads on every
   CPU): bench_pairs --threads 1 and --threads 2, untraced and traced; the
   ns memleakd adds per pair (per thread) with 1 and 2 threads, and their
   ratio (goal <= 1.20).

BENCH_PARTS (a comma-separated subset of pairs,unwind,tables,threads; all
by default) picks the parts to run.

Each part alternates its sides (A B C A B C ...) so that machine noise hits
every side alike, and prints the medians, the differences and the ratios,
with a description of the machine. A traced run starts once memleakd is
attached, unless --unwind fp its unwind tables are loaded, and its first
window of BPF statistics is over.
"""
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = os.path.join(ROOT, "build", "targets")
BENCH = os.path.join(TARGETS, "bench_pairs")
DEEP = os.path.join(TARGETS, "bench_deep")
DEEP_FP = os.path.join(TARGETS, "bench_deep_fp")
MEMLEAKD = os.environ.get("MEMLEAKD") or os.path.join(ROOT, "memleakd")
PAIRS = int(os.environ.get("BENCH_PAIRS", "200000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
DEPTHS = [int(d) for d in os.environ.get("BENCH_DEPTHS", "4,32").split(",")]
TABLE_ROUNDS = 3
PARTS = os.environ.get("BENCH_PARTS", "pairs,unwind,tables,threads").split(",")
THREADS_GOAL = 1.20
SAMPLE = os.environ.get("BENCH_SAMPLE_BYTES", "512K")
# memleakd holds BPF statistics on for a window as tracing starts, at most
# 1 s (src/probes/probe_cost.c), which make every program run dearer: a
# traced run starts after it, as the steady state does.
STATS_WINDOW_S = 1.1

ATTACHED = "memleakd: attached to pid"
TABLES_READY = "memleakd: unwind tables ready"
TABLE_RE = re.compile(r"unwind table: (\S+): (\d+) rows, (\d+) bytes .*built in ([\d.]+) ms")
READY_RE = re.compile(r"tables ready: (\d+) objects, (\d+) rows \((\d+) KiB\)")
# The objects part 3 lists one by one (file names); the rest count in the
# process's totals.
TABLE_OBJECTS = re.compile(r"(bench_deep|bench_deep_fp|libc\.so\.6|libstdc\+\+\.so.*|postgres)$")


def machine():
    cpu = "unknown cpu"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cpus, kernel {platform.release()}"


def fdinfos(pid):
    """The fdinfo of each descriptor process pid holds, as {field: value}
    dicts (values unstripped); descriptors closed meanwhile are left out."""
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                yield dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue


def load():
    """The load averages (1, 5 and 15 minutes): how busy the machine was."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def wait_lines(stream, prefixes, timeout=30):
    """Reads stream until a line starting with each of prefixes has been
    read, in any order; returns the lines read."""
    deadline = time.time() + timeout
    lines, missing = [], set(prefixes)
    while missing and time.time() < deadline:
        line = stream.readline()
        if not line:
            break
        lines.append(line)
        missing = {p for p in missing if not line.startswith(p)}
    if missing:
        raise RuntimeError(f"no line starting with {sorted(missing)}:\n{''.join(lines)}")
    return lines


def trace(pid, args, env=None):
    """memleakd -p PID ARGS, once attached and, unless --unwind fp, its
    tables loaded; .lines holds its stderr, .ready_s when it was ready,
    .target the file name of the process."""
    started = time.monotonic()
    tracer = subprocess.Popen([MEMLEAKD, "-p", str(pid), "-i", "3600", "-f", "json", *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    mode = args[args.index("--unwind") + 1] if "--unwind" in args else "auto"
    tracer.lines = wait_lines(tracer.stderr, [ATTACHED] + [TABLES_READY] * (mode != "fp"))
    tracer.ready_s = time.monotonic() - started
    time.sleep(STATS_WINDOW_S)
    tracer.target = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    return tracer


def stop(tracer):
    """Stops memleakd (or lets it finish after its target exited); its
    final JSON report goes to .report, the rest of stderr to .lines."""
    if tracer.poll() is None:
        tracer.send_signal(signal.SIGINT)
    out, err = tracer.communicate(timeout=30)
    tracer.lines += err.splitlines(True)
    reports = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    tracer.report = reports[-1] if reports else None
    return tracer


def run_target(argv, args, env, read, target_env=None):
    """One run of a target of bench_pairs' protocol (argv, without --wait,
    in target_env), untraced (args None) or traced by memleakd ARGS with
    env; read(stdout) takes the target's figures once it is started.
    Returns what read returned and the stopped memleakd (or None)."""
    bench = subprocess.Popen([*argv, "--wait"], stdout=subprocess.PIPE, text=True,
                             env=target_env)
    tracer = None
    try:
        pid = int(wait_lines(bench.stdout, ["ready"])[-1].split()[1])
        if args is not None:
            tracer = trace(pid, args, env)
        os.kill(pid, signal.SIGUSR1)
        return read(bench.stdout), tracer and stop(tracer)
    finally:
        if tracer and tracer.poll() is None:
            tracer.kill()
            tracer.wait()
        bench.kill()
        bench.wait()


def one_run(argv, args=None, env=None, target_env=None):
    """run_target() of a target that prints a "pairs" line. Returns ns per
    pair, the stopped memleakd (or None) and the fields of the target's line
    ({name: value})."""
    def pairs(stdout):
        fields = wait_lines(stdout, ["pairs"])[-1].split()
        return dict(zip(fields[::2], map(float, fields[1::2])))

    fields, tracer = run_target(argv, args, env, pairs, target_env)
    return fields["ns_per_pair"], tracer, fields


def alternate(sides):
    """ROUNDS rounds of one run per side (name, argv, args[, env[,
    target_env]]), in order; returns the runs of each side, [(ns, tracer, fields)], in a list."""
    runs = [[] for _ in sides]
    for _ in range(ROUNDS):
        for side, side_runs in zip(sides, runs):
            side_runs.append(one_run(*side[1:]))
    return runs


def median_ns(runs, field=None):
    return statistics.median(f[field] if field else ns for ns, _, f in runs)


def frames(runs):
    """Frames in the stack of the final report (the target's one leak)."""
    counts = [len(t.report["stacks"][0]["frames"]) for _, t, _ in runs if t
              and t.report and t.report["stacks"]]
    return statistics.median(counts) if counts else 0


def row(name, runs, base, extra="", field=None):
    median = median_ns(runs, field)
    added = f"{median - base:8.1f} x{median / base:<6.1f}" if runs[0][1] else " " * 16
    values = " ".join(f"{f[field] if field else ns:.0f}" for ns, _, f in runs)
    print(f"{name:34} {median:8.1f} {added} {extra}  runs: {values}")


def env(**values):
    return dict(os.environ, **values)


def bench_pairs():
    pairs = [BENCH, str(PAIRS)]
    sampled = ["--sample-bytes", SAMPLE]
    no_session = env(MEMLEAKD_NO_UPROBE_SESSION="1")
    sides = [("untraced", pairs, None),
             ("memleakd", pairs, []),
             ("memleakd, no sessions", pairs, [], no_session),
             ("memleakd, perf-event uprobes", pairs, [], env(MEMLEAKD_NO_UPROBE_MULTI="1")),
             (f"sampled {SAMPLE}", pairs, sampled),
             (f"sampled {SAMPLE}, no sessions", pairs, sampled, no_session),
             ("empty probes (floor)", pairs, [], env(MEMLEAKD_EMPTY_PROBES="1")),
             ("empty probes, no sessions", pairs, [],
              env(MEMLEAKD_EMPTY_PROBES="1", MEMLEAKD_NO_UPROBE_SESSION="1"))]
    runs = alternate(sides)
    print(f"method: {ROUNDS} rounds, sides alternated, {PAIRS} malloc(64)+free pairs per run, "
          "medians")
    print(f"{'':34} {'ns/pair':>8} {'added':>8} {'ratio':6}")
    base = median_ns(runs[0])
    for side, side_runs in zip(sides, runs):
        row(side[0], side_runs, base)


def bench_unwind():
    """Part 2; returns every traced run, for part 3."""
    kinds = [("", DEEP, [], ["fp", "dwarf", "auto"]),
             ("4 KiB frames, ", DEEP, ["big"], ["dwarf"]),
             ("fp build, ", DEEP_FP, [], ["fp", "auto"])]
    sides, pairs = [], []  # pairs: (name, traced sides, untraced sides), by depth
    for prefix, binary, extra, modes in kinds:
        for mode in [None] + modes:
            name = prefix + (f"--unwind {mode}" if mode else "untraced")
            args = ["--unwind", mode, "-v"] if mode else None
            first = len(sides)
            sides += [(name, [binary, str(PAIRS), str(d), *extra], args) for d in DEPTHS]
            if mode:
                pairs.append((name, range(first, len(sides)), untraced))
            else:
                untraced = range(first, len(sides))
    runs = alternate(sides)
    print(f"\nunwinding: bench_deep (-O2 -fomit-frame-pointer; 32-byte frames, or 4 KiB) and "
          f"bench_deep_fp (frame pointers), {PAIRS} malloc(64)+free pairs per run, D calls "
          f"deep; {ROUNDS} rounds, sides alternated, medians; added: over untraced, same "
          "binary and D")
    print(f"{'':34} {'ns/pair':>8} {'added':>8} {'ratio':6} frames")
    for (name, argv, args), side_runs in zip(sides, runs):
        base = median_ns(next(r for s, r in zip(sides, runs) if s[1] == argv and s[2] is None))
        row(f"D={argv[2]:<3} {name}", side_runs, base,
            f"{frames(side_runs):6.0f}" if args else " " * 6)
    print(f"per unwound frame, in each round: ((traced - untraced) at D={DEPTHS[-1]} - "
          f"(traced - untraced) at D={DEPTHS[0]}) / frames gained; median of the rounds")
    for name, traced, base in pairs:
        lo, hi, base_lo, base_hi = (runs[traced[0]], runs[traced[-1]], runs[base[0]],
                                    runs[base[-1]])
        gained = frames(hi) - frames(lo)
        if gained <= 0:
            print(f"  {name:32} the walk stops after {frames(hi):.0f} frames at every depth: "
                  "its stacks are cut short, no cost per frame")
            continue
        slopes = [((t1 - u1) - (t0 - u0)) / gained for (t0, *_), (t1, *_), (u0, *_), (u1, *_)
                  in zip(lo, hi, base_lo, base_hi)]
        print(f"  {name:32} {statistics.median(slopes):6.1f} ns/frame ({gained:.0f} frames)"
              f"   rounds: {' '.join(f'{x:.0f}' for x in slopes)}")
    return [t for side_runs in runs for _, t, _ in side_runs if t]


def tables_of(pid, mode):
    """memleakd --unwind MODE -v on pid until its tables are loaded."""
    return stop(trace(pid, ["--unwind", mode, "-v"]))


def other_tables():
    """memleakd -v on unwind_cxx (libstdc++) and on a PostgreSQL backend,
    TABLE_ROUNDS times in each mode."""
    tracers = []
    for _ in range(TABLE_ROUNDS):
        cxx = subprocess.Popen([os.path.join(TARGETS, "unwind_cxx")], stdout=subprocess.PIPE,
                               text=True)
        try:
            pid = int(wait_lines(cxx.stdout, ["ready"])[-1].split()[1])
            tracers += [tables_of(pid, mode) for mode in ("dwarf", "auto")]
        finally:
            cxx.kill()
            cxx.wait()
    if os.environ.get("BENCH_TABLES_POSTGRES", "1") != "0":
        sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
        from harness import Session
        from postgres import start_postgres
        with Session() as s:
            backend = start_postgres(s).connect()
            for _ in range(TABLE_ROUNDS):
                tracers += [tables_of(backend.pid, mode) for mode in ("dwarf", "auto")]
    return tracers


def tables(tracers):
    """Part 3: what memleakd -v said of each object and process, by mode."""
    objects, processes = {}, {}
    for t in tracers:
        mode = t.args[t.args.index("--unwind") + 1]
        for line in t.lines:
            m = TABLE_RE.search(line)
            if m and TABLE_OBJECTS.match(os.path.basename(m[1])):
                entry = objects.setdefault((os.path.basename(m[1]), mode),
                                           [int(m[2]), int(m[3]), []])
                entry[2].append(float(m[4]))
            m = READY_RE.search(line)
            if m or (mode == "fp" and line.startswith(ATTACHED)):
                sizes = m.groups() if m else ("-", "-", "-")
                processes.setdefault((t.target, mode), [*sizes, []])[3].append(t.ready_s)
    print("\nunwind tables (memleakd -v); build ms and seconds to ready: medians of the runs")
    print(f"{'object':20} {'mode':5} {'rows':>7} {'bytes':>8} {'B/row':>5} {'build ms':>8} runs")
    for (name, mode), (rows, size, ms) in sorted(objects.items()):
        print(f"{name:20} {mode:5} {rows:7} {size:8} {size / max(rows, 1):5.1f} "
              f"{statistics.median(ms):8.1f} {len(ms)}")
    print(f"{'process':20} {'mode':5} {'objects':>7} {'rows':>8} {'KiB':>5} "
          "memleakd started -> attached, tables ready")
    for (name, mode), (n, rows, kib, ready) in sorted(processes.items()):
        print(f"{name:20} {mode:5} {n:>7} {rows:>8} {kib:>5} "
              f"{statistics.median(ready):.2f} s")


def bench_threads():
    """Part 4: 1 and 2 threads of bench_pairs, untraced and traced. Reports
    the wall clock (the measure of the goal) and, as a check against other
    processes taking a CPU from the threads, their own CPU time per pair."""
    sides = [(f"{t} thread{'s' * (t > 1)}, {'memleakd' if args is not None else 'untraced'}",
              [BENCH, str(PAIRS), "--threads", str(t)], args)
             for args in (None, []) for t in (1, 2)]
    runs = alternate(sides)
    print(f"\nthreads: bench_pairs --threads T, each thread {PAIRS} malloc(64)+free pairs, "
          f"started together; {ROUNDS} rounds, sides alternated, medians; {machine()}")
    for field, what in ((None, f"wall clock from the start to the last thread's end, / {PAIRS}"),
                        ("cpu_ns_per_pair", "the threads' own CPU time / pairs")):
        print(f"ns/pair: {what}\n{'':34} {'ns/pair':>8} {'added':>8} {'ratio':6} "
              + ("on cpu" if field else f"{'pairs/s':>10}"))
        for i, (side, side_runs) in enumerate(zip(sides, runs)):
            rate = int(side[1][-1]) * 1e9 / median_ns(side_runs)
            # The share of the wall clock each thread spent on a CPU: less
            # than 100% when other processes took its CPU (or it slept).
            on_cpu = statistics.median(f["cpu_ns_per_pair"] / ns for ns, _, f in side_runs)
            row(side[0], side_runs, median_ns(runs[i % 2], field),
                f"{on_cpu:6.0%}" if field else f"{rate:10.0f}", field)
        added = [median_ns(runs[2 + i], field) - median_ns(runs[i], field) for i in (0, 1)]
        ns = [[f[field] if field else n for n, _, f in side_runs] for side_runs in runs]
        rounds = [(t2 - u2) / (t1 - u1) for u1, u2, t1, t2 in zip(*ns)]
        ratio = added[1] / added[0]
        print(f"added per pair: 1 thread {added[0]:.1f} ns, 2 threads {added[1]:.1f} ns; ratio "
              f"{ratio:.2f} (goal <= {THREADS_GOAL:.2f}: "
              f"{'met' if ratio <= THREADS_GOAL else 'missed'}); in each round: "
              f"{' '.join(f'{x:.2f}' for x in rounds)}, median {statistics.median(rounds):.2f}")


def main():
    print(f"machine: {machine()}")
    if "pairs" in PARTS:
        bench_pairs()
    traced = bench_unwind() if "unwind" in PARTS else []
    if "tables" in PARTS:
        tables(traced + other_tables())
    if "threads" in PARTS:
        bench_threads()
    return 0


if __name__ == "__main__":
    sys.exit(main())
