// TCP byte streams through the C API (nng_stream_*, nng_stream_dialer_*,
// nng_stream_listener_*): the contract of NNG's man pages, NNG 1.5.2's
// behaviour where they are silent (tests/compat/stream_tcp.c compares the
// two side by side), and what a differential program cannot show
// deterministically: threads, ordering under load, large transfers,
// concurrent dials, closing from callbacks, many connections.
//
// Every wait is bounded by an aio timeout, so a lost completion fails a test
// rather than hanging it.
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <gtest/gtest.h>

#include "support/nng_test.hpp"
#include "core/executor.hpp"
#include "stream/socket_stream.hpp"

#include <asio/post.hpp>
#include <future>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nng/nng.h>
#include <poll.h>
#include <random>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using nnghttp::detail::test::aio_box;
using nnghttp::detail::test::one_xfer;
using nnghttp::detail::test::wait_ms;
using nnghttp::detail::test::xfer_all;

int bound_port(nng_stream_listener* l) {
    int port = -1;
    EXPECT_EQ(nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
    return port;
}

std::string url_for(nng_stream_listener* l, const char* scheme = "tcp",
                    const char* host = "127.0.0.1") {
    return std::string(scheme) + "://" + host + ":" + std::to_string(bound_port(l));
}

// A listening listener on 127.0.0.1, an ephemeral port, and a dialer for it.
struct endpoint_pair {
    nng_stream_listener* l = nullptr;
    nng_stream_dialer* d = nullptr;

    // inq: the listener's "nnghttp:tcp-inq" option (the HTTP server's).
    explicit endpoint_pair(const char* scheme = "tcp", const char* host = "127.0.0.1",
                           bool inq = false) {
        std::string lu = std::string(scheme) + "://" + host + ":0";
        EXPECT_EQ(nng_stream_listener_alloc(&l, lu.c_str()), 0);
        if (inq) {
            EXPECT_EQ(nng_stream_listener_set_bool(l, "nnghttp:tcp-inq", true), 0);
        }
        EXPECT_EQ(nng_stream_listener_listen(l), 0);
        EXPECT_EQ(nng_stream_dialer_alloc(&d, url_for(l, scheme, host).c_str()), 0);
    }
    ~endpoint_pair() {
        nng_stream_dialer_free(d);
        nng_stream_listener_free(l);
    }
    endpoint_pair(const endpoint_pair&) = delete;
    endpoint_pair& operator=(const endpoint_pair&) = delete;

    // Accepts and dials one connection.
    void connect(nng_stream*& srv, nng_stream*& cli) {
        nnghttp::detail::test::accept_and_dial(l, d, srv, cli);
        ASSERT_NE(srv, nullptr);
        ASSERT_NE(cli, nullptr);
    }
};

// A connected pair of streams, freed on scope exit.
struct stream_pair {
    endpoint_pair ep;
    nng_stream* srv = nullptr;
    nng_stream* cli = nullptr;
    explicit stream_pair(bool inq = false) : ep("tcp", "127.0.0.1", inq) { ep.connect(srv, cli); }
    ~stream_pair() {
        nng_stream_free(cli);
        nng_stream_free(srv);
    }
    stream_pair(const stream_pair&) = delete;
    stream_pair& operator=(const stream_pair&) = delete;
};

// A stream's data as an std::string (for readable comparisons).
std::string recv_string(nng_stream* s, size_t n) {
    std::string out(n, '\0');
    EXPECT_EQ(xfer_all(s, false, out.data(), n), 0);
    return out;
}

// 127.0.0.1 at port (0: any).
sockaddr_in loopback_addr(int port = 0) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(static_cast<uint16_t>(port));
    return sa;
}

// A raw listening socket on 127.0.0.1 (an ephemeral port) with the given
// backlog; its address in sa.
int listen_loopback(int backlog, sockaddr_in& sa) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sa = loopback_addr();
    socklen_t len = sizeof sa;
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), len), 0);
    EXPECT_EQ(::listen(fd, backlog), 0);
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
    return fd;
}

} // namespace

TEST(TcpStream, EchoOfSeveralSizes) {
    stream_pair p;
    std::mt19937 rng(42);
    for (size_t n : {size_t{1}, size_t{2}, size_t{100}, size_t{4096}, size_t{65535}, size_t{65536},
                     size_t{300000}}) {
        std::vector<uint8_t> out(n), mid(n), back(n);
        for (auto& b : out) {
            b = static_cast<uint8_t>(rng());
        }
        // Send and echo concurrently, so neither side waits on the other.
        std::thread echo([&] {
            ASSERT_EQ(xfer_all(p.srv, false, mid.data(), n), 0);
            ASSERT_EQ(xfer_all(p.srv, true, mid.data(), n), 0);
        });
        ASSERT_EQ(xfer_all(p.cli, true, out.data(), n), 0);
        ASSERT_EQ(xfer_all(p.cli, false, back.data(), n), 0);
        echo.join();
        EXPECT_EQ(out, back) << n << " bytes";
    }
}

TEST(TcpStream, ReceiveLargerThanSentGivesPartialCount) {
    stream_pair p;
    size_t n = 0;
    ASSERT_EQ(one_xfer(p.cli, true, const_cast<char*>("hello"), 5, &n), 0);
    EXPECT_EQ(n, 5u);
    char buf[100] = {};
    ASSERT_EQ(one_xfer(p.srv, false, buf, sizeof buf, &n), 0);
    EXPECT_EQ(n, 5u);
    EXPECT_STREQ(buf, "hello");
}

TEST(TcpStream, ScatterAndGather) {
    stream_pair p;
    char a[] = "abc", b[] = "defgh";
    nng_iov giov[3] = {{a, 3}, {b, 0}, {b, 5}};
    aio_box s;
    ASSERT_EQ(nng_aio_set_iov(s, 3, giov), 0);
    nng_stream_send(p.cli, s);
    ASSERT_EQ(s.wait(), 0);
    EXPECT_EQ(nng_aio_count(s), 8u);
    char x[2], y[3], z[10] = {};
    nng_iov siov[3] = {{x, 2}, {y, 3}, {z, 9}};
    aio_box r;
    ASSERT_EQ(nng_aio_set_iov(r, 3, siov), 0);
    nng_stream_recv(p.srv, r);
    ASSERT_EQ(r.wait(), 0);
    EXPECT_EQ(nng_aio_count(r), 8u);
    EXPECT_EQ(std::string(x, 2) + std::string(y, 3) + std::string(z), "abcdefgh");
}

