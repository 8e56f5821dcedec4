// TLS streams end to end over loopback: tls+tcp:// dialers and listeners
// through NNG's stream API, https servers and clients through NNG's HTTP
// API, and real peers (curl, openssl s_client) against our https server.
// Verification: the right CA and name pass; a wrong host name, an expired
// certificate and an unknown CA fail with NNG_EPEERAUTH under "required"
// and pass under "none"; plain HTTP or garbage on the TLS port is closed
// without harming other clients.
#include "support/nng_test.hpp"
#include "http/server.hpp"
#include "support/tls_material.hpp"
#include "tls/stream.hpp"

#include <arpa/inet.h>
#include <cstdio>
#include <cstring>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

using nnghttp::detail::test::material;

std::string run(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
        out.append(buf, n);
    }
    ::pclose(p);
    return out;
}

// Runs a Python script (written to the test material's directory as name)
// for at most secs seconds; its stdout and stderr.
std::string run_python(const char* name, const std::string& script, int secs) {
    std::string path = material::get().path(name);
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) {
        return "cannot write " + path;
    }
    std::fputs(script.c_str(), f);
    std::fclose(f);
    return run("timeout " + std::to_string(secs) + " python3 '" + path + "' 2>&1");
}

// The start of a Python client script: ctx, an ssl context trusting ca.crt
// and speaking only version (an ssl.TLSVersion name), and s, a plain socket
// connected to 127.0.0.1:port (10 s timeout).
std::string python_tls_client(const char* version, int port) {
    return "import socket, ssl\n"
           "ctx = ssl.create_default_context(cafile='" + material::get().path("ca.crt") + "')\n"
           "ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion." + version + "\n"
           "s = socket.create_connection(('127.0.0.1', " + std::to_string(port) + "), timeout=10)\n";
}

nng_tls_config* server_cfg(const char* pem = "server.pem") {
    nng_tls_config* c = nullptr;
    EXPECT_EQ(nng_tls_config_alloc(&c, NNG_TLS_MODE_SERVER), 0);
    EXPECT_EQ(nng_tls_config_cert_key_file(c, material::get().path(pem).c_str(), nullptr), 0);
    return c;
}

nng_tls_config* client_cfg(const char* ca, const char* name, nng_tls_auth_mode mode) {
    nng_tls_config* c = nullptr;
    EXPECT_EQ(nng_tls_config_alloc(&c, NNG_TLS_MODE_CLIENT), 0);
    if (ca != nullptr) {
        EXPECT_EQ(nng_tls_config_ca_file(c, material::get().path(ca).c_str()), 0);
    }
    if (name != nullptr) {
        EXPECT_EQ(nng_tls_config_server_name(c, name), 0);
    }
    EXPECT_EQ(nng_tls_config_auth_mode(c, mode), 0);
    return c;
}

// An https server with a static route, on an ephemeral port.
class https_server {
  public:
    // head_timeout_ms > 0: the server's head timeout (default 30 s).
    explicit https_server(const char* pem = "server.pem", int head_timeout_ms = 0) {
        nng_url* u = nullptr;
        EXPECT_EQ(nng_url_parse(&u, "https://127.0.0.1:0"), 0);
        EXPECT_EQ(nng_http_server_hold(&srv_, u), 0);
        nng_url_free(u);
        if (head_timeout_ms > 0) {
            auto& srv = *reinterpret_cast<nnghttp::detail::http::server*>(srv_);
            auto l = srv.limits();
            l.head_timeout = head_timeout_ms;
            srv.set_limits(l);
        }
        nng_tls_config* cfg = server_cfg(pem);
        EXPECT_EQ(nng_http_server_set_tls(srv_, cfg), 0);
        nng_tls_config_free(cfg); // the server holds it
        nng_http_handler* h = nullptr;
        EXPECT_EQ(nng_http_handler_alloc_static(&h, "/static", "Hello, world!", 13, "text/plain"),
                  0);
        EXPECT_EQ(nng_http_server_add_handler(srv_, h), 0);
        // More than one TLS record (16 KiB) and one send of the stream.
        big_.resize(big_size);
        for (std::size_t i = 0; i < big_.size(); i++) {
            big_[i] = static_cast<char>('a' + i % 26);
        }
        EXPECT_EQ(nng_http_handler_alloc_static(&h, "/big", big_.data(), big_.size(), "text/plain"), 0);
        EXPECT_EQ(nng_http_server_add_handler(srv_, h), 0);
        EXPECT_EQ(nng_http_server_start(srv_), 0);
        nng_sockaddr sa{};
        EXPECT_EQ(nng_http_server_get_addr(srv_, &sa), 0);
        port_ = ntohs(sa.s_in.sa_port);
        nng_tls_config* again = nullptr;
        EXPECT_EQ(nng_http_server_set_tls(srv_, again = server_cfg(pem)), NNG_EBUSY)
            << "not once started";
        nng_tls_config_free(again);
    }
    ~https_server() { nng_http_server_release(srv_); }
    int port() const { return port_; }
    std::string url(const char* host = "127.0.0.1", const char* path = "/static") const {
        return std::string("https://") + host + ":" + std::to_string(port_) + path;
    }

