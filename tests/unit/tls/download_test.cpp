// Bulk data out of our TLS streams to OpenSSL clients over loopback, read
// at different speeds: many https downloads of a file from our server, and
// many sends queued at once on a tls+tcp:// stream.  Every read is
// bounded: a transfer whose bytes stop coming for two seconds fails at
// once with how far it got, instead of hanging until a send timeout.
//
// Two faults of the TLS send path showed here (tests/unit/tls/
// backlog_test.cpp lays out each order of events): a writer waiting at the
// 64 KiB bound lost its wake-up, which stalled about one download in ten
// of a few MiB in the middle of the file; and a send completed before its
// ciphertext had gone, so that the server's close after its last answer
// cut up to the last 64 KiB of a download with Connection: close.
#include "support/nng_test.hpp"
#include "support/tls_material.hpp"
#include "tls/config.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <gtest/gtest.h>
#include <memory>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using nnghttp::detail::test::aio_box;
using nnghttp::detail::test::material;
using nnghttp::detail::test::pattern;
using nnghttp::detail::test::sanitized;
using nnghttp::detail::tls::config;
using nnghttp::detail::tls::mode;

// How a client reads: fast takes 64 KiB per read; slow has a small
// receive buffer, takes 4 KiB per read and pauses now and then, so that
// the server's socket fills and its sends go out a piece at a time.
enum class reader { fast, slow };

const char* name(reader how) {
    return how == reader::fast ? "fast" : "slow";
}

// An OpenSSL client on a blocking socket whose reads and writes give up
// after two seconds without progress.
class client {
  public:
    client(SSL_CTX* ctx, int port, reader how) : how_(how) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) {
            err_ = "socket";
            return;
        }
        if (how == reader::slow) {
            int rcvbuf = 8192; // before connect, so that the window is small
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        }
        timeval bound{2, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(static_cast<std::uint16_t>(port));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
            err_ = "connect";
            return;
        }
        ssl_ = SSL_new(ctx);
        SSL_set_fd(ssl_, fd_);
        SSL_set1_host(ssl_, "localhost");
        if (SSL_connect(ssl_) != 1) {
            err_ = "handshake";
        }
    }
    ~client() {
        SSL_free(ssl_);
        if (fd_ >= 0) {
            ::close(fd_);
        }
        ERR_clear_error();
    }
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // "" while all went well, else the first thing that did not.
    const std::string& error() const { return err_; }

    void write(const std::string& s) {
        if (err_.empty() &&
            SSL_write(ssl_, s.data(), static_cast<int>(s.size())) != static_cast<int>(s.size())) {
            err_ = "write";
        }
    }

    // Reads into out until done(out) says enough; false (and error())
    // if the bytes stop coming first.
    template <typename Done> bool read_until(std::string& out, Done done) {
        std::vector<char> buf(how_ == reader::fast ? 65536 : 4096);
        unsigned reads = 0;
        while (err_.empty() && !done(out)) {
            int n = SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
            if (n <= 0) {
                // Stalled: the bound passed without a byte; cut: the
                // connection ended early.
                int e = SSL_get_error(ssl_, n);
                bool stalled = e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK);
                err_ = stalled ? "stalled" : "cut";
                return false;
            }
            out.append(buf.data(), static_cast<std::size_t>(n));
            if (how_ == reader::slow && ++reads % 8 == 0) {
                std::this_thread::sleep_for(std::chrono::microseconds(300));
            }
        }
        return err_.empty();
    }

  private:
    reader how_;
    int fd_ = -1;
    SSL* ssl_ = nullptr;
    std::string err_;
};

