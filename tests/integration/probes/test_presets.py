"""test_presets.py - the shipped presets on real processes: Debian's APR
pools (--preset apr), tcmalloc and mimalloc called by name next to glibc's
malloc (--preset tcmalloc, --preset mimalloc), and a jemalloc whose API is
prefixed _rjem_ as in Rust's tikv-jemallocator (--preset jemalloc
--symbol-prefix _rjem_). Every number is exact; the targets document them
(tests/targets/apr_pools.c, direct_allocators.c, prefixed_jemalloc.c) and
expected.py holds them.

The last tests cover calls the presets must count like the malloc family:
functions that end by jumping to another traced function (tc_pvalloc,
mi_free_size...) and realloc(p, 0), which frees p in tcmalloc and jemalloc.
"""

import os
import re

from expected import (APR_LEAKS, APR_TOTALS, DIRECT_FREE_CHAINS, DIRECT_LIBC,
                      DIRECT_MI_TAIL_ALLOCS, DIRECT_MIMALLOC,
                      DIRECT_REALLOC_ZERO, DIRECT_TC_TAIL_ALLOCS,
                      DIRECT_TCMALLOC, PREFIXED_JEMALLOC_LEAKS,
                      PREFIXED_JEMALLOC_TOTALS, PREFIXED_LIBC_LEAKS,
                      PREFIXED_LIBC_TOTALS, direct_totals)
from harness import (MEMLEAKD, MIMALLOC, TARGETS, TCMALLOC, Session,
                     expect_stacks, expect_totals, trace_started)

PRESETS = ["apr", "jemalloc", "mimalloc", "postgres", "tcmalloc"]
LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
# Room for every stack of a run, so that a stray one shows.
TOP = ["-n", "100"]


def takes_malloc_from_libc(daemon):
    """The allocators are linked after libc: glibc provides malloc."""
    text = daemon.stderr.text()
    assert f"takes malloc from {LIBC};" in text, \
        f"memleakd does not say it takes malloc from {LIBC}:\n{text}"


def traces_in(daemon, function, module):
    """memleakd names each custom function it traces and its object (the
    file the soname or path leads to)."""
    text = daemon.stderr.text()
    assert re.search(rf"^memleakd:\s+--\w+ {re.escape(function)} in "
                     rf"{re.escape(str(module))}(\.[0-9.]+)?$", text,
                     re.MULTILINE), \
        f"memleakd does not trace {function} in {module}:\n{text}"


def run_traced(s, name, target_args, *args):
    target = s.target(name, *target_args)
    daemon, report = trace_started(s, target, *TOP, *args)
    return daemon, report


def test_list_presets():
    """--list-presets exits 0 and lists the five shipped presets from the
    build tree's presets/ (beside the executable), each with the first line
    of its file as its description."""
    env = {k: v for k, v in os.environ.items() if k != "MEMLEAKD_PRESET_DIR"}
    with Session() as s:
        status, out, err = s.run([MEMLEAKD, "--list-presets"], env=env)
        assert status == 0, f"--list-presets exited {status}:\n{out}\n{err}"
        lines = out.splitlines()
        presets_dir = MEMLEAKD.parent / "presets"
        assert f"{presets_dir}:" in lines, \
            f"--list-presets does not list {presets_dir}:\n{out}"
        section = lines[lines.index(f"{presets_dir}:") + 1:]
        listed = {}
        for line in section:
            m = re.match(r"^  (\S+)\s+(\S.*)$", line)
            if not m:
                break
            listed[m.group(1)] = m.group(2)
        assert sorted(listed) == PRESETS, \
            f"listed {sorted(listed)}, expected {PRESETS}:\n{out}"
        for name in PRESETS:
            first = (presets_dir / f"{name}.preset").read_text().splitlines()[0]
            assert first.startswith("# ")
            assert listed[name] == first[2:], \
                f"{name}: description {listed[name]!r}, file says {first!r}"


def test_apr_pools():
    """Debian's libapr-1 with --preset apr: apr_palloc and apr_pcalloc
    (the header's macro and the exported function) leak exact bytes in a
    long-lived pool and a subpool; 100 request pools cleared and destroyed
    with their subpools and grandchildren, a scratch pool cleared 50 times
    and 20 destroyed subpools hold nothing; a request pool cleared once and
    refilled holds only what came after the clear. The pools created are
    allocations too, of their creators: the subpool and the request pool
    never destroyed are outstanding. 225 allocations, 111928 bytes
    outstanding out of 4450; 571 resets and deletes released 4105
    allocations, and the deletes freed 120 pools."""
    with Session() as s:
        daemon, report = run_traced(s, "apr_pools", [], "--preset", "apr")
        for function in ("apr_palloc", "apr_pcalloc", "apr_pool_create_ex",
                         "apr_pool_create_unmanaged_ex", "apr_pool_clear",
                         "apr_pool_destroy"):
            traces_in(daemon, function,
                      "/usr/lib/x86_64-linux-gnu/libapr-1.so.0")
        expect_stacks(report, APR_LEAKS)
        expect_totals(report, APR_TOTALS)


