// wss:// streams through the C API, with certificates made for the test
// (tests/support/tls_material.hpp): the TLS options of listeners and
// dialers reach the TLS endpoints underneath, as on tls+tcp.
#include "support/tls_material.hpp"
#include "ws_c_api.hpp"

#include <arpa/inet.h>
#include <nng/supplemental/tls/tls.h>

namespace {

using namespace nnghttp::detail::test;

class WsTls : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(material::get().ok()); }
    static std::string path(const char* name) { return material::get().path(name); }
};

TEST_F(WsTls, OptionsByName) {
    ws_setup p("/tls", "wss");
    ASSERT_EQ(nng_stream_listener_set_string(p.l, NNG_OPT_TLS_CERT_KEY_FILE, path("server.pem").c_str()), 0);
    void* cfg = nullptr;
    EXPECT_EQ(nng_stream_listener_get_ptr(p.l, NNG_OPT_TLS_CONFIG, &cfg), 0);
    EXPECT_NE(cfg, nullptr);
    EXPECT_EQ(nng_stream_listener_set_int(p.l, NNG_OPT_TLS_AUTH_MODE, NNG_TLS_AUTH_MODE_NONE), 0);
    p.listen();
    EXPECT_EQ(nng_stream_dialer_set_string(p.d, NNG_OPT_TLS_CA_FILE, path("ca.crt").c_str()), 0);
    EXPECT_EQ(nng_stream_dialer_set_string(p.d, NNG_OPT_TLS_SERVER_NAME, "localhost"), 0);
    EXPECT_EQ(nng_stream_dialer_set_int(p.d, NNG_OPT_TLS_AUTH_MODE, NNG_TLS_AUTH_MODE_REQUIRED), 0);
    int rv = 0;
    get_str(p.d, nng_stream_dialer_get_string, NNG_OPT_TLS_SERVER_NAME, &rv);
    EXPECT_EQ(rv, NNG_EWRITEONLY);
    bool b = false;
    EXPECT_EQ(nng_stream_dialer_get_bool(p.d, NNG_OPT_TLS_VERIFIED, &b), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_dialer_get_ptr(p.d, NNG_OPT_TLS_CONFIG, &cfg), 0);
    EXPECT_NE(cfg, nullptr);
    EXPECT_EQ(nng_stream_dialer_set_string(p.d, NNG_OPT_TLS_CA_FILE, path("no-such-file").c_str()),
              NNG_ENOENT);
    p.connect();
    EXPECT_EQ(send_some(p.cli, "secret"), 6);
    EXPECT_EQ(recv_some(p.srv, 100), "secret");
    EXPECT_EQ(send_some(p.srv, "reply"), 5);
    EXPECT_EQ(recv_some(p.cli, 100), "reply");
    EXPECT_EQ(nng_stream_get_bool(p.cli, NNG_OPT_TLS_VERIFIED, &b), 0);
    EXPECT_TRUE(b);
    EXPECT_EQ(stream_str(p.srv, NNG_OPT_WS_REQUEST_HEADER "Host", &rv), "127.0.0.1:" + std::to_string(p.port));
}

TEST_F(WsTls, ConfigObjects) {
    ws_setup p("/cfg", "wss");
    nng_tls_config* s = nullptr;
    ASSERT_EQ(nng_tls_config_alloc(&s, NNG_TLS_MODE_SERVER), 0);
    ASSERT_EQ(nng_tls_config_cert_key_file(s, path("server.pem").c_str(), nullptr), 0);
    ASSERT_EQ(nng_stream_listener_set_ptr(p.l, NNG_OPT_TLS_CONFIG, s), 0);
    void* got = nullptr;
    EXPECT_EQ(nng_stream_listener_get_ptr(p.l, NNG_OPT_TLS_CONFIG, &got), 0);
    EXPECT_EQ(got, s);
    nng_tls_config_free(s); // the listener holds it
    EXPECT_EQ(nng_stream_listener_set_bool(p.l, NNG_OPT_TLS_CONFIG, true), NNG_EBADTYPE);
    p.listen();
    nng_tls_config* c = nullptr;
    ASSERT_EQ(nng_tls_config_alloc(&c, NNG_TLS_MODE_CLIENT), 0);
    ASSERT_EQ(nng_tls_config_ca_file(c, path("ca.crt").c_str()), 0);
    ASSERT_EQ(nng_tls_config_server_name(c, "localhost"), 0);
    ASSERT_EQ(nng_stream_dialer_set_ptr(p.d, NNG_OPT_TLS_CONFIG, c), 0);
    nng_tls_config_free(c);
    p.connect();
    EXPECT_EQ(send_some(p.cli, pattern(70000).substr(0, 60000)), 60000);
    std::string got_bytes(60000, '\0');
    EXPECT_EQ(xfer_all(p.srv, false, got_bytes.data(), got_bytes.size()), 0);
    EXPECT_EQ(got_bytes, pattern(70000).substr(0, 60000));
}

