"""Shared helpers of the peer tests: the programs under test, a private copy
of the test site, starting and stopping servers, and a small raw HTTP/1.1
client over sockets that reports exactly what came back and whether the
connection was then closed.

Every wait here is bounded; every server listens on 127.0.0.1 only.
"""
import hashlib
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

# Filled in by run_peers.py from its command line.
CONFIG = {"server_app": None, "limits_server": None, "site": None}

HOST = "127.0.0.1"
HELLO = b"Hello, world!"
ONE_BIN_SIZE = 1 << 20

# Seconds.  Reads of an answer that should come at once; generous because the
# suite also runs under AddressSanitizer.
READ_TIMEOUT = 5.0
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


def one_bin_bytes():
    """The 1 MiB file tests/server/make_site.sh describes: a 32-bit linear
    congruential generator (a = 1103515245, c = 12345, seed 1), the top
    byte of each new state."""
    out = bytearray(ONE_BIN_SIZE)
    state = 1
    for i in range(ONE_BIN_SIZE):
        state = (state * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = state >> 24
    return bytes(out)


_ONE_BIN = None


def one_bin():
    global _ONE_BIN
    if _ONE_BIN is None:
        _ONE_BIN = one_bin_bytes()
    return _ONE_BIN


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# A 1x1 PNG (signature, IHDR, IDAT, IEND); only its bytes and extension
# matter to the server.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


class Site:
    """A private copy of tests/server/site in a temporary directory, with
    www/one.bin generated and a few extra entries the tests need:
      www/pic.png            a PNG file
      www/escape.txt         symlink to the absolute path of site/secret.txt
      www/outside            symlink to the site directory (outside www)
      www/inside-link.txt    symlink to www/hello.txt (stays inside)
    """

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="nnghttp-peers-")
        self.root = os.path.join(self.tmp, "site")
        shutil.copytree(CONFIG["site"], self.root, symlinks=True)
        self.www = os.path.join(self.root, "www")
        with open(os.path.join(self.www, "one.bin"), "wb") as f:
            f.write(one_bin())
        with open(os.path.join(self.www, "pic.png"), "wb") as f:
            f.write(PNG_BYTES)
        os.symlink(os.path.join(self.root, "secret.txt"), os.path.join(self.www, "escape.txt"))
        os.symlink(self.root, os.path.join(self.www, "outside"))
        os.symlink(os.path.join(self.www, "hello.txt"), os.path.join(self.www, "inside-link.txt"))

    def read(self, rel):
        with open(os.path.join(self.root, rel), "rb") as f:
            return f.read()

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


