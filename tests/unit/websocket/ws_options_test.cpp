// Options of ws:// dialers and listeners through the C API: defaults,
// types and error codes, the header options, subprotocols, and what falls
// through to the TCP endpoint underneath.
#include "ws_c_api.hpp"

#include <arpa/inet.h>

namespace {

using namespace nnghttp::detail::test;

// The options a dialer and a listener share, checked through typed
// getters and setters of either kind of object.
template <typename H> struct endpoint_calls {
    int (*get_size)(H*, const char*, size_t*);
    int (*set_size)(H*, const char*, size_t);
    int (*get_bool)(H*, const char*, bool*);
    int (*set_bool)(H*, const char*, bool);
    int (*get_int)(H*, const char*, int*);
    int (*set_int)(H*, const char*, int);
    int (*set_uint64)(H*, const char*, uint64_t);
    int (*get_string)(H*, const char*, char**);
    int (*set_string)(H*, const char*, const char*);
    int (*set)(H*, const char*, const void*, size_t);
    int (*get)(H*, const char*, void*, size_t*);
};

const endpoint_calls<nng_stream_dialer> dialer_calls{
    nng_stream_dialer_get_size,   nng_stream_dialer_set_size,   nng_stream_dialer_get_bool,
    nng_stream_dialer_set_bool,   nng_stream_dialer_get_int,    nng_stream_dialer_set_int,
    nng_stream_dialer_set_uint64, nng_stream_dialer_get_string, nng_stream_dialer_set_string,
    nng_stream_dialer_set,        nng_stream_dialer_get};
const endpoint_calls<nng_stream_listener> listener_calls{
    nng_stream_listener_get_size,   nng_stream_listener_set_size,   nng_stream_listener_get_bool,
    nng_stream_listener_set_bool,   nng_stream_listener_get_int,    nng_stream_listener_set_int,
    nng_stream_listener_set_uint64, nng_stream_listener_get_string, nng_stream_listener_set_string,
    nng_stream_listener_set,        nng_stream_listener_get};

template <typename H> void check_common(H* h, const endpoint_calls<H>& c) {
    size_t z = 0;
    EXPECT_EQ(c.get_size(h, NNG_OPT_WS_SENDMAXFRAME, &z), 0);
    EXPECT_EQ(z, 65536u);
    EXPECT_EQ(c.get_size(h, NNG_OPT_WS_RECVMAXFRAME, &z), 0);
    EXPECT_EQ(z, 1048576u);
    EXPECT_EQ(c.get_size(h, NNG_OPT_RECVMAXSZ, &z), 0);
    EXPECT_EQ(z, 1048576u);
    bool b = true;
    EXPECT_EQ(c.get_bool(h, NNG_OPT_WS_SEND_TEXT, &b), 0);
    EXPECT_FALSE(b);
    EXPECT_EQ(c.get_bool(h, NNG_OPT_WS_RECV_TEXT, &b), 0);
    EXPECT_FALSE(b);
    int rv = 0;
    EXPECT_EQ(get_str(h, c.get_string, NNG_OPT_WS_PROTOCOL, &rv), "");
    EXPECT_EQ(rv, 0);

    for (const char* name : {NNG_OPT_WS_SENDMAXFRAME, NNG_OPT_WS_RECVMAXFRAME, NNG_OPT_RECVMAXSZ}) {
        EXPECT_EQ(c.set_size(h, name, 1234), 0) << name;
        EXPECT_EQ(c.get_size(h, name, &z), 0);
        EXPECT_EQ(z, 1234u);
        EXPECT_EQ(c.set_size(h, name, 0), 0) << "0: no limit";
        EXPECT_EQ(c.set_size(h, name, size_t{0xffffffff}), 0);
        EXPECT_EQ(c.set_size(h, name, size_t{0x100000000}), NNG_EINVAL);
        EXPECT_EQ(c.set_int(h, name, 5), NNG_EBADTYPE);
        EXPECT_EQ(c.set_uint64(h, name, 5), NNG_EBADTYPE);
        EXPECT_EQ(c.set_bool(h, name, true), NNG_EBADTYPE);
        EXPECT_EQ(c.get_int(h, name, &rv), NNG_EBADTYPE);
        int small = 5;
        EXPECT_EQ(c.set(h, name, &small, sizeof small), NNG_EINVAL) << "untyped, wrong size";
        size_t v = 4096;
        EXPECT_EQ(c.set(h, name, &v, sizeof v), 0);
        size_t out = 0, sz = sizeof out;
        EXPECT_EQ(c.get(h, name, &out, &sz), 0);
        EXPECT_EQ(out, 4096u);
        sz = 2;
        EXPECT_EQ(c.get(h, name, &out, &sz), NNG_EINVAL) << "buffer too small";
        EXPECT_EQ(sz, sizeof(size_t));
    }
    for (const char* name : {NNG_OPT_WS_SEND_TEXT, NNG_OPT_WS_RECV_TEXT}) {
        EXPECT_EQ(c.set_bool(h, name, true), 0);
        EXPECT_EQ(c.get_bool(h, name, &b), 0);
        EXPECT_TRUE(b);
        EXPECT_EQ(c.set_bool(h, name, false), 0);
        EXPECT_EQ(c.set_int(h, name, 1), NNG_EBADTYPE);
        get_str(h, c.get_string, name, &rv);
        EXPECT_EQ(rv, NNG_EBADTYPE);
        int wrong = 1;
        EXPECT_EQ(c.set(h, name, &wrong, sizeof wrong), NNG_EINVAL);
    }
    EXPECT_EQ(c.set_string(h, NNG_OPT_WS_PROTOCOL, "chat, superchat"), 0);
    EXPECT_EQ(get_str(h, c.get_string, NNG_OPT_WS_PROTOCOL, &rv), "chat, superchat");
    EXPECT_EQ(c.set_bool(h, NNG_OPT_WS_PROTOCOL, true), NNG_EBADTYPE);
    EXPECT_EQ(c.set_string(h, NNG_OPT_WS_PROTOCOL, "two words"), NNG_EINVAL) << "not a token";
    EXPECT_EQ(c.set_string(h, NNG_OPT_WS_PROTOCOL, "a, a"), NNG_EINVAL) << "twice";
    const char no_nul[3] = {'a', 'b', 'c'};
    EXPECT_EQ(c.set(h, NNG_OPT_WS_PROTOCOL, no_nul, sizeof no_nul), NNG_EINVAL);
    EXPECT_EQ(c.set(h, NNG_OPT_WS_PROTOCOL, "p1", 3), 0);
    EXPECT_EQ(get_str(h, c.get_string, NNG_OPT_WS_PROTOCOL, &rv), "p1");
    EXPECT_EQ(c.set_string(h, NNG_OPT_WS_PROTOCOL, ""), 0);

    EXPECT_EQ(c.get_bool(h, "no-such-option", &b), NNG_ENOTSUP);
    EXPECT_EQ(c.set_bool(h, "no-such-option", true), NNG_ENOTSUP);
    // The TCP endpoint's options.
    EXPECT_EQ(c.set_bool(h, NNG_OPT_TCP_NODELAY, false), 0);
    EXPECT_EQ(c.get_bool(h, NNG_OPT_TCP_NODELAY, &b), 0);
    EXPECT_FALSE(b);
    EXPECT_EQ(c.set_bool(h, NNG_OPT_TCP_KEEPALIVE, true), 0);
    EXPECT_EQ(c.get_bool(h, NNG_OPT_TCP_KEEPALIVE, &b), 0);
    EXPECT_TRUE(b);
    EXPECT_EQ(c.set_int(h, NNG_OPT_TCP_NODELAY, 1), NNG_EBADTYPE);
    // TLS options only on wss.
    EXPECT_EQ(c.set_int(h, NNG_OPT_TLS_AUTH_MODE, 0), NNG_ENOTSUP);
}

TEST(WsOptions, Dialer) {
    nng_stream_dialer* d = nullptr;
    ASSERT_EQ(nng_stream_dialer_alloc(&d, "ws://127.0.0.1:9/x"), 0);
    check_common(d, dialer_calls);
    int rv = 0;
    get_str(d, nng_stream_dialer_get_string, NNG_OPT_WS_REQUEST_HEADERS, &rv);
    EXPECT_EQ(rv, NNG_EWRITEONLY);
    EXPECT_EQ(nng_stream_dialer_set_string(d, NNG_OPT_WS_REQUEST_HEADERS, "X-A: 1\r\nX-B:2\nX-C:  3 \r"), 0);
    EXPECT_EQ(nng_stream_dialer_set_string(d, NNG_OPT_WS_REQUEST_HEADERS, "X-D: 4\r\nnocolon"), NNG_EINVAL);
    EXPECT_EQ(nng_stream_dialer_set_string(d, NNG_OPT_WS_REQUEST_HEADERS, "Bad Name: 4"), NNG_EINVAL);
    EXPECT_EQ(nng_stream_dialer_set_bool(d, NNG_OPT_WS_REQUEST_HEADERS, true), NNG_EBADTYPE);
    EXPECT_EQ(nng_stream_dialer_set_string(d, NNG_OPT_WS_REQUEST_HEADER "X-E", "5"), 0);
    EXPECT_EQ(nng_stream_dialer_set_string(d, NNG_OPT_WS_REQUEST_HEADER "X-E", "a\r\nX-Evil: 1"), NNG_EINVAL);
    EXPECT_EQ(nng_stream_dialer_set_string(d, NNG_OPT_WS_REQUEST_HEADER "", "5"), NNG_EINVAL);
    get_str(d, nng_stream_dialer_get_string, NNG_OPT_WS_REQUEST_HEADER "X-E", &rv);
    EXPECT_EQ(rv, NNG_ENOTSUP);
    // Listener and stream options are not a dialer's.
    EXPECT_EQ(nng_stream_dialer_set_string(d, NNG_OPT_WS_RESPONSE_HEADERS, "A: b"), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_dialer_set_string(d, NNG_OPT_WS_RESPONSE_HEADER "A", "b"), NNG_ENOTSUP);
    get_str(d, nng_stream_dialer_get_string, NNG_OPT_WS_REQUEST_URI, &rv);
    EXPECT_EQ(rv, NNG_ENOTSUP);
    get_str(d, nng_stream_dialer_get_string, NNG_OPT_URL, &rv);
    EXPECT_EQ(rv, NNG_ENOTSUP);
    nng_sockaddr sa{};
    EXPECT_EQ(nng_stream_dialer_get_addr(d, NNG_OPT_LOCADDR, &sa), 0);
    nng_stream_dialer_free(d);
}

TEST(WsOptions, Listener) {
    nng_stream_listener* l = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, "ws://127.0.0.1:0/x"), 0);
    check_common(l, listener_calls);
    int rv = 0;
    EXPECT_EQ(get_str(l, nng_stream_listener_get_string, NNG_OPT_URL, &rv), "ws://127.0.0.1:0/x");
    EXPECT_EQ(rv, 0);
    EXPECT_EQ(nng_stream_listener_set_string(l, NNG_OPT_URL, "ws://x/"), NNG_EREADONLY);
    get_str(l, nng_stream_listener_get_string, NNG_OPT_WS_RESPONSE_HEADERS, &rv);
    EXPECT_EQ(rv, NNG_EWRITEONLY);
    EXPECT_EQ(nng_stream_listener_set_string(l, NNG_OPT_WS_RESPONSE_HEADERS, "X-A: 1\r\nX-B: 2\r\n"), 0);
    EXPECT_EQ(nng_stream_listener_set_string(l, NNG_OPT_WS_RESPONSE_HEADERS, "nocolon\r\nX-A: 1"), NNG_EINVAL);
    EXPECT_EQ(nng_stream_listener_set_string(l, NNG_OPT_WS_RESPONSE_HEADER "X-C", "3"), 0);
    EXPECT_EQ(nng_stream_listener_set_int(l, NNG_OPT_WS_RESPONSE_HEADER "X-C", 3), NNG_EBADTYPE);
    get_str(l, nng_stream_listener_get_string, NNG_OPT_WS_RESPONSE_HEADER "X-C", &rv);
    EXPECT_EQ(rv, NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_listener_set_string(l, NNG_OPT_WS_REQUEST_HEADERS, "A: b"), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_listener_set_string(l, NNG_OPT_WS_REQUEST_HEADER "A", "b"), NNG_ENOTSUP);

    // The TCP listener's: no bound port before listen, an unspecified
    // local address.
    int port = 0;
    EXPECT_EQ(nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), NNG_ESTATE);
    nng_sockaddr sa{};
    EXPECT_EQ(nng_stream_listener_get_addr(l, NNG_OPT_LOCADDR, &sa), 0);
    EXPECT_EQ(sa.s_family, NNG_AF_UNSPEC);
    EXPECT_EQ(nng_stream_listener_set_addr(l, NNG_OPT_LOCADDR, &sa), NNG_EREADONLY);
    ASSERT_EQ(nng_stream_listener_listen(l), 0);
    EXPECT_EQ(nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
    EXPECT_GT(port, 0);
    EXPECT_EQ(nng_stream_listener_get_addr(l, NNG_OPT_LOCADDR, &sa), 0);
    EXPECT_EQ(sa.s_family, NNG_AF_INET);
    EXPECT_EQ(ntohs(sa.s_in.sa_port), port);
    // The URL stays as given.
    EXPECT_EQ(get_str(l, nng_stream_listener_get_string, NNG_OPT_URL, &rv), "ws://127.0.0.1:0/x");
    nng_stream_listener_free(l);
}

