"""postgres.py - a real PostgreSQL 15 server from Debian's packages for the
integration tests, one backend held open to send it SQL over time, and the
tests' C extension (tests/postgres/leaky_ext.c). Python 3 standard library.

    with Session() as s:
        server = start_postgres(s)            # initdb, postgres, ready
        backend = server.connect()            # one psql: one backend
        create_functions(backend, build_extension(s))
        daemon = s.memleakd(backend.pid, ...)
        backend.query("select leaky_remember(10, 1000)")
        report = daemon.stop()

The server runs as the postgres user on a Unix socket in the session's
directory, with no TCP. It stops (fast shutdown) when the session ends,
before the session kills what is left, whether the test passed or not.
"""

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from harness import ROOT

PG_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGRES = PG_BIN / "postgres"
INITDB = PG_BIN / "initdb"
PSQL = PG_BIN / "psql"
PG_CONFIG = PG_BIN / "pg_config"
PGBENCH = PG_BIN / "pgbench"
EXTENSION_SOURCES = ROOT / "tests" / "postgres"
EXTENSION_FUNCTIONS = ("leaky_remember", "leaky_scratch", "leaky_error",
                       "leaky_oversize", "leaky_pfree")
USER = "postgres"
PORT = 5432

INITDB_TIMEOUT = 60
START_TIMEOUT = 30
STOP_TIMEOUT = 15
QUERY_TIMEOUT = 30
BUILD_TIMEOUT = 120

READY_LINE = "database system is ready to accept connections"
# psql run from a pipe prefixes "psql:<stdin>:LINE: " to the server's
# messages.
ERROR_RE = re.compile(r"^(psql:[^:]*:\d+: )?(ERROR|FATAL|PANIC):")


class SQLError(Exception):
    """The server answered a query with an ERROR; str() is psql's text of
    it (with its LINE, DETAIL, HINT and CONTEXT lines)."""


def environment():
    """The environment of initdb, postgres, psql and make: no PG* variable
    of the caller's (PGPORT, PGHOST...), no make flags of an outer make, C
    locale so that messages are in English."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PG") and k not in
           ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env["LC_ALL"] = "C"
    return env


def children(pid):
    """The pids of pid's children (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry))
    return found


def share_tmp(session):
    """Lets the postgres user reach what is under the session's directory
    (created 0700 by root): traversal only, nothing is listed."""
    os.chmod(session.tmp, 0o711)


class Postgres:
    """A running server: pid (the postmaster's), sockdir, datadir,
    process (harness.Process: its stderr is the server log), started_in
    (seconds start_postgres took)."""

    def __init__(self, session, process, sockdir, datadir):
        self.session = session
        self.process = process
        self.pid = process.popen.pid
        self.sockdir = sockdir
        self.datadir = datadir
        self.killed = False
        self.started_in = None

    def wait_ready(self, timeout=START_TIMEOUT):
        line = self.process.stderr.wait_for(lambda l: READY_LINE in l,
                                            timeout)
        assert line, ("postgres did not get ready to accept connections "
                      f"within {timeout} s:\n{self.process.describe()}")

    def connect(self, database="postgres", user=USER):
        """A new Backend: one psql session, so one backend process."""
        return Backend(self, database, user)

    def stop(self, timeout=STOP_TIMEOUT):
        """Fast shutdown (SIGINT): the postmaster ends its backends and
        exits. When it has not exited within timeout, it and its children
        are killed (SIGKILL) and self.killed is set. Returns the
        postmaster's exit status (0 after a clean shutdown). Does nothing
        more when the server has stopped already; never raises."""
        popen = self.process.popen
        if popen.poll() is None:
            try:
                popen.send_signal(signal.SIGINT)
                popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                stragglers = children(self.pid)
                for pid in [self.pid, *stragglers]:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            except ProcessLookupError:
                pass
        self.process.kill()
        return popen.returncode


