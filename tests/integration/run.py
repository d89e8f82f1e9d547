#!/usr/bin/env python3
"""Run tests/integration/test_*.py modules with unittest and print
"integration: N passed, N failed" as the closing line.

Usage: run.py [-k substring] [module ...]

One named module runs here.  Several, or with none named every module,
run each in its own child process, OUTPOST_JOBS of them at once (default 3;
each test starts its own daemons on ports harness.free_port reserves, and
names its logs after its process), the slow ones first; a module is killed
after OUTPOST_MODULE_TIMEOUT seconds (default 1800, 3600 with OUTPOST_LONG)
and counts as failed.  Each module's full output is kept in
$OUTPOST_TEST_OUT/integration-MODULE.txt and the per-module and per-test
times in $OUTPOST_TEST_OUT/integration-times.txt.
"""
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# Known slow modules start first so that the last ones to finish are short
# (seconds measured on the 2-core CI machine, serial run); others follow in
# name order.
SLOW_FIRST = ["test_accounts", "test_trust", "test_sync_node", "test_converge",
              "test_faults", "test_node_login", "test_setup", "test_restore",
              "test_node_auth", "test_snapshot", "test_greeter", "test_run",
              "test_edge"]


class Result(unittest.TextTestResult):
    def startTest(self, test):
        self._t0 = time.time()
        super().startTest(test)

    def _line(self, tag, test):
        self.stream.write("%s %s (%.1fs)\n" % (tag, test.id(), time.time() - getattr(self, "_t0", time.time())))
        self.stream.flush()

    def addSuccess(self, test):
        unittest.TestResult.addSuccess(self, test)
        self._line("ok  ", test)

    def addFailure(self, test, err):
        unittest.TestResult.addFailure(self, test, err)
        self._line("FAIL", test)
        self.stream.write("  " + self._exc_info_to_string(err, test).replace("\n", "\n  ") + "\n")

    def addError(self, test, err):
        unittest.TestResult.addError(self, test, err)
        self._line("ERROR", test)
        self.stream.write("  " + self._exc_info_to_string(err, test).replace("\n", "\n  ") + "\n")

    def addSkip(self, test, reason):
        unittest.TestResult.addSkip(self, test, reason)
        self._line("SKIP", test)


def run_here(pattern, modules):
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = ["*%s*" % pattern]
    if modules:
        suite = unittest.TestSuite(loader.loadTestsFromName(m) for m in modules)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=0, resultclass=Result)
    res = runner.run(suite)
    failed = len(res.failures) + len(res.errors)
    # (a class skipped in setUpClass is a skip but no test run)
    skipped = sum(1 for t, _ in res.skipped if isinstance(t, unittest.TestCase))
    passed = res.testsRun - failed - skipped
    print("integration: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def module_names():
    names = sorted(f[:-3] for f in os.listdir(HERE)
                   if f.startswith("test_") and f.endswith(".py"))
    first = [m for m in SLOW_FIRST if m in names]
    return first + [m for m in names if m not in first]


# unittest's own summary of a child run (the counts are added up here)
NOISE = re.compile(r"^(-{20,}|Ran \d+ tests? in .*|OK( \(.*\))?|FAILED \(.*\)|integration: .*|)$")


def run_module(mod, pattern, out, limit):
    """Run one module in a child process (its own process group, so that a
    timeout also ends the daemons it started).  Returns (passed, failed,
    seconds, text)."""
    cmd = [sys.executable, os.path.abspath(__file__)]
    if pattern:
        cmd += ["-k", pattern]
    cmd.append(mod)
    path = os.path.join(out, "integration-%s.txt" % mod)
    t0 = time.time()
    with open(path, "wb") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=HERE,
                             start_new_session=True)
        try:
            p.wait(timeout=limit)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    took = time.time() - t0
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    # A child that was killed may leave daemons in its group behind.
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass
    m = re.search(r"^integration: (\d+) passed, (\d+) failed", text, re.M)
    passed, failed = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    passed = len(re.findall(r"^ok   ", text, re.M)) if not m else passed
    if timed_out:
        text += "\nFAIL %s: killed after the module's %d s limit\n" % (mod, limit)
        failed += 1
    elif not m or (p.returncode != 0 and failed == 0):
        text += "\nFAIL %s: the module's runner exited with %s\n" % (mod, p.returncode)
        failed += 1
    return passed, failed, took, text


def run_parallel(pattern, modules):
    out = os.environ.get("OUTPOST_TEST_OUT") or os.path.join(HERE, "..", "out")
    os.makedirs(out, exist_ok=True)
    jobs = max(1, int(os.environ.get("OUTPOST_JOBS") or 3))
    long_run = bool(os.environ.get("OUTPOST_LONG"))
    limit = int(os.environ.get("OUTPOST_MODULE_TIMEOUT") or (3600 if long_run else 1800))
    queue = list(modules) if modules else module_names()
    lock = threading.Lock()
    totals = {"passed": 0, "failed": 0}
    times = []
    t_start = time.time()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                mod = queue.pop(0)
            passed, failed, took, text = run_module(mod, pattern, out, limit)
            with lock:
                totals["passed"] += passed
                totals["failed"] += failed
                times.append((took, mod, text))
                # the module's result lines, kept together
                lines = [l for l in text.splitlines() if not NOISE.match(l)]
                sys.stdout.write("\n".join(lines) + "\n")
                sys.stdout.write("module %s: %d passed, %d failed (%.1fs)\n"
                                 % (mod, passed, failed, took))
                sys.stdout.flush()

    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t_start
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru.ru_utime + ru.ru_stime
    write_times(out, times, wall, jobs, cpu)
    print("integration: %d passed, %d failed (%.0f s with %d jobs, %.0f s of CPU)"
          % (totals["passed"], totals["failed"], wall, jobs, cpu))
    return 1 if totals["failed"] else 0


def write_times(out, times, wall, jobs, cpu):
    """integration-times.txt: the modules slowest first, then every test."""
    tests = []
    for _, mod, text in times:
        for m in re.finditer(r"^(?:ok  |FAIL|ERROR|SKIP) (\S+) \(([0-9.]+)s\)$", text, re.M):
            tests.append((float(m.group(2)), m.group(1)))
    with open(os.path.join(out, "integration-times.txt"), "w") as f:
        f.write("wall %.1f s with %d jobs, %.1f s of CPU; modules add up to %.1f s, tests to %.1f s\n\n"
                % (wall, jobs, cpu, sum(t for t, _, _ in times), sum(t for t, _ in tests)))
        for took, mod, _ in sorted(times, reverse=True):
            f.write("%8.1f  %s\n" % (took, mod))
        f.write("\n")
        for took, name in sorted(tests, reverse=True):
            f.write("%8.1f  %s\n" % (took, name))


def main():
    args = sys.argv[1:]
    pattern = None
    if len(args) >= 2 and args[0] == "-k":
        pattern = args[1]
        args = args[2:]
    if len(args) == 1 or os.environ.get("OUTPOST_JOBS") == "1":
        sys.exit(run_here(pattern, args))
    sys.exit(run_parallel(pattern, args))


if __name__ == "__main__":
    main()
