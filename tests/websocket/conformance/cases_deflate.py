"""Groups 12 and 13 of the catalogue: permessage-deflate (RFC 7692).

Group 12 echoes compressed traffic under the plain offer, in Autobahn's
structure: 12.1 to 12.5 are five kinds of data, each in Autobahn's 18 steps
of message size (16 octets to 128 KiB, one frame per message, then the
compressed octets split into frames of 256 octets to 32 KiB), many messages
in a row so that context takeover is exercised; 12.6 (ours) holds edge
cases of the compressed framing and the errors a strict peer must catch.

Group 13 runs the same kind of traffic under negotiated parameters: 13.1 to
13.7 are Autobahn's seven parameter sets (each over the 18 steps, with
JSON-like text as Autobahn uses); 13.8 to 13.10 (ours) sweep the window
sizes of each direction; 13.11 (server mode only) holds offers a server
must decline or must read right; 13.12 (client mode only) answers a client
must refuse or must read right.

In server mode the suite is the client and offers; in client mode it is the
server and answers the client's offer.  A Spec names what a case asks of
the peer under test (its no_context_takeover and window) and of the suite
itself, and turns into an offer or an answer as the mode needs.

What each case sends and expects follows Autobahn's case list where
Autobahn has the case; the wording, the data and the code are ours.
"""
import random
import struct
import zlib

import pmdeflate as pd
import wsproto as wp
from cases import BINARY, CLOSE, CONT, KOSME, PING, PONG, TEXT, bmsg, close_normal, msg, peer_fails, pong, size_text
from fuzzer import FAILED, OK, UNIMPLEMENTED

PROBE = b"Hello, uncompressed world!"


# ---------------------------------------------------------------- negotiation
class Spec:
    """What a case asks for: peer_nct / peer_window bind the peer under test,
    own_nct / own_window bind the suite.  As an offer (server mode, the peer
    is the server) these become server_* and client_* parameters; as an
    answer (client mode, the peer is the client) client_* and server_*."""

    def __init__(self, peer_nct=False, peer_window=None, own_nct=False, own_window=None):
        self.peer_nct = peer_nct
        self.peer_window = peer_window
        self.own_nct = own_nct
        self.own_window = own_window

    def offer(self):
        return pd.Params(
            snct=self.peer_nct,
            smwb=self.peer_window,
            cnct=self.own_nct,
            cmwb=self.own_window if self.own_window else True,
        )

    def answer(self, offer):
        """An answer to a client's offer (Params) giving what this Spec asks
        for and whatever the offer requires, or None when the offer does not
        allow it (client_max_window_bits needs the client to offer it)."""
        cmwb = None
        if self.peer_window:
            if offer.cmwb is None:
                return None
            cmwb = self.peer_window if offer.cmwb is True else min(self.peer_window, offer.cmwb)
        windows = [w for w in (self.own_window, offer.smwb) if w]
        return pd.Params(snct=self.own_nct or offer.snct, cnct=self.peer_nct, smwb=min(windows) if windows else None, cmwb=cmwb)

    def describe(self):
        parts = []
        if self.peer_nct:
            parts.append("the peer without context takeover")
        if self.peer_window:
            parts.append("the peer's window at %d bits" % self.peer_window)
        if self.own_nct:
            parts.append("the suite without context takeover")
        if self.own_window:
            parts.append("the suite's window at %d bits" % self.own_window)
        return ", ".join(parts) or "no parameters"


class Negotiation:
    """How a case's opening handshake treats permessage-deflate.

    specs      the Specs, in order: one offer each (server mode, all in one
               header); the answers tried against the client's offers
               (client mode: the first Spec any offer allows wins)
    offers     server mode: the Sec-WebSocket-Extensions values to send
               instead (one header line each)
    answer     client mode: the answer to send instead, whatever was
               offered; answer_legal says whether it is a legal one
    required   under --deflate, a decline fails the case (else a decline
               is UNIMPLEMENTED, as in Autobahn)
    none       no offer (server mode) and no answer (client mode)
    refusal    server mode: a server that refuses the whole opening
               handshake (no 101) is NON-STRICT rather than FAILED (for
               invalid offers, which it had to decline anyway)
    """

    def __init__(self, specs=(), offers=None, answer=None, answer_legal=False, required=False, none=False, refusal=False):
        self.specs = list(specs)
        self.offers = offers
        self.answer = answer
        self.answer_legal = answer_legal
        self.required = required
        self.none = none
        self.refusal = refusal

    def offer_values(self):
        if self.none:
            return []
        if self.offers is not None:
            return list(self.offers)
        return [", ".join(s.offer().text() for s in self.specs)]

    def answer_for(self, offers):
        """Client mode: offers are the client's valid permessage-deflate
        offers [(text, Params)].  Returns (answer value or None, the
        Agreement for the suite or None, a note for the report)."""
        if self.none:
            return None, None, "the case declines any extension"
        if self.answer is not None:
            if not self.answer_legal:
                return self.answer, None, "an answer the client must refuse"
            elements = pd.parse_extensions([self.answer])
            answer = pd.parse_params(elements[0][1], answer=True)
            for text, offer in offers:
                if pd.answer_problem(offer, answer) is None:
                    return self.answer, pd.agreed(offer, answer, is_server=True), "answers the offer %r" % text
            if not offers:
                return None, None, "the client offered no permessage-deflate"
            return None, None, "no offer of the client allows the answer %r" % self.answer
        if not offers:
            return None, None, "the client offered no permessage-deflate"
        for spec in self.specs:
            for text, offer in offers:
                a = spec.answer(offer)
                if a is not None:
                    return a.text(), pd.agreed(offer, a, is_server=True), "answers the offer %r" % text
        return None, None, "no offer of the client allows what the case asks (%s): client_max_window_bits was not offered" % "; ".join(
            s.describe() for s in self.specs
        )

    def describe(self):
        if self.none:
            return "no permessage-deflate offered or accepted"
        if self.offers is not None:
            return "the suite offers %s" % " and ".join(repr(o) for o in self.offers)
        if self.answer is not None:
            return "the suite answers %r" % self.answer
        if len(self.specs) == 1:
            s = self.specs[0]
            return "server mode: the suite offers %r; client mode: it answers with %s" % (s.offer().text(), s.describe())
        return "server mode: the suite offers %s; client mode: it answers with the first of (%s) the client's offers allow" % (
            repr(", ".join(s.offer().text() for s in self.specs)),
            "; ".join(s.describe() for s in self.specs),
        )


