"""The test site and the requests the live fuzzer sends.

Every case is a pure function of (seed, index): generate(seed, index) seeds
its own random.Random with both, so a case can be made again alone from the
two numbers a failure report gives.
"""
import os
import random

from model import analyze

HOSTNAME = b"fuzz.test"
CRLF = b"\r\n"


# ---------------------------------------------------------------- the site


def _blob(n, tag):
    return random.Random("livefuzz-site/%s" % tag).randbytes(n)


INDEX_HTML = (
    b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>livefuzz</title></head>\n"
    b"<body><h1>livefuzz</h1><p>The page the control requests fetch.</p>\n"
    + b"".join(b"<p>line %d of the index</p>\n" % i for i in range(24))
    + b"</body></html>\n"
)

# Relative path -> content.  Directories follow from the paths.
SITE_FILES = {
    "index.html": INDEX_HTML,
    "hello.txt": b"Hello, world!\n",
    "empty.txt": b"",
    "mid.bin": _blob(64 * 1024, "mid"),
    "big.bin": _blob(1 << 20, "big"),
    "two words.txt": b"two words\n",
    "caf\u00e9.txt": "caf\u00e9\n".encode(),
    "style.css": b"body { color: #333 }\n",
    "sub/index.html": b"<!DOCTYPE html>\n<title>sub</title><p>sub index</p>\n",
    "sub/page.txt": b"a page in a subdirectory\n" * 7,
    "sub/deeper/leaf.txt": _blob(3000, "leaf").hex().encode(),
    "noindex/file.txt": b"a directory without an index\n",
}


