// ws:// byte streams through the C API (nng_stream_*): echo, message-sized
// sends and receives, text modes, close, and the stream options.
#include "ws_c_api.hpp"

#include <nnghttp/nnghttp.hpp>

#include <span>
#include <thread>
#include <vector>

namespace {

using namespace nnghttp::detail::test;

// Once for the binary (see background_closes).
const auto* const closes_env = ::testing::AddGlobalTestEnvironment(new background_closes);

TEST(WsStream, EchoBothWays) {
    ws_setup p;
    p.listen();
    p.connect();
    std::string big = pattern(50000);
    ASSERT_EQ(send_some(p.cli, big), 50000);
    std::string got(big.size(), '\0');
    ASSERT_EQ(xfer_all(p.srv, false, got.data(), got.size()), 0);
    EXPECT_EQ(got, big);
    ASSERT_EQ(send_some(p.srv, "pong"), 4);
    EXPECT_EQ(recv_some(p.cli, 100), "pong");
}

TEST(WsStream, Ws4SchemeAndRootPath) {
    // ws4: the family pinned; no path in the URL: the root, and the
    // request target "/".
    nng_stream_listener* l = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, "ws4://127.0.0.1:0"), 0);
    ASSERT_EQ(nng_stream_listener_listen(l), 0);
    std::string url = "ws4://127.0.0.1:" + std::to_string(bound_port(l));
    nng_stream_dialer* d = nullptr;
    ASSERT_EQ(nng_stream_dialer_alloc(&d, url.c_str()), 0);
    nng_stream *srv = nullptr, *cli = nullptr;
    accept_and_dial(l, d, srv, cli);
    ASSERT_NE(srv, nullptr);
    int rv = 0;
    EXPECT_EQ(stream_str(srv, NNG_OPT_WS_REQUEST_URI, &rv), "/");
    EXPECT_EQ(rv, 0);
    EXPECT_EQ(send_some(cli, "x"), 1);
    EXPECT_EQ(recv_some(srv, 10), "x");
    nng_stream_free(srv);
    nng_stream_free(cli);
    nng_stream_dialer_free(d);
    nng_stream_listener_free(l);
}

TEST(WsStream, Ipv6Loopback) {
    nng_stream_listener* probe = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&probe, "tcp6://[::1]:0"), 0);
    int rv = nng_stream_listener_listen(probe);
    nng_stream_listener_free(probe);
    if (rv != 0) {
        GTEST_SKIP() << "no IPv6 loopback here";
    }
    nng_stream_listener* l = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, "ws6://[::1]:0/six"), 0);
    ASSERT_EQ(nng_stream_listener_listen(l), 0);
    std::string port = std::to_string(bound_port(l));
    nng_stream_dialer* d = nullptr;
    ASSERT_EQ(nng_stream_dialer_alloc(&d, ("ws://[::1]:" + port + "/six").c_str()), 0);
    nng_stream *srv = nullptr, *cli = nullptr;
    accept_and_dial(l, d, srv, cli);
    ASSERT_NE(srv, nullptr);
    EXPECT_EQ(stream_str(srv, NNG_OPT_WS_REQUEST_HEADER "Host", &rv), "[::1]:" + port);
    EXPECT_EQ(send_some(cli, "v6"), 2);
    EXPECT_EQ(recv_some(srv, 10), "v6");
    nng_stream_free(srv);
    nng_stream_free(cli);
    nng_stream_dialer_free(d);
    nng_stream_listener_free(l);
}

