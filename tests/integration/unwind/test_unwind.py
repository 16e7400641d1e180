"""test_unwind.py - whole stacks through code without frame pointers.
--unwind dwarf unwinds every object with tables built from its
.eh_frame, --unwind auto (the default) only what lacks frame pointers, and
--unwind fp walks frame pointers only, which loses such frames: the fp
cases show the targets really need DWARF, so that the other cases cannot
pass without it.

Targets (tests/targets/unwind_*, tests/targets/libs/): a leak 8 calls deep
in a -O2 -fomit-frame-pointer program, C++ leaks allocated inside
libstdc++, a frame-pointer program calling a library without frame
pointers (and called back by it), a library dlopen()ed after attach, a
leak inside a signal handler, and one inside a handler of a signal that
interrupted a PLT stub. Each stack is compared exactly from
frames[0] to main, and some against gdb's bt at the same malloc call.
Then tables at their limits: one FDE of 240,000 rows, one table of over
2^24 rows, and plugins loaded and unloaded in turn with more rows in all
than --unwind-rows.

With dwarf or auto the tests wait for "unwind tables ready" before letting
the target work: stacks are exact once the tables are loaded."""

import os
import re
import shutil
import signal
import subprocess

from expected import (UNWIND_CXX_LEAKS, UNWIND_CXX_SIZES, UNWIND_CXX_TOTALS,
                      UNWIND_DEEP, UNWIND_DEEP_LEVELS, UNWIND_DEEP_SIZE,
                      UNWIND_DEEP_TOTALS, UNWIND_LIB_FUNCTIONS,
                      UNWIND_MIXED_LEAKS, UNWIND_MIXED_SIZES,
                      UNWIND_MIXED_TOTALS, UNWIND_PLT, UNWIND_PLT_INTERRUPTED,
                      UNWIND_PLT_STUB, UNWIND_PLT_TOTALS, UNWIND_PLUGIN_LEAK,
                      UNWIND_PUSHPOP, UNWIND_PUSHPOP_TOTALS,
                      UNWIND_ROWS_PLUGIN_LEAK, UNWIND_SIGNAL,
                      UNWIND_SIGNAL_INTERRUPTED, UNWIND_SIGNAL_TOTALS,
                      UNWIND_WIDE, UNWIND_WIDE_TOTALS)
from harness import (DONE_TIMEOUT, MEMLEAKD, READY_TIMEOUT, TABLES_TIMEOUT,
                     TARGETS, Session, describe_stacks, expect_totals,
                     find_stack, function_names, trace)

UNWIND_COUNTERS = ("unwind_no_table", "unwind_truncated",
                   "unwind_anon_stops")
LIB = os.path.realpath(TARGETS / "libunwind_lib.so")
PLUGIN = os.path.realpath(TARGETS / "libunwind_plugin.so")
TABLE_LINE = "unwind table: "

GDB = "/usr/bin/gdb"
GDB_TIMEOUT = 40
# "#3  0x000055d0c0ffee00 in level6 (n=5) at ...", "#5  grow_strings () at
# ...": frame number, address (absent for the outer frames of an inlined
# call, and for frame #0 or a frame a signal interrupted when it is at a
# line's start), function; "#3  <signal handler called>".
GDB_FRAME_RE = re.compile(r"^#(\d+)\s+(?:(0x[0-9a-f]+) in )?(\S+) \(")
GDB_SIGNAL_FRAME_RE = re.compile(r"^#\d+\s+<signal handler called>")


def trace_unwind(session, name, mode, *args):
    """trace() of target name with --unwind mode (None: no flag, the
    default), waiting for the unwind tables unless mode is fp."""
    flags = [] if mode is None else ["--unwind", mode]
    return trace(session, name, *flags, *args, wait_tables=mode != "fp")


def up_to_main(names):
    """names up to and including the first main (all of them if none)."""
    return names[:names.index("main") + 1] if "main" in names else names


def stack_with(report, function):
    """The one stack whose frames include function."""
    found = [s for s in report["stacks"] if function in function_names(s)]
    assert len(found) == 1, (f"{len(found)} stacks pass through {function}:"
                             f"\n{describe_stacks(report)}")
    return found[0]


