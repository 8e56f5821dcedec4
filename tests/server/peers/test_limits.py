"""The server's limits, through limits_server: head timeout (slowloris),
idle keep-alive timeout, connection cap, send timeout (a client that stops
reading) and body timeout.  Other clients must be served meanwhile."""
import select
import socket
import time
import unittest

from peerlib import HELLO, Conn, NoResponse, ServerTestCase, request

# A close must come by timeout + SLACK (seconds), and not before
# timeout * EARLY.
SLACK = 1.0
EARLY = 0.8
BIG = 8 << 20


def big_bytes():
    return bytes(ord("a") + i % 26 for i in range(26)) * (BIG // 26) + bytes(
        ord("a") + i % 26 for i in range(BIG % 26)
    )


class LimitsTestCase(ServerTestCase):
    def get_static(self, c, what):
        """GET /static on c; fails the test unless it is a 200 Hello."""
        if not c.send(request("GET", "/static")):
            self.fail("%s: send failed (connection closed)" % what)
        try:
            r = c.read_response()
        except NoResponse as e:
            self.fail("%s: no response: %s" % (what, e))
        self.assertEqual((r.status, r.body), (200, HELLO), what)

    def assert_closed_in_time(self, elapsed, timeout_ms, what):
        t = timeout_ms / 1000.0
        self.assertIsNotNone(elapsed, "%s: still open %.1f s after a %d ms timeout" % (what, t + SLACK, timeout_ms))
        self.assertGreaterEqual(elapsed, t * EARLY, "%s: closed too early (%.3f s)" % (what, elapsed))
        self.assertLessEqual(elapsed, t + SLACK, "%s: closed late (%.3f s)" % (what, elapsed))

    def assert_nothing_or_408(self, c, what):
        """A timed-out request may be answered 408 before the close; nothing
        else may come."""
        if c.buf:
            self.assertTrue(c.buf.startswith(b"HTTP/1.1 408 "), "%s: unexpected bytes %r" % (what, c.buf[:200]))


class HeadTimeout(LimitsTestCase):
    def test_slowloris_dropped_others_served(self):
        port = self.start_limits(head_timeout=500, idle_timeout=10000).port
        other = self.connect(port)
        self.get_static(other, "other client before")

        slow = self.connect(port)
        start = time.monotonic()
        self.assertTrue(slow.send(b"GET /static HTTP/1.1\r\nHo"))
        trickle = b"st: test\r\nX-Slow: " + b"s" * 200
        closed_at = None
        served = 0
        for i in range(40):  # one byte per 100 ms, 4 s at most
            ready, _, _ = select.select([slow.sock], [], [], 0.1)
            if ready:
                try:
                    data = slow.sock.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data:
                    closed_at = time.monotonic() - start
                    break
                slow.buf += data
            elif not slow.send(trickle[i : i + 1]):
                closed_at = time.monotonic() - start
                break
            # Meanwhile another connection is answered at once.
            self.get_static(other, "other client while the slow one trickles (%d)" % i)
            served += 1
        self.assert_closed_in_time(closed_at, 500, "slowloris connection")
        self.assert_nothing_or_408(slow, "slowloris connection")
        self.assertGreaterEqual(served, 3)
        self.get_static(other, "other client after")

    def test_slow_but_complete_head_within_limit(self):
        port = self.start_limits(head_timeout=1500, idle_timeout=10000).port
        c = self.connect(port)
        data = request("GET", "/static")
        third = len(data) // 3
        for piece in (data[:third], data[third : 2 * third], data[2 * third :]):
            self.assertTrue(c.send(piece))
            time.sleep(0.15)
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, HELLO))

    def test_silent_new_connection_dropped(self):
        # A connection that never sends a byte: the head or the idle timeout
        # (whichever the server applies before the first byte) ends it.
        port = self.start_limits(head_timeout=500, idle_timeout=500).port
        c = self.connect(port)
        elapsed = c.wait_closed(0.5 + SLACK + 1.0)
        self.assertIsNotNone(elapsed, "a connection that sends nothing is still open after 2.5 s")
        self.assertLessEqual(elapsed, 0.5 + SLACK)
        self.assert_nothing_or_408(c, "silent connection")


