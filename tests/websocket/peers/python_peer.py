#!/usr/bin/python3
"""python_peer.py: the Python `websockets` side of the third-party peer tests.

  python_peer.py list
      print the names of the server tests, one JSON object
  python_peer.py server-tests --plain URL --proto URL [--tests a,b,...] [--timeout S]
      run the server tests as a `websockets` client of the echo server under
      test: --plain is a server started without --protocol, --proto one
      started with --protocol chat --protocol superchat
  python_peer.py client-peer --scenario NAME [--timeout S]
      be the server for one run of the echo client under test: print
      "listening on PORT", take one connection, play the scenario

Results are JSON lines on stdout: {"test": NAME, "ok": BOOL, "detail": TEXT,
"ms": N} for server tests, {"check": NAME, "ok": BOOL, "detail": TEXT} for a
client scenario, then {"done": true}.  Everything else goes to stderr.
Needs the `websockets` package (Debian python3-websockets): run it with
/usr/bin/python3.  Loopback only; every wait is bounded by --timeout
(seconds, default 10).
"""
import argparse
import asyncio
import base64
import hashlib
import json
import random
import re
import struct
import sys
import time

try:
    import websockets
    from websockets.frames import Close
except ImportError as e:
    sys.stderr.write(
        "python_peer.py: cannot import websockets (%s); install python3-websockets "
        "and run this with /usr/bin/python3\n" % e
    )
    sys.exit(3)

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MiB = 1 << 20
SIZES = [0, 1, 125, 126, 65535, 65536, 4 * MiB]
BIG = 16 * MiB  # the echo server's contract: messages up to 16 MiB
# websockets refuses incoming messages over 1 MiB by default (max_size):
# raised for the 4 and 16 MiB echoes.
MAX_SIZE = 64 * MiB

UTF8_SAMPLE = "héllo wörld ✓ 𝄞 日本語 🎉 Ωμέγα — ∑ ¿qué? ﬁ"
PRINTABLE = bytes(0x20 + (i % 95) for i in range(256))


class Failed(Exception):
    pass


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# ------------------------------------------------------------------ data


def binary_data(n, seed):
    return random.Random(seed).randbytes(n)


def ascii_text(n, seed):
    return binary_data(n, seed).translate(PRINTABLE).decode("ascii")


def utf8_text(n):
    """Exactly n octets of UTF-8, mostly 2-, 3- and 4-octet characters."""
    chars = ["é", "ж", "✓", "日", "𝄞", "🎉", "a", "Ω"]
    out, left, i = [], n, 0
    while left > 0:
        c = chars[i % len(chars)]
        size = len(c.encode("utf-8"))
        if size > left:
            c, size = "z", 1
        out.append(c)
        left -= size
        i += 1
    return "".join(out)


def octets(m):
    return m.encode("utf-8") if isinstance(m, str) else bytes(m)


def kind(m):
    return "text" if isinstance(m, str) else "binary"


def describe_diff(want, got):
    want, got = octets(want), octets(got)
    if len(want) != len(got):
        return "the echo has %d octets, %d were sent" % (len(got), len(want))
    i = 0
    while i < len(want) and want[i] == got[i]:
        i += 1
    return "the echo differs from what was sent at octet %d of %d" % (i, len(want))


def check_echo(got, sent, what):
    if kind(got) != kind(sent):
        raise Failed("%s: sent as %s, echoed as %s" % (what, kind(sent), kind(got)))
    if got != sent:
        raise Failed("%s: %s" % (what, describe_diff(sent, got)))


def close_text(ws):
    rcvd = ws.close_rcvd
    if rcvd is None:
        return "closed without a close frame"
    return "closed with code %d%s" % (rcvd.code, ' "%s"' % rcvd.reason if rcvd.reason else "")


async def recv(ws, T, what):
    try:
        return await asyncio.wait_for(ws.recv(), T)
    except asyncio.TimeoutError:
        raise Failed("nothing came within %g s while waiting for %s" % (T, what)) from None
    except websockets.ConnectionClosed:
        raise Failed("the connection %s while waiting for %s" % (close_text(ws), what)) from None


async def pong(waiter, T, what):
    try:
        await asyncio.wait_for(waiter, T)
    except asyncio.TimeoutError:
        raise Failed("no pong with the ping's payload came within %g s (%s)" % (T, what)) from None
    except websockets.ConnectionClosed as e:
        raise Failed("the connection closed while waiting for %s: %s" % (what, e)) from None


async def send(ws, data, T, what):
    """Send a message (or an iterable of fragments), bounded."""
    try:
        await asyncio.wait_for(ws.send(data), T)
    except asyncio.TimeoutError:
        raise Failed("sending %s did not complete within %g s (the peer stopped reading?)" % (what, T)) from None
    except websockets.ConnectionClosed:
        raise Failed("the connection %s while sending %s" % (close_text(ws), what)) from None


async def send_and_check(ctx, ws, data, what):
    await send(ws, data, ctx.T, what)
    check_echo(await recv(ws, ctx.T, "the echo of " + what), data, what)


# ------------------------------------------------------------------ server tests


class Ctx:
    def __init__(self, args):
        self.T = args.timeout
        self.plain = getattr(args, "plain", None)
        self.proto = getattr(args, "proto", None)
        self.deflate = getattr(args, "deflate", None)
        self.opened = []

    async def open(self, url, protocols=None):
        # compression stays at its default ("deflate" is offered): the server
        # must decline it.  No keepalive pings: the tests send their own.
        try:
            ws = await self._open(url, protocols)
        except asyncio.TimeoutError:
            raise Failed("opening %s: no handshake within %g s" % (url, self.T)) from None
        except OSError as e:
            raise Failed("opening %s: %s" % (url, e)) from None
        self.opened.append(ws)
        return ws

    async def _open(self, url, protocols):
        return await asyncio.wait_for(
            websockets.connect(
                url,
                subprotocols=protocols or None,
                max_size=MAX_SIZE,
                ping_interval=None,
                open_timeout=self.T,
                close_timeout=self.T,
            ),
            self.T + 1,
        )

    async def shut(self):
        """Close what a test left open, bounded; never fails (teardown)."""
        for ws in self.opened:
            try:
                await asyncio.wait_for(ws.close(), min(self.T, 2))
            except Exception:
                ws.transport.abort()
        self.opened = []


