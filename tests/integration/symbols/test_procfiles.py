"""test_procfiles.py - the target's files as the target sees them: objects
opened through /proc/PID/root (a private mount namespace) or, when the file
on disk was deleted or replaced after the target mapped it, through
/proc/PID/map_files; a replaced file memleakd cannot reach the mapped
build of is flagged module_mismatch, never named from the wrong build; and
JIT code named from the target's own /tmp/perf-PID.map."""

import os
import re
import signal
import subprocess
from pathlib import Path

from expected import LEAKS, LEAKS_TOTALS, UNWIND_PLUGIN_LEAK
from harness import ATTACH_TIMEOUT, ATTACHED_RE, MEMLEAKD, TABLES_READY, \
    TABLES_TIMEOUT, TARGETS, TARGET_CFLAGS, TARGET_SOURCES, Session, \
    describe_stacks, expect_stacks, expect_totals, final_report, \
    parse_reports, trace_started

# A function compiled ahead of leaks.c's own: every function of the other
# build lands at another address.
PADDING_C = """
__attribute__((noinline, used)) int padding_before_leaks(int x)
{
    volatile int v = x;
    for (int i = 0; i < 64; i++)
        v = v * 31 + i;
    return v;
}
"""
# The Makefile's NOFP_CFLAGS, the unwinding libraries' flags.
NOFP_CFLAGS = ["-O2", "-g", "-fomit-frame-pointer", "-pthread", "-Wall",
               "-Werror"]
# perf_map_jit.c's numbers and names.
JIT_COUNT, JIT_SIZE = 25, 3131
JIT_NAME = "LazyCompile:~leakyHandler app.js:42"


def build_id(path):
    out = subprocess.run(["readelf", "-n", str(path)], check=True,
                         capture_output=True, text=True).stdout
    return re.search(r"Build ID: ([0-9a-f]+)", out).group(1)


def expect_named_frames(report, module, build):
    """Every stack's frames[0] is in module, and every frame in module is
    named and has build-id build."""
    frames = [f for st in report["stacks"] for f in st["frames"]
              if f["module"] == module]
    assert all(st["frames"][0]["module"] == module
               for st in report["stacks"]), describe_stacks(report)
    assert frames and all(f["function"] for f in frames) and \
        {f["build_id"] for f in frames} == {build}, describe_stacks(report)


def trace_named(s, target, module, build):
    """Traces leaks started as target: its stacks and totals are exact,
    the frames in module named from build, none flagged a mismatch."""
    _, report = trace_started(s, target)
    expect_stacks(report, LEAKS)
    expect_totals(report, LEAKS_TOTALS)
    expect_named_frames(report, module, build)
    expect_no_mismatch(report)


def expect_no_mismatch(report):
    flagged = [f for s in report["stacks"] for f in s["frames"]
               if f["module_mismatch"] is not False]
    assert not flagged, f"frames flagged module_mismatch: {flagged}"


def padding_source(s):
    path = s.tmp / "padding.c"
    path.write_text(PADDING_C)
    return path


def build_leaks(s, name, padding=False):
    """leaks.c built as the session's name (behind a padding function
    when padding is true: every function at another address); returns
    its path and build-id."""
    sources = [TARGET_SOURCES / "leaks.c"]
    if padding:
        sources.insert(0, padding_source(s))
    binary = s.compile(name, *TARGET_CFLAGS, *sources)
    return binary, build_id(binary)


def test_private_mount_namespace_names():
    """A container's view: the target runs APP/leaks from a tmpfs mounted
    over APP in its own mount namespace, while in memleakd's namespace
    APP/leaks is another build, whose names would all be wrong. Objects
    are opened through /proc/PID/root: the stacks are exact, named from
    the target's build."""
    with Session() as s:
        app = s.tmp / "app"
        app.mkdir()
        inside, inside_id = build_leaks(s, "leaks_inside")
        outside, outside_id = build_leaks(s, "leaks_outside", padding=True)
        assert inside_id != outside_id
        os.replace(outside, app / "leaks")
        script = (f"mount -t tmpfs none {app} && cp {inside} {app}/leaks "
                  f"&& exec {app}/leaks")
        target = s.target("leaks", command=["unshare", "-m", "sh", "-c",
                                            script])
        assert build_id(app / "leaks") == outside_id
        trace_named(s, target, f"{app}/leaks", inside_id)


