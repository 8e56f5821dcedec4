"""An error answer must reach the client even though the server closes with
the client's bytes still unread.

A request with a 100 KB header field (431) or a 100 KB request target
(414), followed by 64 KiB more, is sent in one go before anything is read.
The server answers and closes.  If it closes while input is still unread,
the kernel sends RST instead of FIN: the client's sending may fail with
ECONNRESET (most clients then give up without reading), and the RST can
destroy the answer in flight or in the client's buffers (Linux keeps
received data readable, other stacks do not, and on a real network the RST
may overtake the answer).  So the server must close gracefully: cease
writing, read and discard the rest for a while, then close.  50 times
each, the client must be able to send everything, then read the whole
status line, then see an orderly end (EOF), never a reset.
"""
import socket
import time

from hostilelib import HOST, HostileTestCase, Site, scaled, tls_client_context

REPEAT = 50
BIG = 100 * 1000
TRAILING = b"X" * (64 << 10)


def big_header():
    return (b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * BIG + b"\r\n\r\n" + TRAILING)


def big_target():
    return (b"GET /" + b"a" * BIG + b" HTTP/1.1\r\nHost: x\r\n\r\n" + TRAILING)


def send_then_read(port, data, timeout, tls=False):
    """Sends all of data (a failure to send is noted, not fatal), then
    reads until the end; (bytes received, what ended the reading)."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    if tls:
        s = tls_client_context().wrap_socket(s, server_hostname="localhost")
    got = b""
    try:
        try:
            s.sendall(data)
            sent = "sent"
        except OSError as e:
            sent = "send failed: %s" % e.__class__.__name__
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return got, sent + ", then no end within %.0f s" % timeout
            except OSError as e:
                return got, sent + ", then %s" % e.__class__.__name__
            if not chunk:
                return got, sent + ", then EOF"
            got += chunk
            if len(got) > 1 << 20:
                return got, sent + ", then more than 1 MiB of answer"
    finally:
        s.close()


class ErrorAnswersSurviveClose(HostileTestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()

    def check(self, srv, data, status, what):
        lost, reset = [], []
        for i in range(REPEAT):
            got, how = send_then_read(srv.port, data, scaled(5.0), srv.tls)
            line = got.split(b"\r\n", 1)[0] if b"\r\n" in got else None
            if line is None or not line.startswith(b"HTTP/1.1 %d " % status):
                lost.append("#%d: %r (%s)" % (i + 1, got[:60], how))
            elif how != "sent, then EOF":
                reset.append("#%d: %s" % (i + 1, how))
            time.sleep(0.005)
        self.assertTrue(srv.alive(), srv.status())
        self.assertEqual(lost, [], "%s: %d of %d requests with %s did not get the whole status "
                         "line 'HTTP/1.1 %d ...'; first ones: %s"
                         % (srv.name, len(lost), REPEAT, what, status, "; ".join(lost[:5])))
        self.assertEqual(reset, [], "%s: %d of %d requests with %s got 'HTTP/1.1 %d', but the "
                         "connection was then reset instead of closed (the server closed with "
                         "the client's bytes unread; the RST can destroy the answer); first "
                         "ones: %s" % (srv.name, len(reset), REPEAT, what, status,
                                       "; ".join(reset[:5])))

    def test_header_too_large_nnghttp_serve(self):
        self.check(self.serve(self.site), big_header(), 431, "a 100 KB header field")

    def test_target_too_long_nnghttp_serve(self):
        self.check(self.serve(self.site), big_target(), 414, "a 100 KB request target")

    def test_header_too_large_c_server(self):
        self.check(self.c_server(self.site), big_header(), 431, "a 100 KB header field")

    def test_target_too_long_c_server(self):
        self.check(self.c_server(self.site), big_target(), 414, "a 100 KB request target")

    def test_header_too_large_https(self):
        self.check(self.serve(self.site, "https"), big_header(), 431,
                   "a 100 KB header field (https)")