class IdleTimeout(LimitsTestCase):
    def test_idle_keep_alive_closed(self):
        port = self.start_limits(idle_timeout=500, head_timeout=10000).port
        c = self.connect(port)
        self.get_static(c, "first request")
        elapsed = c.wait_closed(0.5 + SLACK + 1.0)
        self.assert_closed_in_time(elapsed, 500, "idle keep-alive connection")
        # Idle means between requests: nothing is owed, nothing is sent.
        self.assertEqual(c.buf, b"", "bytes sent on an idle connection before closing it")

    def test_requests_within_idle_timeout_keep_it_open(self):
        port = self.start_limits(idle_timeout=600, head_timeout=10000).port
        c = self.connect(port)
        for i in range(5):  # 5 x 0.3 s: well past one idle timeout in total
            self.get_static(c, "request %d" % i)
            time.sleep(0.3)
        self.get_static(c, "last request")

    def test_idle_timeout_is_not_the_head_timeout(self):
        # A short head timeout must not cut an idle keep-alive connection
        # whose idle timeout is longer.
        port = self.start_limits(head_timeout=300, idle_timeout=1500).port
        c = self.connect(port)
        self.get_static(c, "first request")
        start = time.monotonic()
        self.assertEqual(c.state(wait=0.9), "open", "closed during the idle time, before the idle timeout")
        self.get_static(c, "second request after 0.9 s idle")
        elapsed = c.wait_closed(1.5 + SLACK + 1.0)
        self.assertIsNotNone(elapsed)
        self.assertGreaterEqual(elapsed, 1.5 * EARLY, "idle connection closed at %.3f s" % elapsed)
        self.assertLess(time.monotonic() - start, 0.9 + 1.5 + SLACK + 0.5)


class ConnectionCap(LimitsTestCase):
    def test_sixth_connection_refused_with_503(self):
        port = self.start_limits(max_conns=5, idle_timeout=20000, head_timeout=20000).port
        five = [self.connect(port) for _ in range(5)]
        for i, c in enumerate(five):
            self.get_static(c, "connection %d of 5" % (i + 1))

        sixth = self.connect(port, timeout=3.0)
        try:
            r = sixth.read_response()
        except NoResponse as e:
            self.fail("6th connection: closed or timed out without a response (expected 503 then close): %s" % e)
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.header("Content-Length"), str(len(r.body)))
        self.assertEqual(sixth.state(wait=2.0), "closed")

        # The five are still served.
        for i, c in enumerate(five):
            self.get_static(c, "connection %d of 5 after the refusal" % (i + 1))

        # One goes away: a new connection is served (the server may take a
        # moment to notice the close).
        five[0].close()
        deadline = time.monotonic() + 3.0
        last = None
        while time.monotonic() < deadline:
            c = Conn(port, timeout=3.0)
            try:
                c.send(request("GET", "/static"))
                last = c.read_response()
                if last.status == 200:
                    self.assertEqual(last.body, HELLO)
                    break
            except NoResponse as e:
                last = e
            finally:
                c.close()
            time.sleep(0.1)
        else:
            self.fail("no new connection served within 3 s after one of the 5 closed; last: %r" % last)
        for i, c in enumerate(five[1:]):
            self.get_static(c, "connection %d of 5 at the end" % (i + 2))


