#!/usr/bin/env python3
"""selftest.py [--scale N] [-k PATTERN]

Tests of the conformance suite itself, without any nng-http program:

  * the building blocks (wsproto.py): the accept key of RFC 6455's example,
    masking at any offset, the frame reader fed one octet at a time, the
    UTF-8 validator against Python's decoder and Autobahn's verdicts, the
    receiver's verdict on each kind of bad frame;
  * both modes end to end against the reference programs: every case OK
    (7.1.6, 7.13.1 and 7.13.2 INFORMATIONAL);
  * each deliberately broken variant of the reference programs
    (--broken FAULT): the cases that must catch the fault are FAILED (or
    NON-STRICT where Autobahn's judgement makes them so);
  * when /usr/bin/python3 has the `websockets` package: both modes against
    it, with no FAILED case (NON-STRICT allowed: see README.md).

permessage-deflate (groups 12 and 13), in classes of their own:
  * DeflateReference: both modes, groups 1 to 13, against the reference
    programs started with --deflate: every case OK (7.1.6, 7.13.x
    INFORMATIONAL);
  * DeflateBrokenVariants: each deflate fault of the reference programs
    fails the cases that must catch it;
  * PythonWebsocketsDeflate: groups 12 and 13 against python-websockets
    with its permessage-deflate defaults.
The deflate building blocks (pmdeflate.py) are tested in BuildingBlocks.

--scale multiplies every time bound of the runs.
"""
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

import cases  # noqa: E402
import cases_deflate  # noqa: E402
import fuzzer  # noqa: E402
import pmdeflate as pd  # noqa: E402
import wsproto as wp  # noqa: E402
import zlib  # noqa: E402

SCALE = 1.0
PY = shlex.quote(sys.executable)
SYSTEM_PY = "/usr/bin/python3"


def run_suite(mode_args, extra=(), limit=300):
    """Runs run_conformance.py; returns (exit status, report dict, output)."""
    fd, path = tempfile.mkstemp(prefix="ws-conformance-", suffix=".json")
    os.close(fd)
    argv = [sys.executable, os.path.join(here, "run_conformance.py")] + list(mode_args)
    argv += ["--report", path, "--scale", str(SCALE)] + list(extra)
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=limit * SCALE)
        with open(path) as fh:
            report = json.load(fh)
        return p.returncode, report, p.stdout.decode(errors="replace")
    finally:
        os.unlink(path)


def ref_server(faults="", extra=""):
    cmd = "%s %s" % (PY, shlex.quote(os.path.join(here, "ref_echo_server.py")))
    if extra:
        cmd += " " + extra
    if faults:
        cmd += " --broken " + faults
    return ["--server", "ws://127.0.0.1:0/", "--server-cmd", cmd]


def ref_client(faults="", extra=""):
    cmd = "%s %s {url}" % (PY, shlex.quote(os.path.join(here, "ref_echo_client.py")))
    if extra:
        cmd += " " + extra
    if faults:
        cmd += " --broken " + faults
    return ["--client-port", "0", "--client-cmd", cmd]


def outcomes(report):
    return {c["id"]: c["outcome"] for c in report["cases"]}


INFORMATIONAL = {"7.1.6", "7.13.1", "7.13.2"}
DEFLATE_CASES = 273  # groups 12 and 13 in one mode
LIMIT = 8 << 20  # the message limit of the reference programs in the deflate runs


