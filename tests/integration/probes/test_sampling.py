"""test_sampling.py - sampled mode (--sample-bytes N): a rate of 1 byte
tracks exactly what full tracking does; at 64 KiB the estimates of
tests/targets/sampling_leaks.c stand within 5 sigma of the truth from a
small sample; frees of unsampled blocks are not counted as unknown; and
the probes go in as uprobe sessions on this kernel, entry and return
probes elsewhere."""

import math
import os

from expected import ARENA_LEAKS, ARENA_SPECS, ARENA_TOTALS, LEAKS, LEAKS_TOTALS, Leak
from harness import (Session, describe_stacks, expect_stacks, expect_totals, trace,
                     trace_started)

RATE = 65536
# sampling_leaks.c: (frames[0], frames[1], allocations, size of each)
SMALL = Leak("leak_small", "chain_small", 200000, 64)
LARGE = Leak("leak_large", "chain_large", 20000, 4096)
CHURN_COUNT, CHURN_SIZE = 100000, 128
SIGMAS = 5
# sampling_leaks.c nested: leak_nested -> outer_alloc -> inner_alloc ->
# malloc, each traced, 200,000 x 64 bytes.
NESTED = Leak("leak_nested", "chain_nested", 200000, 64)
NESTED_SPECS = ["--alloc", "outer_alloc:size=1", "--alloc", "inner_alloc:size=1"]
NESTED_RATE = 4096


def sampled_probability(size, rate):
    """The chance that an allocation of size bytes is sampled."""
    return -math.expm1(-size / rate)


def expect_exact_report(report, rate):
    """Every allocation sampled: the stacks and outstanding totals of full
    tracking, raw figures and estimates alike."""
    assert report["sample_bytes"] == rate, report["sample_bytes"]
    expect_stacks(report, LEAKS)
    for stack in report["stacks"]:
        assert (stack["sampled_bytes"], stack["sampled_allocs"]) == \
            (stack["bytes"], stack["allocs"]), stack
    expect_totals(report, {k: LEAKS_TOTALS[k] for k in
                           ("outstanding_allocs", "outstanding_bytes", "allocs")})
    # The 5 frees of blocks from before attach are not counted either.
    expect_totals(report, {"unknown_frees": 0, "frees": LEAKS_TOTALS["frees"] - 5})


def expect_estimate(report, leak, rate=RATE):
    """leak's stack: right frames; its sampled count within SIGMAS standard
    deviations of its binomial mean, far below the allocations; its
    estimates within the same bound of the truth."""
    stack = next((s for s in report["stacks"]
                  if s["frames"] and s["frames"][0]["function"] == leak.function), None)
    assert stack, f"no {leak.function} stack:\n{describe_stacks(report)}"
    names = [f["function"] for f in stack["frames"]]
    assert names[1] == leak.caller and "main" in names, names
    p = sampled_probability(leak.bytes, rate)
    mean, sigma = leak.allocs * p, math.sqrt(leak.allocs * p * (1 - p))
    sampled = stack["sampled_allocs"]
    assert abs(sampled - mean) <= SIGMAS * sigma, \
        f"{leak.function}: {sampled} sampled, expected {mean:.0f} +- {SIGMAS * sigma:.0f}"
    assert sampled < leak.allocs / 10, f"{leak.function}: {sampled} sampled"
    assert stack["sampled_bytes"] == sampled * leak.bytes, stack
    bound = SIGMAS * sigma / p
    assert abs(stack["allocs"] - leak.allocs) <= bound, \
        f"{leak.function}: {stack['allocs']} allocs estimated, {leak.allocs} +- {bound:.0f}"
    assert abs(stack["bytes"] - leak.allocs * leak.bytes) <= bound * leak.bytes + 1, \
        f"{leak.function}: {stack['bytes']} bytes estimated"
    return stack


def expect_estimates(report):
    """Both leaks of sampling_leaks.c estimated, nothing else outstanding;
    the totals are the stacks' estimates."""
    assert report["sample_bytes"] == RATE
    stacks = [expect_estimate(report, leak) for leak in (SMALL, LARGE)]
    assert len(report["stacks"]) == 2, describe_stacks(report)
    totals = report["totals"]
    assert totals["outstanding_bytes"] == sum(s["bytes"] for s in stacks), totals
    assert totals["outstanding_allocs"] == sum(s["allocs"] for s in stacks), totals


def test_every_byte_sampled_is_exact():
    """--sample-bytes 1: every allocation of leaks.c is at least 10 bytes
    and is sampled, so the stacks, bytes and allocations are those of full
    tracking, and the estimates equal the raw figures."""
    with Session() as s:
        _, _, report = trace(s, "leaks", "--sample-bytes", "1")
    expect_exact_report(report, 1)


