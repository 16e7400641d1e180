"""test_postgres.py - memleakd --preset postgres on a real PostgreSQL 15
backend from Debian's packages (tests/integration/postgres.py): the preset
resolves in the server's binary, context resets and deletes keep what
ordinary queries allocate from piling up, the leak of the tests' C
extension (tests/postgres/leaky_ext.c) is found exactly, even after errors
have longjmp'ed out of the queries that allocated, and a client's leak of
prepared statements is blamed on PrepareQuery, with no allocation dropped.
The backend must answer correctly while traced and after memleakd
detaches.

Each test prints the numbers it measured (shown by run.py when it fails)."""

import hashlib
import re
import subprocess
import time
from datetime import datetime, timezone

from harness import ROOT, Session, describe_stacks, find_stack, function_names
from postgres import (POSTGRES, SQLError, build_extension, create_functions,
                      pgbench_init, prepare_requests, start_postgres)

# A PostgreSQL server under pgbench: nothing else shares the CPUs.
ALONE = True

# The leaks the extension is asked for: distinctive counts and sizes.
LEAK_N, LEAK_SIZE = 37, 1000
LEAK2_N, LEAK2_SIZE = 23, 4321
# Functions of the extension whose allocations never outlive their query.
RELEASED = ("leaky_scratch_chunk", "leaky_error_chunk", "leaky_pfree_chunk")
# Every function of presets/postgres.preset exists in PostgreSQL 15.
PRESET = ROOT / "presets" / "postgres.preset"
# Stacks per report: more than a backend's outstanding stacks, so that a
# stack missing from the report is missing from the totals too.
TOP = 300

# The workload of the rounds: a table that starts with ROWS rows, and
# ROUND_QUERIES ordinary statements a round (see workload()).
ROWS = 500
ROUND_QUERIES = 600
ROUNDS = 3
# What PostgreSQL may legitimately add to its long-lived contexts between
# round 1 and round 3 once its caches are warm (pending statistics entries,
# smgr entries of forks the growing table gains): a few allocations. The
# rounds measured add none: 3 allocations, 1280 bytes outstanding after
# every round (the input buffer of the next query, a pending statistics
# entry, a copy of a result value), when reports are exact.
SLACK_ALLOCS = 16
SLACK_BYTES = 16 * 1024
# Reports come every REPORT_INTERVAL seconds, while the backend works too.
REPORT_INTERVAL = "1"
# The preset's specs of contexts' lives, without which chunks are never
# released.
CONTEXT_FLAGS = ("--reset", "--delete", "--create", "--reparent")


def log(*args):
    print(*args, flush=True)


def preset_specs(drop=()):
    """The preset's command-line words, without the specs whose flag is in
    drop (e.g. ("--reset",))."""
    words = []
    for line in PRESET.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        flag, spec = line.split(None, 1)
        if flag not in drop:
            words += [flag, spec]
    return words


def preset_functions():
    """(flag, function) for every spec of the preset."""
    words = preset_specs()
    return [(flag, spec.split(":")[0].split("@")[0])
            for flag, spec in zip(words[::2], words[1::2])]


def check_backend(backend, rows=None, updates=None):
    """The backend answers, correctly, and is still the same process."""
    assert backend.value("select pg_backend_pid()") == str(backend.pid)
    assert backend.value("select sum(g) from generate_series(1, 1000) g") == "500500"
    assert backend.value("select md5('memleakd')") == \
        hashlib.md5(b"memleakd").hexdigest()
    assert backend.query("select g, repeat('x', g) from generate_series(1, 3) g "
                         "order by g desc") == ["3|xxx", "2|xx", "1|x"]
    if rows is not None:
        got = backend.value("select count(*), sum(n) from items")
        assert got == f"{rows}|{updates}", \
            f"items: count, sum(n) = {got}, expected {rows}|{updates}"


