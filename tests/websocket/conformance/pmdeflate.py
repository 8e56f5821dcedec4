"""permessage-deflate (RFC 7692) pieces shared by the conformance suite and
by the reference echo programs:

  * parsing Sec-WebSocket-Extensions (RFC 6455 9.1) and the four
    parameters of permessage-deflate (RFC 7692 7.1), with the rules for
    what an offer may say and what an answer to it must say;
  * the agreement that results, seen from either endpoint: the window and
    the context takeover each direction may use;
  * compressing a message (7.2.1: DEFLATE, sync flush, the trailing
    00 00 ff ff removed) and inflating one (7.2.2: 00 00 ff ff appended),
    with a bound on the inflated size;
  * a DEFLATE walker in pure Python that reports the largest back-reference
    distance of a message.  zlib cannot tell whether a peer kept to the
    window it agreed to: its inflate() only refuses a distance longer than
    the output of the current call plus the window, so a whole message
    inflated in one call passes with any distance it already produced
    (see README.md).  The walker decodes the Huffman codes and checks every
    distance against the agreed window exactly.

Python 3 standard library only.
"""
import zlib

NAME = "permessage-deflate"
TAIL = b"\x00\x00\xff\xff"
SNCT = "server_no_context_takeover"
CNCT = "client_no_context_takeover"
SMWB = "server_max_window_bits"
CMWB = "client_max_window_bits"
KNOWN = (SNCT, CNCT, SMWB, CMWB)
HISTORY = 1 << 15


class NegotiationError(Exception):
    pass


class DeflateError(Exception):
    """Compressed data that cannot be inflated (the connection fails with
    1007)."""

    code = 1007


class TooBig(DeflateError):
    """A message that inflates past the receiver's limit (1009)."""

    code = 1009


# ---------------------------------------------------------------------------
# Sec-WebSocket-Extensions

_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _skip_ows(s, i):
    while i < len(s) and s[i] in " \t":
        i += 1
    return i


def _token(s, i, what):
    j = i
    while j < len(s) and s[j] in _TCHAR:
        j += 1
    if j == i:
        raise NegotiationError("expected %s at offset %d of %r" % (what, i, s))
    return s[i:j], j


def _quoted(s, i):
    # s[i] is the opening quote
    out = []
    i += 1
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s):
                break
            out.append(s[i + 1])
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise NegotiationError("unterminated quoted string in %r" % s)


def parse_extensions(values):
    """Header values -> [(extension name, [(param, value or None)])].
    Follows RFC 6455 9.1: a comma-separated list of extensions, each a
    token followed by ';'-separated parameters, a value being a token or a
    quoted string whose content is a token.  Empty list elements are
    skipped.  Raises NegotiationError when the syntax is broken."""
    out = []
    for s in values:
        i = 0
        n = len(s)
        while True:
            i = _skip_ows(s, i)
            if i >= n:
                break
            if s[i] == ",":
                i += 1
                continue
            name, i = _token(s, i, "an extension name")
            params = []
            while True:
                i = _skip_ows(s, i)
                if i >= n or s[i] == ",":
                    break
                if s[i] != ";":
                    raise NegotiationError("expected ';' or ',' at offset %d of %r" % (i, s))
                i = _skip_ows(s, i + 1)
                pname, i = _token(s, i, "a parameter name")
                i = _skip_ows(s, i)
                value = None
                if i < n and s[i] == "=":
                    i = _skip_ows(s, i + 1)
                    if i < n and s[i] == '"':
                        value, i = _quoted(s, i)
                        if not value or any(c not in _TCHAR for c in value):
                            raise NegotiationError("quoted value %r of %s is not a token" % (value, pname))
                    else:
                        value, i = _token(s, i, "a parameter value")
                params.append((pname, value))
            out.append((name, params))
    return out


def format_extension(name, params):
    parts = [name]
    for p, v in params:
        parts.append(p if v is None else "%s=%s" % (p, v))
    return "; ".join(parts)


# ---------------------------------------------------------------------------
# Parameters


def _bits(name, value):
    # "a decimal integer value without leading zeroes between 8 to 15"
    if value not in ("8", "9", "10", "11", "12", "13", "14", "15"):
        raise NegotiationError("%s=%s is not a window size of 8 to 15 bits" % (name, value))
    return int(value)


