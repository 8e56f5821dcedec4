"""The client side of the live fuzzer: one TCP (or TLS) connection with its
own read buffer, and a strict reader of HTTP/1.1 responses.

Every wait is bounded by a deadline (time.monotonic() seconds).  What the
reader finds wrong with the server's bytes is raised as Violation; the end of
the connection as Ended ("eof" or "reset"); a deadline that passes as
TimedOut.  Each exception carries what had been received, for the report.
"""
import re
import socket
import struct
import time

HOST = "127.0.0.1"

# Limits on what we accept from the server.
MAX_RESPONSE_HEAD = 64 * 1024
MAX_RESPONSE_BODY = 4 * 1024 * 1024

TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
STATUS_LINE = re.compile(rb"HTTP/1\.1 ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?")
FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
DIGITS = re.compile(rb"[0-9]+")
HEXDIGITS = re.compile(rb"[0-9A-Fa-f]+")


class Ended(Exception):
    """The server closed ("eof") or reset ("reset") the connection."""

    def __init__(self, how, partial):
        super().__init__(how)
        self.how = how
        self.partial = partial  # bytes of an unfinished response, if any


class TimedOut(Exception):
    def __init__(self, partial, what=None):
        super().__init__("timeout")
        self.partial = partial
        self.what = what  # what we were waiting for, when not an answer


class Violation(Exception):
    """The server's bytes are not a valid HTTP/1.1 response."""

    def __init__(self, message, partial):
        super().__init__(message)
        self.partial = partial


class Response:
    __slots__ = ("status", "reason", "headers", "body", "size")

    def __init__(self, status, reason, headers):
        self.status = status
        self.reason = reason
        self.headers = headers  # [(lower-case name, value)] as bytes
        self.body = b""
        self.size = 0  # bytes on the wire, head and body

    def header(self, name):
        """Every value of the field called name (lower-case bytes), joined
        with ", ", or None."""
        vals = [v for n, v in self.headers if n == name]
        return b", ".join(vals) if vals else None

    def closes(self):
        v = self.header(b"connection")
        return v is not None and b"close" in [t.strip().lower() for t in v.split(b",")]

    def summary(self):
        return "%d %s (%d body bytes)" % (self.status, self.reason.decode("latin-1"), len(self.body))