SERVER_TESTS = []


def server_test(name):
    def register(fn):
        SERVER_TESTS.append((name, fn))
        return fn

    return register


@server_test("handshake")
async def t_handshake(c):
    ws = await c.open(c.plain)
    ext = ws.response_headers.get("Sec-WebSocket-Extensions")
    if ext is not None or ws.extensions:
        raise Failed("the server accepted an extension: %s" % ext)
    if ws.subprotocol is not None:
        raise Failed("the server chose a subprotocol nobody offered: %s" % ws.subprotocol)
    await send_and_check(c, ws, "handshake", "a text message")


def size_test(n, binary):
    async def t(c):
        ws = await c.open(c.plain)
        data = binary_data(n, n + 1) if binary else ascii_text(n, n + 7)
        await send_and_check(c, ws, data, "a %d-octet %s message" % (n, "binary" if binary else "text"))

    return t


for _n in SIZES:
    for _binary in (False, True):
        SERVER_TESTS.append(("%s-%d" % ("binary" if _binary else "text", _n), size_test(_n, _binary)))


@server_test("binary-%d" % BIG)
async def t_big(c):
    ws = await c.open(c.plain)
    await send_and_check(c, ws, binary_data(BIG, 16), "a 16 MiB binary message (the contract's limit)")


@server_test("utf8-text")
async def t_utf8(c):
    ws = await c.open(c.plain)
    await send_and_check(c, ws, UTF8_SAMPLE, "a text message with multi-octet characters")


@server_test("utf8-65536")
async def t_utf8_big(c):
    ws = await c.open(c.plain)
    await send_and_check(c, ws, utf8_text(65536), "a 65536-octet text message of multi-octet characters")


@server_test("any-path")
async def t_path(c):
    ws = await c.open(c.plain + "some/deeper/path?query=1&x=%20y")
    await send_and_check(c, ws, "any path", "a text message on another path")


# websockets sends an iterable as one frame per item and a last, empty
# continuation frame with FIN set.


@server_test("fragmented-text")
async def t_frag_text(c):
    pieces = ["fragmented: ", "", UTF8_SAMPLE[:7], UTF8_SAMPLE[7:], " end"]
    ws = await c.open(c.plain)
    await send(ws, pieces, c.T, "a text message in 6 frames")
    check_echo(await recv(ws, c.T, "the echo of a text message in 6 frames"), "".join(pieces), "a text message in 6 frames")


@server_test("fragmented-binary")
async def t_frag_binary(c):
    pieces = [binary_data(1000, 3), binary_data(70000, 4), b"", binary_data(125, 5)]
    ws = await c.open(c.plain)
    await send(ws, pieces, c.T, "a binary message in 5 frames")
    check_echo(await recv(ws, c.T, "the echo of a binary message in 5 frames"), b"".join(pieces), "a binary message in 5 frames")


@server_test("fragmented-many")
async def t_frag_many(c):
    whole = ascii_text(10000, 9)
    ws = await c.open(c.plain)
    await send(ws, [whole[i : i + 10] for i in range(0, 10000, 10)], c.T, "a text message in 1001 frames")
    check_echo(await recv(ws, c.T, "the echo of a text message in 1001 frames"), whole, "a text message in 1001 frames")


@server_test("fragmented-async")
async def t_frag_async(c):
    pieces = [binary_data(4096 * (i + 1), 40 + i) for i in range(8)]

    async def gen():
        for p in pieces:
            yield p
            await asyncio.sleep(0.01)

    ws = await c.open(c.plain)
    await send(ws, gen(), c.T, "a binary message from an async iterator")
    check_echo(
        await recv(ws, c.T, "the echo of a binary message from an async iterator"),
        b"".join(pieces),
        "a binary message sent from an async iterator, 9 frames",
    )


@server_test("fragmented-ping")
async def t_frag_ping(c):
    ws = await c.open(c.plain)
    waiters = []

    async def gen():
        yield "before the ping, "
        waiters.append(await ws.ping(b"between fragments"))
        yield "after the ping"

    await send(ws, gen(), c.T, "a text message with a ping between its frames")
    await pong(waiters[0], c.T, "a ping between the frames of a message")
    check_echo(
        await recv(ws, c.T, "the echo of a message with a ping inside"),
        "before the ping, after the ping",
        "a text message with a ping between its frames",
    )


def ping_test(payload):
    async def t(c):
        ws = await c.open(c.plain)
        await pong(await ws.ping(payload), c.T, "a %d-octet ping" % len(payload))
        await send_and_check(c, ws, "after the ping", "a text message after a ping")

    return t


SERVER_TESTS.append(("ping", ping_test("ping payload ✓".encode("utf-8"))))
SERVER_TESTS.append(("ping-empty", ping_test(b"")))
SERVER_TESTS.append(("ping-125", ping_test(binary_data(125, 125))))


@server_test("pong-unsolicited")
async def t_pong(c):
    ws = await c.open(c.plain)
    await ws.pong(b"unsolicited")
    await send_and_check(c, ws, "after an unsolicited pong", "a text message after a pong")


