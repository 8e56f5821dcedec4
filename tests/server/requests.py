#!/usr/bin/env python3
"""Scripted requests against tests/server/server_app.c, printing a transcript.

Usage: requests.py HOST PORT            run every case, transcript on stdout
       requests.py --known-bugs         names of the cases where NNG 1.5.2
                                        has a known bug (the allow-list)
       requests.py HOST PORT NAME...    run only the named cases

The transcript is normalized so that two servers that behave the same print
the same bytes: per case, the request line sent, then per response the
status line, the headers that matter (names lower-cased, sorted; never Date
or Server), the body (text as a Python literal, otherwise its length and
sha256) and how the body ended; after the last response, whether the
server kept the connection open or closed it.  Host headers never carry
the port, and nothing printed depends on the port or on timing, except
through the fixed timeouts below (a response that never comes prints
"timeout", a connection closed without a response "no response (closed)").

Standard library only.
"""

import hashlib
import http.client
import socket
import sys

READ_TIMEOUT = 2.0  # waiting for (more of) a response
CLOSE_WAIT = 0.5  # after the last response: closed, or still open?
MAX_HEAD = 64 * 1024

SHOWN_HEADERS = (
    "allow",
    "connection",
    "content-length",
    "content-type",
    "location",
    "transfer-encoding",
)

ONE_BIN_SHA256 = "73cda0e476bc2aa22f0f4434af1933b187b60ce8ee94a58b18774ac61e35688e"


class Closed(Exception):
    pass


class TimedOut(Exception):
    pass


