"""test_serve.py - memleakd --listen read by the real clients of each
endpoint, on a traced leaks.c: Debian's Prometheus server scraping
/metrics (its HTTP API's values exact), Go's pprof client reading
/debug/pprof/heap over HTTP (exact bytes and counts), headless Chromium
loading the live page (charts, flame graph, refresh); and the limits: only
GET and HEAD, no body, bounded request line and headers, a burst answered
429, a busy port refused at start, loopback by default."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from expected import LEAK_MALLOC, LEAKS, LEAKS_TOTALS
from harness import MEMLEAKD, Session, free_port
from report.test_flamegraph import SCREENSHOTS, browser
from report.test_pprof import expect_leak_values

# Headless Chromium and Prometheus: nothing else shares the CPUs.
ALONE = True

PROMETHEUS = "/usr/bin/prometheus"
SERVING_RE = re.compile(r"^memleakd: serving http://(\S+)/ ")
WAIT = 15


def serve(s, *args):
    """Starts leaks.c and memleakd --listen (port 0: one the kernel picks)
    with ARGS; returns (target, memleakd, base URL)."""
    target = s.target("leaks")
    daemon = s.memleakd(target.pid, *args, json_format=False)
    line = daemon.stderr.wait_for(lambda l: bool(SERVING_RE.match(l)), 1)
    assert line, f"no 'serving' line:\n{daemon.describe()}"
    return target, daemon, "http://" + SERVING_RE.match(line).group(1)


def get(url, method="GET", headers=None):
    """(status, headers, body) of one request."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def leaks_reported(base, pid=None):
    """Waits until the latest report (of pid, with several processes)
    holds all of leaks.c's leaks; returns it."""
    deadline = time.monotonic() + WAIT
    while True:
        status, _, body = get(base + "/report.json" + (f"?pid={pid}" if pid else ""))
        if status == 200:
            report = json.loads(body)
            if report["totals"]["outstanding_bytes"] == LEAKS_TOTALS["outstanding_bytes"]:
                return report
        assert time.monotonic() < deadline, f"no report of the leaks: {status} {body[:300]}"
        time.sleep(0.2)


def traced(s, *args):
    """leaks.c traced with --listen 0 -i 1 ARGS, its leaks made and
    reported; returns (target, memleakd, base URL, report)."""
    target, daemon, base = serve(s, "--listen", "0", "-i", "1", *args)
    target.go()
    return target, daemon, base, leaks_reported(base)


def stop(daemon, target):
    """SIGINT: memleakd exits 0 (a sanitized build, having checked for
    leaks) with requests served; then the target."""
    daemon.signal(signal.SIGINT)
    assert daemon.wait() == 0, daemon.describe()
    target.stop()


def prometheus(s, scraped):
    """Starts Prometheus on 127.0.0.1, scraping scraped (HOST:PORT) every
    second; returns its API's base URL once it answers."""
    assert os.path.exists(PROMETHEUS), f"{PROMETHEUS} is missing: run make check"
    config = s.tmp / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: memleakd\n    static_configs:\n"
        f"      - targets: ['{scraped}']\n")
    port = free_port()
    s.spawn("prometheus", [PROMETHEUS, f"--config.file={config}",
                           f"--storage.tsdb.path={s.tmp / 'tsdb'}",
                           f"--web.listen-address=127.0.0.1:{port}"])
    api = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + WAIT
    while True:
        try:
            if get(api + "/status/buildinfo")[0] == 200:
                return api
        except OSError:
            pass
        assert time.monotonic() < deadline, "Prometheus never answered"
        time.sleep(0.2)


def query(api, promql):
    status, _, body = get(api + "/query?" + urllib.parse.urlencode({"query": promql}))
    assert status == 200, f"{promql}: {status} {body[:300]}"
    return json.loads(body)["data"]["result"]


def scraped(api, promql, want=1):
    """The result of promql once it has want series (Prometheus scrapes
    every second)."""
    deadline = time.monotonic() + WAIT
    while True:
        result = query(api, promql)
        if len(result) >= want:
            return result
        assert time.monotonic() < deadline, f"{promql}: {result}"
        time.sleep(0.3)


def value(result):
    assert len(result) == 1, result
    return float(result[0]["value"][1])


