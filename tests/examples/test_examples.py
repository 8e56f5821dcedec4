#!/usr/bin/env python3
"""The programs in examples/, run for real over loopback.

  hello_c, hello   exact status, headers and body; keep-alive; 404 and 405;
                   many clients at once; SIGTERM and SIGINT stop them with
                   status 0 (so a sanitizer's leak check at exit counts).
  rest_json        the whole create/read/update/delete cycle (status codes,
                   Location, JSON bodies), its 400s (each saying what is
                   wrong), 404s and 405s, and clients on several threads.
  fetch            against hello_c (body, status, exit codes) and against
                   Python's http.server (byte-identical files with a
                   Content-Length, chunked, or ended by close); a refused
                   port, a server that never answers, a bad URL: exit status
                   1 and one line on stderr.

Every server is started on port 0 of 127.0.0.1 and says which port it got;
every wait is bounded; every process started is stopped.

Usage: test_examples.py EXAMPLES_DIR [unittest arguments, e.g. HelloC]
"""
import http.client
import http.server
import json
import os
import random
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

EXAMPLES_DIR = sys.argv[1] if len(sys.argv) > 1 else "build/examples/examples"
START_TIMEOUT = 20  # seconds for a server to say its port (sanitizer builds are slow)
STOP_TIMEOUT = 20
RUN_TIMEOUT = 60


def example(name):
    return os.path.join(EXAMPLES_DIR, name)


