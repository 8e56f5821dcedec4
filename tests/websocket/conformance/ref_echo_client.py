#!/usr/bin/env python3
"""ref_echo_client.py ws://127.0.0.1:PORT [--name NAME] [--broken FAULT,...]

A strict WebSocket echo client (RFC 6455, no extensions), Python standard
library only, driven the way Autobahn|Testsuite drives clients: the
reference the conformance suite's client mode is developed against and an
example of what the C++ echo client must do.

  1. connect to BASE/getCaseCount and read the number of cases (a text
     message), then take part in the closing handshake;
  2. for N = 1 .. count, connect to BASE/runCase?case=N&agent=NAME and echo
     every message until the connection is closed (see refpeer.py for the
     rules: masking, validation, pings, the closing handshake);
  3. connect to BASE/updateReports?agent=NAME and close when asked.

Exit status 0 when every step could connect and complete its opening
handshake, 1 otherwise.  --broken switches on deliberate mistakes (see
ref_echo_server.py --list-faults).
"""
import argparse
import os
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import refpeer  # noqa: E402
import wsproto as wp  # noqa: E402


def open_ws(host, port, target, timeout):
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        early, _ = wp.client_handshake(sock, "%s:%d" % (host, port), target, time.monotonic() + timeout)
    except Exception:
        sock.close()
        raise
    return sock, early


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("url", help="the fuzzing server, ws://HOST:PORT")
    ap.add_argument("--name", default="ref_echo_client", help="the name reported to the fuzzing server")
    ap.add_argument("--broken", default="", help="comma-separated faults to switch on")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds for connecting and the opening handshake")
    ap.add_argument("--idle", type=float, default=60.0, help="seconds a connection may stay silent")
    ap.add_argument("--close-wait", type=float, default=2.0, help="seconds to wait for the server during a close")
    args = ap.parse_args()
    try:
        faults = refpeer.parse_faults(args.broken)
        host, port, base = wp.parse_ws_url(args.url)
    except ValueError as e:
        ap.error(str(e))
    base = base.rstrip("/")
    name = urllib.parse.quote(args.name, safe="")

    def endpoint(sock, early, on_message=None):
        return refpeer.EchoEndpoint(
            sock, False, faults, early=early, idle=args.idle, close_wait=args.close_wait, on_message=on_message
        )

    try:
        got = []
        sock, early = open_ws(host, port, base + "/getCaseCount", args.timeout)
        endpoint(sock, early, on_message=lambda op, payload: got.append(payload)).run()
        if not got:
            print("ref_echo_client: no case count received", file=sys.stderr)
            return 1
        count = int(got[0].decode("utf-8"))
        for n in range(1, count + 1):
            sock, early = open_ws(host, port, "%s/runCase?case=%d&agent=%s" % (base, n, name), args.timeout)
            endpoint(sock, early).run()
        sock, early = open_ws(host, port, "%s/updateReports?agent=%s" % (base, name), args.timeout)
        endpoint(sock, early).run()
    except (OSError, wp.HandshakeError, ValueError) as e:
        print("ref_echo_client: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
