"""test_probe_cost.py - what tracing costs the target, in each report: every
trap into the target's probes is counted (entries at emulated instructions,
single-stepped ones apart, returns), and priced at what a trap costs on
this machine, timed at start on memleakd's own code, plus the programs' run
time from the kernel's BPF statistics."""

import os
import re
import signal
import time

from harness import Session

# Costs measured against the CPU time they cost: nothing else shares the CPUs.
ALONE = True

PAIRS = 100000
# bench_pairs' pairs at about 4 us each take far longer than a report's interval.
LONG_PAIRS = 5000000
INTERVAL_S = 4
PRICES_RE = re.compile(r"a probe's trap costs ([\d.]+) us on an emulated instruction, "
                       r"([\d.]+) us single-stepped, and ([\d.]+) us more on return")


def traced_pairs(s, *args):
    """bench_pairs PAIRS malloc(64)+free pairs, all after attach, then its
    exit: memleakd's final report and its stderr."""
    target = s.target("bench_pairs", str(PAIRS), "--wait")
    daemon = s.memleakd(target.pid, "-v", *args)
    target.signal(signal.SIGUSR1)
    assert target.wait() == 0, target.describe()
    return daemon.finished_report(), daemon.stderr.text()


def test_every_hit_counted_and_priced():
    """Each pair is three traps: malloc's entry and return, free's entry,
    all on emulated instructions; nothing else runs after attach. The
    cost is those hits at the prices memleakd timed, as a share of a CPU
    over the interval."""
    with Session() as s:
        report, stderr = traced_pairs(s)
    cost = report["cost"]
    assert report["totals"]["allocs"] == PAIRS and report["totals"]["frees"] == PAIRS
    assert cost["probe_hits"] == 3 * PAIRS and cost["single_stepped_hits"] == 0, cost
    prices = PRICES_RE.search(stderr)
    assert prices, stderr
    emulated, stepped, _ = map(float, prices.groups())
    # The trap alone, at the cheapest price, is a floor for each hit.
    assert cost["ns_per_hit"] >= emulated * 1e3 * 0.999 > 0, (cost, prices.groups())
    assert stepped > emulated, prices.groups()
    share = cost["probe_hits"] * cost["ns_per_hit"] / (report["interval_s"] * 1e9)
    assert abs(cost["cpu_share"] - share) <= 0.002 + 0.01 * share, (cost, report["interval_s"])
    assert abs(cost["probe_hits_per_s"] * report["interval_s"] - cost["probe_hits"]) <= \
        0.01 * cost["probe_hits"], cost
    assert cost["syscall_cpu_share"] >= 0, cost


def test_single_stepped_hits_apart():
    """With every probe at its function's entry (MEMLEAKD_PROBES_AT_ENTRY),
    glibc's free starts with an instruction the kernel single-steps: each
    free is a single-stepped hit, priced as such."""
    os.environ["MEMLEAKD_PROBES_AT_ENTRY"] = "1"
    try:
        with Session() as s:
            report, stderr = traced_pairs(s, "--no-mappings")
    finally:
        del os.environ["MEMLEAKD_PROBES_AT_ENTRY"]
    cost = report["cost"]
    assert cost["probe_hits"] == 3 * PAIRS and cost["single_stepped_hits"] == PAIRS, cost
    assert cost["syscall_cpu_share"] == 0, cost
    emulated, stepped, ret = map(float, PRICES_RE.search(stderr).groups())
    floor = (2 * emulated + stepped) / 3 * 1e3
    assert cost["ns_per_hit"] >= floor * 0.999, (cost, floor)


def program_runs(pid):
    """The runs of the BPF programs process pid holds, summed (fdinfo's
    run_cnt, which the kernel counts only while statistics are on)."""
    runs = 0
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        runs += int(fields.get("run_cnt", 0))
    return runs


def test_statistics_only_in_windows():
    """BPF statistics make every run of every program read the clock twice,
    so memleakd holds them on only in a window after tracing starts and
    after each report, an eighth of the interval: while the target keeps
    allocating, its programs' runs are counted there and not between. The
    report is still priced with the programs' run time."""
    window_s = INTERVAL_S / 8
    with Session() as s:
        target = s.target("bench_pairs", str(LONG_PAIRS), "--wait")
        daemon = s.memleakd(target.pid, "-v", "-i", str(INTERVAL_S), "--no-mappings")
        pid = daemon.popen.pid
        target.signal(signal.SIGUSR1)
        time.sleep(window_s + 0.5)
        before = program_runs(pid)
        time.sleep(1)
        between = program_runs(pid)
        assert daemon.stdout.wait_for(lambda l: l.startswith("{"), INTERVAL_S * 3), \
            daemon.describe()
        opened = program_runs(pid)
        time.sleep(window_s / 5)
        within = program_runs(pid)
        assert target.running(), "bench_pairs finished too early"
        report = daemon.stop()
    assert between == before, (before, between)
    assert within > opened, (opened, within)
    # More than the traps alone (entry, return and free's entry, emulated).
    entry, _, ret = map(float, PRICES_RE.search(daemon.stderr.text()).groups())
    cost = report["cost"]
    assert cost["probe_hits"] > 0 and cost["ns_per_hit"] > (3 * entry + ret) / 3 * 1e3, \
        (cost, entry, ret)