def expect_unwound(report, leak, start=0):
    """leak's stack (see expected.UnwindLeak) holds exactly its bytes and
    allocs, and its frames from frames[start] to main are exactly
    leak.frames. Returns the stack."""
    stack = stack_with(report, leak.frames[0])
    names = function_names(stack)
    assert (stack["bytes"], stack["allocs"]) == (leak.bytes, leak.allocs), \
        (f"{leak.frames[0]}: {stack['allocs']} allocs, {stack['bytes']} "
         f"bytes; expected {leak.allocs} allocs, {leak.bytes} bytes")
    assert up_to_main(names[start:]) == leak.frames, \
        (f"{leak.frames[0]}: frames {names}, expected {leak.frames} from "
         f"frames[{start}]")
    return stack


def expect_stack_count(report, count):
    assert report["totals"]["stacks"] == count, \
        (f"{report['totals']['stacks']} stacks, expected {count}:\n"
         + describe_stacks(report))


def expect_counters(report):
    """The unwinding counters exist; returns them."""
    totals = report["totals"]
    missing = [key for key in UNWIND_COUNTERS if key not in totals]
    assert not missing, f"totals lack {missing}: {totals}"
    return {key: totals[key] for key in UNWIND_COUNTERS}


def expect_clean_unwind(report):
    """No stack met an object without its table, was cut short, or ended in
    anonymous code."""
    counters = expect_counters(report)
    assert counters == dict.fromkeys(UNWIND_COUNTERS, 0), \
        f"unwinding counters {counters}, expected all 0"


def table_lines(daemon):
    return [line for line in daemon.stderr.text().splitlines()
            if TABLE_LINE in line]


def expect_table_for(daemon, path):
    """-v named path's unwind table."""
    lines = table_lines(daemon)
    assert any(f"{TABLE_LINE}{path}" in line for line in lines), \
        f"no {TABLE_LINE!r} line for {path}:\n{daemon.describe()}"


def lacks_some(names, functions):
    return [f for f in functions if f not in names]


# 1. A leak 8 calls deep, -O2 -fomit-frame-pointer.

def deep_case(mode):
    with Session() as s:
        _, _, report = trace_unwind(s, "unwind_deep", mode)
        expect_totals(report, UNWIND_DEEP_TOTALS)
        expect_stack_count(report, 1)
        expect_unwound(report, UNWIND_DEEP)
        expect_clean_unwind(report)


def test_deep_dwarf():
    """--unwind dwarf: every byte of unwind_deep's leak (50 x 4321) is in
    one stack, level8 <- level7 <- ... <- level1 <- run_deep <- main, with
    no frame missing or made up, through frames of every shape (rsp-based
    CFAs from 8 to over 1 KiB, rbp-based for the variable-length array)."""
    deep_case("dwarf")


def test_deep_auto():
    """--unwind auto: the same exact stack."""
    deep_case("auto")


def test_deep_frame_pointers_lose_frames():
    """--unwind fp on the same program: the totals are the same, but the
    frame-pointer walk cannot find the 8 levels (rbp holds data there),
    which is why DWARF unwinding exists."""
    with Session() as s:
        _, _, report = trace_unwind(s, "unwind_deep", "fp")
        expect_totals(report, UNWIND_DEEP_TOTALS)
        expect_counters(report)
        for stack in report["stacks"]:
            names = function_names(stack)
            assert lacks_some(names, UNWIND_DEEP_LEVELS), \
                f"the frame-pointer walk found every level: {names}"


# 2. C++: operator new and std::string, inside libstdc++.

def cxx_case(mode):
    with Session() as s:
        _, _, report = trace_unwind(s, "unwind_cxx", mode)
        expect_totals(report, UNWIND_CXX_TOTALS)
        expect_stack_count(report, len(UNWIND_CXX_LEAKS))
        for leak in UNWIND_CXX_LEAKS:
            stack = stack_with(report, leak.frames[0])
            names = function_names(stack)
            start = names.index(leak.frames[0])
            assert start > 0 and names[0] == "operator new(unsigned long)" \
                and stack["frames"][0]["mangled"] == "_Znwm", \
                f"{leak.frames[0]}: frames[0] is not operator new: {names}"
            # Calls inlined into the program's function (std::string's
            # append into grow_strings) are the program's.
            modules = [f["module"] or "" for f in stack["frames"][:start]
                       if not f["inlined"]]
            assert all("/libstdc++.so" in m for m in modules), \
                (f"{leak.frames[0]}: frames before it are not all "
                 f"libstdc++'s: {list(zip(names, modules))}")
            expect_unwound(report, leak, start)
        expect_clean_unwind(report)


