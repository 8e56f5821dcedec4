// Options on streams, dialers and listeners: typed and untyped access, the
// error codes for a wrong type (NNG_EBADTYPE), a wrong size (NNG_EINVAL), an
// unknown name (NNG_ENOTSUP), a read-only set (NNG_EREADONLY) and a
// write-only get (NNG_EWRITEONLY); addresses; and TCP flags passed from
// dialers and listeners to the streams they make.  A few tests use the C++
// layer (src/stream) directly.
#include "stream/options.hpp"
#include "stream/stream.hpp"
#include "support/nng_test.hpp"

#include <arpa/inet.h>
#include <cstdint>
#include <cstring>
#include <gtest/gtest.h>
#include <nng/nng.h>
#include <string>
#include <unistd.h>

namespace {

constexpr nng_duration wait_ms = 10000;

int bound_port(nng_stream_listener* l) {
    int port = -1;
    EXPECT_EQ(nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
    return port;
}

using nnghttp::detail::test::tcp_setup;

uint16_t port_of(const nng_sockaddr& sa) {
    return ntohs(sa.s_family == NNG_AF_INET ? sa.s_in.sa_port : sa.s_in6.sa_port);
}

} // namespace

TEST(StreamOptions, TcpFlagsOnStreams) {
    tcp_setup t;
    t.connect();
    for (nng_stream* s : {t.srv, t.cli}) {
        for (const char* name : {NNG_OPT_TCP_NODELAY, NNG_OPT_TCP_KEEPALIVE}) {
            for (bool v : {true, false, true}) {
                ASSERT_EQ(nng_stream_set_bool(s, name, v), 0) << name;
                bool got = !v;
                ASSERT_EQ(nng_stream_get_bool(s, name, &got), 0);
                EXPECT_EQ(got, v) << name;
            }
            int i = 0;
            EXPECT_EQ(nng_stream_get_int(s, name, &i), NNG_EBADTYPE);
            EXPECT_EQ(nng_stream_set_int(s, name, 1), NNG_EBADTYPE);
            size_t z = 0;
            EXPECT_EQ(nng_stream_get_size(s, name, &z), NNG_EBADTYPE);
            char* str = nullptr;
            EXPECT_EQ(nng_stream_get_string(s, name, &str), NNG_EBADTYPE);
            EXPECT_EQ(nng_stream_set_string(s, name, "true"), NNG_EBADTYPE);
            // Untyped: the size must be a bool's.
            int wide = 1;
            EXPECT_EQ(nng_stream_set(s, name, &wide, sizeof wide), NNG_EINVAL);
            bool b = false;
            EXPECT_EQ(nng_stream_set(s, name, &b, sizeof b), 0);
            bool out = true;
            size_t sz = sizeof out;
            EXPECT_EQ(nng_stream_get(s, name, &out, &sz), 0);
            EXPECT_EQ(sz, sizeof(bool));
            EXPECT_FALSE(out);
            // Too small a buffer: NNG_EINVAL, and the size needed.
            sz = 0;
            EXPECT_EQ(nng_stream_get(s, name, &out, &sz), NNG_EINVAL);
            EXPECT_EQ(sz, sizeof(bool));
        }
    }
}

TEST(StreamOptions, TcpAddresses) {
    tcp_setup t;
    t.connect();
    nng_sockaddr sl, sr, cl, cr;
    ASSERT_EQ(nng_stream_get_addr(t.srv, NNG_OPT_LOCADDR, &sl), 0);
    ASSERT_EQ(nng_stream_get_addr(t.srv, NNG_OPT_REMADDR, &sr), 0);
    ASSERT_EQ(nng_stream_get_addr(t.cli, NNG_OPT_LOCADDR, &cl), 0);
    ASSERT_EQ(nng_stream_get_addr(t.cli, NNG_OPT_REMADDR, &cr), 0);
    for (const nng_sockaddr* sa : {&sl, &sr, &cl, &cr}) {
        EXPECT_EQ(sa->s_family, NNG_AF_INET);
        EXPECT_EQ(ntohl(sa->s_in.sa_addr), INADDR_LOOPBACK);
    }
    // Each end's local address is the other's remote address.
    EXPECT_EQ(port_of(sl), bound_port(t.l));
    EXPECT_EQ(port_of(cr), bound_port(t.l));
    EXPECT_EQ(port_of(sr), port_of(cl));
    EXPECT_NE(port_of(cl), 0);

    EXPECT_EQ(nng_stream_set_addr(t.srv, NNG_OPT_REMADDR, &sl), NNG_EREADONLY);
    EXPECT_EQ(nng_stream_set_addr(t.srv, NNG_OPT_LOCADDR, &sl), NNG_EREADONLY);
    int i = 0;
    EXPECT_EQ(nng_stream_get_int(t.srv, NNG_OPT_LOCADDR, &i), NNG_EBADTYPE);
    nng_sockaddr raw;
    size_t sz = sizeof raw;
    EXPECT_EQ(nng_stream_get(t.srv, NNG_OPT_LOCADDR, &raw, &sz), 0);
    EXPECT_EQ(sz, sizeof(nng_sockaddr));
    EXPECT_EQ(std::memcmp(&raw, &sl, sizeof raw), 0);
    sz = 4;
    EXPECT_EQ(nng_stream_get(t.srv, NNG_OPT_LOCADDR, &raw, &sz), NNG_EINVAL);
    EXPECT_EQ(sz, sizeof(nng_sockaddr));

    nng_sockaddr ll;
    ASSERT_EQ(nng_stream_listener_get_addr(t.l, NNG_OPT_LOCADDR, &ll), 0);
    EXPECT_EQ(ll.s_family, NNG_AF_INET);
    EXPECT_EQ(port_of(ll), bound_port(t.l));
    EXPECT_EQ(nng_stream_listener_set_addr(t.l, NNG_OPT_LOCADDR, &ll), NNG_EREADONLY);
}

TEST(StreamOptions, TcpListenerBeforeListenAsInNng) {
    // NNG 1.5.2 reports no address (family NNG_AF_UNSPEC) and no bound port
    // (NNG_ESTATE) until the listener is bound.
    nng_stream_listener* l = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, "tcp://127.0.0.1:0"), 0);
    nng_sockaddr sa;
    ASSERT_EQ(nng_stream_listener_get_addr(l, NNG_OPT_LOCADDR, &sa), 0);
    EXPECT_EQ(sa.s_family, NNG_AF_UNSPEC);
    int port = 0;
    EXPECT_EQ(nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), NNG_ESTATE);
    nng_stream_listener_free(l);
}

