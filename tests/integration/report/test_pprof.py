"""test_pprof.py - --format pprof read back by the real pprof client
(build/tools/pprof, built by `make check` from Debian's pprof sources): a
traced leaks.c gives pprof -top its exact bytes and counts, -traces its
full stacks, -raw its mappings' build-ids; -tagfocus filters on the class
of a stack (demo_leaky, whose stacks become suspect, steady and new); the
profile goes to a file, to stdout, or into a directory of *.pb.gz."""

import re
import signal
import subprocess
import time
import zlib

from expected import LEAKS, LEAKS_TOTALS
from harness import ATTACH_TIMEOUT, ATTACHED_RE, MEMLEAKD, ROOT, TARGETS, \
    Session

PPROF = ROOT / "build" / "tools" / "pprof"
LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
# A row of pprof -top: flat, flat%, sum%, cum, cum%, function; the values
# are counts, or bytes followed by B.
TOP_ROW_RE = re.compile(
    r"^\s*(\d+)B?\s+[\d.]+%\s+[\d.]+%\s+(\d+)B?\s+[\d.]+%\s+(\S.*)$")
TOTAL_RE = re.compile(r"Total samples = (\d+)B? ")
TRACE_SEPARATOR = "-----------+"
# A label line of pprof -traces ("     class:  new") and the sample's line
# ("  100000B   leak_malloc").
TRACE_LABEL_RE = re.compile(r"^\s*(\w+):\s+(.*)$")
TRACE_VALUE_RE = re.compile(r"^\s*(\d+)B?\s+(\S.*)$")


def leak_stack(leak):
    """The stack of a leak of leaks.c from frames[0] down to main:
    run_leaks calls each chain_* function, and chain_realloc calls
    leak_realloc, grow_buffer's caller."""
    middle = ["chain_realloc"] if leak.caller == "leak_realloc" else []
    return [leak.function, leak.caller, *middle, "run_leaks", "main"]


def pprof(session, *args):
    """Runs pprof ARGS; returns its stdout (it must exit 0)."""
    assert PPROF.exists(), f"{PPROF} is missing: run make {PPROF.relative_to(ROOT)}"
    status, out, err = session.run([PPROF, *args], timeout=30)
    assert status == 0, f"pprof {' '.join(map(str, args))} exited {status}:\n{err}"
    return out


def top(session, path, sample_index, *args):
    """pprof -top of every node: ({function: (flat, cum)}, total). Space
    is shown in bytes, not rounded to kB or MB; counts stay bare numbers
    (-unit=bytes would relabel them as bytes)."""
    unit = ["-unit=bytes"] if sample_index.endswith("_space") else []
    out = pprof(session, "-top", f"-sample_index={sample_index}", *unit,
                "-nodefraction=0", "-nodecount=100000", *args, path)
    rows = {m.group(3): (int(m.group(1)), int(m.group(2)))
            for m in map(TOP_ROW_RE.match, out.splitlines()) if m}
    total = TOTAL_RE.search(out)
    assert total, f"no total in pprof -top:\n{out}"
    return rows, int(total.group(1))


def traces(session, path):
    """pprof -traces: a list of (value, labels, functions innermost
    first)."""
    out = pprof(session, "-traces", "-unit=bytes", path)
    found = []
    for block in out.split(TRACE_SEPARATOR)[1:]:
        lines = [l for l in block.splitlines()[1:] if l.strip()]
        labels = {}
        while lines and TRACE_LABEL_RE.match(lines[0]):
            key, value = TRACE_LABEL_RE.match(lines.pop(0)).groups()
            labels[key] = value.strip()
        if not lines:
            continue
        value = TRACE_VALUE_RE.match(lines[0])
        assert value, f"no value in trace {block!r}"
        functions = [value.group(2).strip()] + [l.strip() for l in lines[1:]]
        found.append((int(value.group(1)), labels, functions))
    return found


def trace_pprof(session, target_name, *args):
    """Traces build/targets/TARGET_NAME with -f pprof ARGS until SIGINT;
    returns the target."""
    target = session.target(target_name)
    daemon = session.memleakd(target.pid, "-f", "pprof", *args,
                              json_format=False)
    target.go()
    daemon.signal(signal.SIGINT)
    status = daemon.wait()
    assert status == 0, f"memleakd exited {status}:\n{daemon.describe()}"
    target.stop()
    return target


