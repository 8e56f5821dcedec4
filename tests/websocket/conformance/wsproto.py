"""RFC 6455 building blocks shared by the conformance suite and by the
reference echo programs: the opening handshake on both sides, frame
encoding, an incremental frame reader, a fail-fast UTF-8 validator and a
strict receiver that turns bytes into messages, control frames and protocol
errors with the close code RFC 6455 section 7.4.1 names for each (and, with
permessage-deflate in use, inflates compressed messages: pmdeflate.py).

Python 3 standard library only.  Nothing here waits without a bound: every
socket read takes a deadline.
"""
import base64
import codecs
import hashlib
import os
import select
import socket
import struct
import time

import pmdeflate

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
OPCODE_NAMES = {0: "cont", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED = 1003
CLOSE_INVALID_PAYLOAD = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_MANDATORY_EXT = 1010
CLOSE_INTERNAL_ERROR = 1011

HEAD_LIMIT = 16384


def close_code_valid(code):
    """Whether a close frame may carry this code on the wire (RFC 6455
    7.4.1 and 7.4.2, plus the codes IANA registered later: 1012 to 1014).
    1004, 1005, 1006 and 1015 are reserved and never sent."""
    if 1000 <= code <= 1003 or 1007 <= code <= 1014:
        return True
    return 3000 <= code <= 4999


def accept_key(key):
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 4.2.2)."""
    if isinstance(key, str):
        key = key.encode("ascii")
    return base64.b64encode(hashlib.sha1(key + GUID).digest()).decode("ascii")


def new_key():
    return base64.b64encode(os.urandom(16)).decode("ascii")


def xor_mask(data, mask, offset=0):
    """data XOR the 4-byte mask, the mask starting at byte `offset` of the
    frame payload.  Uses big-integer arithmetic, so megabytes are cheap."""
    n = len(data)
    if n == 0:
        return b""
    k = offset & 3
    if k:
        mask = mask[k:] + mask[:k]
    reps = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(reps, "little")).to_bytes(n, "little")


def frame_header(opcode, length, fin=True, rsv=0, mask=None):
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0F)
    mbit = 0x80 if mask is not None else 0
    if length <= 125:
        head = struct.pack("!BB", b0, mbit | length)
    elif length <= 0xFFFF:
        head = struct.pack("!BBH", b0, mbit | 126, length)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, length)
    if mask is not None:
        head += mask
    return head


def encode_frame(opcode, payload=b"", fin=True, rsv=0, mask=None):
    """One frame.  mask is None (server to client) or 4 bytes."""
    if mask is not None:
        return frame_header(opcode, len(payload), fin, rsv, mask) + xor_mask(payload, mask)
    return frame_header(opcode, len(payload), fin, rsv, None) + payload


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    return struct.pack("!H", code) + reason


# ---------------------------------------------------------------------------
# UTF-8


def _prefix_ok(tail):
    """Whether `tail` (at most 3 bytes) can still become one well-formed
    UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing above
    U+10FFFF).  This is what makes the validator fail fast: ED A0 is
    rejected here, before the third byte arrives."""
    if not tail:
        return True
    b0 = tail[0]
    if 0xC2 <= b0 <= 0xDF:
        need, lo, hi = 1, 0x80, 0xBF
    elif b0 == 0xE0:
        need, lo, hi = 2, 0xA0, 0xBF
    elif 0xE1 <= b0 <= 0xEC or 0xEE <= b0 <= 0xEF:
        need, lo, hi = 2, 0x80, 0xBF
    elif b0 == 0xED:
        need, lo, hi = 2, 0x80, 0x9F
    elif b0 == 0xF0:
        need, lo, hi = 3, 0x90, 0xBF
    elif 0xF1 <= b0 <= 0xF3:
        need, lo, hi = 3, 0x80, 0xBF
    elif b0 == 0xF4:
        need, lo, hi = 3, 0x80, 0x8F
    else:
        return False
    if len(tail) > need:
        return False
    if len(tail) >= 2 and not lo <= tail[1] <= hi:
        return False
    for b in tail[2:]:
        if not 0x80 <= b <= 0xBF:
            return False
    return True


class Utf8Validator:
    """Incremental, fail-fast: feed() returns False as soon as the bytes
    seen so far cannot be the start of valid UTF-8; complete() says whether
    they end on a code point boundary."""

    def __init__(self):
        self.pending = b""
        self.ok = True

    def reset(self):
        self.pending = b""
        self.ok = True

    def feed(self, data):
        if not self.ok:
            return False
        if self.pending:
            data = self.pending + bytes(data)
        try:
            _, used = codecs.utf_8_decode(data, "strict", False)
        except UnicodeDecodeError:
            self.ok = False
            return False
        tail = bytes(data[used:])
        if not _prefix_ok(tail):
            self.ok = False
            return False
        self.pending = tail
        return True

    def complete(self):
        return self.ok and not self.pending


def utf8_valid(data):
    v = Utf8Validator()
    return v.feed(data) and v.complete()


# ---------------------------------------------------------------------------
# Frames


class FrameHead:
    __slots__ = ("fin", "rsv", "opcode", "masked", "length", "mask", "minimal", "len_msb")

    def __init__(self, fin, rsv, opcode, masked, length, mask, minimal, len_msb):
        self.fin = fin
        self.rsv = rsv
        self.opcode = opcode
        self.masked = masked
        self.length = length
        self.mask = mask
        self.minimal = minimal
        self.len_msb = len_msb

    def describe(self):
        return "%s%s%s%s len=%d" % (
            OPCODE_NAMES.get(self.opcode, "op%d" % self.opcode),
            "" if self.fin else " fin=0",
            " rsv=%d" % self.rsv if self.rsv else "",
            " masked" if self.masked else "",
            self.length,
        )


class FrameReader:
    """Incremental frame parser.  feed(bytes) returns a list of events:
    ("start", FrameHead), ("data", unmasked bytes), ("end", FrameHead).
    It checks nothing: the Receiver judges what the frames mean."""

    def __init__(self):
        self.buf = bytearray()
        self.head = None
        self.left = 0
        self.offset = 0

    def feed(self, data):
        buf = self.buf
        buf += data
        out = []
        pos = 0
        n = len(buf)
        while True:
            if self.head is None:
                if n - pos < 2:
                    break
                b0 = buf[pos]
                b1 = buf[pos + 1]
                masked = bool(b1 & 0x80)
                l1 = b1 & 0x7F
                need = 2 + (2 if l1 == 126 else 8 if l1 == 127 else 0) + (4 if masked else 0)
                if n - pos < need:
                    break
                i = pos + 2
                minimal = True
                len_msb = False
                if l1 == 126:
                    length = struct.unpack_from("!H", buf, i)[0]
                    minimal = length >= 126
                    i += 2
                elif l1 == 127:
                    length = struct.unpack_from("!Q", buf, i)[0]
                    minimal = length > 0xFFFF
                    len_msb = bool(length >> 63)
                    i += 8
                else:
                    length = l1
                mask = bytes(buf[i : i + 4]) if masked else None
                pos = i + (4 if masked else 0)
                head = FrameHead(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, masked, length, mask, minimal, len_msb)
                out.append(("start", head))
                if length == 0:
                    out.append(("end", head))
                    continue
                if len_msb:
                    # Unusable length: report the header and read no further.
                    self.head = head
                    self.left = 0
                    break
                self.head = head
                self.left = length
                self.offset = 0
            else:
                if self.left == 0:
                    break
                take = min(self.left, n - pos)
                if take <= 0:
                    break
                chunk = bytes(buf[pos : pos + take])
                pos += take
                head = self.head
                if head.masked:
                    chunk = xor_mask(chunk, head.mask, self.offset)
                self.offset += take
                self.left -= take
                out.append(("data", chunk))
                if self.left == 0:
                    out.append(("end", head))
                    self.head = None
        del buf[:pos]
        return out


class Receiver:
    """Strict RFC 6455 receiving side of one endpoint.

    feed(bytes) returns events:
      ("frame", FrameHead, payload_preview)  every frame, when it ends
      ("message", opcode, payload, info)     a whole text or binary message;
                                             info["compressed"] says whether
                                             it came with RSV1 (then "wire":
                                             its compressed size, and "raw":
                                             the compressed payload when
                                             keep_compressed)
      ("ping", payload) / ("pong", payload)
      ("close", code or None, reason bytes, err)
                                             a close frame; err is None, or
                                             (close_code, text) when its
                                             code or reason is invalid
      ("error", close_code, text)            a protocol error: the endpoint
                                             must fail the connection
    After an error (or an invalid close) only ("frame") and ("close")
    events follow, the close frames unchecked (err None).

    expect_masked: True on a server (client frames must be masked), False on
    a client (server frames must not be).  lax: a set of checks to skip, for
    the deliberately broken reference programs only:
      "utf8" "rsv" "opcode" "continuation" "control" "close-code" "mask"
      "inflate-limit" (max_message counts compressed octets)
    max_message: a limit on message size (1009 past it), or None; for a
    compressed message it bounds the inflated size, checked as it inflates.
    inflater: a pmdeflate.Inflater when permessage-deflate is in use: RSV1
    then marks a compressed message (first frame only; on a continuation
    or control frame it is an error, 1002), and compressed data that does
    not inflate fails the connection with 1007.
    """

    def __init__(self, expect_masked, lax=(), max_message=None, preview=32, inflater=None, keep_compressed=False):
        self.expect_masked = expect_masked
        self.lax = set(lax)
        self.max_message = max_message
        self.preview = preview
        self.reader = FrameReader()
        self.failed = False
        self.in_message = False
        self.msg_opcode = None
        self.msg_parts = []
        self.msg_size = 0
        self.utf8 = Utf8Validator()
        self.frame_opcode = None
        self.frame_buf = []
        self.frame_preview = b""
        self.frame_is_control = False
        # permessage-deflate: an Inflater when the extension is in use
        self.inflater = inflater
        self.keep_compressed = keep_compressed
        self.msg_compressed = False
        self.msg_wire = 0
        self.msg_raw = []

    def _error(self, out, code, text):
        if not self.failed:
            self.failed = True
            out.append(("error", code, text))

    def feed(self, data):
        out = []
        for ev in self.reader.feed(data):
            kind = ev[0]
            if kind == "start":
                self._start(ev[1], out)
            elif kind == "data":
                self._data(ev[1], out)
            else:
                self._end(ev[1], out)
        return out

    def _start(self, h, out):
        self.frame_preview = b""
        self.frame_buf = []
        self.frame_is_control = h.opcode >= 8
        if self.failed:
            return
        lax = self.lax
        if h.len_msb:
            return self._error(out, CLOSE_PROTOCOL_ERROR, "64-bit payload length with the most significant bit set")
        if h.rsv and "rsv" not in lax:
            # permessage-deflate gives RSV1 (4 here) a meaning on the first
            # frame of a data message only (RFC 7692 6.1).
            allowed = 4 if self.inflater is not None and h.opcode in (OP_TEXT, OP_BINARY) else 0
            if h.rsv & ~allowed:
                if h.rsv == 4 and self.inflater is not None:
                    where = "a control frame" if h.opcode >= 8 else "a continuation frame" if h.opcode == OP_CONT else "a frame with a reserved opcode"
                    return self._error(out, CLOSE_PROTOCOL_ERROR, "RSV1 (compressed) set on %s" % where)
                return self._error(
                    out,
                    CLOSE_PROTOCOL_ERROR,
                    "RSV bits %d set %s" % (h.rsv, "that permessage-deflate does not define" if self.inflater is not None else "without a negotiated extension"),
                )
        if h.masked != self.expect_masked and "mask" not in lax:
            return self._error(
                out, CLOSE_PROTOCOL_ERROR, "a masked frame from the server" if h.masked else "an unmasked frame from the client"
            )
        if not h.minimal:
            return self._error(out, CLOSE_PROTOCOL_ERROR, "payload length not in its minimal encoding")
        if h.opcode >= 8:
            if h.opcode not in (OP_CLOSE, OP_PING, OP_PONG) and "opcode" not in lax:
                return self._error(out, CLOSE_PROTOCOL_ERROR, "reserved control opcode %d" % h.opcode)
            if not h.fin and "control" not in lax:
                return self._error(out, CLOSE_PROTOCOL_ERROR, "fragmented control frame")
            if h.length > 125 and "control" not in lax:
                return self._error(out, CLOSE_PROTOCOL_ERROR, "control frame payload of %d octets (over 125)" % h.length)
            if h.opcode == OP_CLOSE and h.length == 1 and "close-code" not in lax:
                return self._error(out, CLOSE_PROTOCOL_ERROR, "close frame with a 1-octet payload")
            return
        if h.opcode not in (OP_CONT, OP_TEXT, OP_BINARY) and "opcode" not in lax:
            return self._error(out, CLOSE_PROTOCOL_ERROR, "reserved data opcode %d" % h.opcode)
        if h.opcode == OP_CONT:
            if not self.in_message:
                if "continuation" in lax:
                    return
                return self._error(out, CLOSE_PROTOCOL_ERROR, "continuation frame outside a fragmented message")
        elif h.opcode in (OP_TEXT, OP_BINARY):
            if self.in_message and "continuation" not in lax:
                return self._error(out, CLOSE_PROTOCOL_ERROR, "new data frame inside a fragmented message")
            self.in_message = True
            self.msg_opcode = h.opcode
            self.msg_parts = []
            self.msg_size = 0
            self.utf8.reset()
            self.msg_compressed = bool(h.rsv & 4) and self.inflater is not None
            self.msg_wire = 0
            self.msg_raw = []
            if self.msg_compressed:
                self.inflater.begin()
        if self.msg_compressed and "inflate-limit" in lax:
            # A deliberate mistake: the limit applied to the compressed size.
            if self.max_message is not None and self.msg_wire + h.length > self.max_message:
                return self._error(out, CLOSE_TOO_BIG, "compressed message over the limit of %d" % self.max_message)
        elif self.max_message is not None and self.in_message and not self.msg_compressed and self.msg_size + h.length > self.max_message:
            return self._error(
                out, CLOSE_TOO_BIG, "message of at least %d octets over the limit of %d" % (self.msg_size + h.length, self.max_message)
            )

    def _data(self, chunk, out):
        if len(self.frame_preview) < self.preview:
            self.frame_preview += chunk[: self.preview - len(self.frame_preview)]
        if self.frame_is_control:
            self.frame_buf.append(chunk)
            return
        if self.failed or not self.in_message:
            return
        if self.msg_compressed:
            self.msg_wire += len(chunk)
            if self.keep_compressed:
                self.msg_raw.append(chunk)
            chunk = self._inflate(out, chunk, False)
            if not chunk:
                return
        self._accept(out, chunk)

    def _room(self):
        if self.max_message is None or "inflate-limit" in self.lax:
            return None
        return self.max_message - self.msg_size

    def _inflate(self, out, chunk, last):
        try:
            if last:
                return self.inflater.end(self._room())
            return self.inflater.feed(chunk, self._room())
        except pmdeflate.TooBig:
            self._error(out, CLOSE_TOO_BIG, "compressed message inflates past the limit of %d octets" % self.max_message)
        except pmdeflate.DeflateError as e:
            extra = " (each message must inflate on its own: no context takeover was agreed)" if self.inflater.no_context_takeover else ""
            self._error(out, CLOSE_INVALID_PAYLOAD, "compressed data does not inflate: %s%s" % (e, extra))
        return None

    def _accept(self, out, chunk):
        if self.msg_opcode == OP_TEXT and "utf8" not in self.lax:
            if not self.utf8.feed(chunk):
                return self._error(out, CLOSE_INVALID_PAYLOAD, "invalid UTF-8 in a text message")
        self.msg_parts.append(chunk)
        self.msg_size += len(chunk)

    def _end(self, h, out):
        out.append(("frame", h, self.frame_preview))
        if h.opcode >= 8:
            payload = b"".join(self.frame_buf)
            self.frame_buf = []
            if h.opcode == OP_CLOSE:
                code = None
                reason = b""
                if len(payload) >= 2:
                    code = struct.unpack("!H", payload[:2])[0]
                    reason = payload[2:]
                err = None
                if not self.failed and code is not None:
                    if not close_code_valid(code) and "close-code" not in self.lax:
                        err = (CLOSE_PROTOCOL_ERROR, "invalid close code %d" % code)
                    elif not utf8_valid(reason) and "utf8" not in self.lax:
                        err = (CLOSE_INVALID_PAYLOAD, "close reason is not valid UTF-8")
                    if err:
                        self.failed = True
                out.append(("close", code, reason, err))
                return
            if self.failed:
                return
            elif h.opcode == OP_PING:
                out.append(("ping", payload))
            elif h.opcode == OP_PONG:
                out.append(("pong", payload))
            return
        if self.failed or not self.in_message or not h.fin:
            return
        if h.opcode not in (OP_CONT, OP_TEXT, OP_BINARY):
            return
        info = {"compressed": self.msg_compressed}
        if self.msg_compressed:
            rest = self._inflate(out, None, True)
            if self.failed:
                return
            if rest:
                self._accept(out, rest)
                if self.failed:
                    return
            info["wire"] = self.msg_wire
            if self.keep_compressed:
                info["raw"] = b"".join(self.msg_raw)
                self.msg_raw = []
        if self.msg_opcode == OP_TEXT and "utf8" not in self.lax and not self.utf8.complete():
            return self._error(out, CLOSE_INVALID_PAYLOAD, "text message ends inside a UTF-8 sequence")
        self.in_message = False
        self.msg_compressed = False
        out.append(("message", self.msg_opcode, b"".join(self.msg_parts), info))
        self.msg_parts = []


# ---------------------------------------------------------------------------
# Opening handshake


class HandshakeError(Exception):
    """status: the HTTP status of an answer other than 101, else None."""

    def __init__(self, text, status=None):
        Exception.__init__(self, text)
        self.status = status


def read_head(sock, deadline, limit=HEAD_LIMIT):
    """Reads an HTTP head up to and including the empty line.  Returns
    (head bytes, bytes that followed it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > limit:
            raise HandshakeError("no end of the HTTP head within %d bytes" % limit)
        left = deadline - time.monotonic()
        if left <= 0:
            raise HandshakeError("no complete HTTP head in time (%d bytes: %r)" % (len(data), data[:120]))
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            continue
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError) as e:
            raise HandshakeError("connection reset during the opening handshake (%s)" % e) from None
        if not chunk:
            raise HandshakeError("connection closed during the opening handshake (%d bytes: %r)" % (len(data), data[:120]))
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head, rest