class Params:
    """The permessage-deflate parameters of one offer or one answer.
    cmwb is None, True (in an offer: present without a value) or 8..15."""

    __slots__ = ("snct", "cnct", "smwb", "cmwb")

    def __init__(self, snct=False, cnct=False, smwb=None, cmwb=None):
        self.snct = snct
        self.cnct = cnct
        self.smwb = smwb
        self.cmwb = cmwb

    def pairs(self):
        out = []
        if self.snct:
            out.append((SNCT, None))
        if self.cnct:
            out.append((CNCT, None))
        if self.smwb is not None:
            out.append((SMWB, str(self.smwb)))
        if self.cmwb is True:
            out.append((CMWB, None))
        elif self.cmwb is not None:
            out.append((CMWB, str(self.cmwb)))
        return out

    def text(self):
        return format_extension(NAME, self.pairs())

    def __repr__(self):
        return "Params(%s)" % self.text()


def parse_params(pairs, answer):
    """The parameters of one permessage-deflate element; raises
    NegotiationError for what RFC 7692 7.1 makes invalid: an unknown
    parameter, one given twice, a value on a parameter that has none, a
    window size that is not 8 to 15 written without leading zeros, and (in
    an answer) client_max_window_bits without a value."""
    p = Params()
    seen = set()
    for name, value in pairs:
        if name in seen:
            raise NegotiationError("parameter %s given twice" % name)
        seen.add(name)
        if name in (SNCT, CNCT):
            if value is not None:
                raise NegotiationError("%s takes no value (got %r)" % (name, value))
            if name == SNCT:
                p.snct = True
            else:
                p.cnct = True
        elif name == SMWB:
            if value is None:
                raise NegotiationError("%s needs a value" % name)
            p.smwb = _bits(name, value)
        elif name == CMWB:
            if value is None:
                if answer:
                    raise NegotiationError("%s needs a value in an answer" % name)
                p.cmwb = True
            else:
                p.cmwb = _bits(name, value)
        else:
            raise NegotiationError("unknown parameter %s" % name)
    return p


def answer_problem(offer, answer):
    """None if `answer` (Params) is a legal answer to `offer` (Params)
    under RFC 7692 7.1, else why not."""
    if offer.snct and not answer.snct:
        return "the offer has %s, so an answer must include it" % SNCT
    if offer.smwb is not None:
        if answer.smwb is None:
            return "the offer has %s=%d, so an answer must include it" % (SMWB, offer.smwb)
        if answer.smwb > offer.smwb:
            return "%s=%d is more than the %d the offer allows" % (SMWB, answer.smwb, offer.smwb)
    if answer.cmwb is not None and offer.cmwb is None:
        return "%s in an answer to an offer without it" % CMWB
    return None


class Agreement:
    """What one connection agreed, from the point of view of one endpoint:
    the window (bits) and context takeover of what it sends (own) and of
    what it receives (peer)."""

    def __init__(self, own_window, own_nct, peer_window, peer_nct, offer_text="", answer_text=""):
        self.own_window = own_window
        self.own_nct = own_nct
        self.peer_window = peer_window
        self.peer_nct = peer_nct
        self.offer_text = offer_text
        self.answer_text = answer_text

    def report(self):
        return {
            "offer": self.offer_text,
            "answer": self.answer_text,
            "peer": {"window_bits": self.peer_window, "no_context_takeover": self.peer_nct},
            "suite": {"window_bits": self.own_window, "no_context_takeover": self.own_nct},
        }

    def describe(self):
        def side(w, n):
            return "window %d bits%s" % (w, ", no context takeover" if n else "")

        return "peer: %s; us: %s" % (side(self.peer_window, self.peer_nct), side(self.own_window, self.own_nct))


def agreed(offer, answer, is_server):
    """The Agreement of an offer and its (legal) answer, for the server
    (is_server) or for the client.  A client that offered
    client_no_context_takeover or client_max_window_bits=N keeps to it
    even when the answer does not repeat it (7.1.1.2, 7.1.2.2)."""
    offered = offer.cmwb if isinstance(offer.cmwb, int) and not isinstance(offer.cmwb, bool) else 15
    client_window = min(answer.cmwb or 15, offered)
    client_nct = answer.cnct or offer.cnct
    server_window = answer.smwb or 15
    server_nct = answer.snct
    if is_server:
        return Agreement(server_window, server_nct, client_window, client_nct, offer.text(), answer.text())
    return Agreement(client_window, client_nct, server_window, server_nct, offer.text(), answer.text())