TEST(TcpStream, OutstandingReceivesShareOneSendInOrder) {
    stream_pair p;
    char bufs[4][3] = {};
    std::vector<std::unique_ptr<aio_box>> rs;
    for (auto& b : bufs) {
        rs.push_back(std::make_unique<aio_box>());
        rs.back()->set_buf(b, 3);
        nng_stream_recv(p.srv, *rs.back());
    }
    ASSERT_EQ(xfer_all(p.cli, true, const_cast<char*>("aaabbbcccddd"), 12), 0);
    std::string got;
    for (size_t i = 0; i < rs.size(); i++) {
        ASSERT_EQ(rs[i]->wait(), 0);
        got.append(bufs[i], nng_aio_count(*rs[i]));
    }
    EXPECT_EQ(got, "aaabbbcccddd");
}

namespace {

struct thread_probe {
    std::mutex m;
    std::vector<std::thread::id> ids;
    static void cb(void* arg) {
        auto* t = static_cast<thread_probe*>(arg);
        std::lock_guard lk(t->m);
        t->ids.push_back(std::this_thread::get_id());
    }
};

} // namespace

TEST(TcpStream, CallbacksRunOnAnotherThread) {
    endpoint_pair ep;
    thread_probe probe;
    const auto me = std::this_thread::get_id();
    nng_stream *srv = nullptr, *cli = nullptr;
    {
        aio_box acc(thread_probe::cb, &probe), dial(thread_probe::cb, &probe);
        nng_stream_listener_accept(ep.l, acc);
        nng_stream_dialer_dial(ep.d, dial);
        ASSERT_EQ(acc.wait(), 0);
        ASSERT_EQ(dial.wait(), 0);
        srv = static_cast<nng_stream*>(nng_aio_get_output(acc, 0));
        cli = static_cast<nng_stream*>(nng_aio_get_output(dial, 0));
    }
    {
        // A send on an idle, writable socket completes at once: its callback
        // still runs elsewhere, never inside nng_stream_send.
        aio_box s(thread_probe::cb, &probe), r(thread_probe::cb, &probe);
        char out[4] = {'p', 'i', 'n', 'g'}, in[4];
        s.set_buf(out, 4);
        r.set_buf(in, 4);
        nng_stream_send(cli, s);
        ASSERT_EQ(s.wait(), 0);
        nng_stream_recv(srv, r);
        ASSERT_EQ(r.wait(), 0);
        // Errors found inside the starting call are delivered the same way.
        aio_box zero(thread_probe::cb, &probe);
        nng_aio_set_timeout(zero, NNG_DURATION_ZERO);
        nng_stream_recv(srv, zero);
        EXPECT_EQ(zero.wait(), NNG_ETIMEDOUT);
    }
    nng_stream_free(srv);
    nng_stream_free(cli);
    std::lock_guard lk(probe.m);
    ASSERT_EQ(probe.ids.size(), 5u);
    for (auto id : probe.ids) {
        EXPECT_NE(id, me);
    }
}

namespace {

void count_done(void* arg) {
    static_cast<std::atomic<int>*>(arg)->fetch_add(1);
}

} // namespace

TEST(TcpStream, ThousandOutstandingSendsArriveInOrder) {
    stream_pair p;
    constexpr int nsend = 1000;
    constexpr size_t each = 257;
    std::vector<std::vector<uint8_t>> bufs(nsend, std::vector<uint8_t>(each));
    std::atomic<int> done{0};
    std::vector<nng_aio*> aios(nsend);
    for (int i = 0; i < nsend; i++) {
        for (size_t j = 0; j < each; j++) {
            bufs[i][j] = static_cast<uint8_t>(i * 31 + j);
        }
        ASSERT_EQ(nng_aio_alloc(&aios[i], count_done, &done), 0);
        nng_aio_set_timeout(aios[i], wait_ms);
        nng_iov iov{bufs[i].data(), each};
        ASSERT_EQ(nng_aio_set_iov(aios[i], 1, &iov), 0);
    }
    // The receiver drains while the sends are queued.
    std::vector<uint8_t> got;
    std::thread reader([&] {
        std::vector<uint8_t> buf(65536);
        for (int rounds = 0; got.size() < nsend * each && rounds < 1000000; rounds++) {
            size_t n = 0;
            if (one_xfer(p.srv, false, buf.data(), buf.size(), &n) != 0) {
                break;
            }
            got.insert(got.end(), buf.begin(), buf.begin() + static_cast<long>(n));
        }
    });
    for (int i = 0; i < nsend; i++) {
        nng_stream_send(p.cli, aios[i]);
    }
    std::vector<uint8_t> expected;
    for (int i = 0; i < nsend; i++) {
        nng_aio_wait(aios[i]);
        ASSERT_EQ(nng_aio_result(aios[i]), 0) << "send " << i;
        // A send may complete short: only its first count bytes were sent,
        // and the next send's bytes follow them.
        size_t c = nng_aio_count(aios[i]);
        EXPECT_GT(c, 0u);
        expected.insert(expected.end(), bufs[i].begin(), bufs[i].begin() + static_cast<long>(c));
    }
    if (expected.size() < nsend * each) {
        // Short sends happened; unblock the reader by completing the total.
        std::vector<uint8_t> pad(nsend * each - expected.size(), 0xee);
        ASSERT_EQ(xfer_all(p.cli, true, pad.data(), pad.size()), 0);
        expected.insert(expected.end(), pad.begin(), pad.end());
    }
    reader.join();
    EXPECT_EQ(done.load(), nsend);
    ASSERT_EQ(got.size(), expected.size());
    EXPECT_TRUE(got == expected) << "bytes arrived out of order";
    for (auto* a : aios) {
        nng_aio_free(a);
    }
}

TEST(TcpStream, SixteenMebibytesOfRandomData) {
    stream_pair p;
    constexpr size_t total = 16u << 20;
    std::vector<uint8_t> out(total);
    std::mt19937_64 rng(20240611);
    for (size_t i = 0; i < total; i += 8) {
        uint64_t v = rng();
        std::memcpy(&out[i], &v, 8);
    }
    auto fnv = [](const uint8_t* d, size_t n) {
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < n; i++) {
            h = (h ^ d[i]) * 1099511628211ull;
        }
        return h;
    };
    std::atomic<int> partial_sends{0};
    std::thread sender([&] {
        size_t off = 0;
        for (int rounds = 0; off < total && rounds < 1000000; rounds++) {
            size_t want = std::min<size_t>(total - off, 1u << 20);
            size_t n = 0;
            if (one_xfer(p.cli, true, out.data() + off, want, &n) != 0 || n == 0) {
                break;
            }
            if (n < want) {
                partial_sends++;
            }
            off += n;
        }
    });
    std::vector<uint8_t> in(total);
    size_t got = 0;
    int partial_recvs = 0;
    for (int rounds = 0; got < total && rounds < 1000000; rounds++) {
        size_t want = std::min<size_t>(total - got, 3u << 20);
        size_t n = 0;
        ASSERT_EQ(one_xfer(p.srv, false, in.data() + got, want, &n), 0);
        ASSERT_GT(n, 0u);
        if (n < want) {
            partial_recvs++;
        }
        got += n;
    }
    sender.join();
    ASSERT_EQ(got, total);
    EXPECT_EQ(fnv(in.data(), total), fnv(out.data(), total));
    EXPECT_GT(partial_recvs, 0) << "a 3 MiB receive should see partial counts";
    RecordProperty("partial_sends", partial_sends.load());
}

