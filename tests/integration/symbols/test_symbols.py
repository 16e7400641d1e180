"""test_symbols.py - symbolization on real C++ and Rust programs:
demangled names, source files and lines, and inlined calls as frames of
their own.

Targets: tests/targets/symbols_cxx.cc (g++ -O2 -g: namespaced, templated
and const member functions, an always_inline chain, std::string and
std::vector growth) and tests/targets/symbols_rust.rs, built by Debian's
rustc twice, with legacy and with v0 symbol mangling (Box::leak, generic
Box::leak, Vec growth). The lines a frame must show are marked in the
sources with "LINE: name" comments, read here: no line number is written
in this file. Each leak's bytes and allocs are exact, and so is each name.

The C++ stack through the always_inline chain is compared with gdb's bt,
inlined frames and lines included."""

import re
import signal

from expected import (SYMBOLS_CXX_LEAKS, SYMBOLS_CXX_POOL_SIZE,
                      SYMBOLS_CXX_TOTALS, SYMBOLS_RUST_LEAKS,
                      SYMBOLS_RUST_TOTALS)
from harness import (DONE_TIMEOUT, TARGET_SOURCES, Session, describe_stacks,
                     expect_totals, trace)

CXX_SOURCE = TARGET_SOURCES / "symbols_cxx.cc"
RUST_SOURCE = TARGET_SOURCES / "symbols_rust.rs"
MARK_RE = re.compile(r"//\s*LINE:\s*(\w+)")