def traced_leaks(session):
    """The path of leaks.c's profile, written by -o FILE."""
    path = session.tmp / "leaks.pb.gz"
    trace_pprof(session, "leaks", "-o", path)
    return path


def build_id(path):
    out = subprocess.run(["readelf", "-n", str(path)], check=True,
                         capture_output=True, text=True).stdout
    found = re.search(r"Build ID: ([0-9a-f]+)", out)
    assert found, f"{path} has no build-id:\n{out}"
    return found.group(1)


def expect_leak_values(session, path):
    """Each leak of leaks.c is the flat value of its function, exactly:
    bytes in inuse_space, allocations in inuse_objects; its caller's cum
    is the same; the totals are leaks.c's outstanding totals."""
    space, total_space = top(session, path, "inuse_space")
    objects, total_objects = top(session, path, "inuse_objects")
    assert total_space == LEAKS_TOTALS["outstanding_bytes"], total_space
    assert total_objects == LEAKS_TOTALS["outstanding_allocs"], total_objects
    flat = sorted(f for f, (v, _) in space.items() if v)
    assert flat == sorted(l.function for l in LEAKS), \
        f"functions with flat bytes: {flat}"
    for leak in LEAKS:
        assert space[leak.function] == (leak.bytes, leak.bytes), \
            f"{leak.function}: {space[leak.function]}, expected {leak.bytes}"
        assert space[leak.caller][1] == leak.bytes, \
            f"{leak.caller}: cum {space[leak.caller][1]}, expected {leak.bytes}"
        assert objects[leak.function][0] == leak.allocs, \
            f"{leak.function}: {objects[leak.function][0]} objects, " \
            f"expected {leak.allocs}"
    assert space["main"][1] == total_space, f"main: {space['main']}"


def test_top_exact_values():
    """pprof -top reads memleakd's file: every leak of leaks.c with its
    exact bytes and allocations, nothing else flat; alloc_space holds at
    least what is outstanding (leak_malloc frees nothing: equal)."""
    with Session() as s:
        path = traced_leaks(s)
        expect_leak_values(s, path)
        allocated, _ = top(s, path, "alloc_space")
        for leak in LEAKS:
            assert allocated[leak.function][0] >= leak.bytes, \
                f"{leak.function}: alloc_space {allocated[leak.function]}"
        assert allocated["leak_malloc"][0] == 100 * 1000, allocated["leak_malloc"]


def test_traces_full_stacks():
    """pprof -traces: each leak's whole stack, function by function from
    the allocating function down to main, with its bytes and its kind and
    class labels (alloc; new: a single report). The heap malloc mapped for
    leak_mmapped's blocks is a sample of kind heap, 0 bytes in use."""
    with Session() as s:
        path = traced_leaks(s)
        all_traces = traces(s, path)
        found = {functions[0]: (value, labels, functions)
                 for value, labels, functions in all_traces
                 if labels.get("kind") == "alloc"}
        heap = [(value, functions) for value, labels, functions in all_traces
                if labels.get("kind") == "heap" and "leak_mmapped" in functions]
        assert len(heap) == 1 and heap[0][0] == 0, heap
        assert sorted(found) == sorted(l.function for l in LEAKS), \
            f"traces start with {sorted(found)}"
        for leak in LEAKS:
            value, labels, functions = found[leak.function]
            assert value == leak.bytes, f"{leak.function}: {value} bytes"
            assert "main" in functions, f"no main in {functions}"
            to_main = functions[:functions.index("main") + 1]
            assert to_main == leak_stack(leak), \
                f"{leak.function}: {to_main}, expected {leak_stack(leak)}"
            assert labels.get("class") == "new", f"labels {labels}"
            assert "growth_bytes" in labels, f"labels {labels}"


def test_mappings_carry_build_ids():
    """pprof -raw lists the executable's and libc's mappings with their
    paths and the build-ids of those files, and marks them as having
    function names ([FN]); the executable, built with -g, also file names
    and line numbers ([FL][LN])."""
    with Session() as s:
        path = traced_leaks(s)
        raw = pprof(s, "-raw", path)
        mappings = raw[raw.index("Mappings"):].splitlines()[1:]
        for binary in (TARGETS / "leaks", LIBC):
            expected = build_id(binary)
            lines = [l for l in mappings if f" {binary} " in l]
            assert len(lines) == 1, f"{binary}: mappings {mappings}"
            flags = "[FN][FL][LN]" if binary == TARGETS / "leaks" else "[FN]"
            assert f" {expected} " in lines[0] and flags in lines[0], \
                f"{binary} (build-id {expected}): {lines[0]}"


