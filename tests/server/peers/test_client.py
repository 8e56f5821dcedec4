"""Python's http.client against server_app_ours: a mix of requests on one
HTTPConnection, which must keep using the same socket."""
import http.client
import unittest

from peerlib import HELLO, HOST, READ_TIMEOUT, ServerTestCase, Site, one_bin, sha256

SITE = None


def setUpModule():
    global SITE
    SITE = Site()


def tearDownModule():
    SITE.cleanup()


class CountingConnection(http.client.HTTPConnection):
    """Counts the TCP connections it opens."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connects = 0

    def connect(self):
        self.connects += 1
        super().connect()


class OneConnection(ServerTestCase):
    def setUp(self):
        self.port = self.start_app(SITE).port
        self.conn = CountingConnection(HOST, self.port, timeout=READ_TIMEOUT)
        self.addCleanup(self.conn.close)

    def exchange(self, method, url, body=None, headers=None, **kw):
        self.conn.request(method, url, body=body, headers=headers or {}, **kw)
        res = self.conn.getresponse()
        data = res.read()
        self.assertFalse(res.will_close, "%s %s: the server asked to close" % (method, url))
        return res, data

    def test_mixed_requests_reuse_one_socket(self):
        res, data = self.exchange("GET", "/static")
        self.assertEqual((res.status, data), (200, HELLO))
        sock = self.conn.sock
        self.assertIsNotNone(sock)

        res, data = self.exchange("HEAD", "/file")
        self.assertEqual((res.status, data), (200, b""))
        self.assertEqual(res.getheader("Content-Length"), "1048576")
        self.assertIs(self.conn.sock, sock)

        body = bytes(range(256)) * 40
        res, data = self.exchange("POST", "/echo", body=body, headers={"Content-Type": "application/x-bytes"})
        self.assertEqual((res.status, data), (200, body))
        self.assertEqual(res.getheader("Content-Type"), "application/x-bytes")
        self.assertIs(self.conn.sock, sock)

        pieces = [b"first piece, ", b"second piece, ", b"", b"x" * 5000, b" and the end"]
        res, data = self.exchange(
            "POST",
            "/echo",
            body=iter(pieces),
            headers={"Content-Type": "text/plain", "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        self.assertEqual((res.status, data), (200, b"".join(pieces)))
        self.assertIs(self.conn.sock, sock)

        res, data = self.exchange("GET", "/site/hello.txt")
        self.assertEqual((res.status, data), (200, SITE.read("www/hello.txt")))
        self.assertIs(self.conn.sock, sock)

        res, data = self.exchange("GET", "/nope")
        self.assertEqual(res.status, 404)
        self.assertIs(self.conn.sock, sock)

        res, data = self.exchange("PUT", "/put", body=b"12345")
        self.assertEqual((res.status, data), (200, b"stored 5 bytes\n"))
        self.assertIs(self.conn.sock, sock)

        res, data = self.exchange("GET", "/file")
        self.assertEqual(res.status, 200)
        self.assertEqual(sha256(data), sha256(one_bin()))
        self.assertIs(self.conn.sock, sock)

        res, data = self.exchange("POST", "/echo", body=b"")
        self.assertEqual((res.status, data), (200, b""))
        self.assertIs(self.conn.sock, sock)

        self.assertEqual(self.conn.connects, 1)

    def test_many_small_requests_one_socket(self):
        for i in range(200):
            if i % 2:
                res, data = self.exchange("GET", "/static")
                self.assertEqual((res.status, data), (200, HELLO))
            else:
                body = b"request %d" % i
                res, data = self.exchange("POST", "/echo", body=body)
                self.assertEqual((res.status, data), (200, body))
        self.assertEqual(self.conn.connects, 1)


if __name__ == "__main__":
    unittest.main()
