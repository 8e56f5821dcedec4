"""WebSocket peers that try to make the server spend memory or time it
should not, against the echo server built on the C++ API
(tests/websocket/programs/ws_echo_server.cpp, default limits: 16 MiB per
message and frame, 131,072 frames per message).

* A frame header announcing 2^63-1 bytes, or 16 MiB + 1, is refused with
  close code 1009 before any payload is sent; a length with the top bit
  set with 1002.
* A million empty continuation frames are cut off with 1008 at the
  fragment cap, in bounded time and memory, while another connection keeps
  echoing promptly.
* A client that sends without ever reading its echoes is held back by TCP:
  the server's memory stays bounded however much the client tries to send.
* 300 connections that send half a frame and reset, or half a handshake
  and reset: the server lets every one of them go and still echoes.
* A frame trickled a byte at a time is still echoed.
* A ping flood from a client that reads nothing: the pongs waiting to go
  stay bounded, the server's memory too, other connections go on, and the
  flooder's next message is still echoed once it reads.
* With permessage-deflate on (--deflate), a message of a few hundred KiB
  that inflates to 256 MiB is refused with 1009 once past the 16 MiB limit,
  in bounded time and memory, while another connection keeps echoing.
* With keepalive on (--ping-interval), a client that never answers the
  server's pings is closed with 1011, while one that answers stays.
"""
import hashlib
import os
import re
import socket
import struct
import threading
import time
import zlib

from hostilelib import CONFIG, HOST, HostileTestCase, Server, linger_reset, scaled, wait_until

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WsEchoServer(Server):
    name = "ws_echo_server"
    PORT_RE = re.compile(r"^listening on (\d+)$", re.M)

    def __init__(self, *extra, **kw):
        super().__init__([CONFIG["ws_server"], "0", *extra], "ws", **kw)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def frame(opcode, payload=b"", fin=True, length=None):
    """A masked client frame; length overrides the header's length field
    (the payload is then whatever the test sends after it)."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | opcode])
    if n <= 125:
        head += bytes([0x80 | n])
    elif n <= 0xFFFF:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


class Ws:
    """A raw client connection: handshake, frames, and reading the server's
    frames (unmasked)."""

    def __init__(self, port, timeout=5.0, extensions=None):
        self.sock = socket.create_connection((HOST, port), timeout=scaled(timeout))
        self.buf = b""
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        ext = "Sec-WebSocket-Extensions: %s\r\n" % extensions if extensions else ""
        req = ("GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n" % (HOST, port, key, ext))
        self.sock.sendall(req.encode())
        head = self._read_until(b"\r\n\r\n")
        self.head = head
        if not head.startswith(b"HTTP/1.1 101"):
            raise AssertionError("handshake refused: %r" % head[:200])

    def _read_until(self, marker):
        while marker not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("closed during the handshake")
            self.buf += data
        i = self.buf.index(marker) + len(marker)
        head, self.buf = self.buf[:i], self.buf[i:]
        return head

    def _need(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(1 << 20)
            if not data:
                raise EOFError("closed with %d of %d bytes" % (len(self.buf), n))
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self):
        b0, b1 = self._need(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._need(8))[0]
        return b0 & 0x0F, self._need(n)

    def close_code(self):
        """Reads frames until a close frame; its code (or None at EOF)."""
        try:
            while True:
                op, payload = self.read_frame()
                if op == 8:
                    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
        except (EOFError, ConnectionError, socket.timeout):
            return None

    def ends(self, timeout):
        """Whether the server closes the TCP connection within timeout."""
        self.sock.settimeout(scaled(timeout))
        try:
            while self.sock.recv(65536):
                pass
            return True
        except (ConnectionError, socket.timeout):
            return False

    def echo(self, data):
        self.sock.sendall(frame(2, data))
        op, payload = self.read_frame()
        return op == 2 and payload == data

    def close(self):
        self.sock.close()


class Prober(threading.Thread):
    """Echoes small messages on its own connection while an attack runs,
    recording the slowest round trip."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.ws = Ws(port)
        self.stop = threading.Event()
        self.worst = 0.0
        self.count = 0
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set():
                t = time.monotonic()
                if not self.ws.echo(b"probe %d" % self.count):
                    self.error = "wrong echo"
                    return
                self.worst = max(self.worst, time.monotonic() - t)
                self.count += 1
                time.sleep(0.01)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = repr(e)
        finally:
            self.ws.close()