def parse_head(head):
    """(start line, [(lower-case name, value)])."""
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise HandshakeError("malformed header line %r" % line)
        headers.append((name.strip().lower(), value.strip()))
    return lines[0], headers


def header_values(headers, name):
    return [v for n, v in headers if n == name]


def has_token(headers, name, token):
    for v in header_values(headers, name):
        for t in v.split(","):
            if t.strip().lower() == token:
                return True
    return False


def client_handshake(sock, host_header, target, deadline, extra_headers=(), extensions_offered=False):
    """Sends the opening handshake of a client and checks the server's
    answer (RFC 6455 4.1).  Returns (bytes already received past the
    response head, response head text).  With extensions_offered the
    caller judges Sec-WebSocket-Extensions itself."""
    key = new_key()
    req = (
        "GET %s HTTP/1.1\r\n"
        "Host: %s\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Key: %s\r\n"
        "Sec-WebSocket-Version: 13\r\n" % (target, host_header, key)
    )
    for h in extra_headers:
        req += h + "\r\n"
    req += "\r\n"
    sock.sendall(req.encode("latin-1"))
    head, rest = read_head(sock, deadline)
    text = head.decode("latin-1")
    start, headers = parse_head(head)
    parts = start.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise HandshakeError("bad status line %r" % start)
    if parts[1] != "101":
        raise HandshakeError("status %s instead of 101 (%r)" % (parts[1], start), status=parts[1])
    up = header_values(headers, "upgrade")
    if len(up) != 1 or up[0].lower() != "websocket":
        raise HandshakeError("Upgrade header is %r, not websocket" % up)
    if not has_token(headers, "connection", "upgrade"):
        raise HandshakeError("Connection header %r has no upgrade token" % header_values(headers, "connection"))
    acc = header_values(headers, "sec-websocket-accept")
    if acc != [accept_key(key)]:
        raise HandshakeError("Sec-WebSocket-Accept %r, expected %r" % (acc, accept_key(key)))
    if header_values(headers, "sec-websocket-extensions") and not extensions_offered:
        raise HandshakeError("the server chose an extension that was never offered")
    if header_values(headers, "sec-websocket-protocol"):
        raise HandshakeError("the server chose a subprotocol that was never offered")
    return rest, text


