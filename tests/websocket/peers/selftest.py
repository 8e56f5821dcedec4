#!/usr/bin/env python3
"""selftest.py [unittest arguments]: tests of the peer tests themselves.

Runs run_peers.py against the stand-in echo programs of standins/ (Python
`websockets`, /usr/bin/python3):

- StandIns: the correct stand-ins pass every test, with both peers;
- BrokenServer, BrokenClient: with each deliberate fault (--broken), the
  tests that must catch it fail and a few control tests still pass;
- Coverage: every test of run_peers.py is made to fail by at least one
  fault, so none of them passes whatever the program does.

  python3 selftest.py                  # everything
  python3 selftest.py BrokenServer     # one class
  python3 selftest.py BrokenClient.test_no_pong
"""
import concurrent.futures
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "run_peers.py")
PY = "/usr/bin/python3"
SERVER = "%s %s {port}" % (PY, os.path.join(HERE, "standins", "echo_server.py"))
CLIENT = "%s %s {url}" % (PY, os.path.join(HERE, "standins", "echo_client.py"))
# The fault runs use short waits (some faults are caught by a wait running
# out) and run JOBS at a time; the run against the correct stand-ins runs
# alone with the normal waits.
FAULT_TIMEOUT = "2"
JOBS = 3

# fault: (globs of tests that must fail, globs of control tests that must pass)
SERVER_FAULTS = {
    "binary-as-text": (["server.*.binary-*", "server.*.fragmented-binary", "server.python.fragmented-async"], ["server.*.text-126", "server.*.utf8-text"]),
    "text-as-binary": (["server.*.text-*", "server.*.utf8-*", "server.*.fragmented-text", "server.*.fragmented-many"], ["server.*.binary-126", "server.*.fragmented-binary"]),
    "mangle-utf8": (["server.*.utf8-*", "server.*.fragmented-text", "server.*.concurrent-50x20"], ["server.*.text-65536", "server.*.binary-65536"]),
    "truncate": (["server.*.text-4194304", "server.*.binary-4194304", "server.*.binary-16777216"], ["server.*.binary-65536", "server.*.text-65536"]),
    "small-limit": (["server.*.text-4194304", "server.*.binary-4194304", "server.*.binary-16777216"], ["server.*.binary-65536"]),
    "split": (["server.*.fragmented-*", "server.*.text-126", "server.*.binary-65536"], ["server.*.text-0", "server.*.text-1", "server.*.binary-1"]),
    "no-pong": (["server.*.ping", "server.*.ping-empty", "server.*.ping-125", "server.*.fragmented-ping"], ["server.*.text-126", "server.*.pong-unsolicited"]),
    "close-on-pong": (["server.*.pong-unsolicited"], ["server.*.ping", "server.*.text-126"]),
    "drop-close-code": (["server.*.close-4000", "server.*.close-1000", "server.*.close-reason-123"], ["server.*.close-empty", "server.*.text-1"]),
    "no-close-reply": (["server.*.close-*"], ["server.*.text-1"]),
    "accept-deflate": (["server.*.handshake"], ["server.node.text-1"]),
    "root-only": (["server.*.any-path"], ["server.*.text-1"]),
    "unrequested-protocol": (["server.*.protocol-none-offered"], ["server.*.protocol-server-preference", "server.*.handshake"]),
    "client-preference": (["server.*.protocol-server-preference"], ["server.*.protocol-single", "server.*.protocol-skip-unknown", "server.*.protocol-unknown-only"]),
    "any-protocol": (["server.*.protocol-skip-unknown", "server.*.protocol-unknown-only", "server.*.protocol-not-configured"], ["server.*.protocol-none-offered", "server.*.protocol-single"]),
    "no-protocol": (["server.*.protocol-server-preference", "server.*.protocol-single", "server.*.protocol-skip-unknown"], ["server.*.protocol-none-offered", "server.*.protocol-unknown-only", "server.*.protocol-not-configured"]),
    "serial": (["server.*.concurrent-50x20"], ["server.*.text-1"]),
    "bad-sigterm": (["server.*.sigterm"], ["server.*.text-1"]),
}

CLIENT_FAULTS = {
    "binary-as-text": (["client.*.echo"], ["client.*.subprotocol", "client.*.close-no-code"]),
    "text-as-binary": (["client.*.echo", "client.*.subprotocol", "client.*.close-no-code", "client.*.abort"], ["client.*.wrong-protocol", "client.*.bad-accept", "client.refused"]),
    "mangle-utf8": (["client.*.echo"], ["client.*.subprotocol"]),
    "truncate": (["client.*.echo"], ["client.*.subprotocol"]),
    "small-limit": (["client.*.echo"], ["client.*.subprotocol"]),
    "split": (["client.*.echo", "client.*.subprotocol"], ["client.*.status-200"]),
    "no-pong": (["client.*.echo"], ["client.*.subprotocol"]),
    "drop-close-code": (["client.*.echo", "client.*.subprotocol", "client.*.abort"], ["client.*.close-no-code"]),
    "drop-reason": (["client.*.echo"], ["client.*.subprotocol", "client.*.close-no-code"]),
    "abort-as-1000": (["client.*.abort"], ["client.*.echo"]),
    "accept-any-protocol": (["client.*.wrong-protocol", "client.*.unrequested-protocol"], ["client.*.bad-accept", "client.*.subprotocol"]),
    "no-accept-check": (["client.*.bad-accept", "client.*.no-upgrade"], ["client.*.status-200", "client.*.wrong-protocol"]),
    "protocol-dash": (["client.*.subprotocol"], ["client.*.echo"]),
    "exit-1": (["client.*.echo", "client.*.subprotocol", "client.*.close-no-code"], ["client.*.abort", "client.*.bad-accept"]),
    "exit-0-on-failure": (["client.refused", "client.*.bad-accept", "client.*.status-200", "client.*.wrong-protocol"], ["client.*.echo"]),
}