def test_cxx_dwarf():
    """--unwind dwarf on unwind_cxx (g++ -O2 -fomit-frame-pointer): new
    Widget (40 x 96 bytes), std::string::reserve(1000) (30 x 1001) and
    strings grown by append (20 x 1921, earlier blocks freed) each have
    their own stack: libstdc++'s frames from operator new, then exactly the
    program's functions to main."""
    cxx_case("dwarf")


def test_cxx_auto():
    """--unwind auto: the same three exact stacks."""
    cxx_case("auto")


# 3. A frame-pointer program and a library without frame pointers.

def mixed_case(mode):
    with Session() as s:
        _, _, report = trace_unwind(s, "unwind_mixed", mode)
        expect_totals(report, UNWIND_MIXED_TOTALS)
        expect_stack_count(report, len(UNWIND_MIXED_LEAKS))
        for leak in UNWIND_MIXED_LEAKS:
            stack = expect_unwound(report, leak)
            for frame in stack["frames"]:
                if frame["function"] in UNWIND_LIB_FUNCTIONS:
                    assert frame["module"] == LIB, \
                        f"{frame['function']} is not in {LIB}: {frame}"
        expect_clean_unwind(report)


def test_mixed_dwarf():
    """--unwind dwarf on unwind_mixed: the leak inside libunwind_lib.so
    (lib_alloc <- lib_inner <- lib_middle <- lib_leak <- app_into_lib <-
    run_mixed <- main, 40 x 3003) and the program's callback called by the
    library (app_alloc <- lib_cb_inner <- lib_cb_middle <- lib_callback <-
    app_into_callback <- run_mixed <- main, 30 x 2002), exact."""
    mixed_case("dwarf")


def test_mixed_auto():
    """--unwind auto: frame pointers in the program, tables in the library,
    and from one to the other in both directions: the same exact stacks."""
    mixed_case("auto")


def test_mixed_frame_pointers_lose_frames():
    """--unwind fp: the library's frames, and the program's frame that
    called the library, are missing from both stacks."""
    with Session() as s:
        _, _, report = trace_unwind(s, "unwind_mixed", "fp")
        expect_totals(report, UNWIND_MIXED_TOTALS)
        expect_counters(report)
        for leak in UNWIND_MIXED_LEAKS:
            stack = find_stack(report, leak.frames[0])
            assert stack, (f"no stack starts with {leak.frames[0]}:\n"
                           + describe_stacks(report))
            names = function_names(stack)
            assert lacks_some(names, leak.frames), \
                f"the frame-pointer walk found the whole stack: {names}"


def test_verbose_names_tables():
    """-v logs an "unwind table:" line per object: with dwarf for the
    program, its library and libc; with auto for the library, which lacks
    frame pointers; with fp none."""
    with Session() as s:
        target, daemon, report = trace_unwind(s, "unwind_mixed", "dwarf",
                                              "-v")
        expect_table_for(daemon, os.path.realpath(TARGETS / "unwind_mixed"))
        expect_table_for(daemon, LIB)
        expect_table_for(daemon, "/usr/lib/x86_64-linux-gnu/libc.so.6")
        _, daemon, _ = trace_unwind(s, "unwind_mixed", "auto", "-v")
        expect_table_for(daemon, LIB)
        _, daemon, _ = trace_unwind(s, "unwind_mixed", "fp", "-v")
        assert not table_lines(daemon), \
            f"--unwind fp built tables:\n{daemon.describe()}"


def test_unwind_bad_value():
    """--unwind takes fp, dwarf or auto: anything else is a bad command
    line (exit status 2) naming the option, and nothing is attached."""
    with Session() as s:
        target = s.target("unwind_deep")
        for value in ("frame", "", "dwarf,fp"):
            status, out, err = s.run([MEMLEAKD, "-p", target.pid,
                                      "--unwind", value])
            assert status == 2, \
                f"--unwind {value!r}: exit status {status}, stderr:\n{err}"
            assert "--unwind" in err and "attached to pid" not in err, \
                f"--unwind {value!r}: stderr:\n{err}"
        target.go()
        target.stop()