# ---------------------------------------------------------------- data
CORPUS_SIZE = 256 << 10
_corpora = {}

NAMES = [
    "Ada", "Zoë", "Łukasz", "Ørsted", "Δημήτρης", "Мария", "Jürgen", "Siobhán", "Nguyễn", "Ahmed",
    "Ines", "Kofi", "Priya", "Chen", "Olu", "Ragnhild", "Tomás", "Yuki", "さくら", "민준",
]
WORDS = (
    "alpha beta gamma delta epsilon signal socket frame window stream message channel buffer server "
    "client handshake payload deflate inflate context takeover offer answer latency request response "
    "header status upgrade version token close ping pong text binary fragment final reserved mask"
).split()
SCRIPTS = [
    (0x61, 0x7A),  # Latin small letters
    (0xE0, 0xFF),  # Latin-1 letters
    (0x3B1, 0x3C9),  # Greek
    (0x430, 0x44F),  # Cyrillic
    (0x5D0, 0x5EA),  # Hebrew
    (0x4E00, 0x4FFF),  # CJK ideographs
    (0x1F600, 0x1F64F),  # emoticons (4-octet UTF-8)
]


def _json_corpus(rnd):
    out = []
    n = 0
    i = 0
    while n < CORPUS_SIZE:
        i += 1
        rec = '{"id": %d, "user": "%s", "email": "%s%d@example.org", "tags": [%s], "score": %.3f, "active": %s, "note": "%s"}' % (
            100000 + rnd.randrange(900000),
            rnd.choice(NAMES),
            rnd.choice(WORDS),
            rnd.randrange(1000),
            ", ".join('"%s"' % rnd.choice(WORDS) for _ in range(rnd.randint(0, 4))),
            rnd.random() * 1000,
            rnd.choice(("true", "false")),
            " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 12))),
        )
        out.append(rec)
        n += len(rec.encode("utf-8")) + 2
    return ("[" + ",\n".join(out) + "]").encode("utf-8")


def _utf8_corpus(rnd):
    out = []
    n = 0
    while n < CORPUS_SIZE:
        lo, hi = rnd.choice(SCRIPTS)
        word = "".join(chr(rnd.randint(lo, hi)) for _ in range(rnd.randint(1, 8)))
        sep = rnd.choice((" ", " ", " ", ", ", ". ", "\n"))
        piece = word + sep
        out.append(piece)
        n += len(piece.encode("utf-8"))
    return "".join(out).encode("utf-8")


def _html_corpus(rnd):
    out = []
    n = 0
    while n < CORPUS_SIZE:
        k = rnd.randrange(1000)
        text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 15)))
        piece = (
            '<div class="item item-%d"><h3 id="h%d">%s</h3><p>%s <a href="/%s/%d.html">%s</a></p>'
            "<ul><li>%s</li><li>%s</li></ul></div>\n"
            % (k % 7, k, rnd.choice(WORDS).title(), text, rnd.choice(WORDS), k, rnd.choice(NAMES), rnd.choice(WORDS), rnd.choice(WORDS))
        )
        out.append(piece)
        n += len(piece.encode("utf-8"))
    return "".join(out).encode("utf-8")


def _records_corpus(rnd):
    out = bytearray()
    t = 1700000000
    seq = 0
    value = 1000.0
    while len(out) < CORPUS_SIZE:
        seq += 1
        t += rnd.randint(1, 3)
        value += rnd.uniform(-1, 1)
        out += struct.pack("<IIQdHH16s", 0x4E4E4748, seq, t, value, rnd.randrange(16), 0, rnd.choice(WORDS).encode().ljust(16, b"\0"))
        if rnd.random() < 0.02:
            out += b"\0" * rnd.randint(16, 200)
    return bytes(out)


