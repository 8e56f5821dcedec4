"""The case catalogue: groups 1 to 7, 9 and 10 of Autobahn|Testsuite's
WebSocket cases, with Autobahn's ids so that results can be compared
(Autobahn has no group 8).  Groups 12 and 13, permessage-deflate, live in
cases_deflate.py and are built only when asked for (Options.groups).

Each case is a script run by a fuzzer.Fuzzer `f` once the connection is
open: it states the acceptable event sequences (f.expect), the closing
expectation (f.expect_close), then sends frames and arms timers.  What each
case sends and expects was taken from Autobahn's case list; the wording and
code are ours.

Event sequences use:
  msg(payload)          a text message echoed back
  bmsg(payload)         a binary message echoed back
  pong(payload)         a pong
  ("timeout", "A")      a marker the script adds when a wait ran out
"""
import fnmatch

import wsproto as wp
from fuzzer import FAILED, INFORMATIONAL, NON_STRICT, OK, UNIMPLEMENTED, WRONG_CODE, repeat_to

TEXT, BINARY, CONT, CLOSE, PING, PONG = 1, 2, 0, 8, 9, 10


def msg(p):
    return ("message", p.encode("utf-8") if isinstance(p, str) else p, False)


def bmsg(p):
    return ("message", p, True)


def pong(p):
    return ("pong", p.encode("utf-8") if isinstance(p, str) else p)


def b(s):
    return s.encode("utf-8") if isinstance(s, str) else s


class Case:
    """negotiation: how the opening handshake treats permessage-deflate
    (cases_deflate.Negotiation), None for no extension at all.  modes: the
    modes the case exists in (None: both)."""

    def __init__(self, cid, description, expectation, script, heavy=False, negotiation=None, modes=None):
        self.id = cid
        self.description = description
        self.expectation = expectation
        self.script = script
        self.heavy = heavy
        self.negotiation = negotiation
        self.modes = modes
        self.key = tuple(int(x) for x in cid.split("."))
        self.group = self.key[0]


DEFAULT_GROUPS = (1, 2, 3, 4, 5, 6, 7, 9, 10)
ALL_GROUPS = DEFAULT_GROUPS + (12, 13)


def parse_groups(text):
    """'1-10', '12,13', '1-13' -> a tuple of the existing groups named."""
    out = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise ValueError("bad group range %r" % part) from None
        if a > b:
            raise ValueError("bad group range %r" % part)
        out.update(g for g in ALL_GROUPS if a <= g <= b)
    if not out:
        raise ValueError("no group in %r (there are %s)" % (text, ", ".join(map(str, ALL_GROUPS))))
    return tuple(sorted(out))


class Catalogue:
    """All cases for one set of options (group 9's sizes depend on --load
    and --peer-max-message; opts.groups picks the groups, opts.mode drops
    the cases of the other mode)."""

    def __init__(self, opts):
        self.opts = opts
        self.groups = tuple(getattr(opts, "groups", None) or DEFAULT_GROUPS)
        self.cases = []
        build(self)
        mode = getattr(opts, "mode", None)
        self.cases = [c for c in self.cases if c.group in self.groups and (mode is None or c.modes is None or mode in c.modes)]
        self.cases.sort(key=lambda c: c.key)
        self.by_id = {c.id: c for c in self.cases}

    def add(self, cid, description, expectation, script, heavy=False, negotiation=None, modes=None):
        self.cases.append(Case(cid, description, expectation, script, heavy, negotiation, modes))

    def select(self, patterns, exclude=()):
        def hit(cid, pats):
            for p in pats:
                p = p.strip()
                if not p:
                    continue
                if fnmatch.fnmatchcase(cid, p) or cid == p or cid.startswith(p + "."):
                    return True
            return False

        out = [c for c in self.cases if (not patterns or hit(c.id, patterns))]
        return [c for c in out if not hit(c.id, exclude)]


def size_text(n):
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return "%d MiB" % (n >> 20)
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return "%d KiB" % (n >> 10)
    return "%d octets" % n


# Closing expectations used throughout
def close_normal(f):
    f.expect_close(True, [wp.CLOSE_NORMAL], True)


def peer_fails(f, code=wp.CLOSE_PROTOCOL_ERROR, fatal=False):
    codes = list(code) if isinstance(code, (list, tuple)) else [code]
    f.expect_close(False, codes, False, wrong_endpoint_fatal=fatal)


def wrong_code_fails(f):
    """Group 7: a wrong close code fails the case itself."""
    if f.behavior_close == WRONG_CODE:
        f.behavior = FAILED
        f.result = f.result_close


def build(cat):
    builders = {1: group1, 2: group2, 3: group3, 4: group4, 5: group5, 6: group6, 7: group7, 9: group9, 10: group10}
    for g in cat.groups:
        if g in builders:
            builders[g](cat)
    if 12 in cat.groups or 13 in cat.groups:
        import cases_deflate

        if 12 in cat.groups:
            cases_deflate.group12(cat)
        if 13 in cat.groups:
            cases_deflate.group13(cat)