// Options set on the dialer and the listener reach the handshake, and set
// after listen they apply to the next connection.
TEST(WsOptions, HeadersReachThePeer) {
    ws_setup p;
    ASSERT_EQ(nng_stream_listener_set_string(p.l, NNG_OPT_WS_RESPONSE_HEADERS, "X-R1: one\r\nX-R2: two"), 0);
    p.listen();
    ASSERT_EQ(nng_stream_listener_set_string(p.l, NNG_OPT_WS_RESPONSE_HEADER "X-R2", "TWO"), 0);
    ASSERT_EQ(nng_stream_dialer_set_string(p.d, NNG_OPT_WS_REQUEST_HEADERS, "X-Q1: a\r\nX-Q2: b"), 0);
    ASSERT_EQ(nng_stream_dialer_set_string(p.d, NNG_OPT_WS_REQUEST_HEADER "x-q1", "A"), 0);
    p.connect();
    int rv = 0;
    EXPECT_EQ(stream_str(p.srv, NNG_OPT_WS_REQUEST_HEADER "X-Q1", &rv), "A");
    EXPECT_EQ(stream_str(p.srv, NNG_OPT_WS_REQUEST_HEADER "X-Q2", &rv), "b");
    EXPECT_EQ(stream_str(p.cli, NNG_OPT_WS_RESPONSE_HEADER "X-R1", &rv), "one");
    EXPECT_EQ(stream_str(p.cli, NNG_OPT_WS_RESPONSE_HEADER "X-R2", &rv), "TWO");
    // One field per name: the later value replaced the earlier in place,
    // under the first spelling (as NNG).
    std::string req = stream_str(p.srv, NNG_OPT_WS_REQUEST_HEADERS, &rv);
    EXPECT_NE(req.find("X-Q1: A\r\nX-Q2: b\r\n"), std::string::npos) << req;
    EXPECT_EQ(req.find("x-q1"), std::string::npos) << req;
    // The handshake's own fields cannot be overridden.
    ASSERT_EQ(nng_stream_dialer_set_string(p.d, NNG_OPT_WS_REQUEST_HEADER "Upgrade", "nonsense"), 0);
    ASSERT_EQ(nng_stream_listener_set_string(p.l, NNG_OPT_WS_RESPONSE_HEADER "Sec-WebSocket-Accept", "x"), 0);
    EXPECT_EQ(p.dial_result(), 0);
}

