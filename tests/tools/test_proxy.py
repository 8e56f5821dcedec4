#!/usr/bin/env python3
"""The nginx deployment example, run: examples/deploy/nginx-reverse-proxy.conf
in front of two `nnghttp serve` instances on the demo site, all on 127.0.0.1.

Each test starts its own deployment (two backends on ports the kernel
picks, nginx on a free port with the example's addresses replaced) and
stops all of it on every exit path; every wait is bounded.  It checks,
through nginx, with curl and http.client:

  - pages come back byte for byte as the files (and 404, 304 pass through);
  - requests are spread over both backends (their Common Log lines), which
    see HTTP/1.1 from nginx;
  - nginx keeps its connections to the backends open and reuses them
    (connections counted in /proc/net/tcp, against requests logged);
  - Host, X-Forwarded-For and X-Forwarded-Proto reach a backend (a stand-in
    that records headers, since nnghttp serve does not show them);
  - failover: with one backend killed, every request still succeeds.

The test skips only when nginx is not installed (scripts/deps installs it).

Usage: test_proxy.py NNGHTTP DEMO_SITE NGINX_CONF_EXAMPLE
"""
import ctypes
import grp
import http.client
import http.server
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
NNGHTTP = sys.argv[1] if len(sys.argv) > 1 else "nnghttp"
SITE = Path(sys.argv[2] if len(sys.argv) > 2 else HERE.parents[1] / "share" / "demo-site")
EXAMPLE = Path(sys.argv[3] if len(sys.argv) > 3
               else HERE.parents[1] / "examples" / "deploy" / "nginx-reverse-proxy.conf")

HOST = "127.0.0.1"
NGINX = "/usr/sbin/nginx"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
HTTP_TIMEOUT = 10.0

# What the example is written with, and what each test puts in its place.
# Each must occur exactly once outside comments (site_config checks).
EXAMPLE_BACKENDS = ("127.0.0.1:8081", "127.0.0.1:8082")
EXAMPLE_LISTEN = "127.0.0.1:8080"
EXAMPLE_ACCESS_LOG = "/var/log/nginx/nnghttp-access.log"

# host ident user [date] "method target version" status bytes
CLF = re.compile(r'^(\S+) - - \[[^\]]+\] "(\S+) (\S+) (HTTP/\d\.\d)" (\d{3}) (\d+|-)$')


def die_with_parent():
    """preexec_fn: a child gets SIGTERM if this test process dies without
    stopping it (Linux prctl PR_SET_PDEATHSIG), so nothing outlives a
    killed test run.  SIGTERM stops nnghttp and nginx (with its workers)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, step=0.02):
    """pred() until it is true or timeout seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def wait_listening(port, proc, timeout=START_TIMEOUT):
    def up():
        if proc.poll() is not None:
            return "exited"
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return "up"
        except OSError:
            return None
    return wait_until(up, timeout, 0.05) == "up"