    static constexpr std::size_t big_size = 200 * 1024;

  private:
    nng_http_server* srv_ = nullptr;
    int port_ = 0;
    std::string big_;
};

// One GET through our client; returns the aio result, fills status/body.
int get(const std::string& url, nng_tls_config* cfg, int* status, std::string* body) {
    nng_url* u = nullptr;
    EXPECT_EQ(nng_url_parse(&u, url.c_str()), 0);
    nng_http_client* cli = nullptr;
    EXPECT_EQ(nng_http_client_alloc(&cli, u), 0);
    if (cfg != nullptr) {
        EXPECT_EQ(nng_http_client_set_tls(cli, cfg), 0);
    }
    nng_http_req* req = nullptr;
    nng_http_req_alloc(&req, u);
    nng_http_res* res = nullptr;
    nng_http_res_alloc(&res);
    nng_aio* aio = nullptr;
    nng_aio_alloc(&aio, nullptr, nullptr);
    nng_aio_set_timeout(aio, 5000);
    nng_http_client_transact(cli, req, res, aio);
    nng_aio_wait(aio);
    int rv = nng_aio_result(aio);
    *status = nng_http_res_get_status(res);
    void* d = nullptr;
    size_t n = 0;
    nng_http_res_get_data(res, &d, &n);
    body->assign(static_cast<char*>(d), n);
    nng_aio_free(aio);
    nng_http_res_free(res);
    nng_http_req_free(req);
    nng_http_client_free(cli);
    nng_url_free(u);
    return rv;
}

// A connected tls+tcp:// pair through NNG's stream API, the client
// verifying the server against ca.crt; everything freed at scope exit.
struct tls_pair {
    nng_stream_listener* l = nullptr;
    nng_stream_dialer* d = nullptr;
    nng_aio* acc = nullptr;
    nng_aio* dial = nullptr;
    nng_stream* cs = nullptr; // client side
    nng_stream* ss = nullptr; // server side
    tls_pair() {
        nng_aio_alloc(&acc, nullptr, nullptr);
        nng_aio_alloc(&dial, nullptr, nullptr);
    }
    ~tls_pair() {
        nng_stream_free(cs);
        nng_stream_free(ss);
        nng_aio_free(acc);
        nng_aio_free(dial);
        nng_stream_dialer_free(d);
        nng_stream_listener_free(l);
    }
    tls_pair(const tls_pair&) = delete;
    tls_pair& operator=(const tls_pair&) = delete;
};