TEST(StreamOptions, TcpBoundPort) {
    tcp_setup t;
    int port = bound_port(t.l);
    EXPECT_GT(port, 0);
    EXPECT_LE(port, 65535);
    EXPECT_EQ(nng_stream_listener_set_int(t.l, NNG_OPT_TCP_BOUND_PORT, 1), NNG_EREADONLY);
    bool b = false;
    EXPECT_EQ(nng_stream_listener_get_bool(t.l, NNG_OPT_TCP_BOUND_PORT, &b), NNG_EBADTYPE);
    uint64_t u = 0;
    EXPECT_EQ(nng_stream_listener_get_uint64(t.l, NNG_OPT_TCP_BOUND_PORT, &u), NNG_EBADTYPE);
    int raw = 0;
    size_t sz = sizeof raw;
    EXPECT_EQ(nng_stream_listener_get(t.l, NNG_OPT_TCP_BOUND_PORT, &raw, &sz), 0);
    EXPECT_EQ(raw, port);
    int i = 0;
    EXPECT_EQ(nng_stream_dialer_get_int(t.d, NNG_OPT_TCP_BOUND_PORT, &i), NNG_ENOTSUP);
    t.connect();
    EXPECT_EQ(nng_stream_get_int(t.srv, NNG_OPT_TCP_BOUND_PORT, &i), NNG_ENOTSUP);
}

