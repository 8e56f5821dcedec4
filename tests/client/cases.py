"""The client test cases: scripts for client_app and what must come back.

A case is a few client_app lines (placeholders {nginx}, {py}, {stdlib},
{stdlib11}, {ours}, {refused} are the servers' base URLs; {nginx_https} and
{nginx_https_dns_only} nginx's https ones, {nginx_http_to_https_port} and
{nginx_https_to_http_port} each port with the other scheme; {files} a
directory of request bodies, {etag} nginx's ETag of /static.txt, {ca} and
{other_ca} the CA that signed nginx's certificates and one that did not)
and one expectation per transaction (conn, client, connect).  `expect` is
what nng-http must answer.  Where NNG 1.5.2 answers otherwise, `nng` holds
what it answers instead and `why` says why in one line: those cases are the
differential test's allow-list (README.md lists them), and both answers are
asserted.  `conns` counts the
TCP connections a server saw during the case ("nginx-https": nginx's
connections that carried https requests).  `log_lines` is the number of
nginx access log lines the case makes when that is not one per transaction
expected to succeed.
"""
import hashlib

import framing_server as fs
from servers import TLS_BIG_SIZE, body_len_bytes

GROUPS = ["nginx", "nginx-https", "framing", "stdlib", "ours-server", "errors"]

# The servers each group needs.
SERVERS = {
    "nginx": {"nginx"},
    "nginx-https": {"nginx"},
    "framing": {"py"},
    "stdlib": {"stdlib", "stdlib11"},
    "ours-server": {"ours"},
    "errors": {"py", "refused"},
}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def ok(status=200, body=None, length=None, sha=None, reason=None, version="HTTP/1.1",
       headers=None, text=None):
    """A successful transaction: status, and what is given of the rest.
    headers: {name: value}, value None = the header must be absent."""
    e = {"result": {"0"}, "status": status, "version": version, "headers": headers or {}}
    if reason is not None:
        e["reason"] = reason
    if body is not None:
        e["len"], e["sha"] = len(body), sha256(body)
    if length is not None:
        e["len"] = length
    if sha is not None:
        e["sha"] = sha
    if text is not None:
        e["text"] = text
    return e


def err(*names):
    """A failed transaction, with one of the error names (any error if none
    is given)."""
    return {"result": set(names) if names else "error"}


EMPTY = b""


class Case:
    def __init__(self, group, name, lines, expect, conns=None, nng=None, why=None,
                 nng_conns=None, log_lines=None):
        self.group, self.name, self.lines, self.expect = group, name, lines, expect
        self.conns = conns or {}
        self.nng = nng
        self.why = why
        self.nng_conns = nng_conns
        self.log_lines = log_lines
        assert (nng is None) == (why is None), name

    def expectations(self, flavor):
        if flavor == "nng" and self.nng is not None:
            return self.nng, (self.nng_conns if self.nng_conns is not None else self.conns)
        return self.expect, self.conns