def pmd_offers(values):
    """The permessage-deflate offers of a request: [(text, Params or the
    NegotiationError that makes it invalid)], plus the names of the other
    extensions offered.  Raises NegotiationError on broken syntax."""
    offers = []
    others = []
    for name, pairs in parse_extensions(values):
        if name.lower() != NAME:
            others.append(name)
            continue
        text = format_extension(name, pairs)
        try:
            offers.append((text, parse_params(pairs, answer=False)))
        except NegotiationError as e:
            offers.append((text, e))
    return offers, others


def judge_answer(offer_values, answer_values):
    """The client's judgement of a server's Sec-WebSocket-Extensions, given
    what it offered: ("declined", None, text), ("accepted", Agreement for
    the client, text) or ("illegal", None, why).  Offers that are invalid
    themselves had to be declined, so no answer can accept them."""
    if not answer_values:
        return "declined", None, "no Sec-WebSocket-Extensions in the answer"
    try:
        offers, _ = pmd_offers(offer_values)
        elements = parse_extensions(answer_values)
    except NegotiationError as e:
        return "illegal", None, "malformed Sec-WebSocket-Extensions: %s" % e
    text = ", ".join(answer_values)
    if not elements:
        return "declined", None, "an empty Sec-WebSocket-Extensions"
    names = [n for n, _ in elements]
    if any(n.lower() != NAME for n in names):
        return "illegal", None, "the answer names an extension that was not offered (%s)" % ", ".join(n for n in names if n.lower() != NAME)
    if len(elements) > 1:
        return "illegal", None, "the answer accepts %s %d times" % (NAME, len(elements))
    try:
        answer = parse_params(elements[0][1], answer=True)
    except NegotiationError as e:
        return "illegal", None, "%s (in %r)" % (e, text)
    valid = [(t, p) for t, p in offers if isinstance(p, Params)]
    if not valid:
        bad = "; ".join("%r: %s" % (t, p) for t, p in offers)
        return "illegal", None, "it accepts an offer that had to be declined (%s)" % (bad or "nothing was offered")
    problems = []
    for t, offer in valid:
        why = answer_problem(offer, answer)
        if why is None:
            return "accepted", agreed(offer, answer, is_server=False), text
        problems.append("against %r: %s" % (t, why))
    return "illegal", None, "%r answers none of the offers (%s)" % (text, "; ".join(problems))


# ---------------------------------------------------------------------------
# Compressing and inflating


class Deflater:
    """Compresses the messages one endpoint sends (RFC 7692 7.2.1).
    window_bits 8 cannot be had from zlib's raw deflate: stored blocks are
    sent then, which contain no back-references at all."""

    def __init__(self, window_bits=15, no_context_takeover=False, level=6, keep_tail=False):
        self.window_bits = window_bits
        self.no_context_takeover = no_context_takeover
        self.level = level if window_bits >= 9 else 0
        self.keep_tail = keep_tail
        self.c = None

    def _new(self):
        return zlib.compressobj(self.level, zlib.DEFLATED, -max(9, self.window_bits))

    def compress(self, data):
        if self.c is None or self.no_context_takeover:
            self.c = self._new()
        out = self.c.compress(data) + self.c.flush(zlib.Z_SYNC_FLUSH)
        if not self.keep_tail and out.endswith(TAIL):
            out = out[:-4]
        return out


class Inflater:
    """Inflates the messages one endpoint receives (RFC 7692 7.2.2):
    begin(), feed(chunk, room) for each piece of compressed payload, then
    end(room).  room bounds the octets this call may produce (None: no
    bound); past it TooBig is raised, without inflating further.

    With context takeover one zlib stream spans the connection.  A message
    that ends its stream with a BFINAL block (7.2.3.4) is followed by a new
    stream primed with the last 32 KiB of output, so that a sender who
    keeps its window still refers to the right octets."""

    def __init__(self, no_context_takeover=False, append_tail=True):
        self.no_context_takeover = no_context_takeover
        self.append_tail = append_tail
        self.d = None
        self.history = b""

    def begin(self):
        if self.d is None or self.no_context_takeover:
            self.d = zlib.decompressobj(-15)
        elif self.d.eof:
            self.d = zlib.decompressobj(-15, zdict=self.history) if self.history else zlib.decompressobj(-15)

    def feed(self, chunk, room=None):
        d = self.d
        if d.eof or not chunk:
            return b""
        try:
            if room is None:
                out = d.decompress(chunk)
            else:
                out = d.decompress(chunk, room + 1)
                if len(out) > room or d.unconsumed_tail:
                    raise TooBig("the message inflates past the limit")
        except zlib.error as e:
            raise DeflateError(str(e).replace("Error -3 while decompressing data: ", "")) from None
        if out and not self.no_context_takeover:
            self.history = (self.history + out)[-HISTORY:] if len(out) < HISTORY else out[-HISTORY:]
        return out

    def end(self, room=None):
        if not self.append_tail:
            return b""
        return self.feed(TAIL, room)


