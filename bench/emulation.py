#!/usr/bin/env python3
"""bench/emulation.py - `make bench`: which instruction forms this kernel
emulates when a uprobe sits on them, and which it single-steps, measured.

build/targets/bench_forms has one function per form, each starting with
that instruction (a push, a jump, each NOP encoding, endbr64, test, mov,
...). memleakd probes every one of them at its first byte
(MEMLEAKD_PROBES_AT_ENTRY) with programs that return at once
(MEMLEAKD_EMPTY_PROBES), and -v says whether src/probes/probe_placement.c
believes the kernel emulates it. Each round runs the target untraced and
traced, alternated; the ns a probe adds per call is the median over the
rounds of traced minus untraced. A form whose probe costs less than
CUTOFF times the cheapest form's is emulated; the script prints every form
with its cost, what was measured and what memleakd believes, and exits 1
when they disagree.
"""
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, TARGETS, env, machine, run_target  # noqa: E402

FORMS = os.path.join(TARGETS, "bench_forms")
CALLS = int(os.environ.get("BENCH_FORM_CALLS", "100000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
# Single-stepping costs about five times emulation here; halfway, in ratio.
CUTOFF = 2.2
PLACED = re.compile(r"--free form_(\w+) in .*\n.*probe at \+0x0 \((.*?), (emulated|single-stepped)")


def form_names():
    source = os.path.join(ROOT, "tests", "targets", "bench_forms.c")
    with open(source) as f:
        return re.findall(r"^\tX\((\w+),", f.read(), re.M)


def one_run(traced):
    """{form: ns per call} of one run, untraced or traced, and memleakd's
    stderr ("" untraced)."""
    args = ["--no-malloc", "--no-mappings", "--unwind", "fp", "-v",
            *[a for name in form_names() for a in ("--free", f"form_{name}")]]
    ns, tracer = run_target(
        [FORMS, str(CALLS)], args if traced else None,
        env(MEMLEAKD_PROBES_AT_ENTRY="1", MEMLEAKD_EMPTY_PROBES="1"),
        lambda stdout: {line.split()[1]: float(line.split()[3]) for line in stdout
                        if line.startswith("form ")})
    return ns, "".join(tracer.lines) if tracer else ""


def main():
    names = form_names()
    untraced, traced, believed = {n: [] for n in names}, {n: [] for n in names}, {}
    for _ in range(ROUNDS):
        for is_traced in (False, True):
            ns, stderr = one_run(is_traced)
            for name in names:
                (traced if is_traced else untraced)[name].append(ns[name])
            for m in PLACED.finditer(stderr):
                believed[m[1]] = (m[2], m[3] == "emulated")
    added = {n: statistics.median(t - u for t, u in zip(traced[n], untraced[n])) for n in names}
    floor = min(added.values())
    print(f"\nuprobe on a function's first instruction: ns added per call, median of "
          f"{ROUNDS} rounds (traced - untraced, alternated), {CALLS} calls per form; "
          f"emulated when < {CUTOFF} x the cheapest form; {machine()}")
    print(f"{'form':18} {'added ns':>9} {'measured':>14}  memleakd's decoder")
    disagree = 0
    for n in names:
        emulated = added[n] < CUTOFF * floor
        insn, thinks = believed.get(n, ("?", None))
        mark = "" if thinks == emulated else "   not claimed" if emulated else "   <-- wrong"
        disagree += bool(thinks) and not emulated
        print(f"{n:18} {added[n]:9.0f} {'emulated' if emulated else 'single-stepped':>14}  "
              f"{insn}, {'emulated' if thinks else 'single-stepped'}{mark}")
    print(f"{disagree} forms memleakd believes emulated that are single-stepped")
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
