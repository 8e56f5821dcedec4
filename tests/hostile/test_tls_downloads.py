"""https downloads must arrive whole, at any reading speed.

Files of 1, 5 and 20 MiB (seeded random bytes) are downloaded over https
many times, by fast readers (64 KiB reads) and by slow ones (reads of a
few KiB with short sleeps between them), 4 at a time, each on its own
connection; every byte is checked (SHA-256) and each download must finish
within its own time bound (a stall fails it, and names the offset where the
bytes ceased).  Against `nnghttp serve` with its default threads, with
--threads 0 (the thread-free mode) and against hostile_server.
"""
import hashlib
import random
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from hostilelib import Conn, HostileTestCase, Site, request, scaled

FILES = {"f1.bin": 1 << 20, "f5.bin": 5 << 20, "f20.bin": 20 << 20}
# (file, reader, times) per server.
PLAN = [("f1.bin", "fast", 24), ("f5.bin", "fast", 24), ("f20.bin", "fast", 4),
        ("f1.bin", "slow", 8), ("f5.bin", "slow", 6), ("f20.bin", "slow", 1)]
WORKERS = 4
STALL = 5.0          # seconds without a byte: a stall
SLOW_SLEEP = 0.0005  # after each read of the slow readers


class HttpsDownloads(HostileTestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.digests = {}
        for seed, (name, size) in enumerate(sorted(FILES.items()), start=11):
            data = cls.site.add_random(name, size, seed)
            cls.digests[name] = hashlib.sha256(data).hexdigest()

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()

    def download(self, srv, name, reader, seed):
        """One download; None, or what went wrong."""
        size = FILES[name]
        rng = random.Random(seed)
        start = time.monotonic()
        limit = scaled(10.0 + size / (1 << 20) * (0.6 if reader == "slow" else 0.1))
        try:
            c = Conn(srv.port, tls=True, timeout=scaled(STALL))
        except (OSError, ssl.SSLError) as e:
            return "%s (%s reader): connect: %r" % (name, reader, e)
        got = 0
        try:
            c.send(request("GET", "/" + name))
            buf = b""
            while b"\r\n\r\n" not in buf:
                if len(buf) > 1 << 20:
                    return "%s: no end of the head in 1 MiB" % name
                data = c.recv_some(65536)
                if not data:
                    return "%s: closed before the head" % name
                buf += data
            head, _, body = buf.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200") or b"Content-Length: %d" % size not in head:
                return "%s: unexpected head %r" % (name, head[:200])
            h = hashlib.sha256(body)
            got = len(body)
            while got < size:
                n = 65536 if reader == "fast" else rng.choice((512, 1024, 4096, 8192))
                data = c.recv_some(min(n, size - got))
                if not data:
                    return "%s (%s reader): closed after %d of %d bytes" % (name, reader, got, size)
                h.update(data)
                got += len(data)
                if reader == "slow":
                    time.sleep(SLOW_SLEEP)
                if time.monotonic() - start > limit:
                    return "%s (%s reader): still at %d of %d bytes after %.0f s" % (
                        name, reader, got, size, limit)
            if h.hexdigest() != self.digests[name]:
                return "%s (%s reader): the bytes differ from the file" % (name, reader)
            return None
        except (OSError, ssl.SSLError) as e:
            # socket.timeout included: no byte for STALL seconds.
            return "%s (%s reader): stalled at byte offset %d of %d after %.1f s: %r" % (
                name, reader, got, size, time.monotonic() - start, e)
        finally:
            c.close()

    def run_plan(self, srv, label):
        jobs = [(name, reader) for name, reader, times in PLAN for _ in range(times)]
        random.Random(3).shuffle(jobs)
        failures = []
        failed = threading.Event()

        def job(arg):
            i, (name, reader) = arg
            if failed.is_set():
                return
            err = self.download(srv, name, reader, seed=i)
            if err is not None:
                failures.append(err)
                failed.set()  # one is enough: no more downloads

        start = time.monotonic()
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(job, enumerate(jobs)))
        took = time.monotonic() - start
        self.assertTrue(srv.alive(), srv.status())
        if failures:
            self.fail("%s: https downloads failed (%d planned, %.1f s): %s" % (
                label, len(jobs), took, "; ".join(failures)))

    def test_nnghttp_serve(self):
        self.run_plan(self.serve(self.site, "https"), "nnghttp serve")

    def test_nnghttp_serve_thread_free(self):
        self.run_plan(self.serve(self.site, "https", threads=0), "nnghttp serve --threads 0")

    def test_c_server(self):
        self.run_plan(self.c_server(self.site, "https"), "hostile_server (C API)")