# ---------------------------------------------------------------------------
# The DEFLATE walker

_LEN_BASE = (3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258)
_LEN_EXTRA = (0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0)
_DIST_BASE = (
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
    1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
)
_DIST_EXTRA = (0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13)
_CL_ORDER = (16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15)
_FAST = 9
_FAST_MASK = (1 << _FAST) - 1
_LONG = (-1, 0)


def _reverse(code, length):
    r = 0
    for _ in range(length):
        r = (r << 1) | (code & 1)
        code >>= 1
    return r


def _huffman(lengths):
    """A canonical Huffman code (RFC 1951 3.2.2) as (fast, slow): fast maps
    the next 9 input bits to (symbol, length), or to _LONG for a longer
    code, which slow maps by (length, bits)."""
    count = [0] * 16
    for n in lengths:
        count[n] += 1
    count[0] = 0
    left = 1
    for n in range(1, 16):
        left = (left << 1) - count[n]
        if left < 0:
            raise DeflateError("over-subscribed Huffman code")
    code = 0
    nxt = [0] * 16
    for n in range(1, 16):
        code = (code + count[n - 1]) << 1
        nxt[n] = code
    fast = [None] * (1 << _FAST)
    slow = {}
    for sym, n in enumerate(lengths):
        if not n:
            continue
        rev = _reverse(nxt[n], n)
        nxt[n] += 1
        if n <= _FAST:
            entry = (sym, n)
            for i in range(rev, 1 << _FAST, 1 << n):
                fast[i] = entry
        else:
            slow[(n, rev)] = sym
            fast[rev & _FAST_MASK] = _LONG
    return fast, slow


_FIXED = None


def _fixed():
    global _FIXED
    if _FIXED is None:
        lit = [8] * 144 + [9] * 112 + [7] * 24 + [8] * 8
        _FIXED = (_huffman(lit), _huffman([5] * 30))
    return _FIXED


class Walk:
    __slots__ = ("max_distance", "output", "symbols", "blocks", "final")

    def __init__(self):
        self.max_distance = 0
        self.output = 0
        self.symbols = 0
        self.blocks = 0
        self.final = False