def check_client_request(start, headers):
    """The error in a client's opening handshake (RFC 6455 4.2.1), or None.
    Returns (status, text) on error."""
    parts = start.split(" ")
    if len(parts) != 3:
        return 400, "bad request line %r" % start
    method, target, version = parts
    if method != "GET":
        return 405, "method %s, not GET" % method
    if version != "HTTP/1.1":
        return 400, "version %s, not HTTP/1.1" % version
    if len(header_values(headers, "host")) != 1:
        return 400, "no single Host header"
    if not has_token(headers, "upgrade", "websocket"):
        return 400, "no Upgrade: websocket"
    if not has_token(headers, "connection", "upgrade"):
        return 400, "no upgrade token in Connection"
    if header_values(headers, "sec-websocket-version") != ["13"]:
        return 426, "Sec-WebSocket-Version %r, not 13" % header_values(headers, "sec-websocket-version")
    keys = header_values(headers, "sec-websocket-key")
    if len(keys) != 1:
        return 400, "no single Sec-WebSocket-Key"
    try:
        raw = base64.b64decode(keys[0].encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) != 16:
        return 400, "Sec-WebSocket-Key %r is not 16 bytes in base64" % keys[0]
    return None


def response_101(key, extra_headers=()):
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\n" % accept_key(key) + "".join(h + "\r\n" for h in extra_headers) + "\r\n"
    ).encode("latin-1")


def response_error(status, text):
    reason = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 426: "Upgrade Required"}.get(status, "Error")
    body = (text + "\n").encode("utf-8", "replace")
    extra = "Sec-WebSocket-Version: 13\r\n" if status == 426 else ""
    return (
        "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n"
        % (status, reason, len(body), extra)
    ).encode("latin-1") + body


def parse_ws_url(url):
    """ws://host:port/path?query -> (host, port, target)."""
    if not url.startswith("ws://"):
        raise ValueError("only ws:// URLs are supported: %r" % url)
    rest = url[5:]
    hostport, slash, path = rest.partition("/")
    target = "/" + path if slash else "/"
    if hostport.startswith("["):
        host, _, port = hostport[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = hostport.partition(":")
    return host, int(port) if port else 80, target


def linger_close(sock, wait):
    """Orderly end of our side: FIN first, then read and discard until the
    peer closes too (at most `wait` seconds), so that unread bytes never
    turn our close into a reset that could destroy data still in flight."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    deadline = time.monotonic() + wait
    try:
        sock.setblocking(True)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([sock], [], [], left)
            if not r:
                break
            if not sock.recv(65536):
                break
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def abort_close(sock):
    """Close with a reset (SO_LINGER 0)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