def start_postgres(session, *settings):
    """initdb into a new directory under session.tmp and start postgres as
    the postgres user: Unix socket in that directory, no TCP, fsync off,
    JIT off, plus settings ("name=value", passed as -c). Returns the
    Postgres once it accepts connections; the session stops it when it
    ends."""
    started = time.monotonic()
    share_tmp(session)
    account = pwd.getpwnam(USER)
    base = Path(tempfile.mkdtemp(prefix="postgres-", dir=session.tmp))
    os.chmod(base, 0o755)
    os.chown(base, account.pw_uid, account.pw_gid)
    datadir = base / "data"
    socket = base / f".s.PGSQL.{PORT}"
    assert len(str(socket)) < 108, f"socket path too long: {socket}"
    env = environment()
    status, out, err = session.run(
        [INITDB, "-D", datadir, "-U", USER, "--auth=trust", "--no-sync",
         "--no-locale", "-E", "UTF8", "--no-instructions"],
        timeout=INITDB_TIMEOUT, env=env, user=USER)
    assert status == 0, f"initdb exited with status {status}:\n{out}\n{err}"
    argv = [POSTGRES, "-D", datadir, "-k", base, "-p", PORT,
            "-c", "listen_addresses=", "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "jit=off", "-c", "logging_collector=off",
            "-c", "log_destination=stderr"]
    for setting in settings:
        argv += ["-c", setting]
    process = session.spawn("postgres", argv, env=env, user=USER)
    server = Postgres(session, process, base, datadir)
    session.cleanups.append(server.stop)
    server.wait_ready()
    server.started_in = time.monotonic() - started
    return server


def pgbench_init(server, scale=1):
    """pgbench -i -s scale: pgbench's tables (100,000 accounts a unit of
    scale, 10 tellers, 1 branch, and an empty history) in the postgres
    database."""
    status, out, err = server.session.run(
        [PGBENCH, "-i", "-q", "-s", str(scale), "-h", server.sockdir, "-p", PORT,
         "-U", USER, "postgres"], timeout=INITDB_TIMEOUT, env=environment())
    assert status == 0, f"pgbench -i exited with status {status}:\n{out}\n{err}"


def prepare_requests(first, count, name="q"):
    """count requests of a client that prepares a new statement for each
    (named name and its number) and never deallocates it, between
    pgbench's TPC-B-like statements."""
    parts = []
    for i in range(first, first + count):
        aid, tid, delta = 1 + i * 7919 % 100000, 1 + i % 10, i % 201 - 100
        parts += [
            f"prepare {name}{i}(int) as select abalance, bid from pgbench_accounts "
            f"where aid = $1 and abalance > {-i}",
            f"execute {name}{i}({aid})",
            f"update pgbench_accounts set abalance = abalance + {delta} where aid = {aid}",
            f"update pgbench_tellers set tbalance = tbalance + {delta} where tid = {tid}",
            f"insert into pgbench_history (tid, bid, aid, delta, mtime) "
            f"values ({tid}, 1, {aid}, {delta}, current_timestamp)",
            "select count(*), sum(bbalance) from pgbench_branches where bid = 1",
        ]
    return ";\n".join(parts)


