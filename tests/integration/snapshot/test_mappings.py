"""test_mappings.py - the anonymous memory a process maps, beside what it
allocates: exact bytes and stacks of mmap, munmap (of parts), mremap, brk,
mprotect and a raw syscall (tests/targets/mappings.c); glibc's arenas
growing under threads, shown as the allocator's (tests/targets/arenas.c);
and Debian's python3 growing a dict of small dicts, whose memory is
pymalloc's arenas, mmap'd under the interpreter's frames."""

import signal

from harness import Session, trace, trace_started

PAGE = 4096
LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
PYTHON = "/usr/bin/python3"


def by_caller(report, function):
    """The mapping stacks with function among their frames."""
    return [s for s in report["mappings"]
            if function in [f["function"] for f in s["frames"]]]


def describe(report):
    return "\n".join(f"  {s['kind']} {s['bytes']} bytes in {s['allocs']}: "
                     + " <- ".join(str(f["function"]) for f in s["frames"][:8])
                     for s in report["mappings"])


def first_own_frame(stack, module):
    """The first frame of stack in module (the caller of libc's wrapper)."""
    return next(f["function"] for f in stack["frames"] if f["module"] == module)


# tests/targets/mappings.c: the caller of each mapping call, its pages and
# ranges; all of the program's own.
MAPPINGS = {
    "map_kept": (191, 3), "replace_fixed": (1, 1), "map_cut": (10, 2),
    "map_remapped": (4, 1), "remap_grow": (6, 1), "raw_mmap": (5, 1),
    "grow_brk": (12, 1), "commit": (6, 1),
}
GONE = ["map_freed", "remap_shrink", "shrink_brk", "reserve", "decommit",
        "not_anonymous"]