class Server:
    """One server process: started on port 0, its port read from its first
    line, stopped with SIGTERM (then SIGKILL if it does not exit)."""

    def __init__(self, argv):
        self.argv = argv
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL
        )
        self.port = self._read_port()
        self.exit_status = None

    def _read_port(self):
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        fd = self.proc.stdout.fileno()
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                break
            chunk = os.read(fd, 1)
            if not chunk:
                break
            line += chunk
        text = line.decode(errors="replace").strip()
        if not text.startswith("listening on "):
            self.stop()
            raise RuntimeError(
                "%s did not start (first line %r); stderr:\n%s" % (self.argv[0], text, self.stderr())
            )
        return int(text.split()[2])

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM, bounded wait, SIGKILL.  Returns the exit status (a
        negative number is the signal that ended it)."""
        if self.exit_status is not None:
            return self.exit_status
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
                self.exit_status = "killed after %.0f s without exiting on SIGTERM" % STOP_TIMEOUT
        if self.exit_status is None:
            self.exit_status = self.proc.returncode
        self.proc.stdout.close()
        return self.exit_status

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


class ServerTestCase(unittest.TestCase):
    """Starts servers that the test stops on the way out; a server that
    does not exit with status 0 after SIGTERM fails the test."""

    def start_server(self, argv):
        srv = Server(argv)

        def stop():
            status = srv.stop()
            log = srv.stderr()
            srv.log.close()
            if status != 0:
                if len(log) > 6000:
                    log = log[:4000] + "\n[...]\n" + log[-2000:]
                self.fail("server %s exited with %r after SIGTERM; stderr:\n%s" % (argv[0], status, log))

        self.addCleanup(stop)
        return srv

    def start_app(self, site):
        return self.start_server([CONFIG["server_app"], "0", site.root])

    def start_limits(self, **limits):
        argv = [CONFIG["limits_server"]]
        for name, value in limits.items():
            argv += ["--" + name.replace("_", "-"), str(value)]
        return self.start_server(argv)

    def connect(self, port, timeout=READ_TIMEOUT):
        c = Conn(port, timeout)
        self.addCleanup(c.close)
        return c


class Response:
    def __init__(self, version, status, reason, headers, body):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # [(name, value)] as received
        self.body = body

    def header(self, name):
        """The value of the one header called name (case-insensitive), or
        None; several are joined with ", "."""
        vals = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(vals) if vals else None

    def count(self, name):
        return sum(1 for n, _ in self.headers if n.lower() == name.lower())

    def __repr__(self):
        return "<%s %d %s, %d header(s), %d body bytes: %r>" % (
            self.version,
            self.status,
            self.reason,
            len(self.headers),
            len(self.body),
            self.body[:80],
        )


class NoResponse(Exception):
    """The connection closed, reset or timed out before a whole response."""


class Conn:
    """A raw client connection with its own read buffer."""

    def __init__(self, port, timeout=READ_TIMEOUT, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((HOST, port))
        self.buf = b""
        self.eof = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        """Sends all of data; False when the peer has closed or reset the
        connection before all of it went out."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _fill(self, timeout=None):
        """Reads once more into the buffer; raises NoResponse on close,
        reset or timeout."""
        if self.eof:
            raise NoResponse("closed")
        old = self.sock.gettimeout()
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise NoResponse("timeout") from None
        except ConnectionResetError:
            self.eof = True
            raise NoResponse("reset") from None
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

    def read_response(self, method="GET"):
        """One whole response (interim 1xx responses are returned too, as
        themselves).  Raises NoResponse with what was received if the
        connection ends first."""
        try:
            status_line = self._line().decode("latin-1")
            parts = status_line.split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/"):
                raise AssertionError("bad status line %r" % status_line)
            version, status = parts[0], int(parts[1])
            reason = parts[2] if len(parts) > 2 else ""
            headers = []
            while True:
                line = self._line().decode("latin-1")
                if line == "":
                    break
                name, _, value = line.partition(":")
                headers.append((name, value.strip()))
            res = Response(version, status, reason, headers, b"")
            if method == "HEAD" or status < 200 or status in (204, 304):
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
                while True:
                    try:
                        self._fill()
                    except NoResponse:
                        break
                res.body, self.buf = self.buf, b""
            return res
        except NoResponse as e:
            raise NoResponse("%s after %d unparsed byte(s): %r" % (e, len(self.buf), self.buf[:200])) from None

    def state(self, wait=0.5):
        """What follows the last response: "closed" (EOF or reset), "open"
        (nothing within wait seconds), or the unexpected bytes."""
        if self.buf:
            return self.buf
        if self.eof:
            return "closed"
        try:
            self._fill(timeout=wait)
        except NoResponse as e:
            return "open" if str(e) == "timeout" else "closed"
        return self.buf

    def wait_closed(self, limit):
        """Seconds until the server closes the connection, at most limit
        (None if it is still open then).  Bytes received meanwhile are
        kept in self.buf."""
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


def request(method, target, headers=(), body=b"", version="HTTP/1.1", host="test"):
    """The bytes of one request; Content-Length is the caller's business."""
    lines = ["%s %s %s" % (method, target, version)]
    if host is not None:
        lines.append("Host: " + host)
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(data, size):
    out = b""
    for i in range(0, len(data), size):
        piece = data[i : i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"
