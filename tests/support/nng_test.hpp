// Helpers shared by the GoogleTest suites that drive the C API: an owned
// aio with a timeout (so a bug fails a test instead of hanging it), whole
// transfers over an nng_stream, deterministic body bytes and an echo
// handler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <gtest/gtest.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <string>

namespace nnghttp::detail::test {

// Every wait in the tests is bounded by this.
inline constexpr nng_duration wait_ms = 10000;

// True in AddressSanitizer and ThreadSanitizer builds, where tests shrink
// their big transfers and operation counts.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif
#else
inline constexpr bool sanitized = false;
#endif

// Deterministic body bytes: a linear congruential generator's top bytes.
inline std::string pattern(std::size_t n, unsigned seed = 1) {
    std::string s(n, '\0');
    unsigned x = seed;
    for (auto& c : s) {
        x = x * 1103515245u + 12345u;
        c = static_cast<char>(x >> 24);
    }
    return s;
}

// A custom handler (nng_http_handler_alloc) answering 200 with the
// request's body.
inline void echo_body_cb(nng_aio* aio) {
    auto* req = static_cast<nng_http_req*>(nng_aio_get_input(aio, 0));
    void* data = nullptr;
    size_t len = 0;
    nng_http_req_get_data(req, &data, &len);
    nng_http_res* res = nullptr;
    nng_http_res_alloc(&res);
    nng_http_res_copy_data(res, data, len);
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

// An nng_aio with a timeout of wait_ms, freed on scope exit.
class aio_box {
  public:
    explicit aio_box(void (*cb)(void*) = nullptr, void* arg = nullptr) {
        EXPECT_EQ(nng_aio_alloc(&a_, cb, arg), 0);
        nng_aio_set_timeout(a_, wait_ms);
    }
    ~aio_box() { nng_aio_free(a_); }
    aio_box(const aio_box&) = delete;
    aio_box& operator=(const aio_box&) = delete;

    nng_aio* get() const { return a_; }
    operator nng_aio*() const { return a_; }
    // Waits for the operation; its result.
    int wait() {
        nng_aio_wait(a_);
        return nng_aio_result(a_);
    }
    std::size_t count() const { return nng_aio_count(a_); }
    void set_buf(void* p, std::size_t n) {
        nng_iov iov{p, n};
        ASSERT_EQ(nng_aio_set_iov(a_, 1, &iov), 0);
    }
    void timeout(nng_duration d) { nng_aio_set_timeout(a_, d); }

  private:
    nng_aio* a_ = nullptr;
};

// One send or receive of up to n bytes; its result, and the count in *count.
inline int one_xfer(nng_stream* s, bool send, void* p, std::size_t n, std::size_t* count) {
    aio_box a;
    a.set_buf(p, n);
    if (send) {
        nng_stream_send(s, a);
    } else {
        nng_stream_recv(s, a);
    }
    int rv = a.wait();
    *count = a.count();
    return rv;
}

// Transfers exactly n bytes (as many operations as partial counts need);
// 0, the first error, or NNG_EINTERNAL if an operation moved nothing.
inline int xfer_all(nng_stream* s, bool send, void* p, std::size_t n) {
    std::size_t done = 0;
    for (int rounds = 0; done < n && rounds < 1000000; rounds++) {
        std::size_t c = 0;
        if (int rv = one_xfer(s, send, static_cast<std::uint8_t*>(p) + done, n - done, &c);
            rv != 0) {
            return rv;
        }
        if (c == 0) {
            return NNG_EINTERNAL;
        }
        done += c;
    }
    return done == n ? 0 : NNG_EINTERNAL;
}

// Accepts on l and dials with d at once: srv is the accepted end, cli the
// dialed one (nullptr where that side failed, which is asserted).
inline void accept_and_dial(nng_stream_listener* l, nng_stream_dialer* d, nng_stream*& srv,
                            nng_stream*& cli) {
    aio_box acc, dial;
    nng_stream_listener_accept(l, acc);
    nng_stream_dialer_dial(d, dial);
    ASSERT_EQ(acc.wait(), 0);
    ASSERT_EQ(dial.wait(), 0);
    srv = static_cast<nng_stream*>(nng_aio_get_output(acc, 0));
    cli = static_cast<nng_stream*>(nng_aio_get_output(dial, 0));
}

// A listening TCP listener on 127.0.0.1 (an ephemeral port) and a dialer
// for it, freed by close() or at scope exit.
struct tcp_endpoints {
    nng_stream_listener* l = nullptr;
    nng_stream_dialer* d = nullptr;

    tcp_endpoints() {
        EXPECT_EQ(nng_stream_listener_alloc(&l, "tcp://127.0.0.1:0"), 0);
        EXPECT_EQ(nng_stream_listener_listen(l), 0);
        int port = -1;
        EXPECT_EQ(nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
        std::string url = "tcp://127.0.0.1:" + std::to_string(port);
        EXPECT_EQ(nng_stream_dialer_alloc(&d, url.c_str()), 0);
    }
    ~tcp_endpoints() { close(); }
    tcp_endpoints(const tcp_endpoints&) = delete;
    tcp_endpoints& operator=(const tcp_endpoints&) = delete;

    // A connected pair the caller owns: a accepted, b dialed.
    void connect(nng_stream*& a, nng_stream*& b) {
        accept_and_dial(l, d, a, b);
        ASSERT_NE(a, nullptr);
        ASSERT_NE(b, nullptr);
    }
    void close() {
        nng_stream_dialer_free(d);
        nng_stream_listener_free(l);
        d = nullptr;
        l = nullptr;
    }
};

// tcp_endpoints and (after connect()) one connected pair it owns.
struct tcp_setup : tcp_endpoints {
    nng_stream* srv = nullptr;
    nng_stream* cli = nullptr;

    ~tcp_setup() { close(); }

    void connect() { tcp_endpoints::connect(srv, cli); }
    void close() {
        nng_stream_free(srv);
        nng_stream_free(cli);
        srv = cli = nullptr;
        tcp_endpoints::close();
    }
};

} // namespace nnghttp::detail::test