def close_test(code, reason):
    async def t(c):
        ws = await c.open(c.plain)
        await send_and_check(c, ws, "before the close", "a text message")
        start = time.monotonic()
        await asyncio.wait_for(ws.close(code, reason), 3 * c.T)
        took = time.monotonic() - start
        rcvd = ws.close_rcvd
        if rcvd is None:
            raise Failed("no close frame came back")
        if (rcvd.code, rcvd.reason) != (code, reason):
            raise Failed('sent close %d "%s", got close %d "%s"' % (code, reason, rcvd.code, rcvd.reason))
        if took >= 0.9 * c.T:
            raise Failed("the server did not close the TCP connection within %g s of the closing handshake" % c.T)

    return t


SERVER_TESTS.append(("close-4000", close_test(4000, "done: ✓ closing")))
SERVER_TESTS.append(("close-1000", close_test(1000, "")))
SERVER_TESTS.append(("close-reason-123", close_test(4999, "é" * 60 + "xyz")))


@server_test("close-empty")
async def t_close_empty(c):
    # websockets' close() always sends a code; write_close_frame with an
    # empty payload sends a close frame without one.
    ws = await c.open(c.plain)
    await asyncio.wait_for(ws.write_close_frame(Close(1005, ""), b""), c.T)
    try:
        await asyncio.wait_for(ws.wait_closed(), 2 * c.T)
    except asyncio.TimeoutError:
        raise Failed("the connection did not end within %g s of an empty close" % (2 * c.T)) from None
    rcvd = ws.close_rcvd
    if rcvd is None:
        raise Failed("no close frame came back")
    if rcvd.code not in (1005, 1000):
        raise Failed('sent an empty close, got close %d "%s"' % (rcvd.code, rcvd.reason))


PROTOCOL_CASES = [
    # name, offered, expected (None: none selected; the handshake may also be refused)
    ("protocol-server-preference", ["superchat", "chat"], "chat"),
    ("protocol-single", ["superchat"], "superchat"),
    ("protocol-skip-unknown", ["unknown", "superchat"], "superchat"),
    ("protocol-none-offered", [], None),
    ("protocol-unknown-only", ["unknown"], None),
    ("protocol-not-configured", ["chat"], None),
]


def protocol_test(name, offered, expected):
    async def t(c):
        url = c.plain if name == "protocol-not-configured" else c.proto
        try:
            ws = await c.open(url, offered)
        except websockets.InvalidStatusCode as e:
            if expected is None:
                return "refused: status %d" % e.status_code
            raise Failed("offered %s: the server refused the handshake with status %d" % (offered, e.status_code)) from None
        except websockets.InvalidHandshake as e:
            # websockets fails a handshake that selects a protocol it did not offer
            raise Failed("offered %s: the handshake failed: %s" % (offered, e)) from None
        chosen = ws.subprotocol
        if chosen != expected:
            raise Failed(
                "offered %s to a server with chat, superchat: expected %s, got %s"
                % (offered, expected or "none", chosen or "none")
            )
        await send_and_check(c, ws, "on %s" % (chosen or "no protocol"), "a text message")
        return "selected %s" % chosen if chosen else "no protocol selected"

    return t


for _case in PROTOCOL_CASES:
    SERVER_TESTS.append((_case[0], protocol_test(*_case)))


@server_test("concurrent-50x20")
async def t_concurrent(c):
    conns = await asyncio.gather(*(c.open(c.plain) for _ in range(50)))

    async def run(k, ws):
        sent = []
        for i in range(20):
            data = binary_data(100 + 37 * i, 1000 * k + i + 1) if (i + k) % 2 else "connection %d message %d ✓" % (k, i)
            await send(ws, data, c.T, "message %d on connection %d" % (i, k))
            sent.append(data)
        for i in range(20):
            check_echo(await recv(ws, c.T, "echo %d on connection %d" % (i, k)), sent[i], "connection %d message %d" % (k, i))

    await asyncio.gather(*(run(k, ws) for k, ws in enumerate(conns)))
    return "50 connections x 20 messages echoed in order"


async def run_server_tests(args):
    names = set(filter(None, args.tests.split(","))) if args.tests else None
    for name, fn in SERVER_TESTS + DEFLATE_TESTS:
        if names is not None and name not in names:
            continue
        c = Ctx(args)
        start = time.monotonic()
        ok, detail = True, ""
        try:
            note = await asyncio.wait_for(fn(c), 3 * c.T)
            if isinstance(note, str):
                detail = note
        except Failed as e:
            ok, detail = False, str(e)
        except asyncio.TimeoutError:
            ok, detail = False, "the test did not finish within %g s" % (3 * c.T)
        except (websockets.WebSocketException, OSError) as e:
            ok, detail = False, "%s: %s" % (type(e).__name__, e)
        await c.shut()
        emit({"test": name, "ok": ok, "detail": detail, "ms": int((time.monotonic() - start) * 1000)})
    emit({"done": True})


# ------------------------------------------------------------------ client scenarios


class Checker:
    def ok(self, check, detail=""):
        emit({"check": check, "ok": True, "detail": detail})

    def bad(self, check, detail):
        emit({"check": check, "ok": False, "detail": detail})


async def steps(r, todo):
    """Run named steps in order; the first that fails is reported and ends the run."""
    for name, step in todo:
        try:
            note = await step()
            r.ok(name, note if isinstance(note, str) else "")
        except Failed as e:
            r.bad(name, str(e))
            return False
        except (asyncio.TimeoutError, websockets.WebSocketException, OSError) as e:
            r.bad(name, "%s: %s" % (type(e).__name__, e))
            return False
    return True


def offered_protocols(ws):
    return [p.strip() for v in ws.request_headers.get_all("Sec-WebSocket-Protocol") for p in v.split(",")]


def echo_step(c, ws, data, what):
    async def step():
        await send_and_check(c, ws, data, what)

    return step