def test_exact_mappings():
    """Every mapping the target keeps, with its exact bytes and ranges under
    the function that called libc (or syscall(2)); nothing for what it gave
    back, reserved PROT_NONE or mapped from a file or shared; malloc's
    mapping of its 1 MiB block is the allocator's, 1 MiB + 1 page, under
    malloc <- big_malloc, while the block itself is an allocation."""
    with Session() as s:
        target, _, report = trace(s, "mappings", wait_tables=True)
    exe = str(target.argv[0])
    mapped = [m for m in report["mappings"] if m["kind"] == "mapped"]
    got = {first_own_frame(m, exe): (m["bytes"] // PAGE, m["allocs"])
           for m in mapped}
    assert got == MAPPINGS, f"{got}\n{describe(report)}"
    for m in mapped:
        assert m["bytes"] % PAGE == 0 and "main" in \
            [f["function"] for f in m["frames"]], describe(report)
    for function in GONE:
        assert not by_caller(report, function), describe(report)
    heap = [m for m in report["mappings"] if m["kind"] == "heap"]
    assert len(heap) == 1, describe(report)
    names = [f["function"] for f in heap[0]["frames"]]
    assert (heap[0]["bytes"], heap[0]["allocs"]) == ((1 << 20) + PAGE, 1), \
        describe(report)
    assert names.index("malloc") + 1 == names.index("big_malloc"), names
    totals = report["totals"]
    assert (totals["mapped_bytes"], totals["mapped_ranges"]) == \
        (sum(p for p, _ in MAPPINGS.values()) * PAGE,
         sum(r for _, r in MAPPINGS.values())), totals
    assert (totals["heap_mapped_bytes"], totals["heap_mapped_ranges"]) == \
        ((1 << 20) + PAGE, 1), totals
    assert totals["dropped_mapping_events"] == 0, totals
    assert totals["stack_errors"] == 0, totals
    assert totals["mapping_stacks"] == len(MAPPINGS) + 1, totals
    assert (totals["outstanding_bytes"], totals["outstanding_allocs"]) == \
        (1 << 20, 1), totals


def test_text_sections():
    """The text report: the mapped totals under the allocations' and a
    section per kind, each stack with its ranges and class."""
    with Session() as s:
        target = s.target("mappings")
        daemon = s.memleakd(target.pid, json_format=False, wait_tables=True)
        target.go()
        daemon.signal(signal.SIGINT)
        assert daemon.wait() == 0, daemon.describe()
        target.stop()
        text = daemon.stdout.text()
    pages = sum(p for p, _ in MAPPINGS.values())
    assert (f"mapped since attach: {pages * PAGE} bytes (940.0 KiB) in 11 "
            f"ranges by the program, {(1 << 20) + PAGE} bytes (1.0 MiB) in 1 "
            "range by traced allocators for their heaps; 9 stacks") in text, text
    program = text.index("-- MAPPED BY THE PROGRAM")
    allocators = text.index("-- MAPPED BY ALLOCATORS")
    assert program < text.index("(782336 B) in 3 ranges, new;") < allocators, text
    assert allocators < text.index("(1052672 B) in 1 range, new;"), text


# The arenas target: 4 threads, 2048 x 1000 bytes kept each, 256 KiB stacks.
ARENA_THREADS = 4
THREAD_BYTES = 2048 * 1000


def test_glibc_arenas_under_threads():
    """Each new thread's arena is opened by mprotect inside malloc: the
    allocator's heap, under malloc <- thread_alloc, as large as the blocks
    in it and less than a page per block more; the threads' stacks are the
    program's, under pthread_create <- start_threads."""
    with Session() as s:
        _, _, report = trace(s, "arenas", "-n", "20", wait_tables=True)
    heap = [m for m in report["mappings"] if m["kind"] == "heap"]
    assert heap, describe(report)
    for m in heap:
        names = [f["function"] for f in m["frames"]]
        assert names[0] == "mprotect", names
        assert names.index("malloc") < names.index("thread_alloc"), names
    heap_bytes = sum(m["bytes"] for m in heap)
    assert ARENA_THREADS * THREAD_BYTES <= heap_bytes \
        < ARENA_THREADS * (THREAD_BYTES + (256 << 10)), describe(report)
    assert report["totals"]["heap_mapped_bytes"] == heap_bytes, report["totals"]
    stacks = by_caller(report, "pthread_create")
    assert len(stacks) == 1 and stacks[0]["kind"] == "mapped", describe(report)
    assert (stacks[0]["bytes"], stacks[0]["allocs"]) == \
        (ARENA_THREADS * (256 << 10), ARENA_THREADS), describe(report)
    assert "start_threads" in [f["function"] for f in stacks[0]["frames"]]
    assert report["totals"]["outstanding_bytes"] >= ARENA_THREADS * THREAD_BYTES
    assert report["totals"]["dropped_mapping_events"] == 0, report["totals"]


# A dict of small dicts, grown at a steady pace for GROW_S seconds after
# SIGUSR1, following target.h's protocol.
GROW_S = 4
DICTS_SCRIPT = f"""
import os, signal, time
signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGUSR1, signal.SIGTERM}})
print("ready", os.getpid(), flush=True)
if signal.sigwait({{signal.SIGUSR1, signal.SIGTERM}}) == signal.SIGTERM:
    raise SystemExit(0)
d = {{}}
i = 0
end = time.monotonic() + {GROW_S}
while time.monotonic() < end:
    for _ in range(2000):
        d[i] = {{"id": i, "n": i * 2}}
        i += 1
    time.sleep(0.01)
print("done", flush=True)
while signal.sigwait({{signal.SIGUSR1, signal.SIGTERM}}) != signal.SIGTERM:
    pass
"""
# pymalloc's arenas in Python 3.11 on 64-bit Linux: 1 MiB each.
ARENA = 1 << 20


def test_python_dict_of_dicts():
    """Nearly all of the anonymous growth is mapped memory: pymalloc's
    arenas, each range one arena, mmap'd by one function of the interpreter
    (the frame after libc's mmap, the same in every such stack) under
    _PyEval_EvalFrameDefault; malloc's share is small."""
    with Session() as s:
        script = s.tmp / "dicts.py"
        script.write_text(DICTS_SCRIPT)
        target = s.target("python3", command=[PYTHON, script])
        _, report = trace_started(s, target, "-i", "1", "-n", "50",
                                  wait_tables=True)
    process, totals = report["process"], report["totals"]
    growth = process["rss_anon_growth_bytes"]
    assert growth >= 32 << 20, process
    arenas = [m for m in report["mappings"] if m["kind"] == "mapped"
              and m["bytes"] == m["allocs"] * ARENA]
    allocators = {m["frames"][2]["addr"] for m in arenas}
    assert len(allocators) == 1, describe(report)
    for m in arenas:
        names = [f["function"] for f in m["frames"]]
        assert names[:2] == ["__GI___mmap64", "mmap"], names
        assert m["frames"][2]["module"].startswith("/usr/bin/python3"), m["frames"][2]
        assert "_PyEval_EvalFrameDefault" in names, names
    arena_bytes = sum(m["bytes"] for m in arenas)
    assert arena_bytes >= 0.9 * totals["mapped_bytes"], describe(report)
    assert arena_bytes >= 0.6 * growth, (arena_bytes, process)
    assert totals["mapped_bytes"] + totals["outstanding_bytes"] \
        + totals["heap_mapped_bytes"] >= 0.9 * growth, (totals, process)
    assert report["mappings"][0] in arenas, describe(report)
    assert totals["dropped_mapping_events"] == 0, totals