// Listens, dials and accepts; fails the test if any step does.
void connect_pair(tls_pair& p) {
    ASSERT_EQ(nng_stream_listener_alloc(&p.l, "tls+tcp://127.0.0.1:0"), 0);
    nng_tls_config* scfg = server_cfg();
    ASSERT_EQ(nng_stream_listener_set_ptr(p.l, NNG_OPT_TLS_CONFIG, scfg), 0);
    nng_tls_config_free(scfg);
    ASSERT_EQ(nng_stream_listener_listen(p.l), 0);
    int port = 0;
    ASSERT_EQ(nng_stream_listener_get_int(p.l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
    ASSERT_EQ(
        nng_stream_dialer_alloc(&p.d, ("tls+tcp://localhost:" + std::to_string(port)).c_str()), 0);
    nng_tls_config* ccfg = client_cfg("ca.crt", nullptr, NNG_TLS_AUTH_MODE_REQUIRED);
    ASSERT_EQ(nng_stream_dialer_set_ptr(p.d, NNG_OPT_TLS_CONFIG, ccfg), 0);
    nng_tls_config_free(ccfg);
    nng_aio_set_timeout(p.acc, 5000);
    nng_aio_set_timeout(p.dial, 5000);
    nng_stream_listener_accept(p.l, p.acc);
    nng_stream_dialer_dial(p.d, p.dial);
    nng_aio_wait(p.dial);
    nng_aio_wait(p.acc);
    ASSERT_EQ(nng_aio_result(p.dial), 0);
    ASSERT_EQ(nng_aio_result(p.acc), 0);
    p.cs = static_cast<nng_stream*>(nng_aio_get_output(p.dial, 0));
    p.ss = static_cast<nng_stream*>(nng_aio_get_output(p.acc, 0));
}

class TlsStream : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(material::get().ok()); }
};

TEST_F(TlsStream, TlsTcpEchoThroughTheStreamApi) {
    tls_pair p;
    connect_pair(p);
    if (HasFatalFailure()) {
        return;
    }
    nng_stream* cs = p.cs;
    nng_stream* ss = p.ss;

    // 256 KiB each way, through several TLS records.
    std::string out(256 * 1024, '\0');
    for (std::size_t i = 0; i < out.size(); i++) {
        out[i] = static_cast<char>(i * 7 + 3);
    }
    std::string in(out.size(), '\0');
    ASSERT_EQ(nnghttp::detail::test::xfer_all(cs, true, out.data(), out.size()), 0);
    ASSERT_EQ(nnghttp::detail::test::xfer_all(ss, false, in.data(), in.size()), 0);
    EXPECT_TRUE(in == out);
    ASSERT_EQ(nnghttp::detail::test::xfer_all(ss, true, out.data(), 1000), 0);
    ASSERT_EQ(nnghttp::detail::test::xfer_all(cs, false, in.data(), 1000), 0);
    EXPECT_EQ(in.compare(0, 1000, out, 0, 1000), 0);

    bool verified = false;
    EXPECT_EQ(nng_stream_get_bool(cs, NNG_OPT_TLS_VERIFIED, &verified), 0);
    EXPECT_TRUE(verified) << "the client verified the server";
    EXPECT_EQ(nng_stream_get_bool(ss, NNG_OPT_TLS_VERIFIED, &verified), 0);
    EXPECT_FALSE(verified) << "the server asked for no client certificate";
}

TEST_F(TlsStream, HttpsClientVerifiesOrNot) {
    int status = 0;
    std::string body;
    {
        https_server srv;
        nng_tls_config* ok = client_cfg("ca.crt", nullptr, NNG_TLS_AUTH_MODE_REQUIRED);
        EXPECT_EQ(get(srv.url("localhost"), ok, &status, &body), 0);
        EXPECT_EQ(status, 200);
        EXPECT_EQ(body, "Hello, world!");
        EXPECT_EQ(get(srv.url("127.0.0.1"), ok, &status, &body), 0) << "IP address in the SAN";
        nng_tls_config_free(ok);

        nng_tls_config* wrong_name =
            client_cfg("ca.crt", "not-this-host.example", NNG_TLS_AUTH_MODE_REQUIRED);
        EXPECT_EQ(get(srv.url("localhost"), wrong_name, &status, &body), NNG_EPEERAUTH);
        nng_tls_config_free(wrong_name);

        nng_tls_config* unknown_ca = client_cfg("ca2.crt", nullptr, NNG_TLS_AUTH_MODE_REQUIRED);
        EXPECT_EQ(get(srv.url("localhost"), unknown_ca, &status, &body), NNG_EPEERAUTH);
        nng_tls_config_free(unknown_ca);

        nng_tls_config* none = client_cfg(nullptr, "whatever", NNG_TLS_AUTH_MODE_NONE);
        EXPECT_EQ(get(srv.url("localhost"), none, &status, &body), 0) << "no verification asked";
        EXPECT_EQ(status, 200);
        nng_tls_config_free(none);
    }
    // (A second hold of https://127.0.0.1:0 would be the same server, as in
    // NNG: one at a time.)
    https_server expired("expired.pem");
    nng_tls_config* req = client_cfg("ca.crt", nullptr, NNG_TLS_AUTH_MODE_REQUIRED);
    EXPECT_EQ(get(expired.url("localhost"), req, &status, &body), NNG_EPEERAUTH);
    nng_tls_config_free(req);
    nng_tls_config* none2 = client_cfg(nullptr, nullptr, NNG_TLS_AUTH_MODE_NONE);
    EXPECT_EQ(get(expired.url("localhost"), none2, &status, &body), 0);
    nng_tls_config_free(none2);
}

