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
import fuzzer  # noqa: E402
import wsproto as wp  # noqa: E402

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


def ref_server(faults=""):
    cmd = "%s %s" % (PY, shlex.quote(os.path.join(here, "ref_echo_server.py")))
    if faults:
        cmd += " --broken " + faults
    return ["--server", "ws://127.0.0.1:0/", "--server-cmd", cmd]


def ref_client(faults=""):
    cmd = "%s %s {url}" % (PY, shlex.quote(os.path.join(here, "ref_echo_client.py")))
    if faults:
        cmd += " --broken " + faults
    return ["--client-port", "0", "--client-cmd", cmd]


def outcomes(report):
    return {c["id"]: c["outcome"] for c in report["cases"]}


INFORMATIONAL = {"7.1.6", "7.13.1", "7.13.2"}


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