def test_prometheus_scrapes_metrics():
    """Prometheus scrapes /metrics every second without an error: the
    outstanding totals, the counters and each leak's stack series hold
    leaks.c's exact numbers under the labels pid and comm, the stack label
    stays one across scrapes, and memleakd's own CPU time is there."""
    with Session() as s:
        target, daemon, base, report = traced(s)
        api = prometheus(s, base[len("http://"):])
        labels = f'pid="{target.pid}",comm="leaks"'
        total = scraped(api, f"memleakd_outstanding_bytes{{{labels}}}")
        assert value(total) == LEAKS_TOTALS["outstanding_bytes"], total
        for name, field in (("outstanding_allocs", "outstanding_allocs"),
                            ("allocs_total", "allocs"), ("frees_total", "frees"),
                            ("unknown_frees_total", "unknown_frees")):
            got = value(query(api, f"memleakd_{name}{{{labels}}}"))
            assert got == LEAKS_TOTALS[field], f"memleakd_{name}: {got}"
        for name in ("dropped_allocs_total", "stack_errors_total"):
            got = value(query(api, f"memleakd_{name}{{{labels}}}"))
            assert got == report["totals"][name[:-len("_total")]] == 0, name
        for leak in LEAKS:
            series = query(api, "memleakd_stack_outstanding_bytes"
                                f'{{{labels},top_frame="{leak.function}"}}')
            assert value(series) == leak.bytes, f"{leak.function}: {series}"
            assert re.fullmatch(r"[0-9a-f]{12}", series[0]["metric"]["stack"])
        # Every allocation is two probe hits, its call and its return, and
        # every free one; what tracing cost is there, priced.
        hits = value(query(api, f"memleakd_probe_hits_total{{{labels}}}"))
        assert hits >= 2 * LEAKS_TOTALS["allocs"] + LEAKS_TOTALS["frees"], hits
        # Measured (not NaN), over an interval where the target may be idle.
        assert value(query(api, f"memleakd_tracing_cpu_share{{{labels}}}")) >= 0
        verdicts = query(api, f"memleakd_verdict{{{labels}}}")
        assert len(verdicts) == 4 and sum(float(v["value"][1]) for v in verdicts) == 1
        assert value(query(api, 'up{job="memleakd"}')) == 1
        assert value(query(api, "process_cpu_seconds_total")) > 0
        # Several scrapes of several reports: one stack label.
        time.sleep(2.5)
        stacks = query(api, "sum by (stack) (count_over_time("
                            f'memleakd_stack_outstanding_bytes{{top_frame="{LEAK_MALLOC.function}"}}[1m]))')
        assert len(stacks) == 1 and float(stacks[0]["value"][1]) >= 3, stacks
        targets = json.loads(get(api + "/targets")[2])["data"]["activeTargets"]
        assert [(t["health"], t["lastError"]) for t in targets] == [("up", "")], targets
        stop(daemon, target)


def test_pprof_reads_heap_over_http():
    """pprof -top on http://ADDR/debug/pprof/heap: every leak of leaks.c
    with its exact bytes and allocations, as from a file; the profile is
    gzip'd protobuf, served as application/octet-stream, to HEAD too."""
    with Session() as s:
        target, daemon, base, _ = traced(s)
        url = base + "/debug/pprof/heap"
        status, headers, body = get(url)
        assert status == 200 and headers["Content-Type"] == "application/octet-stream"
        assert body[:2] == b"\x1f\x8b", body[:16]
        status, headers, body = get(url, method="HEAD")
        assert status == 200 and body == b"" and int(headers["Content-Length"]) > 100
        os.environ["PPROF_TMPDIR"] = str(s.tmp)
        expect_leak_values(s, url)
        stop(daemon, target)


def test_report_json_is_the_json_report():
    """/report.json is the very line -f json writes for that report."""
    with Session() as s:
        target, daemon, base, _ = traced(s, "-f", "json")
        status, headers, body = get(base + "/report.json")
        assert status == 200 and headers["Content-Type"] == "application/json"
        number = json.loads(body)["report"]
        line = daemon.stdout.wait_for(lambda l: f'"report":{number},' in l, 5)
        assert line and (line + "\n").encode() == body, f"{line}\n{body}"
        stop(daemon, target)


def test_page_in_chromium():
    """Chromium loads / (nothing but memleakd's own documents): a panel for
    leaks.c with its flame graph, whose frames hold leak_malloc's bytes,
    a chart line per top stack and one each for RSS and the outstanding
    total, legends with the leaks' sizes; the screenshot has colours; and
    the page shows a later report by itself, its flame graph reloaded."""
    with Session() as s:
        target, daemon, base, _ = traced(s)
        shot = SCREENSHOTS / "live-page.png"
        result = browser("page", base + "/", shot)
        first, later = result["first"], result["later"]
        assert shot.stat().st_size > 10000 and result["colours"] > 20, result["colours"]
        assert first["title"] == f"pid {target.pid} (leaks)", first["title"]
        names = {l["name"] for l in first["stacks"]["lines"]}
        assert {l.function for l in LEAKS} == names, names
        assert "leak_malloc: 97.7 KiB" in first["stacks"]["legend"], first["stacks"]
        assert "leak_mmapped: 3.0 MiB" in first["stacks"]["legend"], first["stacks"]
        assert [l["name"] for l in first["memory"]["lines"]] == \
            ["resident memory", "outstanding"]
        assert any(t.startswith(f"{LEAK_MALLOC.function}\n100000 bytes")
                   for t in first["flame"]), first["flame"][:20]
        assert later["report"] > first["report"], (first["report"], later["report"])
        assert later["flame_src"] == f"flame.svg?pid={target.pid}&report={later['report']}", later
        assert later["stacks"]["lines"][0]["points"] > first["stacks"]["lines"][0]["points"]
        assert not [c for c in result["console"] if "Refused" in c], result["console"]
        stop(daemon, target)