async def close_step(c, ws, code, reason):
    await asyncio.wait_for(ws.close(code, reason), 3 * c.T)
    rcvd = ws.close_rcvd
    if rcvd is None:
        raise Failed("the client did not answer the close frame")
    return "the client answered with close %d%s" % (rcvd.code, ' "%s"' % rcvd.reason if rcvd.reason else "")


async def play_echo(c, ws, r):
    async def request():
        offered = ws.request_headers.get_all("Sec-WebSocket-Protocol")
        if offered:
            raise Failed("offered protocols without --protocol: %s" % offered)
        return "GET %s" % ws.path

    async def ping():
        await pong(await ws.ping("peer ping ✓".encode("utf-8")), c.T, "the client's pong")

    async def pipelined():
        sent = []
        for i in range(20):
            data = binary_data(200 + i, 500 + i) if i % 2 else "pipelined %d" % i
            await send(ws, data, c.T, "pipelined message %d" % i)
            sent.append(data)
        for i in range(20):
            check_echo(await recv(ws, c.T, "pipelined echo %d" % i), sent[i], "pipelined message %d" % i)

    async def fragmented(pieces, what):
        await send(ws, pieces, c.T, what)
        whole = "".join(pieces) if isinstance(pieces[0], str) else b"".join(pieces)
        check_echo(await recv(ws, c.T, "the echo of " + what), whole, what)

    todo = [
        ("request", request),
        ("text", echo_step(c, ws, "hello", "a text message")),
        ("text-empty", echo_step(c, ws, "", "an empty text message")),
        ("binary-empty", echo_step(c, ws, b"", "an empty binary message")),
        ("utf8", echo_step(c, ws, UTF8_SAMPLE, "a text message with multi-octet characters")),
    ]
    todo += [("binary-%d" % n, echo_step(c, ws, binary_data(n, n), "a %d-octet binary message" % n)) for n in (1, 125, 126, 65535, 65536)]
    todo += [
        ("text-65536", echo_step(c, ws, utf8_text(65536), "a 65536-octet text message")),
        ("fragmented-text", lambda: fragmented(["fragmented ", "", UTF8_SAMPLE], "a text message in 4 frames")),
        ("fragmented-binary", lambda: fragmented([binary_data(3000, 1), binary_data(70000, 2), binary_data(10, 3)], "a binary message in 4 frames")),
        ("binary-4MiB", echo_step(c, ws, binary_data(4 * MiB, 44), "a 4 MiB binary message")),
        ("text-4MiB", echo_step(c, ws, ascii_text(4 * MiB, 45), "a 4 MiB text message")),
        ("ping", ping),
        ("pipelined-20", pipelined),
    ]
    if await steps(r, todo):
        await steps(r, [("close", lambda: close_step(c, ws, 4001, "bye"))])


async def play_subprotocol(c, ws, r):
    async def request():
        offered = offered_protocols(ws)
        if offered != ["chat", "superchat"]:
            raise Failed("the client offered %s, expected ['chat', 'superchat'] in that order" % offered)
        return "offered %s; selected %s" % (",".join(offered), ws.subprotocol)

    ok = await steps(r, [("request", request), ("echo", echo_step(c, ws, "on superchat", "a text message"))])
    if ok:
        await steps(r, [("close", lambda: close_step(c, ws, 1000, ""))])


async def play_close_no_code(c, ws, r):
    async def close():
        await asyncio.wait_for(ws.write_close_frame(Close(1005, ""), b""), c.T)
        await asyncio.wait_for(ws.wait_closed(), 2 * c.T)
        if ws.close_rcvd is None:
            raise Failed("the client did not answer the close frame")

    if await steps(r, [("echo", echo_step(c, ws, "then an empty close", "a text message"))]):
        await steps(r, [("close", close)])


async def play_abort(c, ws, r):
    if await steps(r, [("echo", echo_step(c, ws, "then the TCP connection drops", "a text message"))]):
        ws.transport.abort()


async def play_rejected(c, ws, r, what):
    r.ok("request", "offered %s; answered %s" % (offered_protocols(ws), ws.response_headers.get("Sec-WebSocket-Protocol")))
    try:
        await asyncio.wait_for(ws.send("you should have failed the handshake"), c.T)
        await asyncio.wait_for(ws.recv(), c.T)
    except websockets.ConnectionClosed:
        r.ok("handshake failed", "the client ended the connection (%s)" % close_text(ws))
        return
    except asyncio.TimeoutError:
        r.bad("handshake failed", "the client kept the connection open for %g s" % c.T)
        return
    r.bad("handshake failed", "the client accepted %s and echoed a message" % what)


WS_SCENARIOS = {
    "echo": (play_echo, {}),
    "subprotocol": (play_subprotocol, {"subprotocols": ["superchat"]}),
    "close-no-code": (play_close_no_code, {}),
    "abort": (play_abort, {}),
    "wrong-protocol": (
        lambda c, ws, r: play_rejected(c, ws, r, 'the subprotocol "other" that it did not offer'),
        {"subprotocols": ["other"], "select_subprotocol": lambda client, server: "other"},
    ),
    "unrequested-protocol": (
        lambda c, ws, r: play_rejected(c, ws, r, 'a subprotocol ("chat") although it offered none'),
        {"extra_headers": [("Sec-WebSocket-Protocol", "chat")]},
    ),
}


