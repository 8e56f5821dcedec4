"""The servers the client tests talk to, each started on 127.0.0.1 by the
test run itself and stopped by it (Servers is a context manager; stop()
runs on every exit path).  Every wait is bounded.

  nginx     /usr/sbin/nginx with a generated configuration in a temporary
            directory (one worker, logs and temp paths there too), on two
            ports: plain http and https (TlsMaterial's server certificate)
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
import ssl
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
# The large file fetched over https: over 8 MiB, and not a multiple of a TLS
# record (16 KiB) or of a read buffer.
TLS_BIG_SIZE = (12 << 20) + 12345


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


class TlsMaterial:
    """Certificates made at test time with the openssl command, in a
    directory of the run's temporary directory (no key is kept anywhere
    else).  All keys are EC P-256.
      ca.crt          the CA the clients are given
      server.crt/key  nginx's certificate, signed by ca.crt: CN localhost,
                      subjectAltName DNS:localhost and IP:127.0.0.1
      dns_only.crt    server.key's certificate from the same CA with
                      subjectAltName DNS:localhost only (nothing for
                      127.0.0.1, the host in the URLs)
      other_ca.crt    a second CA that signed nothing nginx has: an unknown
                      CA for the server's certificate"""

    SERVER_EXT = ("basicConstraints = critical, CA:FALSE\n"
                  "keyUsage = critical, digitalSignature\n"
                  "extendedKeyUsage = serverAuth\n"
                  "subjectAltName = {san}\n")

    def __init__(self, tmp):
        self.dir = Path(tmp) / "tls"
        self.dir.mkdir()
        self.dir.chmod(0o755)
        self.ca = self.dir / "ca.crt"
        self.other_ca = self.dir / "other_ca.crt"
        self.server_crt = self.dir / "server.crt"
        self.server_key = self.dir / "server.key"
        self.dns_only_crt = self.dir / "dns_only.crt"
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
        for name, cn in (("ca", "nnghttp client test CA"), ("other_ca", "nnghttp unknown CA")):
            self._openssl("req", "-x509", *ec, "-keyout", f"{name}.key", "-out", f"{name}.crt",
                          "-subj", f"/CN={cn}", "-days", "2", *ca_ext)
        self._openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
                      "-subj", "/CN=localhost")
        for name, serial, san in (("server", 4096, "DNS:localhost, IP:127.0.0.1"),
                                  ("dns_only", 4097, "DNS:localhost")):
            (self.dir / f"{name}.ext").write_text(self.SERVER_EXT.format(san=san))
            self._openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                          "-set_serial", str(serial), "-days", "2", "-sha256",
                          "-extfile", f"{name}.ext", "-out", f"{name}.crt")

    def _openssl(self, *args):
        p = subprocess.run(["openssl", *args], cwd=self.dir, capture_output=True, text=True,
                           timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"openssl {' '.join(args)}: {p.stderr.strip()}")


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
    """nginx on free ports, plain http and (with tls, a TlsMaterial) two
    https ones, with server.crt and with dns_only.crt, serving www/ from a
    temporary directory on all:
      /static.txt  small text file        /big.bin   100 MiB
      /tls-big.bin TLS_BIG_SIZE bytes
      /gz/text.txt gzip-compressed (chunked) when asked
      /nocontent   return 204             /text      return 200 "..."
    Every response carries X-Test: req=N ($connection_requests); the access
    log records $connection and $scheme per request, for connection counts
    (see connections_between)."""

    def __init__(self, tmp, tls=None):
        self.tls = tls
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
        tls_big = random.Random(20240602).randbytes(TLS_BIG_SIZE)
        (self.www / "tls-big.bin").write_bytes(tls_big)
        self.tls_big_sha = sha256(tls_big)
        # nginx's workers may run as another user (when started as root).
        for p in [Path(tmp), self.dir, self.www, self.www / "gz"]:
            p.chmod(0o755)
        for p in self.www.rglob("*"):
            if p.is_file():
                p.chmod(0o644)
        self.proc = None
        self.port = None
        self.tls_port = None
        self.dns_only_port = None
        self.access_log = self.dir / "access.log"
        self.error_log = self.dir / "error.log"
        self.gz_sha = None
        self.gz_len = None
        self.etag = None

    def site(self):
        """What every server block serves."""
        return f"""
        root {self.www};
        add_header X-Test "req=$connection_requests" always;
        location = /nocontent {{ return 204; }}
        location = /text {{ default_type text/plain; return 200 "returned by nginx\\n"; }}
        location /gz/ {{
            gzip on;
            gzip_types text/plain;
            gzip_min_length 1;
            gzip_http_version 1.0;
        }}"""

    def tls_server(self, port, crt):
        return f"""
    server {{
        listen {HOST}:{port} ssl;
        ssl_certificate {crt};
        ssl_certificate_key {self.tls.server_key};
        ssl_protocols TLSv1.2 TLSv1.3;
        {self.site()}
    }}"""

    def config(self, port, tls_port, dns_only_port):
        d = self.dir
        https = ""
        if self.tls:
            https = (self.tls_server(tls_port, self.tls.server_crt) +
                     self.tls_server(dns_only_port, self.tls.dns_only_crt))
        return f"""
worker_processes 1;
error_log {d}/error.log warn;
events {{ worker_connections 128; }}
http {{
    log_format conns '$connection $connection_requests $request_method $uri $status $scheme';
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
        {self.site()}
    }}{https}
}}
"""

    def start(self):
        for _ in range(3):
            port = free_port()
            tls_port = free_port() if self.tls else None
            dns_only_port = free_port() if self.tls else None
            if self.tls and len({port, tls_port, dns_only_port}) < 3:
                continue
            conf = self.dir / "nginx.conf"
            conf.write_text(self.config(port, tls_port, dns_only_port))
            self.proc = subprocess.Popen(
                [NGINX, "-p", str(self.dir), "-c", str(conf), "-e", str(self.error_log),
                 "-g", f"daemon off; pid {self.dir}/nginx.pid;"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if wait_listening(port, self.proc) and (
                    tls_port is None or (wait_listening(tls_port, self.proc) and
                                         wait_listening(dns_only_port, self.proc))):
                self.port = port
                self.tls_port = tls_port
                self.dns_only_port = dns_only_port
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
        lines = 2
        if self.tls:
            # The https side, checked with Python's ssl module against the
            # same CA (and the certificate's IP address): a client test that
            # fails there fails in the client, not in the certificates or
            # nginx's configuration.
            ctx = ssl.create_default_context(cafile=str(self.tls.ca))
            c = http.client.HTTPSConnection(HOST, self.tls_port, timeout=10, context=ctx)
            c.request("GET", "/static.txt")
            r = c.getresponse()
            if r.status != 200 or r.read() != self.static:
                raise RuntimeError(f"nginx over https: {r.status}")
            c.close()
            # dns_only.crt: good for localhost, not for 127.0.0.1.
            for name, good in (("localhost", True), (HOST, False)):
                try:
                    with socket.create_connection((HOST, self.dns_only_port), 10) as raw:
                        ctx.wrap_socket(raw, server_hostname=name).close()
                    verified = True
                except ssl.SSLCertVerificationError:
                    verified = False
                if verified != good:
                    raise RuntimeError(f"dns_only.crt for {name}: verified={verified}")
            lines = 3
        # The log lines in before any test counts connections.
        deadline = time.monotonic() + 3.0
        while self.lines_since(0) < lines and time.monotonic() < deadline:
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

    def connections_between(self, start, end, scheme=None):
        """Distinct connections in the access log between two offsets (only
        those whose requests came over scheme, when given)."""
        with open(self.access_log, "rb") as f:
            f.seek(start)
            lines = f.read(end - start).decode(errors="replace").splitlines()
        return len({line.split()[0] for line in lines
                    if line.strip() and (scheme is None or line.split()[-1] == scheme)})

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
        self.tls = None
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
            self.tls = TlsMaterial(self.tmp)
            self.nginx = Nginx(self.tmp, self.tls)
            self.started.append(self.nginx)
            self.nginx.start()
            self.urls["nginx"] = f"http://{HOST}:{self.nginx.port}"
            self.urls["nginx_https"] = f"https://{HOST}:{self.nginx.tls_port}"
            self.urls["nginx_https_dns_only"] = f"https://{HOST}:{self.nginx.dns_only_port}"
            # The wrong scheme for each port.
            self.urls["nginx_http_to_https_port"] = f"http://{HOST}:{self.nginx.tls_port}"
            self.urls["nginx_https_to_http_port"] = f"https://{HOST}:{self.nginx.port}"
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
        """Connections kind saw between two counts() snapshots; kind
        "nginx-https" counts nginx's https connections only."""
        if kind == "nginx":
            return self.nginx.connections_between(before["nginx"], after["nginx"])
        if kind == "nginx-https":
            return self.nginx.connections_between(before["nginx"], after["nginx"], "https")
        return after[kind] - before[kind]