def test_estimates_within_bounds():
    """200,000 x 64 B and 20,000 x 4 KiB sampled every 64 KiB: about 200
    and 1,200 samples stand for them, within 5 sigma."""
    with Session() as s:
        _, _, report = trace(s, "sampling_leaks", "--sample-bytes", "64K")
    expect_estimates(report)


def test_unsampled_frees_are_not_unknown():
    """100,000 malloc(128) + free: the frees of blocks not sampled are not
    counted at all; every free counted is of a sampled block, the sampled
    blocks not outstanding (about 100,000 x 128 / 64 Ki of them)."""
    with Session() as s:
        _, _, report = trace(s, "sampling_leaks", "--sample-bytes", "64K")
    totals = report["totals"]
    assert totals["unknown_frees"] == 0, totals
    outstanding = sum(s["sampled_allocs"] for s in report["stacks"])
    assert totals["frees"] == totals["allocs"] - outstanding, totals
    p = sampled_probability(CHURN_SIZE, RATE)
    sigma = math.sqrt(CHURN_COUNT * p * (1 - p))
    assert abs(totals["frees"] - CHURN_COUNT * p) <= SIGMAS * sigma, totals


def trace_probes(target, probes, *args):
    """trace() of target with -v and ARGS; -v must say the probes went in
    as `probes`. Returns the final report."""
    with Session() as s:
        _, daemon, report = trace(s, target, *args, "-v")
    assert f"memleakd: debug: probes: {probes}" in daemon.stderr.lines, daemon.stderr.text()
    return report


def test_uprobe_sessions_by_default():
    """This kernel has uprobe sessions: -v says they are used."""
    expect_estimates(trace_probes("sampling_leaks", "uprobe sessions", "--sample-bytes", "64K"))


def test_entry_and_return_probes_without_sessions():
    """MEMLEAKD_NO_UPROBE_SESSION=1 (as before Linux 6.10): entry and return
    probes, the entry deciding; the same estimates."""
    os.environ["MEMLEAKD_NO_UPROBE_SESSION"] = "1"
    expect_estimates(trace_probes("sampling_leaks", "entry and return probes",
                                  "--sample-bytes", "64K"))


def test_perf_event_uprobes_sample_too():
    """MEMLEAKD_NO_UPROBE_MULTI=1 (before Linux 6.6): perf-event probes,
    and --sample-bytes 1 still exact."""
    os.environ["MEMLEAKD_NO_UPROBE_MULTI"] = "1"
    expect_exact_report(trace_probes("leaks", "perf-event entry and return probes",
                                     "--sample-bytes", "1"), 1)


def test_custom_allocators_are_sampled():
    """Custom allocation probes are sampled like malloc, and context resets
    still release: --sample-bytes 1 gives arena_leaks.c's exact stacks."""
    with Session() as s:
        _, _, report = trace(s, "arena_leaks", "-n", "20", "--sample-bytes", "1",
                             *ARENA_SPECS)
    expect_stacks(report, ARENA_LEAKS)
    expect_totals(report, ARENA_TOTALS)


def expect_nested_estimate(report):
    """Only leak_nested's stack; at 4 KiB, p = 1 - exp(-64/4096) = 1.55 %:
    about 3,100 samples, sigma 55, so the estimates of 12.8 MB and 200,000
    allocations stand within 5 sigma (8.9 %) of the truth, where a draw in
    each of the nested calls too would double them."""
    assert report["sample_bytes"] == NESTED_RATE
    stack = expect_estimate(report, NESTED, NESTED_RATE)
    assert len(report["stacks"]) == 1, describe_stacks(report)
    assert report["totals"]["outstanding_bytes"] == stack["bytes"], report["totals"]


def test_nested_custom_allocators_sample_once():
    """outer_alloc -> inner_alloc -> malloc, all three traced, with uprobe
    sessions: the unsampled outer call's return is watched all the same,
    so that the calls it makes know they are nested and draw nothing."""
    with Session() as s:
        target = s.target("sampling_leaks", "nested")
        _, report = trace_started(s, target, "--sample-bytes", str(NESTED_RATE),
                                  *NESTED_SPECS)
    expect_nested_estimate(report)


def test_nested_custom_allocators_without_sessions():
    """The same with entry and return probes (MEMLEAKD_NO_UPROBE_SESSION)."""
    os.environ["MEMLEAKD_NO_UPROBE_SESSION"] = "1"
    with Session() as s:
        target = s.target("sampling_leaks", "nested")
        _, report = trace_started(s, target, "--sample-bytes", str(NESTED_RATE),
                                  *NESTED_SPECS)
    expect_nested_estimate(report)