async def play_ws(args):
    c = Ctx(args)
    r = Checker()
    if args.scenario in DEFLATE_SCENARIOS:
        play, options = play_deflate, deflate_scenario_options(args.scenario)
    else:
        play, options = WS_SCENARIOS[args.scenario]
    loop = asyncio.get_running_loop()
    first = loop.create_future()
    finished = loop.create_future()

    async def handler(ws, path=None):
        if first.done():
            return
        first.set_result(ws)
        try:
            await play(c, ws, r)
        except Exception as e:  # reported, never lost
            r.bad("peer", "%s: %s" % (type(e).__name__, e))
        finally:
            finished.set_result(None)

    kwargs = dict(max_size=MAX_SIZE, ping_interval=None, close_timeout=c.T)
    kwargs.update(options)
    server = await websockets.serve(handler, "127.0.0.1", 0, **kwargs)
    print("listening on %d" % server.sockets[0].getsockname()[1], flush=True)
    try:
        await asyncio.wait_for(asyncio.shield(first), c.T)
        await asyncio.wait_for(asyncio.shield(finished), 60 * c.T)  # each step is bounded by T
    except asyncio.TimeoutError:
        r.bad("connect", "the client did not complete a handshake within %g s" % c.T)
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), c.T)
    except asyncio.TimeoutError:
        pass
    emit({"done": True})


# ------------------------------------------------------------------ raw TCP scenarios (bad handshakes)


def accept_for(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def server_frame(opcode, payload):
    return bytes([0x80 | opcode, len(payload)]) + payload


def client_opcodes(buf):
    ops, i = [], 0
    while i + 2 <= len(buf):
        op, masked, n, at = buf[i] & 0x0F, buf[i + 1] & 0x80, buf[i + 1] & 0x7F, i + 2
        if n == 126:
            if at + 2 > len(buf):
                break
            (n,) = struct.unpack("!H", buf[at : at + 2])
            at += 2
        elif n == 127:
            if at + 8 > len(buf):
                break
            (n,) = struct.unpack("!Q", buf[at : at + 8])
            at += 8
        ops.append(op)
        i = at + (4 if masked else 0) + n
    return ops


def check_request(head, port):
    lines = head.split("\r\n")
    problems = []
    m = re.match(r"^GET (\S+) HTTP/1\.1$", lines[0])
    if not m:
        problems.append('request line "%s"' % lines[0])
    h = {}
    for line in lines[1:]:
        k, sep, v = line.partition(":")
        if sep:
            h[k.strip().lower()] = v.strip()
    host = h.get("host")
    if host is None:
        problems.append("no Host")
    elif host != "127.0.0.1:%d" % port:
        problems.append('Host "%s", expected 127.0.0.1:%d' % (host, port))
    if h.get("upgrade", "").lower() != "websocket":
        problems.append('Upgrade "%s"' % h.get("upgrade"))
    if "upgrade" not in [t.strip().lower() for t in h.get("connection", "").split(",")]:
        problems.append('Connection "%s"' % h.get("connection"))
    if h.get("sec-websocket-version") != "13":
        problems.append('Sec-WebSocket-Version "%s"' % h.get("sec-websocket-version"))
    key = h.get("sec-websocket-key", "")
    try:
        good_key = len(base64.b64decode(key, validate=True)) == 16
    except ValueError:
        good_key = False
    if not good_key:
        problems.append('Sec-WebSocket-Key "%s"' % key)
    return problems, key, m.group(1) if m else "?"


RAW_SCENARIOS = {
    "bad-accept": lambda key: (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\n\r\n" % accept_for(key + "x")
    ).encode(),
    "no-upgrade": lambda key: (
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept_for(key)
    ).encode(),
    "status-200": lambda key: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n",
}


async def play_raw(args):
    T = args.timeout
    r = Checker()
    loop = asyncio.get_running_loop()
    first = loop.create_future()

    async def accept(reader, writer):
        if first.done():
            writer.close()
            return
        first.set_result((reader, writer))

    server = await asyncio.start_server(accept, "127.0.0.1", 0, limit=16384)
    port = server.sockets[0].getsockname()[1]
    print("listening on %d" % port, flush=True)
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.shield(first), T)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), T)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            raise Failed("the client sent no complete handshake request") from None
        problems, key, path = check_request(head[:-4].decode("latin-1"), port)
        if problems:
            r.bad("request", "; ".join(problems))
        else:
            r.ok("request", "GET %s" % path)
        writer.write(RAW_SCENARIOS[args.scenario](key))
        if args.scenario != "status-200":
            # What a client that skipped the check would echo, then a normal close.
            writer.write(server_frame(1, b"you should have failed the handshake") + server_frame(8, struct.pack("!H", 1000)))
        await writer.drain()
        rest = bytearray()
        try:
            async def drain_client():
                while True:
                    chunk = await reader.read(65536)
                    if not chunk:
                        return
                    rest.extend(chunk)

            await asyncio.wait_for(drain_client(), T)
            dropped = True
        except asyncio.TimeoutError:
            dropped = False
        except OSError:
            dropped = True
        ops = client_opcodes(bytes(rest))
        if 1 in ops or 2 in ops:
            r.bad("handshake failed", "the client accepted the handshake and echoed a message")
        elif not dropped:
            r.bad("handshake failed", "the client kept the connection open for %g s" % T)
        else:
            r.ok("handshake failed", "the client sent opcodes %s and closed" % ops if ops else "the client closed the connection")
    except asyncio.TimeoutError:
        r.bad("connect", "the client did not connect or send its request within %g s" % T)
    except Failed as e:
        r.bad("connect", str(e))
    if writer is not None:
        writer.transport.abort()
    server.close()
    emit({"done": True})


# ------------------------------------------------------------------ compression (permessage-deflate)

# These run only when the runner is given --deflate: the server tests
# against an echo server started with --deflate (c.deflate) and, for
# "deflate-declined", the plain one; the client scenarios against an echo
# client started with --deflate.