GENERATORS = {
    "json": (_json_corpus, 1201),
    "random": (lambda rnd: rnd.randbytes(CORPUS_SIZE), 1202),
    "utf8": (_utf8_corpus, 1203),
    "html": (_html_corpus, 1204),
    "records": (_records_corpus, 1205),
}


def corpus(kind):
    if kind not in _corpora:
        gen, seed = GENERATORS[kind]
        _corpora[kind] = gen(random.Random(seed))
    return _corpora[kind]


def _valid_utf8(piece):
    """Cuts a broken UTF-8 sequence off the end and pads with spaces to the
    same length (the piece starts on a code point)."""
    try:
        piece.decode("utf-8")
        return piece
    except UnicodeDecodeError as e:
        return piece[: e.start] + b" " * (len(piece) - e.start)


def messages(kind, text, size, count):
    """count consecutive slices of size octets of a corpus, wrapping around
    (as Autobahn walks through its data files)."""
    return slices(kind, text, [size] * count)


def slices(kind, text, sizes):
    """Consecutive slices of a corpus, one per size; text slices start on a
    code point and stay valid UTF-8."""
    data = corpus(kind)
    n = len(data)
    out = []
    pos = 0
    for size in sizes:
        if text:
            while data[pos % n] & 0xC0 == 0x80:
                pos += 1
        start = pos % n
        piece = data[start : start + size]
        while len(piece) < size:
            piece += data[: size - len(piece)]
        if text:
            piece = _valid_utf8(piece)
        out.append(piece)
        pos = start + size
    return out


# Autobahn's steps: (message size, frame size of the compressed octets, 0 =
# one frame), the wait Autobahn gives each
STEPS = [
    (16, 0, 60), (64, 0, 60), (256, 0, 120), (1024, 0, 240), (4096, 0, 480), (8192, 0, 480),
    (16384, 0, 480), (32768, 0, 480), (65536, 0, 480), (131072, 0, 480),
    (8192, 256, 480), (16384, 256, 480), (32768, 256, 480), (65536, 256, 480), (131072, 256, 480),
    (131072, 1024, 480), (131072, 4096, 480), (131072, 32768, 480),
]
VOLUME = 2 << 20  # octets per case at --load 1 (Autobahn: 1000 messages whatever their size)
MIN_COUNT = 4