class Reader:
    """Buffered reads from a socket with a timeout on each read."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def fill(self, timeout=READ_TIMEOUT):
        if self.eof:
            raise Closed()
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise TimedOut()
        except (ConnectionResetError, BrokenPipeError):
            # A reset is reported like an orderly close: which of the two a
            # client sees depends on timing (unread request bytes at close).
            data = b""
        if not data:
            self.eof = True
            raise Closed()
        self.buf += data

    def until(self, marker, limit):
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("head longer than %d bytes" % limit)
            self.fill()
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exactly(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def rest(self):
        """Everything until the peer closes; returns (bytes, how it ended)."""
        try:
            while True:
                self.fill()
        except Closed:
            how = "close"
        except TimedOut:
            how = "timeout"
        out, self.buf = self.buf, b""
        return out, how


def describe_body(body):
    try:
        text = body.decode("ascii")
        printable = all(c.isprintable() or c in "\r\n\t" for c in text)
    except UnicodeDecodeError:
        printable = False
    if printable and len(body) <= 2048:
        return "body: %d bytes %r" % (len(body), text)
    digest = hashlib.sha256(body).hexdigest()
    note = " (= www/one.bin)" if digest == ONE_BIN_SHA256 else ""
    return "body: %d bytes sha256 %s%s" % (len(body), digest, note)


def read_response(rd, method, out):
    """Reads one response; prints it; returns False if the case must stop."""
    try:
        head = rd.until(b"\r\n\r\n", MAX_HEAD)
    except TimedOut:
        out.append("timeout" + (" (partial head)" if rd.buf else ""))
        return False
    except Closed:
        out.append("no response (closed)" if not rd.buf else "partial head (closed)")
        return False
    except ValueError as e:
        out.append("bad response: %s" % e)
        return False
    lines = head[:-4].decode("latin-1").split("\r\n")
    out.append(lines[0])
    pairs = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        pairs.append((k.strip(), v.strip()))
    shown = sorted((k.lower(), v) for k, v in pairs if k.lower() in SHOWN_HEADERS)
    out.extend("  %s: %s" % kv for kv in shown)
    hdr = {k.lower(): v for k, v in pairs}
    try:
        status = int(lines[0].split(" ")[1])
    except (IndexError, ValueError):
        status = 0
    try:
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body, how = b"", None
        elif "chunked" in hdr.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size_line = rd.until(b"\r\n", 1024)
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while rd.until(b"\r\n", MAX_HEAD) != b"\r\n":
                        pass  # trailer fields, not shown
                    break
                body += rd.exactly(size)
                rd.exactly(2)
            how = None
        elif "content-length" in hdr:
            body, how = rd.exactly(int(hdr["content-length"])), None
        else:
            body, how = rd.rest()
    except TimedOut:
        out.append("timeout (partial body)")
        return False
    except Closed:
        out.append("closed (partial body)")
        return False
    out.append(describe_body(body))
    if how is not None:
        out.append("body ended by %s (no Content-Length)" % how)
        return False
    return True


def connection_state(rd):
    if rd.buf:
        return "then: %d unexpected bytes" % len(rd.buf)
    try:
        rd.fill(CLOSE_WAIT)
    except Closed:
        return "then: closed"
    except TimedOut:
        return "then: open"
    return "then: %d unexpected bytes" % len(rd.buf)


def first_line(data):
    line = data.split(b"\r\n", 1)[0]
    if len(line) > 72:
        line = line[:60] + b"...(%d bytes)" % len(line)
    return repr(line)[2:-1]


def run_raw(host, port, steps):
    """steps: list of (bytes to send, [method of each expected response])."""
    out = []
    sock = socket.create_connection((host, port), timeout=READ_TIMEOUT)
    rd = Reader(sock)
    try:
        for data, methods in steps:
            out.append("> " + first_line(data))
            try:
                sock.sendall(data)
            except OSError:
                pass  # the server may close early; what it answered is read below
            for m in methods:
                if not read_response(rd, m, out):
                    return out
        out.append(connection_state(rd))
        return out
    finally:
        sock.close()


def req(method, target, headers=(), body=b"", version="HTTP/1.1", host="test"):
    lines = ["%s %s %s" % (method, target, version)]
    if host is not None:
        lines.append("Host: " + host)
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def one(method, target, **kw):
    """A single request on its own connection."""
    return [(req(method, target, **kw), [method])]


def chunk_encode(data, size):
    out = b""
    for i in range(0, len(data), size):
        piece = data[i : i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


PAYLOAD_64K = bytes((i * 7 + 3) & 0xFF for i in range(64 * 1024))
JSON = b'{"hello": "world", "n": [1, 2, 3]}'
SMUGGLED = b"GET /static HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"

# Each case: (name, known NNG 1.5.2 bug or None, steps).  A known bug names
# the item of docs/design/server-plan.md ("NNG gets wrong") or says what else
# NNG 1.5.2 does wrong there; our server is meant to differ on these cases,
# so the harness allow-lists them (requests.py --known-bugs).
RAW_CASES = [
    # --- static handler
    ("static-get", None, one("GET", "/static")),
    ("static-head", None, one("HEAD", "/static")),
    ("static-trailing-slash", None, one("GET", "/static/")),
    ("static-query", None, one("GET", "/static?a=1&b=2")),
    ("static-absolute-uri", None, one("GET", "http://test/static")),
    # --- file handler
    ("file-get", None, one("GET", "/file")),
    ("file-head", None, one("HEAD", "/file")),
    # NNG bug (plan: "405 without Allow").
    ("file-post", "405-allow", one("POST", "/file", headers=["Content-Length: 0"])),
    # --- directory handler
    ("dir-root-no-slash", None, one("GET", "/site")),
    ("dir-root", None, one("GET", "/site/")),
    ("dir-css", None, one("GET", "/site/style.css")),
    ("dir-txt", None, one("GET", "/site/hello.txt")),
    ("dir-txt-head", None, one("HEAD", "/site/hello.txt")),
    ("dir-index-htm", None, one("GET", "/site/sub/")),
    ("dir-no-index", None, one("GET", "/site/noindex/")),
    ("dir-missing", None, one("GET", "/site/missing.txt")),
    ("dir-big", None, one("GET", "/site/one.bin")),
    # NNG bug (plan: "Directory paths from the raw URI (`..` escapes)"):
    # NNG serves site/secret.txt, outside the directory; ours must not.
    ("dir-dotdot-escape", "raw-uri-dotdot", one("GET", "/site/../secret.txt")),
    # Same bug family: `..` that stays inside the tree; NNG lets the file
    # system resolve it (200), which ours may also answer 200 after
    # normalizing.  Not allow-listed: both should give hello.txt.
    ("dir-dotdot-inside", None, one("GET", "/site/sub/../hello.txt")),
    # NNG bug (raw URI): %2e%2e is looked up literally (404); ours decodes
    # and must refuse to leave the tree (status may differ from 404).
    ("dir-dotdot-encoded", "raw-uri-dotdot", one("GET", "/site/%2e%2e/secret.txt")),
    # NNG bug (raw URI): the file name is not percent-decoded, so the file
    # "two words.txt" is not found (404); ours serves it.
    ("dir-percent-space", "raw-uri-percent", one("GET", "/site/two%20words.txt")),
    # NNG bug (raw URI): the query string becomes part of the file name (404).
    ("dir-query", "raw-uri-query", one("GET", "/site/hello.txt?v=1")),
    # --- redirects (NNG always adds Connection: close to redirects)
    ("redirect-301", None, one("GET", "/moved")),
    ("redirect-302", None, one("GET", "/found")),
    ("redirect-head", None, one("HEAD", "/moved")),
    ("redirect-tree", None, one("GET", "/moved-tree/hello.txt")),
    # --- POST echo (collect_body, limit 64 KiB)
    (
        "echo-json",
        None,
        one(
            "POST",
            "/echo",
            headers=["Content-Type: application/json", "Content-Length: %d" % len(JSON)],
            body=JSON,
        ),
    ),
    ("echo-empty", None, one("POST", "/echo", headers=["Content-Length: 0"])),
    ("echo-no-length", None, one("POST", "/echo")),
    (
        "echo-at-limit",
        None,
        one(
            "POST",
            "/echo",
            headers=["Content-Type: application/x-test", "Content-Length: 65536"],
            body=PAYLOAD_64K,
        ),
    ),
    # NNG bug (plan: "body over the collect limit answered 400 and then
    # parsed as the next request"; ours: 413 and close).
    (
        "echo-over-limit",
        "collect-limit",
        one("POST", "/echo", headers=["Content-Length: 65537"], body=PAYLOAD_64K + b"x"),
    ),
    # The same bug made visible: the "body" is a whole request, which NNG
    # answers (400 then 200 Hello); ours answers 413 and closes.
    (
        "echo-over-limit-smuggle",
        "collect-limit",
        [(req("POST", "/echo", headers=["Content-Length: 70000"], body=SMUGGLED), ["POST", "GET"])],
    ),
    # NNG bug (plan: "Transfer-Encoding ignored"): NNG calls the handler with
    # an empty body and then parses the chunks as a request; ours decodes it.
    (
        "echo-chunked",
        "transfer-encoding",
        [
            (
                req(
                    "POST",
                    "/echo",
                    headers=["Content-Type: text/plain", "Transfer-Encoding: chunked"],
                    body=chunk_encode(b"hello, chunked world", 7),
                ),
                ["POST", "GET"],
            )
        ],
    ),
    # NNG bug (plan: TE ignored; ours answers 501 for codings it lacks).
    (
        "echo-gzip-te",
        "transfer-encoding",
        one(
            "POST",
            "/echo",
            headers=["Transfer-Encoding: gzip", "Content-Length: 4"],
            body=b"abcd",
        ),
    ),
    # NNG bug (plan: "405 without Allow").
    ("echo-get-405", "405-allow", one("GET", "/echo")),
    # --- method-restricted handler
    ("put-put", None, one("PUT", "/put", headers=["Content-Length: 5"], body=b"12345")),
    ("put-get-405", "405-allow", one("GET", "/put")),
    ("put-delete-405", "405-allow", one("DELETE", "/put")),
    # Methods are case-sensitive: "get" is not GET, so NNG answers 405 on a
    # GET-only route (without Allow, the known bug).
    ("static-lowercase-method", "405-allow", one("get", "/static")),
    # --- any method
    ("any-get", None, one("GET", "/any")),
    ("any-head", None, one("HEAD", "/any")),
    ("any-delete", None, one("DELETE", "/any")),
    ("any-options", None, one("OPTIONS", "/any")),
    ("any-http10", None, one("GET", "/any", version="HTTP/1.0", host=None)),
    # --- custom headers
    ("hdr-get", None, one("GET", "/hdr")),
    ("hdr-head", None, one("HEAD", "/hdr")),
    # NNG bug (plan: "a response without data sent without Content-Length"):
    # the client can only read the body until close, and NNG keeps the
    # connection open, so the transcript shows the read timing out.
    ("empty-body", "no-content-length", one("GET", "/empty")),
    # --- tree handlers
    ("api-exact", None, one("GET", "/api")),
    ("api-slash", None, one("GET", "/api/")),
    ("api-deep-query", None, one("GET", "/api/a/b/c?x=1")),
    ("api-percent-encoded", None, one("GET", "/api/%41%42/c%20d")),
    ("api-prefix-not-tree", None, one("GET", "/apix")),
    ("excl-exact", None, one("GET", "/excl")),
    ("excl-deep", None, one("GET", "/excl/sub/x")),
    # NNG bug (not in the plan's list): NNG's percent-decoding of the path
    # for matching writes each decoded byte twice and skips the next byte,
    # so /st%61tic matches nothing (404); ours decodes to /static (200).
    ("static-percent-encoded", "percent-decode", one("GET", "/st%61tic")),
    # --- host-restricted handler
    ("vhost-localhost", None, one("GET", "/vhost", host="localhost")),
    ("vhost-localhost-port", None, one("GET", "/vhost", host="LocalHost:1234")),
    ("vhost-trailing-dot", None, one("GET", "/vhost", host="localhost.")),
    ("vhost-other-host", None, one("GET", "/vhost", host="127.0.0.1")),
    ("vhost-http10-no-host", None, one("GET", "/vhost", version="HTTP/1.0", host=None)),
    # --- errors
    ("fail-500", None, one("GET", "/fail")),
    ("fail-500-head", None, one("HEAD", "/fail")),
    ("not-found", None, one("GET", "/nope")),
    # NNG bug (not in the plan's list): errors the server itself generates
    # (404, 405, 400 ... outside a handler) keep their body on HEAD, so the
    # transcript shows the page's bytes after the head.
    ("not-found-head", "head-error-body", one("HEAD", "/nope")),
    ("put-head-405", "head-error-body", one("HEAD", "/put")),
    ("http11-no-host", None, one("GET", "/static", host=None)),
    ("http20-version", None, one("GET", "/static", version="HTTP/2.0")),
    # NNG closes without any status on a malformed request line; ours is
    # expected to answer 400 and close (same family as the over-long head).
    ("malformed-request-line", "bad-head-no-status", [(b"GARBAGE\r\n\r\n", ["GET"])]),
    (
        "malformed-header-line",
        "bad-head-no-status",
        [(b"GET /static HTTP/1.1\r\nHost: test\r\nNoColonHere\r\n\r\n", ["GET"])],
    ),
    # NNG bug (plan: "an over-long head closed without a status"; ours
    # answers 431 / 414 and closes).
    ("long-header", "bad-head-no-status", one("GET", "/static", headers=["X-Long: " + "a" * 16384])),
    ("long-uri", "bad-head-no-status", one("GET", "/api/" + "u" * 16384)),
    # --- connection management
    (
        "keep-alive-reuse",
        None,
        [(req("GET", "/static"), ["GET"]), (req("GET", "/hdr"), ["GET"])],
    ),
    (
        "keep-alive-after-404",
        None,
        [(req("GET", "/nope"), ["GET"]), (req("GET", "/static"), ["GET"])],
    ),
    (
        "pipelined-two",
        None,
        [(req("GET", "/static") + req("GET", "/api/second"), ["GET", "GET"])],
    ),
    (
        "pipelined-head-then-get",
        None,
        [(req("HEAD", "/file") + req("GET", "/static"), ["HEAD", "GET"])],
    ),
    (
        "pipelined-post-then-get",
        None,
        [
            (
                req("POST", "/echo", headers=["Content-Length: 3"], body=b"abc")
                + req("GET", "/static"),
                ["POST", "GET"],
            )
        ],
    ),
    # NNG bug (plan: "Transfer-Encoding ignored"): a request pipelined after
    # a chunked body must be answered as the second request.
    (
        "pipelined-chunked-then-get",
        "transfer-encoding",
        [
            (
                req(
                    "POST",
                    "/echo",
                    headers=["Content-Type: text/plain", "Transfer-Encoding: chunked"],
                    body=chunk_encode(b"first body, in chunks", 5),
                )
                + req("GET", "/static"),
                ["POST", "GET"],
            )
        ],
    ),
    (
        "pipelined-close-first",
        None,
        [
            (
                req("GET", "/static", headers=["Connection: close"]) + req("GET", "/static"),
                ["GET", "GET"],
            )
        ],
    ),
    ("http10", None, one("GET", "/static", version="HTTP/1.0", host=None)),
    (
        "http10-keep-alive",
        None,
        one("GET", "/static", version="HTTP/1.0", host=None, headers=["Connection: keep-alive"]),
    ),
    ("connection-close", None, one("GET", "/static", headers=["Connection: close"])),
    ("connection-close-mixed-case", None, one("GET", "/static", headers=["Connection: Close"])),
]


def run_client(host, port, name):
    """Cases through http.client, as an ordinary client library sees them."""
    out = []
    conn = http.client.HTTPConnection(host, port, timeout=READ_TIMEOUT)

    def show(method, path, body=None, headers=None):
        out.append("> %s %s (http.client)" % (method, path))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
        except socket.timeout:
            out.append("timeout")
            return
        except (http.client.RemoteDisconnected, ConnectionError):
            out.append("no response (closed)")
            return
        out.append("HTTP/%d.%d %d %s" % (r.version // 10, r.version % 10, r.status, r.reason))
        shown = sorted((k.lower(), v) for k, v in r.getheaders() if k.lower() in SHOWN_HEADERS)
        out.extend("  %s: %s" % kv for kv in shown)
        out.append(describe_body(data))

    try:
        if name == "client-get-sequence":
            # One HTTPConnection, reused while the server keeps it open.
            show("GET", "/static")
            show("GET", "/file")
            show("HEAD", "/site/index.html")
            show("GET", "/site/index.html")
        elif name == "client-post-echo":
            show("POST", "/echo", body=b"x" * 1000, headers={"Content-Type": "text/plain"})
            show("PUT", "/put", body=b"y" * 100)
        elif name == "client-redirect":
            show("GET", "/found")
    finally:
        conn.close()
    return out


CLIENT_CASES = ["client-get-sequence", "client-post-echo", "client-redirect"]


def known_bugs():
    return [(name, bug) for name, bug, _ in RAW_CASES if bug is not None]


def main(argv):
    if len(argv) == 2 and argv[1] == "--known-bugs":
        for name, bug in known_bugs():
            print("%s %s" % (name, bug))
        return 0
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    host, port = argv[1], int(argv[2])
    only = set(argv[3:])
    for name, bug, steps in RAW_CASES:
        if only and name not in only:
            continue
        print("=== %s" % name)
        for line in run_raw(host, port, steps):
            print(line)
        sys.stdout.flush()
    for name in CLIENT_CASES:
        if only and name not in only:
            continue
        print("=== %s" % name)
        for line in run_client(host, port, name):
            print(line)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