TEST_F(TlsStream, CurlAndOpensslAgainstOurServer) {
    https_server srv;
    std::string ca = material::get().path("ca.crt");
    std::string out = run("curl -s --max-time 10 --cacert '" + ca + "' " + srv.url("localhost") +
                          " " + srv.url("localhost"));
    EXPECT_EQ(out, "Hello, world!Hello, world!") << "curl, keep-alive over TLS";
    out = run("curl -s --max-time 10 --tlsv1.3 --cacert '" + ca +
              "' -o /dev/null -w '%{http_code}' " + srv.url("localhost"));
    EXPECT_EQ(out, "200") << "TLS 1.3";
    out = run("curl -s --max-time 10 --tlsv1.2 --tls-max 1.2 --cacert '" + ca +
              "' -o /dev/null -w '%{http_code}' " + srv.url("localhost"));
    EXPECT_EQ(out, "200") << "TLS 1.2";
    out = run(
        "printf 'GET /static HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' | "
        "timeout 10 openssl s_client -quiet -connect 127.0.0.1:" +
        std::to_string(srv.port()) + " -servername localhost -CAfile '" + ca +
        "' -verify_return_error 2>/dev/null");
    EXPECT_NE(out.find("HTTP/1.1 200 OK"), std::string::npos) << out;
    EXPECT_NE(out.find("Hello, world!"), std::string::npos);
}

TEST_F(TlsStream, PlainHttpOrGarbageOnTheTlsPortIsClosed) {
    https_server srv;
    for (const char* junk :
         {"GET /static HTTP/1.1\r\nHost: x\r\n\r\n", "\x16\x03\x01garbage garbage"}) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(static_cast<std::uint16_t>(srv.port()));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        timeval tv{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::send(fd, junk, std::strlen(junk), MSG_NOSIGNAL);
        char buf[512];
        ssize_t n;
        std::string got;
        while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
            got.append(buf, static_cast<std::size_t>(n));
        }
        EXPECT_EQ(n, 0) << "closed by the server, not timed out";
        EXPECT_EQ(got.find("HTTP/1.1"), std::string::npos) << "no plaintext answer";
        ::close(fd);
        // Others are still served.
        int status = 0;
        std::string body;
        nng_tls_config* ok = client_cfg("ca.crt", nullptr, NNG_TLS_AUTH_MODE_REQUIRED);
        EXPECT_EQ(get(srv.url("localhost"), ok, &status, &body), 0);
        EXPECT_EQ(body, "Hello, world!");
        nng_tls_config_free(ok);
    }
}

} // namespace

namespace {

void write_file(const std::string& name, const std::string& data) {
    FILE* f = std::fopen(material::get().path(name).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(data.data(), 1, data.size(), f), data.size());
    std::fclose(f);
}

} // namespace