from websockets.extensions.permessage_deflate import (  # noqa: E402
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import OP_BINARY, OP_CONT, OP_TEXT  # noqa: E402
import zlib  # noqa: E402

PROBE = 12000  # a random block sent twice: its second copy lies 12000 octets back


def json_text(n, seed):
    """Exactly n octets of JSON-like ASCII text (compressible)."""
    rnd = random.Random(seed)
    parts, size, i = ["["], 1, 0
    while size < n:
        item = '{"id":%d,"name":"item-%d","tags":["alpha","beta"],"value":%.4f,"ok":%s},' % (
            i, rnd.randrange(1000), rnd.random(), "true" if i % 3 else "false")
        parts.append(item)
        size += len(item)
        i += 1
    return "".join(parts)[:n]


def parse_extensions(value):
    """'permessage-deflate; a; b=9' -> [('permessage-deflate', {'a': None, 'b': '9'})]."""
    out = []
    for element in (value or "").split(","):
        items = [p.strip() for p in element.split(";")]
        if not items[0]:
            continue
        params = {}
        for p in items[1:]:
            k, eq, v = p.partition("=")
            params[k.strip()] = v.strip().strip('"') if eq else None
        out.append((items[0], params))
    return out


def check_answer(answer, expected):
    """The server's Sec-WebSocket-Extensions answer against the expected
    permessage-deflate parameters: {name: value or None}; a value of "15"
    for client_max_window_bits may also be left out."""
    exts = parse_extensions(answer)
    if len(exts) != 1 or exts[0][0] != "permessage-deflate":
        raise Failed("the server answered Sec-WebSocket-Extensions: %s, expected permessage-deflate" % answer)
    got = dict(exts[0][1])
    want = dict(expected)
    if want.get("client_max_window_bits") == "15" and "client_max_window_bits" not in got:
        del want["client_max_window_bits"]
    if got != want:
        show = lambda d: "; ".join(k if v is None else "%s=%s" % (k, v) for k, v in sorted(d.items())) or "no parameters"
        raise Failed('the server answered "%s": expected %s, got %s' % (answer, show(want), show(got)))


class Wire:
    """What came compressed on a connection, by wrapping the
    permessage-deflate extension's decode (it sees each frame before it is
    inflated): [RSV1, payload octets] of each data message, in order."""

    def __init__(self, ws):
        self.msgs = []
        for ext in ws.extensions:
            if isinstance(ext, PerMessageDeflate):
                self.wrap(ext)

    def wrap(self, ext):
        original = ext.decode

        def decode(frame, *, max_size=None):
            if frame.opcode in (OP_TEXT, OP_BINARY):
                self.msgs.append([frame.rsv1, len(frame.data)])
            elif frame.opcode == OP_CONT and self.msgs:
                self.msgs[-1][1] += len(frame.data)
            return original(frame, max_size=max_size)

        ext.decode = decode

    def last(self):
        return self.msgs[-1] if self.msgs else [False, 0]


async def deflate_sequence(c, ws, wire, check_rsv1, big=()):
    """The messages every compression case echoes, in one connection (so
    context takeover runs over all of them).  check_rsv1: the echoes of
    compressible messages must come compressed."""
    js = json_text(1024, 1)
    probe = binary_data(PROBE, 77)
    seq = [
        ("", "an empty text message"),
        (b"", "an empty binary message"),
        ("hi", "a 2-octet text message"),
        (b"\x00\x01\x02\x03\x04", "a 5-octet binary message"),
        (js, "a 1 KiB JSON-like text message"),
        (js, "the same 1 KiB JSON-like text message again (context takeover)"),
        (js.encode("ascii"), "the 1 KiB JSON-like text as a binary message"),
        (probe, "a random %d-octet block" % PROBE),
        (probe, "the same random block again (window probe)"),
        (UTF8_SAMPLE * 20, "text of multi-octet characters"),
        (json_text(65536, 2), "a 64 KiB JSON-like text message"),
        (binary_data(65536, 3), "a 64 KiB random binary message"),
    ]
    seq += list(big)
    json_echo = []
    for i, (data, what) in enumerate(seq):
        await send_and_check(c, ws, data, what)
        if i in (4, 5):
            json_echo.append(wire.last())
    # 30 in a row, then their echoes in order
    sent = []
    for i in range(30):
        data = json_text(200 + 50 * i, 100 + i) if i % 2 == 0 else json_text(300 + i, 200 + i).encode("ascii")
        await send(ws, data, c.T, "message %d of 30 in a row" % i)
        sent.append(data)
    for i in range(30):
        check_echo(await recv(ws, c.T, "echo %d of 30 in a row" % i), sent[i], "message %d of 30 in a row" % i)
    if not check_rsv1:
        return ""
    if not json_echo[0][0]:
        raise Failed("the echo of a 1 KiB JSON-like text message came uncompressed (RSV1 clear)")
    n = sum(1 for m in wire.msgs if m[0])
    return "%d of %d echoes compressed; the 1 KiB JSON echo took %d octets, its repeat %d%s" % (
        n, len(wire.msgs), json_echo[0][1], json_echo[1][1], "" if json_echo[1][0] else " (uncompressed)")


# offer name: (ClientPerMessageDeflateFactory arguments or None for
# compression="deflate", node's perMessageDeflate options in node_peer.js,
# and the answer this server must give)
DEFLATE_OFFERS = [
    ("defaults", None, {}),
    ("client-no-context", dict(client_no_context_takeover=True), {"client_no_context_takeover": None}),
    ("server-no-context", dict(server_no_context_takeover=True), {"server_no_context_takeover": None}),
    ("client-window-9", dict(client_max_window_bits=9), {"client_max_window_bits": "9"}),
    ("client-window-12", dict(client_max_window_bits=12), {"client_max_window_bits": "12"}),
    ("client-window-15", dict(client_max_window_bits=15), {"client_max_window_bits": "15"}),
    ("server-window-9", dict(server_max_window_bits=9), {"server_max_window_bits": "9"}),
    ("server-window-10", dict(server_max_window_bits=10), {"server_max_window_bits": "10"}),
    ("server-window-12", dict(server_max_window_bits=12), {"server_max_window_bits": "12"}),
    ("server-window-15", dict(server_max_window_bits=15), {"server_max_window_bits": "15"}),
    (
        "all",
        dict(server_no_context_takeover=True, client_no_context_takeover=True, server_max_window_bits=9, client_max_window_bits=9),
        {"server_no_context_takeover": None, "client_no_context_takeover": None, "server_max_window_bits": "9", "client_max_window_bits": "9"},
    ),
]


async def open_deflate(c, url, factory):
    kwargs = dict(max_size=MAX_SIZE, ping_interval=None, open_timeout=c.T, close_timeout=c.T)
    if factory is None:
        kwargs["compression"] = "deflate"
    else:
        kwargs.update(compression=None, extensions=[factory])
    try:
        ws = await asyncio.wait_for(websockets.connect(url, **kwargs), c.T + 1)
    except asyncio.TimeoutError:
        raise Failed("opening %s: no handshake within %g s" % (url, c.T)) from None
    except OSError as e:
        raise Failed("opening %s: %s" % (url, e)) from None
    except websockets.InvalidHandshake as e:
        raise Failed("opening %s: the handshake failed: %s" % (url, e)) from None
    c.opened.append(ws)
    return ws


DEFLATE_TESTS = []


def offer_test(args, expected):
    async def t(c):
        ws = await open_deflate(c, c.deflate, None if args is None else ClientPerMessageDeflateFactory(**args))
        answer = ws.response_headers.get("Sec-WebSocket-Extensions")
        check_answer(answer, expected)
        agreed = [e for e in ws.extensions if isinstance(e, PerMessageDeflate)]
        if not agreed:
            raise Failed("websockets did not enable permessage-deflate for the answer %s" % answer)
        note = await deflate_sequence(c, ws, Wire(ws), True)
        return 'answered "%s"; %r; %s' % (answer, agreed[0], note)

    return t


for _name, _args, _expected in DEFLATE_OFFERS:
    DEFLATE_TESTS.append(("deflate-" + _name, offer_test(_args, _expected)))


def deflate_size_test(n, binary):
    async def t(c):
        ws = await open_deflate(c, c.deflate, None)
        check_answer(ws.response_headers.get("Sec-WebSocket-Extensions"), {})
        wire = Wire(ws)
        data = binary_data(n, n + 3) if binary else json_text(n, n + 5)
        await send_and_check(c, ws, data, "a %d-octet %s message" % (n, "binary" if binary else "JSON-like text"))
        rsv1, size = wire.last()
        if not binary and n >= 1024 and not rsv1:
            raise Failed("the echo of a %d-octet JSON-like text message came uncompressed (RSV1 clear)" % n)
        return "echo %s, %d octets on the wire" % ("compressed" if rsv1 else "uncompressed", size)

    return t


DEFLATE_SIZES = [0, 5, 1024, 65536, MiB, 16 * MiB - 1024]
for _n in DEFLATE_SIZES:
    for _binary in (False, True):
        DEFLATE_TESTS.append(("deflate-%s-%d" % ("binary" if _binary else "text", _n), deflate_size_test(_n, _binary)))


async def t_deflate_declined(c):
    # offered to the server started without --deflate: declined
    ws = await open_deflate(c, c.plain, ClientPerMessageDeflateFactory(server_no_context_takeover=True, server_max_window_bits=10))
    answer = ws.response_headers.get("Sec-WebSocket-Extensions")
    if answer is not None or ws.extensions:
        raise Failed("the server without --deflate accepted an extension: %s" % answer)
    await send_and_check(c, ws, json_text(1024, 1), "a 1 KiB JSON-like text message")
    await send_and_check(c, ws, json_text(65536, 2), "a 64 KiB JSON-like text message")
    return "declined; echoes uncompressed"


DEFLATE_TESTS.append(("deflate-declined", t_deflate_declined))


async def t_deflate_raw(c):
    """Our own framing on a plain socket: the echo of a 1 KiB JSON-like text
    must come with RSV1 set and inflate to what was sent; a compressed frame
    of ours must be understood."""
    host, port = re.match(r"^ws://([^:/]+):(\d+)", c.deflate).groups()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), c.T)
    try:
        key = base64.b64encode(random.randbytes(16)).decode()
        writer.write((
            "GET / HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n" % (host, port, key)
        ).encode())
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), c.T)).decode("latin-1")
        if not head.startswith("HTTP/1.1 101"):
            raise Failed("no 101: %s" % head.splitlines()[0])
        ext = re.search(r"(?im)^sec-websocket-extensions:\s*(.*?)\s*$", head)
        if not ext or not ext.group(1).startswith("permessage-deflate"):
            raise Failed("the 101 accepts no permessage-deflate: %s" % (ext.group(1) if ext else "no Sec-WebSocket-Extensions"))

        def masked(first, payload):
            mask = random.randbytes(4)
            n = len(payload)
            size = bytes([0x80 | n]) if n < 126 else (bytes([0x80 | 126]) + struct.pack("!H", n) if n < 65536 else bytes([0x80 | 127]) + struct.pack("!Q", n))
            return bytes([first]) + size + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

        async def read_frame():
            b0, b1 = await asyncio.wait_for(reader.readexactly(2), c.T)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await reader.readexactly(8))
            if b1 & 0x80:
                raise Failed("the server masked a frame")
            return b0, await asyncio.wait_for(reader.readexactly(n), c.T)

        text = json_text(1024, 1).encode()
        notes = []
        for compressed in (False, True):
            if compressed:
                z = zlib.compressobj(wbits=-15)
                payload = z.compress(text) + z.flush(zlib.Z_SYNC_FLUSH)
                payload = payload[:-4]
                writer.write(masked(0x80 | 0x40 | 0x1, payload))
            else:
                writer.write(masked(0x80 | 0x1, text))
            b0, payload = await read_frame()
            if b0 & 0x0F != 1 or not b0 & 0x80:
                raise Failed("the echo's first octet is 0x%02x, expected a final text frame" % b0)
            if not b0 & 0x40:
                raise Failed("the echo of a 1 KiB JSON-like text has RSV1 clear: the server did not compress")
            try:
                # each message with a fresh inflater would break on context
                # takeover: keep one, as the connection does
                if not compressed:
                    inflater = zlib.decompressobj(wbits=-15)
                got = inflater.decompress(payload + b"\x00\x00\xff\xff")
            except zlib.error as e:
                raise Failed("the echo does not inflate: %s" % e) from None
            if got != text:
                raise Failed("the echo inflates to %d octets that differ from the %d sent" % (len(got), len(text)))
            notes.append("%d -> %d octets" % (len(text), len(payload)))
        writer.write(masked(0x88, struct.pack("!H", 1000)))
        b0, payload = await read_frame()
        if b0 & 0x0F != 8:
            raise Failed("expected a close frame, got opcode %d" % (b0 & 0x0F))
        return "RSV1 set on both echoes (%s)" % ", ".join(notes)
    finally:
        writer.transport.abort()