// A send is one message of at most NNG_OPT_WS_SENDMAXFRAME bytes: a longer
// one completes with the count sent, and the peer receives that much as
// one message.  Both sides honour it (NNG 1.5.2's dialer ignores it).
TEST(WsStream, SendsStopAtSendMaxFrame) {
    ws_setup p;
    ASSERT_EQ(nng_stream_listener_set_size(p.l, NNG_OPT_WS_SENDMAXFRAME, 1000), 0);
    p.listen();
    ASSERT_EQ(nng_stream_dialer_set_size(p.d, NNG_OPT_WS_SENDMAXFRAME, 700), 0);
    p.connect();
    std::string data = pattern(5000);
    EXPECT_EQ(send_some(p.srv, data), 1000);
    EXPECT_EQ(recv_some(p.cli, 10000), data.substr(0, 1000));
    EXPECT_EQ(send_some(p.cli, data), 700);
    EXPECT_EQ(recv_some(p.srv, 10000), data.substr(0, 700));

    // Across vectors: 4 x 300 bytes with a limit of 1000.
    std::string v[4] = {pattern(300, 1), pattern(300, 2), pattern(300, 3), pattern(300, 4)};
    nng_iov iov[4];
    for (int i = 0; i < 4; i++) {
        iov[i] = nng_iov{v[i].data(), v[i].size()};
    }
    aio_box a;
    ASSERT_EQ(nng_aio_set_iov(a, 4, iov), 0);
    nng_stream_send(p.srv, a);
    ASSERT_EQ(a.wait(), 0);
    EXPECT_EQ(a.count(), 1000u);
    EXPECT_EQ(recv_some(p.cli, 2000), v[0] + v[1] + v[2] + v[3].substr(0, 100));
}

TEST(WsStream, SendMaxFrameZeroMeansNoLimit) {
    ws_setup p;
    ASSERT_EQ(nng_stream_listener_set_size(p.l, NNG_OPT_WS_SENDMAXFRAME, 0), 0);
    ASSERT_EQ(nng_stream_listener_set_size(p.l, NNG_OPT_WS_RECVMAXFRAME, 0), 0);
    ASSERT_EQ(nng_stream_listener_set_size(p.l, NNG_OPT_RECVMAXSZ, 0), 0);
    p.listen();
    ASSERT_EQ(nng_stream_dialer_set_size(p.d, NNG_OPT_WS_SENDMAXFRAME, 0), 0);
    p.connect();
    std::string data = pattern(200000);
    std::thread t([&] { EXPECT_EQ(send_some(p.cli, data), 200000); });
    std::string got(data.size(), '\0');
    EXPECT_EQ(xfer_all(p.srv, false, got.data(), got.size()), 0);
    t.join();
    EXPECT_EQ(got, data);
}

// Three messages already waiting: three receives, one message each, even
// with room for all of them.
TEST(WsStream, ReceiveNeverJoinsMessages) {
    ws_setup p;
    p.listen();
    p.connect();
    EXPECT_EQ(send_some(p.cli, "abc"), 3);
    EXPECT_EQ(send_some(p.cli, "def"), 3);
    EXPECT_EQ(send_some(p.cli, ""), 0); // an empty message: skipped
    EXPECT_EQ(send_some(p.cli, "ghi"), 3);
    EXPECT_EQ(recv_some(p.srv, 100), "abc");
    EXPECT_EQ(recv_some(p.srv, 100), "def");
    EXPECT_EQ(recv_some(p.srv, 100), "ghi");
    // A message larger than the buffer comes in pieces, still alone.
    EXPECT_EQ(send_some(p.srv, "hello"), 5);
    EXPECT_EQ(send_some(p.srv, "world"), 5);
    EXPECT_EQ(recv_some(p.cli, 2), "he");
    EXPECT_EQ(recv_some(p.cli, 100), "llo");
    EXPECT_EQ(recv_some(p.cli, 100), "world");
}

TEST(WsStream, ZeroLengthReceiveIsInvalid) {
    ws_setup p;
    p.listen();
    p.connect();
    aio_box a;
    nng_stream_recv(p.srv, a); // no vectors
    EXPECT_EQ(a.wait(), NNG_EINVAL);
}

