"""test_flamegraph.py - --format folded and --format svg (and --inverted)
read by their real consumers: the folded lines exact against leaks.c and
many_stacks.c, and imported by speedscope in headless Chromium; the SVG
parsed as XML, then loaded in headless Chromium (Debian's chromium driven by
playwright-core, tests/js/flame_browser.js): screenshot, the leak's frame in
the DOM, its tooltip line, click to zoom, reset, search."""

import functools
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

from expected import LEAK_MALLOC, LEAKS, LEAKS_TOTALS, MANY_STACKS, \
    MANY_STACKS_TOTALS
from harness import ROOT, Session

# Headless Chromium: nothing else shares the CPUs.
ALONE = True

SVG_NS = "{http://www.w3.org/2000/svg}"
NODE_MODULES = ROOT / "build" / "js" / "node_modules"
BROWSER = ROOT / "tests" / "js" / "flame_browser.js"
SPEEDSCOPE = NODE_MODULES / "speedscope" / "dist" / "release"
SCREENSHOTS = ROOT / "build" / "flamegraph"
LEAKS_SOURCE = ROOT / "tests" / "targets" / "leaks.c"
BROWSER_TIMEOUT = 45
# report_svg.c's layout: frames span 1180 pixels from x = 10, and frames
# under 0.1 pixel are not drawn.
FRAMES_X, FRAMES_WIDTH, MIN_WIDTH = 10, 1180, 0.1
# many_stacks.c: bytes under go_left, the innermost turn (even paths).
MANY_STACKS_LEFT = 1024 * 16 + sum(range(0, MANY_STACKS, 2))


def report_file(s, name, *args):
    """Traces target name (leaks.c's protocol) with memleakd ARGS, which
    write to a file, until its final report; memleakd exits 0 and prints
    nothing on stdout."""
    target = s.target(name)
    daemon = s.memleakd(target.pid, *args, json_format=False)
    target.go()
    daemon.signal(signal.SIGINT)
    status = daemon.wait()
    assert status == 0, f"memleakd exited with {status}:\n{daemon.describe()}"
    assert not daemon.stdout.lines, f"stdout: {daemon.stdout.text()}"
    target.stop()
    return target.pid


def function_of(label):
    """The function of a folded label, "function (file:line)" or a bare
    name."""
    return re.sub(r" \([^()]*:\d+\)$", "", label)


def source_line(path, text):
    """The number of the one line of source file path holding text."""
    lines = [n for n, line in enumerate(open(path), 1) if text in line]
    assert len(lines) == 1, f"{text!r} in {path}: lines {lines}"
    return lines[0]


def folded_lines(path):
    """{frames tuple: bytes} of a folded file, checking its form: one
    "a;b;c BYTES" line per distinct stack, sorted."""
    lines = path.read_text().splitlines()
    assert lines == sorted(lines, key=lambda l: l.rsplit(" ", 1)[0].split(";")), \
        f"lines not sorted:\n{path.read_text()}"
    stacks = {}
    for line in lines:
        stack, _, count = line.rpartition(" ")
        assert stack and count.isdigit(), f"not a folded line: {line!r}"
        frames = tuple(stack.split(";"))
        assert frames not in stacks, f"stack twice: {line!r}"
        stacks[frames] = int(count)
    return stacks


def svg_frames(path):
    """The frames of a memleakd SVG, parsed as XML: [{name, title, bytes,
    x (bytes), depth, rect attributes}]."""
    root = ET.parse(path).getroot()
    assert root.tag == SVG_NS + "svg", f"root element {root.tag}"
    scripts = root.findall(SVG_NS + "script")
    assert len(scripts) == 1 and "zoom" in scripts[0].text, "no inline script"
    assert not root.findall(f".//{SVG_NS}*[@href]") and \
        "http://" not in "".join(root.itertext()), "the SVG loads something"
    frames = []
    for g in root.iter(SVG_NS + "g"):
        if g.get("class") != "f":
            continue
        title = g.find(SVG_NS + "title").text
        rect = g.find(SVG_NS + "rect")
        frames.append(dict(name=title.split("\n")[0], title=title,
                           bytes=int(g.get("data-b")), x=int(g.get("data-x")),
                           depth=int(g.get("data-d")),
                           px=float(rect.get("x")), y=float(rect.get("y")),
                           width=float(rect.get("width"))))
    assert frames and frames[0]["name"] == "all", "the first frame is not all"
    return frames