// Subprotocols: the listener's list is what it speaks, in order of
// preference; a dialer offers its list; each side refuses what NNG
// refuses.
TEST(WsOptions, Subprotocols) {
    ws_endpoints e("/sp");
    ASSERT_EQ(nng_stream_listener_set_string(e.l, NNG_OPT_WS_PROTOCOL, "chat, superchat"), 0);
    e.listen();
    // One the listener speaks.
    ASSERT_EQ(nng_stream_dialer_set_string(e.d, NNG_OPT_WS_PROTOCOL, "superchat"), 0);
    nng_stream *srv = nullptr, *cli = nullptr;
    e.connect(srv, cli);
    int rv = 0;
    EXPECT_EQ(stream_str(cli, NNG_OPT_WS_RESPONSE_HEADER "Sec-WebSocket-Protocol", &rv), "superchat");
    EXPECT_EQ(stream_str(srv, NNG_OPT_WS_RESPONSE_HEADER "Sec-WebSocket-Protocol", &rv), "superchat");
    EXPECT_EQ(stream_str(srv, NNG_OPT_WS_REQUEST_HEADER "Sec-WebSocket-Protocol", &rv), "superchat");
    nng_stream_free(srv);
    nng_stream_free(cli);
    // Several offered: the listener's first choice among them.
    ASSERT_EQ(nng_stream_dialer_set_string(e.d, NNG_OPT_WS_PROTOCOL, "other, superchat, chat"), 0);
    e.connect(srv, cli);
    EXPECT_EQ(stream_str(cli, NNG_OPT_WS_RESPONSE_HEADER "Sec-WebSocket-Protocol", &rv), "chat");
    nng_stream_free(srv);
    nng_stream_free(cli);
    // None in common; none offered to a listener that requires one.
    ASSERT_EQ(nng_stream_dialer_set_string(e.d, NNG_OPT_WS_PROTOCOL, "other"), 0);
    EXPECT_EQ(e.dial_result(), NNG_EPROTO);
    ASSERT_EQ(nng_stream_dialer_set_string(e.d, NNG_OPT_WS_PROTOCOL, ""), 0);
    EXPECT_EQ(e.dial_result(), NNG_EPROTO);
    // A listener without a list refuses an offer.
    ASSERT_EQ(nng_stream_listener_set_string(e.l, NNG_OPT_WS_PROTOCOL, ""), 0);
    ASSERT_EQ(nng_stream_dialer_set_string(e.d, NNG_OPT_WS_PROTOCOL, "chat"), 0);
    EXPECT_EQ(e.dial_result(), NNG_EPROTO);
    ASSERT_EQ(nng_stream_dialer_set_string(e.d, NNG_OPT_WS_PROTOCOL, ""), 0);
    EXPECT_EQ(e.dial_result(), 0);
}