TEST(TcpStream, TimeoutsCancelAndAbort) {
    stream_pair p;
    char buf[8];
    aio_box a;
    a.set_buf(buf, sizeof buf);

    nng_aio_set_timeout(a, 30);
    auto t0 = std::chrono::steady_clock::now();
    nng_stream_recv(p.srv, a);
    EXPECT_EQ(a.wait(), NNG_ETIMEDOUT);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(25));
    EXPECT_EQ(nng_aio_count(a), 0u);

    // A zero timeout fails before trying, even with data waiting.
    size_t n = 0;
    ASSERT_EQ(one_xfer(p.cli, true, const_cast<char*>("data"), 4, &n), 0);
    nng_aio_set_timeout(a, NNG_DURATION_ZERO);
    nng_stream_recv(p.srv, a);
    EXPECT_EQ(a.wait(), NNG_ETIMEDOUT);
    nng_aio_set_timeout(a, wait_ms);
    nng_stream_recv(p.srv, a);
    ASSERT_EQ(a.wait(), 0);
    EXPECT_EQ(std::string(buf, nng_aio_count(a)), "data");

    nng_stream_recv(p.srv, a);
    nng_aio_cancel(a);
    EXPECT_EQ(a.wait(), NNG_ECANCELED);
    nng_stream_recv(p.srv, a);
    nng_aio_abort(a, NNG_EPROTO);
    EXPECT_EQ(a.wait(), NNG_EPROTO);

    // Cancelling the first of two receives leaves the second in place.
    char b2[8];
    aio_box second;
    second.set_buf(b2, sizeof b2);
    nng_stream_recv(p.srv, a);
    nng_stream_recv(p.srv, second);
    nng_aio_cancel(a);
    EXPECT_EQ(a.wait(), NNG_ECANCELED);
    ASSERT_EQ(one_xfer(p.cli, true, const_cast<char*>("xy"), 2, &n), 0);
    ASSERT_EQ(second.wait(), 0);
    EXPECT_EQ(std::string(b2, nng_aio_count(second)), "xy");
}

// A receive cancelled just as its bytes arrive either completes with them
// or fails with nothing taken: no byte is lost or repeated either way.
TEST(TcpStream, ReceiveCancelledAsBytesArriveLosesNothing) {
    stream_pair p;
    const int rounds = nnghttp::detail::test::sanitized ? 100 : 400;
    std::string got;
    std::string sent;
    int cancelled = 0;
    char buf[64];
    aio_box a;
    a.set_buf(buf, sizeof buf);
    for (int i = 0; i < rounds; i++) {
        std::string msg = std::to_string(i) + ";";
        sent += msg;
        // Cancel before the bytes are sent, just after, or a moment after.
        nng_stream_recv(p.srv, a);
        if (i % 3 == 0) {
            nng_aio_cancel(a);
        }
        size_t n = 0;
        ASSERT_EQ(one_xfer(p.cli, true, msg.data(), msg.size(), &n), 0);
        ASSERT_EQ(n, msg.size());
        if (i % 3 == 2) {
            std::this_thread::yield();
        }
        nng_aio_cancel(a);
        int rv = a.wait();
        if (rv == 0) {
            got.append(buf, nng_aio_count(a));
        } else {
            ASSERT_EQ(rv, NNG_ECANCELED);
            EXPECT_EQ(nng_aio_count(a), 0u);
            cancelled++;
        }
        // What a cancelled receive did not take is still there: read it,
        // so that each round starts with nothing waiting.
        while (got.size() < sent.size()) {
            nng_stream_recv(p.srv, a);
            ASSERT_EQ(a.wait(), 0);
            got.append(buf, nng_aio_count(a));
        }
    }
    EXPECT_EQ(got, sent);
    // Every third receive was cancelled before its bytes were sent.
    EXPECT_GE(cancelled, rounds / 3);
}

TEST(TcpStream, SendTimesOutWhenThePeerDoesNotRead) {
    stream_pair p;
    std::vector<uint8_t> big(1u << 20);
    aio_box a;
    a.set_buf(big.data(), big.size());
    nng_aio_set_timeout(a, 100);
    int rv = 0;
    size_t sent = 0;
    for (int i = 0; i < 2000 && rv == 0; i++) {
        nng_stream_send(p.cli, a);
        rv = a.wait();
        sent += nng_aio_count(a);
    }
    EXPECT_EQ(rv, NNG_ETIMEDOUT);
    EXPECT_GT(sent, 0u);
}

namespace {

struct stop_probe {
    std::atomic<int> calls{0};
    std::atomic<int> result{-1};
    nng_aio* aio = nullptr;
    static void cb(void* arg) {
        auto* s = static_cast<stop_probe*>(arg);
        s->result = nng_aio_result(s->aio);
        s->calls++;
    }
};

} // namespace

TEST(TcpStream, StopRunsTheCallbackOnceThenRefusesWork) {
    stream_pair p;
    stop_probe st;
    ASSERT_EQ(nng_aio_alloc(&st.aio, stop_probe::cb, &st), 0);
    nng_aio_set_timeout(st.aio, wait_ms);
    char buf[4];
    nng_iov iov{buf, sizeof buf};
    nng_aio_set_iov(st.aio, 1, &iov);
    nng_stream_recv(p.srv, st.aio);
    nng_aio_stop(st.aio);
    EXPECT_EQ(st.calls.load(), 1);
    EXPECT_EQ(st.result.load(), NNG_ECANCELED);
    nng_stream_recv(p.srv, st.aio);
    nng_aio_wait(st.aio);
    EXPECT_EQ(nng_aio_result(st.aio), NNG_ECANCELED);
    EXPECT_EQ(st.calls.load(), 1);
    nng_aio_free(st.aio);
    // The stream itself is unharmed.
    size_t n = 0;
    ASSERT_EQ(one_xfer(p.cli, true, const_cast<char*>("ok"), 2, &n), 0);
    EXPECT_EQ(recv_string(p.srv, 2), "ok");
}

