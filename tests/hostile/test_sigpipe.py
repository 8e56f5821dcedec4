"""Aborted downloads must not kill the server.

Files go out with sendfile(2) (and TLS records with plain writes); when the
client has gone, such a write fails with EPIPE, and unless the server asks
for no signal, the kernel sends SIGPIPE, whose default action ends the
process.  The servers run with the default disposition (checked), and
clients fetch a 32 MiB file, read a few bytes and then close (FIN, with
unread data: the kernel answers further segments with RST) or reset
(SO_LINGER {1, 0}), or read for 20 ms and close, 200 times each, 8 at a
time.  The server must still be
running and still answer afterwards.
"""
import random
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from hostilelib import HostileTestCase, Conn, Site, describe_exit, request, scaled

BIG = "big.bin"
BIG_SIZE = 32 << 20
ABORTS = 200      # per way of aborting
WORKERS = 8


class AbortedDownloads(HostileTestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.site.add_random(BIG, BIG_SIZE, seed=1)

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()

    def abort_one(self, srv, i, how, rng_seed):
        """One download given up after a few bytes; a text saying what went
        wrong, or None."""
        rng = random.Random(rng_seed)
        try:
            c = Conn(srv.port, tls=srv.tls, timeout=scaled(5.0))
        except (OSError, ssl.SSLError) as e:
            return "connect: %r" % e
        try:
            if not c.send(request("GET", "/" + BIG)):
                return "the request could not be sent"
            want = rng.randint(1, 4096)
            got = 0
            while got < want:
                data = c.recv_some(want - got)
                if not data:
                    return "closed by the server after %d bytes" % got
                got += len(data)
            if how == "drain":
                # Let the server get well into the file (its socket buffer
                # full, the next sendfile moving a piece at a time), take
                # what came, then leave: the reset then tends to land in
                # the middle of a sendfile call that has already moved
                # bytes, which still raises SIGPIPE.
                time.sleep(0.02)
                c.sock.setblocking(False)
                try:
                    while c.sock.recv(1 << 20):
                        pass
                except (BlockingIOError, ssl.SSLWantReadError):
                    pass
                c.close()
            elif how == "reset":
                c.reset()
            else:
                c.close()
        except (OSError, ssl.SSLError) as e:
            c.close()
            return "%s: %r" % (how, e)
        return None

    def storm(self, srv):
        self.assert_sigpipe_default(srv)
        errors = []
        dead = threading.Event()

        def job(args):
            i, how = args
            if dead.is_set():
                return
            err = self.abort_one(srv, i, how, rng_seed=i)
            if err is not None:
                errors.append((i, how, err))
            if not srv.alive():
                dead.set()

        jobs = [(i, how) for i in range(ABORTS) for how in ("close", "reset", "drain")]
        random.Random(7).shuffle(jobs)
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(job, jobs))
        # Give the server time to meet the closed connections.
        deadline = time.monotonic() + scaled(1.0)
        while srv.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        code = srv.proc.poll()
        self.assertIsNone(
            code, "%s (%s) %s during %d aborted downloads (first client errors: %s)" % (
                srv.name, srv.scheme, describe_exit(code), len(jobs), errors[:3]))
        self.assertFalse(errors and len(errors) > len(jobs) // 10,
                         "%d of %d downloads failed before they were given up: %s" % (
                             len(errors), len(jobs), errors[:5]))
        self.assert_sigpipe_default(srv)
        self.assert_answers(srv)

    def test_nnghttp_serve_http(self):
        self.storm(self.serve(self.site, "http"))

    def test_nnghttp_serve_http_thread_free(self):
        # No thread of the library's: the sends run on the application's
        # main thread, whose signal mask is the application's.
        self.storm(self.serve(self.site, "http", threads=0))

    def test_nnghttp_serve_https(self):
        self.storm(self.serve(self.site, "https"))

    def test_c_server_http(self):
        self.storm(self.c_server(self.site, "http"))

    def test_c_server_https(self):
        self.storm(self.c_server(self.site, "https"))
