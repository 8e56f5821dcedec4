"""Garbage must be refused at once, not waited on.

1,000 random binary payloads (seeded; 10-200 bytes; no CR or LF at all;
the first byte one that cannot begin a method token) are each sent on a
new connection.  Nothing that follows can make them a request, so the
server must answer 400 and close the connection promptly (within 1 s),
not wait for a line end until the head timeout (30 s).  They go 100 at a
time, and the first batch that fails ends the test.

Also: a chunk size that does not fit in 64 bits is a malformed body (400),
not a body that is too large (413).  Sent to hostile_server's POST /length
(which takes up to 8 MiB); not to `nnghttp serve`, which takes no body at
all and so may refuse any chunked body with 413 before reading it.
"""
import random
import selectors
import socket
import time

from hostilelib import HOST, Conn, HostileTestCase, NoResponse, Site, request, scaled

COUNT = 1000
BATCH = 100
PROMPT = 1.0
TCHAR = set(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
FIRST = bytes(b for b in range(256) if b not in TCHAR and b not in (0x0D, 0x0A))
REST = bytes(b for b in range(256) if b not in (0x0D, 0x0A))


def payloads(seed=20240613):
    rng = random.Random(seed)
    out = []
    for _ in range(COUNT):
        n = rng.randint(10, 200)
        out.append(bytes([rng.choice(FIRST)]) + bytes(rng.choice(REST) for _ in range(n - 1)))
    return out


def run_batch(port, batch, limit):
    """Sends each payload on its own connection and waits for every
    connection to end; {index: (bytes received, ended, seconds)}."""
    sel = selectors.DefaultSelector()
    state = {}
    start = time.monotonic()
    try:
        for i, data in batch:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(2.0)
            s.connect((HOST, port))
            s.sendall(data)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, i)
            state[i] = [b"", False, None]
        open_ = len(state)
        while open_ and time.monotonic() - start < limit:
            for key, _ in sel.select(timeout=max(0.0, limit - (time.monotonic() - start))):
                i = key.data
                try:
                    chunk = key.fileobj.recv(4096)
                except (ConnectionResetError, BlockingIOError) as e:
                    if isinstance(e, BlockingIOError):
                        continue
                    chunk = b""
                if chunk:
                    state[i][0] += chunk
                    continue
                state[i][1] = True
                state[i][2] = time.monotonic() - start
                sel.unregister(key.fileobj)
                key.fileobj.close()
                open_ -= 1
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()
    return state


class Garbage(HostileTestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()

    def garbage(self, srv):
        items = list(enumerate(payloads()))
        limit = scaled(PROMPT)
        for b in range(0, len(items), BATCH):
            batch = items[b:b + BATCH]
            state = run_batch(srv.port, batch, limit + 0.5)
            bad = []
            for i, data in batch:
                got, ended, took = state[i]
                if not got.startswith(b"HTTP/1.1 400 "):
                    bad.append("payload #%d %s: answer %r" % (i, data[:16].hex(), got[:40]))
                elif not ended or took > limit:
                    bad.append("payload #%d %s: 400, but the connection %s" % (
                        i, data[:16].hex(), "stayed open" if not ended else
                        "closed only after %.1f s" % took))
            self.assertTrue(srv.alive(), srv.status())
            if bad:
                self.fail("%s: batch %d (payloads %d-%d): %d of %d garbage payloads without a "
                          "line end were not answered 400 and closed within %.1f s; first: %s" % (
                              srv.name, b // BATCH + 1, b, b + len(batch) - 1, len(bad),
                              len(batch), limit, "; ".join(bad[:3])))
        self.assert_answers(srv)

    def test_garbage_nnghttp_serve(self):
        self.garbage(self.serve(self.site))

    def test_garbage_c_server(self):
        self.garbage(self.c_server(self.site))

    def chunk_overflow(self, srv, method, target):
        for size in (b"ffffffffffffffffff", b"10000000000000000"):  # 72 bits; 2**64
            with self.subTest(size=size):
                c = Conn(srv.port, timeout=scaled(5.0))
                try:
                    c.send(request(method, target, ["Transfer-Encoding: chunked"]) + size
                           + b"\r\nabc\r\n0\r\n\r\n")
                    r = c.read_response()
                except NoResponse as e:
                    self.fail("%s: chunk size %s: no answer: %s" % (srv.name, size.decode(), e))
                finally:
                    c.close()
                self.assertEqual(r.status, 400, "%s: %s %s with the chunk size %s got %r; a "
                                 "size that is not a valid 64-bit number is a malformed body "
                                 "(400)" % (srv.name, method, target, size.decode(), r))

    def test_chunk_size_overflow_c_server(self):
        self.chunk_overflow(self.c_server(self.site), "POST", "/length")
