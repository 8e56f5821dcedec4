// The HTTP server under concurrency: many clients on several threads,
// keep-alive with parking and waking, pipelining, handlers answering from
// other threads, idle timeouts, the connection cap, stop() while busy, and
// hijack.  Plain blocking sockets on loopback as the peer; runs under
// ThreadSanitizer too (scripts/test tsan).
#include "http/server.hpp"
#include "support/nng_test.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstring>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace std::chrono_literals;
using nnghttp::detail::http::server;
using nnghttp::detail::http::server_limits;

// A blocking client socket with a receive timeout.
class client {
  public:
    explicit client(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(static_cast<std::uint16_t>(port));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        timeval tv{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    }
    ~client() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    bool ok() const { return ok_; }
    int fd() const { return fd_; }
    bool send(std::string_view s) {
        while (!s.empty()) {
            ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            s.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    // Reads one response with a Content-Length body; "" on error or EOF.
    std::string response() {
        for (;;) {
            auto end = buf_.find("\r\n\r\n");
            if (end != std::string::npos) {
                std::size_t len = 0;
                auto cl = buf_.find("Content-Length: ");
                if (cl != std::string::npos && cl < end) {
                    len = std::stoul(buf_.substr(cl + 16));
                }
                if (buf_.size() >= end + 4 + len) {
                    std::string r = buf_.substr(0, end + 4 + len);
                    buf_.erase(0, end + 4 + len);
                    return r;
                }
            }
            char tmp[4096];
            ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
            if (n <= 0) {
                return {};
            }
            buf_.append(tmp, static_cast<std::size_t>(n));
        }
    }
    // Whether the server closes the connection within `within`.
    bool closed_within(std::chrono::milliseconds within) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(within.count())) <= 0) {
            return false;
        }
        char c;
        return ::recv(fd_, &c, 1, MSG_DONTWAIT) == 0;
    }

  private:
    int fd_ = -1;
    bool ok_ = false;
    std::string buf_;
};

const char* const get_static = "GET /static HTTP/1.1\r\nHost: t\r\n\r\n";

// Answers from a thread of its own, a little later (as a handler that
// waits for something would).
void late_cb(nng_aio* aio) {
    std::thread([aio] {
        std::this_thread::sleep_for(1ms);
        nng_http_res* res = nullptr;
        nng_http_res_alloc(&res);
        nng_http_res_copy_data(res, "late", 4);
        nng_aio_set_output(aio, 0, res);
        nng_aio_finish(aio, 0);
    }).detach();
}

// Takes the connection over and answers by hand on it.
void hijack_cb(nng_aio* aio) {
    auto* conn = static_cast<nng_http_conn*>(nng_aio_get_input(aio, 2));
    ASSERT_EQ(nng_http_hijack(conn), 0);
    nng_aio_finish(aio, 0);
    std::thread([conn] {
        nng_aio* a = nullptr;
        nng_aio_alloc(&a, nullptr, nullptr);
        char text[] = "raw bytes from the hijacker";
        nng_iov iov{text, sizeof text - 1};
        nng_aio_set_iov(a, 1, &iov);
        nng_http_conn_write_all(conn, a);
        nng_aio_wait(a);
        nng_aio_free(a);
        nng_http_conn_close(conn);
    }).detach();
}

class ServerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        nng_url* url = nullptr;
        ASSERT_EQ(nng_url_parse(&url, "http://127.0.0.1:0"), 0);
        ASSERT_EQ(nng_http_server_hold(&srv_, url), 0);
        nng_url_free(url);
        nng_http_handler* h = nullptr;
        ASSERT_EQ(nng_http_handler_alloc_static(&h, "/static", "Hello, world!", 13, "text/plain"), 0);
        ASSERT_EQ(nng_http_server_add_handler(srv_, h), 0);
        ASSERT_EQ(nng_http_handler_alloc(&h, "/late", late_cb), 0);
        ASSERT_EQ(nng_http_server_add_handler(srv_, h), 0);
        ASSERT_EQ(nng_http_handler_alloc(&h, "/echo", nnghttp::detail::test::echo_body_cb), 0);
        ASSERT_EQ(nng_http_handler_set_method(h, "POST"), 0);
        ASSERT_EQ(nng_http_server_add_handler(srv_, h), 0);
        ASSERT_EQ(nng_http_handler_alloc(&h, "/hijack", hijack_cb), 0);
        ASSERT_EQ(nng_http_server_add_handler(srv_, h), 0);
    }
    void TearDown() override {
        if (srv_ != nullptr) {
            nng_http_server_release(srv_);
        }
    }
    server& cxx() { return *reinterpret_cast<server*>(srv_); }
    int start() {
        EXPECT_EQ(nng_http_server_start(srv_), 0);
        nng_sockaddr sa{};
        EXPECT_EQ(nng_http_server_get_addr(srv_, &sa), 0);
        return ntohs(sa.s_in.sa_port);
    }
    nng_http_server* srv_ = nullptr;
};

