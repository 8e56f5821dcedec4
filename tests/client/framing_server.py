#!/usr/bin/env python3
"""A small HTTP/1.1 server over raw sockets for the client tests: it sends
the response framings that nginx will not send on demand (chunk extensions,
trailers, bodies until close, 1xx interim responses, a 304 with a
Content-Length, bodies cut short, stalls, oversized declarations) and
counts the TCP connections it accepts.

Standard library only; listens on 127.0.0.1.  Every response carries
"X-Test: req=N", N counting the requests on that connection, so that a
transcript shows whether requests shared a connection.  HEAD gets the head
a GET would get, without the body.

Run alone (prints "listening on PORT", serves until interrupted):
    python3 framing_server.py
"""
import hashlib
import socket
import threading
import time

HOST = "127.0.0.1"
HELLO = b"Hello, world!"
HEAD_LIMIT = 64 * 1024
HUGE = 300 << 20  # over nng-http's default response limit (256 MiB)


def pattern(n, seed=0):
    """n deterministic bytes (the runner computes the same to check hashes)."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(b"%d:%d" % (seed, counter)).digest()
        counter += 1
    return bytes(out[:n])


BIG_CHUNKED = pattern(1 << 20, seed=1)
BIG_HTTP10 = pattern(1 << 20, seed=2)
SHORT_DECLARED = 1000
SHORT_SENT = 400

# The bodies the runner checks against.
BODIES = {
    "/hello": HELLO,
    "/chunked": b"hello, chunked world",
    "/chunked-ext": b"extensions are ignored!",
    "/chunked-ext-space": b"extensions are ignored!",
    "/chunked-trailer": b"trailers follow",
    "/chunked-big": BIG_CHUNKED,
    "/until-close": b"body until close, HTTP/1.1",
    "/http10": b"body until close, HTTP/1.0",
    "/http10-length": b"HTTP/1.0 with a length",
    "/http10-big": BIG_HTTP10,
    "/continue": b"final answer after 100",
    "/early-hints": b"final answer after 103 and 100",
    "/close": b"closing after this",
    "/close-linger": b"Connection: close, but the socket stays open",
}


def head(status, reason, headers, version="HTTP/1.1"):
    lines = [f"{version} {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Request:
    def __init__(self, method, target, version, headers, body):
        self.method = method
        self.target = target
        self.path = target.split("?", 1)[0]
        self.version = version
        self.headers = headers  # list of (lower-case name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k == name:
                return v
        return None


class Closed(Exception):
    pass


class Connection:
    def __init__(self, server, sock):
        self.server = server
        self.sock = sock
        self.buf = b""
        self.requests = 0

    # ---- reading ----

    def recv_more(self):
        while True:
            if self.server.stopping.is_set():
                raise Closed()
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                raise Closed()
            if not data:
                raise Closed()
            self.buf += data
            return

    def read_request(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > HEAD_LIMIT:
                raise Closed()
            self.recv_more()
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
        req = Request(method, target, version, headers, b"")
        if "chunked" in (req.header("transfer-encoding") or ""):
            req.body = self.read_chunked_body()
        else:
            n = int(req.header("content-length") or 0)
            while len(self.buf) < n:
                self.recv_more()
            req.body, self.buf = self.buf[:n], self.buf[n:]
        return req

    def read_chunked_body(self):
        body = b""
        while True:
            while b"\r\n" not in self.buf:
                self.recv_more()
            line, self.buf = self.buf.split(b"\r\n", 1)
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while b"\r\n\r\n" not in b"\r\n" + self.buf:
                    self.recv_more()
                _, self.buf = (b"\r\n" + self.buf).split(b"\r\n\r\n", 1)
                return body
            while len(self.buf) < size + 2:
                self.recv_more()
            body += self.buf[:size]
            self.buf = self.buf[size + 2:]

    def wait_for_close(self):
        """Stalls: reads and drops everything until the peer closes or the
        server stops."""
        while True:
            self.buf = b""
            self.recv_more()

    # ---- writing ----

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            raise Closed()

    def respond(self, req, status, reason, headers, body=b"", version="HTTP/1.1"):
        headers = list(headers) + [("X-Test", self.x_test(req))]
        data = head(status, reason, headers, version)
        if req.method != "HEAD":
            data += body
        self.send(data)

    def x_test(self, req):
        return f"req={self.requests}"

    # ---- serving ----

    def serve(self):
        try:
            while True:
                req = self.read_request()
                self.requests += 1
                if not self.route(req):
                    return
        except (Closed, ValueError):
            return

    def route(self, req):
        """Answers req; returns False when the connection is to be closed."""
        p = req.path
        text = [("Content-Type", "text/plain")]
        body = BODIES.get(p, b"")

        def length(b):
            return [("Content-Length", str(len(b)))]

        if p in ("/hello", "/continue", "/early-hints"):
            if p == "/continue":
                self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            elif p == "/early-hints":
                self.send(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                          b"HTTP/1.1 100 Continue\r\n\r\n")
            self.respond(req, 200, "OK", text + length(body), body)
            return True
        if p == "/reqinfo":
            # What the client sent, normalized (no port): in X-Test.
            info = (f"req={self.requests} {req.method} {req.version}"
                    f" host={'yes' if req.header('host') else 'no'}"
                    f" connection={req.header('connection') or '-'}"
                    f" content-length={req.header('content-length') or '-'}"
                    f" transfer-encoding={req.header('transfer-encoding') or '-'}"
                    f" body={len(req.body)}")
            data = head(200, "OK", text + [("Content-Length", "2"), ("X-Test", info)])
            self.send(data + (b"ok" if req.method != "HEAD" else b""))
            return True
        if p == "/echo":
            self.respond(req, 200, "OK", [("Content-Type", "application/octet-stream")]
                         + length(req.body), req.body)
            return True
        if p.startswith("/chunked"):
            return self.chunked(req, p)
        if p == "/until-close":
            self.respond(req, 200, "OK", text, body)
            return False
        if p == "/http10":
            self.respond(req, 200, "OK", text, body, version="HTTP/1.0")
            return False
        if p == "/http10-length":
            self.respond(req, 200, "OK", text + length(body), body, version="HTTP/1.0")
            return False
        if p == "/http10-big":
            self.respond(req, 200, "OK", [("Content-Type", "application/octet-stream")],
                         BIG_HTTP10, version="HTTP/1.0")
            return False
        if p == "/no-content":
            self.respond(req, 204, "No Content", [])
            return True
        if p == "/not-modified":
            self.respond(req, 304, "Not Modified", [("ETag", '"v1"')])
            return True
        if p == "/not-modified-length":
            # RFC 9110 8.6: a 304 may carry the Content-Length the 200 would
            # have had; no body follows.
            self.respond(req, 304, "Not Modified", [("ETag", '"v1"'), ("Content-Length", "1234")])
            return True
        if p == "/head-length":
            # The length of the body a GET would get, which HEAD never gets.
            self.respond(req, 200, "OK", text + [("Content-Length", "5000")], b"x" * 5000)
            return True
        if p == "/short":
            data = head(200, "OK", text + [("Content-Length", str(SHORT_DECLARED)),
                                           ("X-Test", self.x_test(req))])
            self.send(data + b"s" * SHORT_SENT)
            return False
        if p == "/stall":
            self.wait_for_close()
        if p == "/stall-body":
            data = head(200, "OK", text + [("Content-Length", "100"),
                                           ("X-Test", self.x_test(req))])
            self.send(data + b"0123456789")
            self.wait_for_close()
        if p == "/close":
            self.respond(req, 200, "OK", text + length(body) + [("Connection", "close")], body)
            return False
        if p == "/close-linger":
            # Says close, keeps the socket open, answers nothing more.
            self.respond(req, 200, "OK", text + length(body) + [("Connection", "close")], body)
            self.wait_for_close()
        if p == "/huge":
            data = head(200, "OK", [("Content-Type", "application/octet-stream"),
                                    ("Content-Length", str(HUGE)), ("X-Test", self.x_test(req))])
            self.send(data + b"h" * 65536)
            self.wait_for_close()
        if p == "/bad-length":
            data = head(200, "OK", text + [("Content-Length", "12abc"),
                                           ("X-Test", self.x_test(req))])
            self.send(data + b"twelve bytes")
            return False
        if p == "/upgrade":
            self.respond(req, 101, "Switching Protocols",
                         [("Upgrade", "test"), ("Connection", "Upgrade")])
            self.wait_for_close()
        if p == "/garbage":
            self.send(b"this is not HTTP at all\r\n\r\n")
            return False
        self.respond(req, 404, "Not Found", text + length(b"not found"), b"not found")
        return True

    def chunked(self, req, p):
        te = [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")]
        if p == "/chunked":
            chunks = [b"5\r\nhello\r\n", b"2\r\n, \r\n", b"7\r\nchunked\r\n", b"6\r\n world\r\n",
                      b"0\r\n\r\n"]
        elif p == "/chunked-ext":
            chunks = [b"B;name=value\r\nextensions \r\n",
                      b"4;quoted=\"a;b\";flag\r\nare \r\n",
                      b"0008;x=1\r\nignored!\r\n",
                      b"0;last=yes\r\n\r\n"]
        elif p == "/chunked-ext-space":
            # RFC 9112 7.1.1: whitespace (BWS) may come before the ';'.
            chunks = [b"B ;name=value\r\nextensions \r\n",
                      b"4\t; quoted=\"a;b\"\r\nare \r\n",
                      b"0008 ; x = 1\r\nignored!\r\n",
                      b"0\r\n\r\n"]
        elif p == "/chunked-trailer":
            chunks = [b"f\r\ntrailers follow\r\n",
                      b"0\r\nX-Checksum: abc123\r\nX-Test: from-trailer\r\n\r\n"]
        elif p == "/chunked-big":
            chunks, i, sizes, k = [], 0, [1, 100, 4096, 65536, 12345, 7, 30000], 0
            while i < len(BIG_CHUNKED):
                n = min(sizes[k % len(sizes)], len(BIG_CHUNKED) - i)
                size = f"{n:x}" if k % 2 == 0 else f"{n:X}"
                chunks.append(size.encode() + b"\r\n" + BIG_CHUNKED[i:i + n] + b"\r\n")
                i, k = i + n, k + 1
            chunks.append(b"0\r\n\r\n")
        elif p == "/chunked-short":
            # A 100-byte chunk announced, 20 bytes sent, then the close.
            self.respond(req, 200, "OK", te, b"64\r\n" + b"c" * 20)
            return False
        elif p == "/chunked-huge":
            # One chunk declared at 300 MiB, 64 KiB of it sent, then a stall.
            self.respond(req, 200, "OK", te, f"{HUGE:x}\r\n".encode() + b"h" * 65536)
            self.wait_for_close()
        else:
            self.respond(req, 404, "Not Found", [("Content-Length", "0")])
            return True
        data = head(200, "OK", te + [("X-Test", self.x_test(req))])
        if req.method == "HEAD":
            self.send(data)
            return True
        # Sent in pieces with small pauses for the small ones, so that the
        # client sees the framing split across reads.
        self.send(data)
        if len(chunks) < 10:
            for c in chunks:
                self.send(c)
                time.sleep(0.002)
        else:
            self.send(b"".join(chunks))
        return True


class FramingServer:
    """The server, on its own threads; stop() ends every connection."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(128)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.accepted = 0
        self.threads = []
        self.socks = set()
        self.acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self):
        self.acceptor.start()
        return self

    def connections(self):
        with self.lock:
            return self.accepted

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                s, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            s.settimeout(0.1)
            with self.lock:
                self.accepted += 1
                self.socks.add(s)
            t = threading.Thread(target=self._serve, args=(s,), daemon=True)
            with self.lock:
                self.threads = [x for x in self.threads if x.is_alive()] + [t]
            t.start()

    def _serve(self, s):
        try:
            Connection(self, s).serve()
        finally:
            with self.lock:
                self.socks.discard(s)
            try:
                s.close()
            except OSError:
                pass

    def stop(self):
        self.stopping.set()
        self.acceptor.join(5)
        self.sock.close()
        with self.lock:
            threads = list(self.threads)
        for t in threads:
            t.join(5)


if __name__ == "__main__":
    server = FramingServer().start()
    print(f"listening on {server.port}", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