def check_server_alive(server):
    """No backend crashed: the postmaster would have logged it."""
    log_text = server.process.stderr.text()
    assert "terminated by signal" not in log_text and \
        "was terminated" not in log_text, log_text[-3000:]


def create_items(backend):
    backend.query("create table items (k int primary key, v text, "
                  "n int not null default 0);\n"
                  f"insert into items (k, v) select g, md5(g::text) "
                  f"from generate_series(1, {ROWS}) g")


def workload(round_no, count=ROUND_QUERIES):
    """count ordinary statements, each its own query (psql sends them one by
    one): selects over generate_series, inserts, updates and index scans of
    items, string functions, aggregates and sorts. Returns (sql, rows
    inserted, rows updated)."""
    statements = []
    inserted = updated = 0
    for i in range(count):
        k = 100000 + round_no * count + i
        kind = i % 8
        if kind == 0:
            statements.append(f"select sum(g), count(*) from generate_series(1, {20 + i % 30}) g")
        elif kind == 1:
            statements.append(f"insert into items (k, v) values ({k}, repeat(md5('{k}'), 3))")
            inserted += 1
        elif kind == 2:
            statements.append(f"update items set v = upper(v), n = n + 1 where k = {1 + i % ROWS}")
            updated += 1
        elif kind == 3:
            statements.append(f"select k, length(v), lower(v) from items "
                              f"where k between {i % ROWS} and {i % ROWS + 20} order by v desc")
        elif kind == 4:
            statements.append(f"select string_agg(md5(g::text), ',' order by md5(g::text)) "
                              f"from generate_series(1, {10 + i % 20}) g")
        elif kind == 5:
            statements.append(f"select format('%s-%s', {k}, 'abc'), lpad('{k}', 12, '0'), "
                              f"regexp_replace('a{k}b', '[0-9]+', 'N'), "
                              f"split_part('x,y,{k}', ',', 3)")
        elif kind == 6:
            statements.append("select g, md5(g::text) from generate_series(1, 50) g "
                              "order by 2 desc limit 3")
        else:
            statements.append(f"select v from items where k = {1 + (i * 7) % ROWS}")
    return ";\n".join(statements), inserted, updated


