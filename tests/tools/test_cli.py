#!/usr/bin/env python3
"""End-to-end test of the nnghttp command: `serve` on the bundled demo site
(curl and `nnghttp get` as clients, Common Log Format lines, SIGTERM stops
it with status 0), its graceful stop (a response in flight at SIGTERM still
completes, new connections are refused), and `get`'s distinct exit codes,
streamed bodies (a 300 MiB one in constant memory), whole-exchange timeout
and progress line (drawn on a pseudo-terminal, absent on a pipe).  Then the
WebSocket client `ws`: against `serve --ws-echo` (plain and TLS) and against
node's `ws` package (ws_peer.js beside this file: close codes, subprotocols,
delayed echoes, server-sent binary), through pipes and on a pseudo-terminal
(typing, Ctrl-C, Ctrl-D), with its exit codes.

Usage: test_cli.py NNGHTTP DEMO_SITE
"""
import hashlib
import http.server
import os
import pty
import queue
import select
import shutil
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
HERE = os.path.dirname(os.path.abspath(__file__))


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
    m = re.search(r"serving \S+ at (https?://127\.0\.0\.1:(\d+))/", line)
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


# ---- nnghttp ws ----

def ws_run(url, *args, data=b"", timeout=30):
    """`nnghttp ws [ARGS...] URL` with `data` on its standard input."""
    return subprocess.run([NNGHTTP, "ws", *args, url], input=data, capture_output=True,
                          timeout=timeout)


def free_port():
    """A port nobody listens on (now)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class LineLog:
    """The lines a child prints on stdout, gathered by a thread, so that a
    test can wait for one."""

    def __init__(self, stream):
        self.queue = queue.Queue()
        self.seen = []

        def pump():
            for raw in stream:
                self.queue.put(raw.decode(errors="replace").rstrip("\n"))
            self.queue.put(None)
        threading.Thread(target=pump, daemon=True).start()

    def wait(self, prefix, timeout=10):
        """The first line that starts with prefix (AssertionError if none
        comes in time)."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.seen:
                if line.startswith(prefix):
                    return line
            left = deadline - time.monotonic()
            try:
                line = self.queue.get(timeout=max(left, 0.01))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError("no line %r; got %r" % (prefix, self.seen))
            self.seen.append(line)


class NodePeer:
    """ws_peer.js (node's `ws` package) as the server: its URL, and the
    lines it prints ("open TAG PROTOCOL", "closed TAG CODE REASON")."""

    def __init__(self, *extra):
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed (scripts/deps installs nodejs and node-ws)")
        env = dict(os.environ)
        env["NODE_PATH"] = os.pathsep.join(p for p in [env.get("NODE_PATH"), "/usr/share/nodejs"] if p)
        self.proc = subprocess.Popen([node, os.path.join(HERE, "ws_peer.js"), *extra],
                                     stdout=subprocess.PIPE, env=env)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"listening on (\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("ws_peer.js did not start: %r" % line)
        self.url = "ws://127.0.0.1:%s/" % m.group(1)
        self.log = LineLog(self.proc.stdout)

    def close_of(self, tag):
        """The close code and reason the server saw from the client tagged tag."""
        _, _, code, reason = (self.log.wait("closed %s " % tag) + " ").split(" ", 3)
        return int(code), reason.strip()

    def end(self):
        self.proc.kill()
        self.proc.wait(10)
        self.proc.stdout.close()