// A server whose certificate does not verify: the dial fails.
TEST_F(WsTls, UnverifiedServerFailsTheDial) {
    ws_endpoints e("/bad", "wss");
    ASSERT_EQ(nng_stream_listener_set_string(e.l, NNG_OPT_TLS_CERT_KEY_FILE, path("server.pem").c_str()), 0);
    e.listen();
    // No CA given: the default config verifies against nothing it trusts.
    int rv = e.dial_result();
    EXPECT_EQ(rv, NNG_EPEERAUTH);
}

// The server's TLS configuration is fixed once it listens.
TEST_F(WsTls, ConfigFixedOnceListening) {
    ws_endpoints e("/busy", "wss");
    ASSERT_EQ(nng_stream_listener_set_string(e.l, NNG_OPT_TLS_CERT_KEY_FILE, path("server.pem").c_str()), 0);
    e.listen();
    nng_tls_config* s = nullptr;
    ASSERT_EQ(nng_tls_config_alloc(&s, NNG_TLS_MODE_SERVER), 0);
    EXPECT_EQ(nng_stream_listener_set_ptr(e.l, NNG_OPT_TLS_CONFIG, s), NNG_EBUSY);
    nng_tls_config_free(s);
}

// A plain HTTP server and a wss:// listener are two servers: one port
// cannot take both.
TEST_F(WsTls, PlainAndSecureServersDoNotShareAPort) {
    nng_url* u = nullptr;
    nng_http_server* srv = nullptr;
    ASSERT_EQ(nng_url_parse(&u, "http://127.0.0.1:0"), 0);
    ASSERT_EQ(nng_http_server_hold(&srv, u), 0);
    nng_url_free(u);
    ASSERT_EQ(nng_http_server_start(srv), 0);
    nng_sockaddr sa{};
    ASSERT_EQ(nng_http_server_get_addr(srv, &sa), 0);
    std::string url = "wss://127.0.0.1:" + std::to_string(ntohs(sa.s_in.sa_port)) + "/s";
    nng_stream_listener* l = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, url.c_str()), 0);
    ASSERT_EQ(nng_stream_listener_set_string(l, NNG_OPT_TLS_CERT_KEY_FILE, path("server.pem").c_str()), 0);
    EXPECT_EQ(nng_stream_listener_listen(l), NNG_EADDRINUSE);
    nng_stream_listener_free(l);
    nng_http_server_stop(srv);
    nng_http_server_release(srv);
}

// TLS options are for wss only.
TEST_F(WsTls, PlainWsHasNoTlsOptions) {
    ws_endpoints e("/plain");
    void* cfg = nullptr;
    EXPECT_EQ(nng_stream_listener_get_ptr(e.l, NNG_OPT_TLS_CONFIG, &cfg), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_listener_set_string(e.l, NNG_OPT_TLS_CERT_KEY_FILE, "x"), NNG_ENOTSUP);
    e.listen();
    EXPECT_EQ(nng_stream_dialer_get_ptr(e.d, NNG_OPT_TLS_CONFIG, &cfg), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_dialer_set_string(e.d, NNG_OPT_TLS_SERVER_NAME, "x"), NNG_ENOTSUP);
}

} // namespace