def run_peers(*args):
    """Run run_peers.py; return (exit status, {test name: result}, output)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        p = subprocess.run(
            [sys.executable, RUNNER, "--report", report] + list(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
        out = p.stdout.decode("utf-8", "replace")
        results = {}
        if os.path.exists(report):
            with open(report, encoding="utf-8") as f:
                results = {t["name"]: t for t in json.load(f)["tests"]}
        return p.returncode, results, out


class StandIns(unittest.TestCase):
    def test_correct_standins_pass_everything(self):
        rc, results, out = run_peers("--server-cmd", SERVER, "--client-cmd", CLIENT)
        failed = [n for n, t in results.items() if not t["ok"]]
        self.assertEqual(failed, [], out)
        self.assertEqual(rc, 0, out)
        self.assertGreater(len(results), 90, out)


def run_fault(mode, fault, must_fail, controls):
    args = ["--timeout", FAULT_TIMEOUT]
    for g in must_fail + controls:
        args += ["--only", g]
    if mode == "server":
        args += ["--server-cmd", SERVER + " --broken " + fault]
    else:
        args += ["--client-cmd", CLIENT + " --broken " + fault]
    return run_peers(*args)


class FaultCase:
    """Runs each fault (JOBS at a time); checks the tests that must catch it
    and the controls."""

    mode = None  # "server" or "client"
    faults = {}
    runs = {}

    @classmethod
    def setUpClass(cls):
        cls.pool = concurrent.futures.ThreadPoolExecutor(max_workers=JOBS)
        wanted = [t.id().rsplit(".", 1)[1] for t in unittest.defaultTestLoader.loadTestsFromTestCase(cls)]
        cls.runs = {
            fault: cls.pool.submit(run_fault, cls.mode, fault, *cls.faults[fault])
            for fault in cls.faults
            if "test_" + fault.replace("-", "_") in wanted and cls.selected(fault)
        }

    @classmethod
    def tearDownClass(cls):
        cls.pool.shutdown(wait=True)

    @classmethod
    def selected(cls, fault):
        # run only the faults named on the command line, if any are
        names = [a for a in sys.argv[1:] if not a.startswith("-")]
        if not names or any(n == cls.__name__ for n in names):
            return True
        return any(n == "%s.test_%s" % (cls.__name__, fault.replace("-", "_")) for n in names)

    def check_fault(self, fault):
        must_fail, controls = self.faults[fault]
        if fault not in self.runs:
            self.runs[fault] = self.pool.submit(run_fault, self.mode, fault, must_fail, controls)
        rc, results, out = self.runs[fault].result()
        self.assertTrue(results, out)
        for g in must_fail:
            matched = [n for n in results if fnmatch.fnmatchcase(n, g)]
            self.assertTrue(matched, "no test matches %s\n%s" % (g, out))
            passed = [n for n in matched if results[n]["ok"]]
            self.assertEqual(passed, [], "fault %s: these should have failed\n%s" % (fault, out))
        for g in controls:
            matched = [n for n in results if fnmatch.fnmatchcase(n, g)]
            self.assertTrue(matched, "no test matches %s\n%s" % (g, out))
            failed = [n for n in matched if not results[n]["ok"] and not any(fnmatch.fnmatchcase(n, m) for m in must_fail)]
            self.assertEqual(failed, [], "fault %s: controls failed\n%s" % (fault, out))
        self.assertEqual(rc, 1, out)


def add_fault_tests(cls):
    for fault in cls.faults:
        def test(self, fault=fault):
            self.check_fault(fault)

        setattr(cls, "test_" + fault.replace("-", "_"), test)
    return cls


@add_fault_tests
class BrokenServer(FaultCase, unittest.TestCase):
    mode = "server"
    faults = SERVER_FAULTS


@add_fault_tests
class BrokenClient(FaultCase, unittest.TestCase):
    mode = "client"
    faults = CLIENT_FAULTS


class Coverage(unittest.TestCase):
    def test_every_test_can_fail(self):
        p = subprocess.run(
            [sys.executable, RUNNER, "--list", "--server-cmd", SERVER, "--client-cmd", CLIENT],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=120,
        )
        names = [l for l in p.stdout.decode().splitlines() if l and not l.startswith("#")]
        self.assertGreater(len(names), 90, p.stdout.decode())
        globs = [g for table in (SERVER_FAULTS, CLIENT_FAULTS) for must_fail, _ in table.values() for g in must_fail]
        uncovered = [n for n in names if not any(fnmatch.fnmatchcase(n, g) for g in globs)]
        self.assertEqual(uncovered, [], "tests that no fault makes fail")

    def test_stand_ins_know_the_faults(self):
        for prog, table in (("echo_server.py", SERVER_FAULTS), ("echo_client.py", CLIENT_FAULTS)):
            p = subprocess.run([PY, os.path.join(HERE, "standins", prog), "--list-faults"], stdout=subprocess.PIPE, timeout=60)
            known = {l.split()[0] for l in p.stdout.decode().splitlines() if l.strip()}
            self.assertEqual(sorted(set(table) - known), [], prog)
            self.assertEqual(sorted(known - set(table)), [], "%s: faults without a test" % prog)


if __name__ == "__main__":
    unittest.main(verbosity=2)