// NNG_OPT_WS_SEND_TEXT sends text frames; the receiver needs
// NNG_OPT_WS_RECV_TEXT to take them.
TEST(WsStream, TextModes) {
    ws_setup p;
    ASSERT_EQ(nng_stream_listener_set_bool(p.l, NNG_OPT_WS_RECV_TEXT, true), 0);
    ASSERT_EQ(nng_stream_listener_set_bool(p.l, NNG_OPT_WS_SEND_TEXT, true), 0);
    p.listen();
    ASSERT_EQ(nng_stream_dialer_set_bool(p.d, NNG_OPT_WS_SEND_TEXT, true), 0);
    p.connect();
    bool b = false;
    EXPECT_EQ(nng_stream_get_bool(p.srv, NNG_OPT_WS_RECV_TEXT, &b), 0);
    EXPECT_TRUE(b);
    EXPECT_EQ(nng_stream_get_bool(p.cli, NNG_OPT_WS_SEND_TEXT, &b), 0);
    EXPECT_TRUE(b);
    EXPECT_EQ(nng_stream_get_bool(p.cli, NNG_OPT_WS_RECV_TEXT, &b), 0);
    EXPECT_FALSE(b);
    EXPECT_EQ(send_some(p.cli, "text"), 4);
    EXPECT_EQ(recv_some(p.srv, 100), "text");
    // The dialed side does not take text: the connection fails (1003).
    EXPECT_EQ(send_some(p.srv, "no"), 2);
    int rv = 0;
    recv_some(p.cli, 100, &rv);
    EXPECT_EQ(rv, NNG_EPROTO);
    recv_some(p.cli, 100, &rv);
    EXPECT_EQ(rv, NNG_ECLOSED);
    recv_some(p.srv, 100, &rv);
    EXPECT_EQ(rv, NNG_ECLOSED); // the peer's close frame
}

// On the wire: a text frame when SEND_TEXT is set (0x81), a binary one
// otherwise (0x82), and close code 1003 for a text frame sent to a stream
// without RECV_TEXT.
TEST(WsStream, TextFramesOnTheWire) {
    ws_endpoints e("/t");
    ASSERT_EQ(nng_stream_listener_set_bool(e.l, NNG_OPT_WS_SEND_TEXT, true), 0);
    e.listen();
    raw_peer peer(e.port);
    aio_box acc;
    nng_stream_listener_accept(e.l, acc);
    std::string head = peer.upgrade("/t");
    EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
    ASSERT_EQ(acc.wait(), 0);
    auto* srv = static_cast<nng_stream*>(nng_aio_get_output(acc, 0));
    EXPECT_EQ(send_some(srv, "hi"), 2);
    EXPECT_EQ(hex(peer.read(4)), "81 02 68 69");
    ASSERT_EQ(peer.write(raw_peer::client_frame(0x2, "bin")), 0);
    EXPECT_EQ(recv_some(srv, 10), "bin");
    ASSERT_EQ(peer.write(raw_peer::client_frame(0x1, "txt")), 0);
    int rv = 0;
    recv_some(srv, 10, &rv);
    EXPECT_EQ(rv, NNG_EPROTO);
    EXPECT_EQ(hex(peer.read(4)), "88 02 03 eb");
    nng_stream_free(srv);

    ws_endpoints b("/b");
    b.listen();
    raw_peer peer2(b.port);
    nng_stream_listener_accept(b.l, acc);
    peer2.upgrade("/b");
    ASSERT_EQ(acc.wait(), 0);
    srv = static_cast<nng_stream*>(nng_aio_get_output(acc, 0));
    EXPECT_EQ(send_some(srv, "hi"), 2);
    EXPECT_EQ(hex(peer2.read(4)), "82 02 68 69");
    // A ping is answered; close() sends 1000.
    ASSERT_EQ(peer2.write(raw_peer::client_frame(0x9, "p")), 0);
    aio_box r;
    char buf[8];
    r.set_buf(buf, sizeof buf);
    nng_stream_recv(srv, r); // reading runs while a receive waits
    EXPECT_EQ(hex(peer2.read(3)), "8a 01 70");
    nng_stream_close(srv);
    EXPECT_EQ(r.wait(), NNG_ECLOSED);
    EXPECT_EQ(hex(peer2.read(4)), "88 02 03 e8");
    nng_stream_free(srv);
}