def browser(*args):
    """Runs flame_browser.js ARGS; returns what it observed."""
    assert (NODE_MODULES / "playwright-core").exists(), \
        f"{NODE_MODULES} is missing: run make check"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, NODE_PATH=str(NODE_MODULES))
    run = subprocess.run(["node", BROWSER, *map(str, args)], env=env,
                         capture_output=True, text=True,
                         timeout=BROWSER_TIMEOUT)
    assert run.returncode == 0, f"flame_browser.js {args}:\n{run.stderr}"
    result = json.loads(run.stdout)
    assert not result["page_errors"], f"page errors {result['page_errors']}"
    return result


def percent(part, total):
    return f"{100 * part / total:.2f}%"


def test_folded_leaks_exact():
    """-f folded -o FILE: one line per leaking stack of leaks.c, outermost
    frame first, the leak's function last after its caller, main among
    them, its bytes exact; the lines add up to the outstanding total."""
    with Session() as s:
        path = s.tmp / "leaks.folded"
        report_file(s, "leaks", "-f", "folded", "-o", path)
        stacks = folded_lines(path)
        by_leaf = {function_of(frames[-1]): (frames, count)
                   for frames, count in stacks.items()}
        assert sorted(by_leaf) == sorted(l.function for l in LEAKS), \
            f"leaves {sorted(by_leaf)}:\n{path.read_text()}"
        for leak in LEAKS:
            frames, count = by_leaf[leak.function]
            functions = [function_of(f) for f in frames]
            assert count == leak.bytes, f"{leak.function}: {count} bytes"
            assert functions[-2] == leak.caller and "main" in functions, \
                f"{leak.function}: {frames}"
        assert sum(stacks.values()) == LEAKS_TOTALS["outstanding_bytes"]
        # Each frame carries its source line: the malloc call's.
        line = source_line(LEAKS_SOURCE, "target_keep(malloc(1000));")
        assert by_leaf["leak_malloc"][0][-1] == \
            f"leak_malloc (tests/targets/leaks.c:{line})", by_leaf["leak_malloc"]


def test_folded_every_stack():
    """All 2048 stacks of many_stacks.c are lines without --top (the
    default top is 10): a flame graph's total is the outstanding total."""
    with Session() as s:
        path = s.tmp / "many.folded"
        report_file(s, "many_stacks", "-f", "folded", "-o", path)
        stacks = folded_lines(path)
        assert len(stacks) == MANY_STACKS, f"{len(stacks)} lines"
        assert sum(stacks.values()) == \
            MANY_STACKS_TOTALS["outstanding_bytes"]
        assert all(tuple(map(function_of, f[-2:])) == ("descend", "leaf_alloc")
                   for f in stacks)