// A TLS stream keeps its big buffers only while traffic needs them: a file
// streamed out (records the socket cannot take at once), a large upload
// (receives that fill the small buffer), then small exchanges again on the
// same connection.  curl checks every byte.
TEST_F(TlsStream, FilesAndUploadsOverHttpsThenSmallRequestsOnTheSameConnection) {
    using nnghttp::detail::test::pattern;
    const std::string big = pattern(1536 * 1024 + 77, 7);
    const std::string upload = pattern(600 * 1024 + 5, 11);
    write_file("big.bin", big);
    write_file("upload.bin", upload);
    const std::string big_path = material::get().path("big.bin");
    const std::string up_path = material::get().path("upload.bin");

    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, "https://127.0.0.1:0"), 0);
    nng_http_server* srv = nullptr;
    ASSERT_EQ(nng_http_server_hold(&srv, u), 0);
    nng_url_free(u);
    nng_tls_config* cfg = server_cfg();
    ASSERT_EQ(nng_http_server_set_tls(srv, cfg), 0);
    nng_tls_config_free(cfg);
    nng_http_handler* h = nullptr;
    ASSERT_EQ(nng_http_handler_alloc_file(&h, "/big", big_path.c_str()), 0);
    ASSERT_EQ(nng_http_server_add_handler(srv, h), 0);
    ASSERT_EQ(nng_http_handler_alloc(&h, "/echo", nnghttp::detail::test::echo_body_cb), 0);
    ASSERT_EQ(nng_http_handler_set_method(h, "POST"), 0);
    ASSERT_EQ(nng_http_handler_collect_body(h, true, 4u << 20), 0);
    ASSERT_EQ(nng_http_server_add_handler(srv, h), 0);
    ASSERT_EQ(nng_http_handler_alloc_static(&h, "/static", "Hello, world!", 13, "text/plain"), 0);
    ASSERT_EQ(nng_http_server_add_handler(srv, h), 0);
    ASSERT_EQ(nng_http_server_start(srv), 0);
    nng_sockaddr sa{};
    ASSERT_EQ(nng_http_server_get_addr(srv, &sa), 0);
    const std::string base = "https://localhost:" + std::to_string(ntohs(sa.s_in.sa_port));
    const std::string ca = material::get().path("ca.crt");
    // One connection (curl reuses it across --next): the file, a small
    // request, the upload, a small request again.
    std::string opts = " -s --max-time 30 --cacert '" + ca + "' ";
    auto out = [](int i) { return " -o '" + material::get().path("out" + std::to_string(i)) + "' "; };
    std::string cmd = "curl" + opts + out(1) + base + "/big --next" + opts + out(2) + base +
                      "/static --next" + opts + "--data-binary @'" + up_path + "'" + out(3) + base +
                      "/echo --next" + opts + out(4) + "-w '%{num_connects}' " + base + "/static";
    std::string connects = run(cmd);
    EXPECT_EQ(connects, "0") << "the last request reused the connection";
    std::string got = material::get().read("out1");
    EXPECT_EQ(got.size(), big.size());
    EXPECT_TRUE(got == big) << "the file arrives whole";
    EXPECT_EQ(material::get().read("out2"), "Hello, world!");
    got = material::get().read("out3");
    EXPECT_EQ(got.size(), upload.size());
    EXPECT_TRUE(got == upload) << "the upload comes back whole";
    EXPECT_EQ(material::get().read("out4"), "Hello, world!");
    nng_http_server_release(srv);
}

// Past tls_park_above (256) connections a TLS connection parks between
// requests: its session and OpenSSL's record buffers go back, and the
// next request wakes it.  Every one of 300 connections keeps working
// through that, twice over.
TEST_F(TlsStream, ManyIdleHttpsConnectionsParkAndWakeUp) {
    https_server srv;
    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, srv.url("localhost").c_str()), 0);
    nng_http_client* cli = nullptr;
    ASSERT_EQ(nng_http_client_alloc(&cli, u), 0);
    nng_tls_config* cfg = client_cfg("ca.crt", nullptr, NNG_TLS_AUTH_MODE_REQUIRED);
    ASSERT_EQ(nng_http_client_set_tls(cli, cfg), 0);
    nng_tls_config_free(cfg);
    nng_aio* aio = nullptr;
    ASSERT_EQ(nng_aio_alloc(&aio, nullptr, nullptr), 0);
    nng_aio_set_timeout(aio, 10000);
    nng_http_req* req = nullptr;
    ASSERT_EQ(nng_http_req_alloc(&req, u), 0);

    auto get_on = [&](nng_http_conn* c) {
        nng_http_res* res = nullptr;
        nng_http_res_alloc(&res);
        nng_http_conn_transact(c, req, res, aio);
        nng_aio_wait(aio);
        int rv = nng_aio_result(aio);
        void* d = nullptr;
        size_t n = 0;
        nng_http_res_get_data(res, &d, &n);
        std::string body(static_cast<char*>(d), n);
        int status = nng_http_res_get_status(res);
        nng_http_res_free(res);
        return rv == 0 && status == 200 && body == "Hello, world!";
    };

    std::vector<nng_http_conn*> conns;
    int ok = 0;
    for (int i = 0; i < 300; i++) {
        nng_http_client_connect(cli, aio);
        nng_aio_wait(aio);
        ASSERT_EQ(nng_aio_result(aio), 0) << "connection " << i;
        auto* c = static_cast<nng_http_conn*>(nng_aio_get_output(aio, 0));
        conns.push_back(c);
        ok += get_on(c) ? 1 : 0;
    }
    EXPECT_EQ(ok, 300) << "first request on each connection";
    for (int round = 0; round < 2; round++) {
        ok = 0;
        for (nng_http_conn* c : conns) {
            ok += get_on(c) ? 1 : 0;
        }
        EXPECT_EQ(ok, 300) << "round " << round << " on idle connections";
    }
    for (nng_http_conn* c : conns) {
        nng_http_conn_close(c);
    }
    nng_http_req_free(req);
    nng_aio_free(aio);
    nng_http_client_free(cli);
    nng_url_free(u);
}

