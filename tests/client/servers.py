"""The servers the client tests talk to, each started on 127.0.0.1 by the
test run itself and stopped by it (Servers is a context manager; stop()
runs on every exit path).  Every wait is bounded.

  nginx     /usr/sbin/nginx with a generated configuration in a temporary
            directory (one worker, logs and temp paths there too)
  py        framing_server.FramingServer (raw sockets, this directory)
  stdlib    http.server's SimpleHTTPRequestHandler, HTTP/1.0 (its default)
  stdlib11  the same handler speaking HTTP/1.1 (keep-alive)
  ours      tests/server's server_app built against nng-http
  refused   a port nobody listens on
"""
import functools
import hashlib
import http.client
import http.server
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import framing_server

HOST = "127.0.0.1"
NGINX = "/usr/sbin/nginx"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0

BIG_SIZE = 100 << 20


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_listening(port, proc=None, timeout=START_TIMEOUT):
    """True once a TCP connect to port succeeds; False on timeout or if proc
    exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop_process(proc, sig=signal.SIGTERM):
    if proc is None or proc.poll() is not None:
        return proc.returncode if proc else None
    try:
        proc.send_signal(sig)
        return proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(STOP_TIMEOUT)


def one_bin_bytes():
    """tests/server/make_site.sh's one.bin: 1 MiB from a 32-bit LCG (a =
    1103515245, c = 12345, seed 1), the top byte of each new state."""
    out = bytearray(1 << 20)
    state = 1
    for i in range(len(out)):
        state = (state * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = state >> 24
    return bytes(out)


def body_len_bytes(n):
    """What client_app's body-len=N sends."""
    return bytes(ord("a") + (i * 7 + i // 26) % 26 for i in range(n))


class Nginx:
    """nginx on a free port, serving www/ from a temporary directory:
      /static.txt  small text file        /big.bin   100 MiB
      /gz/text.txt gzip-compressed (chunked) when asked
      /nocontent   return 204             /text      return 200 "..."
    Every response carries X-Test: req=N ($connection_requests); the access
    log records $connection per request, for connection counts."""

    def __init__(self, tmp):
        self.dir = Path(tmp) / "nginx"
        self.www = self.dir / "www"
        (self.www / "gz").mkdir(parents=True)
        self.static = b"Static text served by nginx.\n"
        (self.www / "static.txt").write_bytes(self.static)
        # A fixed time: nginx's ETag (and so the transcript) depends on it.
        os.utime(self.www / "static.txt", (1700000000, 1700000000))
        words = " ".join(f"word{i % 97}" for i in range(40000)).encode()
        (self.www / "gz" / "text.txt").write_bytes(words)
        h = hashlib.sha256()
        rng = random.Random(20240601)
        self.big_range = None
        with open(self.www / "big.bin", "wb") as f:
            for i in range(BIG_SIZE >> 20):
                block = rng.randbytes(1 << 20)
                if i == 0:
                    self.big_range = block[1000:1100]
                h.update(block)
                f.write(block)
        self.big_sha = h.hexdigest()
        # nginx's workers may run as another user (when started as root).
        for p in [Path(tmp), self.dir, self.www, self.www / "gz"]:
            p.chmod(0o755)
        for p in self.www.rglob("*"):
            if p.is_file():
                p.chmod(0o644)
        self.proc = None
        self.port = None
        self.access_log = self.dir / "access.log"
        self.error_log = self.dir / "error.log"
        self.gz_sha = None
        self.gz_len = None
        self.etag = None

    def config(self, port):
        d = self.dir
        return f"""
worker_processes 1;
error_log {d}/error.log warn;
events {{ worker_connections 128; }}
http {{
    log_format conns '$connection $connection_requests $request_method $uri $status';
    access_log {d}/access.log conns;
    client_body_temp_path {d}/tmp-body;
    proxy_temp_path {d}/tmp-proxy;
    fastcgi_temp_path {d}/tmp-fastcgi;
    uwsgi_temp_path {d}/tmp-uwsgi;
    scgi_temp_path {d}/tmp-scgi;
    types {{ text/plain txt; application/octet-stream bin; text/html html; }}
    default_type application/octet-stream;
    keepalive_timeout 60s;
    keepalive_requests 1000;
    sendfile on;
    server {{
        listen {HOST}:{port};
        root {self.www};
        add_header X-Test "req=$connection_requests" always;
        location = /nocontent {{ return 204; }}
        location = /text {{ default_type text/plain; return 200 "returned by nginx\\n"; }}
        location /gz/ {{
            gzip on;
            gzip_types text/plain;
            gzip_min_length 1;
            gzip_http_version 1.0;
        }}
    }}
}}
"""

    def start(self):
        for _ in range(3):
            port = free_port()
            conf = self.dir / "nginx.conf"
            conf.write_text(self.config(port))
            self.proc = subprocess.Popen(
                [NGINX, "-p", str(self.dir), "-c", str(conf), "-e", str(self.error_log),
                 "-g", f"daemon off; pid {self.dir}/nginx.pid;"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if wait_listening(port, self.proc):
                self.port = port
                self._reference()
                return
            stop_process(self.proc)
        raise RuntimeError("nginx did not start: " + self.error_log.read_text(errors="replace"))

    def _reference(self):
        """The ETag of static.txt and the gzip body nginx sends, taken with
        http.client (which undoes the chunking, not the gzip)."""
        c = http.client.HTTPConnection(HOST, self.port, timeout=10)
        c.request("HEAD", "/static.txt")
        r = c.getresponse()
        r.read()
        self.etag = r.getheader("ETag")
        c.request("GET", "/gz/text.txt", headers={"Accept-Encoding": "gzip"})
        r = c.getresponse()
        body = r.read()
        if r.getheader("Transfer-Encoding") != "chunked" or r.getheader("Content-Encoding") != "gzip":
            raise RuntimeError("nginx did not send /gz/text.txt gzipped and chunked")
        self.gz_sha, self.gz_len = sha256(body), len(body)
        c.close()
        # Both log lines in before any test counts connections.
        deadline = time.monotonic() + 3.0
        while self.lines_since(0) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)

    def log_size(self):
        try:
            return self.access_log.stat().st_size
        except FileNotFoundError:
            return 0

    def lines_since(self, offset):
        try:
            with open(self.access_log, "rb") as f:
                f.seek(offset)
                return f.read().count(b"\n")
        except FileNotFoundError:
            return 0

    def connections_between(self, start, end):
        """Distinct connections in the access log between two offsets."""
        with open(self.access_log, "rb") as f:
            f.seek(start)
            lines = f.read(end - start).decode(errors="replace").splitlines()
        return len({line.split()[0] for line in lines if line.strip()})

    def stop(self):
        stop_process(self.proc, signal.SIGQUIT)  # graceful: workers finish


class CountingHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args, **kwargs):
        self.accepted = 0
        self.lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        with self.lock:
            self.accepted += 1
        super().process_request(request, client_address)

    def connections(self):
        with self.lock:
            return self.accepted


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class QuietHandler11(QuietHandler):
    protocol_version = "HTTP/1.1"


class Stdlib:
    """SimpleHTTPRequestHandler on a temporary directory:
      /hello.txt  text    /data.bin  256 KiB    /sub/  a directory listing"""

    def __init__(self, tmp, handler):
        self.root = Path(tmp) / "stdlib-www"
        if not self.root.exists():
            (self.root / "sub").mkdir(parents=True)
            (self.root / "hello.txt").write_bytes(b"Hello from http.server\n")
            (self.root / "data.bin").write_bytes(random.Random(3).randbytes(256 << 10))
            (self.root / "sub" / "a.txt").write_bytes(b"a\n")
        self.hello = (self.root / "hello.txt").read_bytes()
        self.data = (self.root / "data.bin").read_bytes()
        self.httpd = CountingHTTPServer(
            (HOST, 0), functools.partial(handler, directory=str(self.root)))
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)

    def start(self):
        self.thread.start()

    def connections(self):
        return self.httpd.connections()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(STOP_TIMEOUT)


class Ours:
    """server_app_ours on a private copy of tests/server/site (one.bin
    generated in it)."""

    def __init__(self, tmp, server_app, site):
        self.app = server_app
        self.root = Path(tmp) / "ours-site"
        shutil.copytree(site, self.root, symlinks=True)
        self.one_bin = one_bin_bytes()
        (self.root / "www" / "one.bin").write_bytes(self.one_bin)
        self.proc = None
        self.port = None
        self.exit_status = None

    def start(self):
        self.proc = subprocess.Popen([self.app, "0", str(self.root)], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = [None]

        def read_first():
            line[0] = self.proc.stdout.readline()

        t = threading.Thread(target=read_first, daemon=True)
        t.start()
        t.join(START_TIMEOUT)
        if not line[0] or not line[0].startswith("listening on "):
            stop_process(self.proc)
            raise RuntimeError(f"{self.app} did not start: {line[0]!r}")
        self.port = int(line[0].split()[2])

    def stop(self):
        self.exit_status = stop_process(self.proc)


class Servers:
    """Starts the servers named in kinds; stop() stops all that started."""

    def __init__(self, kinds, server_app=None, site=None):
        self.tmp = tempfile.mkdtemp(prefix="nnghttp-client-")
        self.kinds = set(kinds)
        self.started = []
        self.urls = {}
        self.server_app = server_app
        self.site = site
        self.nginx = self.py = self.stdlib = self.stdlib11 = self.ours = None
        self.files = Path(self.tmp) / "files"
        self.files.mkdir()
        (self.files / "small.txt").write_bytes(b"a small request body\n")

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        k = self.kinds
        if "py" in k:
            self.py = framing_server.FramingServer().start()
            self.started.append(self.py)
            self.urls["py"] = f"http://{HOST}:{self.py.port}"
        if "stdlib" in k:
            self.stdlib = Stdlib(self.tmp, QuietHandler)
            self.stdlib.start()
            self.started.append(self.stdlib)
            self.urls["stdlib"] = f"http://{HOST}:{self.stdlib.port}"
        if "stdlib11" in k:
            self.stdlib11 = Stdlib(self.tmp, QuietHandler11)
            self.stdlib11.start()
            self.started.append(self.stdlib11)
            self.urls["stdlib11"] = f"http://{HOST}:{self.stdlib11.port}"
        if "ours" in k:
            self.ours = Ours(self.tmp, self.server_app, self.site)
            self.started.append(self.ours)
            self.ours.start()
            self.urls["ours"] = f"http://{HOST}:{self.ours.port}"
        if "nginx" in k:
            self.nginx = Nginx(self.tmp)
            self.started.append(self.nginx)
            self.nginx.start()
            self.urls["nginx"] = f"http://{HOST}:{self.nginx.port}"
        if "refused" in k:
            self.urls["refused"] = f"http://{HOST}:{free_port()}"

    def stop(self):
        for s in reversed(self.started):
            try:
                s.stop()
            except Exception as e:  # keep stopping the others
                print(f"stopping {type(s).__name__}: {e}")
        self.started = []
        shutil.rmtree(self.tmp, ignore_errors=True)

    def counts(self):
        """A snapshot of the connection counters, for conns= checks."""
        out = {}
        if self.py:
            out["py"] = self.py.connections()
        if self.stdlib:
            out["stdlib"] = self.stdlib.connections()
        if self.stdlib11:
            out["stdlib11"] = self.stdlib11.connections()
        if self.nginx:
            out["nginx"] = self.nginx.log_size()
        return out

    def connections_between(self, before, after, kind):
        if kind == "nginx":
            return self.nginx.connections_between(before["nginx"], after["nginx"])
        return after[kind] - before[kind]