class WebSocketLimits(HostileTestCase):
    def setUp(self):
        self.srv = self.start(WsEchoServer)

    def test_huge_lengths_are_refused_before_any_payload(self):
        for length, code in ((2**63 - 1, 1009), ((16 << 20) + 1, 1009), (2**63, 1002)):
            ws = Ws(self.srv.port)
            head = frame(2, length=0)  # placeholder, replaced below
            if length >= 2**63:
                # The top bit of a 64-bit length must be 0: written by hand.
                head = bytes([0x82, 0x80 | 127]) + struct.pack("!Q", length) + os.urandom(4)
            else:
                head = frame(2, length=length)
            ws.sock.sendall(head)
            got = ws.close_code()
            self.assertEqual(got, code, "a frame of %d bytes announced: close code %r" % (length, got))
            self.assertTrue(ws.ends(2.0), "the server did not close after refusing %d" % length)
            ws.close()

    def test_a_million_empty_fragments_are_cut_off(self):
        probe = Prober(self.srv.port)
        probe.start()
        base = rss_kib(self.srv.pid)
        ws = Ws(self.srv.port, timeout=30.0)
        empty = frame(0, fin=False)
        batch = frame(1, fin=False) + empty * 9999
        sent = 0
        t0 = time.monotonic()
        try:
            while sent < 1_000_000:
                ws.sock.sendall(batch if sent == 0 else empty * 10000)
                sent += 10000
        except (ConnectionError, socket.timeout):
            pass  # the server closed on us: expected once it has refused
        code = ws.close_code()
        took = time.monotonic() - t0
        ws.close()
        grew = rss_kib(self.srv.pid) - base
        probe.stop.set()
        probe.join(scaled(10))
        self.assertEqual(code, 1008, "after %d empty fragments: close code %r" % (sent, code))
        self.assertLess(took, scaled(20), "refusing the fragment flood took %.1f s" % took)
        self.assertLess(grew, 32 * 1024, "the server grew by %d KiB during the flood" % grew)
        self.assertIsNone(probe.error, "the other connection failed: %s" % probe.error)
        self.assertGreater(probe.count, 0)
        self.assertLess(probe.worst, scaled(1.0),
                        "an echo on another connection took %.2f s during the flood" % probe.worst)

    def test_a_client_that_never_reads_is_held_back(self):
        base = rss_kib(self.srv.pid)
        ws = Ws(self.srv.port)
        ws.sock.settimeout(scaled(2.0))
        msg = frame(2, b"x" * 65536)
        sent = 0
        try:
            while sent < (512 << 20):
                ws.sock.sendall(msg)
                sent += len(msg)
        except socket.timeout:
            pass  # TCP pushed back: what should happen
        grew = rss_kib(self.srv.pid) - base
        self.assertLess(sent, 256 << 20,
                        "the server took %d MiB from a client that reads nothing" % (sent >> 20))
        self.assertLess(grew, 64 * 1024, "the server grew by %d KiB" % grew)
        ws.close()
        self.assertTrue(Ws(self.srv.port).echo(b"still here"))

    def test_resets_in_the_middle_are_let_go(self):
        def sockets():
            return self.srv.sockets()

        before = sockets()
        for i in range(300):
            s = socket.create_connection((HOST, self.srv.port), timeout=scaled(5))
            if i % 2 == 0:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
            else:
                ws = Ws.__new__(Ws)
                ws.sock, ws.buf = s, b""
                key = "dGhlIHNhbXBsZSBub25jZQ=="
                s.sendall(("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
                ws._read_until(b"\r\n\r\n")
                s.sendall(frame(2, b"y" * 1000)[:500])  # half a frame
            linger_reset(s)
        settled = wait_until(lambda: sockets() <= before + 1, scaled(5.0))
        self.assertTrue(settled, "sockets: %d before, %d after the resets" % (before, sockets()))
        self.assertTrue(Ws(self.srv.port).echo(b"after the resets"))

    def test_a_frame_trickled_byte_by_byte_is_echoed(self):
        ws = Ws(self.srv.port)
        data = bytes(range(256)) * 2
        for b in frame(2, data):
            ws.sock.sendall(bytes([b]))
            time.sleep(0.001)
        op, payload = ws.read_frame()
        self.assertEqual((op, hashlib.sha256(payload).hexdigest()),
                         (2, hashlib.sha256(data).hexdigest()))
        ws.close()

    def test_a_ping_flood_from_a_client_that_reads_nothing(self):
        probe = Prober(self.srv.port)
        probe.start()
        base = rss_kib(self.srv.pid)
        ws = Ws(self.srv.port)
        ws.sock.settimeout(scaled(2.0))
        ping = frame(9, b"p" * 125)
        sent = 0
        try:
            while sent < 200_000:
                ws.sock.sendall(ping * 1000)
                sent += 1000
        except socket.timeout:
            pass  # held back by TCP: also fine
        time.sleep(0.3)
        grew = rss_kib(self.srv.pid) - base
        probe.stop.set()
        probe.join(scaled(10))
        self.assertLess(grew, 32 * 1024, "the server grew by %d KiB during the ping flood" % grew)
        self.assertIsNone(probe.error, "the other connection failed: %s" % probe.error)
        self.assertLess(probe.worst, scaled(1.0),
                        "an echo on another connection took %.2f s during the flood" % probe.worst)
        # Reading now: pongs (fewer than the pings), then the echo.
        ws.sock.settimeout(scaled(10.0))
        ws.sock.sendall(frame(2, b"after the flood"))
        pongs = 0
        while True:
            op, payload = ws.read_frame()
            if op == 10:
                pongs += 1
                continue
            self.assertEqual((op, payload), (2, b"after the flood"))
            break
        self.assertGreater(pongs, 0)
        self.assertLessEqual(pongs, sent)
        ws.close()


class WebSocketKeepalive(HostileTestCase):
    def setUp(self):
        self.srv = self.start(WsEchoServer, "--ping-interval", "200")

    def test_a_client_that_never_answers_pings_is_closed_with_1011(self):
        quiet = Ws(self.srv.port)
        t0 = time.monotonic()
        op, _ = quiet.read_frame()
        self.assertEqual(op, 9, "expected the server's ping first")
        code = quiet.close_code()  # reads on, never answering
        took = time.monotonic() - t0
        self.assertEqual(code, 1011, "close code %r for a client that does not answer" % code)
        self.assertGreater(took, 0.3)
        self.assertLess(took, scaled(3.0), "closed only after %.1f s" % took)
        self.assertTrue(quiet.ends(2.0), "the server did not close the silent client")
        quiet.close()

    def test_a_client_that_answers_stays(self):
        ws = Ws(self.srv.port)
        ws.sock.settimeout(scaled(3.0))
        answered = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.2:
            op, payload = ws.read_frame()
            self.assertEqual(op, 9, "expected only pings from an idle server, got opcode %d" % op)
            ws.sock.sendall(frame(10, payload))
            answered += 1
        self.assertGreaterEqual(answered, 3)
        self.assertTrue(ws.echo(b"still open"))
        ws.close()


class WebSocketDeflateBomb(HostileTestCase):
    def setUp(self):
        self.srv = self.start(WsEchoServer, "--deflate")

    def test_a_decompression_bomb_is_refused_with_1009(self):
        probe = Prober(self.srv.port)
        probe.start()
        base = rss_kib(self.srv.pid)
        ws = Ws(self.srv.port, extensions="permessage-deflate")
        self.assertIn(b"permessage-deflate", ws.head, "the server did not accept compression")
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = bytes(1 << 20)
        payload = b"".join(z.compress(chunk) for _ in range(256)) + z.flush(zlib.Z_SYNC_FLUSH)
        self.assertTrue(payload.endswith(b"\x00\x00\xff\xff"))
        payload = payload[:-4]
        head = frame(2, payload)
        head = bytes([head[0] | 0x40]) + head[1:]  # RSV1: compressed
        t0 = time.monotonic()
        try:
            ws.sock.sendall(head)
        except (ConnectionError, socket.timeout):
            pass  # refused before all of it was read
        code = ws.close_code()
        took = time.monotonic() - t0
        ws.close()
        grew = rss_kib(self.srv.pid) - base
        probe.stop.set()
        probe.join(scaled(10))
        self.assertEqual(code, 1009, "a %d-byte message inflating to 256 MiB: close code %r"
                         % (len(payload), code))
        self.assertLess(took, scaled(5.0), "refusing the bomb took %.1f s" % took)
        self.assertLess(grew, 64 * 1024, "the server grew by %d KiB" % grew)
        self.assertIsNone(probe.error, "the other connection failed: %s" % probe.error)
        self.assertLess(probe.worst, scaled(1.0),
                        "an echo on another connection took %.2f s during the bomb" % probe.worst)