// A server that closes a connection after its answer (the client asked for
// Connection: close) ends it with a close_notify alert first, in TLS 1.2
// and 1.3: Python's ssl module, told not to forgive a bare TCP close,
// reads the end of the data cleanly instead of "EOF in violation of
// protocol".  The alert goes with the answer when the answer fits one
// send (/static), after all of it when it does not (/big: 200 KiB, many
// records and sends), never before its last byte.
TEST_F(TlsStream, ClosingAfterTheAnswerSendsCloseNotify) {
    https_server srv;
    for (const char* version : {"TLSv1_2", "TLSv1_3"}) {
        for (const char* path : {"/static", "/big"}) {
            std::string script =
                python_tls_client(version, srv.port()) +
                "t = ctx.wrap_socket(s, server_hostname='localhost', suppress_ragged_eofs=False)\n"
                "t.sendall(b'GET " + path +
                " HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n')\n"
                "data = b''\n"
                "end = 'cut'\n"
                "try:\n"
                "    while True:\n"
                "        d = t.recv(65536)\n"
                "        if not d:\n"
                "            end = 'close_notify'\n"
                "            break\n"
                "        data += d\n"
                "except ssl.SSLEOFError:\n"
                "    pass\n"
                "head, _, body = data.partition(b'\\r\\n\\r\\n')\n"
                "want = b'Hello, world!' if len(body) == 13 else bytes(97 + i % 26 for i in range(len(body)))\n"
                "print(end, t.version(), len(body), body == want)\n";
            std::string out = run_python("close_notify.py", script, 20);
            std::size_t len = std::string(path) == "/big" ? https_server::big_size : 13;
            std::string want = std::string("close_notify ") + (version[6] == '2' ? "TLSv1.2" : "TLSv1.3") +
                               " " + std::to_string(len) + " True\n";
            EXPECT_EQ(out, want) << version << " " << path;
        }
    }
}

// The server's suites, seen by a real peer (Python's ssl module): at
// TLS 1.2 a client offering only CBC suites is refused in the handshake,
// one offering AEAD suites is served with the one it prefers.
TEST_F(TlsStream, AtTls12OnlyAeadSuitesAreAccepted) {
    https_server srv;
    struct {
        const char* offer;
        const char* want;
    } cases[] = {
        {"ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256:"
         "ECDHE-ECDSA-AES256-SHA384:AES128-SHA:AES256-SHA",
         "refused SSLV3_ALERT_HANDSHAKE_FAILURE\n"},
        {"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA",
         "ECDHE-ECDSA-CHACHA20-POLY1305 True\n"},
        {"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA",
         "ECDHE-ECDSA-AES256-GCM-SHA384 True\n"},
    };
    for (const auto& c : cases) {
        std::string script = python_tls_client("TLSv1_2", srv.port());
        script += std::string("ctx.set_ciphers('") + c.offer + "')\n";
        script += "try:\n"
                  "    t = ctx.wrap_socket(s, server_hostname='localhost')\n"
                  "except ssl.SSLError as e:\n"
                  "    print('refused', e.reason)\n"
                  "    raise SystemExit\n"
                  "t.sendall(b'GET /static HTTP/1.1\\r\\nHost: localhost\\r\\n'\n"
                  "          b'Connection: close\\r\\n\\r\\n')\n"
                  "data = b''\n"
                  "while True:\n"
                  "    d = t.recv(4096)\n"
                  "    if not d:\n"
                  "        break\n"
                  "    data += d\n"
                  "print(t.cipher()[0], data.endswith(b'Hello, world!'))\n";
        EXPECT_EQ(run_python("suites.py", script, 20), c.want) << c.offer;
    }
}

