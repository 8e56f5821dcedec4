#!/usr/bin/env python3
"""End-to-end test of the nnghttp command: `serve` on the bundled demo site
(curl and `nnghttp get` as clients, Common Log Format lines, SIGTERM stops
it with status 0) and `get`'s distinct exit codes.

Usage: test_cli.py NNGHTTP DEMO_SITE
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

NNGHTTP = sys.argv[1] if len(sys.argv) > 1 else "nnghttp"
SITE = sys.argv[2] if len(sys.argv) > 2 else "share/demo-site"


def run(*args, timeout=20):
    return subprocess.run([NNGHTTP, *args], capture_output=True, timeout=timeout)


class Serve(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.log = tempfile.TemporaryFile()
        cls.proc = subprocess.Popen([NNGHTTP, "serve", "--listen", "http://127.0.0.1:0"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = cls.proc.stdout.readline().decode()
        m = re.search(r"serving (\S+) at (http://127\.0\.0\.1:\d+)/", line)
        if not m:
            cls.proc.kill()
            raise RuntimeError("no address line from nnghttp serve: %r" % line)
        cls.root = m.group(2)
        cls.served_dir = m.group(1)

    @classmethod
    def tearDownClass(cls):
        if cls.proc.poll() is None:
            cls.proc.kill()
            cls.proc.wait(5)

    def test_1_demo_site_by_default(self):
        self.assertEqual(os.path.realpath(self.served_dir), os.path.realpath(SITE))
        out = subprocess.run(["curl", "-s", "--max-time", "10", self.root + "/"],
                             capture_output=True).stdout
        with open(os.path.join(SITE, "index.html"), "rb") as f:
            self.assertEqual(out, f.read())
        out = subprocess.run(["curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w",
                              "%{http_code} %{content_type}", self.root + "/docs/"],
                             capture_output=True).stdout.decode()
        self.assertEqual(out.split()[0], "200")
        self.assertIn("text/html", out)
        out = subprocess.run(["curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w",
                              "%{http_code}", self.root + "/../../etc/passwd"],
                             capture_output=True).stdout.decode()
        self.assertEqual(out, "404")

    def test_2_get(self):
        r = run("get", self.root + "/hello.txt")
        self.assertEqual(r.returncode, 0)
        with open(os.path.join(SITE, "hello.txt"), "rb") as f:
            self.assertEqual(r.stdout, f.read())
        with tempfile.TemporaryDirectory() as d:
            dest = os.path.join(d, "out.html")
            r = run("get", "-o", dest, self.root + "/")
            self.assertEqual(r.returncode, 0)
            self.assertEqual(r.stdout, b"")
            with open(dest, "rb") as f, open(os.path.join(SITE, "index.html"), "rb") as g:
                self.assertEqual(f.read(), g.read())
        r = run("get", "-i", self.root + "/hello.txt")
        self.assertTrue(r.stdout.startswith(b"HTTP/1.1 200 OK\r\n"), r.stdout[:40])
        self.assertIn(b"\r\nETag: ", r.stdout)

    def test_3_get_fail_exit_code(self):
        r = run("get", "--fail", self.root + "/missing")
        self.assertEqual(r.returncode, 22)
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"404", r.stderr)
        r = run("get", self.root + "/missing")
        self.assertEqual(r.returncode, 0, "without --fail an error page is a body")

    def test_4_log_and_sigterm(self):
        run("get", self.root + "/hello.txt")
        self.proc.send_signal(signal.SIGTERM)
        rest = self.proc.stdout.read().decode()
        self.assertEqual(self.proc.wait(10), 0)
        clf = re.compile(r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
                         r'"GET /hello\.txt HTTP/1\.1" 200 \d+$', re.M)
        self.assertRegex(rest, clf)
        self.assertIn("stopping (SIGTERM)", rest)


class ExitCodes(unittest.TestCase):
    def test_errors(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nobody listens there now
        self.assertEqual(run("get", "http://127.0.0.1:%d/" % port).returncode, 5)
        self.assertEqual(run("get", "not a url").returncode, 3)
        self.assertEqual(run("get", "ftp://127.0.0.1/").returncode, 3)
        self.assertEqual(run("get", "http://name.invalid/").returncode, 4)
        self.assertEqual(run("get").returncode, 2)
        self.assertEqual(run("bogus").returncode, 2)
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(b"nnghttp "))
        # A server that accepts and never answers: the timeout fires.
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        t0 = time.monotonic()
        r = run("get", "--timeout", "0.5", "http://127.0.0.1:%d/" % ls.getsockname()[1])
        self.assertEqual(r.returncode, 7)
        self.assertLess(time.monotonic() - t0, 10)
        ls.close()


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