TEST(TcpStream, PeerCloseIsConnectionShutdown) {
    stream_pair p;
    char buf[4];
    aio_box a;
    a.set_buf(buf, sizeof buf);
    nng_stream_recv(p.srv, a);
    nng_stream_close(p.cli);
    EXPECT_EQ(a.wait(), NNG_ECONNSHUT);
    nng_stream_recv(p.srv, a);
    EXPECT_EQ(a.wait(), NNG_ECONNSHUT);
    // Data sent before the close is still delivered first.
    stream_pair q;
    size_t n = 0;
    ASSERT_EQ(one_xfer(q.cli, true, const_cast<char*>("bye"), 3, &n), 0);
    nng_stream_close(q.cli);
    EXPECT_EQ(recv_string(q.srv, 3), "bye");
    nng_stream_recv(q.srv, a);
    EXPECT_EQ(a.wait(), NNG_ECONNSHUT);
    // Writing to a closed peer fails sooner or later.
    int rv = 0;
    for (int i = 0; i < 1000 && rv == 0; i++) {
        rv = one_xfer(q.srv, true, const_cast<char*>("x"), 1, &n);
    }
    EXPECT_NE(rv, 0);
}

// A receive that takes everything there was lets the next one wait for
// the next bytes without trying the socket first, where the kernel says
// nothing is left (the HTTP server's listener option, TCP_INQ).  Nothing
// changes for the user: bytes that come later arrive, the peer's end that
// came with the last bytes still ends the stream, and a wait with nothing
// coming times out; with the option and without.
TEST(TcpStream, AReceiveThatDrainsTheSocketLosesNothingAfterIt) {
    for (bool inq : {false, true}) {
        SCOPED_TRACE(inq ? "TCP_INQ" : "plain");
        {
            stream_pair p(inq);
            bool on = !inq;
            EXPECT_EQ(nng_stream_listener_get_bool(p.ep.l, "nnghttp:tcp-inq", &on), 0);
            EXPECT_EQ(on, inq);
            size_t n = 0;
            char buf[100] = {};
            // Bytes, then more bytes while the next receive waits.
            ASSERT_EQ(one_xfer(p.cli, true, const_cast<char*>("abc"), 3, &n), 0);
            ASSERT_EQ(one_xfer(p.srv, false, buf, sizeof buf, &n), 0);
            EXPECT_EQ(std::string(buf, n), "abc");
            aio_box a;
            a.set_buf(buf, sizeof buf);
            nng_stream_recv(p.srv, a);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            ASSERT_EQ(one_xfer(p.cli, true, const_cast<char*>("defg"), 4, &n), 0);
            ASSERT_EQ(a.wait(), 0);
            EXPECT_EQ(std::string(buf, nng_aio_count(a)), "defg");
            // Nothing comes: the wait times out, and what comes after it
            // is the next receive's.
            aio_box t;
            nng_aio_set_timeout(t, 100);
            t.set_buf(buf, sizeof buf);
            nng_stream_recv(p.srv, t);
            EXPECT_EQ(t.wait(), NNG_ETIMEDOUT);
            ASSERT_EQ(one_xfer(p.cli, true, const_cast<char*>("hi"), 2, &n), 0);
            ASSERT_EQ(one_xfer(p.srv, false, buf, sizeof buf, &n), 0);
            EXPECT_EQ(std::string(buf, n), "hi");
        }
        {
            // The last bytes and the peer's end, both in before the read:
            // the bytes, then the end (not a wait for an edge that already
            // came).
            stream_pair p(inq);
            size_t n = 0;
            char buf[100] = {};
            ASSERT_EQ(one_xfer(p.cli, true, const_cast<char*>("bye"), 3, &n), 0);
            nng_stream_close(p.cli);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            ASSERT_EQ(one_xfer(p.srv, false, buf, sizeof buf, &n), 0);
            EXPECT_EQ(std::string(buf, n), "bye");
            aio_box a;
            a.set_buf(buf, sizeof buf);
            nng_stream_recv(p.srv, a);
            EXPECT_EQ(a.wait(), NNG_ECONNSHUT);
        }
        {
            // The same with the receive already waiting when both come.
            stream_pair p(inq);
            size_t n = 0;
            char buf[100] = {};
            aio_box a;
            a.set_buf(buf, sizeof buf);
            nng_stream_recv(p.srv, a);
            ASSERT_EQ(one_xfer(p.cli, true, const_cast<char*>("end"), 3, &n), 0);
            nng_stream_close(p.cli);
            ASSERT_EQ(a.wait(), 0);
            EXPECT_EQ(std::string(buf, nng_aio_count(a)), "end");
            nng_stream_recv(p.srv, a);
            EXPECT_EQ(a.wait(), NNG_ECONNSHUT);
        }
    }
}

TEST(TcpStream, OperationsAfterCloseFailWithClosed) {
    stream_pair p;
    char buf[4];
    aio_box r, s;
    r.set_buf(buf, sizeof buf);
    s.set_buf(buf, sizeof buf);
    nng_stream_recv(p.cli, r);
    nng_stream_close(p.cli);
    EXPECT_EQ(r.wait(), NNG_ECLOSED);
    // The man page: "any new operations will fail with NNG_ECLOSED" (NNG
    // 1.5.2 instead leaves them pending until their timeout).
    nng_aio_set_timeout(r, 2000);
    nng_stream_recv(p.cli, r);
    EXPECT_EQ(r.wait(), NNG_ECLOSED);
    nng_stream_send(p.cli, s);
    EXPECT_EQ(s.wait(), NNG_ECLOSED);
    nng_stream_close(p.cli);
    bool b = false;
    EXPECT_EQ(nng_stream_get_bool(p.cli, NNG_OPT_TCP_NODELAY, &b), NNG_ECLOSED);
}

TEST(TcpStream, FreeWithOperationsPending) {
    endpoint_pair ep;
    nng_stream *srv = nullptr, *cli = nullptr;
    ep.connect(srv, cli);
    std::vector<uint8_t> big(8u << 20);
    char buf[4];
    aio_box r1, r2, s1, s2;
    r1.set_buf(buf, sizeof buf);
    r2.set_buf(buf, sizeof buf);
    s1.set_buf(big.data(), big.size());
    s2.set_buf(big.data(), big.size());
    nng_stream_recv(cli, r1);
    nng_stream_recv(cli, r2);
    // Fill the buffers so that a send stays queued.
    int rv = 0;
    for (int i = 0; i < 100 && rv == 0; i++) {
        nng_aio_set_timeout(s1, 50);
        nng_stream_send(cli, s1);
        rv = s1.wait();
    }
    ASSERT_EQ(rv, NNG_ETIMEDOUT);
    nng_aio_set_timeout(s1, wait_ms);
    nng_stream_send(cli, s1);
    nng_stream_send(cli, s2);
    nng_stream_free(cli);
    EXPECT_EQ(r1.wait(), NNG_ECLOSED);
    EXPECT_EQ(r2.wait(), NNG_ECLOSED);
    // The sends may have moved some bytes before the close (the window can
    // open again); either way each completes exactly once.
    int rs1 = s1.wait();
    int rs2 = s2.wait();
    EXPECT_TRUE(rs1 == 0 || rs1 == NNG_ECLOSED) << rs1;
    EXPECT_TRUE(rs2 == 0 || rs2 == NNG_ECLOSED) << rs2;
    nng_stream_free(srv);
}