def start_replaced(s, delete):
    """leaks.c built and started; then the file is deleted (delete) or
    another build is renamed over it. Returns (target, path, build-id of
    the started build)."""
    binary, old_id = build_leaks(s, "leaks_replaced")
    other, other_id = build_leaks(s, "leaks_other", padding=True)
    assert other_id != old_id
    target = s.target("leaks_replaced", path=binary)
    if delete:
        binary.unlink()
    else:
        os.replace(other, binary)
    return target, binary, old_id


def test_deleted_executable_names():
    """The executable deleted after the start: still named exactly,
    through map_files, its module spelled with " (deleted)"."""
    with Session() as s:
        target, binary, old_id = start_replaced(s, delete=True)
        trace_named(s, target, f"{binary} (deleted)", old_id)


def test_symlinked_executable_names():
    """An executable run through a symbolic link to it, as Debian's
    redis-server is a link to redis-check-rdb: frames name it by the link
    the process ran, which /proc/PID/maps does not show, and so do the
    report's exe and the uprobes' attachment. A link to another file is no
    such name: a copy of leaks run by its own path is named by it."""
    with Session() as s:
        binary, build = build_leaks(s, "leaks-check")
        link = s.tmp / "leaks-server"
        os.symlink(binary.name, link)
        target = s.target("leaks-server", path=link)
        _, report = trace_started(s, target)
    expect_stacks(report, LEAKS)
    expect_totals(report, LEAKS_TOTALS)
    expect_named_frames(report, str(link), build)
    assert not [f for st in report["stacks"] for f in st["frames"]
                if f["module"] == str(binary)], describe_stacks(report)
    assert report["exe"] == str(link), report["exe"]


def test_replaced_executable_names():
    """Another build renamed over the executable while it runs: the path
    now holds other code, but the stacks are named exactly from the build
    the target mapped (map_files), with that build's build-id."""
    with Session() as s:
        target, binary, old_id = start_replaced(s, delete=False)
        trace_named(s, target, f"{binary} (deleted)", old_id)


def stack_through(report, function):
    found = [st for st in report["stacks"]
             if any(f["function"] == function for f in st["frames"])]
    assert len(found) == 1, describe_stacks(report)
    return found[0]


def trace_replaced_plugin(s, memleakd_prefix=()):
    """unwind_dlopen and its libunwind_plugin.so copied aside; after the
    plugin's leaks ("done") another build of the plugin (a padding function
    first) is renamed over it, before memleakd, started with
    memleakd_prefix, symbolizes its final report. Returns (report, the
    plugin's path, its build-id as mapped, its stack)."""
    for name in ("unwind_dlopen", "libunwind_plugin.so"):
        subprocess.run(["cp", TARGETS / name, s.tmp], check=True)
    plugin = s.tmp / "libunwind_plugin.so"
    old_id = build_id(plugin)
    other = s.compile("plugin_other", *NOFP_CFLAGS, "-fPIC", "-shared",
                      padding_source(s), TARGET_SOURCES / "libs" / "unwind_plugin.c")
    assert build_id(other) != old_id
    target = s.target("unwind_dlopen", path=s.tmp / "unwind_dlopen")
    daemon = s.spawn("memleakd", [*memleakd_prefix, MEMLEAKD, "-p",
                                  target.pid, "-n", "1000", "-i", "3600",
                                  "-f", "json"])
    assert daemon.stderr.wait_for(lambda l: bool(ATTACHED_RE.match(l)),
                                  ATTACH_TIMEOUT), daemon.describe()
    assert daemon.stderr.wait_for(lambda l: l.startswith(TABLES_READY),
                                  TABLES_TIMEOUT), daemon.describe()
    target.go()
    os.replace(other, plugin)
    daemon.signal(signal.SIGINT)
    assert daemon.wait() == 0, daemon.describe()
    report = final_report(parse_reports(daemon.stdout.text()))
    target.stop()
    stack = stack_through(report, "call_plugin")
    assert (stack["bytes"], stack["allocs"]) == \
        (UNWIND_PLUGIN_LEAK.bytes, UNWIND_PLUGIN_LEAK.allocs), stack
    return report, plugin, old_id, stack