// Text must be UTF-8 (RFC 6455 section 8.1): NNG does not check.
TEST(WsStream, InvalidUtf8TextFails) {
    ws_endpoints e("/u");
    ASSERT_EQ(nng_stream_listener_set_bool(e.l, NNG_OPT_WS_RECV_TEXT, true), 0);
    e.listen();
    raw_peer peer(e.port);
    aio_box acc;
    nng_stream_listener_accept(e.l, acc);
    ASSERT_EQ(peer.upgrade("/u").rfind("HTTP/1.1 101", 0), 0u);
    ASSERT_EQ(acc.wait(), 0);
    auto* srv = static_cast<nng_stream*>(nng_aio_get_output(acc, 0));
    ASSERT_EQ(peer.write(raw_peer::client_frame(0x1, "caf\xc3\xa9")), 0);
    EXPECT_EQ(recv_some(srv, 10), "caf\xc3\xa9");
    ASSERT_EQ(peer.write(raw_peer::client_frame(0x1, "bad\xff")), 0);
    int rv = 0;
    recv_some(srv, 10, &rv);
    EXPECT_EQ(rv, NNG_EPROTO);
    EXPECT_EQ(hex(peer.read(4)), "88 02 03 ef");
    nng_stream_free(srv);
}

// close(): waiting receives fail at once, and everything after fails
// with NNG_ECLOSED (NNG 1.5.2 leaves later receives hanging); the peer
// sees the close.
TEST(WsStream, CloseEndsEverything) {
    ws_setup p;
    p.listen();
    p.connect();
    aio_box r;
    char buf[16];
    r.set_buf(buf, sizeof buf);
    nng_stream_recv(p.srv, r);
    nng_stream_close(p.srv);
    EXPECT_EQ(r.wait(), NNG_ECLOSED);
    int rv = 0;
    recv_some(p.srv, 16, &rv);
    EXPECT_EQ(rv, NNG_ECLOSED);
    EXPECT_EQ(send_some(p.srv, "x"), -NNG_ECLOSED);
    bool b;
    EXPECT_EQ(nng_stream_get_bool(p.srv, NNG_OPT_WS_SEND_TEXT, &b), NNG_ECLOSED);
    EXPECT_EQ(nng_stream_get_bool(p.srv, NNG_OPT_TCP_NODELAY, &b), NNG_ECLOSED);
    EXPECT_EQ(nng_stream_set_bool(p.srv, "no-such-option", true), NNG_ECLOSED);
    recv_some(p.cli, 16, &rv);
    EXPECT_EQ(rv, NNG_ECLOSED);
    EXPECT_EQ(send_some(p.cli, "x"), -NNG_ECLOSED);
    EXPECT_EQ(nng_stream_get_bool(p.cli, NNG_OPT_WS_SEND_TEXT, &b), NNG_ECLOSED);
}

TEST(WsStream, FreeWithPendingOperations) {
    ws_setup p;
    p.listen();
    p.connect();
    aio_box r;
    char buf[16];
    r.set_buf(buf, sizeof buf);
    nng_stream_recv(p.cli, r);
    nng_stream_free(p.cli);
    p.cli = nullptr;
    EXPECT_EQ(r.wait(), NNG_ECLOSED);
    int rv = 0;
    recv_some(p.srv, 16, &rv);
    EXPECT_EQ(rv, NNG_ECLOSED);
}

TEST(WsStream, RecvFrameLimitFailsTheConnection) {
    ws_setup p;
    ASSERT_EQ(nng_stream_listener_set_size(p.l, NNG_OPT_WS_RECVMAXFRAME, 100), 0);
    p.listen();
    p.connect();
    EXPECT_EQ(send_some(p.cli, pattern(100)), 100);
    EXPECT_EQ(recv_some(p.srv, 1000).size(), 100u);
    EXPECT_EQ(send_some(p.cli, pattern(101)), 101);
    int rv = 0;
    recv_some(p.srv, 1000, &rv);
    EXPECT_EQ(rv, NNG_EMSGSIZE);
    recv_some(p.cli, 1000, &rv);
    EXPECT_EQ(rv, NNG_ECLOSED);
}