DEFLATE_TESTS.append(("deflate-raw-rsv1", t_deflate_raw))


# Client scenarios: the peer serves with compression; the echo client runs
# with --deflate.  name: (ServerPerMessageDeflateFactory arguments or None
# for compression="deflate", the client window the peer asks for).
DEFLATE_SCENARIOS = {
    "deflate-echo": None,
    "deflate-server-no-context": dict(server_no_context_takeover=True),
    "deflate-server-window-10": dict(server_max_window_bits=10),
    "deflate-client-no-context": dict(client_no_context_takeover=True),
    "deflate-client-window-9": dict(client_max_window_bits=9),
    "deflate-client-window-11": dict(client_max_window_bits=11),
    "deflate-client-window-13": dict(client_max_window_bits=13),
    "deflate-client-window-15": dict(client_max_window_bits=15),
}


def deflate_scenario_options(name):
    args = DEFLATE_SCENARIOS[name]
    if args is None:
        return {"compression": "deflate"}
    return {"compression": None, "extensions": [ServerPerMessageDeflateFactory(**args)]}


async def play_deflate(c, ws, r):
    wire = Wire(ws)

    async def request():
        offered = ws.request_headers.get_all("Sec-WebSocket-Extensions")
        if not any(e[0] == "permessage-deflate" for v in offered for e in parse_extensions(v)):
            raise Failed("the client offered no permessage-deflate (Sec-WebSocket-Extensions: %s)" % (offered or "none"))
        agreed = [e for e in ws.extensions if isinstance(e, PerMessageDeflate)]
        if not agreed:
            raise Failed("no compression agreed")
        return "offered %s; answered %s; %r" % (", ".join(offered), ws.response_headers.get("Sec-WebSocket-Extensions"), agreed[0])

    async def sequence():
        return await deflate_sequence(c, ws, wire, True, big=[(json_text(MiB, 9), "a 1 MiB JSON-like text message"), (binary_data(MiB, 10), "a 1 MiB random binary message")])

    async def fragmented():
        pieces = [json_text(3000, 11), json_text(70000, 12), "", json_text(10, 13)]
        await send(ws, pieces, c.T, "a compressed text message in 5 frames")
        check_echo(await recv(ws, c.T, "the echo of a text message in 5 frames"), "".join(pieces), "a compressed text message in 5 frames")

    async def ping():
        await pong(await ws.ping(b"ping while compressing"), c.T, "the client's pong")

    todo = [("request", request), ("sequence", sequence), ("fragmented", fragmented), ("ping", ping)]
    if ws.path.endswith("deflate-echo"):
        todo.append(("text-16MiB", echo_step(c, ws, json_text(16 * MiB - 1024, 14), "a 16 MiB - 1 KiB JSON-like text message")))
    if await steps(r, todo):
        await steps(r, [("close", lambda: close_step(c, ws, 4001, "bye"))])


