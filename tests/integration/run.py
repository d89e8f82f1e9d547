#!/usr/bin/env python3
"""Run every tests/integration/test_*.py module with unittest and print
"integration: N passed, N failed" as the closing line.

Usage: run.py [-k substring] [module ...]
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


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


def main():
    args = sys.argv[1:]
    pattern = None
    if len(args) >= 2 and args[0] == "-k":
        pattern = args[1]
        args = args[2:]
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = ["*%s*" % pattern]
    if args:
        suite = unittest.TestSuite(loader.loadTestsFromName(m) for m in args)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=0, resultclass=Result)
    res = runner.run(suite)
    failed = len(res.failures) + len(res.errors)
    passed = res.testsRun - failed - len(res.skipped)
    print("integration: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
