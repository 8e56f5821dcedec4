#!/usr/bin/env python3
"""run_hostile.py --nnghttp PATH --c-server PATH --timeout-server PATH
                  [--ws-server PATH] [--nginx-conf PATH] [--scale N] [-k PATTERN]... GROUP|MODULE...

Runs hostile-peer test groups (or single test_* modules) against the given
programs.  Groups:

  sigpipe    test_sigpipe                        aborted downloads
  smuggling  test_smuggling                      unread bodies, also behind nginx
  resources  test_lockout test_descriptors       resets holding connections; EMFILE
  files      test_files test_steady              FIFOs, unreadable files; slow transfers
  tls        test_tls_downloads test_tls_defaults
  input      test_error_answers test_host test_garbage
  websocket  test_websocket                      frame lengths, fragment floods, resets

--scale multiplies every time bound (3 for sanitizer builds).  -k PATTERN
(repeatable) runs only the tests whose name contains PATTERN.
"""
import argparse
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

import hostilelib  # noqa: E402

GROUPS = {
    "sigpipe": ["test_sigpipe"],
    "smuggling": ["test_smuggling"],
    "resources": ["test_lockout", "test_descriptors"],
    "files": ["test_files", "test_steady"],
    "tls": ["test_tls_downloads", "test_tls_defaults"],
    "input": ["test_error_answers", "test_host", "test_garbage"],
    "websocket": ["test_websocket"],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1] if __doc__ else None)
    ap.add_argument("--nnghttp", required=True)
    ap.add_argument("--c-server", required=True)
    ap.add_argument("--timeout-server", required=True)
    ap.add_argument("--ws-server", default=None,
                    help="the WebSocket echo server (tests/websocket/programs)")
    ap.add_argument("--nginx-conf",
                    default=os.path.join(here, "..", "..", "examples", "deploy",
                                         "nginx-reverse-proxy.conf"))
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--sanitizer", default="",
                    help="the build's sanitizer (address, thread), empty for none")
    ap.add_argument("-k", dest="patterns", action="append", default=[],
                    help="only tests whose name contains this (unittest -k)")
    ap.add_argument("names", nargs="+", metavar="GROUP|MODULE")
    args = ap.parse_args()
    hostilelib.CONFIG.update(
        nnghttp=os.path.abspath(args.nnghttp),
        c_server=os.path.abspath(args.c_server),
        timeout_server=os.path.abspath(args.timeout_server),
        ws_server=os.path.abspath(args.ws_server) if args.ws_server else None,
        nginx_conf=os.path.abspath(args.nginx_conf),
        scale=args.scale,
        sanitizer=args.sanitizer,
    )
    modules = []
    for name in args.names:
        for m in GROUPS.get(name, [name]):
            if m not in modules:
                modules.append(m)
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = ["*%s*" % p for p in args.patterns]
    suite = unittest.TestSuite()
    for m in modules:
        suite.addTests(loader.loadTestsFromName(m))
    try:
        result = unittest.TextTestRunner(verbosity=2).run(suite)
    finally:
        hostilelib.cleanup_certs()
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