def stop_process(proc, sig=signal.SIGTERM):
    """Stops proc (sig, then SIGKILL after STOP_TIMEOUT); its exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)
    return proc.returncode


def tail(path, n=20):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError as e:
        return f"({e})"


def tcp_pairs(ports):
    """TCP sockets on this host (any state but LISTEN) with one end on one
    of ports, as {(port, other_port)}: one entry per connection whichever
    side still holds it (an open one appears twice, the same pair, and a
    closed one lingers in TIME_WAIT on the side that closed first)."""
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            f = row.split()
            local = int(f[1].rsplit(":", 1)[1], 16)
            remote = int(f[2].rsplit(":", 1)[1], 16)
            if f[3] == "0A":  # LISTEN
                continue
            if local in ports:
                out.add((local, remote))
            elif remote in ports:
                out.add((remote, local))
    return out


def established_from(ports):
    """{(port, local_port)} for ESTABLISHED sockets connected to one of
    ports: the client (nginx) side of open connections."""
    out = set()
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = row.split()
        local = int(f[1].rsplit(":", 1)[1], 16)
        remote = int(f[2].rsplit(":", 1)[1], 16)
        if f[3] == "01" and remote in ports and local not in ports:
            out.add((remote, local))
    return out


def site_files():
    """{url path: bytes} for every file of the demo site."""
    out = {}
    for p in sorted(SITE.rglob("*")):
        if p.is_file():
            out["/" + p.relative_to(SITE).as_posix()] = p.read_bytes()
    return out


def site_config(example, listen_port, backend_ports, access_log):
    """The example with its listen address, backend addresses and access
    log replaced, in code only (comments mention them too).  Each must be
    there exactly once, so a change to the example that the test no longer
    understands fails loudly instead of testing something else."""
    subs = {EXAMPLE_LISTEN: f"{HOST}:{listen_port}",
            EXAMPLE_ACCESS_LOG: str(access_log)}
    for old, port in zip(EXAMPLE_BACKENDS, backend_ports):
        subs[old] = f"{HOST}:{port}"
    seen = dict.fromkeys(subs, 0)
    lines = []
    for line in example.splitlines():
        code, hash_, comment = line.partition("#")
        for old, new in subs.items():
            seen[old] += code.count(old)
            code = code.replace(old, new)
        lines.append(code + hash_ + comment)
    wrong = {k: v for k, v in seen.items() if v != 1}
    if wrong:
        raise AssertionError(f"{EXAMPLE}: expected each exactly once outside comments: {wrong}")
    return "\n".join(lines) + "\n"


class Backend:
    """`nnghttp serve SITE` on a port the kernel picks; its stdout (the
    address line, then one Common Log line per request) goes to a file."""

    def __init__(self, tmp, name):
        self.name = name
        self.log = Path(tmp) / f"{name}.log"
        self.proc = None
        self.port = None

    def start(self):
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [NNGHTTP, "serve", str(SITE), "--listen", f"http://{HOST}:0"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent)
        pat = re.compile(rf"^nnghttp: serving \S+ at http://127\.0\.0\.1:(\d+)/$", re.M)

        def address():
            m = pat.search(self.log.read_text(errors="replace"))
            return m or self.proc.poll() is not None
        m = wait_until(address, START_TIMEOUT)
        if not isinstance(m, re.Match):
            raise RuntimeError(f"{self.name} did not start: {tail(self.log)}")
        self.port = int(m.group(1))

    def requests(self):
        """The Common Log lines so far, as CLF matches."""
        text = self.log.read_text(errors="replace")
        return [m for m in map(CLF.match, text.splitlines()) if m]

    def stop(self, sig=signal.SIGTERM):
        return stop_process(self.proc, sig)


class HeaderRecorder:
    """Stands in for one backend where a test must see what nginx sends
    (nnghttp serve shows only the request line): an HTTP/1.1 server that
    records each request's line and headers and answers 200 "recorded"."""

    def __init__(self):
        self.seen = []
        seen = self.seen

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = HTTP_TIMEOUT

            def do_GET(self):
                seen.append((self.requestline, self.headers))
                body = b"recorded\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(STOP_TIMEOUT)


