#!/usr/bin/env python3
"""ref_echo_client.py ws://127.0.0.1:PORT [--name NAME] [--max-message BYTES] [--deflate] [--broken FAULT,...]

A strict WebSocket echo client (RFC 6455; with --deflate, permessage-deflate
too, RFC 7692), Python standard library only, driven the way
Autobahn|Testsuite drives clients: the reference the conformance suite's
client mode is developed against and an example of what the C++ echo client
must do.

  1. connect to BASE/getCaseCount and read the number of cases (a text
     message), then take part in the closing handshake;
  2. for N = 1 .. count, connect to BASE/runCase?case=N&agent=NAME and echo
     every message until the connection is closed (see refpeer.py for the
     rules: masking, validation, pings, the closing handshake);
  3. connect to BASE/updateReports?agent=NAME and close when asked.

With --deflate every connection offers permessage-deflate (--deflate-offer,
by default "permessage-deflate; client_max_window_bits"); an illegal answer
fails the connection (the TCP connection is closed at once) and the client
goes on with the next case.

Exit status 0 when getCaseCount and updateReports worked (a runCase whose
opening handshake fails is reported and skipped, as the case decides what
that means), 1 otherwise.  --broken switches on deliberate mistakes (see
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


def open_ws(host, port, target, timeout, offer=None):
    """Connects and runs the opening handshake; returns (socket, octets
    past the answer's head, the answer's Sec-WebSocket-Extensions values)."""
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    extra = ["Sec-WebSocket-Extensions: %s" % offer] if offer else []
    try:
        early, head = wp.client_handshake(
            sock, "%s:%d" % (host, port), target, time.monotonic() + timeout, extra_headers=extra, extensions_offered=bool(offer)
        )
    except Exception:
        sock.close()
        raise
    _, headers = wp.parse_head(head.encode("latin-1"))
    return sock, early, wp.header_values(headers, "sec-websocket-extensions")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("url", help="the fuzzing server, ws://HOST:PORT")
    ap.add_argument("--name", default="ref_echo_client", help="the name reported to the fuzzing server")
    ap.add_argument("--max-message", type=int, default=None, help="refuse larger messages with 1009")
    ap.add_argument("--deflate", action="store_true", help="offer permessage-deflate (RFC 7692)")
    ap.add_argument("--deflate-offer", default=refpeer.DEFAULT_OFFER, help="the offer (default %r)" % refpeer.DEFAULT_OFFER)
    ap.add_argument("--fragment", type=int, default=0, help="split compressed echoes into frames of this many octets")
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

    offer = args.deflate_offer if args.deflate else None

    def connect_and_echo(target, on_message=None):
        """One connection: the opening handshake, the negotiation, then the
        echo endpoint to the end."""
        sock, early, answer = open_ws(host, port, target, args.timeout, offer)
        agreement = None
        if offer:
            agreement, why = refpeer.client_agreement(offer, answer, faults)
            if why is not None:
                print("ref_echo_client: %s: failing the connection: %s" % (target, why), file=sys.stderr)
                wp.abort_close(sock)
                return
        elif answer:
            raise wp.HandshakeError("the server chose an extension that was never offered")
        refpeer.EchoEndpoint(
            sock,
            False,
            faults,
            max_message=args.max_message,
            early=early,
            idle=args.idle,
            close_wait=args.close_wait,
            on_message=on_message,
            pmd=agreement,
            fragment=args.fragment,
        ).run()

    try:
        got = []
        connect_and_echo(base + "/getCaseCount", on_message=lambda op, payload: got.append(payload))
        if not got:
            print("ref_echo_client: no case count received", file=sys.stderr)
            return 1
        count = int(got[0].decode("utf-8"))
        for n in range(1, count + 1):
            target = "%s/runCase?case=%d&agent=%s" % (base, n, name)
            try:
                connect_and_echo(target)
            except wp.HandshakeError as e:
                print("ref_echo_client: case %d: %s" % (n, e), file=sys.stderr)
        connect_and_echo("%s/updateReports?agent=%s" % (base, name))
    except (OSError, wp.HandshakeError, ValueError) as e:
        print("ref_echo_client: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
