#!/usr/bin/python3
"""echo_server.py PORT [--protocol NAME]... [--broken FAULT,...] [--list-faults]

A stand-in for the library's WebSocket echo server, on Python `websockets`
(run with /usr/bin/python3), with the same command line and behaviour:

- listens on ws://127.0.0.1:PORT/ (any path; PORT 0 = any free port) and
  prints "listening on PORT" as its first line;
- echoes every text and binary message with its type, whole (a fragmented
  message comes back as one message); answers pings with pongs;
- answers a close with the same code and reason;
- accepts messages up to 16 MiB;
- with --protocol, selects the first of its own names that the client
  offered (server preference), and none when the client offered none of them;
- declines every extension (no compression);
- exits with status 0 on SIGTERM.

--broken switches on deliberate mistakes (see --list-faults), to show that
the peer tests catch them.
"""
import argparse
import asyncio
import http
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websockets  # noqa: E402
from websockets.frames import OP_PONG, Close  # noqa: E402
from websockets.legacy.server import WebSocketServerProtocol  # noqa: E402

import common  # noqa: E402

FAULTS = dict(common.ECHO_FAULTS)
FAULTS.update(
    {
        "drop-close-code": "answer every close with an empty close frame",
        "no-close-reply": "never answer a close frame (drop the TCP connection instead)",
        "close-on-pong": "fail the connection (1002) on an unsolicited pong",
        "accept-deflate": "accept the permessage-deflate extension that peers offer",
        "root-only": "refuse (404) every path but /",
        "unrequested-protocol": "select its first protocol even when the client offered none",
        "client-preference": "select the client's first offered protocol that the server knows (client preference)",
        "any-protocol": "select the client's first offered protocol, known or not",
        "no-protocol": "never select a protocol",
        "serial": "serve one connection at a time",
        "bad-sigterm": "exit with status 1 on SIGTERM",
    }
)


def selector(ours, faults):
    def select(offered, available):
        if "no-protocol" in faults:
            return None
        if "any-protocol" in faults:
            return offered[0] if offered else None
        if "client-preference" in faults:
            return next((p for p in offered if p in ours), None)
        return next((p for p in ours if p in offered), None)

    return select


async def serve(args, faults):
    loop = asyncio.get_running_loop()
    ending = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: ending.done() or ending.set_result(None))

    base = common.without_pongs(WebSocketServerProtocol) if "no-pong" in faults else WebSocketServerProtocol

    class Protocol(base):
        async def write_close_frame(self, close, data=None):
            if self.close_rcvd is not None:  # answering the peer's close
                if "no-close-reply" in faults:
                    return
                if "drop-close-code" in faults:
                    close, data = Close(1005, ""), b""
            await super().write_close_frame(close, data)

        async def read_frame(self, max_size):
            frame = await super().read_frame(max_size)
            if "close-on-pong" in faults and frame.opcode == OP_PONG and frame.data not in self.pings:
                self.fail_connection(1002, "unexpected pong")
            return frame

    async def process_request(path, headers):
        if "root-only" in faults and path != "/":
            return http.HTTPStatus.NOT_FOUND, [], b"not found\n"
        return None

    def extra_headers(path, headers):
        if "unrequested-protocol" in faults and args.protocol and "Sec-WebSocket-Protocol" not in headers:
            return [("Sec-WebSocket-Protocol", args.protocol[0])]
        return []

    one_at_a_time = asyncio.Lock()

    async def handler(ws, path=None):
        if "serial" in faults:
            async with one_at_a_time:
                await common.echo(ws, faults)
        else:
            await common.echo(ws, faults)

    # websockets calls the selector only when it has protocols of its own.
    ours = args.protocol or (["-"] if "any-protocol" in faults else None)
    async with websockets.serve(
        handler,
        "127.0.0.1",
        args.port,
        create_protocol=Protocol,
        subprotocols=ours,
        select_subprotocol=selector(args.protocol or [], faults),
        compression="deflate" if "accept-deflate" in faults else None,
        process_request=process_request,
        extra_headers=extra_headers,
        max_size=common.max_size(faults),
        ping_interval=None,
        close_timeout=5,
    ) as server:
        print("listening on %d" % server.sockets[0].getsockname()[1], flush=True)
        await ending
    return 1 if "bad-sigterm" in faults else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("port", type=int, nargs="?")
    ap.add_argument("--protocol", action="append", default=[], metavar="NAME")
    ap.add_argument("--broken", metavar="FAULT,...")
    ap.add_argument("--list-faults", action="store_true")
    args = ap.parse_args()
    if args.list_faults:
        common.list_faults(FAULTS)
        return 0
    if args.port is None:
        ap.error("PORT is required")
    faults = common.parse_faults(args.broken, FAULTS, "echo_server.py")
    return asyncio.run(serve(args, faults))


if __name__ == "__main__":
    sys.exit(main())