# 4. The same stacks as gdb's bt.

def gdb_backtrace(session, target, size):
    """gdb's bt at the target's first malloc(size) after SIGUSR1: gdb
    attaches to the target (ready, waiting), stops on malloc's first
    instruction when size is asked for, sends SIGUSR1 itself, prints bt
    and detaches; the target finishes its work and is stopped. Returns the
    names of frames #1 (malloc's caller) to main, an inlined call counted
    as the function it was inlined into (the name of its address, as in
    memleakd's stacks)."""
    argv = [GDB, "-batch", "-nx", "-p", target.pid,
            "-ex", "set pagination off",
            "-ex", "set print demangle off",
            "-ex", "handle SIGUSR1 nostop noprint pass",
            "-ex", f"break *malloc if $rdi == {size}",
            "-ex", f"shell kill -USR1 {target.pid}",
            "-ex", "continue",
            "-ex", "bt",
            "-ex", "detach"]
    status, out, err = session.run(argv, timeout=GDB_TIMEOUT)
    names = []
    inlined_into_previous = False
    for line in out.splitlines():
        if GDB_SIGNAL_FRAME_RE.match(line):
            names.append("<signal handler called>")
            inlined_into_previous = False
            continue
        match = GDB_FRAME_RE.match(line)
        if not match or match.group(1) == "0":
            continue
        if inlined_into_previous and match.group(2) is None:
            names[-1] = match.group(3)
        else:
            names.append(match.group(3))
        inlined_into_previous = True
    assert status == 0 and "main" in names, \
        (f"gdb's bt (exit status {status}) has no main: {names}\n"
         f"--- stdout:\n{out}\n--- stderr:\n{err}")
    assert target.stdout.wait_for(lambda l: l == "done", DONE_TIMEOUT), \
        f"target never said done after gdb:\n{target.describe()}"
    target.stop()
    return up_to_main(names)


def expect_same_as_gdb(session, name, report, function, size):
    """The stack through function, from frames[0] to main, is gdb's bt at
    a malloc(size) call of another run of the same program: the symbols as
    the objects spell them (gdb demangles nothing here), one frame per
    address (gdb's inlined frames count as the function they are in)."""
    ours = up_to_main([f["mangled"] for f in stack_with(report, function)["frames"]
                       if not f["inlined"]])
    theirs = gdb_backtrace(session, session.target(name), size)
    assert function in theirs and len(theirs) >= 3, \
        f"gdb stopped elsewhere than in {function}: {theirs}"
    assert ours == theirs, f"memleakd: {ours}\ngdb:      {theirs}"


def test_deep_same_as_gdb():
    """Default unwinding (auto) on unwind_deep: the 10 frames gdb's bt shows
    at malloc(4321), in the same order."""
    with Session() as s:
        _, _, report = trace_unwind(s, "unwind_deep", None)
        expect_same_as_gdb(s, "unwind_deep", report, UNWIND_DEEP.frames[0],
                           UNWIND_DEEP_SIZE)


def test_mixed_same_as_gdb():
    """unwind_mixed: both stacks, into and out of the library without frame
    pointers, are gdb's."""
    with Session() as s:
        _, _, report = trace_unwind(s, "unwind_mixed", None)
        for function, size in UNWIND_MIXED_SIZES.items():
            expect_same_as_gdb(s, "unwind_mixed", report, function, size)


def test_cxx_same_as_gdb():
    """unwind_cxx: the three stacks through libstdc++ are gdb's, mangled
    names of libstdc++ included (gdb runs with demangling off; the grown
    string's inlined std::string::append counts as grow_strings)."""
    with Session() as s:
        _, _, report = trace_unwind(s, "unwind_cxx", None)
        for function, size in UNWIND_CXX_SIZES.items():
            expect_same_as_gdb(s, "unwind_cxx", report, function, size)


# 5. A library loaded after attach.