def report_time(report):
    return datetime.strptime(report["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


def report_after(daemon, since, timeout=10):
    """The first periodic report taken at or after the wall-clock time
    since (its time is when its snapshot began, rounded down)."""
    deadline = time.monotonic() + timeout
    start = 0
    while True:
        reports = daemon.reports()
        for report in reports[start:]:
            if report_time(report) >= since:
                assert report["final"] is False, report
                return report
        start = len(reports)
        left = deadline - time.monotonic()
        assert left > 0, f"no report after {since}:\n{daemon.describe()}"
        daemon.stdout.wait_for(lambda line: True, left, start=len(daemon.stdout.lines))


def run_rounds(backend, daemon, first_round, rounds):
    """Runs the rounds; after each, the report taken once it is over. Returns
    [(totals, seconds the round took)], and the rows inserted and updated."""
    results = []
    inserted = updated = 0
    for round_no in range(first_round, first_round + rounds):
        sql, ins, upd = workload(round_no)
        started = time.monotonic()
        backend.query(sql, timeout=40)
        took = time.monotonic() - started
        inserted += ins
        updated += upd
        report = report_after(daemon, time.time())
        results.append((report["totals"], took))
    return results, inserted, updated


def leak_stacks(report, so_path):
    """The stacks with a frame in the extension."""
    return [s for s in report["stacks"]
            if any(f["module"] == str(so_path) for f in s["frames"])]


def expect_leak(report, so_path, n, size):
    """The only outstanding memory the extension holds is leaky_remember's:
    one stack leaky_keep <- leaky_store <- leaky_remember in so_path, with
    exactly n allocations of size bytes since attach; nothing from the
    functions whose chunks the end of their query released."""
    totals = report["totals"]
    assert totals["stacks"] <= TOP, f"{totals['stacks']} stacks: raise TOP"
    stack = find_stack(report, "leaky_keep")
    assert stack, "no stack starts with leaky_keep:\n" + describe_stacks(report)
    names = function_names(stack)
    assert names[:3] == ["leaky_keep", "leaky_store", "leaky_remember"], names
    modules = [f["module"] for f in stack["frames"][:3]]
    assert modules == [str(so_path)] * 3, modules
    got = (stack["allocs"], stack["bytes"], stack["total_allocs"], stack["total_bytes"])
    assert got == (n, n * size, n, n * size), \
        (f"leaky_keep: {got[0]} allocs, {got[1]} bytes ({got[2]}, {got[3]} since attach);"
         f" expected {n} allocs of {size} bytes")
    for function in RELEASED:
        assert not find_stack(report, function), \
            f"{function} is outstanding:\n" + describe_stacks(report)
    assert leak_stacks(report, so_path) == [stack], \
        "other stacks hold the extension's memory:\n" + describe_stacks(report)
    expect_no_drops(totals)


def expect_no_drops(totals):
    got = {k: totals[k] for k in ("dropped_allocs", "dropped_resets", "stack_errors")}
    assert got == dict(dropped_allocs=0, dropped_resets=0, stack_errors=0), totals


def warm_extension(backend):
    """Calls each function once with n = 0 before attaching, so that the
    backend's first-call lookups (fmgr's cache of C functions) are done: they
    allocate nothing of the extension's own."""
    backend.query("select leaky_remember(0, 0); select leaky_scratch(0, 0);"
                  " select leaky_pfree(0, 0)")
    try:
        backend.query("select leaky_error(0, 0)")
    except SQLError:
        pass


def traced_extension(session):
    """A server, a backend with the extension's functions warmed up and the
    items table, and memleakd --preset postgres attached to the backend.
    Returns (server, backend, path of the extension, memleakd)."""
    server = start_postgres(session)
    backend = server.connect()
    so_path = build_extension(session)
    create_functions(backend, so_path)
    warm_extension(backend)
    create_items(backend)
    daemon = session.memleakd(backend.pid, "--preset", "postgres", "-n", str(TOP))
    return server, backend, so_path, daemon


def symbol_address(pid, binary, symbol):
    """Where symbol of binary (from its .dynsym) is in process pid: the
    start of the binary's mapping at file offset 0 plus the symbol's
    value (a PIE)."""
    out = subprocess.run(["nm", "-D", "--defined-only", binary], check=True,
                         capture_output=True, text=True).stdout
    values = [int(line.split()[0], 16) for line in out.splitlines()
              if line.split()[-1] == symbol]
    assert len(values) == 1, f"{symbol} in {binary}: {values}"
    with open(f"/proc/{pid}/maps") as maps:
        bases = [int(line.split("-")[0], 16) for line in maps
                 if line.split()[-1] == binary and int(line.split()[2], 16) == 0]
    assert len(bases) == 1, f"{binary} in /proc/{pid}/maps: {bases}"
    return bases[0] + values[0]


def test_postgres_preset_resolves():
    """--preset postgres -v on a backend: every function of the preset is
    found in Debian's postgres binary and probed (pfree through its
    methods), the malloc family of libc too, and the context global
    CurrentMemoryContext is found at its run-time address. The backend
    keeps answering while traced and after."""
    with Session() as s:
        server = start_postgres(s)
        backend = server.connect()
        pid = backend.pid
        binary = str(POSTGRES.resolve())
        daemon = s.memleakd(pid, "--preset", "postgres", "-v")
        check_backend(backend)
        report = daemon.stop()
        check_backend(backend)
        check_server_alive(server)
        global_at = symbol_address(pid, binary, "CurrentMemoryContext")

    lines = daemon.stderr.lines
    log("\n".join(lines))
    assert f"memleakd: pid {pid} takes malloc from /usr/lib/x86_64-linux-gnu/libc.so.6; " \
        "tracing 9 functions:" in lines, lines
    functions = preset_functions()
    for flag, function in (("--alloc", "palloc"), ("--alloc", "palloc0"),
                           ("--alloc", "MemoryContextAlloc"), ("--realloc", "repalloc"),
                           ("--free", "pfree"), ("--reset", "MemoryContextReset"),
                           ("--reset", "MemoryContextResetOnly"),
                           ("--delete", "MemoryContextDelete"),
                           ("--create", "AllocSetContextCreateInternal"),
                           ("--create", "SlabContextCreate"),
                           ("--create", "GenerationContextCreate"),
                           ("--reparent", "MemoryContextSetParent")):
        assert (flag, function) in functions, (flag, function)
    # pfree is probed through the free functions of its three methods
    # tables (test_placement.py).
    methods = [l for l in lines if re.fullmatch(
        rf"memleakd:   --free pfree's method at 0x[0-9a-f]+ in {re.escape(binary)}", l)]
    assert len(methods) == 3, "\n".join(lines)
    assert f"memleakd: pid {pid}: tracing {len(functions) + 2} custom allocator functions:" \
        in lines, "\n".join(lines)
    for flag, function in functions:
        if function == "pfree":
            continue
        assert f"memleakd:   {flag} {function} in {binary}" in lines, \
            f"{flag} {function} not probed in {binary}:\n" + "\n".join(lines)
    assert not [l for l in lines if "skipped" in l], "\n".join(lines)
    found = [m for m in (re.match(r"memleakd: debug:   context global "
                                  r"CurrentMemoryContext at (0x[0-9a-f]+)$", l)
                         for l in lines) if m]
    assert len(found) == 1, "\n".join(lines)
    assert int(found[0].group(1), 16) == global_at, \
        f"CurrentMemoryContext is at {global_at:#x}: {found[0].group(0)}"
    attached = f"memleakd: attached to pid {pid} ({9 + len(functions) + 2} probes);"
    assert [l for l in lines if l.startswith(attached)], "\n".join(lines)
    totals = report["totals"]
    assert totals["allocs"] > 0 and totals["resets"] > 0 and totals["reset_frees"] > 0, totals
    expect_no_drops(totals)


def test_postgres_resets_keep_outstanding_bounded():
    """A few thousand ordinary queries in rounds, reported every second
    while they run. Each query's contexts are reset or deleted when it ends,
    which releases what it palloc'd without a pfree: resets and the
    allocations they released count in the thousands each round, and what
    stays outstanding is a few long-lived allocations that do not grow from
    round 1 to round 3. The contrast, on the same backend and workload: the
    specs without those of contexts (--reset, --delete, --create,
    --reparent) leave hundreds of times as much outstanding, and count what
    the resets released as replaced allocations instead."""
    with Session() as s:
        server = start_postgres(s)
        backend = server.connect()
        create_items(backend)
        rows, updates = ROWS, 0
        # Warm the caches (catalog, relation, plans' lookups) untraced.
        sql, ins, upd = workload(-1)
        backend.query(sql, timeout=40)
        rows, updates = rows + ins, updates + upd
        check_backend(backend, rows, updates)

        daemon = s.memleakd(backend.pid, "--preset", "postgres",
                            "-i", REPORT_INTERVAL, "-n", "20")
        results, ins, upd = run_rounds(backend, daemon, 0, ROUNDS)
        rows, updates = rows + ins, updates + upd
        check_backend(backend, rows, updates)
        final = daemon.stop()
        check_backend(backend, rows, updates)

        # The contrast, same backend, same workload.
        daemon = s.memleakd(backend.pid, *preset_specs(drop=CONTEXT_FLAGS),
                            "-i", REPORT_INTERVAL, "-n", "20")
        contrast, ins, upd = run_rounds(backend, daemon, ROUNDS, 2)
        rows, updates = rows + ins, updates + upd
        check_backend(backend, rows, updates)
        contrast_final = daemon.stop()
        check_backend(backend, rows, updates)
        check_server_alive(server)

    keys = ("outstanding_allocs", "outstanding_bytes", "allocs", "frees",
            "resets", "reset_frees", "replaced_allocs", "nested_calls",
            "unknown_frees", "stacks")
    for name, runs in (("preset", results), ("no resets", contrast)):
        for i, (totals, took) in enumerate(runs):
            log(f"{name} round {i + 1} ({took:.1f} s):",
                {k: totals[k] for k in keys})
    log("preset final:", {k: final["totals"][k] for k in keys})
    log("no resets final:", {k: contrast_final["totals"][k] for k in keys})
    log("preset final stacks:\n" + describe_stacks(final))

    previous = dict(allocs=0, resets=0, reset_frees=0)
    for i, (totals, _) in enumerate(results):
        expect_no_drops(totals)
        # Thousands of resets and of allocations they released, every round.
        for key in ("resets", "reset_frees"):
            assert totals[key] - previous[key] >= 5 * ROUND_QUERIES, \
                f"round {i + 1}: {key} {totals[key]} (was {previous[key]})"
        # What the rounds leave is a sliver of what they allocate.
        assert totals["outstanding_allocs"] * 1000 < totals["allocs"], totals
        previous = totals
    first, last = results[0][0], results[-1][0]
    grew = (last["outstanding_allocs"] - first["outstanding_allocs"],
            last["outstanding_bytes"] - first["outstanding_bytes"])
    assert grew[0] <= SLACK_ALLOCS and grew[1] <= SLACK_BYTES, \
        (f"outstanding grew by {grew[0]} allocations, {grew[1]} bytes from round 1 "
         f"to round {ROUNDS}: {first} -> {last}\nstacks of the final report:\n"
         + describe_stacks(final))
    # The final report (probes paused) agrees with the last round's.
    assert final["totals"]["outstanding_allocs"] <= last["outstanding_allocs"] + SLACK_ALLOCS
    expect_no_drops(final["totals"])

    # Without the resets, what they released each round is left outstanding
    # or, where PostgreSQL handed the same address out again, retired as a
    # replaced allocation (a free memleakd did not see): as many as the
    # resets released in the same rounds above, give or take what differs
    # between runs of the workload.
    for i, (totals, _) in enumerate(contrast):
        expect_no_drops(totals)
        assert totals["resets"] == 0 and totals["reset_frees"] == 0, totals
        held = totals["outstanding_allocs"] + totals["replaced_allocs"]
        released = results[i][0]["reset_frees"] + results[i][0]["outstanding_allocs"]
        assert abs(held - released) <= released // 100, \
            (f"no resets, round {i + 1}: {held} outstanding or replaced; with resets:"
             f" {released} released or outstanding")
        assert totals["outstanding_allocs"] >= 50 * max(last["outstanding_allocs"], 10), \
            (totals, last)


def test_postgres_extension_leak_exact():
    """The extension's leak among a backend's ordinary work: leaky_remember
    keeps LEAK_N chunks of LEAK_SIZE bytes in TopMemoryContext (through
    MemoryContextAlloc). The final report has exactly that stack, with
    exactly those numbers; leaky_scratch's chunks (palloc'd, released by the
    end of their query) and leaky_pfree's (pfree'd) are not outstanding."""
    with Session() as s:
        server, backend, so_path, daemon = traced_extension(s)
        assert backend.query("select leaky_scratch(50, 700)") == [""]
        sql, _, updates = workload(0, 80)
        backend.query(sql)
        assert backend.query(f"select leaky_remember({LEAK_N}, {LEAK_SIZE})") == [""]
        assert backend.query("select leaky_pfree(40, 300); select leaky_scratch(30, 2000)") \
            == ["", ""]
        # leaky_scratch per row of a scan: its chunks live in the per-tuple
        # context, reset for every row.
        assert backend.value("select count(leaky_scratch(3, 100)) from items "
                             "where k <= 100") == "100"
        check_backend(backend, ROWS + 10, updates)
        report = daemon.stop()
        check_backend(backend, ROWS + 10, updates)
        check_server_alive(server)

    totals = report["totals"]
    log("totals:", totals)
    log("stacks:\n" + describe_stacks(report))
    expect_leak(report, so_path, LEAK_N, LEAK_SIZE)
    # The chunks of leaky_scratch (50 + 30 + 300) and leaky_pfree (40) were
    # tracked and released: by resets, and by pfree.
    assert totals["reset_frees"] >= 50 + 30 + 300, totals
    assert totals["frees"] >= 40, totals
    assert totals["resets"] >= 100, totals


# leaky_pfree's chunks: each pfree'd at once, so AllocSet hands the same
# chunk out again; unless its pfree is seen, every palloc after the first
# replaces a record instead of following a free.
PFREED = 20000


def pfree_run(own_context):
    """leaky_pfree(PFREED, 64) in a backend traced with --preset postgres
    -v, own_context.so loaded into it first or not. Returns memleakd's
    stderr lines and its final report."""
    with Session() as s:
        server = start_postgres(s)
        backend = server.connect()
        so_path = build_extension(s)
        create_functions(backend, so_path)
        if own_context:
            backend.query(f"load '{so_path.parent / 'own_context.so'}'")
        daemon = s.memleakd(backend.pid, "--preset", "postgres", "-v")
        assert backend.query(f"select leaky_pfree({PFREED}, 64)") == [""]
        report = daemon.stop()
        check_server_alive(server)
    totals = report["totals"]
    log("totals:", totals, "cost:", report["cost"])
    assert totals["frees"] >= PFREED and totals["unknown_frees"] < 100 and \
        totals["replaced_allocs"] < 100, totals
    assert find_stack(report, "leaky_pfree_chunk") is None, describe_stacks(report)
    expect_no_drops(totals)
    return daemon.stderr.lines, report


def test_postgres_pfree_through_its_methods():
    """pfree jumps through its context's methods before any emulated
    instruction: the free functions of its methods tables are probed in
    its place (test_placement.py), and every one of leaky_pfree's pfrees is
    a free. No probe of the backend is single-stepped."""
    lines, report = pfree_run(own_context=False)
    assert "memleakd: debug:   pfree jumps through methods tables: its 3 free functions, " \
        "from the tables of 4 calls, are probed in its place" in lines, "\n".join(lines)
    assert report["cost"]["single_stepped_hits"] == 0, report["cost"]


def test_postgres_pfree_probed_itself_beside_another_context_type():
    """own_context.so calls MemoryContextCreate: it may pass a methods
    table of its own, whose free function the search of postgres's calls
    would not find. pfree is then probed itself, single-stepped, -v says
    why, and its frees are exact all the same."""
    lines, report = pfree_run(own_context=True)
    binary = str(POSTGRES.resolve())
    assert "memleakd: debug:   pfree jumps through methods tables not found: another " \
        "object calls the function that passes the tables; probed itself" in lines, \
        "\n".join(lines)
    assert f"memleakd:   --free pfree in {binary}" in lines, "\n".join(lines)
    assert report["cost"]["single_stepped_hits"] >= PFREED, report["cost"]


def test_postgres_error_does_not_wedge_tracking():
    """leaky_error pallocs, then raises ERROR: elog longjmps out of the
    function and the executor, and error recovery releases the aborted
    query's contexts. Several such errors (one inside a transaction block),
    and errors raised inside palloc itself (leaky_oversize: the traced call
    never returns), then leaky_remember in the same backend, right away: its
    leak is still found exactly, nothing of leaky_error_chunk is
    outstanding, and the backend answers correctly."""
    with Session() as s:
        server, backend, so_path, daemon = traced_extension(s)
        errors = []
        for i in range(5):
            try:
                backend.query(f"select leaky_error({20 + i}, {500 + i})")
            except SQLError as e:
                errors.append(str(e))
        # An ERROR raised inside palloc itself: the call never returns.
        for i in range(3):
            try:
                backend.query(f"select leaky_oversize({10 + i}, 300)")
                raise AssertionError("leaky_oversize did not raise")
            except SQLError as e:
                assert "invalid memory alloc request size" in str(e), e
        try:
            backend.query("begin; select leaky_scratch(10, 100);"
                          " select leaky_error(30, 2000)")
        except SQLError as e:
            errors.append(str(e))
        assert len(errors) == 6 and all("leaky_error: raised on purpose" in e
                                        for e in errors), errors
        # The aborted transaction block refuses work until its rollback.
        try:
            backend.query("select 1")
            raise AssertionError("an aborted transaction block ran a query")
        except SQLError as e:
            assert "current transaction is aborted" in str(e), e
        backend.query("rollback")
        check_backend(backend, ROWS, 0)
        assert backend.query(f"select leaky_remember({LEAK2_N}, {LEAK2_SIZE})") == [""]
        # An error after the leak does not take it back.
        try:
            backend.query("select leaky_error(5, 64)")
        except SQLError:
            pass
        check_backend(backend, ROWS, 0)
        report = daemon.stop()
        check_backend(backend, ROWS, 0)
        check_server_alive(server)

    totals = report["totals"]
    log("totals:", totals)
    log("stacks:\n" + describe_stacks(report))
    expect_leak(report, so_path, LEAK2_N, LEAK2_SIZE)
    # leaky_error_chunk's 20 + ... + 24 + 30 + 5 chunks and leaky_oversize's
    # 10 + 11 + 12 were tracked, and released by the aborts' resets and
    # deletes.
    chunks = 20 + 21 + 22 + 23 + 24 + 30 + 5 + 10 + 11 + 12
    assert totals["reset_frees"] >= chunks + 10, totals
    assert totals["allocs"] >= chunks + 10 + LEAK2_N, totals


# The prepared statements' leak: requests for about PREPARE_SECONDS, at
# most PREPARE_MAX of them, PREPARE_BATCH to a psql input; a map of
# PREPARE_CAPACITY records, more than the leak keeps live (about 80 a
# statement) and less than what the resets release meanwhile.
PREPARE_SECONDS = 20
PREPARE_MAX = 1500
PREPARE_BATCH = 20
PREPARE_CAPACITY = 200000
PLAN_CONTEXTS = "('CachedPlanSource', 'CachedPlanQuery')"


def plan_context_bytes(backend):
    """PostgreSQL's own count and total_bytes of the backend's
    CachedPlanSource and CachedPlanQuery contexts."""
    count, total = backend.value(
        "select count(*), coalesce(sum(total_bytes), 0) from pg_backend_memory_contexts "
        f"where name in {PLAN_CONTEXTS}").split("|")
    return int(count), int(total)


def through_prepare(stack):
    return "PrepareQuery" in function_names(stack)


def test_postgres_prepared_statement_leak():
    """A client that PREPAREs a new statement per request and never
    DEALLOCATEs them, on pgbench's tables, between ordinary statements, for
    about 20 s, traced with --preset postgres and a map of 200,000 records.
    Each statement keeps a CachedPlanSource and a CachedPlanQuery context
    that CacheMemoryContext adopts, made in headers that AllocSet takes
    from the contexts EXECUTE and its portal deleted: the contexts are
    allocations of the stacks that create them, through PrepareQuery. So
    the stack holding the most bytes goes through PrepareQuery, each
    statement's two contexts are exactly one allocation of 1 KiB each under
    CreateCachedPlan and CompleteCachedPlan, no context header is blamed on
    AllocSetContextCreateInternal's malloc, PrepareQuery's stacks hold most
    of the bytes allocated and kept since attach, and of the growth
    PostgreSQL itself reports for those contexts; the resets release more
    allocations than the map holds and none is dropped. Reported every 3 s,
    the leak is judged: the verdict is leak_suspected, the first suspect
    goes through PrepareQuery, and PrepareQuery's stacks hold most of the
    suspects' bytes."""
    with Session() as s:
        server = start_postgres(s)
        pgbench_init(server)
        backend = server.connect()
        # Catalog and plan caches warm, untraced.
        backend.query(prepare_requests(0, PREPARE_BATCH, "warm") + ";\ndeallocate all")
        before = plan_context_bytes(backend)
        daemon = s.memleakd(backend.pid, "--preset", "postgres", "-i", "3", "-n", "2000",
                            "--max-allocs", PREPARE_CAPACITY, "-v")
        started = time.monotonic()
        requests = 0
        # At a steady pace over PREPARE_SECONDS, however fast the machine:
        # the trend rule needs the reports to see the leak grow.
        pace = PREPARE_SECONDS * PREPARE_BATCH / PREPARE_MAX
        while requests < PREPARE_MAX and time.monotonic() - started < PREPARE_SECONDS:
            wait = started + pace * requests / PREPARE_BATCH - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            backend.query(prepare_requests(requests, PREPARE_BATCH))
            requests += PREPARE_BATCH
        after = plan_context_bytes(backend)
        check_backend(backend)
        report = daemon.stop()
        check_backend(backend)
        check_server_alive(server)

    totals = report["totals"]
    stacks = sorted(report["stacks"], key=lambda st: -st["bytes"])
    prepared = sum(st["bytes"] for st in stacks if through_prepare(st))
    grown = after[1] - before[1]
    log(f"{requests} statements prepared; PostgreSQL: {before} -> {after} "
        f"(contexts, bytes); PrepareQuery stacks: {prepared} bytes of "
        f"{totals['outstanding_bytes']} outstanding")
    log("totals:", totals)
    log("first stacks:\n" + describe_stacks(dict(stacks=stacks[:10])))
    log("\n".join(line for line in daemon.stderr.lines if "swept" in line))
    assert totals["stacks"] == len(stacks), totals
    assert after[0] - before[0] == 2 * requests, (before, after)
    expect_no_drops(totals)
    assert totals["reset_frees"] > PREPARE_CAPACITY, totals
    assert through_prepare(stacks[0]), describe_stacks(dict(stacks=stacks[:5]))
    # Each statement's two contexts, 1 KiB first blocks, are allocations of
    # the functions that create them, wherever AllocSet took their headers.
    for creator in ("CreateCachedPlan", "CompleteCachedPlan"):
        assert [st for st in stacks if function_names(st)[:2] == [creator, "PrepareQuery"]
                and (st["allocs"], st["bytes"]) == (requests, 1024 * requests)], \
            f"no {creator} stack of {requests} contexts:\n" + describe_stacks(dict(stacks=stacks[:5]))
    assert not [st for st in stacks if function_names(st)[0] == "AllocSetContextCreateInternal"], \
        describe_stacks(dict(stacks=stacks))
    assert prepared * 4 >= totals["outstanding_bytes"] * 3, \
        (prepared, totals["outstanding_bytes"])
    assert prepared * 2 >= grown, (prepared, grown)
    # Reports every 3 s over about 20 s: the leak is judged, and the verdict
    # names it.
    suspects = [st for st in report["stacks"] if st["class"] == "suspect"]
    assert report["process"]["verdict"] == "leak_suspected" and suspects, report["process"]
    assert through_prepare(suspects[0]), describe_stacks(dict(stacks=suspects[:5]))
    assert sum(st["bytes"] for st in suspects if through_prepare(st)) * 2 > \
        sum(st["bytes"] for st in suspects), describe_stacks(dict(stacks=suspects))
