#!/usr/bin/env python3
"""run.py - runs memleakd's integration tests (Python 3 standard library).

Every function named test_* in a test_*.py file of tests/integration or of
its folders (one per stage of src/, as the unit tests have) is a test. Each
runs in a child process of its own session, so that a test that hangs past
its time limit is killed together with every process it started. One line
per test: "PASS integration.MODULE.FUNCTION (N.N s)" or "FAIL ..." followed
by the test's output (the traceback, indented). The exit status is 1 when
any test failed.

Tests run JOBS at a time (--jobs, 1 by default), in their order; those of
a module that sets ALONE = True run with no other test beside them: tests
that judge verdicts or costs under load, drive Chromium or PostgreSQL, or
trace every process of an executable. Lines come as tests end.

Usage: run.py [--jobs JOBS] [--label LABEL] [SUBSTRING...]
                               run only the tests whose name contains one of
                               the substrings (all of them by default); with
                               a label, the lines say "integration.LABEL..."
                               (a second run of tests, against another build)
       run.py --child MODULE FUNCTION   (internal: runs one test)

It needs root (memleakd loads BPF programs); it never skips a test.
"""

import importlib
import importlib.util
import inspect
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEST_TIMEOUT = 60


def load(module_name):
    """The test module "FOLDER.test_x" (or "test_x"), loaded from its file:
    by path, so that a folder never resolves to an installed package of the
    same name. Its helpers (harness, expected, postgres) are HERE's."""
    sys.path.insert(0, str(HERE))
    path = HERE.joinpath(*module_name.split(".")).with_suffix(".py")
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def discover():
    """(module, function, alone) of every test, in file then source order;
    alone: its module sets ALONE."""
    tests = []
    paths = sorted(HERE.glob("test_*.py")) + sorted(HERE.glob("*/test_*.py"))
    for path in paths:
        module_name = ".".join(path.relative_to(HERE).with_suffix("").parts)
        module = load(module_name)
        functions = [f for name, f in inspect.getmembers(module,
                                                         inspect.isfunction)
                     if name.startswith("test_")
                     and f.__module__ == module.__name__]
        functions.sort(key=lambda f: f.__code__.co_firstlineno)
        alone = getattr(module, "ALONE", False)
        tests += [(module_name, f.__name__, alone) for f in functions]
    return tests


def run_child(module_name, function_name):
    try:
        getattr(load(module_name), function_name)()
    except BaseException:
        traceback.print_exc()
        sys.stdout.flush()
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)


def run_one(module_name, function_name):
    """Runs one test in a child; returns (passed, output)."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", module_name, function_name],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = child.communicate(timeout=TEST_TIMEOUT)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
    # The test's processes share the child's process group: none survives.
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if timed_out:
        output, _ = child.communicate()
        output += f"\ntimed out after {TEST_TIMEOUT} s\n".encode()
    return child.returncode == 0 and not timed_out, output.decode(
        errors="replace")


class Results:
    """Prints each test's line as it ends, and counts the failures."""

    def __init__(self, suite):
        self.suite = suite
        self.failed = 0
        self.lock = threading.Lock()

    def run(self, module_name, function_name):
        name = f"{self.suite}.{module_name}.{function_name}"
        start = time.monotonic()
        passed, output = run_one(module_name, function_name)
        elapsed = time.monotonic() - start
        with self.lock:
            if passed:
                print(f"PASS {name} ({elapsed:.1f} s)", flush=True)
                return
            self.failed += 1
            print(f"FAIL {name} ({elapsed:.1f} s)")
            for line in output.strip().splitlines():
                print(f"    {line}")
            sys.stdout.flush()


def run_all(tests, results, jobs):
    """Runs tests, jobs at a time, those alone by themselves."""
    running, started = set(), []
    with ThreadPoolExecutor(jobs) as pool:
        for module_name, function_name, alone in tests:
            if alone:
                wait(running)
                running.clear()
                results.run(module_name, function_name)
                continue
            if len(running) >= jobs:
                running = wait(running, return_when=FIRST_COMPLETED).not_done
            started.append(pool.submit(results.run, module_name, function_name))
            running.add(started[-1])
    for future in started:
        future.result()


def main(argv):
    if argv[:1] == ["--child"]:
        run_child(*argv[1:3])
    suite, jobs = "integration", 1
    if argv[:1] == ["--jobs"]:
        jobs = int(argv[1])
        argv = argv[2:]
    if argv[:1] == ["--label"]:
        suite += "." + argv[1]
        argv = argv[2:]
    selected = [t for t in discover()
                if not argv or any(s in ".".join(t[:2]) for s in argv)]
    if not selected:
        print(f"FAIL {suite} (no test selected)")
        return 1
    results = Results(suite)
    run_all(selected, results, jobs)
    print(f"{suite}: {len(selected) - results.failed} passed, {results.failed} failed")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