namespace {

struct closer {
    nng_stream* s = nullptr;
    nng_aio* aio = nullptr;
    std::atomic<int> result{-1};
    static void cb(void* arg) {
        auto* c = static_cast<closer*>(arg);
        c->result = nng_aio_result(c->aio);
        nng_stream_close(c->s); // from inside the callback
    }
};

} // namespace

TEST(TcpStream, CloseFromInsideCallback) {
    stream_pair p;
    closer c;
    c.s = p.srv;
    ASSERT_EQ(nng_aio_alloc(&c.aio, closer::cb, &c), 0);
    nng_aio_set_timeout(c.aio, wait_ms);
    char buf[4], buf2[4];
    nng_iov iov{buf, sizeof buf};
    nng_aio_set_iov(c.aio, 1, &iov);
    aio_box second;
    second.set_buf(buf2, sizeof buf2);
    nng_stream_recv(p.srv, c.aio);
    nng_stream_recv(p.srv, second);
    size_t n = 0;
    ASSERT_EQ(one_xfer(p.cli, true, const_cast<char*>("go"), 2, &n), 0);
    nng_aio_wait(c.aio);
    EXPECT_EQ(c.result.load(), 0);
    // The second receive may have taken nothing; the close ends it.
    int rv = second.wait();
    EXPECT_TRUE(rv == NNG_ECLOSED || rv == 0) << rv;
    nng_aio_free(c.aio);
    nng_stream_recv(p.cli, second);
    EXPECT_EQ(second.wait(), NNG_ECONNSHUT);
}

namespace {

struct listener_closer {
    nng_stream_listener* l = nullptr;
    nng_aio* aio = nullptr;
    static void cb(void* arg) {
        auto* c = static_cast<listener_closer*>(arg);
        if (nng_aio_result(c->aio) == 0) {
            nng_stream_free(static_cast<nng_stream*>(nng_aio_get_output(c->aio, 0)));
        }
        nng_stream_listener_close(c->l);
    }
};

} // namespace

TEST(TcpStream, ListenerCloseFromAcceptCallback) {
    endpoint_pair ep;
    listener_closer c;
    c.l = ep.l;
    ASSERT_EQ(nng_aio_alloc(&c.aio, listener_closer::cb, &c), 0);
    nng_aio_set_timeout(c.aio, wait_ms);
    aio_box later;
    nng_stream_listener_accept(ep.l, c.aio);
    nng_stream_listener_accept(ep.l, later);
    aio_box dial;
    nng_stream_dialer_dial(ep.d, dial);
    ASSERT_EQ(dial.wait(), 0);
    nng_stream_free(static_cast<nng_stream*>(nng_aio_get_output(dial, 0)));
    nng_aio_wait(c.aio);
    EXPECT_EQ(nng_aio_result(c.aio), 0);
    EXPECT_EQ(later.wait(), NNG_ECLOSED);
    nng_aio_free(c.aio);
}

TEST(TcpStream, ListenerStates) {
    nng_stream_listener* l = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, "tcp://127.0.0.1:0"), 0);
    aio_box a;
    nng_stream_listener_accept(l, a);
    EXPECT_EQ(a.wait(), NNG_ESTATE);
    int port = -1;
    // NNG 1.5.2: no bound port before the listener is bound.
    EXPECT_EQ(nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), NNG_ESTATE);
    ASSERT_EQ(nng_stream_listener_listen(l), 0);
    EXPECT_GT(bound_port(l), 0);
    EXPECT_EQ(nng_stream_listener_listen(l), NNG_ESTATE);

    nng_aio_set_timeout(a, 20);
    nng_stream_listener_accept(l, a);
    EXPECT_EQ(a.wait(), NNG_ETIMEDOUT);
    nng_aio_set_timeout(a, wait_ms);
    nng_stream_listener_accept(l, a);
    nng_aio_cancel(a);
    EXPECT_EQ(a.wait(), NNG_ECANCELED);

    nng_stream_listener* l2 = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l2, url_for(l).c_str()), 0);
    EXPECT_EQ(nng_stream_listener_listen(l2), NNG_EADDRINUSE);
    nng_stream_listener_free(l2);

    nng_stream_listener_accept(l, a);
    nng_stream_listener_close(l);
    EXPECT_EQ(a.wait(), NNG_ECLOSED);
    nng_stream_listener_accept(l, a);
    EXPECT_EQ(a.wait(), NNG_ECLOSED);
    nng_stream_listener_close(l);
    nng_stream_listener_free(l);
}

TEST(TcpStream, AllocErrors) {
    nng_stream_listener* l = nullptr;
    nng_stream_dialer* d = nullptr;
    EXPECT_EQ(nng_stream_listener_alloc(&l, "inproc://x"), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_dialer_alloc(&d, "http://127.0.0.1:80"), NNG_ENOTSUP);
    EXPECT_EQ(nng_stream_listener_alloc(&l, "not a url"), NNG_EINVAL);
    EXPECT_EQ(nng_stream_dialer_alloc(&d, "tcp://127.0.0.1"), NNG_EADDRINVAL);
    EXPECT_EQ(nng_stream_dialer_alloc(&d, "tcp://:80"), NNG_EADDRINVAL);
    EXPECT_EQ(nng_stream_listener_alloc(&l, "tcp://127.0.0.1:99999"), NNG_EADDRINVAL);
    EXPECT_EQ(l, nullptr);
    EXPECT_EQ(d, nullptr);
    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, "tcp://127.0.0.1:0"), 0);
    EXPECT_EQ(nng_stream_listener_alloc_url(&l, u), 0);
    nng_url_free(u);
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(nng_stream_listener_listen(l), 0);
    nng_stream_listener_free(l);
    nng_stream_listener_free(nullptr);
    nng_stream_dialer_free(nullptr);
    nng_stream_free(nullptr);
}

TEST(TcpStream, DialRefusedAndDialerClose) {
    nng_stream_listener* l = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, "tcp://127.0.0.1:0"), 0);
    ASSERT_EQ(nng_stream_listener_listen(l), 0);
    std::string url = url_for(l);
    nng_stream_listener_free(l);
    nng_stream_dialer* d = nullptr;
    ASSERT_EQ(nng_stream_dialer_alloc(&d, url.c_str()), 0);
    aio_box a;
    nng_stream_dialer_dial(d, a);
    EXPECT_EQ(a.wait(), NNG_ECONNREFUSED);
    nng_aio_set_timeout(a, NNG_DURATION_ZERO);
    nng_stream_dialer_dial(d, a);
    EXPECT_EQ(a.wait(), NNG_ETIMEDOUT);
    nng_aio_set_timeout(a, wait_ms);
    nng_stream_dialer_close(d);
    nng_stream_dialer_dial(d, a);
    EXPECT_EQ(a.wait(), NNG_ECLOSED);
    nng_stream_dialer_free(d);
}