def walk(data):
    """Walks the DEFLATE blocks of `data` (a compressed payload with
    00 00 ff ff appended) without producing output: returns a Walk with the
    largest back-reference distance, the octets it inflates to, and the
    counts of symbols and blocks.  Ends after a BFINAL block.  Raises
    DeflateError on anything malformed or cut short."""
    res = Walk()
    n = len(data)
    pos = 0
    buf = 0
    cnt = 0
    out = 0
    maxd = 0
    symbols = 0
    lb, le, db, de = _LEN_BASE, _LEN_EXTRA, _DIST_BASE, _DIST_EXTRA

    def short():
        return DeflateError("the compressed data ends inside a block")

    while True:
        if pos >= n and cnt < 8:
            if cnt and buf:
                raise DeflateError("stray bits after the last block")
            break
        while cnt < 32 and pos < n:
            buf |= data[pos] << cnt
            pos += 1
            cnt += 8
        if cnt < 3:
            raise short()
        final = buf & 1
        btype = (buf >> 1) & 3
        buf >>= 3
        cnt -= 3
        res.blocks += 1
        if btype == 0:
            drop = cnt & 7
            buf >>= drop
            cnt -= drop
            while cnt < 32 and pos < n:
                buf |= data[pos] << cnt
                pos += 1
                cnt += 8
            if cnt < 32:
                raise short()
            length = buf & 0xFFFF
            if (buf >> 16) & 0xFFFF != length ^ 0xFFFF:
                raise DeflateError("stored block lengths do not match")
            buf >>= 32
            cnt -= 32
            inbuf = min(length, cnt >> 3)
            buf >>= inbuf * 8
            cnt -= inbuf * 8
            rest = length - inbuf
            if pos + rest > n:
                raise short()
            pos += rest
            out += length
        elif btype == 3:
            raise DeflateError("reserved block type 3")
        else:
            if btype == 1:
                (lfast, lslow), (dfast, dslow) = _fixed()
            else:
                # The code lengths of a dynamic block (RFC 1951 3.2.7).
                while cnt < 32 and pos < n:
                    buf |= data[pos] << cnt
                    pos += 1
                    cnt += 8
                if cnt < 14:
                    raise short()
                hlit = (buf & 31) + 257
                hdist = ((buf >> 5) & 31) + 1
                hclen = ((buf >> 10) & 15) + 4
                buf >>= 14
                cnt -= 14
                if hlit > 286 or hdist > 30:
                    raise DeflateError("too many length or distance codes")
                cl = [0] * 19
                for i in range(hclen):
                    while cnt < 3 and pos < n:
                        buf |= data[pos] << cnt
                        pos += 1
                        cnt += 8
                    if cnt < 3:
                        raise short()
                    cl[_CL_ORDER[i]] = buf & 7
                    buf >>= 3
                    cnt -= 3
                cfast, cslow = _huffman(cl)
                lengths = []
                total = hlit + hdist
                while len(lengths) < total:
                    while cnt < 32 and pos < n:
                        buf |= data[pos] << cnt
                        pos += 1
                        cnt += 8
                    e = cfast[buf & _FAST_MASK]
                    if e is None or e is _LONG or e[1] > cnt:
                        raise DeflateError("invalid code-length code")
                    sym, k = e
                    buf >>= k
                    cnt -= k
                    if sym < 16:
                        lengths.append(sym)
                        continue
                    if sym == 16:
                        if not lengths:
                            raise DeflateError("repeat with no previous length")
                        val, extra, base = lengths[-1], 2, 3
                    elif sym == 17:
                        val, extra, base = 0, 3, 3
                    else:
                        val, extra, base = 0, 7, 11
                    if cnt < extra:
                        raise short()
                    rep = base + (buf & ((1 << extra) - 1))
                    buf >>= extra
                    cnt -= extra
                    lengths.extend([val] * rep)
                if len(lengths) > total:
                    raise DeflateError("code lengths overrun")
                if lengths[256] == 0:
                    raise DeflateError("no end-of-block code")
                lfast, lslow = _huffman(lengths[:hlit])
                dfast, dslow = _huffman(lengths[hlit:])
            # Symbols up to the end of the block.
            while True:
                if cnt < 32:
                    if pos + 4 <= n:
                        buf |= int.from_bytes(data[pos : pos + 4], "little") << cnt
                        pos += 4
                        cnt += 32
                    else:
                        while cnt < 32 and pos < n:
                            buf |= data[pos] << cnt
                            pos += 1
                            cnt += 8
                e = lfast[buf & _FAST_MASK]
                if e is None:
                    raise DeflateError("invalid literal/length code")
                sym, k = e
                if sym < 0:
                    for k in range(_FAST + 1, 16):
                        sym = lslow.get((k, buf & ((1 << k) - 1)))
                        if sym is not None:
                            break
                    else:
                        raise DeflateError("invalid literal/length code")
                if k > cnt:
                    raise short()
                buf >>= k
                cnt -= k
                symbols += 1
                if sym < 256:
                    out += 1
                    continue
                if sym == 256:
                    break
                sym -= 257
                if sym >= 29:
                    raise DeflateError("invalid length symbol %d" % (sym + 257))
                k = le[sym]
                length = lb[sym] + (buf & ((1 << k) - 1))
                buf >>= k
                cnt -= k
                if cnt < 32:
                    if pos + 4 <= n:
                        buf |= int.from_bytes(data[pos : pos + 4], "little") << cnt
                        pos += 4
                        cnt += 32
                    else:
                        while cnt < 32 and pos < n:
                            buf |= data[pos] << cnt
                            pos += 1
                            cnt += 8
                e = dfast[buf & _FAST_MASK]
                if e is None:
                    raise DeflateError("invalid distance code")
                sym, k = e
                if sym < 0:
                    for k in range(_FAST + 1, 16):
                        sym = dslow.get((k, buf & ((1 << k) - 1)))
                        if sym is not None:
                            break
                    else:
                        raise DeflateError("invalid distance code")
                if sym >= 30:
                    raise DeflateError("invalid distance symbol %d" % sym)
                buf >>= k
                cnt -= k
                k = de[sym]
                if k > cnt:
                    raise short()
                dist = db[sym] + (buf & ((1 << k) - 1))
                buf >>= k
                cnt -= k
                if dist > maxd:
                    maxd = dist
                out += length
        if final:
            res.final = True
            break
    res.max_distance = maxd
    res.output = out
    res.symbols = symbols
    return res