TEST(StreamOptions, TcpFlagDefaultsFollowTheManPage) {
    // nng_tcp_options(5): NODELAY is true by default, KEEPALIVE false.
    // (NNG 1.5.2's stream dialers and listeners start with NODELAY false.)
    tcp_setup t;
    bool b = false;
    ASSERT_EQ(nng_stream_listener_get_bool(t.l, NNG_OPT_TCP_NODELAY, &b), 0);
    EXPECT_TRUE(b);
    ASSERT_EQ(nng_stream_dialer_get_bool(t.d, NNG_OPT_TCP_NODELAY, &b), 0);
    EXPECT_TRUE(b);
    ASSERT_EQ(nng_stream_listener_get_bool(t.l, NNG_OPT_TCP_KEEPALIVE, &b), 0);
    EXPECT_FALSE(b);
    ASSERT_EQ(nng_stream_dialer_get_bool(t.d, NNG_OPT_TCP_KEEPALIVE, &b), 0);
    EXPECT_FALSE(b);
    t.connect();
    for (nng_stream* s : {t.srv, t.cli}) {
        ASSERT_EQ(nng_stream_get_bool(s, NNG_OPT_TCP_NODELAY, &b), 0);
        EXPECT_TRUE(b);
        ASSERT_EQ(nng_stream_get_bool(s, NNG_OPT_TCP_KEEPALIVE, &b), 0);
        EXPECT_FALSE(b);
    }
}

TEST(StreamOptions, TcpFlagsPassToNewStreams) {
    for (bool v : {false, true}) {
        tcp_setup t;
        for (const char* name : {NNG_OPT_TCP_NODELAY, NNG_OPT_TCP_KEEPALIVE}) {
            ASSERT_EQ(nng_stream_listener_set_bool(t.l, name, v), 0);
            ASSERT_EQ(nng_stream_dialer_set_bool(t.d, name, v), 0);
            int i = 0;
            EXPECT_EQ(nng_stream_listener_set_int(t.l, name, 1), NNG_EBADTYPE);
            EXPECT_EQ(nng_stream_dialer_get_int(t.d, name, &i), NNG_EBADTYPE);
            EXPECT_EQ(nng_stream_listener_set(t.l, name, &i, sizeof i), NNG_EINVAL);
            EXPECT_EQ(nng_stream_dialer_set(t.d, name, &i, sizeof i), NNG_EINVAL);
        }
        t.connect();
        for (nng_stream* s : {t.srv, t.cli}) {
            for (const char* name : {NNG_OPT_TCP_NODELAY, NNG_OPT_TCP_KEEPALIVE}) {
                bool b = !v;
                ASSERT_EQ(nng_stream_get_bool(s, name, &b), 0);
                EXPECT_EQ(b, v) << name;
            }
        }
    }
}

TEST(StreamOptions, TcpDialerLocalAddress) {
    tcp_setup t;
    nng_sockaddr sa;
    ASSERT_EQ(nng_stream_dialer_get_addr(t.d, NNG_OPT_LOCADDR, &sa), 0);
    EXPECT_EQ(sa.s_family, NNG_AF_UNSPEC);
    std::memset(&sa, 0, sizeof sa);
    sa.s_in.sa_family = NNG_AF_INET;
    sa.s_in.sa_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(nng_stream_dialer_set_addr(t.d, NNG_OPT_LOCADDR, &sa), 0);
    nng_sockaddr back;
    ASSERT_EQ(nng_stream_dialer_get_addr(t.d, NNG_OPT_LOCADDR, &back), 0);
    EXPECT_EQ(std::memcmp(&back, &sa, sizeof sa), 0);
    nng_sockaddr ipc{};
    ipc.s_ipc.sa_family = NNG_AF_IPC;
    EXPECT_EQ(nng_stream_dialer_set_addr(t.d, NNG_OPT_LOCADDR, &ipc), NNG_EADDRINVAL);
    EXPECT_EQ(nng_stream_dialer_set_int(t.d, NNG_OPT_LOCADDR, 1), NNG_EBADTYPE);
    t.connect();
    nng_sockaddr rem;
    ASSERT_EQ(nng_stream_get_addr(t.srv, NNG_OPT_REMADDR, &rem), 0);
    EXPECT_EQ(rem.s_in.sa_addr, htonl(INADDR_LOOPBACK));
}

