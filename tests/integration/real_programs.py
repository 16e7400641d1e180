"""real_programs.py - real programs from Debian's packages, for the tests
and benchmarks that judge verdicts: servers under real load generators
(redis-server under redis-benchmark with a bounded keyspace, nginx under
wrk, a PostgreSQL 15 backend serving pgbench's TPC-B-like transactions, the
server from postgres.py), Debian's python3 running a script, and what the
verdict tests share. Python 3 standard library.

    with Session() as s:
        redis = start_redis(s)                 # on a Unix socket
        load = redis_load(s, redis)            # redis-benchmarks -l ...
        daemon = s.memleakd(redis.pid, ...)

Each program and each load runs until the session ends. Servers run as
root here (the tests are root) with configurations that need no root:
their own directory, sockets or ports above 1024, no system paths.
"""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from harness import free_port
from postgres import PG_BIN, children, environment, start_postgres

PYTHON3 = Path("/usr/bin/python3")
REDIS_SERVER = Path("/usr/bin/redis-server")
REDIS_BENCHMARK = Path("/usr/bin/redis-benchmark")
NGINX = Path("/usr/sbin/nginx")
WRK = Path("/usr/bin/wrk")
PGBENCH = PG_BIN / "pgbench"

START_TIMEOUT = 10
# redis-benchmark's commands, each on keys drawn from a bounded keyspace.
REDIS_TESTS = "set,get,incr,hset,sadd,mset"
# nginx serves these files, of these sizes.
NGINX_FILES = {"index.html": 4096, "big.bin": 256 * 1024}


def wait_until(check, timeout, what):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.02)


# Intervals after a stack's first report before it is judged
# (GROWTH_MIN_INTERVALS), and the default trend window.
MIN_INTERVALS = 5
WINDOW = 6


def judged_reports(reports):
    """The reports in which a stack seen from the first report is judged."""
    return [r for r in reports if r["report"] > MIN_INTERVALS]


def full_window_reports(reports):
    """The reports whose default trend window is full: from the seventh on,
    those that list a stack with a full window. Stacks captured before
    memleakd's unwind tables were loaded are cut short, and the same stacks
    whole start later."""
    return [r for r in reports if r["report"] > WINDOW and
            any(s["intervals"] == WINDOW for s in r["stacks"])]


def start_python(session, script):
    """Debian's python3 running script, which must print "ready", then
    wait for a line on its standard input before its work; returns the
    Process once it is ready. python_go() sends the line."""
    python = session.spawn("python3", [PYTHON3, "-c", script], stdin=True)
    assert python.stdout.wait_for(lambda line: line == "ready", START_TIMEOUT), \
        python.describe()
    return python


def python_go(python):
    python.popen.stdin.write(b"go\n")
    python.popen.stdin.flush()


class Server:
    """A started server: process (harness.Process), pid (the process to
    trace), address (a socket path or a port)."""

    def __init__(self, process, pid, address):
        self.process = process
        self.pid = pid
        self.address = address


def start_redis(session):
    """redis-server on a Unix socket in the session's directory, no TCP,
    no persistence."""
    sock = session.tmp / "redis.sock"
    process = session.spawn("redis-server", [
        REDIS_SERVER, "--port", "0", "--unixsocket", sock, "--save", "",
        "--appendonly", "no", "--dir", session.tmp, "--loglevel", "warning"])
    wait_until(lambda: sock.exists() or not process.running(), START_TIMEOUT,
               "redis-server made no socket")
    assert process.running(), process.describe()
    return Server(process, process.popen.pid, sock)


class Loads:
    """Several load generators run together, seen as one load."""

    def __init__(self, processes):
        self.processes = processes

    def running(self):
        return all(p.running() for p in self.processes)

    def describe(self):
        return "\n".join(p.describe() for p in self.processes)


