"""A transfer that keeps making progress must not be cut off by the send
or body timeout: those are for stalled peers, not for slow links.

hostile_timeout_server runs with a send timeout and a body timeout of 1 s
(set through the C++ API: neither NNG's C API nor `nnghttp serve` can set
them).  A client downloads a 16 MiB file at a steady 4 MiB/s (about 4 s,
never more than a few hundredths of a second without reading, with a small
receive buffer so that the kernel cannot hold the whole file), over http
and https, and must get every byte.  A client uploads 3 MiB to POST
/length at a steady pace (a piece every 50 ms, about 3 s), with
Content-Length and chunked, and must get its answer.
"""
import hashlib
import time

from hostilelib import (Conn, HostileTestCase, NoResponse, Site, TimeoutServer, request, scaled,
                        sha256)

TIMEOUT_MS = 1000
FILE = "steady.bin"
FILE_SIZE = 16 << 20
RATE = 4 << 20          # bytes per second, reading
UPLOAD = 3 << 20
PIECE = 48 << 10
PIECE_GAP = 0.05        # seconds between upload pieces


class SteadyTransfers(HostileTestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.data = cls.site.add_random(FILE, FILE_SIZE, seed=5)

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()

    def server(self, scheme="http"):
        return self.start(TimeoutServer, self.site.root, scheme, send_timeout_ms=TIMEOUT_MS,
                          body_timeout_ms=TIMEOUT_MS)

    def serve_with_timeouts(self, scheme="http", threads=None):
        secs = "%g" % (TIMEOUT_MS / 1000.0)
        return self.serve(self.site, scheme, threads=threads,
                          extra=["--send-timeout", secs, "--body-timeout", secs])

    def slow_download(self, scheme, srv=None):
        srv = srv or self.server(scheme)
        c = Conn(srv.port, tls=srv.tls, timeout=scaled(5.0), rcvbuf=64 << 10)
        self.addCleanup(c.close)
        c.send(request("GET", "/" + FILE))
        # The head (and whatever body came with it).
        head_end = -1
        buf = b""
        while head_end < 0:
            self.assertLess(len(buf), 1 << 20, "no end of the head in 1 MiB")
            data = c.recv_some(65536)
            self.assertTrue(data, "closed before the head")
            buf += data
            head_end = buf.find(b"\r\n\r\n")
        head = buf[:head_end].decode("latin-1")
        self.assertTrue(head.startswith("HTTP/1.1 200"), head)
        self.assertIn("Content-Length: %d" % FILE_SIZE, head)
        h = hashlib.sha256()
        got = len(buf) - head_end - 4
        h.update(buf[head_end + 4:])
        start = time.monotonic()
        deadline = start + scaled(FILE_SIZE / RATE * 4)
        while got < FILE_SIZE:
            # Steady: never ahead of RATE, never far behind it.
            ahead = got / RATE - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(min(ahead, 0.02))
            try:
                data = c.recv_some(min(32768, FILE_SIZE - got))
            except OSError as e:
                self.fail("%s (%s): the download failed after %d of %d bytes, %.1f s into it, "
                          "while the client read steadily at %d KiB/s: %r" % (
                              srv.name, scheme, got, FILE_SIZE, time.monotonic() - start,
                              RATE >> 10, e))
            if not data:
                self.fail("%s (%s): the server closed the download after %d of %d bytes, "
                          "%.1f s into it, while the client read steadily at %d KiB/s (the "
                          "send timeout is %d ms)" % (srv.name, scheme, got, FILE_SIZE,
                                                      time.monotonic() - start, RATE >> 10,
                                                      TIMEOUT_MS))
            h.update(data)
            got += len(data)
            self.assertLess(time.monotonic(), deadline, "the download took too long")
        took = time.monotonic() - start
        self.assertEqual(h.hexdigest(), sha256(self.data), "the bytes differ from the file")
        self.assertGreater(took, 2 * TIMEOUT_MS / 1000.0,
                           "the download took only %.1f s: it did not outlast the timeout, so "
                           "this test tested nothing" % took)

    def test_slow_download_http(self):
        self.slow_download("http")

    def test_slow_download_https(self):
        self.slow_download("https")

    def test_slow_download_nnghttp_serve(self):
        self.slow_download("http", self.serve_with_timeouts("http"))

    def test_slow_download_nnghttp_serve_thread_free(self):
        self.slow_download("http", self.serve_with_timeouts("http", threads=0))

    def test_slow_download_nnghttp_serve_https(self):
        self.slow_download("https", self.serve_with_timeouts("https"))

    def slow_upload(self, encoding):
        srv = self.server()
        c = Conn(srv.port, timeout=scaled(5.0))
        self.addCleanup(c.close)
        framing = ("Content-Length: %d" % UPLOAD if encoding == "length"
                   else "Transfer-Encoding: chunked")
        c.send(request("POST", "/length", headers=[framing, "Content-Type: application/octet-stream"]))
        piece = bytes(range(256)) * (PIECE // 256)
        sent = 0
        start = time.monotonic()
        while sent < UPLOAD:
            n = min(PIECE, UPLOAD - sent)
            data = piece[:n] if encoding == "length" else b"%x\r\n%s\r\n" % (n, piece[:n])
            if not c.send(data):
                self.fail("%s: the server closed the upload after %d of %d bytes, %.1f s into "
                          "it, while the client sent %d KiB every %.0f ms (the body timeout is "
                          "%d ms)" % (srv.name, sent, UPLOAD, time.monotonic() - start,
                                      PIECE >> 10, PIECE_GAP * 1000, TIMEOUT_MS))
            sent += n
            time.sleep(PIECE_GAP)
        if encoding == "chunked":
            c.send(b"0\r\n\r\n")
        took = time.monotonic() - start
        try:
            r = c.read_response()
        except NoResponse as e:
            self.fail("%s: no answer after a steady %.1f s upload of %d bytes (%s; the body "
                      "timeout is %d ms): %s" % (srv.name, took, UPLOAD, encoding, TIMEOUT_MS, e))
        self.assertEqual((r.status, r.body), (200, b"length %d\n" % UPLOAD),
                         "%s: answer to the steady upload (%s): %r" % (srv.name, encoding, r))
        self.assertGreater(took, 2 * TIMEOUT_MS / 1000.0, "the upload did not outlast the timeout")

    def test_slow_upload_content_length(self):
        self.slow_upload("length")

    def test_slow_upload_chunked(self):
        self.slow_upload("chunked")