TEST(StreamOptions, UnknownAndForeignOptions) {
    tcp_setup t;
    t.connect();
    int i = 0;
    char* str = nullptr;
    nng_duration ms = 0;
    uint64_t u = 0;
    // Unknown names, and names of other transports or layers.
    for (const char* name : {"no-such-option", NNG_OPT_RECVTIMEO, NNG_OPT_IPC_PEER_PID,
                             NNG_OPT_IPC_PERMISSIONS, NNG_OPT_TLS_VERIFIED}) {
        EXPECT_EQ(nng_stream_get_int(t.srv, name, &i), NNG_ENOTSUP) << name;
        EXPECT_EQ(nng_stream_set_int(t.srv, name, 1), NNG_ENOTSUP) << name;
        EXPECT_EQ(nng_stream_dialer_get_ms(t.d, name, &ms), NNG_ENOTSUP) << name;
        EXPECT_EQ(nng_stream_dialer_set_ms(t.d, name, 5), NNG_ENOTSUP) << name;
        EXPECT_EQ(nng_stream_listener_get_uint64(t.l, name, &u), NNG_ENOTSUP) << name;
        EXPECT_EQ(nng_stream_listener_set_uint64(t.l, name, 5), NNG_ENOTSUP) << name;
    }
    // NNG 1.5.2 has no NNG_OPT_URL on raw streams, dialers or listeners.
    EXPECT_EQ(nng_stream_get_string(t.srv, NNG_OPT_URL, &str), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_dialer_get_string(t.d, NNG_OPT_URL, &str), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_listener_get_string(t.l, NNG_OPT_URL, &str), NNG_ENOTSUP);
    nng_sockaddr sa;
    EXPECT_EQ(nng_stream_dialer_get_addr(t.d, NNG_OPT_REMADDR, &sa), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_listener_get_addr(t.l, NNG_OPT_REMADDR, &sa), NNG_ENOTSUP);
}

TEST(StreamOptions, IpcOptions) {
    std::string path = "/tmp/nnghttp-options-" + std::to_string(::getpid()) + ".sock";
    ::unlink(path.c_str());
    std::string url = "ipc://" + path;
    nng_stream_listener* l = nullptr;
    nng_stream_dialer* d = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, url.c_str()), 0);
    ASSERT_EQ(nng_stream_dialer_alloc(&d, url.c_str()), 0);
    int i = 0;
    bool b = false;
    nng_sockaddr sa;
    ASSERT_EQ(nng_stream_listener_get_addr(l, NNG_OPT_LOCADDR, &sa), 0);
    EXPECT_EQ(sa.s_family, NNG_AF_IPC);
    EXPECT_STREQ(sa.s_ipc.sa_path, path.c_str());
    EXPECT_EQ(nng_stream_listener_get_int(l, NNG_OPT_IPC_PERMISSIONS, &i), NNG_EWRITEONLY);
    EXPECT_EQ(nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &i), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_listener_get_bool(l, NNG_OPT_TCP_NODELAY, &b), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_dialer_get_addr(d, NNG_OPT_LOCADDR, &sa), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_dialer_set_int(d, NNG_OPT_IPC_PERMISSIONS, 0600), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_dialer_get_bool(d, NNG_OPT_TCP_KEEPALIVE, &b), NNG_ENOTSUP);
    ASSERT_EQ(nng_stream_listener_listen(l), 0);
    nng_aio *acc = nullptr, *dial = nullptr;
    ASSERT_EQ(nng_aio_alloc(&acc, nullptr, nullptr), 0);
    ASSERT_EQ(nng_aio_alloc(&dial, nullptr, nullptr), 0);
    nng_aio_set_timeout(acc, wait_ms);
    nng_aio_set_timeout(dial, wait_ms);
    nng_stream_listener_accept(l, acc);
    nng_stream_dialer_dial(d, dial);
    nng_aio_wait(acc);
    nng_aio_wait(dial);
    ASSERT_EQ(nng_aio_result(acc), 0);
    ASSERT_EQ(nng_aio_result(dial), 0);
    auto* s = static_cast<nng_stream*>(nng_aio_get_output(acc, 0));
    auto* c = static_cast<nng_stream*>(nng_aio_get_output(dial, 0));
    EXPECT_EQ(nng_stream_get_bool(s, NNG_OPT_TCP_NODELAY, &b), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_set_bool(c, NNG_OPT_TCP_KEEPALIVE, true), NNG_ENOTSUP);
    uint64_t u = 0;
    size_t sz = 4;
    EXPECT_EQ(nng_stream_get(s, NNG_OPT_IPC_PEER_UID, &u, &sz), NNG_EINVAL);
    EXPECT_EQ(sz, sizeof(uint64_t));
    EXPECT_EQ(nng_stream_set_addr(s, NNG_OPT_LOCADDR, &sa), NNG_EREADONLY);
    nng_stream_free(s);
    nng_stream_free(c);
    nng_aio_free(acc);
    nng_aio_free(dial);
    nng_stream_dialer_free(d);
    nng_stream_listener_free(l);
    ::unlink(path.c_str());
}