class Terminal:
    """`nnghttp ARGS...` with a pseudo-terminal as its controlling terminal
    (standard input, output and error), so that Ctrl-C and Ctrl-D typed there
    mean what they mean to a user."""

    def __init__(self, *args):
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execv(NNGHTTP, [NNGHTTP, *args])
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.out = b""
        self.status = None

    def read(self, timeout):
        """Reads what comes within timeout seconds: True if something came,
        None if nothing did, False once the child's side is gone."""
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return None
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child and its terminal are gone
            return False
        self.out += data
        return bool(data)

    def expect(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while text not in self.out:
            left = deadline - time.monotonic()
            if left <= 0 or self.read(left) is False:
                raise AssertionError("%r never appeared; the terminal shows %r" % (text, self.out))

    def type(self, data):
        os.write(self.fd, data)

    def wait(self, timeout=15):
        """The exit code, once the child has ended and its output is read."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid != 0:
                    while self.read(0.2):
                        pass
                    return os.waitstatus_to_exitcode(status)
                self.read(0.1)
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            raise AssertionError("still running; the terminal shows %r" % self.out)
        finally:
            os.close(self.fd)


class WsEcho(unittest.TestCase):
    """`nnghttp ws` through pipes against `nnghttp serve --ws-echo /echo`."""

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.root, cls.port, cls.lines = start_serve(SITE, "--ws-echo", "/echo")
        cls.url = "ws://127.0.0.1:%d/echo" % cls.port

    @classmethod
    def tearDownClass(cls):
        end_serve(cls.proc, cls.lines)

    def echo(self, data, *args):
        r = ws_run(self.url, *args, data=data)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def test_serve_announces_the_route_and_still_serves_files(self):
        self.assertIn("WebSocket echo at %s" % self.url, self.lines.get(timeout=10))
        with open(os.path.join(SITE, "hello.txt"), "rb") as f:
            self.assertEqual(run("get", self.root + "/hello.txt").stdout, f.read())

    def test_two_lines(self):
        r = self.echo(b"a\nb\n")
        self.assertEqual(r.stdout, b"a\nb\n")
        self.assertEqual(r.stderr, b"")

    def test_many_lines_in_order(self):
        data = b"".join(b"line %d\n" % i for i in range(5000))
        self.assertEqual(self.echo(data).stdout, data)

    def test_empty_lines_and_a_last_line_without_newline(self):
        self.assertEqual(self.echo(b"\n\nx\n\ny").stdout, b"\n\nx\n\ny\n")

    def test_unicode(self):
        text = "h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c\u8a9e \U0001f389\n".encode()
        self.assertEqual(self.echo(text).stdout, text)

    def test_one_mebibyte_line(self):
        line = os.urandom(MiB // 2).hex().encode() + b"\n"
        self.assertEqual(len(line), MiB + 1)
        self.assertEqual(self.echo(line).stdout, line)

    def test_binary_lines(self):
        r = self.echo(b"hi\n\n\x00\xff\n", "--binary")
        self.assertEqual(r.stdout, b"[binary 2] 6869\n[binary 0]\n[binary 2] 00ff\n")

    def test_a_line_not_utf8_goes_as_binary(self):
        r = self.echo(b"ok\n\xc3\x28\n")
        self.assertEqual(r.stdout, b"ok\n[binary 2] c328\n")
        self.assertIn(b"line 2 is not UTF-8", r.stderr)

    def test_control_characters_are_escaped(self):
        lines = [b"tab\tonly",                # a tab alone: as it is
                 b"esc\x1b[31mred\\x\r",      # ESC, a backslash, CR
                 "csi\u009b2J".encode(),      # a C1 control (U+009B)
                 b"[binary 1] 41",            # looks like a marker
                 b"[text] x",
                 b"[binary",                  # not a whole marker: as it is
                 b"del\x7f"]
        r = self.echo(b"\n".join(lines) + b"\n")
        self.assertEqual(r.stdout.split(b"\n"), [
            b"tab\tonly",
            b"[text] esc\\x1b[31mred\\\\x\\r",
            b"[text] csi\\u009b2J",
            b"[text] [binary 1] 41",
            b"[text] [text] x",
            b"[binary",
            b"[text] del\\x7f",
            b""])

    def test_no_input(self):
        r = subprocess.run([NNGHTTP, "ws", self.url], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=20)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))

    def test_closed_standard_input(self):
        r = subprocess.run([NNGHTTP, "ws", self.url], stdin=subprocess.DEVNULL,
                           preexec_fn=lambda: os.close(0), capture_output=True, timeout=20)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))

    def test_verbose(self):
        r = self.echo(b"x\n", "-v")
        self.assertEqual(r.stdout, b"x\n")
        err = r.stderr.decode()
        self.assertIn("* connected to %s" % self.url, err)
        self.assertIn("< HTTP/1.1 101 Switching Protocols", err)
        self.assertRegex(err, r"< Sec-WebSocket-Accept: [A-Za-z0-9+/]{27}=")
        self.assertIn("* protocol: none", err)
        self.assertIn("* closed: 1000 (normal closure)", err)

    def test_refused_upgrade(self):
        r = ws_run("ws://127.0.0.1:%d/no-such-path" % self.port, data=b"x\n")
        self.assertEqual(r.returncode, 22, r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"refused the upgrade: HTTP 404", r.stderr)


class WsEchoShutdown(unittest.TestCase):
    """`serve --ws-echo` ended by SIGTERM with a client connected: the
    client gets 1001 (going away) and exits 0."""
    EXTRA = ()

    def test_sigterm_closes_with_1001(self):
        proc, _, port, lines = start_serve(SITE, "--ws-echo", "/echo", *self.EXTRA)
        c = subprocess.Popen([NNGHTTP, "ws", "-v", "ws://127.0.0.1:%d/echo" % port],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            c.stdin.write(b"hi\n")
            c.stdin.flush()
            self.assertEqual(c.stdout.readline(), b"hi\n")
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(10), 0)
            self.assertEqual(c.wait(10), 0)
            self.assertIn(b"* closed: 1001 (going away): server shutting down", c.stderr.read())
        finally:
            c.kill()
            c.communicate()
            end_serve(proc, lines)


class WsEchoShutdownThreadFree(WsEchoShutdown):
    EXTRA = ("--threads", "0")


class WsTls(unittest.TestCase):
    """wss:// against `nnghttp serve --tls-cert --tls-key --ws-echo`."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.cert = os.path.join(cls.tmp.name, "cert.pem")
        cls.key = os.path.join(cls.tmp.name, "key.pem")
        cls.other = os.path.join(cls.tmp.name, "other.pem")
        for cert, key in ((cls.cert, cls.key), (cls.other, cls.key + ".other")):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                            "-subj", "/CN=localhost", "-days", "2", "-addext",
                            "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                           check=True, capture_output=True, timeout=60)
        cls.proc, _, cls.port, cls.lines = start_serve(SITE, "--tls-cert", cls.cert, "--tls-key",
                                                       cls.key, "--ws-echo", "/echo")
        cls.url = "wss://127.0.0.1:%d/echo" % cls.port

    @classmethod
    def tearDownClass(cls):
        end_serve(cls.proc, cls.lines)
        cls.tmp.cleanup()

    def test_cacert(self):
        r = ws_run(self.url, "--cacert", self.cert, data=b"secure\n")
        self.assertEqual((r.returncode, r.stdout), (0, b"secure\n"), r.stderr)

    def test_insecure(self):
        r = ws_run(self.url, "-k", data=b"anyway\n")
        self.assertEqual((r.returncode, r.stdout), (0, b"anyway\n"), r.stderr)

    def test_unverified_fails(self):
        for args in ((), ("--cacert", self.other)):
            r = ws_run(self.url, *args, data=b"x\n")
            self.assertEqual(r.returncode, 6, r.stderr)
            self.assertEqual(r.stdout, b"")


class WsExitCodes(unittest.TestCase):
    def test_errors(self):
        self.assertEqual(ws_run("ws://127.0.0.1:%d/" % free_port()).returncode, 5)
        self.assertEqual(ws_run("http://127.0.0.1:1/").returncode, 3)
        self.assertEqual(ws_run("not a url").returncode, 3)
        self.assertEqual(ws_run("ws://name.invalid/").returncode, 4)
        self.assertEqual(ws_run("ws://127.0.0.1:1/", "-H", "no colon").returncode, 2)
        self.assertEqual(run("ws").returncode, 2)
        self.assertEqual(run("serve", "--ws-echo", "echo").returncode, 2)
        # Accepted, never answered: the opening handshake times out.
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        t0 = time.monotonic()
        r = ws_run("ws://127.0.0.1:%d/" % ls.getsockname()[1], "--timeout", "0.5")
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertLess(time.monotonic() - t0, 5)
        ls.close()

    def test_help_documents_the_output_and_codes(self):
        r = run("ws", "--help")
        self.assertEqual(r.returncode, 0)
        for text in (b"--wait", b"--binary", b"--protocol", b"--max-message", b"[binary N]",
                     b"[text]", b"22 upgrade refused", b"130"):
            self.assertIn(text, r.stdout)
        self.assertIn(b"--ws-echo", run("serve", "--help").stdout)


class WsNodePeer(unittest.TestCase):
    """`nnghttp ws` against node's `ws` as the server: `peer` speaks the
    subprotocol "chat", `slow` echoes each message 300 ms late."""

    @classmethod
    def setUpClass(cls):
        cls.peer = NodePeer("--protocol", "chat")
        cls.slow = NodePeer("--delay", "300")

    @classmethod
    def tearDownClass(cls):
        cls.peer.end()
        cls.slow.end()

    def ws(self, tag, data, *args, peer=None):
        return ws_run((peer or self.peer).url, "-H", "X-Tag: " + tag, *args, data=data)

    def test_echo_with_a_header(self):
        r = self.ws("echo", b"a\nb\n")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"a\nb\n", b""))
        self.assertEqual(self.peer.log.wait("open echo "), "open echo -")
        self.assertEqual(self.peer.close_of("echo"), (1000, ""))

    def test_echoes_after_the_end_of_input_are_printed(self):
        t0 = time.monotonic()
        r = self.ws("late", b"one\ntwo\nthree\n", peer=self.slow)
        self.assertEqual((r.returncode, r.stdout), (0, b"one\ntwo\nthree\n"), r.stderr)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual(self.slow.close_of("late")[0], 1000)

    def test_wait_zero_closes_at_once(self):
        r = self.ws("nowait", b"one\ntwo\n", "--wait", "0", peer=self.slow)
        self.assertEqual((r.returncode, r.stdout), (0, b""), r.stderr)
        self.assertEqual(self.slow.close_of("nowait")[0], 1000)

    def test_wait_bounds_replies_that_never_come(self):
        t0 = time.monotonic()
        r = self.ws("quiet", b"quiet\nx\ny\n", "--wait", "0.5")
        took = time.monotonic() - t0
        self.assertEqual((r.returncode, r.stdout), (0, b""), r.stderr)
        self.assertGreaterEqual(took, 0.5)
        self.assertLess(took, 5)
        self.assertEqual(self.peer.close_of("quiet")[0], 1000)

    def test_server_closes_with_an_error_code(self):
        r = self.ws("err", b"close 1011 it broke\nnot sent\n")
        self.assertEqual(r.returncode, 9, r.stderr)
        self.assertIn(b"closed with 1011 (internal error): it broke", r.stderr)
        self.assertEqual(self.peer.close_of("err")[0], 1011)
        r = self.ws("app", b"close 4000 custom\n")
        self.assertEqual(r.returncode, 9, r.stderr)
        self.assertIn(b"4000: custom", r.stderr)

    def test_server_closes_normally(self):
        for code in (1000, 1001):
            r = self.ws("normal%d" % code, b"close %d bye\n" % code)
            self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))

    def test_server_closes_while_input_is_open(self):
        c = subprocess.Popen([NNGHTTP, "ws", self.peer.url], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        c.stdin.write(b"close 1011 now\n")
        c.stdin.flush()
        try:
            self.assertEqual(c.wait(10), 9)  # without waiting for the end of input
        finally:
            c.kill()
            c.communicate()

    def test_server_drops_the_connection(self):
        r = self.ws("drop", b"drop\n")
        self.assertEqual(r.returncode, 9, r.stderr)
        self.assertIn(b"1006", r.stderr)

    def test_server_binary_and_controls_shown_safely(self):
        r = self.ws("bin", b"send-binary 00ff1b0a41\n")
        self.assertEqual((r.returncode, r.stdout), (0, b"[binary 5] 00ff1b0a41\n"), r.stderr)
        r = self.ws("osc", b'send-text "\\u001b]0;title\\u0007two\\nlines"\n')
        self.assertEqual((r.returncode, r.stdout),
                         (0, b"[text] \\x1b]0;title\\x07two\\nlines\n"), r.stderr)

    def test_subprotocol(self):
        r = self.ws("proto", b"x\n", "--protocol", "foo", "--protocol", "chat", "-v")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"> Sec-WebSocket-Protocol: foo, chat", r.stderr)
        self.assertIn(b"* protocol: chat", r.stderr)
        self.assertEqual(self.peer.log.wait("open proto "), "open proto chat")
        r = self.ws("noproto", b"x\n", "--protocol", "foo", "-v")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"* protocol: none", r.stderr)

    def test_message_over_the_limit(self):
        r = self.ws("big", b"x" * 26 + b"\n", "--max-message", "10")
        self.assertEqual(r.returncode, 8, r.stderr)
        self.assertIn(b"--max-message", r.stderr)
        self.assertEqual(self.peer.close_of("big")[0], 1009)

    def test_sigint_on_a_pipe(self):
        c = subprocess.Popen([NNGHTTP, "ws", "-H", "X-Tag: sigint", self.peer.url],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            c.stdin.write(b"hello\n")
            c.stdin.flush()
            self.assertEqual(c.stdout.readline(), b"hello\n")
            c.send_signal(signal.SIGINT)
            self.assertEqual(c.wait(10), 130)
        finally:
            c.kill()
            c.communicate()
        self.assertEqual(self.peer.close_of("sigint")[0], 1000)

    def test_terminal_typing_and_ctrl_c(self):
        t = Terminal("ws", "-H", "X-Tag: tty-c", self.slow.url)
        self.slow.log.wait("open tty-c ")
        t.type(b"hello\n")
        t.type(b"wor")  # a line half typed when the echo comes
        # The terminal's own echo of what was typed, then the message.
        t.expect(b"hello\r\nworhello\r\n")
        t.type(b"\x03")  # Ctrl-C
        self.assertEqual(t.wait(), 130, t.out)
        self.assertEqual(self.slow.close_of("tty-c")[0], 1000)

    def test_terminal_ctrl_d(self):
        t = Terminal("ws", "-H", "X-Tag: tty-d", self.peer.url)
        self.peer.log.wait("open tty-d ")
        t.type(b"push 2\n")
        t.expect(b"push 1\r\npush 2\r\n")
        t.type(b"\x04")  # Ctrl-D: the end of input
        self.assertEqual(t.wait(), 0, t.out)
        self.assertEqual(self.peer.close_of("tty-d")[0], 1000)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
