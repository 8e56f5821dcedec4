"""Out of descriptors: the server must wait, not spin, and must not lie.

The server runs with RLIMIT_NOFILE 64.  Idle connections take all its
descriptors (more wait in the listen backlog).  Then:
  - its CPU use (utime + stime from /proc/PID/stat over 2 s) must stay
    under 20% of a core: accept() failing with EMFILE must not be retried
    in a busy loop;
  - a GET of a file that exists, on a connection accepted before, must not
    be answered 404 (the file is there; the server could not open it):
    500 or 503 are right, and 200 if the server found a descriptor after
    all;
  - once the idle connections close, the server must accept and answer
    again within a few seconds.
"""
import socket
import time
import unittest

from hostilelib import CONFIG, HELLO, HOST, Conn, HostileTestCase, NoResponse, Site, request, scaled

LIMIT = 64
EXTRA = 24          # idle connections beyond the limit (they wait in the backlog)
MEASURE = 2.0       # seconds of CPU measurement
MAX_CPU = 0.20      # of one core


# UndefinedBehaviorSanitizer's vptr check probes that a vtable is readable
# by writing it to a pipe(2) it opens for the purpose; in a process out of
# descriptors that fails, and every check then reports an "invalid vptr"
# (a report about the sanitizer, not the program).  So these tests run in
# the normal build only.
@unittest.skipIf(CONFIG["sanitizer"] != "", "the sanitizers' own checks need descriptors")
class DescriptorExhaustion(HostileTestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()

    def exhaust(self, srv):
        # A keep-alive connection accepted while descriptors are plenty.
        a = Conn(srv.port, timeout=scaled(5.0))
        self.addCleanup(a.close)
        a.send(request("GET", "/hello.txt"))
        r = a.read_response()
        self.assertEqual((r.status, r.body), (200, HELLO))
        base = srv.fds()
        self.assertLess(base, LIMIT - 8, "the server uses too many descriptors at rest to test")

        idle = []

        def cleanup_idle():
            for s in idle:
                s.close()
        self.addCleanup(cleanup_idle)
        for _ in range(LIMIT - base + EXTRA):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(2.0)
            try:
                s.connect((HOST, srv.port))
            except OSError:
                s.close()
                break
            idle.append(s)
        # Wait until the server holds (nearly) all it may.
        deadline = time.monotonic() + scaled(5.0)
        while time.monotonic() < deadline and (srv.fds() or 0) < LIMIT - 1:
            time.sleep(0.05)
        full = srv.fds()
        self.assertTrue(srv.alive(), srv.status())
        self.assertGreaterEqual(full, LIMIT - 1, "the server did not take up its descriptors "
                                "(%s of %d with %d idle connections)" % (full, LIMIT, len(idle)))
        return a, idle

    def check(self, srv):
        a, idle = self.exhaust(srv)

        # 1. No busy loop while accept() fails.
        time.sleep(0.2)
        c0, t0 = srv.cpu(), time.monotonic()
        time.sleep(MEASURE)
        used = (srv.cpu() - c0) / (time.monotonic() - t0)
        self.assertTrue(srv.alive(), srv.status())

        # 2. An existing file is not "not found" for lack of a descriptor.
        a.send(request("GET", "/hello.txt"))
        try:
            r = a.read_response()
        except NoResponse as e:
            r = e
        with self.subTest("no busy loop"):
            self.assertLess(used, MAX_CPU, "%s used %.0f%% of a core for %.0f s while out of "
                            "descriptors (%d idle connections, RLIMIT_NOFILE %d): it spins on "
                            "accept()" % (srv.name, used * 100, MEASURE, len(idle), LIMIT))
        with self.subTest("no false 404"):
            if isinstance(r, NoResponse):
                self.fail("%s: no answer to GET /hello.txt while out of descriptors: %s" % (
                    srv.name, r))
            self.assertNotEqual(r.status, 404, "%s answered 404 to GET /hello.txt, which "
                                "exists, because it had no descriptor left to open it" % srv.name)
            self.assertIn(r.status, (500, 503, 200), "%s: GET /hello.txt while out of "
                          "descriptors: %r" % (srv.name, r))

        # 3. Back to normal once the idle connections go.
        for s in idle:
            s.close()
        a.close()
        deadline = time.monotonic() + scaled(5.0)
        last = None
        while time.monotonic() < deadline:
            try:
                c = Conn(srv.port, timeout=1.0)
                try:
                    c.send(request("GET", "/hello.txt"))
                    r = c.read_response()
                finally:
                    c.close()
                if (r.status, r.body) == (200, HELLO):
                    break
                last = repr(r)
            except (OSError, NoResponse) as e:
                last = repr(e)
            time.sleep(0.1)
        else:
            self.fail("%s did not answer within %.0f s after the idle connections closed "
                      "(last: %s)" % (srv.name, scaled(5.0), last))

    def test_nnghttp_serve(self):
        self.check(self.serve(self.site, rlimit_nofile=LIMIT))

    def test_c_server(self):
        self.check(self.c_server(self.site, rlimit_nofile=LIMIT))
