"""A connection that is reset must be let go at once, not held until the
head timeout (30 s).

A connection whose first bytes and its reset arrive together (b"GET /
HTTP/1.1\\r\\nHo", then SO_LINGER {1, 0} and close at once) costs the
attacker nothing: no state, no waiting.  If the server keeps each one
until its head timeout, a few thousand per second lock everyone out
(descriptors, the connection cap).  So: bursts of 2,000 such connections,
after which the server's open descriptors (/proc/PID/fd) must be back to
what they were before within 2 s; likewise with the first 100 bytes of a
real TLS ClientHello against https, and with a partial head, a pause, then
more bytes and the reset together.  The server must still answer after.
"""
import socket
import ssl
import time

from hostilelib import HOST, Conn, HostileTestCase, Site, linger_reset, scaled

BURST = 2000
BATCH = 100
# Descriptors a server may have opened for its own purposes meanwhile
# (not sockets: those are what the attack would leave behind).
SLACK = 4
SOCKET_SLACK = 1
SETTLE = 1.0  # seconds for the descriptors to come back


def client_hello_prefix(n=100):
    """The first n bytes of a real TLS ClientHello (Python's default
    client: TLS 1.2 and 1.3), made without a network."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    assert len(hello) > n and hello[0] == 0x16, "not a TLS handshake record: %r" % hello[:8]
    return hello[:n]


class ResetLockout(HostileTestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()

    def baseline(self, srv):
        """The server's descriptors and sockets at rest, after it has
        served a request."""
        self.assert_answers(srv)
        time.sleep(0.3)
        return srv.fds(), srv.sockets()

    def burst(self, port, first_bytes, count=BURST):
        """count connections, each sending first_bytes and reset at once;
        returns how many connected."""
        done = 0
        deadline = time.monotonic() + scaled(30.0)
        for start in range(0, count, BATCH):
            if time.monotonic() > deadline:
                break
            for _ in range(min(BATCH, count - start)):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.settimeout(2.0)
                try:
                    s.connect((HOST, port))
                    linger_reset(s)
                    s.send(first_bytes)
                    done += 1
                except OSError:
                    pass
                finally:
                    s.close()
            time.sleep(0.005)
        return done

    def check_released(self, srv, base, what, sent):
        base_fds, base_socks = base

        def back():
            n, k = srv.fds(), srv.sockets()
            return n is not None and k is not None and n <= base_fds + SLACK and \
                k <= base_socks + SOCKET_SLACK
        peak = srv.fds()
        ok = self.wait_fds(srv, back, scaled(SETTLE))
        now, socks = srv.fds(), srv.sockets()
        self.assertTrue(srv.alive(), srv.status())
        self.assertTrue(ok, "%s: %d connections were reset (%s), and %.0f s later the server "
                        "still had %s descriptors open, %s of them sockets (at rest: %d and %d; "
                        "%s descriptors right after the burst): they are held until a timeout" % (
                            srv.name, sent, what, scaled(SETTLE), now, socks, base_fds,
                            base_socks, peak))
        self.assert_answers(srv)

    @staticmethod
    def wait_fds(srv, pred, limit):
        deadline = time.monotonic() + limit
        while True:
            if pred():
                return True
            if time.monotonic() >= deadline or not srv.alive():
                return False
            time.sleep(0.05)

    def first_bytes_and_reset(self, srv):
        base = self.baseline(srv)
        sent = self.burst(srv.port, b"GET / HTTP/1.1\r\nHo")
        self.assertGreater(sent, BURST // 2, "most connections could not even be made")
        self.check_released(srv, base, "first bytes and reset together", sent)

    def test_first_bytes_and_reset_nnghttp_serve(self):
        self.first_bytes_and_reset(self.serve(self.site))

    def test_first_bytes_and_reset_c_server(self):
        self.first_bytes_and_reset(self.c_server(self.site))

    def partial_client_hello_and_reset(self, srv):
        base = self.baseline(srv)
        sent = self.burst(srv.port, client_hello_prefix())
        self.assertGreater(sent, BURST // 2, "most connections could not even be made")
        self.check_released(srv, base, "100 bytes of a ClientHello and reset together", sent)

    def test_partial_client_hello_nnghttp_serve(self):
        self.partial_client_hello_and_reset(self.serve(self.site, "https"))

    def test_partial_client_hello_c_server(self):
        self.partial_client_hello_and_reset(self.c_server(self.site, "https"))

    def pause_then_reset(self, srv, conns=200):
        """A partial head; a pause (the server is now reading this
        connection); then more bytes and the reset together."""
        base = self.baseline(srv)
        socks = []
        try:
            for _ in range(conns):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.settimeout(2.0)
                s.connect((HOST, srv.port))
                s.sendall(b"GET /hello.txt HTTP/1.1\r\n")
            time.sleep(0.3)
            for s in socks:
                linger_reset(s)
                try:
                    s.send(b"Host: x\r\nX-More: ")
                except OSError:
                    pass
                s.close()
        finally:
            for s in socks:
                s.close()
        self.check_released(srv, base, "partial head, pause, more bytes and reset together",
                            conns)

    def test_pause_then_bytes_and_reset_nnghttp_serve(self):
        self.pause_then_reset(self.serve(self.site))

    def test_pause_then_bytes_and_reset_c_server(self):
        self.pause_then_reset(self.c_server(self.site))

    def test_pause_then_bytes_and_reset_https(self):
        """The same over TLS: a handshake, a partial head, a pause, then
        more bytes and the reset."""
        srv = self.serve(self.site, "https")
        base = self.baseline(srv)
        conns = []
        count = 300
        try:
            for _ in range(count):
                c = Conn(srv.port, tls=True, timeout=scaled(5.0))
                conns.append(c)
                c.send(b"GET /hello.txt HTTP/1.1\r\n")
            time.sleep(0.3)
            for c in conns:
                linger_reset(c.sock)
                c.send(b"Host: x\r\nX-More: ")
                c.close()
        finally:
            for c in conns:
                c.close()
        self.check_released(srv, base, "TLS: partial head, pause, more bytes and reset", count)