# ------------------------------------------------------------------ main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["list", "server-tests", "client-peer"])
    ap.add_argument("--plain")
    ap.add_argument("--proto")
    ap.add_argument("--deflate", help="an echo server started with --deflate (the deflate-* tests)")
    ap.add_argument("--tests")
    ap.add_argument("--scenario")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()
    if args.timeout <= 0:
        ap.error("--timeout must be positive")
    if args.mode == "list":
        emit({
            "server": [n for n, _ in SERVER_TESTS],
            "client": list(WS_SCENARIOS) + list(RAW_SCENARIOS),
            "deflate_server": [n for n, _ in DEFLATE_TESTS],
            "deflate_client": list(DEFLATE_SCENARIOS),
        })
    elif args.mode == "server-tests":
        if not args.plain or not args.proto:
            ap.error("server-tests needs --plain and --proto")
        for u in (args.plain, args.proto) + ((args.deflate,) if args.deflate else ()):
            if not u.startswith("ws://127.0.0.1:"):
                ap.error("not a loopback ws:// URL: %s" % u)
        asyncio.run(run_server_tests(args))
    elif args.scenario in WS_SCENARIOS or args.scenario in DEFLATE_SCENARIOS:
        asyncio.run(play_ws(args))
    elif args.scenario in RAW_SCENARIOS:
        asyncio.run(play_raw(args))
    else:
        ap.error("unknown scenario %s" % args.scenario)


if __name__ == "__main__":
    main()