// One GET of path on a new connection to 127.0.0.1:port; "" when the
// whole body arrived and equals want, else what went wrong.
std::string download(SSL_CTX* ctx, int port, const std::string& path, const std::string& want,
                     reader how, bool close) {
    client c(ctx, port, how);
    c.write("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" +
            (close ? "Connection: close\r\n" : "") + "\r\n");
    std::string got;
    std::size_t body_at = std::string::npos;
    std::size_t length = 0;
    bool ok = c.read_until(got, [&](const std::string& s) {
        if (body_at == std::string::npos) {
            std::size_t end = s.find("\r\n\r\n");
            if (end == std::string::npos) {
                return false;
            }
            body_at = end + 4;
            std::size_t cl = s.find("Content-Length: ");
            if (s.compare(0, 12, "HTTP/1.1 200") != 0 || cl == std::string::npos || cl > end) {
                return true; // not an answer to read on
            }
            length = std::stoul(s.substr(cl + 16));
        }
        return s.size() - body_at >= length;
    });
    std::size_t body = body_at == std::string::npos ? 0 : got.size() - body_at;
    if (!ok) {
        return c.error() + " after " + std::to_string(body) + " body bytes of " +
               std::to_string(length);
    }
    if (length != want.size() || got.compare(body_at, std::string::npos, want) != 0) {
        return "the answer differs from the file: " +
               got.substr(0, std::min<std::size_t>(body_at, 200));
    }
    return "";
}

// A client configuration trusting the test CA, and its context.
class client_ctx {
  public:
    client_ctx() {
        EXPECT_EQ(config::create(mode::client, cfg_), 0);
        EXPECT_EQ(cfg_->set_ca_file(material::get().path("ca.crt").c_str()), 0);
    }
    ~client_ctx() { cfg_->release(); }
    client_ctx(const client_ctx&) = delete;
    client_ctx& operator=(const client_ctx&) = delete;
    SSL_CTX* get() { return cfg_->use(); }

  private:
    config* cfg_ = nullptr;
};

nng_tls_config* server_config() {
    nng_tls_config* c = nullptr;
    EXPECT_EQ(nng_tls_config_alloc(&c, NNG_TLS_MODE_SERVER), 0);
    EXPECT_EQ(nng_tls_config_cert_key_file(c, material::get().path("server.pem").c_str(), nullptr),
              0);
    return c;
}

