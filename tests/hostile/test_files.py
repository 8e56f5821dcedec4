"""Odd files in the served tree must be answered at once, and must not keep
the server from answering anything else.

  - A FIFO (os.mkfifo): open(2) on it waits for a writer, forever.  GET of
    it must get 403 or 404 within 2 s, and then 20 requests in a row (a new
    connection each) must each be answered within 2 s.
  - A file without read permission, and a file in a directory without
    search permission: 403 or 404, and the server goes on.  Permissions do
    not apply to root, so when the tests run as root the server runs as the
    user nobody for this test (and the test says so if it cannot).
"""
import os
import pwd
import time
import unittest

from hostilelib import (CONFIG, HELLO, Conn, HostileTestCase, NoResponse, Site, request, scaled,
                        usable_by_others)

PROMPT = 2.0  # seconds for an answer that needs no waiting


class OddFiles(HostileTestCase):
    def setUp(self):
        self.site = Site()
        self.addCleanup(self.site.cleanup)

    def get(self, srv, path, limit=PROMPT):
        """(response or None, seconds) for GET path on a new connection,
        waiting at most limit seconds."""
        start = time.monotonic()
        try:
            c = Conn(srv.port, tls=srv.tls, timeout=scaled(limit))
        except OSError:
            return None, time.monotonic() - start
        try:
            c.send(request("GET", path))
            r = c.read_response()
        except (NoResponse, OSError):
            r = None
        finally:
            c.close()
        return r, time.monotonic() - start

    def release_fifo(self, path):
        """Opens the FIFO for writing, without waiting, and closes it: a
        server thread stuck opening it for reading gets on (else the server
        could not exit)."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return  # nobody is waiting on it
        os.close(fd)

    def fifo(self, srv):
        fifo = self.site.path("pipe")
        self.addCleanup(self.release_fifo, fifo)
        with self.subTest("GET of a FIFO"):
            r, took = self.get(srv, "/pipe")
            if r is None:
                self.fail("%s: GET /pipe (a FIFO) got no answer in %.0f s: the server waits to "
                          "open it" % (srv.name, scaled(PROMPT)))
            self.assertIn(r.status, (403, 404), "%s: GET /pipe (a FIFO): %r" % (srv.name, r))
        with self.subTest("other requests afterwards"):
            for i in range(20):
                r, took = self.get(srv, "/hello.txt")
                if r is None:
                    self.fail("%s: request %d after GET /pipe (a FIFO) got no answer in %.0f s"
                              % (srv.name, i + 1, scaled(PROMPT)))
                self.assertEqual((r.status, r.body), (200, HELLO),
                                 "%s: request %d after the FIFO: %r" % (srv.name, i + 1, r))

    def test_fifo_nnghttp_serve(self):
        os.mkfifo(self.site.path("pipe"))
        self.fifo(self.serve(self.site))

    def test_fifo_c_server(self):
        os.mkfifo(self.site.path("pipe"))
        self.fifo(self.c_server(self.site))

    def unreadable(self, start):
        self.site.write("secret.txt", b"not for you\n")
        os.chmod(self.site.path("secret.txt"), 0o000)
        self.site.write("locked/inner.txt", b"not for you either\n")
        os.chmod(self.site.path("locked"), 0o000)
        user = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("nobody")
            except KeyError:
                raise unittest.SkipTest("running as root and there is no user nobody to run "
                                        "the server as: permissions would not apply")
            user = "nobody"
            program = CONFIG["nnghttp"] if start == self.serve else CONFIG["c_server"]
            if not usable_by_others(program) or not usable_by_others(self.site.tmp):
                raise unittest.SkipTest("running as root, and %s or the served tree cannot be "
                                        "reached by the user nobody to run the server as: "
                                        "permissions would not apply" % program)
        srv = start(self.site, user=user)
        if user is not None:
            with open("/proc/%d/status" % srv.pid) as f:
                uid = [line.split()[1] for line in f if line.startswith("Uid:")][0]
            self.assertEqual(int(uid), pwd.getpwnam(user).pw_uid,
                             "the server does not run as %s" % user)
        for path in ("/secret.txt", "/locked/inner.txt", "/locked/"):
            r, took = self.get(srv, path)
            if r is None:
                self.fail("%s: GET %s (not readable by the server) got no answer in %.0f s"
                          % (srv.name, path, scaled(PROMPT)))
            self.assertIn(r.status, (403, 404), "%s: GET %s, which the server may not read: %r"
                          % (srv.name, path, r))
            self.assertNotIn(b"not for you", r.body)
        r, took = self.get(srv, "/hello.txt")
        self.assertIsNotNone(r, "%s: no answer after the unreadable files" % srv.name)
        self.assertEqual((r.status, r.body), (200, HELLO))

    def test_unreadable_nnghttp_serve(self):
        self.unreadable(self.serve)

    def test_unreadable_c_server(self):
        self.unreadable(self.c_server)