def test_apr_without_preset():
    """The same run without the preset: APR maps its pool blocks itself,
    so the malloc family sees no call at all after SIGUSR1."""
    with Session() as s:
        _, report = run_traced(s, "apr_pools", [])
        expect_stacks(report, [])
        expect_totals(report, dict(outstanding_allocs=0, outstanding_bytes=0,
                                   allocs=0, frees=0, nested_calls=0))


def test_tcmalloc_preset():
    """libtcmalloc_minimal.so.4 is linked after libc, so glibc provides
    malloc; --preset tcmalloc traces tc_malloc, tc_calloc, tc_realloc,
    tc_memalign, tc_posix_memalign, tc_new* (aligned and nothrow, and their
    array aliases), tc_malloc_skip_new_handler and every tc_free/tc_delete
    variant: 291 tcmalloc allocations (103970 bytes) and glibc's 20 (2220
    bytes) outstanding, exact per stack; 1300 churned tcmalloc allocations
    all freed."""
    with Session() as s:
        daemon, report = run_traced(s, "direct_allocators", [],
                                    "--preset", "tcmalloc")
        takes_malloc_from_libc(daemon)
        traces_in(daemon, "tc_malloc", TCMALLOC)
        traces_in(daemon, "tc_new_aligned", TCMALLOC)
        groups = (DIRECT_LIBC, DIRECT_TCMALLOC)
        expect_stacks(report, [l for g in groups for l in g.leaks])
        expect_totals(report, direct_totals(*groups))


def test_mimalloc_preset():
    """libmimalloc.so.2 is linked after libc, so glibc provides malloc;
    --preset mimalloc --no-malloc traces mi_malloc, mi_zalloc, mi_calloc,
    mi_mallocn, the _small, _aligned and _aligned_at variants,
    mi_posix_memalign, mi_new*, the reallocs (mi_realloc, mi_reallocf,
    mi_rezalloc, mi_realloc_aligned...) and mi_free, and nothing of glibc's:
    406 allocations (116040 bytes) outstanding, exact per stack; 1250
    churned allocations all freed; 167 nested calls (reallocs freeing
    through mi_free, mi_new_realloc calling mi_realloc, mi_posix_memalign
    and mi_new_aligned calling mi_malloc_aligned)."""
    with Session() as s:
        daemon, report = run_traced(s, "direct_allocators", [],
                                    "--preset", "mimalloc", "--no-malloc")
        traces_in(daemon, "mi_malloc", MIMALLOC)
        expect_stacks(report, DIRECT_MIMALLOC.leaks)
        expect_totals(report, direct_totals(DIRECT_MIMALLOC))


def test_direct_allocators_without_preset():
    """Without a preset only glibc's malloc family is traced: none of the
    tc_* or mi_* calls is seen, only glibc's 120 allocations and 100 frees."""
    with Session() as s:
        daemon, report = run_traced(s, "direct_allocators", [])
        takes_malloc_from_libc(daemon)
        assert "custom allocator" not in daemon.stderr.text(), \
            f"memleakd traces custom functions:\n{daemon.describe()}"
        expect_stacks(report, DIRECT_LIBC.leaks)
        expect_totals(report, direct_totals(DIRECT_LIBC))


def test_jemalloc_prefixed():
    """jemalloc's archive with its API renamed _rjem_* and linked into the
    executable, which keeps glibc's malloc: --preset jemalloc --symbol-prefix
    _rjem_ traces the executable's _rjem_malloc, _rjem_calloc,
    _rjem_mallocx (with flags), _rjem_posix_memalign, _rjem_aligned_alloc,
    _rjem_memalign, _rjem_valloc, _rjem_realloc, _rjem_rallocx and the
    frees (_rjem_free, _rjem_dallocx, _rjem_sdallocx): 246 jemalloc
    allocations (303556 bytes) and glibc's 10 (1230 bytes) outstanding,
    exact per stack; no nested call."""
    with Session() as s:
        daemon, report = run_traced(s, "prefixed_jemalloc", [],
                                    "--preset", "jemalloc",
                                    "--symbol-prefix", "_rjem_")
        takes_malloc_from_libc(daemon)
        for function in ("_rjem_malloc", "_rjem_mallocx", "_rjem_rallocx",
                         "_rjem_sdallocx"):
            traces_in(daemon, function, TARGETS / "prefixed_jemalloc")
        expect_stacks(report, PREFIXED_LIBC_LEAKS + PREFIXED_JEMALLOC_LEAKS)
        expect_totals(report, PREFIXED_JEMALLOC_TOTALS)