def make_site(root):
    for rel, data in SITE_FILES.items():
        path = os.path.join(root, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def _pct(s):
    out = []
    for b in s.encode():
        if b in b"/._-~" or (0x30 <= b <= 0x39) or (0x41 <= b <= 0x5A) or (0x61 <= b <= 0x7A):
            out.append(chr(b))
        else:
            out.append("%%%02X" % b)
    return "".join(out).encode()


# Targets whose answer is known exactly: target -> file content, or None for
# 404.
KNOWN_TARGETS = {
    b"/": INDEX_HTML,
    b"/index.html": INDEX_HTML,
    b"/hello.txt": SITE_FILES["hello.txt"],
    b"/empty.txt": b"",
    b"/mid.bin": SITE_FILES["mid.bin"],
    b"/style.css": SITE_FILES["style.css"],
    b"/two%20words.txt": SITE_FILES["two words.txt"],
    _pct("/caf\u00e9.txt"): SITE_FILES["caf\u00e9.txt"],
    b"/sub/": SITE_FILES["sub/index.html"],
    b"/sub/index.html": SITE_FILES["sub/index.html"],
    b"/sub/page.txt": SITE_FILES["sub/page.txt"],
    b"/sub/deeper/leaf.txt": SITE_FILES["sub/deeper/leaf.txt"],
    b"/noindex/file.txt": SITE_FILES["noindex/file.txt"],
    b"/noindex/": None,
    b"/missing": None,
    b"/sub/missing.txt": None,
    b"/index.html/x": None,
}
SMALL_TARGETS = sorted(KNOWN_TARGETS)


# ---------------------------------------------------------------- requests


class Expect:
    """What a valid request must get exactly."""

    __slots__ = ("status", "body", "length")

    def __init__(self, status, body=None, length=None):
        self.status = status
        self.body = body  # bytes to compare, or None
        self.length = length  # Content-Length for HEAD, or None

    def check(self, res):
        if res.status != self.status:
            return "status %d, expected %d" % (res.status, self.status)
        if self.body is not None and res.body != self.body:
            return "body of %d bytes differs from the %d expected (first bytes %r)" % (
                len(res.body),
                len(self.body),
                res.body[:40],
            )
        if self.length is not None:
            cl = res.header(b"content-length")
            if cl != b"%d" % self.length:
                return "Content-Length %r, expected %d" % (cl, self.length)
        return None


class Req:
    """A request in parts, mutated before it is put together."""

    def __init__(self, method=b"GET", target=b"/", version=b"HTTP/1.1", headers=None, body=b""):
        self.method = method
        self.target = target
        self.version = version
        self.headers = [b"Host: " + HOSTNAME] if headers is None else headers
        self.body = body
        self.expect = None

    def bytes(self):
        start = self.method + b" " + self.target
        if self.version is not None:
            start += b" " + self.version
        return start + CRLF + b"".join(h + CRLF for h in self.headers) + CRLF + self.body


def valid_request(rng):
    """A request the server must answer exactly as Expect says."""
    target = rng.choice(SMALL_TARGETS)
    content = KNOWN_TARGETS[target]
    method = rng.choice([b"GET", b"GET", b"GET", b"HEAD"])
    r = Req(method, target)
    if rng.random() < 0.1:
        r.version = b"HTTP/1.0"
        if rng.random() < 0.5:
            r.headers.append(b"Connection: keep-alive")
        if rng.random() < 0.3:
            r.headers = [h for h in r.headers if not h.startswith(b"Host:")]
    if rng.random() < 0.3:
        r.headers.append(rng.choice([b"Accept-Language: en", b"Accept: */*", b"Accept-Encoding: gzip",
                                     b"X-Fuzz: " + b"v" * rng.randrange(1, 200)]))
    if rng.random() < 0.05:
        r.headers.append(b"Connection: close")
    if content is None:
        r.expect = Expect(404)
        return r
    if content and rng.random() < 0.15 and method == b"GET":
        a = rng.randrange(len(content))
        b = rng.randrange(a, len(content))
        r.headers.append(b"Range: bytes=%d-%d" % (a, b))
        r.expect = Expect(206, content[a : b + 1])
        return r
    if method == b"HEAD":
        r.expect = Expect(200, None, len(content))
    else:
        r.expect = Expect(200, content)
    return r


# ---- the parts a mutation draws from

ODD_METHODS = [
    b"POST", b"PUT", b"DELETE", b"OPTIONS", b"TRACE", b"CONNECT", b"PATCH", b"PROPFIND", b"M-SEARCH",
    b"get", b"Get", b"GETT", b"G", b"", b"GE T", b"GET\t", b"G\x00T", b"\xc3\xa9", b"(GET)", b"GET/",
    b"!#$%&'*+-.^_`|~", b"GET\r", b"GET\n", b"\x16\x03\x01", b"PRI",
]

ODD_VERSIONS = [
    b"HTTP/1.0", b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3", b"HTTP/1.2", b"HTTP/9.9", b"http/1.1", b"HTTP/1.1 ",
    b"HTTP/1.01", b"HTTP/1", b"HTTP/", b"HTTP/1.1\x00", b"HTTPS/1.1", b"HTTP/11", b"HTTP/1.1\t", b"HTTP/1.x",
    b"HTTP/1.1" + b"1" * 40, b" HTTP/1.1", b"HTTP /1.1", None,
]

CONTROL = bytes(range(0, 0x20)) + b"\x7f"


def _odd_target(rng):
    base = rng.choice(SMALL_TARGETS + [b"/big.bin", b"/sub", b"/sub/deeper", b"/noindex"])
    pick = rng.randrange(14)
    if pick == 0:  # percent-encode some bytes, either case
        out = bytearray()
        for c in base:
            if c != 0x2F and rng.random() < 0.4:
                out += (b"%%%02x" if rng.random() < 0.5 else b"%%%02X") % c
            else:
                out.append(c)
        return bytes(out)
    if pick == 1:  # bad or dangerous escapes
        return base + rng.choice([b"%", b"%z1", b"%4", b"%%", b"%00", b"%2f", b"%2F..%2F", b"%5c", b"%2e%2e",
                                  b"%252e", b"%c0%ae%c0%ae", b"%ff", b"%0d%0a", b"%20"])
    if pick == 2:  # dot segments
        return rng.choice([b"/../", b"/./index.html", b"/sub/../index.html", b"/sub/./page.txt", b"/..",
                           b"/../../../../etc/passwd", b"/sub/..%2findex.html", b"/.%2e/", b"/sub/.", b"/sub/..",
                           b"/./../sub/", b"/%2e%2e/%2e%2e/etc/passwd", b"/sub/deeper/../../hello.txt", b"/..."])
    if pick == 3:  # long
        n = rng.choice([255, 1024, 4096, 8100, 8180, 8200, 9000, 20000, 70000])
        return b"/" + (b"a" * n if rng.random() < 0.5 else b"sub/" * (n // 4))
    if pick == 4:  # raw NULs and control bytes
        i = rng.randrange(len(base) + 1)
        return base[:i] + bytes([rng.choice(CONTROL)]) + base[i:]
    if pick == 5:  # non-ASCII
        return base + rng.choice(["\u00e9".encode(), b"\xff\xfe", b"\xe9", "\u2603".encode(), b"\xc0\x80",
                                  "caf\u00e9.txt".encode()])
    if pick == 6:  # absolute form
        return rng.choice([b"http://fuzz.test/index.html", b"http://[::1]:80/", b"https://x", b"http://x?y",
                           b"HTTP://FUZZ.TEST/hello.txt", b"http://", b"ftp://x/", b"http://a@b/hello.txt"])
    if pick == 7:
        return rng.choice([b"*", b"", b"index.html", b"?", b"/#frag", b"/index.html?x=1&y=%20", b"/index.html#x",
                           b"\\index.html", b"/sub\\page.txt", b"////index.html", b"/two words.txt", b"/?",
                           b"/index.html?" + b"q" * 3000, b"//", b"/;x", b"/index.html;x"])
    if pick == 8:  # random printable
        return b"/" + bytes(rng.randrange(0x21, 0x7F) for _ in range(rng.randrange(1, 60)))
    if pick == 9:  # random bytes
        return b"/" + rng.randbytes(rng.randrange(1, 40))
    if pick == 10:  # query strings
        return base + b"?" + b"&".join(b"k%d=v%d" % (i, i) for i in range(rng.randrange(1, 50)))
    if pick == 11:  # directories without and with slashes
        return rng.choice([b"/sub", b"/sub/", b"/sub//", b"/sub/deeper", b"/noindex", b"/noindex/", b"/index.html/"])
    if pick == 12:  # upper-case escapes of slashes in the middle
        return b"/sub%2Fpage.txt"
    return base


def _cl_value(rng):
    return rng.choice([b"0", b"5", b"-1", b"+5", b"0x5", b" 5 ", b"5 5", b"", b"99999999999999999999",
                       b"9223372036854775807", b"9223372036854775808", b"00000000005", b"1e3", b"five", b"5, 5",
                       b"5, 6", b"5,", b",5", b"18446744073709551616", b"-0", b"0, 0", b"\t0"])


def _te_value(rng):
    return rng.choice([b"chunked", b"Chunked", b"CHUNKED", b"chunked, chunked", b"gzip, chunked",
                       b"chunked, gzip", b"identity", b"gzip", b"", b" chunked", b"chunked;q=1", b"xchunked",
                       b"chunked,", b",chunked", b"identity, chunked", b"chunked\t"])


def _chunked_body(rng):
    pick = rng.randrange(22)
    return [
        b"0\r\n\r\n",
        b"0;ext=1\r\n\r\n",
        b"0;ext=\"quoted\"\r\n\r\n",
        b"0 ;x\r\n\r\n",
        b"0;\r\n\r\n",
        b"0\r\nX-Trailer: 1\r\n\r\n",
        b"0\r\nbad trailer\r\n\r\n",
        b"0\r\nX-Big: " + b"t" * 17000 + b"\r\n\r\n",
        b"5\r\nhello\r\n0\r\n\r\n",
        b"1\r\nx\r\n0\r\n\r\n",
        b"x\r\n\r\n",
        b"-1\r\n\r\n",
        b"\r\n\r\n",
        b"ffffffffffffffffff\r\n\r\n",
        b"0x5\r\nhello\r\n0\r\n\r\n",
        b" 5\r\nhello\r\n0\r\n\r\n",
        b"5\r\nhelloX0\r\n\r\n",
        b"0\r\n",
        b"0\r\n\r",
        b"0" * 5000 + b"\r\n\r\n",
        b"000\r\n\r\n",
        b"0\n\n",
    ][pick]


def _header_mutation(rng, r):
    """One change to r's header lines (or its framing); returns a note."""
    pick = rng.randrange(30)
    h = r.headers
    if pick == 0:
        h.insert(rng.randrange(len(h) + 1), rng.choice([b" continued", b"\tfolded", b"  "]))
        return "obs-fold"
    if pick == 1:
        h.append(b"X-A: a\rb")
        return "bare CR in a value"
    if pick == 2:
        h.append(rng.choice([b"X-A: 1\nX-B: 2", b"X-A: 1\n", b"\nX-A: 1"]))
        return "bare LF"
    if pick == 3:
        h.append(rng.choice([b"NoColonHere", b"Host fuzz", b"X-A 1"]))
        return "missing colon"
    if pick == 4:
        h.append(rng.choice([b"Host : fuzz", b"X-A\t: 1", b": value", b"X(A): 1", b"X A: 1", b"X\x00A: 1",
                             b"\xc3\xa9: 1", b"X-A:: 1"]))
        return "bad field name"
    if pick == 5:
        n = rng.choice([4000, 8180, 8188, 8192, 8200, 9000, 20000, 70000])
        h.append(b"X-Big: " + b"a" * n)
        return "field value of %d bytes" % n
    if pick == 6:
        n = rng.choice([50, 99, 100, 101, 150, 400])
        h.extend(b"X-N%d: v" % i for i in range(n))
        return "%d more fields" % n
    if pick == 7:
        h.extend([b"X-Fill: " + b"f" * 7900] * 9)
        return "head over 64 KiB"
    if pick == 8:
        c = rng.choice(CONTROL)
        h.append(b"X-Ctl: a" + bytes([c]) + b"b")
        return "control byte 0x%02x in a value" % c
    if pick == 9:
        h.append(b"X-Text: \x80\xff\xc3\xa9 \t ok")
        return "obs-text and HTAB in a value"
    if pick == 10:
        h[:] = [x for x in h if not x.startswith(b"Host:")]
        if rng.random() < 0.5:
            h.append(rng.choice([b"Host:", b"Host: a b", b"Host: [::1]", b"Host: x:99999", b"Host: " + HOSTNAME]))
        return "Host changed"
    if pick in (11, 12, 13):
        v = _cl_value(rng)
        h.append(b"Content-Length: " + v)
        if rng.random() < 0.3:
            h.append(b"Content-Length: " + _cl_value(rng))
        if rng.random() < 0.6:
            r.body = rng.choice([b"hello", b"", b"GET /index.html HTTP/1.1\r\nHost: fuzz.test\r\n\r\n",
                                 b"x" * rng.randrange(1, 3000)])
        return "Content-Length %r" % v
    if pick in (14, 15):
        v = _te_value(rng)
        h.append(b"Transfer-Encoding: " + v)
        if rng.random() < 0.3:
            h.append(b"Content-Length: " + _cl_value(rng))
        if rng.random() < 0.2:
            r.version = b"HTTP/1.0"
        r.body = _chunked_body(rng)
        return "Transfer-Encoding %r" % v
    if pick == 16:
        h.append(rng.choice([b"Transfer_Encoding: chunked", b"Transfer-Encoding : chunked",
                             b"Content_Length: 5", b"Content-Length : 5"]))
        return "framing field look-alike"
    if pick == 17:
        h.append(b"Expect: " + rng.choice([b"100-continue", b"100-Continue", b"200-ok", b""]))
        if rng.random() < 0.5:
            h.append(b"Content-Length: 5")
            r.body = b"hello"
        return "Expect"
    if pick == 18:
        h.append(b"Connection: " + rng.choice([b"close", b"keep-alive", b"Upgrade", b"close, keep-alive",
                                               b"TE", b"", b"CLOSE"]))
        return "Connection"
    if pick in (19, 20):
        h.append(b"Range: " + rng.choice([b"bytes=0-0", b"bytes=-1", b"bytes=5-", b"bytes=0-1,2-3",
                                          b"bytes=99999999999999999999-", b"bytes=a-b", b"pages=1-2",
                                          b"bytes=-0", b"bytes=1-0", b"bytes=0-18446744073709551616",
                                          b"bytes= 0-1", b"bytes=,,0-1,", b"bytes=-99999999999999999999"]))
        return "Range"
    if pick == 21:
        h.append(rng.choice([b"If-None-Match: *", b'If-None-Match: "abc"', b'If-None-Match: W/"x", ,',
                             b"If-None-Match: garbage", b"If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT",
                             b"If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT", b"If-Modified-Since: yesterday",
                             b'If-Range: "nope"', b"If-Range: Sun, 06 Nov 1994 08:49:37 GMT"]))
        return "conditional"
    if pick == 22:
        name = bytes(rng.randrange(0x21, 0x7F) for _ in range(rng.randrange(1, 20)))
        h.append(name + b": " + rng.randbytes(rng.randrange(0, 40)))
        return "random field"
    if pick == 23:
        h.insert(0, h[0] if h else b"Host: " + HOSTNAME)
        return "duplicate first field"
    if pick == 24:
        h.append(b"X-Many: " + b",".join([b"v"] * rng.randrange(1, 2000)))
        return "long list value"
    if pick == 25:
        h.append(b"Content-Length: 5")
        h.append(b"Transfer-Encoding: chunked")
        r.body = b"5\r\nhello\r\n0\r\n\r\n"
        return "Content-Length with Transfer-Encoding"
    if pick == 26:
        h.append(b"Content-Length: 5")
        h.append(b"Content-Length: 6")
        r.body = b"hello!"
        return "duplicate differing Content-Length"
    if pick == 27:
        r.method = rng.choice([b"POST", b"PUT", b"DELETE"])
        r.target = rng.choice([b"/missing", b"/index.html", b"/sub/"])
        inner = b"GET /hello.txt HTTP/1.1\r\nHost: fuzz.test\r\n\r\n"
        if rng.random() < 0.5:
            h.append(b"Content-Length: %d" % len(inner))
            r.body = inner
        else:
            h.append(b"Transfer-Encoding: chunked")
            r.body = b"%x\r\n" % len(inner) + inner + b"\r\n0\r\n\r\n"
        return "body that looks like a request"
    if pick == 28:
        h.append(b"X-Long-Name-" + b"n" * rng.choice([100, 8000, 9000]) + b": 1")
        return "long field name"
    r.body = b"\r\n" * rng.randrange(1, 4) + r.body
    return "extra CRLFs after the head"


def mutated_request(rng):
    """A request built from parts, with 1-3 structural changes."""
    r = valid_request(rng)
    r.expect = None
    notes = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        pick = rng.randrange(10)
        if pick == 0:
            r.method = rng.choice(ODD_METHODS)
            notes.append("method %r" % r.method)
        elif pick in (1, 2, 3):
            r.target = _odd_target(rng)
            notes.append("target %r" % r.target[:60])
        elif pick == 4:
            r.version = rng.choice(ODD_VERSIONS)
            notes.append("version %r" % r.version)
        else:
            notes.append(_header_mutation(rng, r))
    return r, notes


# ---------------------------------------------------------------- byte-level


def byte_mutations(rng, data):
    data = bytearray(data)
    notes = []
    for _ in range(rng.choice([1, 1, 2, 3, 5, 8])):
        if not data:
            data += rng.randbytes(1)
        pick = rng.randrange(6)
        i = rng.randrange(len(data))
        if pick == 0:
            bit = 1 << rng.randrange(8)
            data[i] ^= bit
            notes.append("flip 0x%02x at %d" % (bit, i))
        elif pick == 1:
            data[i] = rng.randrange(256)
            notes.append("set %d" % i)
        elif pick == 2:
            ins = rng.choice([b"\r", b"\n", b"\x00", b" ", b":", b"\r\n", b"\t", b"%", bytes([rng.randrange(256)])])
            data[i:i] = ins
            notes.append("insert %r at %d" % (ins, i))
        elif pick == 3:
            n = rng.randrange(1, 8)
            del data[i : i + n]
            notes.append("delete %d at %d" % (n, i))
        elif pick == 4:
            n = rng.randrange(1, 40)
            data[i:i] = data[i : i + n]
            notes.append("repeat %d at %d" % (n, i))
        else:
            j = rng.randrange(len(data))
            data[i], data[j] = data[j], data[i]
            notes.append("swap %d %d" % (i, j))
    return bytes(data), notes


def garbage(rng):
    pick = rng.randrange(8)
    n = rng.randrange(1, 2000)
    if pick == 0:
        return rng.randbytes(n), "random bytes"
    if pick == 1:
        return bytes(rng.randrange(0x20, 0x7F) for _ in range(n)), "printable, no line end"
    if pick == 2:
        lines = [bytes(rng.randrange(0x20, 0x7F) for _ in range(rng.randrange(0, 80))) for _ in range(rng.randrange(1, 10))]
        return CRLF.join(lines) + CRLF + CRLF, "printable lines"
    if pick == 3:
        return b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + rng.randbytes(64), "a TLS ClientHello"
    if pick == 4:
        return b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + rng.randbytes(rng.randrange(0, 40)), "the HTTP/2 preface"
    if pick == 5:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "a response"
    if pick == 6:
        return b"\r\n" * rng.randrange(1, 3000) + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "many empty lines first"
    return b"GET" + b" " * rng.randrange(1, 100) + b"/ HTTP/1.1\r\n\r\n", "spaces"


# ---------------------------------------------------------------- cases


class Case:
    """One exchange: bytes to send (in parts, with pauses), what to do at
    the end, and what the model says the server must do."""

    def __init__(self, seed, index, kind):
        self.seed = seed
        self.index = index
        self.kind = kind
        self.notes = []
        self.parts = []  # [(pause before, bytes)]
        self.expects = []  # per request: Expect or None
        self.end = "keep"  # keep, fin, close, rst
        self.read_first = True  # close/rst: read the answers owed first
        self.abort_after = None  # read this many response bytes, then end
        self.fresh = False  # needs a new connection
        self.analysis = None
        self.ends = []  # how the connection ended, as it happened
        self.prev_index = None  # the case before it on the same connection

    @property
    def data(self):
        return b"".join(p for _, p in self.parts)

    def describe(self):
        return "case %d (seed %d) %s [%s], %d bytes, end %s%s" % (
            self.index,
            self.seed,
            self.kind,
            "; ".join(self.notes),
            len(self.data),
            self.end,
            "" if self.read_first else " at once",
        )


KINDS = [
    ("valid", 14),
    ("mutated", 22),
    ("pipeline", 9),
    ("chunked", 6),
    ("truncate", 8),
    ("bytes", 12),
    ("dribble", 5),
    ("garbage", 5),
    ("download", 4),
    ("huge", 3),
]


def _pick_kind(rng, only=None):
    kinds = [(k, w) for k, w in KINDS if only is None or k in only]
    total = sum(w for _, w in kinds)
    x = rng.randrange(total)
    for k, w in kinds:
        if x < w:
            return k
        x -= w
    raise AssertionError


def control_case(seed, index):
    c = Case(seed, index, "control")
    c.fresh = True
    r = Req(b"GET", b"/index.html")
    c.parts = [(0.0, r.bytes())]
    c.expects = [Expect(200, INDEX_HTML)]
    c.notes = ["liveness: GET /index.html on a new connection"]
    c.end = "close"
    c.analysis = analyze(c.data)
    return c


def generate(seed, index, control_every=0, only=None):
    """Case `index` of the run with this seed.  only: a set of kind names
    to draw from (the same set gives the same cases again)."""
    if control_every and index % control_every == 0:
        return control_case(seed, index)
    rng = random.Random("livefuzz/%d/%d" % (seed, index))
    kind = _pick_kind(rng, only)
    c = Case(seed, index, kind)
    data = b""
    if kind == "valid":
        r = valid_request(rng)
        data = r.bytes()
        c.expects = [r.expect]
        c.notes.append("%s %s" % (r.method.decode(), r.target.decode("latin-1")))
    elif kind == "mutated":
        r, notes = mutated_request(rng)
        data = r.bytes()
        c.notes += notes
    elif kind == "pipeline":
        n = rng.randrange(2, 7)
        reqs = []
        for _ in range(n):
            if rng.random() < 0.7:
                r = valid_request(rng)
                reqs.append(r)
                c.notes.append("valid")
            else:
                r, notes = mutated_request(rng)
                reqs.append(r)
                c.notes.append("mutated: " + ", ".join(notes))
        data = b""
        framing_sure = True
        for r in reqs:
            if len(data) + len(r.bytes()) > 32 * 1024:
                break
            data += r.bytes()
            # After a mutated request, where the next one starts is the
            # server's reading of the mutation: no exact answers expected.
            c.expects.append(r.expect if framing_sure else None)
            framing_sure = framing_sure and r.expect is not None
        c.notes.insert(0, "%d requests in one write" % len(c.expects))
    elif kind == "chunked":
        r = Req(rng.choice([b"GET", b"GET", b"POST", b"PUT", b"HEAD"]), rng.choice(SMALL_TARGETS))
        r.headers.append(b"Transfer-Encoding: chunked")
        r.body = _chunked_body(rng)
        if rng.random() < 0.3:
            r.body += valid_request(rng).bytes()
        data = r.bytes()
        c.notes.append("%s with chunked body %r" % (r.method.decode(), r.body[:40]))
    elif kind == "truncate":
        if rng.random() < 0.5:
            data = valid_request(rng).bytes()
        else:
            r, notes = mutated_request(rng)
            data = r.bytes()
            c.notes += notes
        cut = rng.randrange(1, max(2, len(data)))
        data = data[:cut]
        c.notes.append("cut at %d" % cut)
    elif kind == "bytes":
        if rng.random() < 0.7:
            base = valid_request(rng).bytes()
        else:
            base = b"".join(valid_request(rng).bytes() for _ in range(rng.randrange(2, 4)))
        data, notes = byte_mutations(rng, base)
        c.notes += notes
    elif kind == "dribble":
        if rng.random() < 0.6:
            r = valid_request(rng)
            data = r.bytes()
            c.expects = [r.expect]
        else:
            r, notes = mutated_request(rng)
            data = r.bytes()
            c.notes += notes
        if len(data) > 4096:
            data = data[:4096]
            c.expects = []
    elif kind == "garbage":
        data, note = garbage(rng)
        c.notes.append(note)
    elif kind == "download":
        pick = rng.randrange(5)
        if pick == 0:
            c.notes.append("GET /big.bin whole")
            data = Req(b"GET", b"/big.bin").bytes()
            c.expects = [Expect(200, SITE_FILES["big.bin"])]
        elif pick == 1:
            c.notes.append("GET /big.bin then ends the connection while it comes")
            data = Req(b"GET", b"/big.bin").bytes()
            c.abort_after = rng.randrange(0, 1 << 19)
        elif pick == 2:
            a = rng.randrange(1 << 20)
            b = rng.randrange(a, 1 << 20)
            c.notes.append("GET /big.bin bytes %d-%d" % (a, b))
            data = Req(b"GET", b"/big.bin", headers=[b"Host: x", b"Range: bytes=%d-%d" % (a, b)]).bytes()
            c.expects = [Expect(206, SITE_FILES["big.bin"][a : b + 1])]
        elif pick == 3:
            c.notes.append("GET /mid.bin twice pipelined, then HEAD /big.bin")
            data = Req(b"GET", b"/mid.bin").bytes() * 2 + Req(b"HEAD", b"/big.bin").bytes()
            c.expects = [Expect(200, SITE_FILES["mid.bin"])] * 2 + [Expect(200, None, 1 << 20)]
        else:
            c.notes.append("GET /big.bin, reads nothing, ends the connection")
            data = Req(b"GET", b"/big.bin").bytes()
            c.abort_after = 0
    elif kind == "huge":
        r = Req(b"GET", b"/index.html")
        pick = rng.randrange(5)
        if pick == 0:
            n = rng.choice([8180, 8188, 8192, 8200, 16384, 100000])
            r.target = b"/" + b"x" * n
            c.notes.append("target of %d bytes" % n)
        elif pick == 1:
            n = rng.choice([8180, 8192, 8200, 30000])
            r.headers.append(b"X-Huge: " + b"h" * n)
            c.notes.append("field of %d bytes" % n)
        elif pick == 2:
            n = rng.choice([99, 100, 101, 1000])
            r.headers += [b"X-F%d: %d" % (i, i) for i in range(n)]
            c.notes.append("%d fields" % n)
        elif pick == 3:
            n = rng.choice([8, 9, 20])
            r.headers += [b"X-Fill: " + b"f" * 8000] * n
            c.notes.append("%d fields of 8000 bytes" % n)
        else:
            n = rng.choice([100, 5000, 9000])
            r.method = b"G" * n
            c.notes.append("method of %d bytes" % n)
        data = r.bytes()

    if kind == "dribble":
        pieces = []
        i = 0
        step_max = max(2, len(data) // 60)
        while i < len(data):
            n = rng.randrange(1, step_max + 1)
            pieces.append((rng.choice([0.0, 0.001, 0.002, 0.005]), data[i : i + n]))
            i += n
        c.parts = pieces
        c.notes.insert(0, "%d pieces" % len(pieces))
    else:
        c.parts = [(0.0, data)]

    c.analysis = analyze(data)
    # How the exchange ends.
    if c.abort_after is not None:
        c.end = rng.choice(["close", "rst"])
    elif kind == "truncate":
        c.end = rng.choice(["fin", "fin", "rst", "rst", "close"])
        c.read_first = rng.random() < 0.5
    elif c.analysis.exact:
        c.end = rng.choice(["keep"] * 11 + ["fin"] * 4 + ["close"] * 2 + ["rst"] * 3)
        c.read_first = c.end in ("keep", "fin") or rng.random() < 0.6
    else:
        c.end = rng.choice(["fin"] * 11 + ["rst"] * 5 + ["close"] * 4)
        c.read_first = c.end == "fin" or rng.random() < 0.6
    return c