class Nginx:
    """nginx with the example as its site, wrapped in a minimal main
    configuration whose paths (error log, pid, temp dirs) are all in dir."""

    def __init__(self, tmp):
        self.dir = Path(tmp) / "nginx"
        self.dir.mkdir()
        self.error_log = self.dir / "error.log"
        self.access_log = self.dir / "access.log"
        self.proc = None
        self.port = None

    def main_config(self):
        d = self.dir
        user = ""
        if os.geteuid() == 0:
            # Workers then drop to this user; it must reach the temp dirs.
            pw = pwd.getpwnam("nobody")
            user = f"user {pw.pw_name} {grp.getgrgid(pw.pw_gid).gr_name};"
            for p in (d.parent, d):  # mkdtemp makes the first 0700
                p.chmod(0o755)
        return f"""{user}
worker_processes 1;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {d}/body-temp;
    proxy_temp_path {d}/proxy-temp;
    fastcgi_temp_path {d}/fastcgi-temp;
    uwsgi_temp_path {d}/uwsgi-temp;
    scgi_temp_path {d}/scgi-temp;
    include {d}/site.conf;
}}
"""

    def start(self, backend_ports):
        example = EXAMPLE.read_text()
        conf = self.dir / "nginx.conf"
        conf.write_text(self.main_config())
        for _ in range(3):  # a free port may be taken before nginx binds it
            port = free_port()
            (self.dir / "site.conf").write_text(
                site_config(example, port, backend_ports, self.access_log))
            self.proc = subprocess.Popen(
                [NGINX, "-p", str(self.dir), "-c", str(conf), "-e", str(self.error_log),
                 "-g", f"daemon off; pid {self.dir}/nginx.pid;"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
            if wait_listening(port, self.proc):
                self.port = port
                return
            stop_process(self.proc)
        raise RuntimeError("nginx did not start:\n" + tail(self.error_log))

    def log_lines(self, at_least=0):
        """The access log's lines, once it has at_least of them (nginx may
        write a line just after the response went out) or after 5 s."""
        def lines():
            try:
                return self.access_log.read_text(errors="replace").splitlines()
            except FileNotFoundError:
                return []
        wait_until(lambda: len(lines()) >= at_least, 5.0)
        return lines()

    def stop(self):
        # SIGQUIT: graceful, workers finish what they have.
        return stop_process(self.proc, signal.SIGQUIT)


class Deployment:
    """Two backends (nnghttp serve, or a HeaderRecorder for the second)
    and nginx in front; a context manager that stops all that started."""

    def __init__(self, recorder=False):
        self.tmp = tempfile.mkdtemp(prefix="nnghttp-proxy-")
        self.a = Backend(self.tmp, "backend-a")
        self.b = HeaderRecorder() if recorder else Backend(self.tmp, "backend-b")
        self.nginx = Nginx(self.tmp)
        self.started = []

    def __enter__(self):
        try:
            for s in (self.a, self.b):
                self.started.append(s)
                s.start()
            self.started.append(self.nginx)
            self.nginx.start([self.a.port, self.b.port])
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        for s in reversed(self.started):  # nginx first
            try:
                s.stop()
            except Exception as e:  # keep stopping the others
                print(f"stopping {type(s).__name__}: {e}", file=sys.stderr)
        self.started = []
        shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def url(self):
        return f"http://{HOST}:{self.nginx.port}"

    def backend_ports(self):
        return {self.a.port, self.b.port}

    def wait_logged(self, total):
        """Waits until the backends have logged total requests between them
        (a line may land just after its response); the counts (a, b)."""
        def counts():
            return len(self.a.requests()), len(self.b.requests())
        wait_until(lambda: sum(counts()) >= total, 5.0)
        return counts()

    def diagnostics(self):
        parts = [f"nginx error.log:\n{tail(self.nginx.error_log)}",
                 f"nginx access.log:\n{tail(self.nginx.access_log)}"]
        for b in (self.a, self.b):
            if isinstance(b, Backend):
                parts.append(f"{b.name} (port {b.port}):\n{tail(b.log)}")
        return "\n".join(parts)


def curl(url, *args):
    """curl's body and status code (no retries; bounded)."""
    r = subprocess.run(["curl", "-s", "--max-time", str(HTTP_TIMEOUT), "-w", "\n%{http_code}",
                        *args, url], capture_output=True, timeout=HTTP_TIMEOUT + 5)
    body, _, code = r.stdout.rpartition(b"\n")
    return body, int(code or 0)


def get_all(port, paths, headers=None):
    """GETs each path on one keep-alive connection; [(status, headers, body)]."""
    c = http.client.HTTPConnection(HOST, port, timeout=HTTP_TIMEOUT)
    try:
        out = []
        for p in paths:
            c.request("GET", p, headers=headers or {})
            r = c.getresponse()
            out.append((r.status, r.headers, r.read()))
        return out
    finally:
        c.close()


@unittest.skipUnless(os.access(NGINX, os.X_OK),
                     f"nginx is not installed ({NGINX}; scripts/deps installs nginx-light)")
class ReverseProxy(unittest.TestCase):
    def deploy(self, **kw):
        d = Deployment(**kw)
        d.__enter__()
        self.addCleanup(d.stop)
        return d

    def test_pages_identical_through_nginx(self):
        d = self.deploy()
        files = site_files()
        self.assertIn("/index.html", files)
        self.assertIn("/hello.txt", files)
        expect = dict(files)
        expect["/"] = files["/index.html"]
        expect["/docs/"] = files["/docs/index.html"]
        msg = d.diagnostics
        for path, data in expect.items():  # one curl process (connection) each
            body, code = curl(d.url + path)
            self.assertEqual(code, 200, f"{path}\n{msg()}")
            self.assertEqual(body, data, path)
        paths = list(expect) * 2  # and on one keep-alive client connection
        for path, (status, headers, body) in zip(paths, get_all(d.nginx.port, paths)):
            self.assertEqual(status, 200, path)
            self.assertEqual(body, expect[path], path)
            self.assertEqual(int(headers["Content-Length"]), len(body), path)
        # Statuses other than 2xx pass through; 404 is not a reason to fail over.
        body, code = curl(d.url + "/no/such/page")
        self.assertEqual(code, 404)
        # A conditional request gets 304 from either backend: both serve the
        # same files, so their validators agree.
        (status, headers, _), = get_all(d.nginx.port, ["/hello.txt"])
        self.assertEqual(status, 200)
        etag = headers["ETag"]
        self.assertTrue(etag, "no ETag through nginx")
        for status, _, body in get_all(d.nginx.port, ["/hello.txt"] * 4,
                                       {"If-None-Match": etag}):
            self.assertEqual((status, body), (304, b""))
        n = len(expect) * 3 + 1 + 1 + 4
        a, b = d.wait_logged(n)
        self.assertEqual(a + b, n, "each request reached one backend once\n" + msg())

    def test_requests_spread_over_both_backends(self):
        d = self.deploy()
        hello = (SITE / "hello.txt").read_bytes()
        n = 20
        for status, _, body in get_all(d.nginx.port, ["/hello.txt"] * n):
            self.assertEqual((status, body), (200, hello))
        a, b = d.wait_logged(n)
        self.assertEqual(a + b, n, d.diagnostics())
        # Round robin with equal weights: half each; allow some slack.
        self.assertGreaterEqual(a, n // 4, d.diagnostics())
        self.assertGreaterEqual(b, n // 4, d.diagnostics())
        for m in d.a.requests() + d.b.requests():
            # nginx's address, and HTTP/1.1 (proxy_http_version): the
            # default 1.0 would rule out keep-alive.
            self.assertEqual(m.group(1), HOST)
            self.assertEqual(m.group(2, 3, 4, 5), ("GET", "/hello.txt", "HTTP/1.1", "200"))
            self.assertEqual(m.group(6), str(len(hello)))
        # nginx's own log names the backend of each request.
        used = [re.search(r" upstream=(\S+) ", line) for line in d.nginx.log_lines(n)]
        self.assertEqual(len(used), n)
        self.assertEqual({m.group(1) for m in used if m},
                         {f"{HOST}:{d.a.port}", f"{HOST}:{d.b.port}"})

    def test_keepalive_connections_to_backends(self):
        d = self.deploy()
        ports = d.backend_ports()
        before = tcp_pairs(ports)  # the ports are new: nothing yet
        hello = (SITE / "hello.txt").read_bytes()
        n1 = 20  # one client connection
        for status, _, body in get_all(d.nginx.port, ["/hello.txt"] * n1):
            self.assertEqual((status, body), (200, hello))
        d.wait_logged(n1)
        idle = established_from(ports)
        self.assertTrue(idle, "no open connection from nginx to a backend after the requests\n"
                        + d.diagnostics())
        n2 = 10  # a new client connection for each
        for _ in range(n2):
            body, code = curl(d.url + "/hello.txt")
            self.assertEqual((code, body), (200, hello))
        a, b = d.wait_logged(n1 + n2)
        self.assertEqual(a + b, n1 + n2, d.diagnostics())
        conns = tcp_pairs(ports) - before
        # Sequential requests need one connection per backend; allow a spare
        # each.  Without keep-alive there would be one per request (30).
        self.assertLessEqual(len(conns), 4, f"{sorted(conns)}\n{d.diagnostics()}")
        self.assertGreaterEqual(len(conns), 2)
        # The connections open after the first batch served the second one
        # too (new clients, same backend connections): still open now.
        self.assertLessEqual(idle, established_from(ports),
                             "nginx's idle backend connections did not survive the second batch")

    def test_forwarded_headers_reach_the_backend(self):
        d = self.deploy(recorder=True)
        rec = d.b
        c = http.client.HTTPConnection(HOST, d.nginx.port, timeout=HTTP_TIMEOUT)
        self.addCleanup(c.close)
        # Round robin: one of two consecutive requests goes to the recorder.
        for _ in range(2):
            c.request("GET", "/hello.txt", headers={"X-Forwarded-For": "203.0.113.7"})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
        self.assertTrue(wait_until(lambda: rec.seen, 5.0), d.diagnostics())
        requestline, headers = rec.seen[0]
        self.assertEqual(requestline, "GET /hello.txt HTTP/1.1")
        self.assertEqual(headers["Host"], HOST)  # $host: no port
        # The client's own X-Forwarded-For, then the client's address.
        self.assertEqual(headers["X-Forwarded-For"], f"203.0.113.7, {HOST}")
        self.assertEqual(headers["X-Forwarded-Proto"], "http")
        # Connection "" removes nginx's default "Connection: close".
        self.assertIsNone(headers["Connection"])

    def test_failover_when_a_backend_dies(self):
        d = self.deploy()
        hello = (SITE / "hello.txt").read_bytes()
        index = (SITE / "index.html").read_bytes()
        for status, _, body in get_all(d.nginx.port, ["/hello.txt"] * 4):
            self.assertEqual((status, body), (200, hello))
        a0, b0 = d.wait_logged(4)
        self.assertTrue(a0 and b0, "both backends in use before the failure")
        # A crash, not a shutdown; nginx still holds a connection to it.
        self.assertEqual(d.a.stop(signal.SIGKILL), -signal.SIGKILL)
        n = 20
        paths = ["/hello.txt", "/"] * (n // 2)
        for i, (status, _, body) in enumerate(get_all(d.nginx.port, paths)):
            self.assertEqual(status, 200, f"request {i} after the kill\n{d.diagnostics()}")
            self.assertEqual(body, hello if paths[i] == "/hello.txt" else index)
        for _ in range(4):  # and from new client connections
            body, code = curl(d.url + "/hello.txt")
            self.assertEqual((code, body), (200, hello), d.diagnostics())
        a, b = d.wait_logged(a0 + b0 + n + 4)
        self.assertEqual(a, a0, "the killed backend logged nothing more")
        self.assertEqual(b, b0 + n + 4, d.diagnostics())
        # nginx's log shows the retry: a failed attempt on a, then b.
        retried = [line for line in d.nginx.log_lines(4 + n + 4)
                   if f"upstream={HOST}:{d.a.port}, {HOST}:{d.b.port} " in line]
        self.assertTrue(retried, "no request was retried on the other backend\n"
                        + d.diagnostics())
        self.assertIn("upstream_status=502, 200 ", retried[0])
        # The survivor still stops cleanly.
        self.assertEqual(d.b.stop(), 0)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
