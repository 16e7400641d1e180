"""test_peers.py - memleakd on real servers from Debian's packages, as its
users run it."""

import subprocess
import time

from harness import Session

REDIS_KEYS = 2000
REDIS_VALUE = 1000


def start_redis(s):
    """redis-server on a Unix socket in the session's directory, no TCP, no
    persistence. Returns (process, socket path)."""
    socket = s.tmp / "redis.sock"
    server = s.spawn("redis-server", ["redis-server", "--port", "0", "--unixsocket",
                                      socket, "--save", "", "--appendonly", "no",
                                      "--dir", s.tmp])
    deadline = time.monotonic() + 10
    while not socket.exists():
        assert time.monotonic() < deadline and server.running(), \
            f"redis-server did not start:\n{server.describe()}"
        time.sleep(0.05)
    return server, socket


def test_redis_uses_jemalloc():
    """Debian's redis-server takes malloc from libjemalloc.so.2: memleakd
    must trace jemalloc (libc would see nothing), and the values SET while
    attached must show up as outstanding memory allocated by redis-server."""
    with Session() as s:
        server, socket = start_redis(s)
        daemon = s.memleakd(server.popen.pid, "-n", "50")
        commands = "".join(f"SET key:{i} {'v' * REDIS_VALUE}\n" for i in range(REDIS_KEYS))
        cli = subprocess.run(["redis-cli", "-s", str(socket)], input=commands.encode(),
                             capture_output=True, timeout=60)
        assert cli.returncode == 0, cli.stderr
        report = daemon.stop()
        assert "takes malloc from /usr/lib/x86_64-linux-gnu/libjemalloc.so.2" \
            in daemon.stderr.text(), daemon.stderr.text()
        totals = report["totals"]
        assert totals["allocs"] >= REDIS_KEYS, totals
        assert totals["outstanding_bytes"] >= REDIS_KEYS * REDIS_VALUE, totals
        assert totals["dropped_allocs"] == 0 and totals["stack_errors"] == 0, totals
        # Debian's redis-server is a link to redis-check-rdb: frames name
        # it as it was run, which the maps do not.
        from_redis = [st for st in report["stacks"]
                      if st["frames"] and st["frames"][0]["module"] == "/usr/bin/redis-server"]
        assert sum(st["bytes"] for st in from_redis) >= REDIS_KEYS * REDIS_VALUE, report
        assert all(st["frames"][0]["function"] for st in from_redis), from_redis
