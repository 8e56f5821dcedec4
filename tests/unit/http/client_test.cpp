// The HTTP client (transact, connect) and the streaming body_reader, against
// a scripted raw-socket server on loopback that sends exactly the bytes
// each case needs: every body framing, interim responses, a stall, a close
// in mid-body, a body over the limit.  Also runs under ThreadSanitizer.
#include "http/client.hpp"
#include "support/nng_test.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using nnghttp::detail::test::pattern;
namespace http = nnghttp::detail::http;

// Accepts connections one after another on its own thread; for each, reads
// a request head and lets `answer` write whatever it wants to the socket.
class script_server {
  public:
    using answer_fn = std::function<void(int fd, const std::string& head)>;
    explicit script_server(answer_fn f) : answer_(std::move(f)) {
        lfd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(lfd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        ::listen(lfd_, 16);
        socklen_t len = sizeof sa;
        ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&sa), &len);
        port_ = ntohs(sa.sin_port);
        thr_ = std::thread([this] { run(); });
    }
    ~script_server() {
        stop_ = true;
        ::shutdown(lfd_, SHUT_RDWR);
        if (int fd = cur_.load(); fd >= 0) {
            ::shutdown(fd, SHUT_RDWR); // a client still connected
        }
        thr_.join();
        ::close(lfd_);
    }
    std::string url(const char* path = "/") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    int accepted() const { return accepted_.load(); }

  private:
    void run() {
        while (!stop_) {
            int fd = ::accept4(lfd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                return;
            }
            accepted_++;
            cur_ = fd;
            timeval tv{5, 0};
            ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            std::string buf;
            for (;;) { // requests on this connection, until it closes
                auto end = buf.find("\r\n\r\n");
                if (end == std::string::npos) {
                    char tmp[4096];
                    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
                    if (n <= 0) {
                        break;
                    }
                    buf.append(tmp, static_cast<std::size_t>(n));
                    continue;
                }
                std::string head = buf.substr(0, end + 4);
                buf.erase(0, end + 4);
                answer_(fd, head);
            }
            cur_ = -1;
            ::close(fd);
        }
    }
    answer_fn answer_;
    int lfd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
    std::atomic<int> cur_{-1};
    std::thread thr_;
};

void put(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            return;
        }
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

struct result {
    int rv = -1;
    int status = 0;
    std::string body;
};

// One nng_http_conn_transact (or client transact when conn is null).
result transact(nng_http_client* cli, nng_http_conn* conn, const std::string& url,
                const char* method = "GET", nng_duration timeout = 5000) {
    nng_url* u = nullptr;
    EXPECT_EQ(nng_url_parse(&u, url.c_str()), 0);
    nng_http_req* req = nullptr;
    nng_http_req_alloc(&req, u);
    nng_http_req_set_method(req, method);
    nng_http_res* res = nullptr;
    nng_http_res_alloc(&res);
    nng_aio* aio = nullptr;
    nng_aio_alloc(&aio, nullptr, nullptr);
    nng_aio_set_timeout(aio, timeout);
    if (conn != nullptr) {
        nng_http_conn_transact(conn, req, res, aio);
    } else {
        nng_http_client_transact(cli, req, res, aio);
    }
    nng_aio_wait(aio);
    result r;
    r.rv = nng_aio_result(aio);
    r.status = nng_http_res_get_status(res);
    void* d = nullptr;
    size_t n = 0;
    nng_http_res_get_data(res, &d, &n);
    r.body.assign(static_cast<char*>(d), n);
    nng_aio_free(aio);
    nng_http_res_free(res);
    nng_http_req_free(req);
    nng_url_free(u);
    return r;
}

class ClientTest : public ::testing::Test {
  protected:
    void open(const script_server& s) {
        if (cli_ != nullptr) {
            nng_http_client_free(cli_);
            cli_ = nullptr;
        }
        nng_url* u = nullptr;
        ASSERT_EQ(nng_url_parse(&u, s.url().c_str()), 0);
        ASSERT_EQ(nng_http_client_alloc(&cli_, u), 0);
        nng_url_free(u);
        nng_aio* aio = nullptr;
        nng_aio_alloc(&aio, nullptr, nullptr);
        nng_aio_set_timeout(aio, 5000);
        nng_http_client_connect(cli_, aio);
        nng_aio_wait(aio);
        ASSERT_EQ(nng_aio_result(aio), 0);
        conn_ = static_cast<nng_http_conn*>(nng_aio_get_output(aio, 0));
        nng_aio_free(aio);
    }
    void TearDown() override {
        if (conn_ != nullptr) {
            nng_http_conn_close(conn_);
        }
        if (cli_ != nullptr) {
            nng_http_client_free(cli_);
        }
    }
    nng_http_client* cli_ = nullptr;
    nng_http_conn* conn_ = nullptr;
};

