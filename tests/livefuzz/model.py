"""What the server must do with a given byte string, as far as that is
certain: a conservative model of RFC 9112 request framing and of the
server's documented limits (src/http/parser.hpp), used by the fuzzer's
oracle.

analyze(data) walks the bytes as a sequence of requests and returns an
Analysis:
  items   one entry per request it found, in order: (kind, method) where
          kind is
            "ok"    a complete request (head and body): the server must answer
                    it, and the next request starts right after it;
            "end"   the server must answer it (an error it can see for sure,
                    a body it refuses or answers before reading), and nothing
                    after it can be trusted to be a request;
            "open"  the server must answer it, but what it does with the rest
                    is not certain;
            "inc"   not complete and not certainly wrong: the server may wait
                    for more (so no answer is required);
  must    how many answers the server owes before it may wait: the items up
          to the first "inc" (an "end" or "open" item counts and ends it);
  bound   the most final responses the server may send (None when the model
          cannot tell): a request body read as a request shows up as more
          answers than this;
  exact   True when every byte belongs to "ok" items (the connection is at
          a request boundary afterwards, so it can be used again).

The model errs on the side of asking less: where the server could
reasonably wait, it does not demand an answer.
"""
import re

TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

# A byte no request head may contain anywhere (a control other than HTAB, CR
# and LF, or DEL), a LF not after CR, a CR before anything but LF.
CERTAIN_BAD = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|(?<!\r)\n|\r(?=[^\n])")
DIGITS = re.compile(rb"[0-9]+")
HEX = re.compile(rb"[0-9A-Fa-f]+")

# The server's limits (parser_options, chunk_options), with a margin so that
# the model claims a limit error only when it is beyond doubt.
MARGIN = 4
MAX_LINE = 8 * 1024 + MARGIN
MAX_HEAD = 64 * 1024 + MARGIN
MAX_FIELDS = 100 + 1
MAX_CHUNK_LINE = 4 * 1024 + MARGIN
CL_MAX = (1 << 63) - 1


class Analysis:
    __slots__ = ("items", "must", "bound", "exact", "reasons")

    def __init__(self, items, must, bound, exact, reasons):
        self.items = items
        self.must = must
        self.bound = bound
        self.exact = exact
        self.reasons = reasons  # per item: why the model sees it so

    def bodiless(self, i):
        """Whether the answer to request i has no body because the request
        was HEAD: True or False when the server is sure to see the request
        as the model does, None when not."""
        if i >= len(self.items) or any(k != "ok" for k, _ in self.items[:i]):
            return None
        return self.items[i][1] == b"HEAD"

    def __repr__(self):
        return "items=%s must=%d bound=%s exact=%s" % (
            [(k, m.decode("latin-1", "replace"), why) for (k, m), why in zip(self.items, self.reasons)],
            self.must,
            self.bound,
            self.exact,
        )


def _method(data, pos):
    end = pos
    n = len(data)
    while end < n and end - pos < 32 and data[end] in TCHAR:
        end += 1
    return bytes(data[pos:end])


def _bad_byte(region, base):
    """Why region (at offset base of the input) is certainly not a head:
    a text, or None."""
    if region[0] not in TCHAR:
        return "byte 0x%02x at offset %d cannot start a request" % (region[0], base)
    m = CERTAIN_BAD.search(region)
    if m is None:
        return None
    at = base + m.start()
    c = m.group()
    if c == b"\n":
        return "bare LF at offset %d" % at
    if c == b"\r":
        return "CR followed by 0x%02x at offset %d" % (region[m.start() + 1], at)
    return "control byte 0x%02x at offset %d" % (c[0], at)


def _partial_head_certainly_bad(region, base):
    """For a head with no end yet: why the server can already tell it is
    wrong (a bad byte, or a limit passed), or None."""
    why = _bad_byte(region, base)
    if why is not None:
        return why
    lines = region.split(b"\r\n")
    # lines[-1] is the line still being received.
    if len(lines[-1]) >= MAX_LINE:
        return "a line of %d bytes and no end yet" % len(lines[-1])
    if any(len(line) + 2 > MAX_LINE for line in lines[:-1]):
        return "a line over %d bytes" % MAX_LINE
    if len(lines) - 2 > MAX_FIELDS:  # the start line and the partial line
        return "%d field lines" % (len(lines) - 2)
    if len(region) - len(lines[-1]) > MAX_HEAD:
        return "a head over %d bytes" % MAX_HEAD
    return None