TEST_F(ServerTest, ManyClientsKeepAliveAcrossThreads) {
    int port = start();
    constexpr int threads = 4;
    const int conns = nnghttp::detail::test::sanitized ? 8 : 16;
    const int rounds = nnghttp::detail::test::sanitized ? 10 : 40;
    std::atomic<int> good{0}, bad{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++) {
        ts.emplace_back([&, t] {
            std::vector<std::unique_ptr<client>> cs;
            for (int i = 0; i < conns; i++) {
                cs.push_back(std::make_unique<client>(port));
            }
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < conns; i++) {
                    client& c = *cs[static_cast<std::size_t>(i)];
                    // Mix: static, a handler answering from another thread,
                    // a POST with a body; every connection parks in between.
                    int kind = (r + i + t) % 3;
                    std::string want;
                    if (kind == 0) {
                        c.send(get_static);
                        want = "Hello, world!";
                    } else if (kind == 1) {
                        c.send("GET /late HTTP/1.1\r\nHost: t\r\n\r\n");
                        want = "late";
                    } else {
                        want = "body " + std::to_string(r * 1000 + i);
                        c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                               std::to_string(want.size()) + "\r\n\r\n" + want);
                    }
                    std::string res = c.response();
                    if (res.rfind("HTTP/1.1 200 ", 0) == 0 && res.size() >= want.size() &&
                        res.compare(res.size() - want.size(), want.size(), want) == 0) {
                        good++;
                    } else {
                        bad++;
                    }
                }
            }
        });
    }
    for (auto& t : ts) {
        t.join();
    }
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(good.load(), threads * conns * rounds);
}

TEST_F(ServerTest, PipelinedRequestsAnsweredInOrder) {
    int port = start();
    client c(port);
    std::string batch;
    for (int i = 0; i < 20; i++) {
        if (i % 2 == 0) {
            batch += get_static;
        } else {
            std::string b = "n" + std::to_string(i);
            batch += "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(b.size()) +
                     "\r\n\r\n" + b;
        }
    }
    ASSERT_TRUE(c.send(batch));
    for (int i = 0; i < 20; i++) {
        std::string res = c.response();
        ASSERT_EQ(res.rfind("HTTP/1.1 200 ", 0), 0u) << i;
        std::string want = i % 2 == 0 ? "Hello, world!" : "n" + std::to_string(i);
        EXPECT_EQ(res.substr(res.size() - want.size()), want) << i;
    }
}

// A parked connection receives the first bytes of its next request into a
// small buffer of its record (128 bytes): heads and bodies longer than
// that, heads that arrive in pieces, and a request cut exactly at that
// size all come through whole.
TEST_F(ServerTest, ParkedConnectionsGetLongAndSplitRequestsWhole) {
    int port = start();
    client c(port);
    ASSERT_TRUE(c.ok());
    auto echo = [](const std::string& body, const std::string& extra = {}) {
        return "POST /echo HTTP/1.1\r\nHost: t\r\n" + extra +
               "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    };
    auto check = [&](const std::string& want, int step) {
        std::string res = c.response();
        ASSERT_EQ(res.rfind("HTTP/1.1 200 ", 0), 0u) << step << ": " << res;
        ASSERT_GE(res.size(), want.size()) << step;
        EXPECT_EQ(res.substr(res.size() - want.size()), want) << step;
    };
    // Between requests the connection parks; each request waits until then.
    std::string body(3000, 'b');
    for (std::size_t i = 0; i < body.size(); i++) {
        body[i] = static_cast<char>('a' + i % 26);
    }
    std::string long_head = "X-Padding: " + std::string(4000, 'p') + "\r\n";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {echo("short"), "short"},
        {echo(body), body},                    // body beyond the buffer
        {echo("x", long_head), "x"},           // head beyond the buffer
    };
    int step = 0;
    for (const auto& [req, want] : cases) {
        std::this_thread::sleep_for(20ms); // parked by now
        ASSERT_TRUE(c.send(req));
        check(want, step++);
    }
    // The same requests in pieces, cut at every size around the buffer's.
    for (std::size_t cut : {1u, 10u, 127u, 128u, 129u, 200u}) {
        std::string req = echo(body);
        std::this_thread::sleep_for(10ms);
        ASSERT_TRUE(c.send(req.substr(0, cut)));
        std::this_thread::sleep_for(10ms);
        ASSERT_TRUE(c.send(req.substr(cut)));
        check(body, static_cast<int>(cut));
    }
    // A request of exactly 128 bytes, then one that follows it at once.
    std::string pad = "X-P: ";
    std::string exact = echo("e", pad + "\r\n");
    exact = echo("e", pad + std::string(128 - exact.size(), 'q') + "\r\n");
    ASSERT_EQ(exact.size(), 128u);
    std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(c.send(exact + get_static));
    check("e", 1000);
    check("Hello, world!", 1001);
}