TEST(TcpStream, Ipv6Loopback) {
    for (const char* scheme : {"tcp6", "tcp"}) {
        endpoint_pair ep(scheme, "[::1]");
        nng_stream *srv = nullptr, *cli = nullptr;
        ep.connect(srv, cli);
        nng_sockaddr sa;
        ASSERT_EQ(nng_stream_get_addr(srv, NNG_OPT_REMADDR, &sa), 0);
        EXPECT_EQ(sa.s_family, NNG_AF_INET6);
        static const uint8_t one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        EXPECT_EQ(std::memcmp(sa.s_in6.sa_addr, one, 16), 0);
        size_t n = 0;
        ASSERT_EQ(one_xfer(cli, true, const_cast<char*>("six"), 3, &n), 0);
        EXPECT_EQ(recv_string(srv, 3), "six");
        nng_stream_free(srv);
        nng_stream_free(cli);
    }
    nng_stream_listener* l = nullptr;
    EXPECT_NE(nng_stream_listener_alloc(&l, "tcp4://[::1]:0"), 0);
    EXPECT_NE(nng_stream_listener_alloc(&l, "tcp6://127.0.0.1:0"), 0);
}

TEST(TcpStream, Tcp6DialToIpv4LiteralIsAddrInvalid) {
    // NNG 1.5.2 reports getaddrinfo's EAI_ADDRFAMILY as NNG_ESYSERR + code
    // (a meaningless value); nng-http says NNG_EADDRINVAL, for the listener
    // and the dialer alike (docs/compat.md).
    nng_stream_listener* l = nullptr;
    int lrv = nng_stream_listener_alloc(&l, "tcp6://127.0.0.1:0");
    EXPECT_EQ(lrv, NNG_EADDRINVAL);
    nng_stream_dialer* d = nullptr;
    ASSERT_EQ(nng_stream_dialer_alloc(&d, "tcp6://127.0.0.1:80"), 0);
    aio_box a;
    nng_stream_dialer_dial(d, a);
    EXPECT_EQ(a.wait(), lrv);
    nng_stream_dialer_free(d);
}

namespace {

// A raw listening socket on 127.0.0.1 with a backlog of zero, whose accept
// queue is then filled: further connection attempts hang (their SYNs are
// dropped) until a slot is freed with accept_one().
class full_backlog {
  public:
    full_backlog() {
        sockaddr_in sin{};
        fd_ = listen_loopback(0, sin);
        port_ = ntohs(sin.sin_port);
        // Connect until one attempt does not complete promptly.
        for (int i = 0; i < 16; i++) {
            int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            int rc = ::connect(c, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
            pollfd pfd{c, POLLOUT, 0};
            if (rc != 0 && ::poll(&pfd, 1, 200) == 0) {
                ::close(c);
                full_ = true;
                break;
            }
            clients_.push_back(c);
        }
    }
    ~full_backlog() {
        for (int c : clients_) {
            ::close(c);
        }
        ::close(fd_);
    }
    full_backlog(const full_backlog&) = delete;
    full_backlog& operator=(const full_backlog&) = delete;

    bool full() const { return full_; }
    int port() const { return port_; }
    void accept_one() {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
            clients_.push_back(c);
        }
    }

  private:
    int fd_ = -1;
    int port_ = 0;
    bool full_ = false;
    std::vector<int> clients_;
};

} // namespace

TEST(TcpStream, PendingDialCanBeCancelledTimedOutAndClosed) {
    full_backlog fb;
    ASSERT_TRUE(fb.full());
    std::string url = "tcp://127.0.0.1:" + std::to_string(fb.port());
    nng_stream_dialer* d = nullptr;
    ASSERT_EQ(nng_stream_dialer_alloc(&d, url.c_str()), 0);
    aio_box a, b, c;
    nng_aio_set_timeout(a, 50);
    nng_stream_dialer_dial(d, a);
    EXPECT_EQ(a.wait(), NNG_ETIMEDOUT);
    nng_stream_dialer_dial(d, b);
    nng_aio_cancel(b);
    EXPECT_EQ(b.wait(), NNG_ECANCELED);
    nng_stream_dialer_dial(d, c);
    nng_stream_dialer_close(d);
    EXPECT_EQ(c.wait(), NNG_ECLOSED);
    nng_stream_dialer_free(d);
}

// docs/compat.md: nng-http dials concurrently, each dial completing on its
// own, where NNG dials one at a time.  Dial A is stuck (its SYN dropped by
// a full accept queue); a slot is then freed and dial B, on the same dialer,
// connects at once while A is still pending.  Dialing one at a time, B could
// not start before A ends.
TEST(TcpStream, DialsProceedConcurrently) {
    bool shown = false;
    for (int attempt = 0; attempt < 3 && !shown; attempt++) {
        full_backlog fb;
        ASSERT_TRUE(fb.full());
        std::string url = "tcp://127.0.0.1:" + std::to_string(fb.port());
        nng_stream_dialer* d = nullptr;
        ASSERT_EQ(nng_stream_dialer_alloc(&d, url.c_str()), 0);
        aio_box a, b;
        nng_stream_dialer_dial(d, a);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        fb.accept_one();
        nng_aio_set_timeout(b, 700); // well before A's SYN is retransmitted
        nng_stream_dialer_dial(d, b);
        int rb = b.wait();
        if (rb == 0) {
            nng_stream_free(static_cast<nng_stream*>(nng_aio_get_output(b, 0)));
        }
        nng_stream_dialer_close(d);
        int ra = a.wait();
        bool a_pending = ra == NNG_ECLOSED;
        if (ra == 0) {
            nng_stream_free(static_cast<nng_stream*>(nng_aio_get_output(a, 0)));
        }
        nng_stream_dialer_free(d);
        shown = rb == 0 && a_pending;
    }
    EXPECT_TRUE(shown) << "a second dial did not complete while the first was pending";
}