// Several requests in one burst of records, sent with the client's last
// handshake message where the protocol allows it (TLS 1.3: the Finished
// and four requests in one send): the engine takes every record the
// socket holds at once (read-ahead) and keeps what it has not yet handed
// over, so each request is answered in turn, none waiting for bytes that
// are already in.
TEST_F(TlsStream, RequestsInOneBurstOfRecordsAreAllAnswered) {
    https_server srv;
    for (const char* version : {"TLSv1_2", "TLSv1_3"}) {
        std::string script =
            python_tls_client(version, srv.port()) +
            "inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()\n"
            "o = ctx.wrap_bio(inc, out, server_hostname='localhost')\n"
            "while True:\n"
            "    try:\n"
            "        o.do_handshake()\n"
            "        break\n"
            "    except ssl.SSLWantReadError:\n"
            "        s.sendall(out.read())\n"
            "        d = s.recv(65536)\n"
            "        if not d:\n"
            "            raise SystemExit('closed in the handshake')\n"
            "        inc.write(d)\n"
            "get = b'GET /static HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n'\n"
            "last = b'GET /big HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n'\n"
            "for r in (get, get, get, last):\n"
            "    o.write(r)\n"
            "s.sendall(out.read())\n"
            "data = b''\n"
            "while True:\n"
            "    try:\n"
            "        d = o.read(65536)\n"
            "        if not d:\n"
            "            break\n"
            "        data += d\n"
            "        continue\n"
            "    except ssl.SSLWantReadError:\n"
            "        pass\n"
            "    except ssl.SSLZeroReturnError:\n"
            "        break\n"
            "    d = s.recv(65536)\n"
            "    if not d:\n"
            "        break\n"
            "    inc.write(d)\n"
            "got = []\n"
            "while data:\n"
            "    head, _, rest = data.partition(b'\\r\\n\\r\\n')\n"
            "    n = 0\n"
            "    for line in head.split(b'\\r\\n')[1:]:\n"
            "        k, _, v = line.partition(b':')\n"
            "        if k.strip().lower() == b'content-length':\n"
            "            n = int(v)\n"
            "    body, data = rest[:n], rest[n:]\n"
            "    ok = body == b'Hello, world!' or body == bytes(97 + i % 26 for i in range(n))\n"
            "    got.append('%s:%d:%s' % (head.split(b' ')[1].decode(), n, ok))\n"
            "print(o.version(), ' '.join(got))\n";
        std::string out = run_python("burst.py", script, 20);
        std::string want = std::string(version[6] == '2' ? "TLSv1.2" : "TLSv1.3") +
                           " 200:13:True 200:13:True 200:13:True 200:" +
                           std::to_string(https_server::big_size) + ":True\n";
        EXPECT_EQ(out, want) << version;
    }
}