# ---------------------------------------------------------------- group 1
def group1(cat):
    sizes = [0, 125, 126, 127, 128, 65535, 65536]
    for kind, op, unit, mk in (("text", TEXT, b"*", msg), ("binary", BINARY, b"\xfe", bmsg)):
        sub = "1.1" if op == TEXT else "1.2"
        for i, n in enumerate(sizes + [65536], 1):
            chop = 997 if i == 8 else None
            wait = 1 if n < 65535 else 10

            def script(f, op=op, payload=unit * n, chop=chop, wait=wait, mk=mk):
                f.expect((OK, [mk(payload)]))
                close_normal(f)
                f.send_frame(op, payload, chop=chop)
                f.kill_after(wait)

            desc = "One %s frame carrying a %d-octet payload%s." % (
                kind,
                n,
                ", written to the socket in pieces of 997 octets" if chop else "",
            )
            if n in (126, 65536) and not chop:
                desc += " (%s)" % ("first size that needs the 16-bit length" if n == 126 else "first size that needs the 64-bit length")
            cat.add(
                "%s.%d" % (sub, i),
                desc,
                "The same %s message comes back; then a clean close with 1000." % kind,
                script,
            )


# ---------------------------------------------------------------- group 2
def group2(cat):
    def ping_case(cid, desc, payload, chop=None, wait=1):
        def script(f):
            f.expect((OK, [pong(payload)]))
            close_normal(f)
            f.send_frame(PING, b(payload), chop=chop)
            f.close_after(wait)

        cat.add(cid, desc, "A pong with the same payload answers the ping; then a clean close with 1000.", script)

    ping_case("2.1", "A ping with no payload.", b"")
    ping_case("2.2", "A ping whose payload is short text.", "Hello, world!")
    ping_case("2.3", "A ping whose payload is short binary, not UTF-8.", b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff")
    ping_case("2.4", "A ping with the largest payload a control frame may carry, 125 octets.", b"\xfe" * 125)

    def s25(f):
        f.expect((OK, []))
        peer_fails(f)
        f.send_frame(PING, b"\xfe" * 126)
        f.kill_after(1)

    cat.add(
        "2.5",
        "A ping with a 126-octet payload, one more than a control frame may carry.",
        "The peer fails the connection at once (1002) and sends no pong.",
        s25,
    )
    ping_case("2.6", "A ping with a 125-octet payload, written one octet at a time.", b"\xfe" * 125, chop=1, wait=2)

    def unsolicited(cid, payload, desc):
        def script(f):
            f.expect((OK, []))
            close_normal(f)
            f.send_frame(PONG, b(payload))
            f.send_close(wp.CLOSE_NORMAL)
            f.close_after(1)

        cat.add(cid, desc, "Nothing answers the pong; the closing handshake is clean, with 1000.", script)

    unsolicited("2.7", b"", "A pong nobody asked for, empty, then a close.")
    unsolicited("2.8", "unsolicited pong payload", "A pong nobody asked for, with a payload, then a close.")

    def s29(f):
        f.expect((OK, [pong("ping payload")]))
        close_normal(f)
        f.send_frame(PONG, b"unsolicited pong payload")
        f.send_frame(PING, b"ping payload")
        f.close_after(1)

    cat.add(
        "2.9",
        "A pong nobody asked for, then a ping, both with payloads.",
        "Only the ping is answered, by a pong with its payload; then a clean close with 1000.",
        s29,
    )

    def ten_pings(chop):
        def script(f):
            pongs = []
            for i in range(10):
                p = "payload-%d" % i
                pongs.append(pong(p))
                f.send_frame(PING, b(p), chop=chop)
            f.expect((OK, pongs))
            close_normal(f)
            f.close_after(3)

        return script

    exp = "Ten pongs, in order, each with the payload of its ping (RFC 6455 lets a peer answer only the latest ping; Autobahn asks for all ten); then a clean close with 1000."
    cat.add("2.10", "Ten pings in a row, each with its own payload.", exp, ten_pings(None))
    cat.add("2.11", "Ten pings in a row, each with its own payload, written one octet at a time.", exp, ten_pings(1))


# ---------------------------------------------------------------- group 3
def group3(cat):
    hello = b"Hello, world!"

    def alone(cid, op, payload, rsv, what):
        def script(f):
            f.expect((OK, []))
            peer_fails(f)
            f.send_frame(op, payload, rsv=rsv)
            f.kill_after(1)

        cat.add(
            cid,
            "%s with RSV = %d, although no extension was negotiated." % (what, rsv),
            "The peer fails the connection at once (1002).",
            script,
        )

    alone("3.1", TEXT, hello, 1, "A short text message")

    def after_good(cid, rsv, how, sync=False, chop=None):
        def script(f):
            f.expect((OK, [msg(hello)]), (NON_STRICT, []))
            peer_fails(f)
            f.send_frame(TEXT, hello, sync=sync, chop=chop)
            f.send_frame(TEXT, hello, rsv=rsv, sync=sync, chop=chop)
            f.send_frame(PING, b"", sync=sync, chop=chop)
            f.kill_after(1)

        cat.add(
            cid,
            "A valid text message, the same message with RSV = %d, then a ping%s." % (rsv, how),
            "The first message is echoed, then the peer fails the connection (1002) and never answers the ping. "
            "Failing before echoing the first message is NON-STRICT.",
            script,
        )

    after_good("3.2", 2, "")
    after_good("3.3", 3, ", each frame in its own TCP write", sync=True)
    after_good("3.4", 4, ", written one octet at a time", chop=1)
    alone("3.5", BINARY, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 5, "A short binary message")
    # Autobahn describes 3.6 as a ping; its script sends a binary frame.
    # We send what the description says.
    alone("3.6", PING, hello, 6, "A ping")
    alone("3.7", CLOSE, b"", 7, "A close frame")


# ---------------------------------------------------------------- group 4
def group4(cat):
    hello = b"Hello, world!"

    def alone(cid, op, payload, kind):
        def script(f):
            f.expect((OK, []))
            peer_fails(f)
            f.send_frame(op, payload)
            f.kill_after(1)

        cat.add(
            cid,
            "A frame with the reserved %s opcode %d%s." % (kind, op, " and a payload" if payload else ""),
            "The peer fails the connection at once (1002).",
            script,
        )

    def after_good(cid, op, payload, kind, chop=None):
        def script(f):
            f.expect((OK, [msg(hello)]), (NON_STRICT, []))
            peer_fails(f)
            f.send_frame(TEXT, hello, chop=chop)
            f.send_frame(op, payload, chop=chop)
            f.send_frame(PING, b"", chop=chop)
            f.kill_after(1)

        cat.add(
            cid,
            "A valid text message, a frame with the reserved %s opcode %d%s, then a ping%s."
            % (kind, op, " and a payload" if payload else "", ", written one octet at a time" if chop else ""),
            "The text message is echoed, then the peer fails the connection (1002) and never answers the ping. "
            "Failing before echoing the first message is NON-STRICT.",
            script,
        )

    alone("4.1.1", 3, b"", "data")
    alone("4.1.2", 4, b"reserved opcode payload", "data")
    after_good("4.1.3", 5, b"", "data")
    after_good("4.1.4", 6, hello, "data")
    after_good("4.1.5", 7, hello, "data", chop=1)
    alone("4.2.1", 11, b"", "control")
    alone("4.2.2", 12, b"reserved opcode payload", "control")
    after_good("4.2.3", 13, b"", "control")
    after_good("4.2.4", 14, hello, "control")
    after_good("4.2.5", 15, hello, "control", chop=1)


# ---------------------------------------------------------------- group 5
def group5(cat):
    def fragmented_control(cid, op, name):
        def script(f):
            f.expect((OK, []))
            peer_fails(f)
            f.send_frame(op, b"fragment1", fin=False)
            f.send_frame(CONT, b"fragment2", fin=True)
            f.kill_after(1)

        cat.add(
            cid,
            "A %s split over two frames (the first with FIN = 0, then a continuation)." % name,
            "The peer fails the connection at once (1002): control frames must not be fragmented.",
            script,
        )

    fragmented_control("5.1", PING, "ping")
    fragmented_control("5.2", PONG, "pong")

    how = {None: "", "sync": ", each frame in its own TCP write", "chop": ", written one octet at a time"}

    def two_fragments(cid, mode):
        def script(f):
            f.expect((OK, [msg("fragment1fragment2")]))
            close_normal(f)
            kw = {"sync": mode == "sync", "chop": 1 if mode == "chop" else None}
            f.send_frame(TEXT, b"fragment1", fin=False, **kw)
            f.send_frame(CONT, b"fragment2", fin=True, **kw)
            f.close_after(1)

        cat.add(
            cid,
            "A text message in two fragments%s." % how[mode],
            "The whole message is echoed; then a clean close with 1000.",
            script,
        )

    two_fragments("5.3", None)
    two_fragments("5.4", "sync")
    two_fragments("5.5", "chop")

    def ping_between(cid, mode):
        def script(f):
            f.expect((OK, [pong("ping payload"), msg("fragment1fragment2")]))
            close_normal(f)
            kw = {"sync": mode == "sync", "chop": 1 if mode == "chop" else None}
            f.send_frame(TEXT, b"fragment1", fin=False, **kw)
            f.send_frame(PING, b"ping payload", **kw)
            f.send_frame(CONT, b"fragment2", fin=True, **kw)
            f.close_after(1)

        cat.add(
            cid,
            "A text message in two fragments with a ping between them%s." % how[mode],
            "The pong comes first, then the whole message; then a clean close with 1000.",
            script,
        )

    ping_between("5.6", None)
    ping_between("5.7", "sync")
    ping_between("5.8", "chop")

    def orphan(cid, fin, mode):
        def script(f):
            f.expect((OK, []))
            peer_fails(f)
            kw = {"sync": mode == "sync", "chop": 1 if mode == "chop" else None}
            f.send_frame(CONT, b"non-continuation payload", fin=fin, **kw)
            f.send_frame(TEXT, b"Hello, world!", **kw)
            f.kill_after(1)

        cat.add(
            cid,
            "A continuation frame with FIN = %d when no message is in progress, then a whole text message%s."
            % (1 if fin else 0, how[mode] or ", all in one write"),
            "The peer fails the connection at once (1002): there is nothing to continue.",
            script,
        )

    orphan("5.9", True, None)
    orphan("5.10", True, "sync")
    orphan("5.11", True, "chop")
    orphan("5.12", False, None)
    orphan("5.13", False, "sync")
    orphan("5.14", False, "chop")

    def s515(f):
        f.expect((OK, [msg("fragment1fragment2")]), (NON_STRICT, []))
        peer_fails(f)
        f.send_frame(TEXT, b"fragment1", fin=False)
        f.send_frame(CONT, b"fragment2", fin=True)
        f.send_frame(CONT, b"fragment3", fin=False)
        f.send_frame(TEXT, b"fragment4", fin=True)
        f.kill_after(1)

    cat.add(
        "5.15",
        "A text message in two fragments, then a continuation frame (FIN = 0) with nothing to continue, then a text frame; all in one write.",
        "The two-fragment message is echoed, then the peer fails the connection (1002). Failing before the echo is NON-STRICT.",
        s515,
    )

    def twice(cid, first_fin):
        def script(f):
            f.expect((OK, []))
            peer_fails(f)
            for _ in range(2):
                f.send_frame(CONT, b"fragment1", fin=first_fin)
                f.send_frame(TEXT, b"fragment2", fin=False)
                f.send_frame(CONT, b"fragment3", fin=True)
            f.kill_after(1)

        cat.add(
            cid,
            "Twice: a continuation frame (FIN = %d) with nothing to continue, then a text message in two fragments." % (1 if first_fin else 0),
            "The peer fails the connection at once (1002).",
            script,
        )

    twice("5.16", False)
    twice("5.17", True)

    def s518(f):
        f.expect((OK, []))
        peer_fails(f)
        f.send_frame(TEXT, b"fragment1", fin=False)
        f.send_frame(TEXT, b"fragment2", fin=True)
        f.kill_after(1)

    cat.add(
        "5.18",
        "A text message in two fragments where the second frame also has the text opcode instead of continuation.",
        "The peer fails the connection at once (1002).",
        s518,
    )

    def interleaved(cid, sync):
        frags = [b"fragment%d" % i for i in range(1, 6)]

        def script(f):
            f.expect((OK, [pong("pongme 1!"), pong("pongme 2!"), msg(b"".join(frags))]))
            close_normal(f)
            f.send_frame(TEXT, frags[0], fin=False, sync=sync)
            f.send_frame(CONT, frags[1], fin=False, sync=sync)
            f.send_frame(PING, b"pongme 1!", sync=sync)

            def part2():
                f.send_frame(CONT, frags[2], fin=False, sync=sync)
                f.send_frame(CONT, frags[3], fin=False, sync=sync)
                f.send_frame(PING, b"pongme 2!", sync=sync)
                f.send_frame(CONT, frags[4], fin=True, sync=sync)
                f.close_after(1)

            f.later(1, part2)

        cat.add(
            cid,
            "A text message in five fragments: two fragments and a ping, a pause of one second, then two more "
            "fragments, a second ping and the last fragment%s. Everything is valid." % (", each frame in its own TCP write" if sync else ""),
            "The first pong arrives during the pause, before the message is complete; then the second pong and the "
            "whole message; then a clean close with 1000.",
            script,
        )

    interleaved("5.19", False)
    interleaved("5.20", True)


# ---------------------------------------------------------------- group 6
KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"  # "kosme" in Greek
HELLO_UTF8 = "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!".encode("utf-8")


def utf8_sequences():
    """The UTF-8 decoder tests (after Markus Kuhn's UTF-8-test.txt) in the
    order and grouping of Autobahn's cases 6.5 to 6.23: a list of
    (title, [(valid, bytes)])."""
    groups = []
    groups.append(
        (
            "Valid UTF-8",
            [
                (True, b"hello$world"),
                (True, b"hello\xc2\xa2world"),
                (True, b"hello\xe2\x82\xacworld"),
                (True, b"hello\xf0\xa4\xad\xa2world"),
                (True, KOSME),
            ],
        )
    )
    groups.append(("Every prefix of a valid string with multi-octet code points", [(wp.utf8_valid(KOSME[:i]), KOSME[:i]) for i in range(1, len(KOSME) + 1)]))
    groups.append(
        ("The first code point of each encoded length", [(True, b"\x00"), (True, b"\xc2\x80"), (True, b"\xe0\xa0\x80"), (True, b"\xf0\x90\x80\x80")])
    )
    groups.append(("The first 5- and 6-octet forms (beyond Unicode)", [(False, b"\xf8\x88\x80\x80\x80"), (False, b"\xfc\x84\x80\x80\x80\x80")]))
    groups.append(
        ("The last code point of each encoded length", [(True, b"\x7f"), (True, b"\xdf\xbf"), (True, b"\xef\xbf\xbf"), (True, b"\xf4\x8f\xbf\xbf")])
    )
    groups.append(
        (
            "The last 4-, 5- and 6-octet forms (beyond Unicode)",
            [(False, b"\xf7\xbf\xbf\xbf"), (False, b"\xfb\xbf\xbf\xbf\xbf"), (False, b"\xfd\xbf\xbf\xbf\xbf\xbf")],
        )
    )
    groups.append(
        (
            "Other boundaries",
            [(True, b"\xed\x9f\xbf"), (True, b"\xee\x80\x80"), (True, b"\xef\xbf\xbd"), (True, b"\xf4\x8f\xbf\xbf"), (False, b"\xf4\x90\x80\x80")],
        )
    )
    cont = [b"\x80", b"\xbf", b"\x80\xbf", b"\x80\xbf\x80", b"\x80\xbf\x80\xbf", b"\x80\xbf\x80\xbf\x80", b"\x80\xbf\x80\xbf\x80\xbf"]
    cont.append(bytes(range(0x80, 0xBF)))
    groups.append(("Continuation octets with no lead octet", [(False, s) for s in cont]))
    lonely = []
    for lo, hi in ((0xC0, 0xDF), (0xE0, 0xEF), (0xF0, 0xF7), (0xF8, 0xFB), (0xFC, 0xFD)):
        lonely.append((False, b"".join(bytes([c, 0x20]) for c in range(lo, hi))))
    groups.append(("Lead octets each followed by a space", lonely))
    missing = [b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80", b"\xfc\x80\x80\x80\x80", b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf", b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf"]
    groups.append(("Sequences missing their last continuation octet", [(False, s) for s in missing]))
    groups.append(("All of those incomplete sequences in a row", [(False, b"".join(missing))]))
    groups.append(("Octets that never appear in UTF-8", [(False, b"\xfe"), (False, b"\xff"), (False, b"\xfe\xfe\xff\xff")]))
    groups.append(
        (
            "Overlong forms of '/'",
            [(False, s) for s in (b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf", b"\xf8\x80\x80\x80\xaf", b"\xfc\x80\x80\x80\x80\xaf")],
        )
    )
    groups.append(
        (
            "The largest overlong forms",
            [(False, s) for s in (b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xf0\x8f\xbf\xbf", b"\xf8\x87\xbf\xbf\xbf", b"\xfc\x83\xbf\xbf\xbf\xbf")],
        )
    )
    groups.append(
        (
            "Overlong forms of NUL",
            [(False, s) for s in (b"\xc0\x80", b"\xe0\x80\x80", b"\xf0\x80\x80\x80", b"\xf8\x80\x80\x80\x80", b"\xfc\x80\x80\x80\x80\x80")],
        )
    )
    single = [b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80", b"\xed\xaf\xbf", b"\xed\xb0\x80", b"\xed\xbe\x80", b"\xed\xbf\xbf"]
    groups.append(("UTF-16 surrogates alone", [(False, s) for s in single]))
    pairs = []
    for hi in (b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80", b"\xed\xaf\xbf"):
        for lo in (b"\xed\xb0\x80", b"\xed\xbf\xbf"):
            pairs.append((False, hi + lo))
    groups.append(("UTF-16 surrogate pairs encoded one by one", pairs))
    nonchars = [(True, b"\xef\xbf\xbe"), (True, b"\xef\xbf\xbf")]
    for lead in (0xF0, 0xF1, 0xF2, 0xF3, 0xF4):
        for second in (0x8F, 0x9F, 0xAF, 0xBF):
            if lead == 0xF4 and second != 0x8F:
                continue  # above U+10FFFF
            for last in (0xBE, 0xBF):
                s = bytes([lead, second, 0xBF, last])
                if lead == 0xF0 and second == 0x8F:
                    continue  # overlong
                nonchars.append((True, s))
    groups.append(("Noncharacters (valid UTF-8)", nonchars))
    groups.append(("The Specials block, the replacement character among them", [(True, bytes([0xEF, 0xBF, c])) for c in range(0xB9, 0xC0)]))
    return groups


def group6(cat):
    def fragments(cid, desc, parts, expected):
        def script(f):
            f.expect((OK, [msg(expected)]))
            close_normal(f)
            for i, p in enumerate(parts):
                f.send_frame(TEXT if i == 0 else CONT, p, fin=(i == len(parts) - 1))
            f.close_after(1)

        cat.add(cid, desc, "The message is echoed (%d octets); then a clean close with 1000." % len(expected), script)

    fragments("6.1.1", "An empty text message.", [b""], b"")
    fragments("6.1.2", "A text message in three fragments, each empty.", [b"", b"", b""], b"")
    fragments("6.1.3", "A text message in three fragments: empty, non-empty, empty.", [b"", b"middle frame payload", b""], b"middle frame payload")

    def valid_message(cid, desc, payload, frag=None, parts=None):
        def script(f):
            f.expect((OK, [msg(payload)]))
            close_normal(f)
            if parts:
                f.send_frame(TEXT, parts[0], fin=False)
                f.send_frame(CONT, parts[1], fin=True)
            else:
                f.send_message(payload, frag=frag)
            f.close_after(1)

        cat.add(cid, desc + " Payload: 0x%s." % payload.hex(), "The message is echoed; then a clean close with 1000.", script)

    valid_message("6.2.1", "Valid UTF-8 text with multi-octet code points, in one frame.", HELLO_UTF8)
    cut = len("Hello-\u00b5@\u00df\u00f6\u00e4".encode("utf-8"))
    valid_message(
        "6.2.2",
        "Valid UTF-8 text in two fragments split between two code points.",
        HELLO_UTF8,
        parts=(HELLO_UTF8[:cut], HELLO_UTF8[cut:]),
    )
    valid_message("6.2.3", "Valid UTF-8 text in one-octet fragments, so that fragments end inside code points.", HELLO_UTF8, frag=1)
    valid_message("6.2.4", "Valid UTF-8 text (Greek) in one-octet fragments, so that fragments end inside code points.", KOSME, frag=1)

    bad = KOSME + b"\xed\xa0\x80" + b"edited"

    def invalid_message(cid, desc, payload, frag=None, wait=1):
        def script(f):
            f.expect((OK, []))
            peer_fails(f, wp.CLOSE_INVALID_PAYLOAD, fatal=True)
            f.send_message(payload, frag=frag)
            f.kill_after(wait)

        cat.add(
            cid,
            desc + " Payload: 0x%s." % payload.hex(),
            "The peer fails the connection (1007): the payload is not valid UTF-8. Not failing it at all fails the case.",
            script,
        )

    invalid_message("6.3.1", "Invalid UTF-8 text (a UTF-16 surrogate after 11 valid octets) in one frame.", bad)
    invalid_message("6.3.2", "The same invalid UTF-8 text in one-octet fragments.", bad, frag=1)

    # Fail fast: the invalid octet is the 12th; parts 1 and 3 are valid.
    full = KOSME + b"\xf4\x90\x80\x80" + b"edited"

    def fail_fast(cid, desc, p1, p2, p3, one_frame):
        def script(f):
            f.expect((OK, [("timeout", "A")]), (NON_STRICT, [("timeout", "A"), ("timeout", "B")]))
            peer_fails(f, wp.CLOSE_INVALID_PAYLOAD, fatal=True)
            if one_frame:
                f.begin_frame(TEXT, len(full))
                f.write_frame_data(p1)
            else:
                f.send_frame(TEXT, p1, fin=False)

            def part2():
                if f.state != "OPEN":
                    return
                f.mark("A")
                if one_frame:
                    f.write_frame_data(p2)
                else:
                    f.send_frame(CONT, p2, fin=False)

                def part3():
                    if f.state != "OPEN":
                        return
                    f.mark("B")
                    if one_frame:
                        f.write_frame_data(p3)
                    else:
                        f.send_frame(CONT, p3, fin=True)
                    f.kill_after(1)

                f.later(1, part3)

            f.later(1, part2)

        cat.add(
            cid,
            desc + " Parts: 0x%s | 0x%s | 0x%s." % (p1.hex(), p2.hex(), p3.hex()),
            "The first part is valid and must be accepted (our first wait, A, runs out). The second part makes the "
            "text invalid: the peer fails the connection (1007) at once. Failing only after the third part "
            "(after wait B) is NON-STRICT; never failing fails the case.",
            script,
        )

    fail_fast("6.4.1", "Text in three frames with a pause of one second after the first and after the second; the second holds U+110000 encoded (not a code point).", KOSME, b"\xf4\x90\x80\x80", b"edited", False)
    fail_fast("6.4.2", "Like 6.4.1, but the second frame holds only the one octet that makes the text invalid.", full[:12], full[12:13], full[13:], False)
    fail_fast("6.4.3", "Like 6.4.1, but one frame whose payload is written in three parts with the pauses between them.", KOSME, b"\xf4\x90\x80\x80", b"edited", True)
    fail_fast("6.4.4", "Like 6.4.2, but one frame whose payload is written in three parts with the pauses between them.", full[:12], full[12:13], full[13:], True)

    for gi, (title, seqs) in enumerate(utf8_sequences(), 5):
        for si, (valid, payload) in enumerate(seqs, 1):
            cid = "6.%d.%d" % (gi, si)
            if valid:

                def script(f, payload=payload):
                    f.expect((OK, [msg(payload)]))
                    close_normal(f)
                    f.send_message(payload)
                    f.kill_after(0.5)

                cat.add(cid, "%s: a text message, valid UTF-8, in one frame. Payload: 0x%s." % (title, payload.hex()), "The message is echoed; then a clean close with 1000.", script)
            else:

                def script(f, payload=payload):
                    f.expect((OK, []))
                    peer_fails(f, wp.CLOSE_INVALID_PAYLOAD, fatal=True)
                    f.send_message(payload)
                    f.kill_after(0.5)

                cat.add(
                    cid,
                    "%s: a text message, not valid UTF-8, in one frame. Payload: 0x%s." % (title, payload.hex()),
                    "The peer fails the connection (1007). Not failing it at all fails the case.",
                    script,
                )


# ---------------------------------------------------------------- group 7
def group7(cat):
    def close_case(cid, desc, exp, body, codes=(wp.CLOSE_NORMAL,), clean=True):
        def script(f):
            f.suppress_close = True
            f.expect((OK, []))
            f.expect_close(True, list(codes), clean)
            f.post_hook = wrong_code_fails
            body(f)
            f.kill_after(1)

        cat.add(cid, desc, exp, script)

    def s711(f):
        f.expect((OK, [msg("Hello World!")]))
        close_normal(f)
        f.post_hook = wrong_code_fails
        f.send_frame(TEXT, b"Hello World!")
        f.kill_after(1)

    cat.add("7.1.1", "A text message; once it is echoed, a close frame.", "The message is echoed; then a clean close with 1000.", s711)
    close_case(
        "7.1.2",
        "Two close frames in a row.",
        "A clean close with 1000; the second close frame is ignored.",
        lambda f: (f.send_close(wp.CLOSE_NORMAL), f.send_frame(CLOSE, b"")),
    )
    close_case(
        "7.1.3",
        "A close frame, then a ping.",
        "A clean close with 1000; no pong: nothing is sent after a close.",
        lambda f: (f.send_close(wp.CLOSE_NORMAL), f.send_frame(PING, b"")),
    )
    close_case(
        "7.1.4",
        "A close frame, then a text message.",
        "A clean close with 1000; the text message is not echoed.",
        lambda f: (f.send_close(wp.CLOSE_NORMAL), f.send_frame(TEXT, b"Hello World!")),
    )
    close_case(
        "7.1.5",
        "The first fragment of a text message, a close frame, then the last fragment.",
        "A clean close with 1000; nothing is echoed.",
        lambda f: (
            f.send_frame(TEXT, b"fragment1", fin=False),
            f.send_close(wp.CLOSE_NORMAL),
            f.send_frame(CONT, b"fragment2", fin=True),
        ),
    )

    def s716(f):
        big = repeat_to(b"BAsd7&jh23", 256 * 1024)
        f.suppress_close = True
        f.expect((OK, [msg(big), msg("Hello World!")]), (NON_STRICT, []))
        f.expect_close(True, [wp.CLOSE_NORMAL], True)
        f.send_frame(TEXT, big)
        f.send_frame(TEXT, b"Hello World!")
        f.send_close(wp.CLOSE_NORMAL)
        f.send_frame(PING, b"")
        f.kill_after(1)

        def post(f):
            echoed = [e for e in f.received if e[0] == "message"]
            f.result = "%d of the 2 messages were echoed before the close (%s); the peer's close code was %s." % (
                len(echoed),
                "both complete" if f.behavior == OK else "none" if not echoed else "partly",
                f.remote_close_code,
            )
            f.behavior = INFORMATIONAL
            f.behavior_close = INFORMATIONAL

        f.post_hook = post

    cat.add(
        "7.1.6",
        "A 256 KiB text message, a short text message, a close frame and a ping, back to back.",
        "Informational: whether the messages are echoed before the close depends on how the peer orders its work.",
        s716,
    )

    close_case(
        "7.3.1",
        "A close frame with an empty payload (no code, no reason).",
        "A clean close (the peer's close carries 1000 or no code).",
        lambda f: f.send_close(None),
    )
    close_case(
        "7.3.2",
        "A close frame with a 1-octet payload (half a close code).",
        "The peer fails the connection (1002), or drops the TCP connection.",
        lambda f: f.send_close(raw=b"a"),
        codes=(wp.CLOSE_PROTOCOL_ERROR,),
        clean=False,
    )
    close_case("7.3.3", "A close frame with code 1000 and no reason.", "A clean close with 1000.", lambda f: f.send_close(wp.CLOSE_NORMAL))
    close_case(
        "7.3.4",
        "A close frame with code 1000 and a reason.",
        "A clean close with 1000.",
        lambda f: f.send_close(wp.CLOSE_NORMAL, b"Hello World!"),
    )
    close_case(
        "7.3.5",
        "A close frame with code 1000 and a 123-octet reason: a 125-octet payload, the largest allowed.",
        "A clean close with 1000.",
        lambda f: f.send_close(wp.CLOSE_NORMAL, b"*" * 123),
    )
    close_case(
        "7.3.6",
        "A close frame with code 1000 and a 124-octet reason: a 126-octet payload, one too many.",
        "The peer fails the connection (1002), or drops the TCP connection.",
        lambda f: f.send_close(wp.CLOSE_NORMAL, b"*" * 124),
        codes=(wp.CLOSE_PROTOCOL_ERROR,),
        clean=False,
    )
    close_case(
        "7.5.1",
        "A close frame with code 1000 and a reason that is not valid UTF-8.",
        "The peer fails the connection (1002 or 1007), or drops the TCP connection.",
        lambda f: f.send_close(wp.CLOSE_NORMAL, KOSME + b"\xed\xa0\x80edited"),
        codes=(wp.CLOSE_PROTOCOL_ERROR, wp.CLOSE_INVALID_PAYLOAD),
        clean=False,
    )
    for i, code in enumerate((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999), 1):
        close_case(
            "7.7.%d" % i,
            "A close frame with the valid code %d." % code,
            "A clean close; the peer's close carries %d (echoed) or 1000." % code,
            lambda f, code=code: f.send_close(code),
            codes=(wp.CLOSE_NORMAL, code),
        )
    for i, code in enumerate((0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999), 1):
        close_case(
            "7.9.%d" % i,
            "A close frame with the invalid code %d." % code,
            "The peer fails the connection (1002), or drops the TCP connection.",
            lambda f, code=code: f.send_close(code),
            codes=(wp.CLOSE_PROTOCOL_ERROR,),
            clean=False,
        )

    def informational_code(code):
        def script(f):
            f.suppress_close = True
            f.expect((OK, []))
            f.expect_close(True, [wp.CLOSE_NORMAL, code, wp.CLOSE_PROTOCOL_ERROR], False)
            f.send_close(code)
            f.kill_after(1)

            def post(f):
                f.result = "Informational: the peer answered %s." % (
                    "with close code %d" % f.remote_close_code if f.remote_close_code is not None else "without a close code" if f.remote_close_seen else "with no close frame"
                )
                f.behavior = INFORMATIONAL
                f.behavior_close = INFORMATIONAL

            f.post_hook = post

        return script

    cat.add("7.13.1", "A close frame with code 5000 (outside every defined range).", "Informational: RFC 6455 does not say what happens.", informational_code(5000))
    cat.add("7.13.2", "A close frame with code 65535.", "Informational: RFC 6455 does not say what happens.", informational_code(65535))


# ---------------------------------------------------------------- group 9
def group9(cat):
    opts = cat.opts
    load = opts.load

    def scaled(n):
        return max(1, int(round(n * load)))

    def note(n, full):
        return "" if n == full else " (Autobahn: %s; --load %g)" % (size_text(full), load)

    def big_case(cid, desc, exp, size, binary, sender, waitsecs):
        def script(f):
            f.behavior = FAILED
            wait = min(waitsecs, max(1.0, opts.timeout - 2.0))
            f.result = "No echo within %.0f s." % (wait * opts.scale)
            close_normal(f)
            f.gap = 0.0
            expected = sender(f)

            def on_message(payload, is_binary):
                if is_binary != binary:
                    f.result = "The echo is a %s message, not a %s one." % ("binary" if is_binary else "text", "binary" if binary else "text")
                elif len(payload) != size:
                    f.result = "The echo has %d octets, not %d." % (len(payload), size)
                elif payload != expected:
                    f.result = "The echo has the right length but different content."
                else:
                    f.behavior = OK
                    f.result = "The %d-octet message came back intact." % size
                f.send_close(wp.CLOSE_NORMAL)

            f.message_hook = on_message
            f.close_after(wait)

            f.post_hook = lambda f: big_post(f, size)

        cat.add(cid, desc, exp, script, heavy=True)

    def big_post(f, size):
        limit = opts.peer_max_message
        refused = not f.closed_by_me and f.remote_close_seen
        if refused and f.remote_close_code == wp.CLOSE_TOO_BIG and limit is not None and size > limit:
            f.behavior = UNIMPLEMENTED
            f.behavior_close = OK
            f.result = "The peer refused the %d-octet message with 1009, as it may: the limit declared with --peer-max-message is %d." % (size, limit)
            f.result_close = "The peer failed the connection with 1009 (accepted here)."
        elif refused and f.behavior == FAILED:
            f.result = "The peer closed the connection (code %s) instead of echoing the %d-octet message%s." % (
                f.remote_close_code,
                size,
                " (if that is its size limit, declare it with --peer-max-message)" if f.remote_close_code == wp.CLOSE_TOO_BIG else "",
            )

    def one_frame(op, payload):
        def sender(f):
            f.send_frame(op, payload)
            return payload

        return sender

    for kind, op, unit, sub in (("text", TEXT, b"BAsd7&jh23", 1), ("binary", BINARY, b"\x00\xfe\x23\xfa\xf0", 2)):
        for i, (full, waitsecs) in enumerate(((64 << 10, 10), (256 << 10, 10), (1 << 20, 100), (4 << 20, 100), (8 << 20, 100), (16 << 20, 100)), 1):
            n = scaled(full)
            big_case(
                "9.%d.%d" % (sub, i),
                "A %s message of %s in one frame%s." % (kind, size_text(n), note(n, full)),
                "The message is echoed intact.",
                n,
                op == BINARY,
                one_frame(op, repeat_to(unit, n)),
                waitsecs,
            )
    frag_sizes = [64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20]
    for kind, op, unit, sub in (("text", TEXT, b"*", 3), ("binary", BINARY, b"\xfe", 4)):
        full = 4 << 20
        n = scaled(full)
        payload = unit * n
        for i, frag in enumerate(frag_sizes, 1):
            fr = min(frag, n)

            def sender(f, payload=payload, fr=fr, binary=(op == BINARY)):
                f.send_message(payload, binary=binary, frag=fr)
                return payload

            big_case(
                "9.%d.%d" % (sub, i),
                "A %s message of %s in frames of %s%s%s."
                % (kind, size_text(n), size_text(fr), note(n, full), "" if fr == frag else " (Autobahn: frames of %s)" % size_text(frag)),
                "The message is echoed intact.",
                n,
                op == BINARY,
                sender,
                100,
            )
    for kind, op, unit, sub in (("text", TEXT, b"BAsd7&jh23", 5), ("binary", BINARY, b"\x00\xfe\x23\xfa\xf0", 6)):
        full = 1 << 20
        n = scaled(full)
        payload = repeat_to(unit, n)
        for i, chop in enumerate((64, 128, 256, 512, 1024, 2048), 1):

            def sender(f, payload=payload, chop=chop, op=op):
                f.send_frame(op, payload, chop=chop)
                return payload

            big_case(
                "9.%d.%d" % (sub, i),
                "A %s message of %s in one frame, written in pieces of %d octets%s." % (kind, size_text(n), chop, note(n, full)),
                "The message is echoed intact.",
                n,
                op == BINARY,
                sender,
                1000,
            )

    for kind, op, unit, sub in (("text", TEXT, b"*", 7), ("binary", BINARY, b"\xfe", 8)):
        for i, (size, waitsecs) in enumerate(((0, 60), (16, 60), (64, 60), (256, 120), (1024, 240), (4096, 480)), 1):
            count = scaled(1000)

            def script(f, size=size, count=count, op=op, unit=unit, waitsecs=waitsecs):
                payload = unit * size
                binary = op == BINARY
                f.behavior = FAILED
                wait = min(waitsecs, max(1.0, opts.timeout - 2.0))
                f.result = "Not all %d echoes within %.0f s." % (count, wait * opts.scale)
                close_normal(f)
                f.data["sent"] = 1
                f.send_frame(op, payload)

                def on_message(p, is_binary):
                    if is_binary != binary or p != payload:
                        f.result = "Echo %d differs from what was sent (%s, %d octets)." % (f.data["sent"], "binary" if is_binary else "text", len(p))
                        f.send_close(wp.CLOSE_NORMAL)
                    elif f.data["sent"] < count:
                        f.data["sent"] += 1
                        f.send_frame(op, payload)
                    else:
                        f.behavior = OK
                        f.result = "All %d echoes came back in time." % count
                        f.send_close(wp.CLOSE_NORMAL)

                f.message_hook = on_message
                f.close_after(wait)

            cat.add(
                "9.%d.%d" % (sub, i),
                "%d %s messages of %d octets, one after the other, each sent when the previous echo arrived (round-trip time)%s."
                % (count, kind, size, "" if count == 1000 else " (Autobahn: 1000; --load %g)" % load),
                "Every message is echoed intact.",
                script,
                heavy=True,
            )


# --------------------------------------------------------------- group 10
def group10(cat):
    size, frag = 65536, 1300

    def script(f):
        payload = b"*" * size
        f.expect((OK, [msg(payload)]))
        close_normal(f)
        f.send_message(payload, frag=frag)
        f.kill_after(10)

        def post(f):
            want = {CONT: size // frag, TEXT: 1 if size % frag else 0}
            got = {CONT: f.tx_opcodes.get(CONT, 0), TEXT: f.tx_opcodes.get(TEXT, 0)}
            if want != got:
                f.behavior = FAILED
                f.result = "We sent %r frames, not %r (a bug in the suite)." % (got, want)

        f.post_hook = post

    cat.add(
        "10.1.1",
        "A 64 KiB text message split by the sender into frames of 1300 octets (50 full frames and a last one of 536).",
        "The whole message is echoed; then a clean close with 1000.",
        script,
    )