// The C++ layer: a listener made from a parsed URL answers the same
// options through opt_out / opt_in as through the C shims.
TEST(StreamOptions, CppListenerOptionTable) {
    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, "tcp://127.0.0.1:0"), 0);
    nnghttp::detail::stream_listener* l = nullptr;
    ASSERT_EQ(nnghttp::detail::make_listener(*u, l), 0);
    nng_url_free(u);
    ASSERT_EQ(l->listen(), 0);
    int port = 0;
    size_t sz = sizeof port;
    EXPECT_EQ(
        l->get(NNG_OPT_TCP_BOUND_PORT, nnghttp::detail::opt_out{&port, &sz, nnghttp::detail::opt_type::int32}), 0);
    EXPECT_GT(port, 0);
    bool b = true;
    EXPECT_EQ(l->set(NNG_OPT_TCP_NODELAY, nnghttp::detail::opt_in{&b, sizeof b, nnghttp::detail::opt_type::opaque}),
              0);
    EXPECT_EQ(l->set(NNG_OPT_TCP_NODELAY, nnghttp::detail::opt_in{&b, 3, nnghttp::detail::opt_type::opaque}),
              NNG_EINVAL);
    EXPECT_EQ(l->get("nope", nnghttp::detail::opt_out{&b, &sz, nnghttp::detail::opt_type::boolean}), NNG_ENOTSUP);
    l->close();
    l->release();

    ASSERT_EQ(nng_url_parse(&u, "ws://127.0.0.1:0"), 0);
    nnghttp::detail::stream_dialer* d = nullptr;
    EXPECT_EQ(nnghttp::detail::make_dialer(*u, d), NNG_ENOTSUP); // docs/compat.md: ws not yet
    nng_url_free(u);
}

// The option helpers: an opaque get into a short buffer copies what fits,
// reports the full size and fails.
TEST(StreamOptions, CopyOutBytesSemantics) {
    const char src[6] = {'a', 'b', 'c', 'd', 'e', 'f'};
    char dst[4] = {'x', 'x', 'x', 'x'};
    size_t sz = 3;
    EXPECT_EQ(nnghttp::detail::copy_out_bytes(src, sizeof src,
                                      nnghttp::detail::opt_out{dst, &sz, nnghttp::detail::opt_type::opaque}),
              NNG_EINVAL);
    EXPECT_EQ(sz, sizeof src);
    EXPECT_EQ(std::string(dst, 4), "abcx");
}