class Backend:
    """One long-lived psql (as root, connecting as the postgres role) fed
    through a pipe: one backend process, pid, that keeps running between
    queries. query() sends SQL and waits until psql has run it. An ERROR
    raises SQLError and leaves the session usable, as psql goes on after an
    error when reading from a pipe. NOTICEs and WARNINGs are appended to
    notices."""

    def __init__(self, server, database="postgres", user=USER):
        self.server = server
        self.process = server.session.spawn(
            "psql", [PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=0",
                     "-h", server.sockdir, "-p", PORT, "-U", user,
                     "-d", database],
            env=environment(), stdin=True)
        server.session.cleanups.append(self.close)
        self.notices = []
        self._queries = 0
        self._next = {"stdout": 0, "stderr": 0}
        self._broken = None
        self.pid = int(self.value("select pg_backend_pid()"))

    def query(self, sql, timeout=QUERY_TIMEOUT):
        """Runs sql (one or more statements; a final ";" is added when
        missing) and returns its output rows, one string a row, columns
        separated by "|" (psql -A -t: no header, no footer, NULL is "";
        a function returning void gives one empty row). Raises SQLError
        with the error text when the server answered ERROR."""
        assert not self._broken, self._broken
        self._queries += 1
        marker = f"@@memleakd-postgres-{os.getpid()}-{self._queries}@@"
        text = sql.rstrip()
        if not text.endswith(";"):
            text += "\n;"
        # The marker comes after the results on stdout and after the
        # messages on stderr: psql runs its input in order.
        self._send(f"{text}\n\\echo {marker}\n\\warn {marker}\n")
        deadline = time.monotonic() + timeout
        rows = self._lines("stdout", marker, deadline, sql)
        messages = self._lines("stderr", marker, deadline, sql)
        if any(ERROR_RE.match(line) for line in messages):
            raise SQLError("\n".join(messages))
        self.notices += messages
        return rows

    def value(self, sql, timeout=QUERY_TIMEOUT):
        """The one value of a query that returns one row."""
        rows = self.query(sql, timeout)
        assert len(rows) == 1, f"{sql!r} returned {len(rows)} rows: {rows}"
        return rows[0]

    def _send(self, text):
        try:
            self.process.popen.stdin.write(text.encode())
            self.process.popen.stdin.flush()
        except OSError as e:
            self._broken = f"psql is gone ({e}):\n{self.process.describe()}"
            raise AssertionError(self._broken) from None

    def _lines(self, name, marker, deadline, sql):
        """The lines of stream name up to marker, which are consumed."""
        stream = getattr(self.process, name)
        start = self._next[name]
        found = stream.wait_for(lambda line: line == marker,
                                max(0, deadline - time.monotonic()), start)
        if found is None:
            what = ("psql exited" if stream.closed else
                    "no answer in time")
            self._broken = (f"{what} for {sql[:200]!r}:\n"
                            f"{self.process.describe()}")
            raise AssertionError(self._broken)
        end = stream.lines.index(marker, start)
        self._next[name] = end + 1
        return stream.lines[start:end]

    def running(self):
        return self.process.running()

    def close(self, timeout=5):
        """Ends psql (\\q), so the backend exits; kills psql when it has not
        exited in time. Never raises."""
        popen = self.process.popen
        if popen.poll() is None:
            try:
                popen.stdin.write(b"\\q\n")
                popen.stdin.close()
                popen.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.process.kill()


def build_extension(session):
    """Builds tests/postgres's extension with PGXS in a copy under
    session.tmp (nothing is installed) and returns the absolute path of
    leaky_ext.so, which the postgres user can read."""
    share_tmp(session)
    build = session.tmp / "leaky_ext"
    shutil.copytree(EXTENSION_SOURCES, build,
                    ignore=shutil.ignore_patterns("*.o", "*.so", "*.bc"))
    os.chmod(build, 0o755)
    status, out, err = session.run(
        ["make", "-C", build, "USE_PGXS=1", f"PG_CONFIG={PG_CONFIG}"],
        timeout=BUILD_TIMEOUT, env=environment())
    assert status == 0, f"make exited with status {status}:\n{out}\n{err}"
    so_path = build / "leaky_ext.so"
    assert so_path.exists(), f"make built no {so_path}:\n{out}\n{err}"
    os.chmod(so_path, 0o755)
    return so_path.resolve()


def create_functions(backend, so_path):
    """CREATE OR REPLACE FUNCTION name(n int4, size int4) RETURNS void, LANGUAGE
    C STRICT, for each of EXTENSION_FUNCTIONS from so_path. The functions
    are in the database, for every backend; creating them loads so_path
    into this backend."""
    path = str(so_path).replace("'", "''")
    backend.query("\n".join(
        f"create or replace function {name}(n int4, size int4) returns void"
        f" as '{path}', '{name}' language c strict;"
        for name in EXTENSION_FUNCTIONS))
