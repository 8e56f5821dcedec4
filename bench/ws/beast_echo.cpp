// bench/ws/beast_echo.cpp: a WebSocket echo server on Boost.Beast (Debian's
// libboost-dev: header-only Beast and Asio), the Beast side of
// bench/ws/run.sh.
//
//   beast_echo [--deflate [--deflate-level N] [--deflate-mem-level N]] PORT
//       listens on 127.0.0.1:PORT (0: any port), any path; prints
//       "listening on PORT", echoes every message with its own type (text or
//       binary) until SIGTERM or SIGINT, then exits 0.
//
// --deflate turns on Beast's permessage-deflate (RFC 7692) in the server
// role: server_enable, both window sizes up to 15 bits, context takeover
// allowed both ways (the client's offer decides), and every message sent
// compressed when the client negotiated it.  Beast's own defaults for its
// deflate are compression level 8 and memLevel 4; this server uses zlib's,
// level 6 and memLevel 8, unless told otherwise, and prints what it uses as
// its second line:
//   permessage-deflate: level 6, memLevel 8, server/client window bits 15/15,
//   context takeover allowed
//
// Written as a strong baseline: one io_context run by one thread (the
// benchmark pins the server to one core) with concurrency hint 1, plain
// tcp::socket under the websocket stream (no beast::tcp_stream timers),
// TCP_NODELAY, messages up to 2 MiB, one frame per message
// (auto_fragment off, as the other servers send them), permessage-deflate
// only with --deflate.
// A session reads a whole message into its flat_buffer, writes the buffer
// back and empties it: the buffer keeps its capacity, so the steady state
// allocates no message memory.  Asynchronous operations' own state is
// recycled by Asio's per-thread handler memory; the handlers are lambdas
// holding a plain pointer to the session, which the single thread makes safe.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <utility>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

constexpr std::size_t max_message = std::size_t{2} << 20;

class Server;

class Session {
  public:
    Session(Server& server, tcp::socket socket,
            const std::optional<websocket::permessage_deflate>& pmd)
        : server_(server), ws_(std::move(socket)) {
        if (pmd) {
            ws_.set_option(*pmd);
        }
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() = default;

    void start() {
        ws_.read_message_max(max_message);
        ws_.auto_fragment(false);
        ws_.async_accept([this](beast::error_code ec) { on_handshake(ec); });
    }

    Session* prev = nullptr; // the server's list of live sessions
    Session* next = nullptr;

  private:
    void on_handshake(beast::error_code ec) {
        if (ec) {
            finish();
            return;
        }
        read();
    }

    void read() {
        ws_.async_read(buffer_, [this](beast::error_code ec, std::size_t) { on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            finish();
            return;
        }
        ws_.text(ws_.got_text());
        ws_.async_write(buffer_.data(),
                        [this](beast::error_code wec, std::size_t) { on_write(wec); });
    }

    void on_write(beast::error_code ec) {
        if (ec) {
            finish();
            return;
        }
        buffer_.consume(buffer_.size());
        read();
    }

    void finish();

    Server& server_;
    websocket::stream<tcp::socket> ws_;
    beast::flat_buffer buffer_;
};

class Server {
  public:
    Server(net::io_context& ioc, unsigned short port,
           std::optional<websocket::permessage_deflate> pmd)
        : acceptor_(ioc), pmd_(std::move(pmd)) {
        tcp::endpoint ep(net::ip::make_address_v4("127.0.0.1"), port);
        acceptor_.open(ep.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen(net::socket_base::max_listen_connections);
    }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    ~Server() {
        while (head_ != nullptr) {
            Session* s = head_;
            unlink(s);
            delete s;
        }
    }

    unsigned short port() const { return acceptor_.local_endpoint().port(); }

    void accept() {
        acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec == net::error::operation_aborted) {
                return;
            }
            if (!ec) {
                beast::error_code ignored;
                socket.set_option(tcp::no_delay(true), ignored);
                auto* s = new Session(*this, std::move(socket), pmd_);
                link(s);
                s->start();
            }
            accept();
        });
    }

    void stop() {
        beast::error_code ignored;
        acceptor_.close(ignored);
    }

    void remove(Session* s) {
        unlink(s);
        delete s;
    }

  private:
    void link(Session* s) {
        s->next = head_;
        if (head_ != nullptr) {
            head_->prev = s;
        }
        head_ = s;
    }

    void unlink(Session* s) {
        if (s->prev != nullptr) {
            s->prev->next = s->next;
        } else {
            head_ = s->next;
        }
        if (s->next != nullptr) {
            s->next->prev = s->prev;
        }
        s->prev = s->next = nullptr;
    }

    tcp::acceptor acceptor_;
    std::optional<websocket::permessage_deflate> pmd_; // set: offered to every client
    Session* head_ = nullptr;
};

// No operation of this session is pending when this runs (one at a time:
// handshake, read or write), so the session can go at once.
void Session::finish() {
    server_.remove(this);
}

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: beast_echo [--deflate [--deflate-level 0-9] "
                         "[--deflate-mem-level 1-9]] PORT\n");
    std::exit(2);
}

// A whole decimal number from lo to hi, or the usage message.
int number(const char* s, int lo, int hi) {
    char* end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi) {
        usage();
    }
    return static_cast<int>(v);
}

} // namespace

int main(int argc, char** argv) {
    bool deflate = false;
    int level = 6;     // zlib's default (Z_DEFAULT_COMPRESSION)
    int mem_level = 8; // zlib's default (DEF_MEM_LEVEL)
    const char* port_arg = nullptr;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--deflate") == 0) {
            deflate = true;
        } else if (std::strcmp(argv[i], "--deflate-level") == 0 && i + 1 < argc) {
            level = number(argv[++i], 0, 9);
        } else if (std::strcmp(argv[i], "--deflate-mem-level") == 0 && i + 1 < argc) {
            mem_level = number(argv[++i], 1, 9);
        } else if (port_arg == nullptr && argv[i][0] != '-') {
            port_arg = argv[i];
        } else {
            usage();
        }
    }
    if (port_arg == nullptr) {
        usage();
    }
    std::optional<websocket::permessage_deflate> pmd;
    if (deflate) {
        pmd.emplace();
        pmd->server_enable = true;
        pmd->server_max_window_bits = 15;
        pmd->client_max_window_bits = 15;
        pmd->server_no_context_takeover = false;
        pmd->client_no_context_takeover = false;
        pmd->compLevel = level;
        pmd->memLevel = mem_level;
    }
    try {
        net::io_context ioc{1};
        {
            Server server(ioc, static_cast<unsigned short>(number(port_arg, 0, 65535)), pmd);
            net::signal_set signals(ioc, SIGINT, SIGTERM);
            signals.async_wait([&](beast::error_code, int) {
                server.stop();
                ioc.stop();
            });
            std::printf("listening on %u\n", static_cast<unsigned>(server.port()));
            if (pmd) {
                std::printf("permessage-deflate: level %d, memLevel %d, server/client window "
                            "bits %d/%d, context takeover allowed\n",
                            pmd->compLevel, pmd->memLevel, pmd->server_max_window_bits,
                            pmd->client_max_window_bits);
            }
            std::fflush(stdout);
            server.accept();
            ioc.run();
            // Sessions go with the server, while the io_context still lives.
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "beast_echo: %s\n", e.what());
        return 1;
    }
}
