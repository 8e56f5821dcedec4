"""What the hostile-peer tests share: the programs under test, certificates
made at test time, a private served tree, starting and ending servers
(with the default signal dispositions), looking at a server process from
outside (/proc: descriptors, CPU time, ignored signals), and a small raw
HTTP/1.1 client over plain or TLS sockets.

Python 3 standard library only.  Everything listens and connects on
127.0.0.1; every wait is bounded; every process started here is ended by
the test that started it (and gets SIGTERM if this process dies first).
"""
import ctypes
import hashlib
import os
import pwd
import random
import re
import resource
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest

# Filled in by run_hostile.py from its command line.
CONFIG = {
    "nnghttp": None,         # the nnghttp command
    "c_server": None,        # hostile_server (NNG's C API)
    "timeout_server": None,  # hostile_timeout_server (C++ API, short timeouts)
    "ws_server": None,       # ws_echo_server (C++ API, WebSocket echo)
    "nginx_conf": None,      # examples/deploy/nginx-reverse-proxy.conf
    "scale": 1.0,            # time bounds are multiplied by this (sanitizers)
    "sanitizer": "",         # the build's sanitizer, if any
}

HOST = "127.0.0.1"
HELLO = b"Hello from the hostile-peer tests.\n"
INDEX = b"<!doctype html><title>hostile</title><p>index</p>\n"
SMUGGLED_MARK = b"SMUGGLED-RESPONSE: this file is only ever asked for by a smuggled request\n"
# A complete request for the file above: what the smuggling tests hide in
# request bodies.
SMUGGLED_REQUEST = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"

# The largest body read_response reads until the connection ends.
MAX_BODY = 64 << 20

START_TIMEOUT = 15.0
# nnghttp serve gives requests in progress up to 10 s on SIGTERM.
END_TIMEOUT = 20.0


def scaled(seconds):
    """A time bound, stretched for slower (sanitizer) builds."""
    return seconds * float(CONFIG["scale"])


def wait_until(pred, timeout, step=0.02):
    """Calls pred() until it is true or timeout seconds have passed;
    returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def random_bytes(size, seed):
    return random.Random(seed).randbytes(size)


# ---- looking at a process from outside ----

def fd_count(pid):
    """Open descriptors of pid (None once it is gone)."""
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except (FileNotFoundError, ProcessLookupError):
        return None


def socket_count(pid):
    """Open sockets of pid (None once it is gone)."""
    n = 0
    try:
        names = os.listdir("/proc/%d/fd" % pid)
    except (FileNotFoundError, ProcessLookupError):
        return None
    for name in names:
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, name)).startswith("socket:"):
                n += 1
        except OSError:
            pass  # closed meanwhile
    return n


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User plus system CPU time pid has used, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After "pid (comm)": state is field 3, utime 14 and stime 15.
    return (int(fields[11]) + int(fields[12])) / _TICK


def ignored_signals(pid):
    """The SigIgn mask of pid: bit n-1 set means signal n is ignored."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("SigIgn:"):
                return int(line.split()[1], 16)
    raise AssertionError("no SigIgn line in /proc/%d/status" % pid)


def sigpipe_ignored(pid):
    return bool(ignored_signals(pid) & (1 << (signal.SIGPIPE - 1)))


def describe_exit(code):
    if code is None:
        return "still running"
    if code < 0:
        try:
            return "killed by %s" % signal.Signals(-code).name
        except ValueError:
            return "killed by signal %d" % -code
    return "exited with status %d" % code


# ---- certificates ----