// What the listener answers on the wire to a refused subprotocol: 400.
TEST(WsOptions, SubprotocolRefusalIs400) {
    ws_endpoints e("/sp400");
    e.listen();
    raw_peer peer(e.port);
    std::string head = peer.upgrade("/sp400", "Sec-WebSocket-Protocol: chat\r\n");
    EXPECT_EQ(head.rfind("HTTP/1.1 400", 0), 0u) << head;
}

TEST(WsOptions, DialerTcpOptionsApplyToStreams) {
    ws_setup p;
    p.listen();
    ASSERT_EQ(nng_stream_dialer_set_bool(p.d, NNG_OPT_TCP_KEEPALIVE, true), 0);
    p.connect();
    bool b = false;
    EXPECT_EQ(nng_stream_get_bool(p.cli, NNG_OPT_TCP_KEEPALIVE, &b), 0);
    EXPECT_TRUE(b);
}

} // namespace

// Keepalive (our extension): the options on both endpoints, read-only on
// streams; a peer that never reads never answers the pings and is failed.
TEST(WsOptions, KeepaliveFailsAPeerThatDoesNotAnswer) {
    ws_setup p;
    nng_duration d = -1;
    ASSERT_EQ(nng_stream_listener_get_ms(p.l, NNG_OPT_WS_PING_INTERVAL, &d), 0);
    EXPECT_EQ(d, 0); // off by default, as NNG has none
    EXPECT_EQ(nng_stream_listener_set_ms(p.l, NNG_OPT_WS_PING_INTERVAL, -5), NNG_EINVAL);
    ASSERT_EQ(nng_stream_listener_set_ms(p.l, NNG_OPT_WS_PING_INTERVAL, 100), 0);
    ASSERT_EQ(nng_stream_listener_set_ms(p.l, NNG_OPT_WS_PONG_TIMEOUT, 100), 0);
    ASSERT_EQ(nng_stream_listener_get_ms(p.l, NNG_OPT_WS_PING_INTERVAL, &d), 0);
    EXPECT_EQ(d, 100);
    p.listen();
    ASSERT_EQ(nng_stream_dialer_get_ms(p.d, NNG_OPT_WS_PONG_TIMEOUT, &d), 0);
    EXPECT_EQ(d, 0);
    p.connect();
    ASSERT_EQ(nng_stream_get_ms(p.srv, NNG_OPT_WS_PONG_TIMEOUT, &d), 0);
    EXPECT_EQ(d, 100);
    EXPECT_EQ(nng_stream_set_ms(p.srv, NNG_OPT_WS_PING_INTERVAL, 10), NNG_EREADONLY);
    ASSERT_EQ(nng_stream_get_ms(p.cli, NNG_OPT_WS_PING_INTERVAL, &d), 0);
    EXPECT_EQ(d, 0); // the dialer's own setting

    // The dialed side never receives, so the server's ping is not read.
    nng_time t0 = nng_clock();
    int rv = 0;
    EXPECT_EQ(recv_some(p.srv, 16, &rv), "");
    EXPECT_EQ(rv, NNG_ETIMEDOUT);
    nng_duration took = static_cast<nng_duration>(nng_clock() - t0);
    EXPECT_GE(took, 150);
    EXPECT_LT(took, 3000);
    // The dialed side then finds the ping and the close (1011) behind it.
    EXPECT_EQ(recv_some(p.cli, 16, &rv), "");
    EXPECT_EQ(rv, NNG_ECLOSED);
}