class BuildingBlocks(unittest.TestCase):
    def test_accept_key_of_rfc_example(self):
        self.assertEqual(wp.accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

    def test_mask_at_any_offset(self):
        data = os.urandom(1003)
        mask = os.urandom(4)
        whole = wp.xor_mask(data, mask)
        for cut in (0, 1, 2, 3, 5, 500, 1002):
            self.assertEqual(wp.xor_mask(data[:cut], mask) + wp.xor_mask(data[cut:], mask, cut), whole)
        self.assertEqual(wp.xor_mask(whole, mask), data)

    def test_frame_reader_octet_by_octet(self):
        frames = [
            (1, b"hello", True, 0),
            (0, b"x" * 126, False, 0),
            (2, b"\x00" * 70000, True, 0),
            (9, b"", True, 0),
            (5, b"abc", True, 3),
        ]
        for mask in (None, b"\x01\x02\x03\x04"):
            stream = b"".join(wp.encode_frame(op, p, fin, rsv, mask) for op, p, fin, rsv in frames)
            r = wp.FrameReader()
            got = []
            payload = b""
            step = 1 if mask is None else 7
            for i in range(0, len(stream), step):
                for ev in r.feed(stream[i : i + step]):
                    if ev[0] == "data":
                        payload += ev[1]
                    elif ev[0] == "end":
                        got.append((ev[1].opcode, payload, ev[1].fin, ev[1].rsv))
                        payload = b""
            self.assertEqual(got, frames)

    def test_utf8_validator_agrees_with_autobahn_verdicts(self):
        for title, seqs in cases.utf8_sequences():
            for valid, s in seqs:
                self.assertEqual(wp.utf8_valid(s), valid, "%s: %s" % (title, s.hex()))

    def test_utf8_validator_agrees_with_python(self):
        rnd = random.Random(7)
        pool = [0x00, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0x90, 0xA0, 0x9F]
        for _ in range(20000):
            s = bytes(rnd.choice(pool) for _ in range(rnd.randint(0, 8)))
            try:
                s.decode("utf-8")
                ok = True
            except UnicodeDecodeError:
                ok = False
            v = wp.Utf8Validator()
            step = all(v.feed(s[i : i + 1]) for i in range(len(s))) and v.complete()
            self.assertEqual(wp.utf8_valid(s), ok, s.hex())
            self.assertEqual(step, ok, s.hex())

    def test_utf8_fails_fast(self):
        # The octet that makes the text invalid is rejected as it arrives.
        for prefix, bad in ((cases.KOSME + b"\xf4", b"\x90"), (b"a\xed", b"\xa0"), (b"\xe0", b"\x80"), (b"", b"\xc0")):
            v = wp.Utf8Validator()
            self.assertTrue(v.feed(prefix))
            self.assertFalse(v.feed(bad), (prefix + bad).hex())

    def test_receiver_verdicts(self):
        m = b"\x11\x22\x33\x44"

        def verdict(data, server=True):
            for ev in wp.Receiver(expect_masked=server).feed(data):
                if ev[0] == "error":
                    return ev[1]
                if ev[0] == "close" and ev[3]:
                    return ev[3][0]
            return None

        f = wp.encode_frame
        self.assertIsNone(verdict(f(1, b"ok", True, 0, m)))
        self.assertEqual(verdict(f(1, b"ok", True, 1, m)), 1002)  # RSV
        self.assertEqual(verdict(f(1, b"ok", True, 0, None)), 1002)  # unmasked from a client
        self.assertEqual(verdict(f(1, b"ok", True, 0, m), server=False), 1002)  # masked from a server
        self.assertEqual(verdict(f(3, b"", True, 0, m)), 1002)  # reserved opcode
        self.assertEqual(verdict(f(11, b"", True, 0, m)), 1002)
        self.assertEqual(verdict(f(9, b"x", False, 0, m)), 1002)  # fragmented control
        self.assertEqual(verdict(f(9, b"x" * 126, True, 0, m)), 1002)  # long control
        self.assertEqual(verdict(f(0, b"x", True, 0, m)), 1002)  # nothing to continue
        self.assertEqual(verdict(f(1, b"a", False, 0, m) + f(1, b"b", True, 0, m)), 1002)
        self.assertEqual(verdict(f(1, b"\xed\xa0\x80", True, 0, m)), 1007)
        self.assertEqual(verdict(f(1, b"\xce", True, 0, m)), 1007)  # ends inside a code point
        self.assertEqual(verdict(f(8, b"a", True, 0, m)), 1002)  # 1-octet close
        self.assertEqual(verdict(f(8, wp.close_payload(999), True, 0, m)), 1002)
        self.assertEqual(verdict(f(8, wp.close_payload(1000, b"\xff"), True, 0, m)), 1007)
        self.assertIsNone(verdict(f(8, wp.close_payload(4999, b"bye"), True, 0, m)))
        # 126 encoded with the 64-bit form: not minimal
        self.assertEqual(verdict(bytes([0x82, 0xFF]) + (126).to_bytes(8, "big") + m + b"\0" * 126), 1002)


    # ------------------------------------------------ permessage-deflate
    def test_extension_header_parsing(self):
        got = pd.parse_extensions(['permessage-deflate ;client_max_window_bits ; server_max_window_bits="10", x-y; a=b', ", foo"])
        self.assertEqual(
            got,
            [
                ("permessage-deflate", [("client_max_window_bits", None), ("server_max_window_bits", "10")]),
                ("x-y", [("a", "b")]),
                ("foo", []),
            ],
        )
        for bad in ("permessage-deflate; =1", 'permessage-deflate; a="b c"', "permessage-deflate x", 'a; b="c', "; a"):
            with self.assertRaises(pd.NegotiationError, msg=bad):
                pd.parse_extensions([bad])

    def test_deflate_parameters(self):
        def params(text, answer):
            return pd.parse_params(pd.parse_extensions([text])[0][1], answer)

        p = params("permessage-deflate; server_no_context_takeover; client_max_window_bits; server_max_window_bits=9", False)
        self.assertEqual((p.snct, p.cnct, p.smwb, p.cmwb), (True, False, 9, True))
        self.assertEqual(params("permessage-deflate; client_max_window_bits=15", True).cmwb, 15)
        for text in [offer for offer, _ in cases_deflate.MUST_DECLINE]:
            with self.assertRaises(pd.NegotiationError, msg=text):
                params(text, False)
        for text in [a for a, _ in cases_deflate.MUST_REFUSE if "," not in a and not a.startswith("x-")]:
            with self.assertRaises(pd.NegotiationError, msg=text):
                params(text, True)
        self.assertEqual(params("permessage-deflate; server_max_window_bits=8", True).smwb, 8)

    def test_answer_rules(self):
        def judge(offers, answer):
            return pd.judge_answer(offers, [answer] if answer else [])[0]

        plain = "permessage-deflate; client_max_window_bits"
        self.assertEqual(judge([plain], None), "declined")
        self.assertEqual(judge([plain], "permessage-deflate"), "accepted")
        self.assertEqual(judge([plain], "permessage-deflate; client_max_window_bits=9; server_max_window_bits=12; client_no_context_takeover"), "accepted")
        self.assertEqual(judge(["permessage-deflate"], "permessage-deflate; client_max_window_bits=9"), "illegal")
        self.assertEqual(judge(["permessage-deflate; server_no_context_takeover"], "permessage-deflate"), "illegal")
        self.assertEqual(judge(["permessage-deflate; server_max_window_bits=10"], "permessage-deflate"), "illegal")
        self.assertEqual(judge(["permessage-deflate; server_max_window_bits=10"], "permessage-deflate; server_max_window_bits=11"), "illegal")
        self.assertEqual(judge(["permessage-deflate; server_max_window_bits=10"], "permessage-deflate; server_max_window_bits=9"), "accepted")
        # A second offer can make the answer legal.
        self.assertEqual(judge(["permessage-deflate; server_no_context_takeover, permessage-deflate"], "permessage-deflate"), "accepted")
        self.assertEqual(judge([plain], "permessage-deflate, permessage-deflate"), "illegal")
        self.assertEqual(judge([plain], "x-other"), "illegal")
        self.assertEqual(judge(["permessage-deflate; bogus"], "permessage-deflate"), "illegal")
        # The client keeps to its own hints: client_max_window_bits=10 and
        # client_no_context_takeover bind it whatever the answer says.
        _, a, _ = pd.judge_answer(["permessage-deflate; client_max_window_bits=10; client_no_context_takeover"], ["permessage-deflate; client_max_window_bits=12"])
        self.assertEqual((a.own_window, a.own_nct, a.peer_window, a.peer_nct), (10, True, 15, False))

    def test_specs_as_offers_and_answers(self):
        spec = cases_deflate.Spec(peer_nct=True, peer_window=9, own_window=12)
        self.assertEqual(spec.offer().text(), "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=12")
        offer = pd.parse_params([("client_max_window_bits", "11"), ("server_no_context_takeover", None)], False)
        answer = spec.answer(offer)
        self.assertIsNone(pd.answer_problem(offer, answer))
        self.assertEqual(answer.text(), "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=9")
        self.assertIsNone(spec.answer(pd.Params()))  # client_max_window_bits was not offered
        # Every Spec of the catalogue answers the plain offer legally, or not at all.
        plain = pd.Params(cmwb=True)
        for specs, _ in cases_deflate.AUTOBAHN_SETS:
            for sp in specs:
                a = sp.answer(plain)
                self.assertIsNotNone(a)
                self.assertIsNone(pd.answer_problem(plain, a))

    def test_inflater_rfc_examples(self):
        def inflate(payloads, nct=False):
            inf = pd.Inflater(no_context_takeover=nct)
            out = []
            for p in payloads:
                inf.begin()
                out.append(inf.feed(p) + inf.end())
            return out

        self.assertEqual(inflate([cases_deflate.HELLO_FIXED, cases_deflate.HELLO_AGAIN]), [b"Hello", b"Hello"])
        self.assertEqual(inflate([cases_deflate.HELLO_STORED, cases_deflate.HELLO_TWO_BLOCKS, b"\x00", b"\x02\x00"]), [b"Hello", b"Hello", b"", b""])
        # After a BFINAL block the next message still sees the window.
        self.assertEqual(inflate([cases_deflate.HELLO_BFINAL, cases_deflate.HELLO_AGAIN]), [b"Hello", b"Hello"])
        with self.assertRaises(pd.DeflateError):
            inflate([cases_deflate.HELLO_FIXED, cases_deflate.HELLO_AGAIN], nct=True)
        with self.assertRaises(pd.DeflateError):
            inflate([b"\x06\x00"])

    def test_inflater_limit_and_deflater(self):
        big = b"a" * 100000
        d = pd.Deflater()
        payload = d.compress(big)
        self.assertLess(len(payload), 1000)
        self.assertFalse(payload.endswith(pd.TAIL))
        inf = pd.Inflater()
        inf.begin()
        self.assertEqual(inf.feed(payload, 100000) + inf.end(0), big)
        inf = pd.Inflater()
        inf.begin()
        with self.assertRaises(pd.TooBig):
            inf.feed(payload, 99999)
            inf.end(0)
        # Context takeover: a second copy of 2000 random octets costs a few
        # octets; without it, as much as the first.
        noise = os.urandom(2000)
        for nct in (False, True):
            dn = pd.Deflater(no_context_takeover=nct)
            first = len(dn.compress(noise))
            second = len(dn.compress(noise))
            self.assertGreater(first, 2000)
            if nct:
                self.assertEqual(second, first)
            else:
                self.assertLess(second, 100)
        for w in (8, 9, 12, 15):
            dw = pd.Deflater(window_bits=w)
            data = os.urandom(3000) * 3
            walk = pd.walk(dw.compress(data) + pd.TAIL)
            self.assertEqual(walk.output, len(data))
            self.assertLessEqual(walk.max_distance, 1 << w)

    def test_walker_agrees_with_zlib(self):
        rnd = random.Random(11)
        for kind in ("json", "random", "utf8", "html", "records"):
            data = cases_deflate.corpus(kind)[:40000]
            for w in (9, 11, 15):
                for level in (1, 6, 9):
                    c = zlib.compressobj(level, zlib.DEFLATED, -w)
                    payload = (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
                    walk = pd.walk(payload + pd.TAIL)
                    self.assertEqual(walk.output, len(data))
                    self.assertLessEqual(walk.max_distance, (1 << w) - 262)
        # Corrupted data raises DeflateError or walks; nothing else.
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        good = c.compress(cases_deflate.corpus("json")[:3000]) + c.flush(zlib.Z_SYNC_FLUSH)
        for _ in range(300):
            bad = bytearray(good)
            for _ in range(2):
                bad[rnd.randrange(len(bad))] = rnd.randrange(256)
            try:
                pd.walk(bytes(bad))
            except pd.DeflateError:
                pass

    def test_zlib_misses_a_window_violation_the_walker_catches(self):
        # 1000 random octets twice, compressed with a 32 KiB window: the
        # copy refers 1000 octets back.  Inflated in one call with a 512-octet
        # window (9 bits), zlib does not object: it only checks a distance
        # against the output of the current call plus its window.
        block = os.urandom(1000)
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        payload = c.compress(block * 2) + c.flush(zlib.Z_SYNC_FLUSH)
        self.assertEqual(zlib.decompressobj(-9).decompress(payload), block * 2)
        self.assertEqual(pd.walk(payload).max_distance, 1000)

    def test_receiver_deflate_verdicts(self):
        m = b"\x11\x22\x33\x44"
        f = wp.encode_frame

        def run(data, limit=None, nct=False):
            r = wp.Receiver(expect_masked=True, inflater=pd.Inflater(no_context_takeover=nct), max_message=limit)
            got = []
            for ev in r.feed(data):
                if ev[0] == "error":
                    return ev[1]
                if ev[0] == "message":
                    got.append((ev[2], ev[3]["compressed"]))
            return got

        hello = cases_deflate.HELLO_FIXED
        self.assertEqual(run(f(1, hello, True, 4, m)), [(b"Hello", True)])
        self.assertEqual(run(f(1, hello[:3], False, 4, m) + f(0, hello[3:], True, 0, m)), [(b"Hello", True)])
        self.assertEqual(run(f(1, b"plain", True, 0, m)), [(b"plain", False)])
        self.assertEqual(run(f(1, hello[:3], False, 4, m) + f(0, hello[3:], True, 4, m)), 1002)  # RSV1 on a continuation
        self.assertEqual(run(f(9, b"", True, 4, m)), 1002)  # RSV1 on a ping
        self.assertEqual(run(f(1, hello, True, 6, m)), 1002)  # RSV2
        self.assertEqual(run(f(1, b"\x06\x00", True, 4, m)), 1007)  # does not inflate
        self.assertEqual(run(f(1, pd.Deflater().compress(cases.KOSME + b"\xed\xa0\x80"), True, 4, m)), 1007)  # invalid UTF-8 inside
        self.assertEqual(run(f(1, pd.Deflater().compress(b"x" * 5000), True, 4, m), limit=4999), 1009)
        self.assertEqual(len(run(f(1, pd.Deflater().compress(b"x" * 5000), True, 4, m), limit=5000)), 1)
        two = f(1, hello, True, 4, m) + f(1, cases_deflate.HELLO_AGAIN, True, 4, m)
        self.assertEqual(run(two), [(b"Hello", True), (b"Hello", True)])
        self.assertEqual(run(two, nct=True), 1007)  # no context takeover: each message on its own
        # Without the extension RSV1 stays an error.
        self.assertEqual(
            [ev[1] for ev in wp.Receiver(expect_masked=True).feed(f(1, hello, True, 4, m)) if ev[0] == "error"], [1002]
        )

    def test_deflate_catalogue(self):
        for mode, only in (("server", "13.11"), ("client", "13.12")):
            cat = cases.Catalogue(fuzzer.Options(groups=(12, 13), mode=mode))
            subs = {}
            for c in cat.cases:
                sub = ".".join(c.id.split(".")[:2])
                subs[sub] = subs.get(sub, 0) + 1
            want = {"12.%d" % i: 18 for i in range(1, 6)}
            want.update({"13.%d" % i: 18 for i in range(1, 8)})
            want.update({"12.6": 24, "13.8": 7, "13.9": 9, "13.10": 4, only: 13})
            self.assertEqual(subs, want, mode)
            self.assertEqual(len(cat.cases), DEFLATE_CASES)
        self.assertEqual(len(cases.Catalogue(fuzzer.Options()).cases), 301)
        for size, count in ((16, 250), (1024, 250), (4096, 128), (131072, 4)):
            self.assertEqual(cases_deflate.message_count(size, 0.25), count)
        for kind, text in (("json", True), ("utf8", True), ("html", True)):
            for size in (16, 1000, 70000):
                for piece in cases_deflate.messages(kind, text, size, 5):
                    self.assertEqual(len(piece), size)
                    piece.decode("utf-8")


class ReferencePrograms(unittest.TestCase):
    def check_clean(self, status, report, out):
        got = outcomes(report)
        bad = {k: v for k, v in got.items() if v != "OK" and not (k in INFORMATIONAL and v == "INFORMATIONAL")}
        self.assertEqual(bad, {}, out)
        self.assertEqual(len(got), 301)
        self.assertEqual(status, 0, out)

    def test_server_mode(self):
        self.check_clean(*run_suite(ref_server()))

    def test_client_mode(self):
        self.check_clean(*run_suite(ref_client()))


# fault -> (cases to run, cases that must be FAILED, cases that must be NON-STRICT)
SERVER_FAULTS = {
    "utf8": ("6.2.*,6.3.*,6.4.*,6.8.*,6.12.*,7.5.1", "6.3.*,6.4.*,6.8.*,6.12.*,7.5.1", ""),
    "rsv": ("3.*", "3.1,3.2,3.3,3.4,3.5,3.6", ""),
    "opcode": ("4.*", "4.*", ""),
    "continuation": ("5.3,5.9,5.10,5.11,5.12,5.13,5.14,5.15,5.16,5.17,5.18", "5.9,5.10,5.11,5.12,5.13,5.14,5.15,5.16,5.17,5.18", ""),
    "control": ("2.4,2.5,5.1,7.3.6", "2.5,5.1,7.3.6", ""),
    "close-code": ("7.7.1,7.9.*", "7.9.*", ""),
    "no-pong": ("1.1.1,2.1,2.10,5.6,5.19", "2.1,2.10,5.6,5.19", ""),
    "no-close-reply": ("1.1.1,7.3.3,7.9.1", "1.1.1,7.3.3", ""),
    "close-1002": ("1.1.1,7.7.1,7.7.13,7.9.1", "7.7.1,7.7.13", "1.1.1"),
    "linger": ("1.1.6,5.3,2.5", "1.1.6,5.3", ""),
    "mask": ("1.1.1,2.1,6.3.1", "1.1.1,2.1,6.3.1", ""),
}
CLIENT_FAULTS = {
    "utf8": ("6.2.1,6.3.1,6.4.1,7.5.1", "6.3.1,6.4.1,7.5.1", ""),
    "no-mask": ("1.1.1,2.5,7.9.1", "1.1.1,2.5,7.9.1", ""),
    "no-pong": ("1.1.1,2.2", "2.2", ""),
    "no-close-reply": ("1.1.1,7.3.3", "1.1.1,7.3.3", ""),
    "close-1002": ("7.3.3,7.7.2", "7.3.3,7.7.2", ""),
    "close-code": ("7.7.13,7.9.2", "7.9.2", ""),
    "continuation": ("5.3,5.9,5.16", "5.9,5.16", ""),
}


class BrokenVariants(unittest.TestCase):
    def check(self, mode, fault, spec):
        selection, want_failed, want_non_strict = spec
        status, report, out = run_suite(mode(fault), ["--cases", selection, "--jobs", "8"])
        cat = cases.Catalogue(fuzzer.Options())
        failed = {c.id for c in cat.select(want_failed.split(","))} if want_failed else set()
        non_strict = {c.id for c in cat.select(want_non_strict.split(","))} if want_non_strict else set()
        got = outcomes(report)
        for cid, outcome in got.items():
            if cid in failed:
                want = "FAILED"
            elif cid in non_strict:
                want = "NON-STRICT"
            elif cid in INFORMATIONAL:
                want = "INFORMATIONAL"
            else:
                want = "OK"
            self.assertEqual(outcome, want, "fault %s, case %s\n%s" % (fault, cid, out))
        self.assertTrue(failed | non_strict <= set(got), out)
        self.assertNotEqual(status, 0)

    def test_server_faults(self):
        for fault, spec in SERVER_FAULTS.items():
            with self.subTest(fault=fault):
                self.check(ref_server, fault, spec)

    def test_client_faults(self):
        for fault, spec in CLIENT_FAULTS.items():
            with self.subTest(fault=fault):
                self.check(ref_client, fault, spec)


class DeflateReference(unittest.TestCase):
    """Groups 1 to 13 against the reference programs with --deflate and a
    declared limit of 8 MiB (so that 12.6.23 has something to test)."""

    def check(self, status, report, out):
        got = outcomes(report)
        bad = {k: v for k, v in got.items() if v != "OK" and not (k in INFORMATIONAL and v == "INFORMATIONAL")}
        self.assertEqual(bad, {}, out)
        self.assertEqual(len(got), 301 + DEFLATE_CASES)
        self.assertEqual(status, 0, out)

    def test_server_mode(self):
        extra = "--deflate --max-message %d" % LIMIT
        self.check(*run_suite(ref_server(extra=extra), ["--deflate", "--peer-max-message", str(LIMIT)]))

    def test_client_mode(self):
        extra = "--deflate --max-message %d" % LIMIT
        self.check(*run_suite(ref_client(extra=extra), ["--deflate", "--peer-max-message", str(LIMIT)]))


# fault -> (cases to run, cases that must be FAILED, cases that must be NON-STRICT)
DEFLATE_SERVER_FAULTS = {
    "rsv1-cont": ("12.1.1,12.1.5,12.6.3,12.6.10", "12.1.5,12.6.10", ""),
    "rsv1-control": ("12.1.1,12.6.11,12.6.24", "12.1.1,12.6.11", ""),
    "context-takeover": ("13.1.5,13.2.5,13.6.10,13.10.1,13.11.13", "13.2.5,13.6.10,13.10.1,13.11.13", ""),
    "window": ("13.3.1,13.4.5,13.5.10,13.8.1,13.8.7,13.10.2,13.11.10", "13.3.1,13.5.10,13.8.1,13.10.2,13.11.10", ""),
    "keep-tail": ("12.1.5,12.6.4,13.2.5", "12.1.5,12.6.4", ""),
    "no-tail": ("12.2.3,12.6.12,13.9.1", "12.2.3,12.6.12", ""),
    "inflate-limit": ("12.6.22,12.6.23", "12.6.23", ""),
    "accept-any": ("13.11.1,13.11.2,13.11.3,13.11.4,13.11.5,13.11.6,13.11.7,13.11.8,13.11.9", "13.11.1,13.11.2,13.11.3,13.11.4,13.11.5,13.11.6,13.11.7,13.11.8", ""),
    "ignore-offer-params": ("13.1.1,13.2.1,13.3.1,13.7.5,13.11.13", "13.2.1,13.3.1,13.11.13", ""),
    "rsv": ("12.6.14,12.6.15,12.6.16,12.6.17,12.6.18,12.6.19,12.6.24", "12.6.14,12.6.15,12.6.16,12.6.17,12.6.19", "12.6.18,12.6.24"),
    "utf8": ("12.6.12,12.6.13", "12.6.13", ""),
}
DEFLATE_CLIENT_FAULTS = {
    "rsv1-cont": ("12.1.1,12.1.5,12.6.10", "12.1.5,12.6.10", ""),
    "rsv1-control": ("12.1.1,12.6.11,12.6.24", "12.1.1,12.6.11", ""),
    "context-takeover": ("13.1.5,13.2.5,13.10.1", "13.2.5,13.10.1", ""),
    "window": ("13.3.1,13.4.5,13.8.1,13.8.7", "13.3.1,13.8.1", ""),
    "keep-tail": ("12.1.5,13.2.5,13.12.11", "12.1.5,13.12.11", ""),
    "no-tail": ("12.2.3,13.9.1", "12.2.3", ""),
    "inflate-limit": ("12.6.22,12.6.23", "12.6.23", ""),
    "accept-any": ("13.12.*", "13.12.1,13.12.2,13.12.3,13.12.4,13.12.5,13.12.6,13.12.7,13.12.8,13.12.9,13.12.10", ""),
    "rsv": ("12.6.14,12.6.16,12.6.18", "12.6.14,12.6.16", "12.6.18"),
}


class DeflateBrokenVariants(unittest.TestCase):
    def check(self, mode_name, mode, fault, spec):
        selection, want_failed, want_non_strict = spec
        limit = 1000000
        args = ["--deflate", "--groups", "12-13", "--peer-max-message", str(limit), "--cases", selection, "--jobs", "4"]
        status, report, out = run_suite(mode(fault, "--deflate --max-message %d" % limit), args)
        cat = cases.Catalogue(fuzzer.Options(groups=(12, 13), mode=mode_name))
        failed = {c.id for c in cat.select(want_failed.split(","))} if want_failed else set()
        non_strict = {c.id for c in cat.select(want_non_strict.split(","))} if want_non_strict else set()
        got = outcomes(report)
        for cid, outcome in got.items():
            want = "FAILED" if cid in failed else "NON-STRICT" if cid in non_strict else "OK"
            self.assertEqual(outcome, want, "fault %s, case %s\n%s" % (fault, cid, out))
        self.assertTrue(failed | non_strict <= set(got), out)
        self.assertNotEqual(status, 0)

    def test_server_faults(self):
        for fault, spec in DEFLATE_SERVER_FAULTS.items():
            with self.subTest(fault=fault):
                self.check("server", ref_server, fault, spec)

    def test_client_faults(self):
        for fault, spec in DEFLATE_CLIENT_FAULTS.items():
            with self.subTest(fault=fault):
                self.check("client", ref_client, fault, spec)


def have_websockets():
    if not os.access(SYSTEM_PY, os.X_OK):
        return False
    return subprocess.run([SYSTEM_PY, "-c", "import websockets"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


@unittest.skipUnless(have_websockets(), "%s has no websockets package (Debian: python3-websockets)" % SYSTEM_PY)
class PythonWebsockets(unittest.TestCase):
    """An independent strict implementation must not fail any case."""

    def check(self, mode_args):
        status, report, out = run_suite(mode_args, ["--allow-non-strict"])
        got = outcomes(report)
        self.assertEqual([k for k, v in got.items() if v == "FAILED"], [], out)
        self.assertEqual(status, 0, out)

    def test_server(self):
        prog = "%s %s server" % (SYSTEM_PY, shlex.quote(os.path.join(here, "pyws_echo.py")))
        self.check(["--server", "ws://127.0.0.1:0/", "--server-cmd", prog])

    def test_client(self):
        prog = "%s %s client {url}" % (SYSTEM_PY, shlex.quote(os.path.join(here, "pyws_echo.py")))
        self.check(["--client-port", "0", "--client-cmd", prog])


# python-websockets 10.4 accepts server_max_window_bits=8, then cannot make
# a raw deflate stream with an 8-bit window (zlib refuses it) and answers the
# opening handshake with 500: 13.11.12 fails, as it should.
PYWS_KNOWN_FAILED = {"13.11.12"}


@unittest.skipUnless(have_websockets(), "%s has no websockets package (Debian: python3-websockets)" % SYSTEM_PY)
class PythonWebsocketsDeflate(unittest.TestCase):
    """Groups 12 and 13 against python-websockets with compression="deflate"
    (its defaults: windows of 12 bits); no FAILED case but the known one."""

    def check(self, mode_args):
        status, report, out = run_suite(mode_args, ["--deflate", "--groups", "12-13"])
        got = outcomes(report)
        self.assertEqual({k for k, v in got.items() if v == "FAILED"} - PYWS_KNOWN_FAILED, set(), out)
        self.assertEqual(len(got), DEFLATE_CASES)
        self.assertEqual(report["errors"], [], out)

    def test_server(self):
        prog = "%s %s server --deflate" % (SYSTEM_PY, shlex.quote(os.path.join(here, "pyws_echo.py")))
        self.check(["--server", "ws://127.0.0.1:0/", "--server-cmd", prog])

    def test_client(self):
        prog = "%s %s client {url} --deflate" % (SYSTEM_PY, shlex.quote(os.path.join(here, "pyws_echo.py")))
        self.check(["--client-port", "0", "--client-cmd", prog])


def main():
    global SCALE
    argv = list(sys.argv[1:])
    if "--scale" in argv:
        i = argv.index("--scale")
        SCALE = float(argv[i + 1])
        del argv[i : i + 2]
    unittest.main(argv=[sys.argv[0], "-v"] + argv)


if __name__ == "__main__":
    main()