class Server:
    """An example server on 127.0.0.1, port 0; its first line names the port."""

    def __init__(self, name):
        self.name = name
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([example(name), "http://127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=self.stderr)
        try:
            line = self._first_line()
            prefix = "%s: listening on port " % name
            if not line.startswith(prefix):
                raise RuntimeError("%s said %r, not %r..." % (name, line, prefix))
            self.port = int(line[len(prefix):])
        except BaseException:
            self.kill()
            raise

    def _first_line(self):
        deadline = time.monotonic() + START_TIMEOUT
        data = b""
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in data:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise RuntimeError("%s did not say its port in %d s" % (self.name, START_TIMEOUT))
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError("%s exited before saying its port (status %s): %s" %
                                       (self.name, self.proc.wait(STOP_TIMEOUT), self.errors()))
                data += chunk
        return data.decode().splitlines()[0]

    def errors(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def connect(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def stop(self, sig=signal.SIGTERM):
        """Signals the server and returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("%s did not stop within %d s of %s" %
                                 (self.name, STOP_TIMEOUT, signal.Signals(sig).name))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)
        self.proc.stdout.close()
        self.stderr.close()


def request(conn, method, path, body=None, headers=None):
    """One exchange on conn: (status, headers as a dict, body bytes)."""
    hdrs = dict(headers or {})
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=body, headers=hdrs)
    res = conn.getresponse()
    return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()


class ServerCase(unittest.TestCase):
    """Starts one example server per test; checks that it stops cleanly."""
    program = None

    def setUp(self):
        self.server = Server(self.program)
        self.addCleanup(self.server.kill)
        self.stop_signal = signal.SIGTERM

    def tearDown(self):
        status = self.server.stop(self.stop_signal)
        self.assertEqual(status, 0, "%s exited with %s on %s; stderr:\n%s" %
                         (self.program, status, signal.Signals(self.stop_signal).name,
                          self.server.errors()))

    def exchange(self, method, path, body=None, headers=None):
        conn = self.server.connect()
        try:
            return request(conn, method, path, body, headers)
        finally:
            conn.close()

    def many_clients(self, work, threads=8):
        """Runs work(index) on several threads at once; re-raises the first failure."""
        failures = []
        start = threading.Barrier(threads)

        def body(i):
            try:
                start.wait(10)
                work(i)
            except BaseException as e:  # reported below, on the test's thread
                failures.append(e)

        pool = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(RUN_TIMEOUT)
        self.assertFalse(any(t.is_alive() for t in pool), "client threads still running")
        if failures:
            raise failures[0]


HELLO = b"Hello, world!\n"


class HelloChecks:
    """The same checks for hello_c (C API) and hello (C++ API)."""

    def test_hello(self):
        status, hdrs, body = self.exchange("GET", "/")
        self.assertEqual(status, 200)
        self.assertEqual(body, HELLO)
        self.assertEqual(hdrs["content-type"], "text/plain")
        self.assertEqual(hdrs["content-length"], str(len(HELLO)))

    def test_head_has_no_body(self):
        status, hdrs, body = self.exchange("HEAD", "/")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(hdrs["content-length"], str(len(HELLO)))

    def test_keep_alive(self):
        conn = self.server.connect()
        self.addCleanup(conn.close)
        for _ in range(20):
            self.assertEqual(request(conn, "GET", "/")[::2], (200, HELLO))

    def test_other_paths_and_methods(self):
        self.assertEqual(self.exchange("GET", "/nothing/here")[0], 404)
        status, hdrs, _ = self.exchange("POST", "/", body=b"x")
        self.assertEqual(status, 405)
        self.assertIn("GET", hdrs["allow"])

    def test_many_clients(self):
        def work(_):
            conn = self.server.connect()
            try:
                for _ in range(25):
                    self.assertEqual(request(conn, "GET", "/")[::2], (200, HELLO))
            finally:
                conn.close()
        self.many_clients(work)

    def test_stops_with_clients_connected(self):
        # tearDown's SIGTERM finds an idle keep-alive connection and one
        # with half a request sent: the server must still exit 0.
        idle = self.server.connect()
        self.addCleanup(idle.close)
        self.assertEqual(request(idle, "GET", "/")[::2], (200, HELLO))
        half = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        self.addCleanup(half.close)
        half.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")

    def test_sigint_stops_it_too(self):
        self.assertEqual(self.exchange("GET", "/")[0], 200)
        self.stop_signal = signal.SIGINT


class HelloC(HelloChecks, ServerCase):
    program = "hello_c"


class Hello(HelloChecks, ServerCase):
    program = "hello"


class RestJson(ServerCase):
    program = "rest_json"

    def call(self, method, path, body=None):
        """(status, decoded JSON or None, headers); every body must be JSON."""
        status, hdrs, raw = self.exchange(method, path, body)
        if not raw:
            return status, None, hdrs
        self.assertEqual(hdrs.get("content-type"), "application/json", raw)
        return status, json.loads(raw), hdrs

    def assert_error(self, method, path, body, status, *words):
        got, doc, _ = self.call(method, path, body)
        self.assertEqual(got, status, doc)
        self.assertIsInstance(doc, dict)
        self.assertEqual(list(doc), ["error"])
        for w in words:
            self.assertIn(w, doc["error"])

    def test_crud_cycle(self):
        self.assertEqual(self.call("GET", "/items")[:2], (200, []))

        status, tea, hdrs = self.call("POST", "/items", {"name": "tea", "price": 3.5})
        self.assertEqual(status, 201)
        self.assertEqual(tea, {"id": 1, "name": "tea", "price": 3.5})
        self.assertEqual(hdrs["location"], "/items/1")
        status, cake, hdrs = self.call("POST", "/items", {"name": "cake", "tags": ["sweet"]})
        self.assertEqual((status, hdrs["location"]), (201, "/items/2"))
        self.assertEqual(cake, {"id": 2, "name": "cake", "tags": ["sweet"]})

        self.assertEqual(self.call("GET", "/items/1")[:2], (200, tea))
        self.assertEqual(self.call("GET", "/items/2/")[:2], (200, cake))
        self.assertEqual(self.call("GET", "/items")[:2], (200, [tea, cake]))
        self.assertEqual(self.call("GET", "/items/?sort=id")[:2], (200, [tea, cake]))

        status, doc, _ = self.call("PUT", "/items/1", {"name": "green tea"})
        self.assertEqual((status, doc), (200, {"id": 1, "name": "green tea"}))
        self.assertEqual(self.call("GET", "/items/1")[:2], (200, {"id": 1, "name": "green tea"}))

        status, doc, _ = self.call("DELETE", "/items/1")
        self.assertEqual((status, doc), (204, None))
        self.assert_error("GET", "/items/1", None, 404, "no item 1")
        self.assert_error("DELETE", "/items/1", None, 404, "no item 1")
        self.assert_error("PUT", "/items/1", {"name": "x"}, 404, "no item 1")
        self.assertEqual(self.call("GET", "/items")[:2], (200, [cake]))

        # Ids are never reused.
        status, doc, hdrs = self.call("POST", "/items", {"name": "tea"})
        self.assertEqual((status, doc, hdrs["location"]), (201, {"id": 3, "name": "tea"}, "/items/3"))

    def test_bad_bodies(self):
        self.assert_error("POST", "/items", b'{"name": "tea"', 400, "invalid JSON", "parse error")
        self.assert_error("POST", "/items", b"", 400, "invalid JSON", "end of input")
        self.assert_error("POST", "/items", b'{"name": nope}', 400, "invalid JSON", "line 1")
        self.assert_error("POST", "/items", b"[1, 2]", 400, "JSON object", "array")
        self.assert_error("POST", "/items", {"price": 1}, 400, '"name"')
        self.assert_error("POST", "/items", {"name": 7}, 400, '"name"')
        self.assertEqual(self.call("POST", "/items", {"name": "tea"})[0], 201)
        self.assert_error("PUT", "/items/1", b"{", 400, "invalid JSON")
        self.assert_error("PUT", "/items/1", b'"tea"', 400, "JSON object", "string")
        # Nothing was changed or created by the bad requests.
        self.assertEqual(self.call("GET", "/items")[:2], (200, [{"id": 1, "name": "tea"}]))

    def test_unknown_ids_and_paths(self):
        self.assert_error("GET", "/items/42", None, 404, "no item 42")
        self.assert_error("GET", "/items/abc", None, 404, "abc")
        self.assert_error("GET", "/items/1/2", None, 404)
        self.assert_error("DELETE", "/items/-1", None, 404)
        self.assertEqual(self.exchange("GET", "/itemsx")[0], 404)
        self.assertEqual(self.exchange("GET", "/")[0], 404)

    def test_wrong_methods(self):
        # The server's own 405s (no route for the method at that path).
        status, hdrs, _ = self.exchange("PATCH", "/items/1", b"{}")
        self.assertEqual(status, 405)
        self.assertEqual(sorted(hdrs["allow"].split(", ")), ["DELETE", "GET", "HEAD", "PUT"])
        status, hdrs, _ = self.exchange("POST", "/items/1", b"{}")
        self.assertEqual(status, 405)
        # The example's own: PUT and DELETE need an item.
        self.assert_error("PUT", "/items", {"name": "x"}, 405, "/items/{id}")
        self.assert_error("DELETE", "/items", None, 405, "/items/{id}")
        self.assertEqual(self.exchange("DELETE", "/items")[1]["allow"], "GET, HEAD, POST")

    def test_many_clients(self):
        per_thread, threads = 15, 8
        made = [[] for _ in range(threads)]

        def work(i):
            conn = self.server.connect()
            try:
                for n in range(per_thread):
                    name = "item %d.%d" % (i, n)
                    status, hdrs, raw = request(conn, "POST", "/items", {"name": name})
                    self.assertEqual(status, 201, raw)
                    doc = json.loads(raw)
                    self.assertEqual(hdrs["location"], "/items/%d" % doc["id"])
                    made[i].append(doc)
                    self.assertEqual(request(conn, "GET", hdrs["location"])[::2], (200, raw))
                # Every other item replaced, then every third removed.
                for doc in made[i][::2]:
                    new = {"id": doc["id"], "name": doc["name"] + " v2"}
                    status, _, raw = request(conn, "PUT", "/items/%d" % doc["id"], new)
                    self.assertEqual((status, json.loads(raw)), (200, new))
                    doc["name"] = new["name"]
                for doc in made[i][::3]:
                    self.assertEqual(request(conn, "DELETE", "/items/%d" % doc["id"])[0], 204)
                    doc["gone"] = True
            finally:
                conn.close()

        self.many_clients(work, threads)
        everything = [doc for docs in made for doc in docs]
        ids = [doc["id"] for doc in everything]
        self.assertEqual(sorted(ids), list(range(1, threads * per_thread + 1)))
        expect = sorted(({"id": d["id"], "name": d["name"]} for d in everything if "gone" not in d),
                        key=lambda d: d["id"])
        self.assertEqual(self.call("GET", "/items")[:2], (200, expect))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from the test's directory; /chunked/NAME sends NAME in
    chunks of random sizes, /close/NAME with neither length nor chunks (the
    end of the body is the connection's close)."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        for prefix in ("/chunked/", "/close/"):
            if self.path.startswith(prefix):
                return self.send_framed(prefix, self.path[len(prefix):])
        return super().do_GET()

    def send_framed(self, prefix, name):
        with open(os.path.join(self.directory, name), "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if prefix == "/chunked/":
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        rng = random.Random(len(data))
        at = 0
        while at < len(data):
            piece = data[at:at + rng.choice((1, 7, 100, 4096, 65536, 200000))]
            at += len(piece)
            if prefix == "/chunked/":
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            else:
                self.wfile.write(piece)
        if prefix == "/chunked/":
            self.wfile.write(b"0\r\n\r\n")


class Fetch(unittest.TestCase):
    def fetch(self, *args):
        return subprocess.run([example("fetch"), *args], capture_output=True,
                              timeout=RUN_TIMEOUT)

    def assert_one_line_error(self, r, *words):
        self.assertEqual(r.returncode, 1, r)
        self.assertEqual(r.stdout, b"")
        err = r.stderr.decode()
        self.assertTrue(err.startswith("fetch: ") and err.endswith("\n"), err)
        self.assertEqual(err.count("\n"), 1, err)
        for w in words:
            self.assertIn(w.lower(), err.lower())

    def test_from_hello_c(self):
        server = Server("hello_c")
        self.addCleanup(server.kill)
        root = "http://127.0.0.1:%d" % server.port
        r = self.fetch(root + "/")
        self.assertEqual((r.returncode, r.stdout), (0, HELLO), r)
        self.assertEqual(r.stderr, b"HTTP/1.1 200 OK\n")
        r = self.fetch(root + "/missing", "5000")
        self.assertEqual(r.returncode, 2, r)
        self.assertEqual(r.stderr, b"HTTP/1.1 404 Not Found\n")
        self.assertIn(b"404", r.stdout)  # the error page, printed all the same
        self.assertEqual(server.stop(), 0, server.errors())

    def test_files_from_python_http_server(self):
        with tempfile.TemporaryDirectory() as d:
            rng = random.Random(7)
            files = {"empty.bin": b"", "small.txt": b"one line\n",
                     "big.bin": rng.randbytes(3 * 1024 * 1024 + 17)}
            for name, data in files.items():
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)

            def handler(*args, **kwargs):
                return QuietHandler(*args, directory=d, **kwargs)

            httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            httpd.daemon_threads = True
            thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
            thread.start()
            try:
                root = "http://127.0.0.1:%d" % httpd.server_address[1]
                for name, data in files.items():
                    for prefix in ("/", "/chunked/", "/close/"):
                        with self.subTest(path=prefix + name):
                            r = self.fetch(root + prefix + name)
                            self.assertEqual(r.returncode, 0, r.stderr)
                            self.assertEqual(r.stderr, b"HTTP/1.1 200 OK\n")
                            self.assertTrue(r.stdout == data, "%d bytes fetched, %d served" %
                                            (len(r.stdout), len(data)))
            finally:
                httpd.shutdown()
                httpd.server_close()
                thread.join(STOP_TIMEOUT)

    def test_refused(self):
        # A bound socket that does not listen: connecting to it is refused,
        # and no other program can take the port meanwhile.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            r = self.fetch("http://127.0.0.1:%d/" % s.getsockname()[1])
        self.assert_one_line_error(r, "refused")

    def test_timeout(self):
        # A listener that accepts (the kernel does) but never answers.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            started = time.monotonic()
            r = self.fetch("http://127.0.0.1:%d/" % s.getsockname()[1], "300")
            took = time.monotonic() - started
        self.assert_one_line_error(r, "timed out")
        self.assertLess(took, 15)

    def test_bad_arguments(self):
        self.assert_one_line_error(self.fetch("not a url"), "not a url")
        self.assert_one_line_error(self.fetch("ftp://127.0.0.1/"), "ftp://")
        self.assert_one_line_error(self.fetch("http://127.0.0.1:1/", "soon"), "timeout")
        r = self.fetch()
        self.assertEqual((r.returncode, r.stdout), (1, b""))
        self.assertIn(b"usage", r.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