def redis_load(session, redis, keyspace=2000, clients=3, data=64):
    """Fills keyspace keys (-r) with values of data bytes, every key of
    every command's structure, then starts one redis-benchmark per command
    of REDIS_TESTS, all at once, each looping over those keys until the
    session ends: a steady mix of commands on a full keyspace, where one
    redis-benchmark would switch from one command to the next during a
    traced run, and each switch would start new stacks. A traced run sees
    the values set before it replaced by values it traces, a growth that
    stops once every one is replaced: within a second or two for 2,000
    keys. With 10,000, replacing the hash's fields took about 4.5 s, at the
    limit of what the trend window of -i 1 tells from a leak (see "How a
    stack is judged" in docs/reports.md)."""
    fill = [REDIS_BENCHMARK, "-s", redis.address, "-r", keyspace, "-d", data,
            "-n", 20 * keyspace, "-P", 16, "-t", REDIS_TESTS, "-q"]
    status, _, err = session.run(fill)
    assert status == 0, err
    return Loads([session.spawn(f"redis-benchmark {test}", [
        REDIS_BENCHMARK, "-s", redis.address, "-c", clients, "-r", keyspace,
        "-d", data, "-n", 100000000, "-t", test, "-l", "-q"])
        for test in REDIS_TESTS.split(",")])


NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 100;
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/html;
        location / {{ add_header X-Memleakd test; }}
    }}
}}
"""


def start_nginx(session):
    """nginx with its own prefix and configuration under the session's
    directory, listening on a free port of 127.0.0.1: a master and one
    worker, whose pid is Server.pid. It serves NGINX_FILES; keep-alive
    connections close after 100 requests, so the worker opens new ones."""
    prefix = session.tmp / "nginx"
    (prefix / "html").mkdir(parents=True)
    os.chmod(session.tmp, 0o711)
    for name, size in NGINX_FILES.items():
        (prefix / "html" / name).write_bytes(bytes(i % 251 for i in range(size)))
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, port=port))
    process = session.spawn("nginx", [NGINX, "-p", prefix, "-c", conf])

    def listening():
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return True
        except OSError:
            return not process.running()

    workers = []

    def stop():
        """Fast shutdown: the master ends its worker, which the session's
        SIGKILL of the master alone would leave running."""
        if process.running():
            process.signal(signal.SIGTERM)
            try:
                process.popen.wait(START_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        for pid in workers:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f.read().startswith(b"nginx: worker"):
                        os.kill(pid, signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError):
                pass

    session.cleanups.append(stop)
    wait_until(listening, START_TIMEOUT, "nginx did not listen")
    assert process.running(), process.describe()
    wait_until(lambda: workers.extend(children(process.popen.pid)) or workers,
               START_TIMEOUT, "nginx started no worker")
    assert len(workers) == 1, f"nginx workers: {workers}"
    return Server(process, workers[0], port)


def nginx_load(session, nginx, seconds, connections=8):
    """wrk for seconds, on connections connections, asking for every file
    of NGINX_FILES in turn."""
    script = session.tmp / "paths.lua"
    script.write_text(
        "local paths = {" + ",".join(f'"/{n}"' for n in NGINX_FILES) + ', "/missing"}\n'
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        "  return wrk.format(nil, paths[i])\n"
        "end\n")
    return session.spawn("wrk", [
        WRK, "-t", 1, "-c", connections, "-d", f"{seconds}s", "-s", script,
        f"http://127.0.0.1:{nginx.address}/"])


class Pgbench:
    """A PostgreSQL 15 server with pgbench's tables (scale 1)."""

    def __init__(self, session):
        self.session = session
        self.server = start_postgres(session)
        self.admin = self.server.connect()
        status, out, err = session.run(
            [PGBENCH, "-i", "-q", "-s", 1, "-h", self.server.sockdir,
             "-U", "postgres", "postgres"], timeout=60, env=environment())
        assert status == 0, f"pgbench -i: status {status}\n{out}\n{err}"

    def run(self, seconds):
        """Starts pgbench's TPC-B-like transactions on one connection for
        seconds; returns (the pgbench Process, its backend's pid)."""
        before = set(children(self.server.pid))
        process = self.session.spawn("pgbench", [
            PGBENCH, "-n", "-c", 1, "-T", seconds, "-h", self.server.sockdir,
            "-U", "postgres", "postgres"], env=environment())
        # pgbench first checks the tables on a connection of its own: the
        # client's backend is the one running the transaction's statements.
        query = ("select pid from pg_stat_activity where application_name = "
                 "'pgbench' and query ~* '^(begin|end|update|insert|select abalance)'")
        found = []

        def backend():
            found[:] = [int(p) for p in self.admin.query(query) if p]
            return len(found) == 1 or not process.running()

        wait_until(backend, START_TIMEOUT, "no pgbench backend")
        assert process.running(), process.describe()
        assert found[0] not in before, found
        return process, found[0]