TEST(TlsDownloads, ManyDownloadsOfAFileByFastAndSlowReadersAllComplete) {
    ASSERT_TRUE(material::get().ok());
    // Large enough that each download meets a full socket many times;
    // smaller under the sanitizers, which are ten times slower.
    const std::size_t size = sanitized ? (2u << 20) + 333 : (6u << 20) + 333;
    const int per_client = sanitized ? 4 : 10;
    const int clients = 4;
    const std::string body = pattern(size, 5);
    const std::string file = material::get().path("download.bin");
    {
        FILE* f = std::fopen(file.c_str(), "wb");
        ASSERT_NE(f, nullptr);
        ASSERT_EQ(std::fwrite(body.data(), 1, body.size(), f), body.size());
        std::fclose(f);
    }

    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, "https://127.0.0.1:0"), 0);
    nng_http_server* srv = nullptr;
    ASSERT_EQ(nng_http_server_hold(&srv, u), 0);
    nng_url_free(u);
    nng_tls_config* scfg = server_config();
    ASSERT_EQ(nng_http_server_set_tls(srv, scfg), 0);
    nng_tls_config_free(scfg);
    nng_http_handler* h = nullptr;
    ASSERT_EQ(nng_http_handler_alloc_file(&h, "/file", file.c_str()), 0);
    ASSERT_EQ(nng_http_server_add_handler(srv, h), 0);
    ASSERT_EQ(nng_http_server_start(srv), 0);
    nng_sockaddr sa{};
    ASSERT_EQ(nng_http_server_get_addr(srv, &sa), 0);
    const int port = ntohs(sa.s_in.sa_port);

    // Each client alternates fast and slow downloads, with and without
    // Connection: close; the clients start on different kinds.  Each has
    // its own OpenSSL context: a shared one is safe for OpenSSL, but its
    // internal locking is not visible to ThreadSanitizer (libcrypto is not
    // instrumented), which then reports races in the client's session and
    // certificate caches that are not ours.
    std::vector<std::vector<std::string>> failures(clients);
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; c++) {
        threads.emplace_back([&, c] {
            client_ctx ctx;
            for (int i = 0; i < per_client; i++) {
                reader how = (c + i) % 2 == 0 ? reader::fast : reader::slow;
                bool close = (c + i / 2) % 2 == 0;
                std::string e = download(ctx.get(), port, "/file", body, how, close);
                if (!e.empty()) {
                    failures[c].push_back(std::string(name(how)) + (close ? " closing" : "") +
                                          " download " + std::to_string(i) + ": " + e);
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    int failed = 0;
    for (const auto& list : failures) {
        for (const auto& f : list) {
            ADD_FAILURE() << f;
            failed++;
        }
    }
    EXPECT_EQ(failed, 0) << "of " << clients * per_client << " downloads of " << size << " bytes";
    nng_http_server_release(srv);
}

// Sends queued eight at a time on a tls+tcp:// stream (the stream API
// allows several outstanding), to a fast and then a slow reader: more
// than four records' worth wait at the 64 KiB bound at once, round after
// round, and every send completes in order with all its bytes.
TEST(TlsDownloads, SendsQueuedManyAtATimeToFastAndSlowReadersAllComplete) {
    ASSERT_TRUE(material::get().ok());
    nng_stream_listener* l = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, "tls+tcp://127.0.0.1:0"), 0);
    nng_tls_config* scfg = server_config();
    ASSERT_EQ(nng_stream_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, scfg), 0);
    nng_tls_config_free(scfg);
    ASSERT_EQ(nng_stream_listener_listen(l), 0);
    int port = 0;
    ASSERT_EQ(nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
    client_ctx ctx;

    constexpr std::size_t record = 16 * 1024;
    constexpr int at_once = 8;
    const int rounds = sanitized ? 16 : 64;
    const std::string data = pattern(record * at_once * static_cast<std::size_t>(rounds), 8);
    for (reader how : {reader::fast, reader::slow}) {
        aio_box acc;
        nng_stream_listener_accept(l, acc);
        std::string got;
        std::string client_error;
        std::thread reader_thread([&] {
            client c(ctx.get(), port, how);
            c.read_until(got, [&](const std::string& s) { return s.size() >= data.size(); });
            client_error = c.error();
        });
        ASSERT_EQ(acc.wait(), 0);
        auto* ss = static_cast<nng_stream*>(nng_aio_get_output(acc, 0));
        int failed = 0;
        for (int r = 0; r < rounds && failed == 0; r++) {
            std::vector<std::unique_ptr<aio_box>> sends;
            for (int k = 0; k < at_once; k++) {
                sends.push_back(std::make_unique<aio_box>());
                sends.back()->timeout(5000);
                std::size_t off = (static_cast<std::size_t>(r) * at_once + k) * record;
                sends.back()->set_buf(const_cast<char*>(data.data()) + off, record);
                nng_stream_send(ss, *sends.back());
            }
            for (int k = 0; k < at_once; k++) {
                int rv = sends[k]->wait();
                if (rv != 0 || sends[k]->count() != record) {
                    ADD_FAILURE() << name(how) << " reader, round " << r << ", send " << k
                                  << ": result " << rv << ", " << sends[k]->count() << " bytes";
                    failed++;
                }
            }
        }
        reader_thread.join();
        nng_stream_free(ss);
        if (failed == 0) {
            EXPECT_EQ(client_error, "") << name(how) << " reader";
            EXPECT_EQ(got.size(), data.size()) << name(how) << " reader";
            EXPECT_TRUE(got == data) << name(how) << " reader";
        }
    }
    nng_stream_listener_free(l);
}

} // namespace