def dlopen_case(mode):
    with Session() as s:
        target = s.target("unwind_dlopen")
        maps = open(f"/proc/{target.pid}/maps").read()
        assert PLUGIN not in maps, f"{PLUGIN} is mapped before SIGUSR1"
        daemon = s.memleakd(target.pid, "--unwind", mode, "-v", "-n", "1000",
                            wait_tables=True)
        target.go()
        report = daemon.stop()
        target.stop()
        stack = expect_unwound(report, UNWIND_PLUGIN_LEAK)
        modules = {f["function"]: f["module"] for f in stack["frames"]}
        assert all(modules[f] == PLUGIN for f in UNWIND_PLUGIN_LEAK.frames
                   if f.startswith("plugin_")), \
            f"plugin frames outside {PLUGIN}: {modules}"
        expect_table_for(daemon, PLUGIN)
        expect_clean_unwind(report)


def test_dlopen_after_attach_dwarf():
    """--unwind dwarf: unwind_dlopen dlopen()s libunwind_plugin.so (no frame
    pointers) after attach, waits 1 s, then leaks 25 x 5005 bytes 5 calls
    deep in it: the stack is exact through the program to main, -v names
    the plugin's table, and no stack met an object without its table."""
    dlopen_case("dwarf")


def test_dlopen_after_attach_auto():
    """--unwind auto: the same."""
    dlopen_case("auto")


# 6. A signal handler.

def handler_stack(name, mode, totals, leak):
    """Traces target name, whose one stack leaks in a signal handler:
    totals are exact, and so are the stack's bytes, allocs and its first
    frames, leak.frames (the handler's). Returns (report, stack)."""
    with Session() as s:
        _, _, report = trace_unwind(s, name, mode)
    expect_totals(report, totals)
    expect_stack_count(report, 1)
    stack = report["stacks"][0]
    names = function_names(stack)
    assert (stack["bytes"], stack["allocs"]) == (leak.bytes, leak.allocs) \
        and names[:len(leak.frames)] == leak.frames, \
        (f"{stack['allocs']} allocs, {stack['bytes']} bytes in {names}; "
         f"expected {leak.allocs}, {leak.bytes} in {leak.frames}...")
    return report, stack


def signal_case(mode):
    report, stack = handler_stack("unwind_signal", mode, UNWIND_SIGNAL_TOTALS,
                                  UNWIND_SIGNAL)
    names = function_names(stack)
    # Past the handler: the signal frame (__restore_rt, in libc), libc's
    # raise, then every frame the signal interrupted, through main.
    for frame in stack["frames"][2:]:
        assert frame["module"], \
            f"a made-up frame below the handler: {frame} in {names}"
    exe = os.path.realpath(TARGETS / "unwind_signal")
    below = up_to_main([f["function"] for f in stack["frames"][2:]
                        if f["module"] == exe])
    assert below == UNWIND_SIGNAL_INTERRUPTED, \
        f"below the signal frame: {below} in {names}"
    expect_clean_unwind(report)


def test_signal_handler_dwarf():
    """--unwind dwarf: 20 x malloc(1717) in a SIGUSR2 handler of a program
    without frame pointers: memleakd and the target survive, the stack is
    signal_leak <- on_sigusr2 exactly, and the walk goes on through the
    signal frame to the interrupted send_signal, run_signals and main."""
    signal_case("dwarf")


def test_signal_handler_auto():
    """--unwind auto: the same."""
    signal_case("auto")


# 7. A signal that interrupts a PLT stub.