def serve(s, directory):
    """Serves directory on a free localhost port until the session ends;
    returns its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(directory))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop():
        server.shutdown()
        server.server_close()
    s.cleanups.append(stop)
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_speedscope_imports_folded():
    """speedscope (npm), served from localhost and given the folded file
    by #profileURL=, imports it as collapsed stacks: its Sandwich table
    lists each leak of leaks.c with its exact self bytes."""
    with Session() as s:
        www = s.tmp / "www"
        shutil.copytree(SPEEDSCOPE, www / "speedscope")
        report_file(s, "leaks", "-f", "folded", "-o", www / "leaks.folded")
        base = serve(s, www)
        result = browser("speedscope", f"{base}/speedscope/index.html"
                         f"#profileURL={base}/leaks.folded",
                         SCREENSHOTS / "speedscope.png")
        assert "Importing as collapsed stack format" in result["console"], \
            f"console: {result['console']}"
        assert result["title"].startswith("leaks.folded"), result["title"]
        self_bytes = {}
        for row in result["rows"]:
            name = function_of(row[2])
            self_bytes[name] = self_bytes.get(name, 0) + \
                int(row[1].split()[0].replace(",", ""))
        for leak in LEAKS:
            assert self_bytes.get(leak.function) == leak.bytes, \
                f"{leak.function}: speedscope rows {result['rows']}"
        assert self_bytes["main"] == 0


def speedscope_bytes(n):
    """n bytes as speedscope prints them: "512 B", "97.66 KB", "3.00 MB"."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def test_speedscope_imports_pprof():
    """speedscope imports memleakd's gzip-compressed pprof profile too:
    each leak of leaks.c with its self bytes, as speedscope rounds them."""
    with Session() as s:
        www = s.tmp / "www"
        shutil.copytree(SPEEDSCOPE, www / "speedscope")
        report_file(s, "leaks", "-f", "pprof", "-o", www / "leaks.pb.gz")
        base = serve(s, www)
        result = browser("speedscope", f"{base}/speedscope/index.html"
                         f"#profileURL={base}/leaks.pb.gz",
                         SCREENSHOTS / "speedscope-pprof.png")
        assert "Importing as protobuf encoded pprof file" in result["console"], \
            f"console: {result['console']}"
        # speedscope shows the default sample type, inuse_space, in its
        # own units: 1024-based, two decimals.
        shown = {row[2]: row[1].split(" (")[0] for row in result["rows"]}
        for leak in LEAKS:
            assert shown.get(leak.function) == speedscope_bytes(leak.bytes), \
                f"{leak.function}: speedscope rows {result['rows']}"
        assert shown["main"] == "0 B", shown


def visible(frames):
    return [f for f in frames if f["visible"]]


def test_svg_in_chromium():
    """-f svg -o FILE on leaks.c: well-formed XML whose frames are laid
    out by bytes; in Chromium: a screenshot, leak_malloc's frame found in
    the DOM, hovering it shows its bytes and percent, clicking it zooms (it
    spans the width, its siblings are hidden, its callers dimmed), reset
    restores the layout, and searching for it highlights it alone."""
    with Session() as s:
        path = s.tmp / "leaks.svg"
        pid = report_file(s, "leaks", "-f", "svg", "-o", path)
        total = LEAKS_TOTALS["outstanding_bytes"]
        frames = svg_frames(path)
        assert frames[0]["bytes"] == total and frames[0]["width"] == 1180
        leak = [f for f in frames if f["name"] == LEAK_MALLOC.function]
        assert len(leak) == 1 and leak[0]["bytes"] == LEAK_MALLOC.bytes
        assert abs(leak[0]["width"] - FRAMES_WIDTH * LEAK_MALLOC.bytes / total) < 0.01
        assert f"pid {pid}" in path.read_text()

        shot = SCREENSHOTS / "leaks.png"
        result = browser("svg", path, shot, LEAK_MALLOC.function)
        assert shot.stat().st_size > 1000, f"{shot} is empty"
        assert result["frame_count"] == 1, f"{result['frame_count']} frames"
        assert result["details"] == (
            f"leak_malloc: 100000 bytes (97.7 KiB), "
            f"{percent(LEAK_MALLOC.bytes, total)} of outstanding"), \
            result["details"]

        zoomed = {f["name"]: f for f in visible(result["zoomed"])}
        target = zoomed[LEAK_MALLOC.function]
        assert (target["x"], target["width"]) == (FRAMES_X, FRAMES_WIDTH), target
        assert result["unzoom_visible"]
        callers = {"all", "main", "run_leaks", LEAK_MALLOC.caller}
        assert callers <= set(zoomed) and all(
            "parent" in zoomed[n]["classes"] for n in callers), zoomed.keys()
        hidden = {f["name"] for f in result["zoomed"] if not f["visible"]}
        siblings = {l.function for l in LEAKS} - {LEAK_MALLOC.function}
        assert siblings <= hidden and not set(zoomed) & siblings, hidden

        assert [(f["x"], f["width"], f["visible"]) for f in result["reset"]] \
            == [(f["x"], f["width"], True) for f in result["initial"]]
        assert result["matched"] == \
            f"Matched: {percent(LEAK_MALLOC.bytes, total)} (100000 bytes)"
        matches = [f for f in result["searched"] if "match" in f["classes"]]
        assert [f["name"] for f in matches] == [LEAK_MALLOC.function]
        assert matches[0]["fill"] == "rgb(230, 0, 230)"