def test_jemalloc_preset_without_prefix():
    """The same target with --preset jemalloc and no prefix: malloc, free...
    resolve to glibc's, already traced (probed once), and mallocx, rallocx,
    sdallocx and dallocx do not exist (skipped): memleakd traces no custom
    function and reports glibc's leaks only, as without the preset."""
    with Session() as s:
        daemon, report = run_traced(s, "prefixed_jemalloc", [],
                                    "--preset", "jemalloc")
        takes_malloc_from_libc(daemon)
        text = daemon.stderr.text()
        assert "tracing 0 custom allocator functions" in text, \
            f"memleakd traces custom functions:\n{text}"
        assert "_rjem_" not in text, f"memleakd names _rjem_:\n{text}"
        expect_stacks(report, PREFIXED_LIBC_LEAKS)
        expect_totals(report, PREFIXED_LIBC_TOTALS)


def test_tcmalloc_preset_tail_calls():
    """tc_valloc and tc_pvalloc end by jumping (a tail call) to
    tc_memalign, which the preset also traces. The call is the program's:
    its requested size is recorded (tc_pvalloc(100) is 100 bytes, as with
    glibc's pvalloc, not the 4096 it passes on), and tc_memalign is a
    nested call."""
    with Session() as s:
        _, report = run_traced(s, "direct_allocators", ["tail-allocs"],
                               "--preset", "tcmalloc", "--no-malloc")
        groups = (DIRECT_TCMALLOC, DIRECT_TC_TAIL_ALLOCS)
        expect_stacks(report, [l for g in groups for l in g.leaks])
        expect_totals(report, direct_totals(*groups))


def test_mimalloc_preset_tail_calls():
    """mi_memalign, mi_aligned_alloc and mi_pvalloc end by jumping to
    mi_malloc_aligned, mi_valloc to mi_memalign: the requested size is
    recorded (mi_pvalloc(300) is 300 bytes) and the jumped-to functions are
    nested calls."""
    with Session() as s:
        _, report = run_traced(s, "direct_allocators", ["tail-allocs"],
                               "--preset", "mimalloc", "--no-malloc")
        groups = (DIRECT_MIMALLOC, DIRECT_MI_TAIL_ALLOCS)
        expect_stacks(report, [l for g in groups for l in g.leaks])
        expect_totals(report, direct_totals(*groups))


def test_preset_free_chains():
    """mi_free_size, mi_free_aligned and mi_cfree end by jumping to mi_free,
    mi_free_size_aligned to mi_free_size: each free the program makes is
    one free, of a tracked block (no unknown free), and the jumped-to frees
    are nested calls."""
    with Session() as s:
        _, report = run_traced(s, "direct_allocators", ["free-chains"],
                               "--preset", "mimalloc", "--no-malloc")
        groups = (DIRECT_MIMALLOC, DIRECT_FREE_CHAINS)
        expect_stacks(report, [l for g in groups for l in g.leaks])
        expect_totals(report, direct_totals(*groups))


def test_tcmalloc_preset_realloc_zero():
    """tc_realloc(p, 0) frees p and returns NULL, like glibc's realloc:
    10 x tc_malloc(500) + tc_realloc(p, 0) leave nothing outstanding and
    count 10 frees, no failed allocation."""
    with Session() as s:
        _, report = run_traced(s, "direct_allocators", ["realloc-zero"],
                               "--preset", "tcmalloc", "--no-malloc")
        groups = (DIRECT_TCMALLOC, DIRECT_REALLOC_ZERO)
        expect_stacks(report, [l for g in groups for l in g.leaks])
        expect_totals(report, direct_totals(*groups))


def test_jemalloc_prefixed_realloc_zero():
    """_rjem_realloc(p, 0) frees p and returns NULL (jemalloc 5.3's
    opt.zero_realloc is "free", checked by the target): 10 x
    _rjem_malloc(500) + _rjem_realloc(p, 0) leave nothing outstanding and
    count 10 frees, no failed allocation."""
    with Session() as s:
        _, report = run_traced(s, "prefixed_jemalloc", ["realloc-zero"],
                               "--preset", "jemalloc",
                               "--symbol-prefix", "_rjem_")
        totals = dict(PREFIXED_JEMALLOC_TOTALS)
        totals["allocs"] += 10
        totals["frees"] += 10
        expect_stacks(report, PREFIXED_LIBC_LEAKS + PREFIXED_JEMALLOC_LEAKS)
        expect_totals(report, totals)
