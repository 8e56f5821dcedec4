"""Files and directories served by server_app_ours from a private copy of
the test site: media types, index files, 404, no way out of the root, and
a large file arriving byte-exact."""
import subprocess
import unittest

from peerlib import HOST, NoResponse, ServerTestCase, Site, one_bin, request, sha256

SITE = None
SECRET = b"outside the served tree"


def setUpModule():
    global SITE
    SITE = Site()


def tearDownModule():
    SITE.cleanup()


class Directory(ServerTestCase):
    def setUp(self):
        self.port = self.start_app(SITE).port

    def get(self, target, method="GET"):
        c = self.connect(self.port)
        c.send(request(method, target))
        try:
            return c.read_response(method)
        except NoResponse as e:
            self.fail("%s %s: no response: %s" % (method, target, e))
        finally:
            c.close()

    def test_media_types(self):
        for name, media_type in [
            ("index.html", "text/html"),
            ("style.css", "text/css"),
            ("hello.txt", "text/plain"),
            ("pic.png", "image/png"),
        ]:
            with self.subTest(name=name):
                r = self.get("/site/" + name)
                self.assertEqual(r.status, 200)
                ctype = r.header("Content-Type")
                self.assertIsNotNone(ctype)
                # A charset parameter may follow the media type.
                self.assertEqual(ctype.split(";")[0].strip().lower(), media_type, ctype)
                self.assertEqual(r.body, SITE.read("www/" + name))
                self.assertEqual(r.header("Content-Length"), str(len(r.body)))

    def test_head_of_a_file(self):
        r = self.get("/site/style.css", "HEAD")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), str(len(SITE.read("www/style.css"))))
        self.assertEqual(r.header("Content-Type").split(";")[0], "text/css")

    def test_index_for_a_directory(self):
        index = SITE.read("www/index.html")
        for target in ["/site/", "/site"]:
            with self.subTest(target=target):
                r = self.get(target)
                self.assertEqual((r.status, r.body), (200, index))
                self.assertEqual(r.header("Content-Type").split(";")[0], "text/html")
        r = self.get("/site/sub/")
        self.assertEqual((r.status, r.body), (200, SITE.read("www/sub/index.htm")))

    def test_name_with_space_and_query(self):
        r = self.get("/site/two%20words.txt")
        self.assertEqual((r.status, r.body), (200, SITE.read("www/two words.txt")))
        r = self.get("/site/hello.txt?v=1")
        self.assertEqual((r.status, r.body), (200, SITE.read("www/hello.txt")))

    def test_missing_is_404(self):
        for target in ["/site/missing.txt", "/site/noindex/", "/site/sub/missing/"]:
            with self.subTest(target=target):
                r = self.get(target)
                self.assertEqual(r.status, 404)

    def test_symlink_inside_the_root_is_served(self):
        r = self.get("/site/inside-link.txt")
        self.assertEqual((r.status, r.body), (200, SITE.read("www/hello.txt")))

    def test_no_escape_from_the_root(self):
        self.assertIn(SECRET, SITE.read("secret.txt"))
        for target in [
            "/site/../secret.txt",
            "/site/sub/../../secret.txt",
            "/site/%2e%2e/secret.txt",
            "/site/%2E%2E/secret.txt",
            "/site/.%2e/secret.txt",
            "/site/..%2Fsecret.txt",
            "/site/sub%2F..%2F..%2Fsecret.txt",
            "/site/%2F..%2Fsecret.txt",
            "/site/..%5Csecret.txt",
            "/site/escape.txt",
            "/site/outside/secret.txt",
            "/site/hello.txt%00",
            "/site/hello.txt%00.png",
            "/site/%00/../../secret.txt",
        ]:
            with self.subTest(target=target):
                r = self.get(target)
                self.assertIn(r.status, (400, 403, 404), r)
                self.assertNotIn(SECRET, r.body)

    def test_large_file_byte_exact(self):
        want = sha256(one_bin())
        c = self.connect(self.port)
        for target in ["/file", "/site/one.bin"]:
            with self.subTest(target=target):
                c.send(request("GET", target))
                r = c.read_response()
                self.assertEqual(r.status, 200)
                self.assertEqual(r.header("Content-Length"), "1048576")
                self.assertEqual(len(r.body), 1048576)
                self.assertEqual(sha256(r.body), want)
        self.assertEqual(c.state(), "open")

    def test_large_file_with_curl(self):
        p = subprocess.run(
            ["curl", "-sS", "--max-time", "30", "http://%s:%d/file" % (HOST, self.port)],
            capture_output=True,
            timeout=60,
        )
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(p.stdout), 1048576)
        self.assertEqual(sha256(p.stdout), sha256(one_bin()))


if __name__ == "__main__":
    unittest.main()