def build(s):
    """The cases, given the started servers s (servers.Servers)."""
    cases = []

    def case(*args, **kwargs):
        cases.append(Case(*args, **kwargs))

    TEXT = {"Content-Type": "text/plain"}

    # ---------------- nginx ----------------
    if s.nginx:
        n = s.nginx
        static = ok(body=n.static, headers={**TEXT, "Content-Length": str(len(n.static)),
                                            "Transfer-Encoding": None})

        def req(i, e):
            return {**e, "headers": {**e["headers"], "X-Test": f"req={i}"}}

        case("nginx", "nginx-static", ["conn GET {nginx}/static.txt"], [req(1, static)],
             conns={"nginx": 1})
        case("nginx", "nginx-big-100MiB", ["conn GET {nginx}/big.bin timeout=60000"],
             [ok(length=100 << 20, sha=n.big_sha,
                 headers={"Content-Type": "application/octet-stream",
                          "Content-Length": str(100 << 20)})])
        case("nginx", "nginx-head-then-get",
             ["conn HEAD {nginx}/big.bin", "conn GET {nginx}/static.txt"],
             [ok(body=EMPTY, headers={"Content-Length": str(100 << 20), "X-Test": "req=1"}),
              req(2, static)], conns={"nginx": 1})
        case("nginx", "nginx-204-then-get",
             ["conn GET {nginx}/nocontent", "conn GET {nginx}/static.txt"],
             [ok(204, body=EMPTY, reason="No Content", headers={"X-Test": "req=1"}),
              req(2, static)], conns={"nginx": 1})
        case("nginx", "nginx-304-then-get",
             ['conn GET {nginx}/static.txt "H:If-None-Match: {etag}"',
              "conn GET {nginx}/static.txt"],
             [ok(304, body=EMPTY, reason="Not Modified", headers={"X-Test": "req=1"}),
              req(2, static)], conns={"nginx": 1})
        case("nginx", "nginx-range",
             ['conn GET {nginx}/big.bin "H:Range: bytes=1000-1099"'],
             [ok(206, body=n.big_range, headers={"Content-Length": "100"})])
        case("nginx", "nginx-gzip-chunked",
             ['conn GET {nginx}/gz/text.txt "H:Accept-Encoding: gzip" show=Content-Encoding',
              "conn GET {nginx}/static.txt"],
             [ok(length=n.gz_len, sha=n.gz_sha,
                 headers={"Transfer-Encoding": "chunked", "Content-Length": None,
                          "Content-Encoding": "gzip"}),
              req(2, static)], conns={"nginx": 1})
        case("nginx", "nginx-return-text", ["conn GET {nginx}/text"],
             [ok(body=b"returned by nginx\n", headers=TEXT)])
        case("nginx", "nginx-404-then-get",
             ["conn GET {nginx}/missing.txt", "conn GET {nginx}/static.txt"],
             [ok(404, headers={"Content-Type": "text/html"}), req(2, static)],
             conns={"nginx": 1})
        case("nginx", "nginx-post-body-405-then-get",
             ["conn POST {nginx}/static.txt body-len=5000", "conn GET {nginx}/static.txt"],
             [ok(405, headers={"Content-Type": "text/html"}), req(2, static)],
             conns={"nginx": 1})
        case("nginx", "nginx-keepalive-mixed",
             ["conn GET {nginx}/static.txt", "conn HEAD {nginx}/static.txt",
              "conn GET {nginx}/nocontent", 'conn GET {nginx}/static.txt "H:If-None-Match: {etag}"',
              'conn GET {nginx}/big.bin "H:Range: bytes=1000-1099"', "conn GET {nginx}/text",
              "conn GET {nginx}/static.txt"],
             [req(1, static), req(2, ok(body=EMPTY, headers={"Content-Length": str(len(n.static))})),
              req(3, ok(204, body=EMPTY)), req(4, ok(304, body=EMPTY)),
              req(5, ok(206, body=n.big_range)), req(6, ok(body=b"returned by nginx\n")),
              req(7, static)], conns={"nginx": 1})
        case("nginx", "nginx-client-transact",
             ["client GET {nginx}/static.txt", "client GET {nginx}/static.txt"],
             [req(1, ok(body=n.static, headers={"Connection": "close"})),
              req(1, ok(body=n.static, headers={"Connection": "close"}))], conns={"nginx": 2})

    # ---------------- nginx over https ----------------
    # client_app's TLS options go through nng_tls_config_alloc(CLIENT),
    # nng_tls_config_ca_file, nng_tls_config_server_name,
    # nng_tls_config_auth_mode and nng_http_client_set_tls.  NNG 1.5.2
    # (mbedTLS 2.28, TLS 1.2) can run every one of these, so all are in the
    # differential test (nng-http negotiates TLS 1.3 with nginx); where it
    # answers otherwise, `why` says so.
    if s.nginx and s.tls:
        n = s.nginx
        T = "ca={ca} server-name=localhost"
        static = ok(body=n.static, headers={**TEXT, "Content-Length": str(len(n.static)),
                                            "Transfer-Encoding": None})

        def req(i, e):
            return {**e, "headers": {**e["headers"], "X-Test": f"req={i}"}}

        # mbedTLS's certificate verification failure
        # (MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) is missing from NNG 1.5.2's
        # error table, which maps it to NNG_ECRYPTO (docs/compat.md).
        verify_why = ("NNG 1.5.2 (mbedTLS) reports a server certificate that fails "
                      "verification as NNG_ECRYPTO, not NNG_EPEERAUTH")

        case("nginx-https", "https-static", [f"conn GET {{nginx_https}}/static.txt {T}"],
             [req(1, static)], conns={"nginx-https": 1})
        case("nginx-https", "https-large-then-get",
             [f"conn GET {{nginx_https}}/tls-big.bin {T} timeout=30000",
              f"conn GET {{nginx_https}}/static.txt {T}"],
             [req(1, ok(length=TLS_BIG_SIZE, sha=n.tls_big_sha,
                        headers={"Content-Type": "application/octet-stream",
                                 "Content-Length": str(TLS_BIG_SIZE)})),
              req(2, static)], conns={"nginx-https": 1})
        case("nginx-https", "https-gzip-chunked",
             [f'conn GET {{nginx_https}}/gz/text.txt {T} "H:Accept-Encoding: gzip" '
              "show=Content-Encoding",
              f"conn GET {{nginx_https}}/static.txt {T}"],
             [req(1, ok(length=n.gz_len, sha=n.gz_sha,
                        headers={"Transfer-Encoding": "chunked", "Content-Length": None,
                                 "Content-Encoding": "gzip"})),
              req(2, static)], conns={"nginx-https": 1})
        # One connection for every transact: nginx's $connection_requests
        # (X-Test) counts up, and its access log has one $connection.
        case("nginx-https", "https-keepalive-mixed",
             [f"conn GET {{nginx_https}}/static.txt {T}",
              f"conn HEAD {{nginx_https}}/static.txt {T}",
              f"conn GET {{nginx_https}}/nocontent {T}",
              f'conn GET {{nginx_https}}/static.txt {T} "H:If-None-Match: {{etag}}"',
              f'conn GET {{nginx_https}}/big.bin {T} "H:Range: bytes=1000-1099"',
              f"conn POST {{nginx_https}}/static.txt {T} body-len=70000",
              f"conn GET {{nginx_https}}/text {T}",
              f"conn GET {{nginx_https}}/static.txt {T}"],
             [req(1, static),
              req(2, ok(body=EMPTY, headers={"Content-Length": str(len(n.static))})),
              req(3, ok(204, body=EMPTY)), req(4, ok(304, body=EMPTY)),
              req(5, ok(206, body=n.big_range)),
              req(6, ok(405, headers={"Content-Type": "text/html"})),
              req(7, ok(body=b"returned by nginx\n")), req(8, static)],
             conns={"nginx-https": 1})
        case("nginx-https", "https-client-transact",
             [f"client GET {{nginx_https}}/static.txt {T}"] * 2,
             [req(1, ok(body=n.static, headers={"Connection": "close"}))] * 2,
             conns={"nginx-https": 2})
        # Without server-name the name checked is the URL's host, 127.0.0.1
        # (an IP address in server.crt's subjectAltName).
        case("nginx-https", "https-ca-only", ["conn GET {nginx_https}/static.txt ca={ca}"],
             [req(1, static)], conns={"nginx-https": 1})
        # dns_only.crt names localhost only.
        case("nginx-https", "https-dns-only-cert-server-name",
             [f"conn GET {{nginx_https_dns_only}}/static.txt {T}"], [req(1, static)],
             conns={"nginx-https": 1})
        case("nginx-https", "https-dns-only-cert-url-host",
             ["conn GET {nginx_https_dns_only}/static.txt ca={ca}"],
             [err("NNG_EPEERAUTH")], conns={"nginx-https": 0},
             nng=[req(1, static)], nng_conns={"nginx-https": 1},
             why="NNG 1.5.2 checks no name when the client's TLS config has no server name; "
                 "nng-http checks the URL's host (not in this certificate)")

        # Verification failures: no request reaches nginx.
        case("nginx-https", "https-default-config-no-ca", ["conn GET {nginx_https}/static.txt"],
             [err("NNG_EPEERAUTH")], conns={"nginx-https": 0})
        case("nginx-https", "https-wrong-server-name",
             ["conn GET {nginx_https}/static.txt ca={ca} server-name=wrong.example"],
             [err("NNG_EPEERAUTH")], conns={"nginx-https": 0},
             nng=[err("NNG_ECRYPTO")], why=verify_why)
        case("nginx-https", "https-wrong-server-name-client-transact",
             ["client GET {nginx_https}/static.txt ca={ca} server-name=wrong.example"],
             [err("NNG_EPEERAUTH")], conns={"nginx-https": 0},
             nng=[err("NNG_ECRYPTO")], why=verify_why + " (client transact)")
        case("nginx-https", "https-unknown-ca-required",
             ["conn GET {nginx_https}/static.txt ca={other_ca} server-name=localhost "
              "auth=required"],
             [err("NNG_EPEERAUTH")], conns={"nginx-https": 0},
             nng=[err("NNG_ECRYPTO")], why=verify_why + " (unknown CA)")
        # The handshake is not part of nng_http_client_connect's result: the
        # failure comes with the first transaction (here, none).
        case("nginx-https", "https-unknown-ca-connect-only",
             ["connect {nginx_https}/ ca={other_ca} server-name=localhost auth=required"],
             [{"result": {"0"}}], conns={"nginx-https": 0})
        # Auth mode none verifies nothing: unknown CA, wrong name.
        case("nginx-https", "https-unknown-ca-auth-none",
             ["conn GET {nginx_https}/static.txt ca={other_ca} server-name=localhost auth=none",
              "conn GET {nginx_https}/text ca={other_ca} server-name=localhost auth=none"],
             [req(1, static), req(2, ok(body=b"returned by nginx\n"))],
             conns={"nginx-https": 1})
        case("nginx-https", "https-wrong-server-name-auth-none",
             ["conn GET {nginx_https}/static.txt ca={ca} server-name=wrong.example auth=none"],
             [req(1, static)], conns={"nginx-https": 1})
        case("nginx-https", "https-unknown-ca-auth-optional",
             ["conn GET {nginx_https}/static.txt ca={other_ca} server-name=localhost "
              "auth=optional"],
             [req(1, static)], conns={"nginx-https": 1})
        # A failed handshake closes the connection: the next transact on it
        # fails at once.
        case("nginx-https", "https-unknown-ca-then-again",
             ["conn GET {nginx_https}/static.txt ca={other_ca} server-name=localhost",
              "conn GET {nginx_https}/static.txt ca={other_ca} server-name=localhost "
              "timeout=2000"],
             [err("NNG_EPEERAUTH"), err("NNG_ECLOSED")], conns={"nginx-https": 0},
             nng=[err("NNG_ECRYPTO"), err("NNG_ECLOSED")], why=verify_why + " (then ECLOSED)")

        # The wrong scheme for the port.  nginx answers a plain request on
        # its https port with a 400; a TLS hello on its plain port gets a
        # plain 400 that is no TLS record (and one log line).
        case("nginx-https", "http-to-https-port",
             ["conn GET {nginx_http_to_https_port}/static.txt"],
             [req(1, ok(400, headers={"Connection": "close", "Content-Type": "text/html"}))],
             conns={"nginx": 1})
        case("nginx-https", "https-to-http-port",
             ["conn GET {nginx_https_to_http_port}/static.txt ca={ca}"],
             [err("NNG_ECRYPTO")], log_lines=1)

    # ---------------- the framing server ----------------
    if s.py:
        B = fs.BODIES
        hello = ok(body=fs.HELLO, headers={**TEXT, "Content-Length": "13"})

        def req(i, e):
            return {**e, "headers": {**e["headers"], "X-Test": f"req={i}"}}

        def then_hello(i=2):
            return req(i, hello)

        case("framing", "py-keepalive-3", ["conn GET {py}/hello"] * 3,
             [req(1, hello), req(2, hello), req(3, hello)], conns={"py": 1})
        case("framing", "py-client-transact-2", ["client GET {py}/reqinfo"] * 2,
             [ok(headers={"X-Test": "req=1 GET HTTP/1.1 host=yes connection=close "
                                    "content-length=- transfer-encoding=- body=0"})] * 2,
             conns={"py": 2})
        case("framing", "py-post-bodies",
             ["conn POST {py}/echo body-len=70000", "conn PUT {py}/echo body=@{files}/small.txt",
              "conn POST {py}/reqinfo body=12345"],
             [req(1, ok(body=body_len_bytes(70000))), req(2, ok(body=b"a small request body\n")),
              ok(headers={"X-Test": "req=3 POST HTTP/1.1 host=yes connection=- "
                                    "content-length=5 transfer-encoding=- body=5"})],
             conns={"py": 1})
        case("framing", "py-chunked", ["conn GET {py}/chunked", "conn GET {py}/hello"],
             [req(1, ok(body=B["/chunked"], headers={"Transfer-Encoding": "chunked",
                                                     "Content-Length": None})),
              then_hello()], conns={"py": 1})
        case("framing", "py-chunked-extensions", ["conn GET {py}/chunked-ext", "conn GET {py}/hello"],
             [req(1, ok(body=B["/chunked-ext"])), then_hello()], conns={"py": 1})
        case("framing", "py-chunked-extensions-bws",
             ["conn GET {py}/chunked-ext-space", "conn GET {py}/hello"],
             [req(1, ok(body=B["/chunked-ext-space"])), then_hello()], conns={"py": 1},
             nng=[err("NNG_EPROTO"), err("NNG_ECLOSED")],
             why="NNG's chunk parser refuses whitespace before ';' in a chunk line "
                 "(RFC 9112 7.1.1 allows it)")
        case("framing", "py-chunked-trailers", ["conn GET {py}/chunked-trailer", "conn GET {py}/hello"],
             [req(1, ok(body=B["/chunked-trailer"], headers={"Transfer-Encoding": "chunked"},
                        )), then_hello()], conns={"py": 1})
        case("framing", "py-chunked-1MiB", ["conn GET {py}/chunked-big", "conn GET {py}/hello"],
             [req(1, ok(body=fs.BIG_CHUNKED)), then_hello()], conns={"py": 1})
        case("framing", "py-chunked-client-transact", ["client GET {py}/chunked"],
             [ok(body=B["/chunked"])])
        case("framing", "py-head-chunked", ["conn HEAD {py}/chunked timeout=1000", "conn GET {py}/hello"],
             [req(1, ok(body=EMPTY, headers={"Transfer-Encoding": "chunked"})), then_hello()],
             conns={"py": 1},
             nng=[err("NNG_ETIMEDOUT"), err("NNG_ECLOSED")],
             why="NNG reads chunks for any chunked response, even to HEAD: waits for a body "
                 "that never comes")
        case("framing", "py-head-length", ["conn HEAD {py}/head-length", "conn GET {py}/hello"],
             [req(1, ok(body=EMPTY, headers={"Content-Length": "5000"})), then_hello()],
             conns={"py": 1})
        case("framing", "py-204-then-get", ["conn GET {py}/no-content", "conn GET {py}/hello"],
             [req(1, ok(204, body=EMPTY)), then_hello()], conns={"py": 1})
        case("framing", "py-304-then-get", ["conn GET {py}/not-modified", "conn GET {py}/hello"],
             [req(1, ok(304, body=EMPTY)), then_hello()], conns={"py": 1})
        case("framing", "py-304-with-length",
             ["conn GET {py}/not-modified-length timeout=1000", "conn GET {py}/hello"],
             [req(1, ok(304, body=EMPTY, headers={"Content-Length": "1234"})), then_hello()],
             conns={"py": 1},
             nng=[err("NNG_ETIMEDOUT"), err("NNG_ECLOSED")],
             why="NNG reads a body for a 304 that has a Content-Length (none follows: it "
                 "times out)")
        case("framing", "py-100-continue", ["conn GET {py}/continue", "conn GET {py}/hello"],
             [req(1, ok(body=B["/continue"])), then_hello()], conns={"py": 1},
             nng=[ok(100, body=EMPTY, reason="Continue", headers={"X-Test": None}),
                  req(1, ok(body=B["/continue"]))],
             why="NNG returns the interim 100 as the response; the real one is then read "
                 "as the answer to the next request")
        case("framing", "py-103-and-100", ["conn GET {py}/early-hints", "conn GET {py}/hello"],
             [req(1, ok(body=B["/early-hints"])), then_hello()], conns={"py": 1},
             nng=[ok(103, body=EMPTY, reason="Early Hints", headers={"X-Test": None}),
                  ok(100, body=EMPTY, headers={"X-Test": None})],
             why="NNG returns each interim response (103, then 100) as a response of its own")
        case("framing", "py-http10-until-close", ["conn GET {py}/http10"],
             [req(1, ok(body=B["/http10"], version="HTTP/1.0", headers={"Content-Length": None}))],
             nng=[req(1, ok(body=EMPTY, version="HTTP/1.0"))],
             why="NNG reads no body without Content-Length (a body delimited by the close is "
                 "dropped)")
        case("framing", "py-http10-until-close-1MiB", ["conn GET {py}/http10-big"],
             [req(1, ok(body=fs.BIG_HTTP10, version="HTTP/1.0"))],
             nng=[req(1, ok(body=EMPTY, version="HTTP/1.0"))],
             why="as py-http10-until-close, 1 MiB")
        case("framing", "py-http11-until-close", ["conn GET {py}/until-close"],
             [req(1, ok(body=B["/until-close"], headers={"Content-Length": None}))],
             nng=[req(1, ok(body=EMPTY))],
             why="NNG reads no body without Content-Length or chunked (RFC 9112 6.3: until close)")
        case("framing", "py-http10-until-close-client-transact", ["client GET {py}/http10"],
             [ok(body=B["/http10"], version="HTTP/1.0")],
             nng=[ok(body=EMPTY, version="HTTP/1.0")],
             why="as py-http10-until-close, through nng_http_client_transact")
        # After a response that ends the connection (HTTP/1.0 without
        # keep-alive, Connection: close), the next transact on the conn
        # must fail at once: the client closed it (NNG_ECLOSED).
        case("framing", "py-http10-length-then-get",
             ["conn GET {py}/http10-length", "sleep 100", "conn GET {py}/hello"],
             [req(1, ok(body=B["/http10-length"], version="HTTP/1.0")), err("NNG_ECLOSED")],
             conns={"py": 1},
             nng=[req(1, ok(body=B["/http10-length"], version="HTTP/1.0")),
                  err("NNG_ECONNSHUT")],
             why="NNG keeps an HTTP/1.0 connection for the next request; it finds the "
                 "server's close when reading the answer (ECONNSHUT)")
        case("framing", "py-connection-close-then-get",
             ["conn GET {py}/close", "sleep 100", "conn GET {py}/hello"],
             [req(1, ok(body=B["/close"], headers={"Connection": "close"})),
              err("NNG_ECLOSED")],
             conns={"py": 1},
             nng=[req(1, ok(body=B["/close"])), err("NNG_ECONNSHUT")],
             why="NNG ignores Connection: close; it finds the server's close when reading "
                 "the next answer (ECONNSHUT)")
        case("framing", "py-connection-close-server-lingers",
             ["conn GET {py}/close-linger", "conn GET {py}/hello timeout=1000"],
             [req(1, ok(body=B["/close-linger"], headers={"Connection": "close"})),
              err("NNG_ECLOSED")],
             conns={"py": 1},
             nng=[req(1, ok(body=B["/close-linger"])), err("NNG_ETIMEDOUT")],
             why="NNG ignores Connection: close and sends the next request on that "
                 "connection (here the server keeps it open and never answers)")
        case("framing", "py-101-switching", ["conn GET {py}/upgrade \"H:Upgrade: test\""],
             [req(1, ok(101, body=EMPTY, reason="Switching Protocols",
                        headers={"Connection": "Upgrade"}))])
        case("framing", "py-bad-content-length", ["conn GET {py}/bad-length"],
             [err("NNG_EPROTO")],
             nng=[ok(body=EMPTY, headers={"Content-Length": "12abc"})],
             why="NNG takes an unparsable Content-Length for no body")

    # ---------------- http.server ----------------
    if s.stdlib:
        st = s.stdlib
        hello = ok(body=st.hello, version="HTTP/1.0",
                   headers={"Content-Type": "text/plain", "Content-Length": str(len(st.hello))})
        case("stdlib", "stdlib-get-text", ["conn GET {stdlib}/hello.txt"], [hello],
             conns={"stdlib": 1})
        case("stdlib", "stdlib-get-binary", ["conn GET {stdlib}/data.bin"],
             [ok(body=st.data, version="HTTP/1.0",
                 headers={"Content-Type": "application/octet-stream"})])
        case("stdlib", "stdlib-head", ["conn HEAD {stdlib}/data.bin"],
             [ok(body=EMPTY, version="HTTP/1.0", headers={"Content-Length": str(len(st.data))})])
        case("stdlib", "stdlib-404", ["conn GET {stdlib}/missing"],
             [ok(404, version="HTTP/1.0", headers={"Content-Type": "text/html;charset=utf-8"})])
        case("stdlib", "stdlib-listing", ["conn GET {stdlib}/sub/"],
             [ok(version="HTTP/1.0", headers={"Content-Type": "text/html; charset=utf-8"})])
        case("stdlib", "stdlib-http10-second-request",
             ["conn GET {stdlib}/hello.txt", "sleep 100", "conn GET {stdlib}/hello.txt"],
             [hello, err("NNG_ECLOSED")], conns={"stdlib": 1},
             nng=[hello, err("NNG_ECONNSHUT")],
             why="as py-http10-length-then-get, with http.server (HTTP/1.0)")
        case("stdlib", "stdlib-client-transact", ["client GET {stdlib}/data.bin"],
             [ok(body=st.data, version="HTTP/1.0")])
        st11 = s.stdlib11
        hello11 = ok(body=st11.hello, headers={"Content-Length": str(len(st11.hello))})
        case("stdlib", "stdlib11-keepalive",
             ["conn GET {stdlib11}/hello.txt", "conn HEAD {stdlib11}/data.bin",
              "conn GET {stdlib11}/data.bin", "conn GET {stdlib11}/hello.txt",
              "conn GET {stdlib11}/missing"],
             [hello11, ok(body=EMPTY), ok(body=st11.data), hello11,
              ok(404, headers={"Connection": "close"})],
             conns={"stdlib11": 1})

    # ---------------- our server ----------------
    if s.ours:
        o = s.ours
        static = ok(body=b"Hello, world!", headers={**TEXT, "Content-Length": "13"})
        one = ok(body=o.one_bin, headers={"Content-Type": "application/octet-stream"})
        case("ours-server", "ours-static", ["conn GET {ours}/static"], [static])
        case("ours-server", "ours-file-1MiB", ["conn GET {ours}/file"], [one])
        case("ours-server", "ours-echo",
             ['conn POST {ours}/echo body-len=1000 "H:Content-Type: application/x-test"'],
             [ok(body=body_len_bytes(1000), headers={"Content-Type": "application/x-test"})])
        case("ours-server", "ours-echo-file",
             ['conn POST {ours}/echo body=@{files}/small.txt "H:Content-Type: text/plain"'],
             [ok(body=b"a small request body\n")])
        # At the server's 64 KiB limit.  (Over it, the server answers 413 and
        # closes with the body unread: the reset can beat the answer, a race.)
        case("ours-server", "ours-echo-64KiB", ["conn POST {ours}/echo body-len=65536"],
             [ok(body=body_len_bytes(65536))])
        case("ours-server", "ours-empty", ["conn GET {ours}/empty"],
             [ok(body=EMPTY, headers={"Content-Length": "0"})])
        case("ours-server", "ours-500", ["conn GET {ours}/fail"], [ok(500)])
        case("ours-server", "ours-404", ["conn GET {ours}/nothing-here", "conn GET {ours}/static"],
             [ok(404), static])
        case("ours-server", "ours-redirect", ["conn GET {ours}/moved show=Location"],
             [ok(301, headers={"Location": "/static"})])
        case("ours-server", "ours-head-then-get", ["conn HEAD {ours}/file", "conn GET {ours}/static"],
             [ok(body=EMPTY, headers={"Content-Length": str(1 << 20)}), static])
        case("ours-server", "ours-keepalive-mixed",
             ["conn GET {ours}/static", "conn GET {ours}/file", "conn POST {ours}/echo body=abc",
              "conn PUT {ours}/put body-len=100", "conn DELETE {ours}/any",
              "conn GET {ours}/site/hello.txt", "conn GET {ours}/static"],
             [static, one, ok(body=b"abc"), ok(), ok(), ok(), static])
        case("ours-server", "ours-client-transact", ["client GET {ours}/static", "client GET {ours}/file"],
             [static, one])

    # ---------------- failures ----------------
    if "refused" in s.urls:
        case("errors", "refused-connect", ["connect {refused}/"], [err("NNG_ECONNREFUSED")])
        case("errors", "refused-client-transact", ["client GET {refused}/x"],
             [err("NNG_ECONNREFUSED")])
        case("errors", "refused-conn", ["conn GET {refused}/x"], [err("NNG_ECONNREFUSED")])
    if s.py:
        case("errors", "connect-only", ["connect {py}/"], [{"result": {"0"}}])
        case("errors", "stall-client-transact", ["client GET {py}/stall timeout=300"],
             [err("NNG_ETIMEDOUT")])
        case("errors", "stall-conn", ["conn GET {py}/stall timeout=300"], [err("NNG_ETIMEDOUT")])
        case("errors", "stall-mid-body", ["conn GET {py}/stall-body timeout=300"],
             [err("NNG_ETIMEDOUT")])
        case("errors", "close-mid-body", ["conn GET {py}/short"], [err("NNG_ECONNSHUT")])
        case("errors", "close-mid-chunk", ["conn GET {py}/chunked-short"],
             [err("NNG_ECONNSHUT")])
        case("errors", "not-http", ["conn GET {py}/garbage"], [err("NNG_EPROTO")])
        case("errors", "over-limit-length", ["conn GET {py}/huge timeout=1000"],
             [err("NNG_EMSGSIZE")],
             nng=[err("NNG_ETIMEDOUT")],
             why="NNG has no response size limit: it allocates the declared 300 MiB and waits "
                 "for it")
        case("errors", "over-limit-length-client-transact", ["client GET {py}/huge timeout=1000"],
             [err("NNG_EMSGSIZE")],
             nng=[err("NNG_ETIMEDOUT")], why="as over-limit-length, through client transact")
        case("errors", "over-limit-chunk", ["conn GET {py}/chunked-huge timeout=1000"],
             [err("NNG_EMSGSIZE")],
             nng=[err("NNG_ETIMEDOUT")],
             why="NNG has no limit on chunks either: it allocates a 300 MiB chunk and waits")
    return cases