TEST(WsStream, RecvMaxSizeBoundsMessages) {
    // Frames of 60 bytes under a 100-byte frame limit, one message of 120
    // bytes over the 100-byte message limit (NNG checks it only in its
    // message mode).
    ws_setup p;
    ASSERT_EQ(nng_stream_listener_set_size(p.l, NNG_OPT_RECVMAXSZ, 100), 0);
    p.listen();
    ASSERT_EQ(nng_stream_dialer_set_size(p.d, NNG_OPT_WS_SENDMAXFRAME, 200), 0);
    p.connect();
    EXPECT_EQ(send_some(p.cli, pattern(120)), 120);
    int rv = 0;
    recv_some(p.srv, 1000, &rv);
    EXPECT_EQ(rv, NNG_EMSGSIZE);
}

TEST(WsStream, Options) {
    ws_setup p("/opts");
    ASSERT_EQ(nng_stream_listener_set_string(p.l, NNG_OPT_WS_RESPONSE_HEADER "X-Server", "s1"), 0);
    p.listen();
    nng_stream_dialer_free(p.d);
    std::string url = p.url() + "?q=1#frag";
    ASSERT_EQ(nng_stream_dialer_alloc(&p.d, url.c_str()), 0);
    ASSERT_EQ(nng_stream_dialer_set_string(p.d, NNG_OPT_WS_REQUEST_HEADER "X-Client", "c1"), 0);
    p.connect();
    int rv = 0;
    std::string host = "127.0.0.1:" + std::to_string(p.port);
    for (nng_stream* s : {p.srv, p.cli}) {
        std::string req = stream_str(s, NNG_OPT_WS_REQUEST_HEADERS, &rv);
        EXPECT_EQ(rv, 0);
        EXPECT_EQ(req.rfind("Host: " + host + "\r\n", 0), 0u) << req;
        EXPECT_NE(req.find("Upgrade: websocket\r\n"), std::string::npos) << req;
        EXPECT_NE(req.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos) << req;
        EXPECT_NE(req.find("X-Client: c1\r\n"), std::string::npos) << req;
        EXPECT_EQ(req.substr(req.size() - 2), "\r\n");
        std::string res = stream_str(s, NNG_OPT_WS_RESPONSE_HEADERS, &rv);
        EXPECT_EQ(rv, 0);
        EXPECT_NE(res.find("Sec-WebSocket-Accept: "), std::string::npos) << res;
        EXPECT_NE(res.find("X-Server: s1\r\n"), std::string::npos) << res;
        EXPECT_EQ(stream_str(s, NNG_OPT_WS_REQUEST_HEADER "host", &rv), host);
        EXPECT_EQ(stream_str(s, NNG_OPT_WS_REQUEST_HEADER "X-Client", &rv), "c1");
        EXPECT_EQ(stream_str(s, NNG_OPT_WS_RESPONSE_HEADER "x-server", &rv), "s1");
        EXPECT_EQ(stream_str(s, NNG_OPT_WS_RESPONSE_HEADER "Upgrade", &rv), "websocket");
        stream_str(s, NNG_OPT_WS_REQUEST_HEADER "X-None", &rv);
        EXPECT_EQ(rv, NNG_ENOENT);
        stream_str(s, NNG_OPT_WS_RESPONSE_HEADER "X-None", &rv);
        EXPECT_EQ(rv, NNG_ENOENT);
        EXPECT_EQ(stream_str(s, NNG_OPT_WS_REQUEST_URI, &rv), "/opts?q=1");
        EXPECT_EQ(rv, 0);

        // Read-only, whatever the type.
        EXPECT_EQ(nng_stream_set_bool(s, NNG_OPT_WS_SEND_TEXT, true), NNG_EREADONLY);
        EXPECT_EQ(nng_stream_set_bool(s, NNG_OPT_WS_RECV_TEXT, true), NNG_EREADONLY);
        EXPECT_EQ(nng_stream_set_string(s, NNG_OPT_WS_REQUEST_HEADERS, "A: b"), NNG_EREADONLY);
        EXPECT_EQ(nng_stream_set_string(s, NNG_OPT_WS_RESPONSE_HEADERS, "A: b"), NNG_EREADONLY);
        EXPECT_EQ(nng_stream_set_string(s, NNG_OPT_WS_REQUEST_URI, "/x"), NNG_EREADONLY);
        EXPECT_EQ(nng_stream_set_int(s, NNG_OPT_WS_REQUEST_HEADER "A", 1), NNG_EREADONLY);
        EXPECT_EQ(nng_stream_set_string(s, NNG_OPT_WS_RESPONSE_HEADER "A", "b"), NNG_EREADONLY);
        // Types.
        bool b = true;
        EXPECT_EQ(nng_stream_get_bool(s, NNG_OPT_WS_SEND_TEXT, &b), 0);
        EXPECT_FALSE(b);
        int i = 0;
        EXPECT_EQ(nng_stream_get_int(s, NNG_OPT_WS_SEND_TEXT, &i), NNG_EBADTYPE);
        EXPECT_EQ(nng_stream_get_bool(s, NNG_OPT_WS_REQUEST_URI, &b), NNG_EBADTYPE);
        char small[4];
        size_t sz = sizeof small;
        EXPECT_EQ(nng_stream_get(s, NNG_OPT_WS_REQUEST_URI, small, &sz), NNG_EINVAL);
        EXPECT_EQ(sz, std::strlen("/opts?q=1") + 1);
        // Endpoint-only and unknown options.
        size_t z = 0;
        EXPECT_EQ(nng_stream_get_size(s, NNG_OPT_WS_SENDMAXFRAME, &z), NNG_ENOTSUP);
        EXPECT_EQ(nng_stream_get_size(s, NNG_OPT_RECVMAXSZ, &z), NNG_ENOTSUP);
        stream_str(s, NNG_OPT_WS_PROTOCOL, &rv);
        EXPECT_EQ(rv, NNG_ENOTSUP);
        EXPECT_EQ(nng_stream_get_bool(s, "no-such-option", &b), NNG_ENOTSUP);
        EXPECT_EQ(nng_stream_set_bool(s, "no-such-option", true), NNG_ENOTSUP);
        // The TCP connection's options.
        EXPECT_EQ(nng_stream_get_bool(s, NNG_OPT_TCP_NODELAY, &b), 0);
        EXPECT_EQ(nng_stream_set_bool(s, NNG_OPT_TCP_KEEPALIVE, true), 0);
        EXPECT_EQ(nng_stream_get_bool(s, NNG_OPT_TCP_KEEPALIVE, &b), 0);
        EXPECT_TRUE(b);
        nng_sockaddr sa{};
        EXPECT_EQ(nng_stream_get_addr(s, NNG_OPT_REMADDR, &sa), 0);
        EXPECT_EQ(sa.s_family, NNG_AF_INET);
        EXPECT_EQ(nng_stream_get_bool(s, NNG_OPT_TLS_VERIFIED, &b), NNG_ENOTSUP);
    }
    // The fragment is not part of the request.
    EXPECT_EQ(stream_str(p.srv, NNG_OPT_WS_REQUEST_URI, &rv), "/opts?q=1");
}

// The C++ API's stream_dialer and stream_listener take ws URLs too.
TEST(WsStream, CxxStreamApi) {
    nnghttp::stream_listener l("ws://127.0.0.1:0/cxx");
    l.listen();
    std::string url = "ws://127.0.0.1:" + std::to_string(l.port()) + "/cxx";
    auto got = nnghttp::run([](nnghttp::stream_listener& lis, std::string u) -> nnghttp::task<std::string> {
        nnghttp::stream_dialer d(u);
        // The upgraded stream waits for the accept.
        nnghttp::stream c = co_await d.dial();
        nnghttp::stream s = co_await lis.accept();
        const char msg[] = "cxx";
        co_await c.send(std::as_bytes(std::span(msg, 3)));
        std::vector<std::byte> buf(16);
        std::size_t n = co_await s.recv(buf);
        co_return std::string(reinterpret_cast<const char*>(buf.data()), n);
    }(l, url));
    EXPECT_EQ(got, "cxx");
}

} // namespace