TEST_F(ServerTest, IdleAndHeadTimeoutsCloseOnlyTheSlowClient) {
    server_limits l = cxx().limits();
    EXPECT_EQ(l.head_timeout, 30000) << "defaults: head <= 30 s";
    EXPECT_EQ(l.idle_timeout, 60000) << "idle <= 60 s";
    l.head_timeout = 300;
    l.idle_timeout = 400;
    cxx().set_limits(l);
    int port = start();

    client idle(port);
    ASSERT_TRUE(idle.send(get_static));
    ASSERT_NE(idle.response(), "");
    client slow(port);
    ASSERT_TRUE(slow.send("GET /static HTTP/1.1\r\nHo")); // never finishes
    client busy(port);
    auto t0 = std::chrono::steady_clock::now();
    // A client that keeps asking is served all along.
    while (std::chrono::steady_clock::now() - t0 < 250ms) {
        ASSERT_TRUE(busy.send(get_static));
        ASSERT_NE(busy.response(), "");
    }
    EXPECT_TRUE(slow.closed_within(2000ms)) << "slowloris dropped after head_timeout";
    EXPECT_TRUE(idle.closed_within(2000ms)) << "idle keep-alive closed after idle_timeout";
    auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(waited, 300ms);
    ASSERT_TRUE(busy.send(get_static));
    EXPECT_NE(busy.response(), "") << "the busy client is still served";
}

TEST_F(ServerTest, IdleTimeoutShorterThanHeadTimeout) {
    // The sweep armed for a fresh connection's (long) head timeout must be
    // brought forward for the (short) idle timeout that follows.
    server_limits l = cxx().limits();
    l.head_timeout = 5000;
    l.idle_timeout = 300;
    cxx().set_limits(l);
    int port = start();
    client c(port);
    ASSERT_TRUE(c.send(get_static));
    ASSERT_NE(c.response(), "");
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.closed_within(2000ms));
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 2000ms);
}

TEST_F(ServerTest, ConnectionCapAnswers503) {
    server_limits l = cxx().limits();
    l.max_connections = 3;
    cxx().set_limits(l);
    int port = start();
    std::vector<std::unique_ptr<client>> held;
    for (int i = 0; i < 3; i++) {
        held.push_back(std::make_unique<client>(port));
        ASSERT_TRUE(held.back()->send(get_static));
        ASSERT_NE(held.back()->response(), "");
    }
    client extra(port);
    std::string r = extra.response();
    EXPECT_EQ(r.rfind("HTTP/1.1 503 ", 0), 0u) << r;
    EXPECT_TRUE(extra.closed_within(2000ms));
    // The others are unaffected; once one goes, a newcomer is served.
    ASSERT_TRUE(held[0]->send(get_static));
    EXPECT_NE(held[0]->response(), "");
    held.pop_back();
    bool served = false;
    std::unique_ptr<client> again; // kept open: it is the third connection
    for (int i = 0; i < 100 && !served; i++) { // the close takes a moment to be seen
        again = std::make_unique<client>(port);
        again->send(get_static);
        served = again->response().rfind("HTTP/1.1 200 ", 0) == 0;
        if (!served) {
            std::this_thread::sleep_for(10ms);
        }
    }
    EXPECT_TRUE(served);
    EXPECT_EQ(cxx().connections(), 3u);
}

TEST_F(ServerTest, StopWhileBusyThenStartAgain) {
    int port = start();
    std::vector<std::unique_ptr<client>> cs;
    for (int i = 0; i < 10; i++) {
        cs.push_back(std::make_unique<client>(port));
        if (i % 2 == 0) {
            ASSERT_TRUE(cs.back()->send(get_static)); // then parked
            ASSERT_NE(cs.back()->response(), "");
        } else {
            ASSERT_TRUE(cs.back()->send("GET /late HTTP/1.1\r\nHost: t\r\n\r\n"));
        }
    }
    nng_http_server_stop(srv_);
    for (auto& c : cs) {
        // A late answer may still make it out; then the connection closes.
        c->response();
        EXPECT_TRUE(c->closed_within(3000ms));
    }
    for (int i = 0; i < 200 && cxx().connections() != 0; i++) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(cxx().connections(), 0u);
    int port2 = start();
    client c(port2);
    ASSERT_TRUE(c.send(get_static));
    EXPECT_EQ(c.response().rfind("HTTP/1.1 200 ", 0), 0u);
}

TEST_F(ServerTest, HijackHandsTheConnectionOver) {
    int port = start();
    client c(port);
    ASSERT_TRUE(c.send("GET /hijack HTTP/1.1\r\nHost: t\r\n\r\n"));
    std::string got;
    char buf[256];
    for (;;) {
        ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        got.append(buf, static_cast<std::size_t>(n));
    }
    EXPECT_EQ(got, "raw bytes from the hijacker") << "no HTTP response from the server";
    for (int i = 0; i < 200 && cxx().connections() != 0; i++) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(cxx().connections(), 0u) << "the server let go of it";
}

} // namespace