def _chunked(data, pos):
    """The item kind of a chunked body starting at pos, where the next
    request starts ("ok" only), and why."""
    n = len(data)
    eol = data.find(b"\r\n", pos)
    if eol < 0:
        return "inc", n, "chunk size line not finished"
    line = data[pos:eol]
    if len(line) + 2 > MAX_CHUNK_LINE:
        return "end", n, "chunk size line over %d bytes" % MAX_CHUNK_LINE
    size_text, semi, ext = line.partition(b";")
    size_text = size_text.rstrip(b" \t")
    if HEX.fullmatch(size_text) is None or len(size_text.lstrip(b"0")) > 16:
        return "end", n, "bad chunk size %r" % size_text[:20]  # 400 at once
    size = int(size_text, 16)
    if size > 0:
        return "end", n, "a chunk of %d bytes where no body is wanted" % size  # 413 at once
    # An extension (or whitespace) on the last chunk: whether it is accepted
    # is the server's grammar, not ours; either way it answers once the
    # trailer section is complete.
    odd = bool(semi) or b" " in line or b"\t" in line
    q = eol + 2
    fields = 0
    while True:
        e = data.find(b"\r\n", q)
        if e < 0:
            return "inc", n, "trailer section not finished"
        if e == q:
            if odd:
                return "open", e + 2, "last chunk with an extension or whitespace"
            return "ok", e + 2, "chunked body complete"
        fields += 1
        trailer = data[q:e]
        if fields > MAX_FIELDS or CERTAIN_BAD.search(trailer) or b":" not in trailer:
            return "open", n, "bad trailer line"
        q = e + 2


def _one(data, pos):
    """(kind, method, next pos, why) for the request starting at pos
    (leading empty lines already skipped)."""
    n = len(data)
    method = _method(data, pos)
    end = data.find(b"\r\n\r\n", pos)
    if end < 0:
        why = _partial_head_certainly_bad(data[pos:], pos)
        if why is not None:
            return "end", method, n, "unfinished head, certainly wrong: " + why
        return "inc", method, n, "unfinished head"
    head = data[pos : end + 2]
    body = end + 4
    why = _bad_byte(head, pos)
    if why is not None:
        return "end", method, n, why  # 400 at once (or at the end of its line)
    lines = head.split(b"\r\n")[:-1]
    if len(lines[0].split(b" ")) != 3:
        return "end", method, n, "request line without exactly two spaces"
    version = lines[0].rsplit(b" ", 1)[-1]
    cl_values = []
    te_values = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            return "end", method, n, "field line without a colon"
        low = name.lower()
        if low == b"content-length":
            cl_values.append(value.strip(b" \t"))
        elif low == b"transfer-encoding":
            te_values.append(value.strip(b" \t"))
    if te_values:
        if cl_values or version != b"HTTP/1.1":
            # Rejected: 400 (or 505 for the version).
            return "end", method, n, "Transfer-Encoding with Content-Length or in %r" % version
        if len(te_values) == 1 and te_values[0].lower() == b"chunked":
            kind, nxt, why = _chunked(data, body)
            return kind, method, nxt, why
        codings = [c.strip(b" \t").lower() for v in te_values for c in v.split(b",")]
        if b"chunked" not in codings:
            # Refused (400/501); the server cannot be waiting for a
            # chunked body.
            return "open", method, n, "Transfer-Encoding without chunked"
        return "inc", method, n, "Transfer-Encoding %r: the server's call" % te_values
    if cl_values:
        parts = [p.strip(b" \t") for v in cl_values for p in v.split(b",")]
        if not all(DIGITS.fullmatch(p) for p in parts) or len(set(int(p) for p in parts)) != 1:
            # Whatever it makes of it, a Content-Length other than 0 gets an
            # answer at once (this server wants no bodies).
            return "open", method, n, "Content-Length %r" % cl_values
        length = int(parts[0])
        if length > CL_MAX:
            return "end", method, n, "Content-Length over 2^63-1"
        if length == 0:
            return "ok", method, body, "complete"
        if body + length > n:
            # Answered at once; the rest is body.
            return "end", method, n, "Content-Length %d, body not all sent" % length
        return "ok", method, body + length, "complete with its body"
    return "ok", method, body, "complete"


def analyze(data):
    data = bytes(data)
    items = []
    reasons = []
    pos = 0
    n = len(data)
    while True:
        while data.startswith(b"\r\n", pos):
            pos += 2
        if pos >= n:
            break
        if data[pos] == 0x0D and pos + 1 == n:
            items.append(("inc", b""))
            reasons.append("a CR alone")
            break
        kind, method, pos, why = _one(data, pos)
        items.append((kind, method))
        reasons.append(why)
        if kind not in ("ok", "open"):
            break
    must = 0
    for kind, _ in items:
        if kind == "inc":
            break
        must += 1
        if kind != "ok":
            break
    exact = all(k == "ok" for k, _ in items)
    bound = None if any(k == "open" for k, _ in items) else len(items)
    return Analysis(items, must, bound, exact, reasons)
