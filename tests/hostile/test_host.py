"""Host validation (RFC 9112, section 3.2): a server must answer 400 to an
HTTP/1.1 request with more than one Host field line or with an invalid
Host value.  An empty Host is invalid here: the target URI of a request to
an http(s) server needs a host, and RFC 9110 (section 4.2.1) has a
recipient reject an http URI with an empty host.  "a b/c" is not a
uri-host [":" port].  A valid Host (with or without the port) gets 200.
"""
from hostilelib import HELLO, Conn, HostileTestCase, NoResponse, Site, scaled

BAD = [
    ("two Host fields", ["Host: x", "Host: y"]),
    ("two identical Host fields", ["Host: x", "Host: x"]),
    ("empty Host", ["Host:"]),
    ("empty Host with a space", ["Host: "]),
    ("Host with a space and a slash", ["Host: a b/c"]),
    ("Host with a slash", ["Host: a/b"]),
]


class HostValidation(HostileTestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()

    def ask(self, srv, host_lines):
        c = Conn(srv.port, tls=srv.tls, timeout=scaled(5.0))
        try:
            c.send(("GET /hello.txt HTTP/1.1\r\n" + "".join(h + "\r\n" for h in host_lines)
                    + "\r\n").encode("latin-1"))
            return c.read_response()
        finally:
            c.close()

    def check(self, srv):
        for what, lines in BAD:
            with self.subTest(what):
                try:
                    r = self.ask(srv, lines)
                except NoResponse as e:
                    self.fail("%s: %s (%r): no answer: %s" % (srv.name, what, lines, e))
                self.assertEqual(r.status, 400, "%s: %s (%r) got %r, not 400" % (
                    srv.name, what, lines, r))
        for good in (["Host: localhost"], ["Host: 127.0.0.1:%d" % srv.port],
                     ["Host: Example.COM"]):
            with self.subTest(good[0]):
                r = self.ask(srv, good)
                self.assertEqual((r.status, r.body), (200, HELLO),
                                 "%s: a valid %r: %r" % (srv.name, good[0], r))

    def test_nnghttp_serve(self):
        self.check(self.serve(self.site))

    def test_c_server(self):
        self.check(self.c_server(self.site))