class Conn:
    """One client connection, blocking, with deadlines on every read."""

    def __init__(self, port, deadline, tls_context=None):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.settimeout(max(0.01, deadline - time.monotonic()))
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.connect((HOST, port))
        self.local_port = raw.getsockname()[1]
        if tls_context is not None:
            raw = tls_context.wrap_socket(raw, server_hostname=None)
        self.sock = raw
        self.buf = bytearray()
        self.ended = None  # "eof" or "reset" once seen
        self.sent = 0
        self.received = 0
        # For the report on descriptors the server keeps: when things
        # happened (time.monotonic()).
        self.opened = time.monotonic()
        self.last_sent = self.opened
        self.last_received = None
        self.our_end = None  # (time, "FIN"/"close"/"reset")
        self.server_end = None  # time the server's close or reset was seen
        self.cases = []  # indices of the cases sent on it

    # ---- sending

    def send(self, data, deadline):
        """Sends all of data; returns None, or how the server ended the
        connection ("eof"/"reset") if it did so first.  Raises TimedOut if
        the server takes no bytes until the deadline."""
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimedOut(bytes(self.buf))
            self.sock.settimeout(left)
            try:
                n = self.sock.send(view)
            except socket.timeout:
                raise TimedOut(bytes(self.buf)) from None
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                return "reset"
            except OSError as e:
                if e.errno in (32, 104, 103):
                    return "reset"
                raise
            self.sent += n
            self.last_sent = time.monotonic()
            view = view[n:]
        return None

    # ---- ending it from our side

    def _our_end(self, how):
        if self.our_end is None:
            self.our_end = (time.monotonic(), how)

    def shutdown_write(self):
        self._our_end("FIN")
        try:
            if hasattr(self.sock, "unwrap"):
                # TLS: a close_notify would need the server's answer; a plain
                # FIN underneath is what we mean.
                socket.socket.shutdown(self.sock, socket.SHUT_WR)
            else:
                self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def reset(self):
        """Closes with SO_LINGER 0: the kernel sends RST and drops what is
        queued."""
        self._our_end("reset")
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def close(self):
        self._our_end("close")
        try:
            self.sock.close()
        except OSError:
            pass

    # ---- receiving

    def _fill(self, deadline):
        if self.ended is not None:
            raise Ended(self.ended, bytes(self.buf))
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimedOut(bytes(self.buf))
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(262144)
        except socket.timeout:
            raise TimedOut(bytes(self.buf)) from None
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            self.ended = "reset"
            self.server_end = time.monotonic()
            raise Ended("reset", bytes(self.buf)) from None
        except OSError as e:
            # TLS: an abrupt end shows up as an SSL error.
            if e.__class__.__name__.startswith("SSL"):
                self.ended = "reset"
                self.server_end = time.monotonic()
                raise Ended("reset", bytes(self.buf)) from None
            raise
        if not data:
            self.ended = "eof"
            self.server_end = time.monotonic()
            raise Ended("eof", bytes(self.buf))
        self.received += len(data)
        self.last_received = time.monotonic()
        self.buf += data

    def wait_end(self, deadline):
        """Reads until the server ends the connection.  Returns (how,
        extra bytes received meanwhile); how is None if the deadline came
        first."""
        start = len(self.buf)
        while True:
            try:
                self._fill(deadline)
            except Ended as e:
                return e.how, bytes(self.buf[start:])
            except TimedOut:
                return None, bytes(self.buf[start:])

    def poll_end(self):
        """Without waiting: has the server ended the connection?  (Bytes
        that are there are kept in the buffer.)"""
        if self.ended is not None:
            return self.ended
        try:
            self._fill(time.monotonic() + 0.0005)
        except Ended as e:
            return e.how
        except TimedOut:
            pass
        return None

    def _line(self, pos, deadline, limit):
        """Index of the CRLF that ends the line starting at pos."""
        scan = pos
        while True:
            i = self.buf.find(b"\n", scan)
            if i >= 0:
                if i == pos or self.buf[i - 1] != 0x0D:
                    raise Violation("line ending in a bare LF at byte %d of the response" % i, bytes(self.buf))
                return i - 1
            scan = len(self.buf)
            if scan - pos > limit:
                raise Violation("no line end in %d bytes of a response head" % limit, bytes(self.buf))
            self._fill(deadline)

    def _need(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)

    def read_response(self, deadline, bodiless=False):
        """One whole response from the front of the buffer.  bodiless: the
        request was HEAD, so the response has no body whatever it says."""
        try:
            return self._read_response(deadline, bodiless)
        except (Ended, TimedOut) as e:
            e.partial = bytes(self.buf)
            raise

    def _looks_bodiless(self, pos, length, deadline):
        """For an answer to a request whose method we do not know: True if
        it has no body (a HEAD answer), seen from what follows its head:
        the next status line, the end of the connection, or nothing for a
        moment."""
        grace = min(deadline, time.monotonic() + 1.0)
        prefix = b"HTTP/1.1 "
        while True:
            ahead = bytes(self.buf[pos : pos + len(prefix)])
            if ahead and not prefix.startswith(ahead):
                return False
            if len(ahead) == len(prefix):
                return True
            try:
                self._fill(grace)
            except TimedOut:
                if time.monotonic() >= deadline:
                    raise
                return True
            except Ended:
                return len(self.buf) == pos

    def _chunked_body(self, res, pos, te, deadline):
        if te.lower() != b"chunked":
            raise Violation("response Transfer-Encoding %r" % te, bytes(self.buf))
        body = bytearray()
        while True:
            eol = self._line(pos, deadline, 4096)
            size_text = bytes(self.buf[pos:eol]).split(b";", 1)[0].strip(b" \t")
            if HEXDIGITS.fullmatch(size_text) is None:
                raise Violation("bad chunk size line %r" % bytes(self.buf[pos:eol]), bytes(self.buf))
            size = int(size_text, 16)
            pos = eol + 2
            if size == 0:
                while True:
                    eol = self._line(pos, deadline, 4096)
                    done = eol == pos
                    pos = eol + 2
                    if done:
                        res.body = bytes(body)
                        return pos
            if len(body) + size > MAX_RESPONSE_BODY:
                raise Violation("chunked response body over %d bytes" % MAX_RESPONSE_BODY, bytes(self.buf))
            self._need(pos + size + 2, deadline)
            body += self.buf[pos : pos + size]
            if self.buf[pos + size : pos + size + 2] != b"\r\n":
                raise Violation("chunk data not followed by CRLF", bytes(self.buf))
            pos += size + 2

    def _read_response(self, deadline, bodiless):
        eol = self._line(0, deadline, 8192)
        line = bytes(self.buf[:eol])
        m = STATUS_LINE.fullmatch(line)
        if m is None:
            raise Violation("not an HTTP/1.1 status line: %r" % line[:200], bytes(self.buf))
        status = int(m.group(1))
        if not 100 <= status <= 599:
            raise Violation("status %d outside 1xx-5xx" % status, bytes(self.buf))
        res = Response(status, m.group(2) or b"", [])
        pos = eol + 2
        while True:
            eol = self._line(pos, deadline, MAX_RESPONSE_HEAD)
            if eol > MAX_RESPONSE_HEAD:
                raise Violation("response head over %d bytes" % MAX_RESPONSE_HEAD, bytes(self.buf))
            if eol == pos:
                pos += 2
                break
            line = bytes(self.buf[pos:eol])
            name, colon, value = line.partition(b":")
            if not colon or not name or any(c not in TCHAR for c in name):
                raise Violation("bad header line %r" % line[:200], bytes(self.buf))
            value = value.strip(b" \t")
            if FIELD_VALUE.fullmatch(value) is None:
                raise Violation("control byte in header value %r" % line[:200], bytes(self.buf))
            res.headers.append((name.lower(), value))
            pos = eol + 2
        te = res.header(b"transfer-encoding")
        cls = [v for n, v in res.headers if n == b"content-length"]
        if te is not None and cls:
            raise Violation("response with both Transfer-Encoding and Content-Length", bytes(self.buf))
        length = None
        if cls:
            if len(set(cls)) != 1 or DIGITS.fullmatch(cls[0]) is None:
                raise Violation("bad Content-Length %r" % cls, bytes(self.buf))
            length = int(cls[0])
            if length > MAX_RESPONSE_BODY:
                raise Violation("Content-Length %d over %d" % (length, MAX_RESPONSE_BODY), bytes(self.buf))
        if status < 200 or status in (204, 304) or (bodiless and not res.closes()):
            pass
        elif te is not None:
            pos = self._chunked_body(res, pos, te, deadline)
        elif res.closes():
            # The last answer on the connection: everything up to the end
            # is its body.  (A HEAD request the server could not parse is
            # answered with a body; one it parsed, without.)
            while True:
                try:
                    self._fill(deadline)
                except TimedOut:
                    raise TimedOut(bytes(self.buf), "no close after a \"Connection: close\" answer") from None
                except Ended as e:
                    if e.how != "eof" and length is not None and len(self.buf) - pos < length:
                        raise
                    break
                if len(self.buf) - pos > MAX_RESPONSE_BODY:
                    raise Violation("body over %d bytes" % MAX_RESPONSE_BODY, bytes(self.buf))
            got = len(self.buf) - pos
            if length is not None and got != length and not (got == 0 and bodiless is not False):
                raise Violation("%d byte(s) after the head of a \"Connection: close\" answer whose Content-Length "
                                "is %d" % (got, length), bytes(self.buf))
            res.body = bytes(self.buf[pos:])
            pos = len(self.buf)
        elif length is not None:
            if bodiless is None and length > 0 and self._looks_bodiless(pos, length, deadline):
                length = 0
            self._need(pos + length, deadline)
            res.body = bytes(self.buf[pos : pos + length])
            pos += length
        else:
            # Delimited by the end of the connection.
            while True:
                try:
                    self._fill(deadline)
                except Ended as e:
                    if e.how != "eof":
                        raise
                    break
                if len(self.buf) - pos > MAX_RESPONSE_BODY:
                    raise Violation("close-delimited body over %d bytes" % MAX_RESPONSE_BODY, bytes(self.buf))
            res.body = bytes(self.buf[pos:])
            pos = len(self.buf)
        del self.buf[:pos]
        res.size = pos
        return res
