#!/usr/bin/env python3
"""run_peers.py --server-app PATH --limits-server PATH --site DIR MODULE...

Runs the named test modules of tests/server/peers (test_curl, test_files,
test_client, test_raw, test_limits, test_many) against the given binaries.
SITE_DIR is tests/server/site; the tests work on a private copy of it.
-k PATTERN (repeatable) runs only the tests whose name contains PATTERN.
"""
import argparse
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

import peerlib  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-app", required=True)
    ap.add_argument("--limits-server", required=True)
    ap.add_argument("--site", required=True)
    ap.add_argument("modules", nargs="+")
    ap.add_argument("-k", dest="patterns", action="append", default=[],
                    help="only tests whose name contains this (unittest -k)")
    args = ap.parse_args()
    peerlib.CONFIG.update(
        server_app=os.path.abspath(args.server_app),
        limits_server=os.path.abspath(args.limits_server),
        site=os.path.abspath(args.site),
    )
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = ["*%s*" % p for p in args.patterns]
    suite = unittest.TestSuite()
    for name in args.modules:
        suite.addTests(loader.loadTestsFromName(name))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
