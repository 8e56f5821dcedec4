// Helpers for the tests of the C API's ws:// streams (ws_*_test.cpp): a
// listening ws listener with its dialer, connected pairs, a raw TCP peer
// that speaks the handshake and frames by hand, and typed option access.
#pragma once

#include "support/nng_test.hpp"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <gtest/gtest.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>
#include <string>
#include <system_error>

namespace nnghttp::detail::test {

// Sockets the process has open (the /proc/self/fd entries that are).
inline int open_sockets() {
    int n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        std::error_code lec;
        if (std::filesystem::read_symlink(e.path(), lec).string().rfind("socket:", 0) == 0) {
            n++;
        }
    }
    return n;
}

// A ws stream freed by a test ends in the background: the closing
// handshake, then (a client) the wait for the server to close TCP.  This
// environment's TearDown waits, at most 5 s, for those connections to be
// gone, so that none is still reading when the process exits and its
// static objects are destroyed (Asio's error categories among them, which
// a late end-of-stream would still consult).
class background_closes : public ::testing::Environment {
  public:
    void TearDown() override {
        for (int i = 0; i < 5000 && open_sockets() > 0; i++) {
            nng_msleep(1);
        }
    }
};

// The port a listening stream listener bound.
inline int bound_port(nng_stream_listener* l) {
    int port = -1;
    EXPECT_EQ(nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
    return port;
}

// A ws listener for "<scheme>://127.0.0.1:0<path>", listening, and a dialer
// for it (allocated, not dialed); both freed at scope exit.  Options go on
// l and d between construction and listen()/connect().
struct ws_endpoints {
    nng_stream_listener* l = nullptr;
    nng_stream_dialer* d = nullptr;
    std::string path;
    std::string scheme;
    int port = -1;

    explicit ws_endpoints(std::string p = "/ws", std::string s = "ws")
        : path(std::move(p)), scheme(std::move(s)) {
        std::string url = scheme + "://127.0.0.1:0" + path;
        EXPECT_EQ(nng_stream_listener_alloc(&l, url.c_str()), 0);
    }
    ~ws_endpoints() { close(); }
    ws_endpoints(const ws_endpoints&) = delete;
    ws_endpoints& operator=(const ws_endpoints&) = delete;

    std::string url() const { return scheme + "://127.0.0.1:" + std::to_string(port) + path; }

    // Listens and allocates the dialer for the bound port.
    void listen() {
        ASSERT_EQ(nng_stream_listener_listen(l), 0);
        port = bound_port(l);
        ASSERT_GT(port, 0);
        ASSERT_EQ(nng_stream_dialer_alloc(&d, url().c_str()), 0);
    }
    // A connected pair the caller owns: a accepted, b dialed.
    void connect(nng_stream*& a, nng_stream*& b) {
        accept_and_dial(l, d, a, b);
        ASSERT_NE(a, nullptr);
        ASSERT_NE(b, nullptr);
    }
    // A dial's result (the stream, if any, freed).
    int dial_result() {
        aio_box a;
        nng_stream_dialer_dial(d, a);
        int rv = a.wait();
        if (rv == 0) {
            nng_stream_free(static_cast<nng_stream*>(nng_aio_get_output(a, 0)));
        }
        return rv;
    }
    void close() {
        nng_stream_dialer_free(d);
        nng_stream_listener_free(l);
        d = nullptr;
        l = nullptr;
    }
};

// ws_endpoints and one connected pair (srv accepted, cli dialed).
struct ws_setup : ws_endpoints {
    nng_stream* srv = nullptr;
    nng_stream* cli = nullptr;

    using ws_endpoints::ws_endpoints;
    ~ws_setup() { close(); }

    void connect() { ws_endpoints::connect(srv, cli); }
    void close() {
        nng_stream_free(srv);
        nng_stream_free(cli);
        srv = cli = nullptr;
        ws_endpoints::close();
    }
};

// One receive into a buffer of n bytes: the bytes, or "" with *rv set.
inline std::string recv_some(nng_stream* s, std::size_t n, int* rv = nullptr) {
    std::string buf(n, '\0');
    std::size_t got = 0;
    int r = one_xfer(s, false, buf.data(), n, &got);
    if (rv != nullptr) {
        *rv = r;
    } else {
        EXPECT_EQ(r, 0);
    }
    buf.resize(r == 0 ? got : 0);
    return buf;
}

// One send of data: its count (or -error).
inline long send_some(nng_stream* s, const std::string& data) {
    std::string copy = data;
    std::size_t sent = 0;
    int rv = one_xfer(s, true, copy.data(), copy.size(), &sent);
    return rv == 0 ? static_cast<long>(sent) : -rv;
}

// A stream option read as a string ("" with *rv on failure).
template <typename H, typename F> std::string get_str(H* h, F getter, const char* name, int* rv) {
    char* v = nullptr;
    *rv = getter(h, name, &v);
    std::string s = *rv == 0 && v != nullptr ? v : "";
    if (*rv == 0) {
        nng_strfree(v);
    }
    return s;
}

inline std::string stream_str(nng_stream* s, const char* name, int* rv) {
    return get_str(s, nng_stream_get_string, name, rv);
}

// Bytes as hex ("88 02 03 e8").
inline std::string hex(const std::string& s) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        if (!out.empty()) {
            out += ' ';
        }
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// A raw TCP connection to 127.0.0.1:port that writes and reads bytes as
// they are, to see frames and handshakes on the wire.
class raw_peer {
  public:
    explicit raw_peer(int port) {
        std::string url = "tcp://127.0.0.1:" + std::to_string(port);
        EXPECT_EQ(nng_stream_dialer_alloc(&d_, url.c_str()), 0);
        aio_box a;
        nng_stream_dialer_dial(d_, a);
        EXPECT_EQ(a.wait(), 0);
        s_ = static_cast<nng_stream*>(nng_aio_get_output(a, 0));
    }
    ~raw_peer() {
        nng_stream_free(s_);
        nng_stream_dialer_free(d_);
    }
    raw_peer(const raw_peer&) = delete;
    raw_peer& operator=(const raw_peer&) = delete;

    bool ok() const { return s_ != nullptr; }
    int write(std::string bytes) { return xfer_all(s_, true, bytes.data(), bytes.size()); }
    // Exactly n bytes ("" on failure).
    std::string read(std::size_t n) {
        std::string b(n, '\0');
        return xfer_all(s_, false, b.data(), n) == 0 ? b : std::string();
    }
    // Up to the end of a head (CRLF CRLF), one byte at a time.
    std::string read_head() {
        std::string h;
        while (h.size() < 16384 && (h.size() < 4 || h.compare(h.size() - 4, 4, "\r\n\r\n") != 0)) {
            std::string c = read(1);
            if (c.empty()) {
                break;
            }
            h += c;
        }
        return h;
    }
    // The opening handshake as a client for path; the response head.
    std::string upgrade(const std::string& path, const std::string& extra = "") {
        write("GET " + path +
              " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
              extra + "\r\n");
        return read_head();
    }
    // A masked (client) frame with FIN set and a payload under 126 bytes.
    static std::string client_frame(std::uint8_t opcode, const std::string& payload) {
        const std::uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
        std::string f;
        f += static_cast<char>(0x80 | opcode);
        f += static_cast<char>(0x80 | payload.size());
        f.append(reinterpret_cast<const char*>(key), 4);
        for (std::size_t i = 0; i < payload.size(); i++) {
            f += static_cast<char>(payload[i] ^ key[i % 4]);
        }
        return f;
    }
    // The server's close frame (as hex), answered with a close frame of
    // the same code; then the server's TCP close is awaited, so that the
    // connection is over on both sides.  "" if any step failed.
    std::string close_handshake() {
        std::string f = read(4);
        if (f.size() != 4 || write(client_frame(0x8, f.substr(2))) != 0) {
            return "";
        }
        char c;
        std::size_t n = 0;
        return one_xfer(s_, false, &c, 1, &n) != 0 ? hex(f) : "";
    }
    nng_stream* stream() const { return s_; }

  private:
    nng_stream_dialer* d_ = nullptr;
    nng_stream* s_ = nullptr;
};

} // namespace nnghttp::detail::test