GDB = "/usr/bin/gdb"
GDB_TIMEOUT = 40
# "#1  0x000055d0c0ffee00 in ns::detail::raw_alloc (n=333) at FILE:114",
# "#2  ns::detail::grab (n=333) at FILE:119": number, function, file, line.
GDB_FRAME_RE = re.compile(
    r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(.*\) at (\S+):(\d+)$")

# The inlined library call right above each leak's own frame, which the
# leak's line calls: (function, the end of its file name).
CXX_INLINED_CALLS = {
    "ns::Journal::write(int)": (
        "std::__cxx11::basic_string<char, std::char_traits<char>, "
        "std::allocator<char> >::append(char const*, unsigned long)",
        "bits/basic_string.h"),
    "ns::Series::record(int)": (
        "std::vector<long, std::allocator<long> >::push_back(long const&)",
        "bits/stl_vector.h"),
}
RUST_INLINED_CALLS = {
    "legacy": {"widget_box": "alloc::boxed::Box<T>::new",
               "boxed_box": "alloc::boxed::Box<T>::new",
               "samples_push": "alloc::vec::Vec<T,A>::push"},
    "v0": {"widget_box": "<alloc::boxed::Box<symbols_rust::Widget>>::new",
           "boxed_box": "<alloc::boxed::Box<symbols_rust::Gadget>>::new",
           "samples_push": "<alloc::vec::Vec<u64>>::push"},
}
RUST_MANGLING_PREFIX = {"legacy": "_ZN", "v0": "_R"}


def marked_lines(path):
    """{mark: line number} of the source's "LINE: mark" comments."""
    marks = {}
    for number, text in enumerate(path.read_text().splitlines(), 1):
        match = MARK_RE.search(text)
        if match:
            assert match.group(1) not in marks, \
                f"{path}: LINE: {match.group(1)} marked twice"
            marks[match.group(1)] = number
    return marks


def own_frame(report, function):
    """(stack, index) of the one stack with a frame of function that is not
    an inlined call."""
    found = [(s, i) for s in report["stacks"]
             for i, f in enumerate(s["frames"])
             if f["function"] == function and not f["inlined"]]
    assert len(found) == 1, (f"{len(found)} stacks have a frame of "
                             f"{function}:\n{describe_stacks(report)}")
    return found[0]


def describe(frames):
    return "\n".join(f"  {f['function']} ({f['file']}:{f['line']}) "
                     f"{'inlined ' if f['inlined'] else ''}@{f['addr']} "
                     f"mangled={f['mangled']}" for f in frames)


def expect_leak(report, leak, source, marks, mangled_prefix):
    """leak's stack holds exactly its bytes and allocs; its frame has its
    demangled name, a mangled name that differs, and the source line
    marked leak.mark. Returns (stack, index of the frame)."""
    stack, i = own_frame(report, leak.function)
    frame = stack["frames"][i]
    assert (stack["bytes"], stack["allocs"]) == (leak.bytes, leak.allocs), \
        (f"{leak.function}: {stack['allocs']} allocs, {stack['bytes']} "
         f"bytes; expected {leak.allocs} allocs, {leak.bytes} bytes")
    assert frame["mangled"] and frame["mangled"].startswith(mangled_prefix) \
        and frame["mangled"] != frame["function"], \
        f"{leak.function}: mangled {frame['mangled']!r}"
    assert frame["file"] and frame["file"].endswith(source.name) \
        and frame["line"] == marks[leak.mark], \
        (f"{leak.function}: at {frame['file']}:{frame['line']}, expected "
         f"{source.name}:{marks[leak.mark]} (LINE: {leak.mark})")
    return stack, i


def expect_inlined_above(stack, i, function, file_end):
    """The frame above frames[i] is an inlined call of function, from a
    file ending in file_end, at the same address; returns it."""
    frames = stack["frames"]
    assert i > 0, f"nothing above frame {i}:\n{describe(frames)}"
    above = frames[i - 1]
    assert (above["function"], above["inlined"], above["addr"]) == \
        (function, True, frames[i]["addr"]) and above["offset"] == 0 \
        and above["file"] and above["file"].endswith(file_end) \
        and above["line"] > 0, \
        (f"above {frames[i]['function']}: expected {function} inlined at "
         f"{frames[i]['addr']} from ...{file_end}:\n{describe(frames)}")
    return above


def trace_symbols(session, name, *args):
    """trace() with the DWARF unwind tables loaded: -O2 code and Rust's
    std have no frame pointers."""
    return trace(session, name, *args, wait_tables=True)


# 1. C++.

def test_cxx_names_and_lines():
    """symbols_cxx: each of the six leaks is exact, its frame is the
    demangled name (namespaces, template arguments, const, a function
    template's return type), the mangled name is kept beside it, and its
    line is the marked one."""
    marks = marked_lines(CXX_SOURCE)
    with Session() as s:
        _, _, report = trace_symbols(s, "symbols_cxx")
    expect_totals(report, SYMBOLS_CXX_TOTALS)
    for leak in SYMBOLS_CXX_LEAKS:
        expect_leak(report, leak, CXX_SOURCE, marks, "_Z")
    for function, (inlined, file_end) in CXX_INLINED_CALLS.items():
        stack, i = own_frame(report, function)
        expect_inlined_above(stack, i, inlined, file_end)


def test_cxx_always_inline_chain():
    """The always_inline chain raw_alloc <- grab <- Pool::fill: three
    frames at one address, innermost first, the inlined ones named with
    their namespaces (static functions have no mangled name: it is the
    name), each at its own marked line: malloc's call, then the call site
    of each inlined call in its caller."""
    marks = marked_lines(CXX_SOURCE)
    with Session() as s:
        _, _, report = trace_symbols(s, "symbols_cxx")
    stack, i = own_frame(report, "ns::Pool::fill(unsigned long)")
    frames = stack["frames"]
    assert i == 2, f"Pool::fill is frame {i}:\n{describe(frames)}"
    got = [(f["function"], f["mangled"], f["inlined"], f["line"], f["addr"])
           for f in frames[:3]]
    addr = frames[2]["addr"]
    assert got == [
        ("ns::detail::raw_alloc", "ns::detail::raw_alloc", True,
         marks["raw_alloc_malloc"], addr),
        ("ns::detail::grab", "ns::detail::grab", True,
         marks["grab_calls_raw_alloc"], addr),
        ("ns::Pool::fill(unsigned long)", "_ZN2ns4Pool4fillEm", False,
         marks["fill_calls_grab"], addr),
    ], describe(frames)
    assert all(f["file"] == frames[2]["file"] for f in frames[:2]), \
        describe(frames)


def test_cxx_text_report():
    """The text report shows the inlined calls and the function with its
    offset, each with file:line."""
    marks = marked_lines(CXX_SOURCE)
    with Session() as s:
        target = s.target("symbols_cxx")
        daemon = s.memleakd(target.pid, "-f", "text", json_format=False,
                            wait_tables=True)
        target.go()
        daemon.signal(signal.SIGINT)
        assert daemon.wait() == 0, daemon.describe()
        target.stop()
        text = daemon.stdout.text()
    src = "tests/targets/symbols_cxx.cc"
    for pattern in (
            rf"^\s+inlined ns::detail::raw_alloc \({src}:"
            rf"{marks['raw_alloc_malloc']}\) \[\S+/symbols_cxx\]$",
            rf"^\s+inlined ns::detail::grab \({src}:"
            rf"{marks['grab_calls_raw_alloc']}\) \[\S+/symbols_cxx\]$",
            rf"^\s+ns::Pool::fill\(unsigned long\)\+0x[0-9a-f]+ \({src}:"
            rf"{marks['fill_calls_grab']}\) \[\S+/symbols_cxx\]$",
            rf"^\s+ns::Registry<int>::add\(int\)\+0x[0-9a-f]+ \({src}:"
            rf"{marks['registry_new']}\) \[\S+/symbols_cxx\]$"):
        assert re.search(pattern, text, re.M), \
            f"no line matches {pattern!r} in:\n{text}"


def test_cxx_no_demangle():
    """--no-demangle: every frame's function is its mangled name, and the
    lines stay."""
    marks = marked_lines(CXX_SOURCE)
    with Session() as s:
        _, _, report = trace_symbols(s, "symbols_cxx", "--no-demangle")
    expect_totals(report, SYMBOLS_CXX_TOTALS)
    expect_not_demangled(report)
    stack, i = own_frame(report, "_ZN2ns8RegistryIiE3addEi")
    assert stack["frames"][i]["line"] == marks["registry_new"], \
        describe(stack["frames"])


def expect_not_demangled(report):
    frames = [f for s in report["stacks"] for f in s["frames"]]
    differ = [f for f in frames if f["function"] != f["mangled"]]
    assert not differ, f"demangled frames:\n{describe(differ)}"
    assert any(f["function"] and f["function"].startswith(("_Z", "_R"))
               for f in frames), f"no mangled name:\n{describe(frames)}"


def gdb_backtrace(session, target, size):
    """gdb's bt at the target's first malloc(size) after SIGUSR1, which gdb
    sends itself before it detaches: [(function, file, line)] from frame
    #1 (malloc's caller) on, inlined frames included."""
    commands = ["set pagination off", "handle SIGUSR1 nostop noprint pass",
                f"break *malloc if $rdi == {size}",
                f"shell kill -USR1 {target.pid}", "continue", "bt", "detach"]
    argv = [GDB, "-batch", "-nx", "-p", target.pid]
    for command in commands:
        argv += ["-ex", command]
    status, out, err = session.run(argv, timeout=GDB_TIMEOUT)
    frames = [(m.group(2), m.group(3), int(m.group(4)))
              for m in map(GDB_FRAME_RE.match, out.splitlines())
              if m and m.group(1) != "0"]
    assert status == 0 and frames, \
        (f"gdb's bt (exit status {status}): {frames}\n"
         f"--- stdout:\n{out}\n--- stderr:\n{err}")
    return frames


def up_to(frames, function):
    """frames up to and including the first one of function."""
    names = [f[0] for f in frames]
    assert function in names, f"no {function} in {names}"
    return frames[:names.index(function) + 1]


def test_cxx_same_as_gdb():
    """The always_inline stack, frames[0] to main, is gdb's bt at
    malloc(333) in another run: the same functions (gdb names them without
    parameters), inlined calls included, each at the same file and line."""
    with Session() as s:
        _, _, report = trace_symbols(s, "symbols_cxx")
        stack, _ = own_frame(report, "ns::Pool::fill(unsigned long)")
        ours = up_to([(f["function"].split("(")[0], f["file"], f["line"])
                      for f in stack["frames"]], "main")
        target = s.target("symbols_cxx")
        theirs = up_to(gdb_backtrace(s, target, SYMBOLS_CXX_POOL_SIZE),
                       "main")
        assert target.stdout.wait_for(lambda l: l == "done", DONE_TIMEOUT), \
            f"target never said done after gdb:\n{target.describe()}"
        target.stop()
    assert len(theirs) >= 5, f"gdb stopped elsewhere: {theirs}"
    assert ours == theirs, f"memleakd: {ours}\ngdb:      {theirs}"


# 2. Rust, legacy and v0 mangling.

def rust_case(mangling, *args):
    with Session() as s:
        _, _, report = trace_symbols(s, f"symbols_rust_{mangling}", *args)
    expect_totals(report, SYMBOLS_RUST_TOTALS)
    return report


def rust_names_case(mangling):
    marks = marked_lines(RUST_SOURCE)
    report = rust_case(mangling)
    for leak in SYMBOLS_RUST_LEAKS[mangling]:
        stack, i = expect_leak(report, leak, RUST_SOURCE, marks,
                               RUST_MANGLING_PREFIX[mangling])
        expect_inlined_above(stack, i, RUST_INLINED_CALLS[mangling][leak.mark],
                             ".rs")
    return report


def callers(report, function):
    """The functions of the program's own frames from function's down to
    symbols_rust::main, inlined calls left out."""
    stack, i = own_frame(report, function)
    names = [f["function"] for f in stack["frames"][i:] if not f["inlined"]]
    assert "symbols_rust::main" in names, f"no main below {function}: {names}"
    return names[:names.index("symbols_rust::main") + 1]


def test_rust_legacy_names_and_lines():
    """symbols_rust built with rustc's default (legacy) mangling: each leak
    exact, its frame demangled without the hash, its mangled name _ZN...,
    its line the marked one, and Box::new or Vec::push inlined above it
    (legacy names carry no type arguments)."""
    rust_names_case("legacy")


def test_rust_v0_names_and_lines():
    """The same program with -C symbol-mangling-version=v0: the same
    names, but a generic function and the inlined Box::new and Vec::push
    name their type arguments; mangled names are _R..."""
    rust_names_case("v0")


def test_rust_manglings_agree():
    """Both builds name the non-generic stacks the same, frame for frame
    from the leak's function to symbols_rust::main; the generic function
    is legacy's name with v0's type argument."""
    legacy, v0 = rust_case("legacy"), rust_case("v0")
    for function in ("symbols_rust::make_widget",
                     "symbols_rust::grow_samples"):
        assert callers(legacy, function) == callers(v0, function), \
            f"{callers(legacy, function)} != {callers(v0, function)}"
    generic = callers(v0, "symbols_rust::leak_boxed::<symbols_rust::Gadget>")
    assert callers(legacy, "symbols_rust::leak_boxed") == \
        ["symbols_rust::leak_boxed"] + generic[1:], generic


def test_rust_no_demangle():
    """--no-demangle on the v0 build: every frame's function is its mangled
    name; make_widget's frame keeps its line."""
    marks = marked_lines(RUST_SOURCE)
    report = rust_case("v0", "--no-demangle")
    expect_not_demangled(report)
    found = [f for s in report["stacks"] for f in s["frames"]
             if not f["inlined"] and f["function"]
             and f["function"].startswith("_R")
             and "make_widget" in f["function"]]
    assert len(found) == 1 and found[0]["line"] == marks["widget_box"], \
        describe(found)