def test_replaced_library_names():
    """A dlopen()ed library replaced on disk by another build before the
    report: its frames are named exactly from the build the target mapped
    (map_files), with that build's build-id."""
    with Session() as s:
        report, plugin, old_id, stack = trace_replaced_plugin(s)
        names = [f["function"] for f in stack["frames"]]
        assert names[:len(UNWIND_PLUGIN_LEAK.frames)] == \
            UNWIND_PLUGIN_LEAK.frames, names
        frames = [f for f in stack["frames"]
                  if f["module"] == f"{plugin} (deleted)"]
        assert len(frames) == 5, stack["frames"]
        assert {f["build_id"] for f in frames} == {old_id}, frames
        expect_no_mismatch(report)


def test_replaced_library_without_map_files():
    """The same with memleakd denied /proc/PID/map_files (no CAP_SYS_ADMIN,
    no CAP_CHECKPOINT_RESTORE): only the other build is on disk, so the
    plugin's 5 frames are flagged module_mismatch, with the mapped
    build-id and no name, rather than named from the wrong build; the
    program's frames keep their names, the numbers stay exact."""
    with Session() as s:
        report, plugin, old_id, stack = trace_replaced_plugin(
            s, ["setpriv", "--bounding-set=-sys_admin,-checkpoint_restore"])
        got = [(f["function"], f["module"], f["module_mismatch"],
                f["build_id"] if f["module_mismatch"] else None)
               for f in stack["frames"]]
        deleted = f"{plugin} (deleted)"
        exe = str(s.tmp / "unwind_dlopen")
        assert got[:8] == [(None, deleted, True, old_id)] * 5 + [
            ("call_plugin", exe, False, None), ("run_plugin", exe, False, None),
            ("main", exe, False, None)], got
        assert all(f["file"] is None for f in stack["frames"][:5])


def jit_case(s, command=None, exe=TARGETS / "perf_map_jit"):
    """Traces perf_map_jit (started by command if given, as exe) and checks
    its one stack; returns the path of the perf map in memleakd's /tmp."""
    target = s.target("perf_map_jit", command=command)
    perf_map = Path(f"/tmp/perf-{target.pid}.map")
    s.cleanups.append(lambda: perf_map.unlink(missing_ok=True))
    _, report = trace_started(s, target, wait_tables=True)
    expect_totals(report, dict(outstanding_allocs=JIT_COUNT,
                               outstanding_bytes=JIT_COUNT * JIT_SIZE,
                               allocs=JIT_COUNT))
    assert len(report["stacks"]) == 1, describe_stacks(report)
    frames = report["stacks"][0]["frames"]
    got = [(f["function"], f["module"]) for f in frames]
    assert got == [("jit_leak", os.path.realpath(exe)), (JIT_NAME, "[anon]")], got
    assert frames[1]["offset"] == 6 + 8 + 2, frames[1]
    return perf_map


def test_jit_frame_named_from_perf_map():
    """A stub in an anonymous executable page calls malloc; the target
    names it in /tmp/perf-PID.map (with a malformed line and a neighbour
    entry): the [anon] frame carries that name, its offset the return
    address's distance from the entry's start (after the stub's sub, movabs
    and call)."""
    with Session() as s:
        assert jit_case(s).exists()


def test_jit_perf_map_in_private_tmp():
    """The same with the target's /tmp a tmpfs of its own mount namespace:
    the perf map is read through /proc/PID/root, not memleakd's /tmp."""
    with Session() as s:
        # The targets' directory is bound to /mnt first: the checkout
        # itself may live under /tmp.
        command = ["unshare", "-m", "sh", "-c",
                   'mount --bind "$0" /mnt && mount -t tmpfs none /tmp && '
                   "exec /mnt/perf_map_jit", TARGETS]
        perf_map = jit_case(s, command, Path("/mnt/perf_map_jit"))
        assert not perf_map.exists(), f"{perf_map} is visible here"