// An https client that sends nothing, before or after its handshake, is
// closed once the head timeout passes (a new TLS connection reads with a
// session from accept on, its timeout the head's), and one that asks in
// time meanwhile is served.
TEST_F(TlsStream, SilentHttpsClientsMeetTheHeadTimeout) {
    https_server srv("server.pem", 400);
    std::string ca = material::get().path("ca.crt");
    std::string script =
        "import socket, ssl, time\n"
        "port = " + std::to_string(srv.port()) + "\n"
        "ctx = ssl.create_default_context(cafile='" + ca + "')\n"
        "def closed_after(s, t0):\n"
        "    try:\n"
        "        while s.recv(100):\n"
        "            pass\n"
        "    except (OSError, ssl.SSLError):\n"
        "        pass\n"
        "    return time.monotonic() - t0\n"
        "t0 = time.monotonic()\n"
        "raw = socket.create_connection(('127.0.0.1', port), timeout=10)\n"
        "quiet = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port), timeout=10),\n"
        "                        server_hostname='localhost')\n"
        "ok = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port), timeout=10),\n"
        "                     server_hostname='localhost')\n"
        "ok.sendall(b'GET /static HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n')\n"
        "served = ok.recv(4096).endswith(b'Hello, world!')\n"
        "for name, s in (('raw', raw), ('quiet', quiet)):\n"
        "    d = closed_after(s, t0)\n"
        "    print(name, 'closed' if 0.3 <= d < 5 else 'after %.2f s' % d)\n"
        "print('served', served)\n";
    EXPECT_EQ(run_python("head_timeout.py", script, 30), "raw closed\nquiet closed\nserved True\n");
}

// After a large exchange each way, a TLS stream waiting for its peer holds
// no large buffer: the send buffer that grew to carry 16 KiB records is
// freed once empty (with OpenSSL's memory BIOs, which keep what they grew,
// an https connection kept ~29 KiB more for life after one 256 KiB
// answer), and the 16 KiB receive buffer goes after a small receive.
TEST_F(TlsStream, WaitingStreamsGiveBackWhatALargeExchangeGrew) {
    tls_pair p;
    connect_pair(p);
    if (HasFatalFailure()) {
        return;
    }
    nng_stream* cs = p.cs;
    nng_stream* ss = p.ss;
    auto held = [](nng_stream* s) {
        return static_cast<nnghttp::detail::tls::tls_stream*>(
                   reinterpret_cast<nnghttp::detail::stream*>(s))
            ->buffer_bytes();
    };

    std::string big = nnghttp::detail::test::pattern(256 * 1024);
    std::string in(big.size(), '\0');
    ASSERT_EQ(nnghttp::detail::test::xfer_all(cs, true, big.data(), big.size()), 0);
    ASSERT_EQ(nnghttp::detail::test::xfer_all(ss, false, in.data(), in.size()), 0);
    EXPECT_TRUE(in == big);
    ASSERT_EQ(nnghttp::detail::test::xfer_all(ss, true, big.data(), big.size()), 0);
    ASSERT_EQ(nnghttp::detail::test::xfer_all(cs, false, in.data(), in.size()), 0);
    EXPECT_TRUE(in == big);
    // A small exchange each way ends the bursts.
    ASSERT_EQ(nnghttp::detail::test::xfer_all(cs, true, big.data(), 100), 0);
    ASSERT_EQ(nnghttp::detail::test::xfer_all(ss, false, in.data(), 100), 0);
    ASSERT_EQ(nnghttp::detail::test::xfer_all(ss, true, big.data(), 100), 0);
    ASSERT_EQ(nnghttp::detail::test::xfer_all(cs, false, in.data(), 100), 0);

    // Both wait for the peer now.
    char buf[64];
    nng_iov iov{buf, sizeof buf};
    nng_aio* rc = nullptr;
    nng_aio* rs = nullptr;
    nng_aio_alloc(&rc, nullptr, nullptr);
    nng_aio_alloc(&rs, nullptr, nullptr);
    nng_aio_set_iov(rc, 1, &iov);
    nng_aio_set_iov(rs, 1, &iov);
    nng_stream_recv(cs, rc);
    nng_stream_recv(ss, rs);
    EXPECT_LE(held(cs), 4096u) << "client";
    EXPECT_LE(held(ss), 4096u) << "server";

    // And still work: one more exchange after the swap.
    nng_aio_cancel(rc);
    nng_aio_cancel(rs);
    nng_aio_wait(rc);
    nng_aio_wait(rs);
    ASSERT_EQ(nnghttp::detail::test::xfer_all(cs, true, big.data(), 5000), 0);
    ASSERT_EQ(nnghttp::detail::test::xfer_all(ss, false, in.data(), 5000), 0);
    EXPECT_EQ(in.compare(0, 5000, big, 0, 5000), 0);

    nng_aio_free(rc);
    nng_aio_free(rs);
}