class Certs:
    """A CA and two server certificates for localhost and 127.0.0.1, one
    with an RSA 2048 key and one with an EC P-256 key, made with the openssl
    command in a private temporary directory.  <kind>.pem holds the
    certificate followed by its key (what the servers load)."""

    SERVER_EXT = ("basicConstraints = critical, CA:FALSE\n"
                  "keyUsage = critical, digitalSignature, keyEncipherment\n"
                  "extendedKeyUsage = serverAuth\n"
                  "subjectAltName = DNS:localhost, IP:127.0.0.1\n")

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nnghttp-hostile-certs-")
        os.chmod(self.dir, 0o755)  # a server may run as nobody
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj",
                      "/CN=nng-http hostile test CA", "-days", "2",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        with open(os.path.join(self.dir, "server.ext"), "w") as f:
            f.write(self.SERVER_EXT)
        for serial, (kind, newkey) in enumerate(
                (("rsa", ["-newkey", "rsa:2048"]),
                 ("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])), start=100):
            self._openssl("req", "-new", *newkey, "-nodes", "-keyout", kind + ".key",
                          "-out", kind + ".csr", "-subj", "/CN=localhost")
            self._openssl("x509", "-req", "-in", kind + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                          "-set_serial", str(serial), "-days", "2", "-sha256",
                          "-extfile", "server.ext", "-out", kind + ".crt")
            with open(self.path(kind + ".pem"), "wb") as out:
                for part in (kind + ".crt", kind + ".key"):
                    with open(self.path(part), "rb") as f:
                        out.write(f.read())
        for name in os.listdir(self.dir):
            os.chmod(self.path(name), 0o644)
        self.ca = self.path("ca.crt")

    def path(self, name):
        return os.path.join(self.dir, name)

    def pem(self, kind="rsa"):
        return self.path(kind + ".pem")

    def client_context(self):
        """A client context that trusts the CA and checks the name
        localhost."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.ca)
        return ctx

    def _openssl(self, *args):
        p = subprocess.run(["openssl", *args], cwd=self.dir, capture_output=True, text=True,
                           timeout=60)
        if p.returncode != 0:
            raise RuntimeError("openssl %s: %s" % (" ".join(args), p.stderr.strip()))

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


_CERTS = None


def certs():
    """The run's certificates, made on first use."""
    global _CERTS
    if _CERTS is None:
        _CERTS = Certs()
    return _CERTS


def cleanup_certs():
    global _CERTS
    if _CERTS is not None:
        _CERTS.cleanup()
        _CERTS = None


# ---- the served tree ----

class Site:
    """A private tree to serve, readable by any user:
      hello.txt, index.html     small files
      smuggled                  SMUGGLED_MARK: only a smuggled request asks for it
      smuggled-big              SMUGGLED_MARK 3,500 times (256 KiB): the same
      users/uNN.txt             one small file per user of the proxy test (00-19)
    plus what a test adds (random files, FIFOs, unreadable files)."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="nnghttp-hostile-site-")
        os.chmod(self.tmp, 0o755)
        self.root = os.path.join(self.tmp, "www")
        os.mkdir(self.root)
        os.chmod(self.root, 0o755)
        self.write("hello.txt", HELLO)
        self.write("index.html", INDEX)
        self.write("smuggled", SMUGGLED_MARK)
        self.write("smuggled-big", SMUGGLED_MARK * 3500)
        for i in range(20):
            self.write("users/u%02d.txt" % i, self.user_body(i))

    @staticmethod
    def user_body(i):
        return b"private page of user %02d\n" % i

    def path(self, rel):
        return os.path.join(self.root, rel)

    def write(self, rel, data):
        p = self.path(rel)
        d = os.path.dirname(p)
        if not os.path.isdir(d):
            os.makedirs(d)
            os.chmod(d, 0o755)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, 0o644)
        return data

    def add_random(self, rel, size, seed):
        """A file of size seeded random bytes; returns the bytes."""
        return self.write(rel, random_bytes(size, seed))

    def cleanup(self):
        for dirpath, dirnames, _ in os.walk(self.tmp):
            for d in dirnames:  # a test may have locked a directory
                try:
                    os.chmod(os.path.join(dirpath, d), 0o755)
                except OSError:
                    pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def usable_by_others(path, need_read=False):
    """Whether a user other than the owner (and not in its group) can reach
    path: every directory above it searchable by others, and the path
    itself executable (or, with need_read, readable) by others."""
    path = os.path.abspath(path)
    bit = 0o004 if need_read else 0o001
    try:
        if not os.stat(path).st_mode & bit:
            return False
        d = os.path.dirname(path)
        while True:
            if not os.stat(d).st_mode & 0o001:
                return False
            if d == "/":
                return True
            d = os.path.dirname(d)
    except OSError:
        return False


# ---- servers ----

def child_setup(rlimit_nofile, user):
    """preexec_fn: the child gets SIGTERM if this process dies without
    ending it (PR_SET_PDEATHSIG; servers are started from the main thread
    only), then the limits and user a test asked for.  Signal dispositions
    are left as subprocess leaves them: restore_signals puts SIGPIPE back
    to its default."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if rlimit_nofile is not None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (rlimit_nofile, rlimit_nofile))
    if user is not None:
        pw = pwd.getpwnam(user)
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)


class Server:
    """A server process.  stdout (its address line, and for nnghttp serve
    one Common Log line per response) and stderr go to files; the port is
    read from stdout.  Ended with SIGTERM (nnghttp serve) or by closing
    its stdin (the test programs), then SIGKILL if it does not exit."""

    PORT_RE = None
    name = "server"

    def __init__(self, argv, scheme, rlimit_nofile=None, user=None, end_by_stdin=False):
        self.argv = argv
        self.scheme = scheme
        self.tmp = tempfile.mkdtemp(prefix="nnghttp-hostile-srv-")
        os.chmod(self.tmp, 0o755)
        self.out_path = os.path.join(self.tmp, "stdout")
        self.err_path = os.path.join(self.tmp, "stderr")
        self.end_by_stdin = end_by_stdin
        self.exit_status = None
        env = dict(os.environ)
        env.pop("NNGHTTP_THREADS", None)  # --threads says it, or the default
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                argv, stdout=out, stderr=err,
                stdin=subprocess.PIPE if end_by_stdin else subprocess.DEVNULL,
                env=env, restore_signals=True, close_fds=True,
                preexec_fn=lambda: child_setup(rlimit_nofile, user))
        self.pid = self.proc.pid
        self.port = self._read_port()

    def _read_port(self):
        def found():
            m = self.PORT_RE.search(self.stdout())
            return m or self.proc.poll() is not None
        m = wait_until(found, scaled(START_TIMEOUT), 0.02)
        if not isinstance(m, re.Match):
            self.shut_down()
            text = "%s did not start (%s); stdout:\n%s\nstderr:\n%s" % (
                " ".join(self.argv), describe_exit(self.proc.poll()), self.stdout(), self.stderr())
            self.cleanup()
            raise RuntimeError(text)
        return int(m.group(1))

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stderr(self, limit=6000):
        with open(self.err_path, "rb") as f:
            text = f.read().decode(errors="replace")
        if len(text) > limit:
            text = text[:limit // 2] + "\n[...]\n" + text[-limit // 2:]
        return text

    @property
    def url(self):
        return "%s://%s:%d" % (self.scheme, HOST, self.port)

    @property
    def tls(self):
        return self.scheme == "https"

    def alive(self):
        return self.proc.poll() is None

    def status(self):
        """The text "running", or how it ended with its stderr's tail."""
        code = self.proc.poll()
        if code is None:
            return "running"
        return "%s; stderr:\n%s" % (describe_exit(code), self.stderr(3000))

    def fds(self):
        return fd_count(self.pid)

    def sockets(self):
        return socket_count(self.pid)

    def cpu(self):
        return cpu_seconds(self.pid)

    def shut_down(self):
        """Ends the server (bounded); its exit status, or a text saying it
        had to be killed.  Idempotent."""
        if self.exit_status is not None:
            return self.exit_status
        if self.proc.poll() is None:
            if self.end_by_stdin:
                try:
                    self.proc.stdin.close()
                except OSError:
                    pass
            else:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(scaled(END_TIMEOUT))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(END_TIMEOUT)
                self.exit_status = "killed with SIGKILL after %.0f s without exiting" % scaled(
                    END_TIMEOUT)
        if self.exit_status is None:
            self.exit_status = self.proc.returncode
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        return self.exit_status

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


class NnghttpServe(Server):
    """`nnghttp serve ROOT --listen URL [--threads N] [--tls-cert --tls-key]`."""

    PORT_RE = re.compile(r"^nnghttp: serving \S+ at https?://127\.0\.0\.1:(\d+)/$", re.M)
    name = "nnghttp serve"

    def __init__(self, root, scheme="http", threads=None, cert_kind="rsa", extra=(), **kw):
        argv = [CONFIG["nnghttp"], "serve", root, "--listen", "%s://%s:0" % (scheme, HOST)]
        if threads is not None:
            argv += ["--threads", str(threads)]
        argv += list(extra)
        if scheme == "https":
            c = certs()
            argv += ["--tls-cert", c.path(cert_kind + ".crt"), "--tls-key", c.path(cert_kind + ".key")]
        super().__init__(argv, scheme, **kw)

    def logged(self):
        """The request lines of the Common Log lines so far."""
        return re.findall(r'^\S+ - - \[[^\]]+\] "([^"]*)" (\d{3}) ', self.stdout(), re.M)


class CServer(Server):
    """hostile_server: NNG's C API (see hostile_server.c for its routes)."""

    PORT_RE = re.compile(r"^listening on (\d+)$", re.M)
    name = "hostile_server (C API)"

    def __init__(self, root, scheme="http", dir_prefix=None, cert_kind="rsa", **kw):
        argv = [CONFIG["c_server"], "%s://%s:0" % (scheme, HOST), root]
        if scheme == "https":
            argv += ["--pem", certs().pem(cert_kind)]
        if dir_prefix is not None:
            argv += ["--dir-prefix", dir_prefix]
        super().__init__(argv, scheme, end_by_stdin=True, **kw)


class TimeoutServer(Server):
    """hostile_timeout_server: a directory at / and POST /length, with the
    send and body timeouts given (milliseconds)."""

    PORT_RE = re.compile(r"^listening on (\d+)$", re.M)
    name = "hostile_timeout_server (C++ API)"

    def __init__(self, root, scheme="http", send_timeout_ms=1000, body_timeout_ms=1000, **kw):
        argv = [CONFIG["timeout_server"], "%s://%s:0" % (scheme, HOST), root,
                "--send-timeout", str(send_timeout_ms), "--body-timeout", str(body_timeout_ms)]
        if scheme == "https":
            argv += ["--pem", certs().pem("rsa")]
        super().__init__(argv, scheme, end_by_stdin=True, **kw)


class HostileTestCase(unittest.TestCase):
    """Starts servers that are shut down on the way out.  A server that
    does not end with status 0 when shut down fails the test (a crash, a
    sanitizer report, or a hang on the way out are all defects too)."""

    longMessage = False  # the messages given say what went wrong

    def start(self, cls, *args, **kw):
        srv = cls(*args, **kw)

        def finish():
            was = srv.proc.poll()
            status = srv.shut_down()
            err = srv.stderr()
            srv.cleanup()
            if status != 0:
                if was is not None:
                    what = "had already ended (%s) before the test shut it down" % describe_exit(was)
                else:
                    what = "ended with %r when shut down" % (
                        describe_exit(status) if isinstance(status, int) else status)
                self.fail("%s %s; stderr:\n%s" % (srv.name, what, err))

        self.addCleanup(finish)
        return srv

    def serve(self, site, scheme="http", **kw):
        return self.start(NnghttpServe, site.root, scheme, **kw)

    def c_server(self, site, scheme="http", **kw):
        return self.start(CServer, site.root, scheme, **kw)

    def assert_sigpipe_default(self, srv):
        """The precondition of every SIGPIPE test: the server process does
        not ignore SIGPIPE (else a test would pass without testing)."""
        mask = ignored_signals(srv.pid)
        self.assertFalse(
            mask & (1 << (signal.SIGPIPE - 1)),
            "%s ignores SIGPIPE (SigIgn %016x): the servers must run with the default "
            "disposition, so that a write to a closed connection would kill them" % (srv.name, mask))

    def assert_answers(self, srv, path="/hello.txt", body=HELLO, timeout=None):
        """One GET on a new connection must get 200 and body."""
        timeout = timeout or scaled(5.0)
        try:
            c = Conn(srv.port, tls=srv.tls, timeout=timeout)
        except OSError as e:
            self.fail("%s: cannot connect: %r (server %s)" % (srv.name, e, srv.status()))
        try:
            c.send(request("GET", path))
            r = c.read_response()
        except (NoResponse, OSError) as e:
            self.fail("%s: no answer to GET %s: %s (server %s)" % (srv.name, path, e, srv.status()))
        finally:
            c.close()
        self.assertEqual((r.status, r.body), (200, body), "%s: GET %s" % (srv.name, path))


# ---- a raw client ----

class NoResponse(Exception):
    """The connection closed, reset or timed out before a whole response."""


class Response:
    def __init__(self, version, status, reason, headers, body):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # [(name, value)] as received
        self.body = body

    def header(self, name):
        vals = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(vals) if vals else None

    def closes(self):
        v = self.header("Connection")
        return v is not None and "close" in [t.strip().lower() for t in v.split(",")]

    def __repr__(self):
        return "<%s %d %s, %d body bytes: %r>" % (
            self.version, self.status, self.reason, len(self.body), self.body[:80])


def tls_client_context():
    return certs().client_context()


def linger_reset(sock):
    """SO_LINGER {1, 0}: close() then sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class Conn:
    """A client connection (TLS when tls is true, verified against the
    test CA as localhost) with its own read buffer."""

    def __init__(self, port, tls=False, timeout=5.0, rcvbuf=None, context=None):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw.settimeout(timeout)
        try:
            raw.connect((HOST, port))
            if tls:
                ctx = context or tls_client_context()
                raw = ctx.wrap_socket(raw, server_hostname="localhost")
        except BaseException:
            raw.close()
            raise
        self.sock = raw
        self.buf = b""
        self.eof = False
        self.error = None  # "reset" when the connection was reset

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def reset(self):
        """Closes with RST."""
        try:
            linger_reset(self.sock)
        except OSError:
            pass
        self.close()

    def send(self, data):
        """Sends all of data; False when the peer closed or reset first."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            return False

    def recv_some(self, n=65536, timeout=None):
        """Up to n bytes (b"" at the end; raises socket.timeout)."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        return self.sock.recv(n)

    def _fill(self, timeout=None):
        if self.eof:
            raise NoResponse("closed")
        old = self.sock.gettimeout()
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise NoResponse("timeout") from None
        except (ConnectionResetError, ssl.SSLError) as e:
            self.eof = True
            self.error = "reset"
            raise NoResponse("reset (%s)" % e) from None
        finally:
            if timeout is not None:
                self.sock.settimeout(old)
        if not data:
            self.eof = True
            raise NoResponse("closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise NoResponse("no line end in 1 MiB")
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self, method="GET", skip_interim=True):
        """One whole response (1xx interim responses skipped unless
        skip_interim is false).  Raises NoResponse, saying what was
        received, if the connection ends or times out first."""
        try:
            while True:
                res = self._read_one(method)
                if not (skip_interim and 100 <= res.status < 200):
                    return res
        except NoResponse as e:
            raise NoResponse("%s after %d unparsed byte(s): %r" % (e, len(self.buf),
                                                                   self.buf[:200])) from None

    def _read_one(self, method):
        status_line = self._line().decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise AssertionError("not a status line: %r" % status_line)
        headers = []
        while True:
            line = self._line().decode("latin-1")
            if line == "":
                break
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
        res = Response(parts[0], int(parts[1]), parts[2] if len(parts) > 2 else "", headers, b"")
        if method == "HEAD" or res.status < 200 or res.status in (204, 304):
            return res
        te = res.header("Transfer-Encoding")
        if te is not None and "chunked" in te.lower():
            body = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line() != b"":
                        pass
                    break
                body += self._exact(size)
                self._line()
            res.body = body
        elif res.header("Content-Length") is not None:
            res.body = self._exact(int(res.header("Content-Length")))
        else:
            while len(self.buf) < MAX_BODY:  # until the end, bounded
                try:
                    self._fill()
                except NoResponse:
                    break
            res.body, self.buf = self.buf, b""
        return res

    def wait_closed(self, limit):
        """Seconds until the server closes (or resets) the connection, at
        most limit; None if it is still open then.  Bytes that arrive
        meanwhile are kept in self.buf."""
        start = time.monotonic()
        while True:
            left = limit - (time.monotonic() - start)
            if left <= 0:
                return None
            try:
                self._fill(timeout=left)
            except NoResponse as e:
                if str(e) == "timeout":
                    return None
                return time.monotonic() - start

    def more_bytes(self, wait):
        """Whatever arrives within wait seconds after what was parsed
        (b"" if nothing, or the connection ended)."""
        if not self.eof and not self.buf:
            try:
                self._fill(timeout=wait)
            except NoResponse:
                pass
        return self.buf


def request(method, target, headers=(), body=b"", host="x", version="HTTP/1.1"):
    """The bytes of one request (Content-Length and Transfer-Encoding are
    the caller's business)."""
    lines = ["%s %s %s" % (method, target, version)]
    if host is not None:
        lines.append("Host: " + host)
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(data, size=None):
    """data as a chunked body (pieces of size bytes; one piece if None)."""
    size = size or max(1, len(data))
    out = b""
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"