TEST(TcpStream, TwoHundredConnectionsAtOnce) {
    endpoint_pair ep;
    constexpr int n = 200;
    std::vector<nng_aio*> acc(n), dial(n);
    for (int i = 0; i < n; i++) {
        ASSERT_EQ(nng_aio_alloc(&acc[i], nullptr, nullptr), 0);
        ASSERT_EQ(nng_aio_alloc(&dial[i], nullptr, nullptr), 0);
        nng_aio_set_timeout(acc[i], wait_ms);
        nng_aio_set_timeout(dial[i], wait_ms);
    }
    for (int i = 0; i < n; i++) {
        nng_stream_listener_accept(ep.l, acc[i]);
        nng_stream_dialer_dial(ep.d, dial[i]);
    }
    std::vector<nng_stream*> srv, cli;
    for (int i = 0; i < n; i++) {
        nng_aio_wait(acc[i]);
        nng_aio_wait(dial[i]);
        EXPECT_EQ(nng_aio_result(acc[i]), 0);
        EXPECT_EQ(nng_aio_result(dial[i]), 0);
        if (nng_aio_result(acc[i]) == 0) {
            srv.push_back(static_cast<nng_stream*>(nng_aio_get_output(acc[i], 0)));
        }
        if (nng_aio_result(dial[i]) == 0) {
            cli.push_back(static_cast<nng_stream*>(nng_aio_get_output(dial[i], 0)));
        }
    }
    ASSERT_EQ(srv.size(), size_t{n});
    ASSERT_EQ(cli.size(), size_t{n});
    // Every dialed stream announces its index; every accepted stream hears
    // exactly one, and together they are all the indices.
    for (int i = 0; i < n; i++) {
        uint32_t v = static_cast<uint32_t>(i);
        ASSERT_EQ(xfer_all(cli[i], true, &v, sizeof v), 0);
    }
    std::vector<int> seen(n, 0);
    for (int i = 0; i < n; i++) {
        uint32_t v = 0;
        ASSERT_EQ(xfer_all(srv[i], false, &v, sizeof v), 0);
        ASSERT_LT(v, uint32_t{n});
        seen[v]++;
    }
    for (int i = 0; i < n; i++) {
        EXPECT_EQ(seen[i], 1) << i;
    }
    for (int i = 0; i < n; i++) {
        nng_stream_free(srv[i]);
        nng_stream_free(cli[i]);
        nng_aio_free(acc[i]);
        nng_aio_free(dial[i]);
    }
}

namespace {

// Echoes everything it receives, starting each next operation from the
// callback of the previous one, until the peer goes away.
struct echo_chain {
    nng_stream* s = nullptr;
    nng_aio* aio = nullptr;
    char buf[512];
    bool sending = false;
    std::mutex m;
    std::condition_variable cv;
    bool finished = false;
    int last = 0;

    static void cb(void* arg) {
        auto* e = static_cast<echo_chain*>(arg);
        int rv = nng_aio_result(e->aio);
        if (rv != 0) {
            std::lock_guard lk(e->m);
            e->finished = true;
            e->last = rv;
            e->cv.notify_all();
            return;
        }
        nng_iov iov{e->buf, e->sending ? sizeof e->buf : nng_aio_count(e->aio)};
        e->sending = !e->sending;
        nng_aio_set_iov(e->aio, 1, &iov);
        if (e->sending) {
            nng_stream_send(e->s, e->aio);
        } else {
            nng_stream_recv(e->s, e->aio);
        }
    }
};

} // namespace

TEST(TcpStream, CallbackStartsTheNextOperation) {
    stream_pair p;
    echo_chain e;
    e.s = p.srv;
    ASSERT_EQ(nng_aio_alloc(&e.aio, echo_chain::cb, &e), 0);
    nng_iov iov{e.buf, sizeof e.buf};
    nng_aio_set_iov(e.aio, 1, &iov);
    nng_stream_recv(p.srv, e.aio);
    for (int i = 0; i < 50; i++) {
        std::string msg = "message " + std::to_string(i);
        ASSERT_EQ(xfer_all(p.cli, true, msg.data(), msg.size()), 0);
        EXPECT_EQ(recv_string(p.cli, msg.size()), msg);
    }
    nng_stream_close(p.cli);
    {
        std::unique_lock lk(e.m);
        ASSERT_TRUE(e.cv.wait_for(lk, std::chrono::seconds(10), [&] { return e.finished; }));
        EXPECT_EQ(e.last, NNG_ECONNSHUT);
    }
    nng_aio_free(e.aio);
}

