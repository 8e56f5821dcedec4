#!/usr/bin/env python3
"""ref_echo_server.py [--port N] [--max-message BYTES] [--deflate] [--broken FAULT,...]

A strict WebSocket echo server (RFC 6455; with --deflate, permessage-deflate
too, RFC 7692), Python standard library only: the reference the conformance
suite is developed against and an example of what the C++ echo server must
do.  It accepts the opening
handshake on any path, echoes every text and binary message with its type,
answers pings, validates everything it receives (see refpeer.py) and closes
the TCP connection first once a closing handshake is over.

It listens on 127.0.0.1 (port 0 by default: any free port) and prints
"listening on PORT" as its first line.  It ends with status 0 on SIGTERM or
SIGINT.  --broken switches on deliberate mistakes (see --list-faults) so
that the suite can be shown to catch them.

With --deflate it accepts the first valid permessage-deflate offer it can
honour, answering with what the offer requires (server_no_context_takeover,
server_max_window_bits) and nothing more; it declines invalid offers and
server_max_window_bits=8.  --fragment N splits its compressed echoes into
frames of N octets.
"""
import argparse
import os
import select
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import refpeer  # noqa: E402
import wsproto as wp  # noqa: E402

HANDSHAKE_TIMEOUT = 10.0


def serve_one(sock, args, faults):
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head, rest = wp.read_head(sock, time.monotonic() + HANDSHAKE_TIMEOUT)
        start, headers = wp.parse_head(head)
        err = wp.check_client_request(start, headers)
        if err:
            sock.sendall(wp.response_error(*err))
            wp.linger_close(sock, 1.0)
            return
        key = wp.header_values(headers, "sec-websocket-key")[0]
        extra = []
        agreement = None
        if args.deflate:
            answer, agreement = refpeer.server_answer(wp.header_values(headers, "sec-websocket-extensions"), faults)
            if answer:
                extra.append("Sec-WebSocket-Extensions: %s" % answer)
        sock.sendall(wp.response_101(key, extra))
        ep = refpeer.EchoEndpoint(
            sock,
            True,
            faults,
            max_message=args.max_message,
            early=rest,
            idle=args.idle,
            close_wait=args.close_wait,
            pmd=agreement,
            fragment=args.fragment,
        )
        ep.run()
    except (wp.HandshakeError, OSError) as e:
        if args.verbose:
            print("connection: %s" % e, file=sys.stderr)
        try:
            sock.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--max-message", type=int, default=None, help="refuse larger messages with 1009")
    ap.add_argument("--deflate", action="store_true", help="accept permessage-deflate (RFC 7692)")
    ap.add_argument("--fragment", type=int, default=0, help="split compressed echoes into frames of this many octets")
    ap.add_argument("--broken", default="", help="comma-separated faults to switch on")
    ap.add_argument("--list-faults", action="store_true")
    ap.add_argument("--idle", type=float, default=60.0, help="seconds a connection may stay silent")
    ap.add_argument("--close-wait", type=float, default=2.0, help="seconds to wait for the peer during a close")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.list_faults:
        for name, text in sorted(refpeer.FAULTS.items()):
            print("%-20s %s" % (name, text))
        return 0
    try:
        faults = refpeer.parse_faults(args.broken)
    except ValueError as e:
        ap.error(str(e))

    ending = threading.Event()

    def on_signal(signum, frame):
        ending.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", args.port))
    lsock.listen(128)
    print("listening on %d" % lsock.getsockname()[1], flush=True)
    while not ending.is_set():
        try:
            r, _, _ = select.select([lsock], [], [], 0.2)
        except InterruptedError:
            continue
        if not r:
            continue
        try:
            conn, _ = lsock.accept()
        except OSError:
            continue
        threading.Thread(target=serve_one, args=(conn, args, faults), daemon=True).start()
    lsock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