def symbol_addresses(path, command):
    """{name: address} of objdump COMMAND's (-t for symbols, -d for code)
    labelled lines on path: "0000000000001234 <name>:" or
    "0000000000001234 g F .text 0000000000000010 name"."""
    out = subprocess.run(["objdump", command, str(path)], check=True,
                         capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        fields = line.split()
        if command == "-d" and len(fields) == 2 and fields[1].endswith(">:"):
            found[fields[1][1:-2]] = int(fields[0], 16)
        elif command == "-t" and len(fields) >= 5 and "F" in fields[1:3]:
            found[fields[-1]] = int(fields[0], 16)
    return found


def plt_case(mode):
    report, stack = handler_stack("unwind_plt", mode, UNWIND_PLT_TOTALS,
                                  UNWIND_PLT)
    names = function_names(stack)
    # The program's frames below the signal frame: the stub (which has
    # no symbol: found by address), then its callers through main.
    exe = os.path.realpath(TARGETS / "unwind_plt")
    symbols = symbol_addresses(exe, "-t")
    stub = symbol_addresses(exe, "-d")[UNWIND_PLT_STUB]
    handler = stack["frames"][1]
    base = int(handler["addr"], 16) - handler["offset"] - \
        symbols["on_sigsegv"]
    below = [f for f in stack["frames"][2:] if f["module"] == exe]
    assert below and int(below[0]["addr"], 16) - base == stub, \
        (f"below the signal frame: {below[:1]}, expected "
         f"{UNWIND_PLT_STUB} at {base + stub:#x}")
    callers = up_to_main([f["function"] for f in below[1:]])
    assert callers == UNWIND_PLT_INTERRUPTED, \
        f"below {UNWIND_PLT_STUB}: {callers} in {names}"
    expect_clean_unwind(report)


def test_plt_stub_dwarf():
    """--unwind dwarf: 15 x malloc(2323) in the SIGSEGV handler of a signal
    that interrupted getppid's PLT stub (its GOT made unreadable): the stub
    is a frame at its own address, and its caller is found through
    .eh_frame's PLT expression, down to main."""
    plt_case("dwarf")


def test_plt_stub_auto():
    """--unwind auto: the same."""
    plt_case("auto")


# 8. Anonymous code, and tables that do not fit.

def test_jit_code_ends_stack():
    """The default (auto): 30 x malloc(2121) called from a stub in an
    anonymous executable page (tests/targets/unwind_jit.c). The stack is
    jit_leak <- [anon] and ends there, each allocation counted in
    unwind_anon_stops; nothing is made up below the anonymous frame."""
    with Session() as s:
        _, _, report = trace_unwind(s, "unwind_jit", None)
        expect_totals(report, dict(outstanding_allocs=30,
                                   outstanding_bytes=30 * 2121, allocs=30))
        expect_stack_count(report, 1)
        frames = report["stacks"][0]["frames"]
        got = [(f["function"], f["module"]) for f in frames]
        exe = os.path.realpath(TARGETS / "unwind_jit")
        assert got == [("jit_leak", exe), (None, "[anon]")], got
        assert expect_counters(report) == dict(
            unwind_no_table=0, unwind_truncated=0, unwind_anon_stops=30), \
            report["totals"]


def test_tables_that_do_not_fit():
    """--unwind-rows too small for libc's table: memleakd says which
    objects' tables do not fit and walks their frames by frame pointer;
    the target's own table still loads, the bytes are still exact."""
    with Session() as s:
        _, daemon, report = trace_unwind(s, "unwind_mixed", "dwarf",
                                         "--unwind-rows", "2000", "-v")
        expect_totals(report, UNWIND_MIXED_TOTALS)
        log = daemon.stderr.text()
        assert re.search(r"unwind table: \S*libc\.so\.6: \d+ rows do not "
                         r"fit", log), log
        exe = os.path.realpath(TARGETS / "unwind_mixed")
        assert f"{TABLE_LINE}{exe}: " in log, log


# 9. Tables at their limits.

def test_huge_fde_built_at_once():
    """unwind_pushpop's pushpop: one FDE of 240,000 rows (120,000 push/pop
    pairs, each with its CFI). With --unwind dwarf -d 2 its table is ready
    before attach (its program run once, not once per row), memleakd ends
    by itself after its 2 s, and pushpop_alloc <- pushpop <- run_pushpop
    <- main is exact: pushpop's caller comes from the row in the middle of
    the FDE."""
    with Session() as s:
        target = s.target("unwind_pushpop")
        daemon = s.memleakd(target.pid, "--unwind", "dwarf", "-d", "2", "-v",
                            wait_tables=True)
        target.go()
        report = daemon.finished_report()
        target.stop()
    exe = os.path.realpath(TARGETS / "unwind_pushpop")
    assert re.search(rf"{TABLE_LINE}{re.escape(exe)}: 2400\d\d rows",
                     daemon.stderr.text()), daemon.describe()
    expect_totals(report, UNWIND_PUSHPOP_TOTALS)
    expect_stack_count(report, 1)
    expect_unwound(report, UNWIND_PUSHPOP)
    expect_clean_unwind(report)


# The generated object's function (see wide_object): WIDE_ROWS rows with its
# end marker, the call at row WIDE_CALL_ROW, WIDE_SLED rows before the code
# around the call.
WIDE_ROWS = 2**24 + 2**20
WIDE_CALL_ROW = 16
WIDE_SLED = WIDE_CALL_ROW - 2


def row_search(n, t, steps):
    """Where find_rule's binary search (bpf/unwind.bpf.h) over n rows ends,
    for an address in row t, when cut after steps steps."""
    lo, hi = 0, n
    for _ in range(steps):
        if hi - lo <= 1:
            break
        mid = lo + (hi - lo) // 2
        lo, hi = (mid, hi) if mid <= t else (lo, mid)
    return lo


def wide_object(session):
    """Builds in the session's directory the object unwind_wide dlopens,
    returns its path: wide(alloc, size) jumps over WIDE_SLED nops, calls
    alloc(size) at CFA = rsp + 48, returns, and ends with nops; every nop
    has a row of its own, CFA = rsp + 16 and rsp + 24 in turn. Its .eh_frame
    is written here, with the rows' program (advance by 1, set the CFA's
    offset) as a file the assembler includes."""
    after = WIDE_ROWS - WIDE_CALL_ROW - 3
    odd = b"\x41\x0e\x10", b"\x41\x0e\x18"
    program = (b"\x45\x0e\x10" + odd[1] + (odd[0] + odd[1]) * ((WIDE_SLED - 2) // 2)
               + b"\x41\x0e\x08"    # the code: rsp + 8
               + b"\x4a\x0e\x30"    # from its call, sub $40 done: rsp + 48
               + b"\x46\x0e\x08"    # from ret: rsp + 8
               + (odd[0] + odd[1]) * (after // 2) + odd[0] * (after % 2))
    cfi = session.tmp / "wide.cfi"
    cfi.write_bytes(program)
    source = session.tmp / "wide.s"
    source.write_text(f"""
        .text
        .globl wide
        .type wide, @function
wide:
.Lwide: .byte 0xe9
        .long .Lcode - . - 4
        .fill {WIDE_SLED}, 1, 0x90
.Lcode: mov %rdi, %rax
        mov %rsi, %rdi
        sub $40, %rsp
        call *%rax
        add $40, %rsp
        ret
        .fill {after}, 1, 0x90
.Lend:  .size wide, .Lend - wide

        .section .eh_frame, "a", @progbits
.Lcie:  .long .Lcie_end - .Lcie - 4
        .long 0
        .byte 1
        .asciz "zR"
        .byte 1, 0x78, 16, 1, 0x1b
        .byte 0x0c, 7, 8, 0x90, 1
        .balign 8, 0
.Lcie_end:
.Lfde:  .long .Lfde_end - .Lfde - 4
        .long . - .Lcie
        .long .Lwide - .
        .long .Lend - .Lwide
        .byte 0
        .incbin "{cfi}"
        .balign 8, 0
.Lfde_end:
""")
    return session.compile("libwide.so", "-shared", "-nostdlib", source)


def test_table_of_more_than_2_24_rows():
    """unwind_wide leaks through wide, whose table holds 2^24 + 2^20 rows,
    the call at row 16: a search cut after 24 steps ends elsewhere (its
    neighbours say CFA = rsp + 16 or + 24, not + 48). With --unwind-rows
    room for it, wide_alloc <- wide <- call_wide <- run_wide <- main is
    exact."""
    assert row_search(WIDE_ROWS, WIDE_CALL_ROW, 24) != WIDE_CALL_ROW
    with Session() as s:
        wide = wide_object(s)
        target = s.target("unwind_wide", wide)
        daemon = s.memleakd(target.pid, "--unwind", "dwarf", "--unwind-rows",
                            str(WIDE_ROWS + 2**21), "-v", wait_tables=True)
        target.go()
        report = daemon.stop()
        target.stop()
        assert f"{TABLE_LINE}{wide}: {WIDE_ROWS} rows" in daemon.stderr.text(), \
            daemon.describe()
    expect_totals(report, UNWIND_WIDE_TOTALS)
    expect_stack_count(report, 1)
    expect_unwound(report, UNWIND_WIDE)
    expect_clean_unwind(report)


PLUGINS = 4
PLUGIN_ROWS_CAPACITY = 200000
PLUGIN_TABLE_RE = re.compile(TABLE_LINE + r"(\S+/plugin\d\.so): (\d+) rows, ")


def start_plugins(s, count, *args):
    """unwind_dlclose (ARGS after its directory and count) with count copies
    of libunwind_rows_plugin.so, traced with --unwind-rows
    PLUGIN_ROWS_CAPACITY -v. Returns (target, memleakd, plugin paths)."""
    plugins = [s.tmp / f"plugin{i}.so" for i in range(count)]
    for plugin in plugins:
        shutil.copy(TARGETS / "libunwind_rows_plugin.so", plugin)
    target = s.target("unwind_dlclose", s.tmp, str(count), *args)
    # Mappings are not watched: the loader's mmap and munmap stacks around
    # dlclose are not what these tests count.
    daemon = s.memleakd(target.pid, "--unwind-rows", str(PLUGIN_ROWS_CAPACITY), "-v",
                        "--no-mappings", wait_tables=True)
    return target, daemon, [str(p) for p in plugins]


def step(target, says):
    """SIGUSR1, then the target's line says."""
    target.signal(signal.SIGUSR1)
    assert target.stdout.wait_for(lambda l: l == says, READY_TIMEOUT), target.describe()


def wait_table(daemon, plugin, fits=True):
    """memleakd's -v line on plugin's table: loaded, or (fits false) not."""
    def match(line):
        if not line.startswith(f"memleakd: debug: {TABLE_LINE}{plugin}: ") and \
                not line.startswith(f"memleakd: warning: {TABLE_LINE}{plugin}: "):
            return False
        return ("do not fit" not in line) == fits
    assert daemon.stderr.wait_for(match, TABLES_TIMEOUT), daemon.describe()


def expect_plugin_leak(report, plugin):
    """The leak through plugin is exact, its first frames plugin's."""
    stack = expect_unwound(report, UNWIND_ROWS_PLUGIN_LEAK)
    assert [f["module"] for f in stack["frames"][:2]] == [plugin, plugin], \
        describe_stacks(report)
    expect_clean_unwind(report)


def test_dlclosed_plugins_rows_reclaimed():
    """unwind_dlclose dlopens plugin0.so, dlcloses it, dlopens plugin1.so,
    ... (copies of libunwind_rows_plugin.so, 100,013 rows each, without a
    build-id: four objects), each after memleakd loaded the previous one's
    table: more rows in all than --unwind-rows 200000, which holds libc's
    and one plugin's. The rows of each plugin unloaded go to the next: every
    table fits, and the leak through the last plugin, rows_plugin_alloc <-
    rows_plugin_leak <- call_plugin <- run_plugins <- main, is exact."""
    with Session() as s:
        target, daemon, plugins = start_plugins(s, PLUGINS)
        for i, plugin in enumerate(plugins):
            step(target, f"loaded {i}")
            wait_table(daemon, plugin)
        target.go()
        report = daemon.stop()
        target.stop()
    log = daemon.stderr.text()
    loaded = PLUGIN_TABLE_RE.findall(log)
    assert "do not fit" not in log and len(loaded) == PLUGINS, log
    assert sum(int(rows) for _, rows in loaded) > PLUGIN_ROWS_CAPACITY, loaded
    expect_plugin_leak(report, plugins[-1])


def test_table_without_room_built_once_rows_reclaimed():
    """unwind_dlclose overlap: plugin1.so is dlopened while plugin0.so is
    still mapped; --unwind-rows 200000 has no room for both, and memleakd
    says plugin1's table does not fit. Once plugin0.so is dlclosed, its rows
    are reclaimed and plugin1's table is built in them: the leak through
    plugin1 is exact."""
    with Session() as s:
        target, daemon, plugins = start_plugins(s, 2, "overlap")
        step(target, "loaded 0")
        wait_table(daemon, plugins[0])
        step(target, "loaded 1")
        wait_table(daemon, plugins[1], fits=False)
        step(target, "closed")
        wait_table(daemon, plugins[1])
        target.go()
        report = daemon.stop()
        target.stop()
    expect_plugin_leak(report, plugins[1])
