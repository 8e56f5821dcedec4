#!/usr/bin/env python3
"""End-to-end test of the nnghttp command: `serve` on the bundled demo site
(curl and `nnghttp get` as clients, Common Log Format lines, SIGTERM stops
it with status 0), its graceful stop (a response in flight at SIGTERM still
completes, new connections are refused), and `get`'s distinct exit codes,
streamed bodies (a 300 MiB one in constant memory), whole-exchange timeout
and progress line (drawn on a pseudo-terminal, absent on a pipe).

Usage: test_cli.py NNGHTTP DEMO_SITE
"""
import hashlib
import http.server
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

NNGHTTP = sys.argv[1] if len(sys.argv) > 1 else "nnghttp"
SITE = sys.argv[2] if len(sys.argv) > 2 else "share/demo-site"


def run(*args, timeout=20):
    return subprocess.run([NNGHTTP, *args], capture_output=True, timeout=timeout)


class Serve(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.log = tempfile.TemporaryFile()
        cls.proc = subprocess.Popen([NNGHTTP, "serve", "--listen", "http://127.0.0.1:0"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = cls.proc.stdout.readline().decode()
        m = re.search(r"serving (\S+) at (http://127\.0\.0\.1:\d+)/", line)
        if not m:
            cls.proc.kill()
            raise RuntimeError("no address line from nnghttp serve: %r" % line)
        cls.root = m.group(2)
        cls.served_dir = m.group(1)

    @classmethod
    def tearDownClass(cls):
        if cls.proc.poll() is None:
            cls.proc.kill()
            cls.proc.wait(5)

    def test_1_demo_site_by_default(self):
        self.assertEqual(os.path.realpath(self.served_dir), os.path.realpath(SITE))
        out = subprocess.run(["curl", "-s", "--max-time", "10", self.root + "/"],
                             capture_output=True).stdout
        with open(os.path.join(SITE, "index.html"), "rb") as f:
            self.assertEqual(out, f.read())
        out = subprocess.run(["curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w",
                              "%{http_code} %{content_type}", self.root + "/docs/"],
                             capture_output=True).stdout.decode()
        self.assertEqual(out.split()[0], "200")
        self.assertIn("text/html", out)
        out = subprocess.run(["curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w",
                              "%{http_code}", self.root + "/../../etc/passwd"],
                             capture_output=True).stdout.decode()
        self.assertEqual(out, "404")

    def test_2_get(self):
        r = run("get", self.root + "/hello.txt")
        self.assertEqual(r.returncode, 0)
        with open(os.path.join(SITE, "hello.txt"), "rb") as f:
            self.assertEqual(r.stdout, f.read())
        with tempfile.TemporaryDirectory() as d:
            dest = os.path.join(d, "out.html")
            r = run("get", "-o", dest, self.root + "/")
            self.assertEqual(r.returncode, 0)
            self.assertEqual(r.stdout, b"")
            with open(dest, "rb") as f, open(os.path.join(SITE, "index.html"), "rb") as g:
                self.assertEqual(f.read(), g.read())
        r = run("get", "-i", self.root + "/hello.txt")
        self.assertTrue(r.stdout.startswith(b"HTTP/1.1 200 OK\r\n"), r.stdout[:40])
        self.assertIn(b"\r\nETag: ", r.stdout)

    def test_3_get_fail_exit_code(self):
        r = run("get", "--fail", self.root + "/missing")
        self.assertEqual(r.returncode, 22)
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"404", r.stderr)
        r = run("get", self.root + "/missing")
        self.assertEqual(r.returncode, 0, "without --fail an error page is a body")

    def test_4_log_and_sigterm(self):
        run("get", self.root + "/hello.txt")
        self.proc.send_signal(signal.SIGTERM)
        rest = self.proc.stdout.read().decode()
        self.assertEqual(self.proc.wait(10), 0)
        clf = re.compile(r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
                         r'"GET /hello\.txt HTTP/1\.1" 200 \d+$', re.M)
        self.assertRegex(rest, clf)
        self.assertIn("stopping (SIGTERM)", rest)


class ExitCodes(unittest.TestCase):
    def test_errors(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nobody listens there now
        self.assertEqual(run("get", "http://127.0.0.1:%d/" % port).returncode, 5)
        self.assertEqual(run("get", "not a url").returncode, 3)
        self.assertEqual(run("get", "ftp://127.0.0.1/").returncode, 3)
        self.assertEqual(run("get", "http://name.invalid/").returncode, 4)
        self.assertEqual(run("get").returncode, 2)
        self.assertEqual(run("bogus").returncode, 2)
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(b"nnghttp "))
        # A server that accepts and never answers: the timeout fires.
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        t0 = time.monotonic()
        r = run("get", "--timeout", "0.5", "http://127.0.0.1:%d/" % ls.getsockname()[1])
        self.assertEqual(r.returncode, 7)
        self.assertLess(time.monotonic() - t0, 10)
        ls.close()


MiB = 1024 * 1024


def start_serve(directory, *extra):
    """`nnghttp serve DIRECTORY [EXTRA...]` on a free port: the process, its
    root URL, and a queue its stdout lines go to (None at EOF)."""
    proc = subprocess.Popen([NNGHTTP, "serve", directory, "--listen", "http://127.0.0.1:0", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    line = proc.stdout.readline().decode()
    m = re.search(r"serving \S+ at (http://127\.0\.0\.1:(\d+))/", line)
    if not m:
        proc.kill()
        raise RuntimeError("no address line from nnghttp serve: %r" % line)
    lines = queue.Queue()

    def pump():
        for raw in proc.stdout:
            lines.put(raw.decode())
        lines.put(None)
    threading.Thread(target=pump, daemon=True).start()
    return proc, m.group(1), int(m.group(2)), lines


def end_serve(proc, lines):
    """Kills what start_serve started, if still running, and waits for its
    output to end."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)
    while lines.get(timeout=10) is not None:
        pass
    proc.stdout.close()


def sparse_file(path, size, marks):
    """A file of `size` bytes, zeros but for 64 KiB of random bytes at each
    offset in `marks` (so that a copy gone wrong shows)."""
    with open(path, "wb") as f:
        f.truncate(size)
        for off in marks:
            f.seek(off)
            f.write(os.urandom(64 * 1024))


def file_digest(path):
    h = hashlib.blake2b()
    with open(path, "rb") as f:
        while block := f.read(4 * MiB):
            h.update(block)
    return h.digest()


class SlowBody(http.server.BaseHTTPRequestHandler):
    """GET: the server's `body` with its Content-Length (or, for /chunked,
    in chunked encoding), `chunk` bytes at a time with `pause` seconds
    between them."""
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body, chunk, pause = self.server.body, self.server.chunk, self.server.pause
        chunked = self.path == "/chunked"
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for off in range(0, len(body), chunk):
                piece = body[off:off + chunk]
                if chunked:
                    piece = b"%x\r\n%s\r\n" % (len(piece), piece)
                self.wfile.write(piece)
                time.sleep(pause)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout case)

    def log_message(self, *args):
        pass


class GetStreaming(unittest.TestCase):
    """`get` against a server that sends 4 MiB in 64 KiB pieces over about
    1.3 s: long enough for a dozen progress redraws."""

    @classmethod
    def setUpClass(cls):
        cls.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowBody)
        cls.httpd.daemon_threads = True
        cls.httpd.body = os.urandom(4 * MiB)
        cls.httpd.chunk = 64 * 1024
        cls.httpd.pause = 0.02
        threading.Thread(target=cls.httpd.serve_forever, daemon=True).start()
        cls.url = "http://127.0.0.1:%d/blob" % cls.httpd.server_address[1]
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.httpd.shutdown()
        cls.httpd.server_close()
        cls.tmp.cleanup()

    def downloaded(self, path):
        with open(path, "rb") as f:
            return f.read()

    def get_on_a_terminal(self, url, dest):
        """`get -o dest url` with stderr on a pseudo-terminal: what the
        terminal received."""
        master, slave = os.openpty()
        try:
            proc = subprocess.Popen([NNGHTTP, "get", "-o", dest, url],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=slave)
        finally:
            os.close(slave)
        chunks = []

        def drain():  # until the child's end of the pty is gone (EIO)
            while True:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    return
                if not data:
                    return
                chunks.append(data)
        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        out, _ = proc.communicate(timeout=30)
        reader.join(10)
        os.close(master)
        tty = b"".join(chunks)
        self.assertEqual(proc.returncode, 0, tty)
        self.assertEqual(out, b"")
        self.assertEqual(self.downloaded(dest), self.httpd.body)
        return tty

    def test_progress_on_a_terminal(self):
        tty = self.get_on_a_terminal(self.url, os.path.join(self.tmp.name, "tty.bin"))
        # The terminal turns \n into \r\n; the other \r are redraws.
        redraws = tty.count(b"\r") - tty.count(b"\r\n")
        self.assertGreaterEqual(redraws, 4, tty)
        self.assertTrue(tty.endswith(b"\n"), tty[-80:])
        self.assertRegex(tty, rb"\d+(\.\d)? (B|KiB|MiB|GiB)/s")
        self.assertRegex(tty, rb"\[[=> ]{10,}\]")
        self.assertRegex(tty, rb" \d{1,3}%")
        self.assertRegex(tty, rb"ETA \d+:\d\d")
        last = tty.rstrip(b"\r\n").split(b"\r")[-1]
        self.assertRegex(last, rb"^ *4\.0 MiB / 4\.0 MiB 100% \[=+\]  [\d.]+ (KiB|MiB)/s  in 0:\d\d *$")
        self.assertLessEqual(max(len(line) for line in tty.split(b"\r")), 80)

    def test_progress_without_a_length(self):
        url = self.url.replace("/blob", "/chunked")
        tty = self.get_on_a_terminal(url, os.path.join(self.tmp.name, "chunked.bin"))
        self.assertGreaterEqual(tty.count(b"\r") - tty.count(b"\r\n"), 4, tty)
        self.assertRegex(tty, rb"\d+(\.\d)? (B|KiB|MiB|GiB)/s")
        self.assertNotIn(b"%", tty)  # no total: no percentage, no bar, no ETA
        self.assertNotIn(b"ETA", tty)
        last = tty.rstrip(b"\r\n").split(b"\r")[-1]
        self.assertRegex(last, rb"^4\.0 MiB  [\d.]+ (KiB|MiB)/s  in 0:\d\d *$")

    def test_no_progress_on_a_pipe(self):
        dest = os.path.join(self.tmp.name, "pipe.bin")
        r = run("get", "-o", dest, self.url, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assertEqual(r.stderr, b"")
        self.assertEqual(self.downloaded(dest), self.httpd.body)

    def test_include_and_stdout(self):
        r = run("get", "-i", self.url, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        head, _, body = r.stdout.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK\r\n"), head)
        self.assertIn(b"\r\nContent-Length: %d" % len(self.httpd.body), head)
        self.assertEqual(body, self.httpd.body)
        self.assertEqual(r.stderr, b"")

    def test_timeout_covers_the_whole_exchange(self):
        # Every piece comes well within 0.5 s; the whole body does not.
        t0 = time.monotonic()
        r = run("get", "--timeout", "0.5", "-o", os.path.join(self.tmp.name, "cut.bin"),
                self.url)
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertLess(time.monotonic() - t0, 5)


class GetLargeBody(unittest.TestCase):
    SIZE = 300 * MiB
    RSS_LIMIT = 64 * MiB

    def test_constant_memory(self):
        with tempfile.TemporaryDirectory() as d:
            site = os.path.join(d, "site")
            os.mkdir(site)
            src = os.path.join(site, "big.bin")
            sparse_file(src, self.SIZE, [0, self.SIZE // 2, self.SIZE - 64 * 1024])
            proc, root, _, lines = start_serve(site)
            try:
                dest = os.path.join(d, "big.out")
                get = subprocess.Popen([NNGHTTP, "get", "-o", dest, root + "/big.bin"],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                watchdog = threading.Timer(90, get.kill)
                watchdog.start()
                # wait4: the resource use of that child alone.
                _, status, usage = os.wait4(get.pid, 0)
                watchdog.cancel()
                get.returncode = os.waitstatus_to_exitcode(status)
                err = get.stderr.read()
                get.stdout.close()
                get.stderr.close()
            finally:
                end_serve(proc, lines)
            self.assertEqual(get.returncode, 0, err)
            self.assertEqual(err, b"")
            peak = usage.ru_maxrss * 1024  # KiB on Linux
            self.assertLess(peak, self.RSS_LIMIT, "peak RSS %.1f MiB" % (peak / MiB))
            self.assertEqual(os.path.getsize(dest), self.SIZE)
            self.assertEqual(file_digest(dest), file_digest(src))


class GracefulStop(unittest.TestCase):
    SIZE = 64 * MiB
    EXTRA = ()

    def test_response_in_flight_completes(self):
        with tempfile.TemporaryDirectory() as d:
            sparse_file(os.path.join(d, "big.bin"), self.SIZE, [0, self.SIZE - 64 * 1024])
            proc, _, port, lines = start_serve(d, *self.EXTRA)
            try:
                self.check_stop(proc, port, lines)
            finally:
                end_serve(proc, lines)

    def check_stop(self, proc, port, lines):
        c = socket.create_connection(("127.0.0.1", port), timeout=20)
        c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            data = c.recv(65536)
            self.assertTrue(data, "connection closed before the head")
            got += data
        head, _, body = got.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head)
        length = int(re.search(rb"\r\nContent-Length: *(\d+)", head, re.I).group(1))
        self.assertEqual(length, self.SIZE)
        received = len(body)
        while received < MiB:  # well under way, far from done
            data = c.recv(65536)
            self.assertTrue(data)
            received += len(data)

        proc.send_signal(signal.SIGTERM)
        line = lines.get(timeout=10)
        self.assertIn("stopping (SIGTERM)", line)
        # The listener goes at once: new connections are refused.
        deadline = time.monotonic() + 5
        refused = False
        while not refused and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                time.sleep(0.05)
            except ConnectionRefusedError:
                refused = True
            except ConnectionResetError:
                pass  # caught in the backlog of the listener as it closed
        self.assertTrue(refused, "a new connection was still accepted")
        time.sleep(0.5)
        self.assertIsNone(proc.poll(), "exited with a response in flight")

        # The rest of the response, all of it; then the server closes.
        while received < length:
            data = c.recv(1 << 20)
            self.assertTrue(data, "cut off after %d of %d bytes" % (received, length))
            received += len(data)
        self.assertEqual(received, length)
        done = time.monotonic()
        c.settimeout(10)
        self.assertEqual(c.recv(1), b"", "the connection stayed open after the stop")
        c.close()
        self.assertEqual(proc.wait(15), 0)
        # Soon after the last response, not at the end of the 10 s grace.
        self.assertLess(time.monotonic() - done, 5)
        rest = []
        while (line := lines.get(timeout=10)) is not None:
            rest.append(line)
        lines.put(None)  # for end_serve
        rest = "".join(rest)
        self.assertRegex(rest, r'"GET /big\.bin HTTP/1\.1" 200 %d\n' % self.SIZE)
        self.assertNotIn("cut off", rest)


class GracefulStopThreadFree(GracefulStop):
    """The same stop with `--threads 0`, where the main thread serves
    between its looks for a signal."""
    EXTRA = ("--threads", "0")


class ThreadFree(unittest.TestCase):
    """`serve --threads 0`: a process of one thread serves files to
    concurrent clients and stops on SIGTERM."""

    def test_one_thread_serves_and_stops(self):
        proc, root, _, lines = start_serve(SITE, "--threads", "0")
        try:
            with open(os.path.join(SITE, "hello.txt"), "rb") as f:
                want = f.read()
            clients = [subprocess.Popen(["curl", "-sS", "--max-time", "10", root + "/hello.txt",
                                         root + "/hello.txt"], stdout=subprocess.PIPE)
                       for _ in range(4)]
            for c in clients:
                out, _ = c.communicate(timeout=20)
                self.assertEqual(c.returncode, 0)
                self.assertEqual(out, want + want)
            self.assertEqual(os.listdir("/proc/%d/task" % proc.pid), [str(proc.pid)])
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(10), 0)
            rest = []
            while (line := lines.get(timeout=10)) is not None:
                rest.append(line)
            lines.put(None)  # for end_serve
            rest = "".join(rest)
            self.assertEqual(rest.count('"GET /hello.txt HTTP/1.1" 200'), 8)
            self.assertIn("stopping (SIGTERM)", rest)
        finally:
            end_serve(proc, lines)


class ReusePort(unittest.TestCase):
    """--reuse-port: two serve processes on one port; without it the second
    one fails (exit 5, address in use)."""

    def start(self, port, *extra):
        proc = subprocess.Popen([NNGHTTP, "serve", SITE, "--listen", "http://127.0.0.1:%d" % port,
                                 *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait(5)))
        return proc

    def test_two_processes_share_a_port(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        a = self.start(port, "--reuse-port")
        self.assertIn(b"serving", a.stdout.readline())
        b = self.start(port, "--reuse-port")
        self.assertIn(b"serving", b.stdout.readline())
        # Without the flag the port is taken.
        c = self.start(port)
        self.assertEqual(c.wait(10), 5)
        url = "http://127.0.0.1:%d/hello.txt" % port
        with open(os.path.join(SITE, "hello.txt"), "rb") as f:
            want = f.read()
        for _ in range(10):
            self.assertEqual(run("get", url).stdout, want)
        # One stops; the other still serves the port.
        a.send_signal(signal.SIGTERM)
        self.assertEqual(a.wait(10), 0)
        for _ in range(5):
            r = run("get", url)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, want)
        b.send_signal(signal.SIGTERM)
        self.assertEqual(b.wait(10), 0)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
