"""The https servers' TLS defaults: no CBC cipher suites.

A TLS 1.2 client that offers only CBC suites (ECDHE-RSA-AES128-SHA,
ECDHE-ECDSA-AES128-SHA, AES128-SHA, AES256-SHA: MAC-then-encrypt, the
family of Lucky Thirteen and POODLE-style padding oracles) must fail the
handshake; the same client offering AEAD suites (AES-GCM, ChaCha20-Poly1305)
must succeed, and so must a default TLS 1.3 client.

So that a failed handshake means the server refused (and not that this
client cannot make such a handshake at all), the same client first
completes a handshake with a Python ssl server that allows CBC, using the
same certificate.  Servers: `nnghttp serve` with an RSA and with an EC
certificate, and hostile_server (NNG's C API defaults) with RSA.
"""
import socket
import ssl
import threading

from hostilelib import HELLO, HOST, Conn, HostileTestCase, Site, certs, request, scaled

CBC = "ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:AES128-SHA:AES256-SHA"
AEAD = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")


def tls12_client(ciphers):
    ctx = certs().client_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ciphers)
    return ctx


def handshake(port, ctx):
    """The negotiated (cipher, version), or the SSLError/OSError raised."""
    raw = socket.create_connection((HOST, port), timeout=scaled(5.0))
    try:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return s.cipher()[0], s.version()
    except (ssl.SSLError, OSError) as e:
        return e
    finally:
        raw.close()


class PermissiveServer:
    """A Python TLS server that accepts CBC suites, for one handshake at a
    time, in a thread; the control for the client contexts."""

    def __init__(self, kind):
        c = certs()
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(c.path(kind + ".crt"), c.path(kind + ".key"))
        self.ctx.set_ciphers("ALL:@SECLEVEL=0")
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(4)
        self.sock.settimeout(scaled(5.0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve_one, daemon=True)
        self.thread.start()

    def serve_one(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.settimeout(scaled(5.0))
        try:
            with self.ctx.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()
        self.thread.join(scaled(10.0))


class TlsDefaults(HostileTestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()

    def control(self, kind):
        p = PermissiveServer(kind)
        try:
            got = handshake(p.port, tls12_client(CBC))
        finally:
            p.close()
        self.assertIsInstance(got, tuple, "control: this client cannot make a CBC handshake "
                              "even with a server that allows it (%r); the test would prove "
                              "nothing" % (got,))
        self.assertIn(got[0], CBC.split(":"))

    def check(self, srv, kind):
        self.control(kind)
        got = handshake(srv.port, tls12_client(CBC))
        self.assertNotIsInstance(got, tuple, "%s (%s certificate) accepted a TLS 1.2 handshake "
                                 "offering only CBC suites: negotiated %s" % (srv.name, kind, got))
        got = handshake(srv.port, tls12_client(AEAD))
        self.assertIsInstance(got, tuple, "%s (%s certificate): TLS 1.2 with AEAD suites "
                              "failed: %r" % (srv.name, kind, got))
        self.assertEqual(got[1], "TLSv1.2")
        self.assertIn(got[0], AEAD.split(":"))
        got = handshake(srv.port, certs().client_context())
        self.assertIsInstance(got, tuple, "%s: a default TLS client failed: %r" % (srv.name, got))
        # And it serves over AEAD TLS 1.2.
        c = Conn(srv.port, tls=True, timeout=scaled(5.0), context=tls12_client(AEAD))
        self.addCleanup(c.close)
        c.send(request("GET", "/hello.txt"))
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, HELLO))

    def test_nnghttp_serve_rsa(self):
        self.check(self.serve(self.site, "https", cert_kind="rsa"), "rsa")

    def test_nnghttp_serve_ec(self):
        self.check(self.serve(self.site, "https", cert_kind="ec"), "ec")

    def test_nnghttp_serve_named_ciphers(self):
        # Configurable: a suite named with --tls-ciphers is served, even a
        # CBC one, and the default AEAD ones are then refused.
        srv = self.serve(self.site, "https", cert_kind="rsa",
                         extra=["--tls-ciphers", "ECDHE-RSA-AES128-SHA"])
        got = handshake(srv.port, tls12_client(CBC))
        self.assertEqual(got, ("ECDHE-RSA-AES128-SHA", "TLSv1.2"), "--tls-ciphers was not honoured")
        got = handshake(srv.port, tls12_client(AEAD))
        self.assertNotIsInstance(got, tuple, "a suite not named was accepted: %r" % (got,))

    def test_c_server_rsa(self):
        self.check(self.c_server(self.site, "https", cert_kind="rsa"), "rsa")