TEST_F(ClientTest, EveryFramingOnOneKeepAliveConnection) {
    const std::string big = pattern(300000);
    script_server s([&](int fd, const std::string& head) {
        if (head.find("GET /length ") == 0) {
            put(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        } else if (head.find("GET /chunked ") == 0) {
            // Extensions, a split across chunks, and trailers (dropped).
            put(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "4;name=value\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: yes\r\n\r\n");
        } else if (head.find("GET /big-chunked ") == 0) {
            put(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (std::size_t off = 0; off < big.size(); off += 7000) {
                std::size_t n = std::min<std::size_t>(7000, big.size() - off);
                char line[32];
                std::snprintf(line, sizeof line, "%zx\r\n", n);
                put(fd, line);
                put(fd, std::string_view(big).substr(off, n));
                put(fd, "\r\n");
            }
            put(fd, "0\r\n\r\n");
        } else if (head.find("HEAD /length ") == 0) {
            put(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"); // no body follows
        } else if (head.find("GET /nocontent ") == 0) {
            put(fd, "HTTP/1.1 204 No Content\r\n\r\n");
        } else if (head.find("GET /notmod ") == 0) {
            put(fd, "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n");
        } else if (head.find("GET /interim ") == 0) {
            put(fd, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal");
        } else {
            put(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
    });
    open(s);
    struct {
        const char* path;
        const char* method;
        int status;
        std::string body;
    } cases[] = {
        {"/length", "GET", 200, "hello"},     {"/chunked", "GET", 200, "Wikipedia"},
        {"/length", "HEAD", 200, ""},         {"/nocontent", "GET", 204, ""},
        {"/notmod", "GET", 304, ""},          {"/interim", "GET", 200, "final"},
        {"/big-chunked", "GET", 200, big},    {"/length", "GET", 200, "hello"},
    };
    for (auto& c : cases) {
        result r = transact(cli_, conn_, s.url(c.path), c.method);
        EXPECT_EQ(r.rv, 0) << c.method << " " << c.path;
        EXPECT_EQ(r.status, c.status) << c.path;
        EXPECT_TRUE(r.body == c.body) << c.path << ": " << r.body.size() << " bytes";
    }
    EXPECT_EQ(s.accepted(), 1) << "one TCP connection for every transaction";
}

TEST_F(ClientTest, BodyUntilCloseAndClientTransact) {
    const std::string body = pattern(100000, 7);
    script_server s([&](int fd, const std::string& head) {
        EXPECT_NE(head.find("Connection: close"), std::string::npos) << "client transact asks to close";
        put(fd, "HTTP/1.0 200 OK\r\n\r\n");
        put(fd, body);
        ::shutdown(fd, SHUT_WR);
    });
    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, s.url().c_str()), 0);
    ASSERT_EQ(nng_http_client_alloc(&cli_, u), 0);
    nng_url_free(u);
    for (int i = 0; i < 3; i++) {
        result r = transact(cli_, nullptr, s.url("/x"));
        EXPECT_EQ(r.rv, 0);
        EXPECT_EQ(r.status, 200);
        EXPECT_TRUE(r.body == body) << r.body.size();
    }
    EXPECT_EQ(s.accepted(), 3) << "a fresh connection for each client transact";
}

TEST_F(ClientTest, ErrorsStallCloseMidBodyLimitRefused) {
    script_server s([&](int fd, const std::string& head) {
        if (head.find("GET /stall ") == 0) {
            return; // never answers
        }
        if (head.find("GET /cut ") == 0) {
            put(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this");
            ::shutdown(fd, SHUT_RDWR);
            return;
        }
        if (head.find("GET /huge ") == 0) {
            put(fd, "HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n");
            return;
        }
        put(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    open(s);
    auto t0 = std::chrono::steady_clock::now();
    result r = transact(cli_, conn_, s.url("/stall"), "GET", 300);
    EXPECT_EQ(r.rv, NNG_ETIMEDOUT);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    EXPECT_EQ(transact(cli_, conn_, s.url("/ok")).rv, NNG_ECLOSED) << "the conn closed on error";
    nng_http_conn_close(conn_);
    conn_ = nullptr;

    open(s);
    r = transact(cli_, conn_, s.url("/cut"));
    EXPECT_EQ(r.rv, NNG_ECONNSHUT);
    nng_http_conn_close(conn_);
    conn_ = nullptr;

    open(s);
    r = transact(cli_, conn_, s.url("/huge"));
    EXPECT_EQ(r.rv, NNG_EMSGSIZE) << "over the response limit: refused before allocating";
    nng_http_conn_close(conn_);
    conn_ = nullptr;

    // Nobody listens on the port of a closed listener.
    int port;
    {
        script_server gone([](int, const std::string&) {});
        port = std::stoi(gone.url().substr(17));
    }
    nng_http_client* c2 = nullptr;
    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, ("http://127.0.0.1:" + std::to_string(port)).c_str()), 0);
    ASSERT_EQ(nng_http_client_alloc(&c2, u), 0);
    nng_url_free(u);
    nng_aio* aio = nullptr;
    nng_aio_alloc(&aio, nullptr, nullptr);
    nng_http_client_connect(c2, aio);
    nng_aio_wait(aio);
    EXPECT_EQ(nng_aio_result(aio), NNG_ECONNREFUSED);
    nng_aio_free(aio);
    nng_http_client_free(c2);
}

TEST_F(ClientTest, CancelInFlight) {
    script_server s([](int, const std::string&) {}); // never answers
    open(s);
    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, s.url("/").c_str()), 0);
    nng_http_req* req = nullptr;
    nng_http_req_alloc(&req, u);
    nng_http_res* res = nullptr;
    nng_http_res_alloc(&res);
    nng_aio* aio = nullptr;
    nng_aio_alloc(&aio, nullptr, nullptr);
    nng_http_conn_transact(conn_, req, res, aio);
    std::this_thread::sleep_for(20ms);
    nng_aio_cancel(aio);
    nng_aio_wait(aio);
    EXPECT_EQ(nng_aio_result(aio), NNG_ECANCELED);
    nng_aio_free(aio);
    nng_http_res_free(res);
    nng_http_req_free(req);
    nng_url_free(u);
}

TEST(ClientAlloc, Schemes) {
    nng_url* u = nullptr;
    nng_http_client* c = nullptr;
    ASSERT_EQ(nng_url_parse(&u, "tcp://127.0.0.1:80"), 0);
    EXPECT_EQ(nng_http_client_alloc(&c, u), NNG_EADDRINVAL);
    nng_url_free(u);
    ASSERT_EQ(nng_url_parse(&u, "https://127.0.0.1:443"), 0);
    EXPECT_EQ(nng_http_client_alloc(&c, u), 0) << "https: a default client TLS config";
    nng_http_client_free(c);
    nng_url_free(u);
}

// The streaming path: a 64 MiB chunked body (32 MiB under sanitizers) read
// through a 4 KiB buffer, checked on the fly; the reader keeps one 16 KiB
// buffer whatever the size.
TEST(BodyReader, StreamsLargeChunkedBodyInConstantMemory) {
    const std::size_t total = (nnghttp::detail::test::sanitized ? 32u : 64u) << 20;
    const std::string block = pattern(65536, 3);
    script_server s([&](int fd, const std::string&) {
        put(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (std::size_t off = 0; off < total; off += block.size()) {
            put(fd, "10000;ext=1\r\n");
            put(fd, block);
            put(fd, "\r\n");
        }
        put(fd, "0\r\nTrailer: x\r\n\r\n");
        put(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnex");
    });
    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, s.url().c_str()), 0);
    nnghttp::detail::http::client* cl = nullptr;
    ASSERT_EQ(http::client::create(*u, cl), 0);
    nnghttp::detail::aio a(nullptr, nullptr);
    a.set_timeout(10000);
    cl->connect(&a);
    a.wait();
    ASSERT_EQ(a.result(), 0);
    auto* c = static_cast<http::conn*>(a.output(0));
    http::request req;
    req.set_uri("/");
    req.headers().set("Host", "t");
    c->write_req(req, &a);
    a.wait();
    ASSERT_EQ(a.result(), 0);
    http::response res;
    c->read_res(res, &a);
    a.wait();
    ASSERT_EQ(a.result(), 0);
    ASSERT_EQ(res.status(), 200);
    {
        http::body_reader br(*c);
        char buf[4096];
        std::size_t got = 0;
        bool same = true;
        while (!br.done()) {
            nng_iov iov{buf, sizeof buf};
            ASSERT_EQ(a.set_iov(1, &iov), 0);
            br.read(&a);
            a.wait();
            ASSERT_EQ(a.result(), 0);
            std::size_t n = a.count();
            for (std::size_t i = 0; i < n && same; i++) {
                same = buf[i] == block[(got + i) % block.size()];
            }
            got += n;
            if (n == 0) {
                EXPECT_TRUE(br.done());
            }
        }
        EXPECT_TRUE(same) << "bytes differ";
        EXPECT_EQ(got, total);
    }
    // What followed the body is the next response, intact.
    http::response next;
    c->read_res(next, &a);
    a.wait();
    ASSERT_EQ(a.result(), 0);
    EXPECT_EQ(next.status(), 200);
    EXPECT_EQ(c->last_content_length(), 3);
    c->close();
    c->release();
    cl->release();
    nng_url_free(u);
}

} // namespace
