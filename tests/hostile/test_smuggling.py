"""Request bodies that the server answers before reading must never be
parsed as requests ("CL.0" smuggling).

Each attack is one request whose body is itself a complete request,
SMUGGLED_REQUEST (GET /smuggled), sent with Content-Length or chunked, to
something the server answers without reading the body: a missing Host
(400), a bad path (400), a path no handler serves (404), a method the path
does not allow (405), a handler that does not collect the body, a
redirect, a body over the limit (413), and an early answer to
"Expect: 100-continue" (the body sent with the head, or after the answer).

What must hold after the first answer: no response for /smuggled ever
arrives (the file /smuggled holds a marker no legitimate answer contains),
and either
  - the answer says "Connection: close" and the connection then closes
    with nothing more on it, or
  - the connection stays usable: the next real request on it gets its own
    answer (200 and the file), and nothing else arrives.

Also through nginx with examples/deploy/nginx-reverse-proxy.conf in front of
two `nnghttp serve` backends: attackers' smuggled bodies followed by 20
users, each with their own cookie and page, must not give any user an
answer meant for someone else, and the backends must log no request for
/smuggled.  And Python's http.client on one keep-alive connection: a POST
with a body to a path that is not there, then a GET that must get 200.
"""
import grp
import http.client
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from hostilelib import (HELLO, HOST, SMUGGLED_MARK, SMUGGLED_REQUEST, Conn, HostileTestCase,
                        NoResponse, Site, chunked, request, scaled, wait_until, CONFIG,
                        child_setup)

NGINX = "/usr/sbin/nginx"
# Bigger than hostile_server's /post-only limit (1 KiB): 40 smuggled requests.
SMUGGLED_MANY = SMUGGLED_REQUEST * 40


def attack(method, target, body=SMUGGLED_REQUEST, encoding="length", host="x", extra=(),
           with_body=True):
    """The bytes of a request carrying body (the head only if not
    with_body; the framing headers are there either way)."""
    if encoding == "length":
        headers = ["Content-Length: %d" % len(body)]
        framed = body
    else:
        headers = ["Transfer-Encoding: chunked"]
        framed = chunked(body)
    head = request(method, target, headers=list(extra) + headers, host=host)
    return (head + framed) if with_body else (head, framed)


class Case:
    """One attack: what to send, the answers allowed, and whether the
    client waits for the answer before sending the body (Expect)."""

    def __init__(self, name, method, target, statuses, host="x", body=SMUGGLED_REQUEST,
                 expect=False, wait=False):
        self.name = name
        self.method = method
        self.target = target
        self.statuses = statuses
        self.host = host
        self.body = body
        self.expect = expect
        self.wait = wait


