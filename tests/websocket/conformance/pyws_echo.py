#!/usr/bin/python3
"""pyws_echo.py server [--port N] [--deflate] | client ws://127.0.0.1:PORT [--name NAME] [--deflate]

Echo programs on the third-party Python `websockets` library (Debian's
python3-websockets), for sanity runs of the suite against an independent,
strict implementation.  Run them with /usr/bin/python3, which has Debian's
packages.  No size limit, no keepalive pings; no compression unless
--deflate, which turns on the library's own permessage-deflate defaults
(10.4: the server answers server_max_window_bits=12 and, when offered,
client_max_window_bits=12; the client offers client_max_window_bits).

  server   listens on 127.0.0.1, prints "listening on PORT", echoes every
           message with its type; ends on SIGTERM or SIGINT.
  client   driven the way Autobahn|Testsuite drives clients: /getCaseCount,
           /runCase?case=N&agent=NAME for each case, /updateReports.
"""
import argparse
import asyncio
import signal
import sys

import websockets

OPTIONS = dict(compression=None, max_size=None, ping_interval=None, close_timeout=2)


async def echo(ws, path=None):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def serve(port):
    loop = asyncio.get_running_loop()
    ending = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, ending.set_result, None)
    async with websockets.serve(echo, "127.0.0.1", port, **OPTIONS) as server:
        print("listening on %d" % server.sockets[0].getsockname()[1], flush=True)
        await ending


async def drive(base, name):
    async with websockets.connect(base + "/getCaseCount", **OPTIONS) as ws:
        count = int(await ws.recv())
    for n in range(1, count + 1):
        try:
            async with websockets.connect("%s/runCase?case=%d&agent=%s" % (base, n, name), **OPTIONS) as ws:
                await echo(ws)
        except (websockets.WebSocketException, OSError) as e:
            print("case %d: %s" % (n, e), file=sys.stderr)
    async with websockets.connect("%s/updateReports?agent=%s" % (base, name), **OPTIONS) as ws:
        try:
            async for _ in ws:
                pass
        except websockets.ConnectionClosed:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("url", nargs="?")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--name", default="python-websockets-%s" % websockets.__version__)
    ap.add_argument("--deflate", action="store_true", help="permessage-deflate with the library's defaults")
    args = ap.parse_args()
    if args.deflate:
        OPTIONS["compression"] = "deflate"
    if args.role == "server":
        asyncio.run(serve(args.port))
    else:
        if not args.url:
            ap.error("client needs the ws:// URL of the fuzzing server")
        asyncio.run(drive(args.url.rstrip("/"), args.name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