class SendTimeout(LimitsTestCase):
    def test_slow_reader_that_keeps_reading_gets_everything(self):
        # The send timeout bounds each wait for the client to take more,
        # not the whole response: 8 MiB read in 512 KiB steps every 100 ms
        # takes about 1.6 s against a 500 ms timeout.
        port = self.start_limits(send_timeout=500, idle_timeout=20000, head_timeout=20000).port
        c = Conn(port, timeout=5.0, rcvbuf=16384)
        self.addCleanup(c.close)
        self.assertTrue(c.send(request("GET", "/big")))
        data = bytearray()
        deadline = time.monotonic() + 30
        step = 0
        # The whole response: its head, then BIG bytes (the connection
        # stays open after it).
        while time.monotonic() < deadline:
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0 and len(data) - head_end - 4 >= BIG:
                break
            try:
                got = c.sock.recv(65536)
            except socket.timeout:
                self.fail("slow reader: nothing for 5 s after %d bytes" % len(data))
            if not got:
                break
            data += got
            step += len(got)
            if step >= (512 << 10):
                step = 0
                time.sleep(0.1)
        head, _, body = bytes(data).partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head[:100])
        self.assertEqual(len(body), BIG, "slow reader: the response was cut")
        self.assertEqual(body, big_bytes())

    def test_client_that_stops_reading_is_dropped(self):
        port = self.start_limits(send_timeout=1000, idle_timeout=20000, head_timeout=20000).port
        stalled = Conn(port, timeout=3.0, rcvbuf=16384)
        self.addCleanup(stalled.close)
        self.assertTrue(stalled.send(request("GET", "/big")))
        start = time.monotonic()

        # Others are served meanwhile, /big included.
        other = self.connect(port, timeout=10.0)
        for i in range(5):
            self.get_static(other, "other client %d" % i)
            time.sleep(0.1)
        other.send(request("GET", "/big"))
        r = other.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.body), BIG)
        self.assertEqual(r.body, big_bytes())

        # Past the send timeout, read what the stalled client was sent: the
        # connection must end before the whole response.
        time.sleep(max(0.0, 1.0 + SLACK - (time.monotonic() - start)))
        received = 0
        ended = None
        while received <= BIG + 4096:
            try:
                data = stalled.sock.recv(1 << 20)
            except socket.timeout:
                ended = "still open"
                break
            except ConnectionResetError:
                ended = "reset"
                break
            if not data:
                ended = "closed"
                break
            received += len(data)
        self.assertIn(
            ended,
            ("closed", "reset"),
            "stalled reader: %d bytes received (whole response: %d + head), connection %s"
            % (received, BIG, ended or "kept sending"),
        )
        self.assertLess(received, BIG, "the whole response reached the stalled reader")
        self.get_static(other, "other client at the end")


class BodyTimeout(LimitsTestCase):
    def test_body_that_never_finishes_is_dropped(self):
        port = self.start_limits(body_timeout=500, head_timeout=10000, idle_timeout=10000).port
        c = self.connect(port)
        self.assertTrue(c.send(request("POST", "/echo", headers=["Content-Length: 100"], body=b"0123456789")))
        elapsed = c.wait_closed(0.5 + SLACK + 1.0)
        self.assert_closed_in_time(elapsed, 500, "unfinished body")
        self.assert_nothing_or_408(c, "unfinished body")

    def test_trickled_body_outlives_body_timeout(self):
        # The body timeout bounds each wait for more of the body, not the
        # whole: a byte every 100 ms for 3 s against a 500 ms timeout is
        # an upload that keeps moving, and it is served.
        port = self.start_limits(body_timeout=500, head_timeout=10000, idle_timeout=10000).port
        other = self.connect(port)
        c = self.connect(port, timeout=5.0)
        body = bytes(ord("a") + i % 26 for i in range(30))
        self.assertTrue(c.send(request("POST", "/echo", headers=["Content-Length: %d" % len(body)])))
        for i in range(len(body)):
            time.sleep(0.1)
            self.assertTrue(c.send(body[i : i + 1]), "byte %d: the connection was closed" % i)
            if i % 5 == 0:
                self.get_static(other, "other client while the body trickles")
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, body))

    def test_unfinished_chunked_body_is_dropped(self):
        port = self.start_limits(body_timeout=500, head_timeout=10000, idle_timeout=10000).port
        c = self.connect(port)
        self.assertTrue(
            c.send(request("POST", "/echo", headers=["Transfer-Encoding: chunked"], body=b"5\r\nhello\r\n"))
        )
        elapsed = c.wait_closed(0.5 + SLACK + 1.0)
        self.assert_closed_in_time(elapsed, 500, "unfinished chunked body")
        self.assert_nothing_or_408(c, "unfinished chunked body")

    def test_slow_body_within_limit_is_served(self):
        port = self.start_limits(body_timeout=1500, head_timeout=10000, idle_timeout=10000).port
        c = self.connect(port)
        body = b"x" * 30
        self.assertTrue(c.send(request("POST", "/echo", headers=["Content-Length: 30"])))
        for i in range(3):
            time.sleep(0.1)
            self.assertTrue(c.send(body[i * 10 : (i + 1) * 10]))
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, body))


if __name__ == "__main__":
    unittest.main()