namespace {

// A TCP connection made by hand: the accepted end (non-blocking, as the
// listener makes them) and the connecting end (blocking), bytes and the
// connecting end's FIN already sent as asked before anything else happens.
struct raw_tcp {
    int srv = -1;
    int cli = -1;
    raw_tcp(const char* early, bool fin) {
        sockaddr_in sa{};
        int l = listen_loopback(1, sa);
        cli = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        EXPECT_EQ(::connect(cli, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        if (early != nullptr) {
            EXPECT_EQ(::send(cli, early, std::strlen(early), 0), static_cast<ssize_t>(std::strlen(early)));
        }
        if (fin) {
            ::shutdown(cli, SHUT_WR);
        }
        srv = ::accept4(l, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        EXPECT_GE(srv, 0);
        ::close(l);
        // Let the bytes and the FIN land before the stream is made.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ~raw_tcp() {
        if (cli >= 0) {
            ::close(cli);
        }
    }
    raw_tcp(const raw_tcp&) = delete;
    raw_tcp& operator=(const raw_tcp&) = delete;
};

// Makes a stream for fd on loop lp, on lp's own thread (as the listener does
// for a connection of its loop), and there, if first is given, starts that
// receive before the loop waits for events again.
nng_stream* stream_on_loop(nnghttp::detail::loop& lp, int fd, nng_aio* first) {
    std::promise<nng_stream*> made;
    asio::post(lp.context(), [&] {
        EXPECT_EQ(nnghttp::detail::loop::current(), &lp);
        auto* s = new nnghttp::detail::socket_stream(lp.context(), fd,
                                                     nnghttp::detail::socket_stream::kind::tcp);
        auto* ns = reinterpret_cast<nng_stream*>(static_cast<nnghttp::detail::stream*>(s));
        if (first != nullptr) {
            nng_stream_recv(ns, first);
        }
        made.set_value(ns);
    });
    return made.get_future().get();
}

} // namespace

// A stream made on its own loop does not try its first receive at once
// (under load a new connection's first bytes are rarely in yet when it is
// accepted): it waits for the reactor's first event, which registering the
// socket reports for bytes that are already there.  Nothing is lost by
// that: bytes (and the peer's end) in before the stream was made are read
// by a receive started right away on the loop or later from another
// thread, and bytes that come later wake a receive that waits.
TEST(TcpStream, AStreamMadeOnItsLoopReadsWhatCameBeforeIt) {
    auto& lp = nnghttp::detail::executor::global().next();
    char buf[64] = {};
    {
        SCOPED_TRACE("bytes in before, receive started on the loop at once");
        raw_tcp c("early", false);
        aio_box a;
        a.set_buf(buf, sizeof buf);
        nng_stream* s = stream_on_loop(lp, c.srv, a);
        ASSERT_EQ(a.wait(), 0);
        EXPECT_EQ(std::string(buf, nng_aio_count(a)), "early");
        nng_stream_free(s);
    }
    {
        SCOPED_TRACE("bytes in before, receive started later elsewhere");
        raw_tcp c("later", false);
        nng_stream* s = stream_on_loop(lp, c.srv, nullptr);
        std::this_thread::sleep_for(std::chrono::milliseconds(50)); // the loop saw the event
        size_t n = 0;
        ASSERT_EQ(one_xfer(s, false, buf, sizeof buf, &n), 0);
        EXPECT_EQ(std::string(buf, n), "later");
        nng_stream_free(s);
    }
    {
        SCOPED_TRACE("bytes and the end in before");
        raw_tcp c("bye", true);
        aio_box a;
        a.set_buf(buf, sizeof buf);
        nng_stream* s = stream_on_loop(lp, c.srv, a);
        ASSERT_EQ(a.wait(), 0);
        EXPECT_EQ(std::string(buf, nng_aio_count(a)), "bye");
        nng_stream_recv(s, a);
        EXPECT_EQ(a.wait(), NNG_ECONNSHUT);
        nng_stream_free(s);
    }
    {
        SCOPED_TRACE("nothing in before: the receive waits for the bytes");
        raw_tcp c(nullptr, false);
        aio_box a;
        a.set_buf(buf, sizeof buf);
        nng_stream* s = stream_on_loop(lp, c.srv, a);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        EXPECT_EQ(::send(c.cli, "hi", 2, 0), 2);
        ASSERT_EQ(a.wait(), 0);
        EXPECT_EQ(std::string(buf, nng_aio_count(a)), "hi");
        nng_stream_free(s);
    }
}

namespace {

// Connects n times to port from another thread, in bursts of 1-8 with
// pauses of 0-2 ms between them, closing each at once.
std::thread dial_in_bursts(int port, int n) {
    return std::thread([port, n] {
        std::mt19937 rng(7);
        sockaddr_in sa = loopback_addr(port);
        for (int done = 0; done < n;) {
            int burst = std::min(n - done, static_cast<int>(rng() % 8) + 1);
            for (int i = 0; i < burst; i++, done++) {
                int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
                ::close(fd);
            }
            std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
        }
    });
}

// Accepts from its own callback (on the listener's loop) until `want`
// streams are in or an accept fails.
struct accept_chain {
    nng_stream_listener* l = nullptr;
    nng_aio* aio = nullptr;
    int want = 0;
    std::mutex m;
    std::condition_variable cv;
    int got = 0;
    int last = 0;

    static void cb(void* arg) {
        auto* c = static_cast<accept_chain*>(arg);
        int rv = nng_aio_result(c->aio);
        if (rv == 0) {
            nng_stream_free(static_cast<nng_stream*>(nng_aio_get_output(c->aio, 0)));
        }
        std::lock_guard lk(c->m);
        if (rv == 0 && ++c->got < c->want) {
            nng_stream_listener_accept(c->l, c->aio);
            return;
        }
        c->last = rv;
        c->cv.notify_all();
    }
};

} // namespace

// Between finding the backlog empty and waiting for the next connection a
// listener on its own loop makes no system call (the reactor reports a
// connection that came in between at its next wait); from another thread
// the wait re-arms the socket.  Either way no connection waits for the
// next one to be noticed: every connection of bursty arrivals is accepted,
// with the accepts started from the accept callback (on the loop) and from
// a thread of the test.
TEST(TcpStream, EveryConnectionOfABurstyArrivalIsAccepted) {
    constexpr int n = 300;
    {
        SCOPED_TRACE("accepts started on the listener's loop");
        endpoint_pair ep;
        accept_chain c;
        c.l = ep.l;
        c.want = n;
        ASSERT_EQ(nng_aio_alloc(&c.aio, accept_chain::cb, &c), 0);
        nng_aio_set_timeout(c.aio, wait_ms);
        nng_stream_listener_accept(ep.l, c.aio);
        std::thread d = dial_in_bursts(bound_port(ep.l), n);
        {
            std::unique_lock lk(c.m);
            c.cv.wait_for(lk, std::chrono::milliseconds(wait_ms * 4),
                          [&] { return c.got == n || c.last != 0; });
            EXPECT_EQ(c.got, n);
            EXPECT_EQ(c.last, 0);
        }
        d.join();
        nng_aio_stop(c.aio);
        nng_aio_free(c.aio);
    }
    {
        SCOPED_TRACE("accepts started from another thread");
        endpoint_pair ep;
        std::thread d = dial_in_bursts(bound_port(ep.l), n);
        int got = 0;
        for (int i = 0; i < n; i++) {
            aio_box a;
            nng_stream_listener_accept(ep.l, a);
            int rv = a.wait();
            EXPECT_EQ(rv, 0) << "connection " << i;
            if (rv != 0) {
                break;
            }
            nng_stream_free(static_cast<nng_stream*>(nng_aio_get_output(a, 0)));
            got++;
        }
        EXPECT_EQ(got, n);
        d.join();
    }
}

// Bytes and the peer's reset that come in one event: the receive that takes
// the bytes learns from TCP_INQ that nothing is left (a reset is not
// counted there), yet the next receive must not wait for an edge that
// already came: it fails at once.  A server held such connections until its
// head timeout (one client could fill the connection table that way).
TEST(TcpStream, BytesThenAResetInOneEventFailTheNextReceiveAtOnce) {
    auto& lp = nnghttp::detail::executor::global().next();
    for (int round = 0; round < 5; round++) {
        SCOPED_TRACE(round);
        raw_tcp c(nullptr, false);
        int on = 1;
        ASSERT_EQ(::setsockopt(c.srv, IPPROTO_TCP, TCP_INQ, &on, sizeof on), 0);
        char buf[64] = {};
        aio_box a;
        a.set_buf(buf, sizeof buf);
        nng_stream* s = stream_on_loop(lp, c.srv, a); // waits for bytes
        // Hold the loop while the bytes and the reset both land, so that
        // one event reports them together.
        std::promise<void> holding;
        asio::post(lp.context(), [&] {
            holding.set_value();
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        });
        holding.get_future().wait();
        EXPECT_EQ(::send(c.cli, "GET / HTTP/1.1\r\nHo", 18, 0), 18);
        linger lg{1, 0};
        ASSERT_EQ(::setsockopt(c.cli, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
        ::close(c.cli);
        c.cli = -1;
        ASSERT_EQ(a.wait(), 0);
        EXPECT_EQ(std::string(buf, nng_aio_count(a)), "GET / HTTP/1.1\r\nHo");
        aio_box next;
        nng_aio_set_timeout(next, 3000);
        next.set_buf(buf, sizeof buf);
        auto start = std::chrono::steady_clock::now();
        nng_stream_recv(s, next);
        int rv = next.wait();
        EXPECT_NE(rv, NNG_ETIMEDOUT) << "the reset was lost: the receive waited for its timeout";
        EXPECT_TRUE(rv == NNG_ECONNRESET || rv == NNG_ECONNSHUT) << nng_strerror(rv);
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
        nng_stream_free(s);
    }
}