def test_each_process_served():
    """Two processes traced: /report.json, /debug/pprof/heap and
    /flame.svg take ?pid= and serve that process's own document, exact;
    the page's panel of each loads its own flame graph; a pid not traced
    is 404."""
    with Session() as s:
        first, second = s.target("leaks"), s.target("leaks")
        daemon = s.memleakd(first.pid, "-p", str(second.pid), "--listen", "0", "-i", "1",
                            json_format=False)
        assert daemon.stderr.wait_for(lambda l: f"attached to pid {second.pid} " in l, WAIT), \
            daemon.describe()
        line = daemon.stderr.wait_for(lambda l: bool(SERVING_RE.match(l)), 1)
        base = "http://" + SERVING_RE.match(line).group(1)
        first.go()
        second.go()
        os.environ["PPROF_TMPDIR"] = str(s.tmp)
        for target in (first, second):
            report = leaks_reported(base, target.pid)
            assert report["pid"] == target.pid and "processes" not in report, report.keys()
            expect_leak_values(s, f"{base}/debug/pprof/heap?pid={target.pid}")
        status, _, svg = get(f"{base}/flame.svg?pid={second.pid}")
        assert status == 200 and LEAK_MALLOC.function.encode() in svg, status
        history = json.loads(get(base + "/history.json")[2])
        assert sorted(p["flame"] for p in history["processes"]) == \
            sorted(f"flame.svg?pid={t.pid}" for t in (first, second)), history["processes"]
        for query in ("?pid=1", "?pid=x", "?pid=-4"):
            assert get(base + "/report.json" + query)[0] == 404, query
        stop(daemon, first)
        second.stop()


def raw_status(port, request):
    """The status code of a raw request, sent whole."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        reply = sock.recv(4096).decode(errors="replace")
    return int(reply.split()[1]) if reply.startswith("HTTP/") else reply


def listening(port):
    """The local addresses of the TCP listeners on port (/proc/net/tcp{,6})."""
    found = []
    for name in ("tcp", "tcp6"):
        for line in open(f"/proc/net/{name}").read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, p = local.split(":")
            if state == "0A" and int(p, 16) == port:
                found.append(address)
    return found


def test_limits():
    """Read-only and bounded: POST and PUT get 405 with Allow, a body 413,
    an over-long request line 414 and headers 431; no report yet is 503;
    a burst past the token bucket gets 429, and a second later 200 again;
    the default address is loopback only."""
    with Session() as s:
        target, daemon, base = serve(s, "--listen", "0")
        port = int(base.rsplit(":", 1)[1])
        assert listening(port) == ["0100007F"], listening(port)
        status, headers, _ = get(base + "/metrics", method="POST")
        assert status == 405 and headers["Allow"] == "GET, HEAD"
        assert get(base + "/metrics", method="PUT")[0] == 405
        assert raw_status(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3"
                                b"\r\n\r\nabc") == 413
        assert raw_status(port, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n") == 414
        assert raw_status(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 +
                          b"\r\n\r\n") == 431
        assert get(base + "/report.json")[0] == 503
        assert get(base + "/nothing")[0] == 404
        status, headers, body = get(base + "/metrics")
        assert status == 200 and b"process_cpu_seconds_total" in body
        assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        time.sleep(2)
        codes = [get(base + "/metrics", method="HEAD")[0] for _ in range(60)]
        assert codes[:15] == [200] * 15 and 429 in codes, codes
        time.sleep(1)
        assert get(base + "/metrics")[0] == 200
        stop(daemon, target)


def test_busy_port_and_ipv6():
    """--listen on a port another socket listens on fails at start, before
    attaching, saying which address and why; [::1]:PORT serves over IPv6."""
    with Session() as s:
        target = s.target("leaks")
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            status, _, err = s.run([MEMLEAKD, "-p", target.pid, "--listen", port])
            assert status == 1, err
            assert err.strip() == f"memleakd: error: --listen 127.0.0.1:{port}: cannot " \
                "serve there: Address already in use", err
        daemon = s.memleakd(target.pid, "--listen", "[::1]:0", json_format=False)
        line = daemon.stderr.wait_for(lambda l: bool(SERVING_RE.match(l)), 1)
        assert line and "[::1]:" in line, daemon.describe()
        port = int(line.split("]:")[1].split("/")[0])
        conn = http.client.HTTPConnection("::1", port, timeout=10)
        conn.request("GET", "/metrics")
        assert conn.getresponse().status == 200
        conn.close()
        stop(daemon, target)