// permessage-deflate (our extension) on the C streams: agreed when both
// ends ask, and messages come through receives of any size unchanged.
TEST(WsOptions, DeflateOnStreams) {
    ws_setup p;
    bool on = true;
    ASSERT_EQ(nng_stream_listener_get_bool(p.l, NNG_OPT_WS_DEFLATE, &on), 0);
    EXPECT_FALSE(on); // off by default
    ASSERT_EQ(nng_stream_listener_set_bool(p.l, NNG_OPT_WS_DEFLATE, true), 0);
    p.listen();
    ASSERT_EQ(nng_stream_dialer_set_bool(p.d, NNG_OPT_WS_DEFLATE, true), 0);
    p.connect();
    ASSERT_EQ(nng_stream_get_bool(p.srv, NNG_OPT_WS_DEFLATE, &on), 0);
    EXPECT_TRUE(on);
    ASSERT_EQ(nng_stream_get_bool(p.cli, NNG_OPT_WS_DEFLATE, &on), 0);
    EXPECT_TRUE(on);
    EXPECT_EQ(nng_stream_set_bool(p.srv, NNG_OPT_WS_DEFLATE, false), NNG_EREADONLY);
    std::string big;
    for (int i = 0; i < 3000; i++) {
        big += "record " + std::to_string(i) + " of many; ";
    }
    for (const std::string& m : {std::string("hi"), big, std::string(100, 'q')}) {
        ASSERT_EQ(send_some(p.cli, m), long(m.size()));
        // Taken back in pieces of 1000 bytes: never past the message's end.
        std::string got;
        while (got.size() < m.size()) {
            int rv = 0;
            std::string part = recv_some(p.srv, 1000, &rv);
            ASSERT_EQ(rv, 0);
            ASSERT_FALSE(part.empty());
            got += part;
        }
        EXPECT_EQ(got, m);
        ASSERT_EQ(send_some(p.srv, m), long(m.size()));
        EXPECT_EQ(recv_some(p.cli, m.size() + 10), m);
    }
}
