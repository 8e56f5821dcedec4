#!/usr/bin/python3
"""echo_client.py URL [--protocol NAME]... [--broken FAULT,...] [--list-faults]

A stand-in for the library's WebSocket echo client, on Python `websockets`
(run with /usr/bin/python3), with the same command line and behaviour:

- connects to URL offering the --protocol names (and no extension), and
  prints "protocol NAME" (or "protocol -") once connected;
- echoes every text and binary message with its type until the connection
  closes; answers pings; accepts messages up to 16 MiB;
- then prints "closed CODE REASON": the code and reason of the peer's close
  frame, 1005 if it had no code, 1006 if the connection ended without one;
- exits 0 after a clean close; non-zero when the connection fails (refused,
  bad handshake answer, a subprotocol it did not offer) or ends without a
  closing handshake.

--broken switches on deliberate mistakes (see --list-faults), to show that
the peer tests catch them.
"""
import argparse
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websockets  # noqa: E402
import websockets.legacy.client as legacy_client  # noqa: E402
from websockets.legacy.client import WebSocketClientProtocol  # noqa: E402

import common  # noqa: E402

CONNECT_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0

FAULTS = dict(common.ECHO_FAULTS)
FAULTS.update(
    {
        "drop-close-code": 'print "closed 1005" whatever the close frame said',
        "drop-reason": "print the close code without the reason",
        "abort-as-1000": 'print "closed 1000" when the connection ends without a close frame',
        "accept-any-protocol": "accept a subprotocol it did not offer",
        "no-accept-check": "skip the checks of Upgrade, Connection and Sec-WebSocket-Accept",
        "protocol-dash": 'print "protocol -" whatever was selected',
        "exit-1": "exit with status 1 even after a clean close",
        "exit-0-on-failure": "exit with status 0 when the connection fails",
    }
)


async def run(args, faults):
    base = common.without_pongs(WebSocketClientProtocol) if "no-pong" in faults else WebSocketClientProtocol

    class Protocol(base):
        if "accept-any-protocol" in faults:

            @staticmethod
            def process_subprotocol(headers, available):
                values = headers.get_all("Sec-WebSocket-Protocol")
                return values[0] if values else None

    if "no-accept-check" in faults:
        legacy_client.check_response = lambda headers, key: None

    failed_status = 0 if "exit-0-on-failure" in faults else 1
    try:
        ws = await asyncio.wait_for(
            websockets.connect(
                args.url,
                create_protocol=Protocol,
                subprotocols=args.protocol or None,
                compression=None,
                max_size=common.max_size(faults),
                ping_interval=None,
                open_timeout=CONNECT_TIMEOUT,
                close_timeout=CLOSE_TIMEOUT,
            ),
            CONNECT_TIMEOUT + 1,
        )
    except (websockets.WebSocketException, OSError, asyncio.TimeoutError) as e:
        print("echo_client.py: cannot connect to %s: %s" % (args.url, e or type(e).__name__), file=sys.stderr)
        return failed_status

    protocol = ws.subprotocol or "-"
    if "protocol-dash" in faults:
        protocol = "-"
    print("protocol %s" % protocol, flush=True)

    await common.echo(ws, faults)
    try:
        await asyncio.wait_for(ws.wait_closed(), CLOSE_TIMEOUT + 1)
    except asyncio.TimeoutError:
        ws.transport.abort()

    rcvd = ws.close_rcvd
    code, reason = (rcvd.code, rcvd.reason) if rcvd is not None else (1006, "")
    if "drop-close-code" in faults:
        code, reason = 1005, ""
    if "drop-reason" in faults:
        reason = ""
    if "abort-as-1000" in faults and rcvd is None:
        code = 1000
    print("closed %d %s" % (code, reason), flush=True)
    clean = rcvd is not None and ws.close_sent is not None
    if "exit-1" in faults:
        return 1
    return 0 if clean else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("url", nargs="?")
    ap.add_argument("--protocol", action="append", default=[], metavar="NAME")
    ap.add_argument("--broken", metavar="FAULT,...")
    ap.add_argument("--list-faults", action="store_true")
    args = ap.parse_args()
    if args.list_faults:
        common.list_faults(FAULTS)
        return 0
    if not args.url:
        ap.error("URL is required")
    faults = common.parse_faults(args.broken, FAULTS, "echo_client.py")
    return asyncio.run(run(args, faults))


if __name__ == "__main__":
    sys.exit(main())