def test_tagfocus_class():
    """demo_leaky traced for 7 one-second reports: -tagfocus class=suspect
    keeps copy_header, which leaks on every request, and not the bounded
    response cache, which class=steady keeps; the classes' totals add up
    to the profile's. In leaks.c's single report every stack is new."""
    with Session() as s:
        demo = s.spawn("demo_leaky", [TARGETS / "demo_leaky"])
        line = demo.stdout.wait_for(lambda l: l.startswith("demo_leaky: pid"), 10)
        assert line, f"demo_leaky never said its pid:\n{demo.describe()}"
        path = s.tmp / "demo.pb.gz"
        status, _, err = s.run([MEMLEAKD, "-p", demo.popen.pid, "-f", "pprof", "-o",
                                path, "-i", "1", "-d", "7"], timeout=30)
        assert status == 0, f"memleakd exited {status}:\n{err}"
        _, total = top(s, path, "inuse_space")
        by_class = {cls: top(s, path, "inuse_space", f"-tagfocus=class={cls}")
                    for cls in ("suspect", "steady", "new")}
        suspect, steady = by_class["suspect"][0], by_class["steady"][0]
        assert suspect.get("copy_header", (0, 0))[0] > 0, f"suspect: {suspect}"
        assert "response_cache" not in suspect, f"suspect: {suspect}"
        assert steady.get("response_cache") == (2048, 2048), f"steady: {steady}"
        shown = sum(rows.get("main", (0, 0))[1] for rows, _ in by_class.values())
        assert shown == total, f"classes hold {shown} of {total} bytes"

        leaks = traced_leaks(s)
        _, all_bytes = top(s, leaks, "inuse_space")
        new, _ = top(s, leaks, "inuse_space", "-tagfocus=class=new")
        suspect, _ = top(s, leaks, "inuse_space", "-tagfocus=class=suspect")
        assert new["main"][1] == all_bytes, f"class=new: {new.get('main')}"
        assert not any(flat for flat, _ in suspect.values()), suspect


def test_stdout():
    """-f pprof without -o writes the gzip-compressed profile to stdout,
    byte for byte: the final report's only, not one per periodic report."""
    with Session() as s:
        path = s.tmp / "stdout.pb.gz"
        target = s.target("leaks")
        # A shell redirects stdout to the file: the harness reads stdout
        # as text lines. exec keeps memleakd's pid for the signal.
        daemon = s.spawn("memleakd", ["sh", "-c", 'exec "$@" >"$0"', path, MEMLEAKD,
                                      "-p", target.pid, "-f", "pprof", "-i", "0.2"])
        assert daemon.stderr.wait_for(lambda l: bool(ATTACHED_RE.match(l)),
                                      ATTACH_TIMEOUT), daemon.describe()
        target.go()
        time.sleep(1)
        daemon.signal(signal.SIGINT)
        assert daemon.wait() == 0, daemon.describe()
        target.stop()
        data = path.read_bytes()
        assert data[:2] == b"\x1f\x8b", "stdout is not gzip"
        member = zlib.decompressobj(wbits=31)
        member.decompress(data)
        assert member.eof and not member.unused_data, \
            f"{len(member.unused_data)} bytes after the first profile"
        expect_leak_values(s, path)


def test_directory():
    """-o DIR/ writes memleakd-PID-TIME.pb.gz files and points latest at
    the newest, which pprof reads."""
    with Session() as s:
        directory = s.tmp / "profiles"
        target = trace_pprof(s, "leaks", "-o", f"{directory}/")
        names = sorted(p.name for p in directory.iterdir())
        pattern = re.compile(rf"memleakd-{target.pid}-.+\.pb\.gz")
        reports = [n for n in names if pattern.fullmatch(n)]
        assert reports and names == sorted(reports + ["latest"]), names
        latest = directory / "latest"
        assert latest.resolve().name == reports[-1], latest.resolve()
        expect_leak_values(s, latest)