class Smuggling(HostileTestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()

    def follow_up_path(self, srv):
        return getattr(srv, "follow_up", "/hello.txt")

    def run_case(self, srv, case, encoding):
        """One attack on a new connection, then the checks of the module's
        docstring."""
        label = "%s [%s, %s body%s]" % (case.name, srv.name, encoding,
                                        ", body sent after the answer" if case.wait else "")
        extra = ["Expect: 100-continue"] if case.expect else []
        head, framed = attack(case.method, case.target, case.body, encoding, case.host, extra,
                              with_body=False)
        c = Conn(srv.port, tls=srv.tls, timeout=scaled(5.0))
        self.addCleanup(c.close)
        if case.wait:
            c.send(head)
            try:
                r1 = c.read_response(skip_interim=False)
            except NoResponse as e:
                self.fail("%s: no early answer to the head: %s" % (label, e))
            c.send(framed)  # after 100 Continue; and a client may send it anyway
            if r1.status == 100:
                # Only a chunked body's size is unknown from the head alone:
                # then the server may well ask for it before refusing it.
                if encoding != "chunked":
                    self.fail("%s: 100 Continue where %s was due" % (label, case.statuses))
                try:
                    r1 = c.read_response()
                except NoResponse as e:
                    self.fail("%s: no answer after 100 Continue and the body: %s" % (label, e))
        else:
            c.send(head + framed)
            try:
                r1 = c.read_response()
            except NoResponse as e:
                self.fail("%s: no answer: %s" % (label, e))
        self.assertNotIn(SMUGGLED_MARK, r1.body, "%s: the first answer is /smuggled's" % label)
        self.assertIn(r1.status, case.statuses, "%s: first answer %r" % (label, r1))
        if r1.closes():
            closed = c.wait_closed(scaled(2.0))
            self.assertEqual(c.buf, b"", "%s: bytes after an answer with Connection: close "
                             "(the body was parsed as a request): %r" % (label, c.buf[:300]))
            self.assertIsNotNone(closed, "%s: the answer said Connection: close, but the "
                                 "connection stayed open" % label)
            return
        path = self.follow_up_path(srv)
        c.send(request("GET", path))
        try:
            r2 = c.read_response()
        except NoResponse as e:
            self.fail("%s: the connection stayed open (no Connection: close after %d), but the "
                      "next request got no answer: %s" % (label, r1.status, e))
        if SMUGGLED_MARK in r2.body:
            self.fail("%s: the next request got the answer to the smuggled GET /smuggled: %r"
                      % (label, r2))
        if (r2.status, r2.body) != (200, HELLO):
            self.fail("%s: the next request (GET %s) got %r: the body's bytes were parsed as "
                      "a request" % (label, path, r2))
        more = c.more_bytes(0.3)
        self.assertEqual(more, b"", "%s: bytes after the next answer: %r" % (label, more[:300]))

    def run_cases(self, srv, cases):
        for case in cases:
            for encoding in ("length", "chunked"):
                with self.subTest(case=case.name, encoding=encoding, wait=case.wait):
                    self.run_case(srv, case, encoding)
        self.assertTrue(srv.alive(), srv.status())

    # -- nnghttp serve: a directory at / for GET, no bodies (limit 0) --

    def test_nnghttp_serve(self):
        srv = self.serve(self.site)
        self.run_cases(srv, [
            Case("missing Host", "POST", "/hello.txt", {400}, host=None),
            Case("bad path", "POST", "/%zz", {400}),
            Case("method not allowed", "POST", "/hello.txt", {405}),
            Case("body over the limit", "GET", "/hello.txt", {413}),
            Case("Expect, early 405", "POST", "/hello.txt", {405}, expect=True),
            Case("Expect, early 405", "POST", "/hello.txt", {405}, expect=True, wait=True),
            Case("Expect, early 413", "GET", "/hello.txt", {413}, expect=True, wait=True),
        ])

    def test_nnghttp_serve_https(self):
        srv = self.serve(self.site, "https")
        self.run_cases(srv, [
            Case("missing Host", "POST", "/hello.txt", {400}, host=None),
            Case("method not allowed", "POST", "/hello.txt", {405}),
            Case("Expect, early 405", "POST", "/hello.txt", {405}, expect=True, wait=True),
        ])

    # -- hostile_server, directory at / --

    def test_c_server(self):
        srv = self.c_server(self.site)
        self.run_cases(srv, [
            Case("missing Host", "POST", "/length", {400}, host=None),
            Case("bad path", "POST", "/%zz", {400}),
            Case("method not allowed", "POST", "/hello.txt", {405}),
            Case("handler that does not collect the body", "POST", "/no-body", {200}),
            Case("redirect", "POST", "/redirect", {302}),
            Case("body over the handler's limit", "POST", "/post-only", {413},
                 body=SMUGGLED_MANY),
            Case("body to a directory", "GET", "/hello.txt", {413}),
            Case("Expect, early 405", "POST", "/hello.txt", {405}, expect=True),
            Case("Expect, early 405", "POST", "/hello.txt", {405}, expect=True, wait=True),
            Case("Expect, early 413", "POST", "/post-only", {413}, body=SMUGGLED_MANY,
                 expect=True, wait=True),
        ])

    # -- hostile_server, directory at /files: the router's own 404 and 405 --

    def test_c_server_router(self):
        srv = self.c_server(self.site, dir_prefix="/files")
        srv.follow_up = "/files/hello.txt"
        self.run_cases(srv, [
            Case("no handler (POST)", "POST", "/nowhere", {404}),
            Case("no handler (GET)", "GET", "/nowhere", {404}),
            Case("GET to a POST-only handler", "GET", "/post-only", {405}),
            Case("Expect, early 404", "POST", "/nowhere", {404}, expect=True),
            Case("Expect, early 404", "POST", "/nowhere", {404}, expect=True, wait=True),
        ])

    # -- Python's http.client, one keep-alive connection --

    def http_client_sequence(self, srv, post_path, get_path, statuses, prefix=""):
        """http.client reads ahead: an answer to a smuggled request that is
        already there when it reads the POST's answer would be swallowed
        with it.  So the smuggled request asks for a 256 KiB file: most of
        its answer is always left for the GET to meet."""
        smuggled = b"GET %s/smuggled-big HTTP/1.1\r\nHost: x\r\n\r\n" % prefix.encode()
        conn = http.client.HTTPConnection(HOST, srv.port, timeout=scaled(5.0))
        self.addCleanup(conn.close)
        for i in range(3):
            try:
                conn.request("POST", post_path, body=smuggled,
                             headers={"Content-Type": "text/plain"})
                r = conn.getresponse()
                body = r.read()
                self.assertIn(r.status, statuses, "POST %s #%d: %d" % (post_path, i, r.status))
                self.assertNotIn(SMUGGLED_MARK, body)
                conn.request("GET", get_path)
                r = conn.getresponse()
                body = r.read()
            except (http.client.HTTPException, OSError) as e:
                self.fail("GET %s after POST %s with a body, on the same http.client "
                          "connection (#%d), failed: %r (the body was answered as a request)"
                          % (get_path, post_path, i, e))
            if (r.status, body) != (200, HELLO):
                self.fail("GET %s after POST %s with a body, on the same http.client "
                          "connection (#%d), got %d %r" % (get_path, post_path, i, r.status,
                                                           body[:200]))

    def test_http_client_keepalive_c_server(self):
        srv = self.c_server(self.site, dir_prefix="/files")
        self.http_client_sequence(srv, "/nowhere", "/files/hello.txt", {404}, prefix="/files")

    def test_http_client_keepalive_nnghttp_serve(self):
        srv = self.serve(self.site)
        self.http_client_sequence(srv, "/missing.txt", "/hello.txt", {404, 405, 413})


# ---- behind nginx ----

EXAMPLE_BACKENDS = ("127.0.0.1:8081", "127.0.0.1:8082")
EXAMPLE_LISTEN = "127.0.0.1:8080"
EXAMPLE_ACCESS_LOG = "/var/log/nginx/nnghttp-access.log"


def adapt_example(text, listen_port, backend_ports, access_log):
    """The deployment example with its listen address, backends and access
    log replaced in code (not comments), each exactly once, as
    tests/tools/test_proxy.py does; anything else in it stays as it is."""
    subs = {EXAMPLE_LISTEN: "%s:%d" % (HOST, listen_port), EXAMPLE_ACCESS_LOG: access_log}
    for old, port in zip(EXAMPLE_BACKENDS, backend_ports):
        subs[old] = "%s:%d" % (HOST, port)
    seen = dict.fromkeys(subs, 0)
    out = []
    for line in text.splitlines():
        code, hash_, comment = line.partition("#")
        for old, new in subs.items():
            seen[old] += code.count(old)
            code = code.replace(old, new)
        out.append(code + hash_ + comment)
    wrong = {k: v for k, v in seen.items() if v != 1}
    if wrong:
        raise AssertionError("%s: expected each once outside comments: %s" % (
            CONFIG["nginx_conf"], wrong))
    return "\n".join(out) + "\n"


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Nginx:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nnghttp-hostile-nginx-")
        self.access_log = os.path.join(self.dir, "access.log")
        self.error_log = os.path.join(self.dir, "error.log")
        self.proc = None
        self.port = None

    def start(self, backend_ports):
        user = ""
        if os.geteuid() == 0:
            pw = pwd.getpwnam("nobody")
            user = "user %s %s;" % (pw.pw_name, grp.getgrgid(pw.pw_gid).gr_name)
            os.chmod(self.dir, 0o755)
        d = self.dir
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write("%s\nworker_processes 1;\nerror_log %s/error.log info;\n"
                    "events { worker_connections 256; }\nhttp {\n"
                    "    client_body_temp_path %s/body; proxy_temp_path %s/proxy;\n"
                    "    fastcgi_temp_path %s/fastcgi; uwsgi_temp_path %s/uwsgi;\n"
                    "    scgi_temp_path %s/scgi;\n    include %s/site.conf;\n}\n"
                    % (user, d, d, d, d, d, d, d))
        with open(CONFIG["nginx_conf"]) as f:
            example = f.read()
        for _ in range(3):  # the free port may be taken before nginx binds it
            port = free_port()
            with open(os.path.join(d, "site.conf"), "w") as f:
                f.write(adapt_example(example, port, backend_ports, self.access_log))
            self.proc = subprocess.Popen(
                [NGINX, "-p", d, "-c", conf, "-e", self.error_log,
                 "-g", "daemon off; pid %s/nginx.pid;" % d],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                preexec_fn=lambda: child_setup(None, None))

            def up():
                if self.proc.poll() is not None:
                    return "exited"
                try:
                    with socket.create_connection((HOST, port), timeout=0.5):
                        return "up"
                except OSError:
                    return None
            if wait_until(up, scaled(10.0), 0.05) == "up":
                self.port = port
                return
            self.shut_down()
        raise RuntimeError("nginx did not start: " + self.errors())

    def errors(self):
        try:
            with open(self.error_log, errors="replace") as f:
                return "".join(f.readlines()[-20:])
        except OSError as e:
            return str(e)

    def shut_down(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(scaled(10.0))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10.0)

    def cleanup(self):
        self.shut_down()
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(os.access(NGINX, os.X_OK), "nginx is not installed (%s)" % NGINX)
class SmugglingBehindNginx(HostileTestCase):
    USERS = 20

    def setUp(self):
        self.site = Site()
        self.addCleanup(self.site.cleanup)

    def test_users_never_get_smuggled_answers(self):
        a = self.serve(self.site)
        b = self.serve(self.site)
        nginx = Nginx()
        self.addCleanup(nginx.cleanup)  # runs before the backends are shut down
        nginx.start([a.port, b.port])

        def diagnostics():
            return "nginx error.log:\n%s\nbackend A:\n%s\nbackend B:\n%s" % (
                nginx.errors(), a.stdout()[-2000:], b.stdout()[-2000:])

        attacks = 0
        wrong = []
        for i in range(self.USERS):
            if i % 5 == 0:
                # An attacker: POST to a file (405 at a backend, the body
                # unread), Content-Length and chunked in turn.
                enc = "length" if (i // 5) % 2 == 0 else "chunked"
                c = Conn(nginx.port, timeout=scaled(10.0))
                c.send(attack("POST", "/hello.txt", encoding=enc, host="127.0.0.1"))
                try:
                    r = c.read_response()
                    self.assertNotIn(SMUGGLED_MARK, r.body)
                except NoResponse:
                    pass  # whatever the attacker gets is its own business
                c.close()
                attacks += 1
            c = Conn(nginx.port, timeout=scaled(10.0))
            c.send(request("GET", "/users/u%02d.txt" % i, host="127.0.0.1",
                           headers=["Cookie: uid=user-%02d" % i]))
            try:
                r = c.read_response()
            except NoResponse as e:
                wrong.append("user %02d: no answer (%s)" % (i, e))
                c.close()
                continue
            c.close()
            if (r.status, r.body) != (200, Site.user_body(i)):
                wrong.append("user %02d got %r" % (i, r))
        self.assertEqual(wrong, [], "users got answers meant for others\n" + diagnostics())

        # Every request reached a backend: wait for their log lines, then
        # look for the smuggled one.
        total = attacks + self.USERS
        wait_until(lambda: len(a.logged()) + len(b.logged()) >= total, scaled(5.0))
        time.sleep(0.2)
        logged = a.logged() + b.logged()
        smuggled = [line for line, _ in logged if "/smuggled" in line]
        self.assertEqual(smuggled, [], "the backends served requests smuggled in bodies\n"
                         + diagnostics())
        self.assertEqual(len([1 for line, _ in logged if line.startswith("GET /users/")]),
                         self.USERS, diagnostics())