def message_count(size, load):
    most = max(MIN_COUNT, int(round(1000 * load)))
    return max(MIN_COUNT, min(most, int(VOLUME * load) // size))


# ---------------------------------------------------------------- scripts
def declined(f, required):
    """permessage-deflate was not agreed: the case cannot run.  Autobahn
    reports UNIMPLEMENTED; under --deflate a case the peer had to accept
    fails."""
    f.expect((OK, []))
    close_normal(f)
    f.send_close(wp.CLOSE_NORMAL)
    f.kill_after(1)
    why = (f.negotiation or {}).get("note", "")

    def post(f):
        if f.behavior != OK:
            return
        if required and f.opts.deflate:
            f.behavior = FAILED
            f.result = "permessage-deflate was not agreed (%s), but --deflate says the peer supports it and this offer is one it must accept." % why
        else:
            f.behavior = UNIMPLEMENTED
            f.result = "permessage-deflate was not agreed (%s): nothing to test (Autobahn: UNIMPLEMENTED)." % why

    f.post_hook = post


def deflate_summary(f):
    s = f.pmd_stats
    text = "%d echo%s compressed, %d not" % (s["compressed"], "" if s["compressed"] == 1 else "es", s["uncompressed"])
    if f.pmd is not None and f.pmd.peer_window < 15:
        text += "; window check on %d (largest distance %d, limit %d)" % (s["walked"], s["max_distance"], 1 << f.pmd.peer_window)
        if s["not_walked"]:
            text += ", %d left unchecked (budget)" % s["not_walked"]
    return text


def traffic(f, payloads, binary, frag, waitsecs, required):
    """Sends each payload compressed (the compressed octets in frames of
    frag, one frame if 0) once the previous echo is in; every echo must
    equal what was sent, octet for octet."""
    if f.pmd is None:
        return declined(f, required)
    opts = f.opts
    total = len(payloads)
    wait = min(waitsecs, max(1.0, opts.timeout - 2.0))
    f.behavior = FAILED
    f.result = "Not all %d echoes within %.0f s." % (total, wait * opts.scale)
    close_normal(f)
    f.gap = 0.0
    state = {"i": 0}
    f.send_message(payloads[0], binary, frag or None, compress=True)

    def on_message(p, is_binary):
        i = state["i"]
        want = payloads[i]
        if is_binary != binary or p != want:
            if is_binary != binary:
                what = "a %s message, not %s" % ("binary" if is_binary else "text", "binary" if binary else "text")
            elif len(p) != len(want):
                what = "%d octets instead of %d" % (len(p), len(want))
            else:
                at = next(k for k in range(len(p)) if p[k] != want[k])
                what = "the right length, but different from octet %d on" % at
            f.result = "Echo %d of %d differs from what was sent: %s." % (i + 1, total, what)
            f.send_close(wp.CLOSE_NORMAL)
            return
        i += 1
        state["i"] = i
        if i < total:
            f.send_message(payloads[i], binary, frag or None, compress=True)
        else:
            f.behavior = OK
            f.result = "All %d echoes came back intact." % total
            f.send_close(wp.CLOSE_NORMAL)

    f.message_hook = on_message
    f.close_after(wait)

    def post(f):
        if f.behavior == OK or f.pmd is not None:
            f.result = f.result.rstrip(".") + " (%s)." % deflate_summary(f)
        if f.behavior == FAILED and not f.closed_by_me and f.remote_close_seen:
            f.result += " The peer closed the connection with %s after %d echoes." % (f.remote_close_code, state["i"])

    f.post_hook = post


def plain_probe(f):
    """No extension was agreed (as the case needs): a plain text message
    must still be echoed."""
    f.expect((OK, [msg(PROBE)]))
    close_normal(f)
    f.send_message(PROBE)
    f.kill_after(2)


def must_refuse(f):
    """Client mode: the answer was illegal; the client must fail the
    connection (drop it, or send a close) and echo nothing."""
    f.expect((OK, []))
    f.expect_close(False, [wp.CLOSE_PROTOCOL_ERROR, wp.CLOSE_MANDATORY_EXT], False, wrong_endpoint_fatal=True)
    f.send_message(PROBE)
    f.kill_after(2)


def mixed_payloads(load):
    rounds = max(1, int(round(8 * load)))
    return slices("json", True, [128, 2048, 16384, 65536] * rounds)


def mixed_traffic(required=False):
    def script(f):
        traffic(f, mixed_payloads(f.opts.load), False, 4096, 60, required)

    return script


def mixed_text(load):
    rounds = max(1, int(round(8 * load)))
    return "%d JSON-like text messages cycling through 128 octets, 2 KiB, 16 KiB and 64 KiB, compressed, in frames of 4096 compressed octets, each sent when the previous echo arrived" % (
        4 * rounds
    )


TRAFFIC_EXPECTATION = "Every message is echoed intact (inflated and compared octet for octet), within what was agreed; then a clean close with 1000. A decline is UNIMPLEMENTED (FAILED under --deflate where marked)."


# ---------------------------------------------------------------- group 12
DATA = [
    ("json", False, "JSON-like text records"),
    ("random", True, "random octets, which do not compress"),
    ("utf8", False, "random words in seven scripts, with 1- to 4-octet UTF-8 code points"),
    ("html", False, "HTML-like markup"),
    ("records", True, "binary records that differ a little from one to the next"),
]


def steps_cases(cat, sub, kind, binary, what, negotiation):
    load = cat.opts.load
    for i, (size, frag, waitsecs) in enumerate(STEPS, 1):
        count = message_count(size, load)

        def script(f, size=size, frag=frag, waitsecs=waitsecs, count=count):
            traffic(f, messages(kind, not binary, size, count), binary, frag, waitsecs, negotiation.required)

        desc = "%d %s messages of %s (%s), compressed, %s; each sent when the previous echo arrived%s. Negotiation: %s." % (
            count,
            "binary" if binary else "text",
            size_text(size),
            what,
            "each in one frame" if not frag else "the compressed octets split into frames of %s" % size_text(frag),
            "" if count == 1000 else " (Autobahn: 1000; --load %g)" % load,
            negotiation.describe(),
        )
        cat.add("%s.%d" % (sub, i), desc, TRAFFIC_EXPECTATION, script, negotiation=negotiation)


def group12(cat):
    plain = Negotiation([Spec()], required=True)
    for j, (kind, binary, what) in enumerate(DATA, 1):
        steps_cases(cat, "12.%d" % j, kind, binary, what, plain)
    group12_6(cat, plain)


HELLO = b"Hello"
HELLO_FIXED = bytes.fromhex("f248cdc9c90700")  # RFC 7692 7.2.3.1
HELLO_AGAIN = bytes.fromhex("f200110000")  # 7.2.3.2: the same, referring to the first
HELLO_STORED = bytes.fromhex("000500faff48656c6c6f00")  # 7.2.3.3
HELLO_BFINAL = bytes.fromhex("f348cdc9c9070000")  # 7.2.3.4
HELLO_TWO_BLOCKS = bytes.fromhex("f24805000000ffffcac9c90700")  # 7.2.3.5


def compressed(data, zdict=None):
    """A compressed payload made on its own (not with the fuzzer's own
    context), for cases that send exactly one compressed message."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15, zdict=zdict) if zdict else zlib.compressobj(6, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


def group12_6(cat, plain):
    sub = "12.6"
    n = [0]

    def add(desc, exp, script, negotiation=plain, heavy=False):
        n[0] += 1
        cat.add("%s.%d" % (sub, n[0]), desc, exp, script, heavy=heavy, negotiation=negotiation)

    def needs(script):
        """Wraps a script that needs permessage-deflate agreed."""

        def run(f):
            if f.pmd is None:
                return declined(f, plain.required)
            script(f)

        return run

    def echo_raw(frames, expected, binary=False):
        def script(f):
            f.expect((OK, list(expected)))
            close_normal(f)
            for op, payload, fin, rsv in frames:
                f.send_frame(op, payload, fin=fin, rsv=rsv)
            f.kill_after(2)

        return needs(script)

    add(
        "A compressed empty text message whose payload is the single octet 0x00 (RFC 7692 7.2.3.6).",
        "An empty text message comes back; then a clean close with 1000.",
        echo_raw([(TEXT, b"\x00", True, 4)], [msg(b"")]),
    )
    add(
        "A compressed empty binary message whose payload is 0x02 0x00: a fixed-Huffman block holding only its end code.",
        "An empty binary message comes back; then a clean close with 1000.",
        echo_raw([(BINARY, b"\x02\x00", True, 4)], [bmsg(b"")]),
    )
    add(
        "'Hello' compressed as in RFC 7692 7.2.3.1, in two frames: 0xf2 0x48 0xcd (RSV1) and 0xc9 0xc9 0x07 0x00 (continuation).",
        "'Hello' comes back; then a clean close with 1000.",
        echo_raw([(TEXT, HELLO_FIXED[:3], False, 4), (CONT, HELLO_FIXED[3:], True, 0)], [msg(HELLO)]),
    )

    def s_again(f):
        f.expect((OK, [msg(HELLO), msg(HELLO)]))
        close_normal(f)
        f.send_frame(TEXT, HELLO_FIXED, rsv=4)
        # The second message refers to the first (7.2.3.2) unless the peer
        # asked us not to use context takeover.
        f.send_frame(TEXT, HELLO_FIXED if f.pmd.own_nct else HELLO_AGAIN, rsv=4)
        f.kill_after(2)

    add(
        "'Hello' twice, compressed; the second payload (0xf2 0x00 0x11 0x00 0x00, RFC 7692 7.2.3.2) copies the first "
        "message from the shared window (sent self-contained if the peer asked the suite to use no context takeover).",
        "'Hello' comes back twice; then a clean close with 1000.",
        needs(s_again),
    )
    add(
        "'Hello' in a DEFLATE block with no compression (RFC 7692 7.2.3.3): 0x00 0x05 0x00 0xfa 0xff 'Hello' 0x00.",
        "'Hello' comes back; then a clean close with 1000.",
        echo_raw([(TEXT, HELLO_STORED, True, 4)], [msg(HELLO)]),
    )
    add(
        "'Hello' in a DEFLATE block with BFINAL set, then an octet holding an empty block's header (RFC 7692 7.2.3.4): "
        "0xf3 0x48 0xcd 0xc9 0xc9 0x07 0x00 0x00. The only message of the connection.",
        "'Hello' comes back; then a clean close with 1000.",
        echo_raw([(TEXT, HELLO_BFINAL, True, 4)], [msg(HELLO)]),
    )
    add(
        "'Hello' in two DEFLATE blocks in one message (RFC 7692 7.2.3.5): 'He' then 'llo'.",
        "'Hello' comes back; then a clean close with 1000.",
        echo_raw([(TEXT, HELLO_TWO_BLOCKS, True, 4)], [msg(HELLO)]),
    )

    def s_empty_first(f):
        payload = messages("json", True, 2048, 1)[0]
        data = f.deflater.compress(payload)
        f.expect((OK, [msg(payload)]))
        close_normal(f)
        half = len(data) // 2
        f.send_frame(TEXT, b"", fin=False, rsv=4)
        f.send_frame(CONT, data[:half], fin=False)
        f.send_frame(CONT, data[half:], fin=True)
        f.kill_after(2)

    add(
        "A 2 KiB compressed text message whose first frame (RSV1) is empty; the compressed octets follow in two continuation frames.",
        "The message is echoed intact; then a clean close with 1000.",
        needs(s_empty_first),
    )

    def s_empty_last(f):
        payload = messages("json", True, 2048, 1)[0]
        data = f.deflater.compress(payload)
        f.expect((OK, [msg(payload)]))
        close_normal(f)
        pieces = [data[i : i + 100] for i in range(0, len(data), 100)]
        for k, p in enumerate(pieces):
            f.send_frame(TEXT if k == 0 else CONT, p, fin=False, rsv=4 if k == 0 else 0)
        f.send_frame(CONT, b"", fin=True)
        f.kill_after(2)

    add(
        "A 2 KiB compressed text message in frames of 100 compressed octets, ended by an empty continuation frame.",
        "The message is echoed intact; then a clean close with 1000.",
        needs(s_empty_last),
    )

    def s_octets(f):
        payload = messages("json", True, 300, 1)[0]
        f.expect((OK, [msg(payload)]))
        close_normal(f)
        f.send_message(payload, frag=1, compress=True)
        f.kill_after(4)

    add(
        "A 300-octet compressed text message in frames of one compressed octet each.",
        "The message is echoed intact; then a clean close with 1000.",
        needs(s_octets),
    )

    def s_ping(f):
        payload = messages("json", True, 1024, 1)[0]
        data = f.deflater.compress(payload)
        f.expect((OK, [pong(b"between"), msg(payload)]))
        close_normal(f)
        f.send_frame(TEXT, data[:10], fin=False, rsv=4)
        f.send_frame(PING, b"between")
        f.send_frame(CONT, data[10:], fin=True)
        f.kill_after(2)

    add(
        "A 1 KiB compressed text message in two frames with a ping between them.",
        "The pong (without RSV1) comes first, then the message intact; then a clean close with 1000.",
        needs(s_ping),
    )

    def s_mixed(f):
        texts = messages("json", True, 500, 3)
        bins = messages("records", False, 500, 3)
        f.expect((OK, [msg(texts[0]), bmsg(bins[0]), msg(texts[1]), bmsg(bins[1]), msg(texts[2]), bmsg(bins[2])]))
        close_normal(f)
        f.send_message(texts[0], compress=True)
        f.send_message(bins[0], binary=True)
        f.send_message(texts[1])
        f.send_message(bins[1], binary=True, compress=True)
        f.send_message(texts[2], compress=True)
        f.send_message(bins[2], binary=True)
        f.kill_after(2)

    add(
        "Six 500-octet messages, text and binary in turn, some compressed (RSV1) and some not (RSV1 clear, RFC 7692 6): "
        "compressed, plain, plain, compressed, compressed, plain.",
        "All six are echoed intact and in order (the peer may compress its echoes or not); then a clean close with 1000.",
        needs(s_mixed),
    )

    def s_bad_utf8(f):
        f.expect((OK, []))
        peer_fails(f, wp.CLOSE_INVALID_PAYLOAD, fatal=True)
        f.send_message(KOSME + b"\xed\xa0\x80edited", compress=True)
        f.kill_after(1)

    add(
        "A compressed text message that inflates to invalid UTF-8 (a UTF-16 surrogate after 11 valid octets).",
        "The peer fails the connection (1007). Not failing it fails the case.",
        needs(s_bad_utf8),
    )

    def rsv_error(send):
        def script(f):
            f.expect((OK, []))
            peer_fails(f)
            send(f)
            f.kill_after(1)

        return needs(script)

    def rsv1_cont_compressed(f):
        data = f.deflater.compress(messages("json", True, 1024, 1)[0])
        f.send_frame(TEXT, data[:20], fin=False, rsv=4)
        f.send_frame(CONT, data[20:], fin=True, rsv=4)

    add(
        "A compressed text message in two frames, RSV1 set on the continuation frame too.",
        "The peer fails the connection at once (1002): RSV1 belongs on the first frame only (RFC 7692 6.1).",
        rsv_error(rsv1_cont_compressed),
    )
    add(
        "An uncompressed text message in two frames, the first without RSV1 and the continuation with it.",
        "The peer fails the connection at once (1002): RSV1 on a continuation frame (RFC 7692 6.1).",
        rsv_error(lambda f: (f.send_frame(TEXT, b"fragment1", fin=False), f.send_frame(CONT, b"fragment2", fin=True, rsv=4))),
    )
    add(
        "A ping with RSV1 set.",
        "The peer fails the connection at once (1002) and sends no pong: control frames never carry RSV1 (RFC 7692 6.1).",
        rsv_error(lambda f: f.send_frame(PING, b"compressed?", rsv=4)),
    )
    add(
        "A pong with RSV1 set.",
        "The peer fails the connection at once (1002).",
        rsv_error(lambda f: f.send_frame(PONG, b"compressed?", rsv=4)),
    )
    add(
        "A close frame (1000) with RSV1 set.",
        "The peer fails the connection at once (1002).",
        rsv_error(lambda f: f.send_frame(CLOSE, wp.close_payload(wp.CLOSE_NORMAL), rsv=4)),
    )
    add(
        "A compressed text message with RSV1 and RSV2 set (RSV = 6).",
        "The peer fails the connection at once (1002): permessage-deflate defines RSV1 only.",
        rsv_error(lambda f: f.send_frame(TEXT, HELLO_FIXED, rsv=6)),
    )

    def inflate_error(payload):
        def script(f):
            f.expect((OK, []))
            peer_fails(f, [wp.CLOSE_INVALID_PAYLOAD, wp.CLOSE_PROTOCOL_ERROR], fatal=True)
            f.send_frame(TEXT, payload, rsv=4)
            f.kill_after(1)

        return needs(script)

    add(
        "A compressed text message whose DEFLATE data is a block of the reserved type 3 (payload 0x06 0x00).",
        "The peer fails the connection: the data cannot be inflated. RFC 7692 names no close code; 1007 (what node's ws "
        "sends) and 1002 (what Python's websockets sends) are both accepted. Not failing it fails the case.",
        inflate_error(b"\x06\x00"),
    )
    primed = b"the suite primed its compressor with text the peer never saw; "
    add(
        "A compressed text message, the first of the connection, whose DEFLATE data refers back into text the peer never "
        "received (compressed with a preset dictionary).",
        "The peer fails the connection: the distance reaches before the start of its window. 1007 and 1002 are accepted. "
        "Not failing it fails the case.",
        inflate_error(compressed(primed, zdict=primed * 4)),
    )

    limit = cat.opts.peer_max_message
    load = cat.opts.load
    ratio_unit = b"nng-http permessage-deflate "

    def at_limit(f, size):
        payload = (ratio_unit * (size // len(ratio_unit) + 1))[:size]
        f.behavior = FAILED
        f.result = "No intact echo."
        close_normal(f)
        f.gap = 0.0

        def on_message(p, is_binary):
            if p == payload and not is_binary:
                f.behavior = OK
                f.result = "The %d octets came back intact." % size
            else:
                f.result = "The echo differs (%d octets)." % len(p)
            f.send_close(wp.CLOSE_NORMAL)

        f.message_hook = on_message
        f.send_message(payload, frag=65536, compress=True)
        f.close_after(max(5.0, f.opts.timeout - 2.0))

        def post(f):
            if f.behavior == FAILED and f.remote_close_code == wp.CLOSE_TOO_BIG:
                f.result = "The peer refused the message with 1009 although it inflates to %d octets%s." % (
                    size,
                    ", its declared limit" if limit else " and no limit was declared (--peer-max-message)",
                )

        f.post_hook = post

    if limit:
        size_ok = limit
        desc_ok = "A text message of %d octets (--peer-max-message) compressed to about a thousandth of that." % limit
    else:
        size_ok = max(1024, int(round((16 << 20) * load)))
        desc_ok = "A text message of %s compressed to about a thousandth of that (no --peer-max-message declared; 16 MiB times --load)." % size_text(size_ok)
    add(desc_ok, "The message is echoed intact; then a clean close with 1000.", needs(lambda f: at_limit(f, size_ok)), heavy=True)

    def over_limit(f):
        if not limit:
            f.expect((OK, []))
            close_normal(f)
            f.send_close(wp.CLOSE_NORMAL)
            f.kill_after(1)

            def post(f):
                if f.behavior == OK:
                    f.behavior = UNIMPLEMENTED
                    f.result = "No limit declared (--peer-max-message): nothing to test."

            f.post_hook = post
            return
        size = limit + 1
        payload = (ratio_unit * (size // len(ratio_unit) + 1))[:size]
        f.expect((OK, []))
        peer_fails(f, wp.CLOSE_TOO_BIG, fatal=True)
        f.send_message(payload, frag=65536, compress=True)
        f.kill_after(max(2.0, f.opts.timeout / 2.0))

    add(
        "A text message compressed to about a thousandth of its size that inflates to one octet over the limit declared "
        "with --peer-max-message (UNIMPLEMENTED without it).",
        "The peer fails the connection with 1009 (as it inflates, without holding the whole message); echoing it fails the case.",
        needs(over_limit),
        heavy=True,
    )

    def s_no_ext(f):
        f.expect((OK, []))
        peer_fails(f)
        f.send_frame(TEXT, HELLO_FIXED, rsv=4)
        f.kill_after(1)

    add(
        "A valid compressed 'Hello' (RSV1) on a connection where permessage-deflate was neither offered (server mode) nor "
        "accepted (client mode).",
        "The peer fails the connection at once (1002): RSV1 without a negotiated extension (as in 3.4).",
        s_no_ext,
        negotiation=Negotiation(none=True),
    )


# ---------------------------------------------------------------- group 13
AUTOBAHN_SETS = [
    ([Spec()], True),
    ([Spec(peer_nct=True)], False),
    ([Spec(peer_window=9)], False),
    ([Spec(peer_window=15)], False),
    ([Spec(peer_nct=True, peer_window=9)], False),
    ([Spec(peer_nct=True, peer_window=15)], False),
    ([Spec(peer_nct=True, peer_window=9), Spec(peer_nct=True), Spec()], False),
]


def group13(cat):
    load = cat.opts.load
    for j, (specs, required) in enumerate(AUTOBAHN_SETS, 1):
        steps_cases(cat, "13.%d" % j, "json", False, "JSON-like text records", Negotiation(specs, required=required))

    def sweep(sub, specs_list):
        for i, spec in enumerate(specs_list, 1):
            neg = Negotiation([spec])
            cat.add(
                "%s.%d" % (sub, i),
                "%s. Negotiation: %s." % (mixed_text(load), neg.describe()),
                TRAFFIC_EXPECTATION,
                mixed_traffic(),
                negotiation=neg,
            )

    sweep("13.8", [Spec(peer_window=w) for w in range(9, 16)])
    sweep("13.9", [Spec(own_nct=True)] + [Spec(own_window=w) for w in range(9, 16)] + [Spec(own_nct=True, own_window=9)])
    sweep(
        "13.10",
        [
            Spec(peer_nct=True, own_nct=True),
            Spec(peer_window=9, own_window=9),
            Spec(peer_nct=True, peer_window=9, own_nct=True, own_window=9),
            Spec(peer_window=10, own_window=14),
        ],
    )
    group13_11(cat)
    group13_12(cat)


MUST_DECLINE = [
    ("permessage-deflate; unknown_parameter", "an unknown parameter"),
    ("permessage-deflate; server_no_context_takeover=1", "a value on server_no_context_takeover, which takes none"),
    ("permessage-deflate; server_max_window_bits=16", "server_max_window_bits=16 (the range is 8 to 15)"),
    ("permessage-deflate; server_max_window_bits=7", "server_max_window_bits=7 (the range is 8 to 15)"),
    ("permessage-deflate; server_max_window_bits", "server_max_window_bits without a value"),
    ("permessage-deflate; server_max_window_bits=010", "server_max_window_bits=010 (a leading zero)"),
    ("permessage-deflate; client_max_window_bits=16", "client_max_window_bits=16 (the range is 8 to 15)"),
    ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", "server_no_context_takeover twice"),
]


def group13_11(cat):
    load = cat.opts.load
    n = 0
    for offer, what in MUST_DECLINE:
        n += 1
        cat.add(
            "13.11.%d" % n,
            "The suite offers only %r: %s." % (offer, what),
            "The server declines the offer (RFC 7692 7.1: it MUST) by answering 101 without Sec-WebSocket-Extensions; "
            "a plain text message is then echoed. Accepting the offer fails the case; refusing the whole opening "
            "handshake is NON-STRICT.",
            plain_probe,
            negotiation=Negotiation(offers=[offer], refusal=True),
            modes=("server",),
        )
    legal = [
        (
            ["x-nnghttp-unknown; level=1, permessage-deflate; client_max_window_bits"],
            "an unknown extension, then the plain offer, in one header",
        ),
        (['permessage-deflate; server_max_window_bits="10"; client_max_window_bits'], 'server_max_window_bits with the quoted value "10" (RFC 6455 9.1 allows it)'),
        (
            ["permessage-deflate; server_max_window_bits=10", "permessage-deflate; client_max_window_bits"],
            "two offers in two Sec-WebSocket-Extensions header lines",
        ),
        (
            ["permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits"],
            "server_max_window_bits=8 (which zlib's deflate cannot honour), then the plain offer",
        ),
        (
            ["permessage-deflate ;server_no_context_takeover ;  client_max_window_bits"],
            "the parameters with unusual but legal whitespace around the semicolons",
        ),
    ]
    for offers, what in legal:
        n += 1
        neg = Negotiation(offers=offers)
        cat.add(
            "13.11.%d" % n,
            "The suite offers %s: %s. Then %s." % (" and ".join(repr(o) for o in offers), what, mixed_text(load)),
            "The answer is legal for one of the offers (declining them all is UNIMPLEMENTED; refusing the whole opening "
            "handshake fails the case: an offer it cannot honour must be declined, RFC 7692 7.1); every message is echoed "
            "intact within what was agreed; then a clean close with 1000.",
            mixed_traffic(),
            negotiation=neg,
            modes=("server",),
        )


MUST_REFUSE = [
    ("permessage-deflate; unknown_parameter", "an unknown parameter"),
    ("permessage-deflate; server_no_context_takeover=1", "a value on server_no_context_takeover"),
    ("permessage-deflate; server_max_window_bits=16", "server_max_window_bits=16"),
    ("permessage-deflate; server_max_window_bits", "server_max_window_bits without a value"),
    ("permessage-deflate; server_max_window_bits=010", "server_max_window_bits=010 (a leading zero)"),
    ("permessage-deflate; client_max_window_bits", "client_max_window_bits without a value, which an answer must give"),
    ("permessage-deflate; client_max_window_bits=7", "client_max_window_bits=7"),
    ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", "server_no_context_takeover twice"),
    ("permessage-deflate, permessage-deflate", "permessage-deflate accepted twice"),
    ("x-nnghttp-unknown", "an extension the client did not offer"),
]


def group13_12(cat):
    load = cat.opts.load
    n = 0
    for answer, what in MUST_REFUSE:
        n += 1
        cat.add(
            "13.12.%d" % n,
            "The suite answers the client's offer with %r: %s. Then it sends a plain text message." % (answer, what),
            "The client fails the connection (RFC 6455 4.1, RFC 7692 7.1): it drops the TCP connection or sends a close "
            "(1002 or 1010), and echoes nothing. Using the connection fails the case.",
            must_refuse,
            negotiation=Negotiation(answer=answer),
            modes=("client",),
        )
    legal = [
        ('permessage-deflate; server_max_window_bits="10"', 'server_max_window_bits with the quoted value "10"'),
        ("permessage-deflate; server_max_window_bits=8", "server_max_window_bits=8 (the suite then sends stored blocks)"),
        ("permessage-deflate ; server_no_context_takeover", "unusual but legal whitespace"),
    ]
    for answer, what in legal:
        n += 1
        cat.add(
            "13.12.%d" % n,
            "The suite answers with %r: %s. Then %s." % (answer, what, mixed_text(load)),
            "The client accepts the legal answer; every message is echoed intact; then a clean close with 1000. "
            "UNIMPLEMENTED if the client's offer does not allow this answer.",
            mixed_traffic(),
            negotiation=Negotiation(answer=answer, answer_legal=True),
            modes=("client",),
        )
