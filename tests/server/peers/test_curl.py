"""curl (Debian 12's 7.88) against server_app_ours: keep-alive, HEAD,
uploads (plain, chunked, Expect: 100-continue), byte ranges and
conditional GET."""
import os
import re
import subprocess
import tempfile
import unittest

from peerlib import HELLO, HOST, ServerTestCase, Site, one_bin

SITE = None
SIZE = 1 << 20


def setUpModule():
    global SITE
    SITE = Site()


def tearDownModule():
    SITE.cleanup()


class Fetch:
    """One curl transfer: the last response's status and headers (curl's
    --dump-header file, which also holds any 100 Continue block), its body
    and curl's verbose stderr."""

    def __init__(self, proc, head_text, body):
        self.returncode = proc.returncode
        self.stderr = proc.stderr.decode(errors="replace")
        self.body = body
        blocks = [b for b in re.split(r"\r\n\r\n", head_text) if b.strip()]
        self.blocks = blocks
        last = blocks[-1].split("\r\n") if blocks else [""]
        m = re.match(r"HTTP/\S+ (\d+)", last[0])
        self.status = int(m.group(1)) if m else None
        self.headers = {}
        for line in last[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def header(self, name):
        return self.headers.get(name.lower())


class CurlTestCase(ServerTestCase):
    def setUp(self):
        self.port = self.start_app(SITE).port
        self.tmp = tempfile.mkdtemp(prefix="nnghttp-curl-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.tmp]))

    def url(self, path):
        return "http://%s:%d%s" % (HOST, self.port, path)

    def curl(self, *args, timeout=30):
        p = subprocess.run(
            ["curl", "-sS", "-v", "--max-time", str(timeout)] + list(args),
            capture_output=True,
            timeout=timeout + 15,
        )
        return p

    def fetch(self, path, *args, timeout=30):
        head = os.path.join(self.tmp, "head")
        out = os.path.join(self.tmp, "body")
        for f in (head, out):
            if os.path.exists(f):
                os.unlink(f)
        p = self.curl("-D", head, "-o", out, *args, self.url(path), timeout=timeout)
        head_text = open(head, "rb").read().decode("latin-1") if os.path.exists(head) else ""
        body = open(out, "rb").read() if os.path.exists(out) else b""
        f = Fetch(p, head_text, body)
        self.assertEqual(f.returncode, 0, f.stderr)
        return f

    def upload_file(self, data):
        path = os.path.join(self.tmp, "upload.bin")
        with open(path, "wb") as f:
            f.write(data)
        return path


class KeepAliveAndHead(CurlTestCase):
    def test_two_urls_reuse_the_connection(self):
        a = os.path.join(self.tmp, "a")
        b = os.path.join(self.tmp, "b")
        p = self.curl(self.url("/static"), "-o", a, self.url("/site/hello.txt"), "-o", b)
        err = p.stderr.decode(errors="replace")
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("Re-using existing connection", err)
        self.assertEqual(err.count("Connected to"), 1, err)
        self.assertEqual(open(a, "rb").read(), HELLO)
        self.assertEqual(open(b, "rb").read(), SITE.read("www/hello.txt"))

    def test_head(self):
        # Two HEADs on one connection: a body after either head would be
        # taken as the start of the next response.
        p = self.curl("-I", self.url("/static"), self.url("/file"))
        err = p.stderr.decode(errors="replace")
        out = p.stdout.decode("latin-1")
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("Re-using existing connection", err)
        self.assertNotIn("Excess found", err)
        blocks = [b for b in out.split("\r\n\r\n") if b.strip()]
        self.assertEqual(len(blocks), 2, out)
        self.assertTrue(blocks[0].startswith("HTTP/1.1 200"), blocks[0])
        self.assertIn("Content-Length: 13", blocks[0])
        self.assertTrue(blocks[1].startswith("HTTP/1.1 200"), blocks[1])
        self.assertIn("Content-Length: 1048576", blocks[1])
        self.assertNotIn("Hello", out)


class Uploads(CurlTestCase):
    def test_data_binary_file_echoed(self):
        data = bytes((i * 31 + 7) & 0xFF for i in range(50000))
        f = self.fetch(
            "/echo",
            "--data-binary",
            "@" + self.upload_file(data),
            "-H",
            "Content-Type: application/octet-stream",
            "-H",
            "Expect:",
        )
        self.assertEqual(f.status, 200)
        self.assertEqual(f.body, data)
        self.assertEqual(f.header("Content-Type"), "application/octet-stream")

    def test_chunked_upload_echoed(self):
        data = bytes((i * 13 + 1) & 0xFF for i in range(40000))
        f = self.fetch(
            "/echo",
            "--data-binary",
            "@" + self.upload_file(data),
            "-H",
            "Transfer-Encoding: chunked",
            "-H",
            "Expect:",
        )
        self.assertIn("> Transfer-Encoding: chunked", f.stderr)
        self.assertEqual(f.status, 200)
        self.assertEqual(f.body, data)

    def test_expect_100_continue(self):
        data = b"continue with this body\n" * 100
        f = self.fetch(
            "/echo",
            "--data-binary",
            "@" + self.upload_file(data),
            "-H",
            "Expect: 100-continue",
            "--expect100-timeout",
            "3",
        )
        self.assertIn("> Expect: 100-continue", f.stderr)
        statuses = re.findall(r"^< (HTTP/1\.1 \d+.*?)\r?$", f.stderr, re.M)
        self.assertEqual(
            [s.split(" ")[1] for s in statuses], ["100", "200"], "status lines curl saw: %r" % statuses
        )
        self.assertEqual(f.status, 200)
        self.assertEqual(f.body, data)

    def test_expect_100_over_limit_413_without_continue(self):
        data = b"z" * 70000
        f = self.fetch(
            "/echo",
            "--data-binary",
            "@" + self.upload_file(data),
            "-H",
            "Expect: 100-continue",
            "--expect100-timeout",
            "3",
        )
        statuses = re.findall(r"^< (HTTP/1\.1 \d+.*?)\r?$", f.stderr, re.M)
        self.assertEqual([s.split(" ")[1] for s in statuses], ["413"], "status lines curl saw: %r" % statuses)
        self.assertEqual(f.status, 413)


class Ranges(CurlTestCase):
    def test_first_100_bytes(self):
        f = self.fetch("/file", "-r", "0-99")
        self.assertEqual(f.status, 206)
        self.assertEqual(f.header("Content-Range"), "bytes 0-99/1048576")
        self.assertEqual(f.header("Content-Length"), "100")
        self.assertEqual(f.body, one_bin()[:100])

    def test_middle_range(self):
        f = self.fetch("/file", "-r", "500000-500999")
        self.assertEqual(f.status, 206)
        self.assertEqual(f.header("Content-Range"), "bytes 500000-500999/1048576")
        self.assertEqual(f.body, one_bin()[500000:501000])

    def test_suffix_range(self):
        f = self.fetch("/file", "-r", "-10")
        self.assertEqual(f.status, 206)
        self.assertEqual(f.header("Content-Range"), "bytes %d-%d/%d" % (SIZE - 10, SIZE - 1, SIZE))
        self.assertEqual(f.body, one_bin()[-10:])

    def test_unsatisfiable_range(self):
        f = self.fetch("/file", "-H", "Range: bytes=2000000-")
        self.assertEqual(f.status, 416)
        self.assertEqual(f.header("Content-Range"), "bytes */1048576")

    def test_range_from_the_directory_handler(self):
        text = SITE.read("www/hello.txt")
        f = self.fetch("/site/hello.txt", "-r", "6-9")
        self.assertEqual(f.status, 206)
        self.assertEqual(f.header("Content-Range"), "bytes 6-9/%d" % len(text))
        self.assertEqual(f.body, text[6:10])


class Conditional(CurlTestCase):
    def validators(self, path):
        f = self.fetch(path)
        self.assertEqual(f.status, 200)
        self.assertIsNotNone(f.header("ETag"), f.headers)
        self.assertIsNotNone(f.header("Last-Modified"), f.headers)
        return f

    def test_if_none_match(self):
        first = self.validators("/file")
        self.assertEqual(first.body, one_bin())
        f = self.fetch("/file", "-H", "If-None-Match: " + first.header("ETag"))
        self.assertEqual(f.status, 304)
        self.assertEqual(f.body, b"")
        self.assertEqual(f.header("ETag"), first.header("ETag"))
        f = self.fetch("/file", "-H", 'If-None-Match: "not-this-one"')
        self.assertEqual(f.status, 200)
        self.assertEqual(f.body, one_bin())

    def test_if_modified_since(self):
        first = self.validators("/site/style.css")
        f = self.fetch("/site/style.css", "-H", "If-Modified-Since: " + first.header("Last-Modified"))
        self.assertEqual(f.status, 304)
        self.assertEqual(f.body, b"")
        f = self.fetch("/site/style.css", "-H", "If-Modified-Since: Thu, 01 Jan 1998 00:00:00 GMT")
        self.assertEqual(f.status, 200)
        self.assertEqual(f.body, SITE.read("www/style.css"))


if __name__ == "__main__":
    unittest.main()