def test_svg_inverted_in_chromium():
    """-f svg --inverted on many_stacks.c: an icicle merged from the leaf,
    so its 2048 stacks' allocating function is one frame on top, the full
    width, above descend, then go_left and go_right with their exact bytes;
    in Chromium, clicking go_right zooms to it and hides go_left, and the
    search for leaf_alloc matches 100%."""
    with Session() as s:
        path = s.tmp / "inverted.svg"
        report_file(s, "many_stacks", "-f", "svg", "--inverted", "-o", path)
        total = MANY_STACKS_TOTALS["outstanding_bytes"]
        frames = svg_frames(path)
        rows = {d: [f for f in frames if f["depth"] == d] for d in (1, 2, 3)}
        assert [(f["name"], f["bytes"], f["width"]) for f in rows[1]] == \
            [("leaf_alloc", total, FRAMES_WIDTH)], rows[1]
        assert [(f["name"], f["bytes"]) for f in rows[2]] == \
            [("descend", total)], rows[2]
        assert [(f["name"], f["bytes"]) for f in rows[3]] == \
            [("go_left", MANY_STACKS_LEFT),
             ("go_right", total - MANY_STACKS_LEFT)], rows[3]
        assert frames[0]["y"] < rows[1][0]["y"] < rows[2][0]["y"] \
            < rows[3][0]["y"], "not an icicle"

        result = browser("svg", path, SCREENSHOTS / "many_inverted.png",
                         "go_right", 3)
        zoomed = [f for f in visible(result["zoomed"]) if f["depth"] == 3]
        assert [(f["name"], f["x"], f["width"]) for f in zoomed] == \
            [("go_right", FRAMES_X, FRAMES_WIDTH)], zoomed
        assert result["details"].startswith(
            f"go_right: {total - MANY_STACKS_LEFT} bytes")


def test_svg_prunes_narrow_frames():
    """The flame (not inverted) of many_stacks.c: a leaf_alloc frame per
    stack, except those under 0.1 pixel, which are left out; the stacks'
    bytes are all in the root."""
    with Session() as s:
        path = s.tmp / "many.svg"
        report_file(s, "many_stacks", "-f", "svg", "-o", path)
        total = MANY_STACKS_TOTALS["outstanding_bytes"]
        frames = svg_frames(path)
        assert frames[0]["bytes"] == total
        leaves = sorted(f["bytes"] for f in frames if f["name"] == "leaf_alloc")
        drawn = [16 + p for p in range(MANY_STACKS)
                 if (16 + p) * FRAMES_WIDTH / total >= MIN_WIDTH]
        assert 0 < len(drawn) < MANY_STACKS
        assert leaves == drawn, f"{len(leaves)} leaf frames, expected {len(drawn)}"


def test_svg_directory():
    """-f svg -o DIR/: one .svg file per report, each well-formed, and
    latest pointing at the newest."""
    with Session() as s:
        out = s.tmp / "reports"
        target = s.target("leaks")
        daemon = s.memleakd(target.pid, "-f", "svg", "-o", f"{out}/", "-i",
                            "1", json_format=False)
        target.go()
        deadline = time.monotonic() + 5
        while not list(out.glob("*.svg")):
            assert time.monotonic() < deadline, "no .svg after 5 s"
            time.sleep(0.1)
        daemon.signal(signal.SIGINT)
        assert daemon.wait() == 0, daemon.describe()
        target.stop()
        files = sorted(out.glob(f"memleakd-{target.pid}-*.svg"))
        assert len(files) >= 2 and sorted(out.iterdir()) == \
            sorted(files + [out / "latest"]), list(out.iterdir())
        for f in files:
            svg_frames(f)
        assert os.readlink(out / "latest") == files[-1].name
        assert svg_frames(files[-1])[0]["bytes"] == \
            LEAKS_TOTALS["outstanding_bytes"]
