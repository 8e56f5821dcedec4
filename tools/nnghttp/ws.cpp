// nnghttp ws: an interactive WebSocket client.  Each line of standard
// input goes out as one message; each message received is printed on a
// line of its own (see ws_show.hpp for how).  The end of the input, or
// SIGINT/SIGTERM, closes the connection with 1000.
//
// Design notes.  Three threads take part, so that sending and receiving go
// on at the same time:
//  * the main thread waits in poll() on standard input and on a wake-up
//    pipe, sends each line with a blocking nnghttp::run(), and drives the
//    end: the wait for replies, the closing handshake, the exit code;
//  * an event loop of the library runs the receiving coroutine, which
//    prints each message as it comes (while a line is being typed or sent)
//    and pokes the pipe;
//  * a signal thread marks the first SIGINT or SIGTERM, cancels the send
//    under way (if any) and pokes the pipe; a second one ends the process
//    at once.
// When the input ends, the lines sent may still have replies on the way
// (an echo server's, say): the client waits until as many messages have
// come as lines went, or until none has come for --wait seconds, and only
// then closes.  The messages that come during the closing handshake are
// printed too.
#include "cli.hpp"
#include "ws_show.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/core.h>
#include <memory>
#include <mutex>
#include <optional>
#include <poll.h>
#include <pthread.h>
#include <random>
#include <stop_token>
#include <thread>
#include <unistd.h>

namespace tool {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

// How much of standard input one read() takes.
constexpr std::size_t input_chunk = 64 * 1024;
// Bound on each wait of the closing handshake.
constexpr std::chrono::milliseconds close_limit = 5s;

// A pipe that wakes the main thread's poll() from another thread.
class wakeup {
  public:
    wakeup() {
        if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
            throw std::system_error(errno, std::generic_category(), "pipe");
        }
    }
    ~wakeup() {
        ::close(fds_[0]);
        ::close(fds_[1]);
    }
    wakeup(const wakeup&) = delete;
    wakeup& operator=(const wakeup&) = delete;

    // A full pipe already wakes the reader: a failed write loses nothing.
    void poke() noexcept { (void)!::write(fds_[1], "", 1); }
    int fd() const noexcept { return fds_[0]; }
    void drain() noexcept {
        char sink[64];
        while (::read(fds_[0], sink, sizeof sink) > 0) {
        }
    }

  private:
    int fds_[2];
};

// What the threads share.  Owned jointly (shared_ptr) by all of them, so
// that a late poke never finds it gone.
struct link {
    wakeup wake;
    std::stop_source canceller;           // cancels the op under way, at the first signal
    std::atomic<bool> interrupted{false}; // the first signal came
    std::atomic<int> signal{0};           // its number

    std::mutex mtx;
    std::uint64_t received = 0;
    clock::time_point last_received = clock::now();
    bool ended = false;     // the receiving coroutine has returned
    std::error_code end_ec; // why receiving ended
    int output_errno = 0;   // standard output failed (errno)

    void got_message() {
        {
            std::lock_guard lk(mtx);
            received++;
            last_received = clock::now();
        }
        wake.poke();
    }
    void end(std::error_code ec, int err) {
        {
            std::lock_guard lk(mtx);
            ended = true;
            end_ec = ec;
            output_errno = err;
        }
        wake.poke();
    }
    bool has_ended() {
        std::lock_guard lk(mtx);
        return ended;
    }
};

// Prints every message as it comes, until the connection ends.
nnghttp::task<void> receive_all(nnghttp::websocket& ws, std::shared_ptr<link> l) {
    nnghttp::ws_message msg; // one buffer, reused for every message
    for (;;) {
        std::error_code ec;
        {
            auto r = co_await ws.receive(msg).no_throw();
            ec = r.ec;
        }
        if (ec) {
            l->end(ec, 0);
            co_return;
        }
        std::string line = shown_message(msg.data, msg.text);
        line += '\n';
        if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() ||
            std::fflush(stdout) != 0) {
            l->end({}, errno != 0 ? errno : EIO);
            co_return;
        }
        l->got_message();
    }
}

// The first SIGINT or SIGTERM: the closing handshake; the second: the end, now.
void watch_signals(std::shared_ptr<link> l, sigset_t sigs) {
    int sig = 0;
    sigwait(&sigs, &sig);
    l->signal = sig;
    l->interrupted = true;
    l->canceller.request_stop();
    l->wake.poke();
    sigwait(&sigs, &sig);
    fmt::print(stderr, "nnghttp: closing at once ({} again)\n",
               sig == SIGINT ? "SIGINT" : "SIGTERM");
    std::_Exit(signaled + sig);
}

// Splits standard input into lines (without their '\n'; a last line
// without one counts too).
class line_reader {
  public:
    // One read(); false at the end of the input (or a read error, which
    // is said on stderr and ends it the same way).
    bool fill() {
        buf_.erase(0, start_); // the lines already taken
        scanned_ -= start_;
        start_ = 0;
        std::size_t old = buf_.size();
        buf_.resize(old + input_chunk);
        ssize_t n;
        do {
            n = ::read(STDIN_FILENO, buf_.data() + old, input_chunk);
        } while (n < 0 && errno == EINTR);
        buf_.resize(old + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true; // a non-blocking input with nothing yet: poll() again
        }
        if (n < 0) {
            fmt::print(stderr, "nnghttp: cannot read standard input: {}\n", std::strerror(errno));
        }
        eof_ = n <= 0;
        return !eof_;
    }
    // The next whole line, if there is one.
    bool next(std::string& line) {
        auto nl = buf_.find('\n', scanned_);
        if (nl == std::string::npos) {
            scanned_ = buf_.size();
            if (!eof_ || start_ == buf_.size()) {
                return false;
            }
            nl = buf_.size(); // the last line, without a newline
        }
        line.assign(buf_, start_, nl - start_);
        start_ = scanned_ = std::min(nl + 1, buf_.size());
        return true;
    }
    bool eof() const noexcept { return eof_; }

  private:
    std::string buf_;
    std::size_t start_ = 0;   // where the next line begins
    std::size_t scanned_ = 0; // no '\n' from start_ to here
    bool eof_ = false;
};

nnghttp::task<nnghttp::result<void>> send_message(nnghttp::websocket& ws, std::string_view data,
                                                  bool text, std::stop_token cancel) {
    co_return co_await ws.send(data, text).cancel_on(cancel).no_throw();
}

nnghttp::task<nnghttp::result<void>> close_connection(nnghttp::websocket& ws, std::uint16_t code) {
    co_return co_await ws.close(code).no_throw();
}

// Waits in poll() for the pipe (and standard input, if in_fd >= 0), at
// most timeout_ms (-1: no limit).  Returns whether standard input is
// readable.
bool wait_for(link& l, int in_fd, int timeout_ms) {
    pollfd fds[2] = {{l.wake.fd(), POLLIN, 0}, {in_fd, POLLIN, 0}};
    int n = ::poll(fds, in_fd >= 0 ? 2 : 1, timeout_ms);
    if (n > 0 && (fds[0].revents & POLLIN) != 0) {
        l.wake.drain();
    }
    return n > 0 && in_fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

// The conversation: what the user says goes out, until the input ends, the
// connection ends or a signal comes.  Returns the count of messages sent.
std::uint64_t converse(nnghttp::websocket& ws, link& l, const ws_client_options& o) {
    line_reader in;
    std::string line;
    std::uint64_t sent = 0, lineno = 0;
    while (!l.has_ended() && !l.interrupted) {
        if (!wait_for(l, STDIN_FILENO, -1)) {
            continue;
        }
        in.fill();
        while (!l.interrupted && in.next(line)) {
            lineno++;
            bool text = !o.binary;
            if (text && !valid_utf8(line)) {
                fmt::print(stderr, "nnghttp: line {} is not UTF-8: sent as a binary message\n",
                           lineno);
                text = false;
            }
            auto r = nnghttp::run(send_message(ws, line, text, l.canceller.get_token()));
            if (!r) {
                return sent; // the connection ended (receiving says why), or a signal
            }
            sent++;
        }
        if (in.eof()) {
            break;
        }
    }
    return sent;
}

// After the input ends: waits for the replies still due.
void wait_for_replies(link& l, std::uint64_t sent, double wait_s) {
    auto idle = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(wait_s));
    clock::time_point since = clock::now();
    for (;;) {
        clock::time_point deadline;
        {
            std::lock_guard lk(l.mtx);
            if (l.ended || l.received >= sent) {
                return;
            }
            deadline = std::max(since, l.last_received) + idle;
        }
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
        if (l.interrupted || left <= 0ms) {
            return;
        }
        wait_for(l, -1, static_cast<int>(left.count()));
    }
}

// The names of the close codes of RFC 6455 (7.4.1) and the IANA registry.
const char* close_code_name(std::uint16_t code) {
    switch (code) {
    case 1000:
        return "normal closure";
    case 1001:
        return "going away";
    case 1002:
        return "protocol error";
    case 1003:
        return "unsupported data";
    case 1005:
        return "no code";
    case 1006:
        return "connection lost without a close frame";
    case 1007:
        return "invalid data";
    case 1008:
        return "policy violation";
    case 1009:
        return "message too big";
    case 1010:
        return "extension required";
    case 1011:
        return "internal error";
    case 1012:
        return "service restart";
    case 1013:
        return "try again later";
    case 1014:
        return "bad gateway";
    default:
        return "";
    }
}

std::string describe_close(std::uint16_t code, const std::string& reason) {
    std::string text = std::to_string(code);
    if (const char* name = close_code_name(code); *name != '\0') {
        text += fmt::format(" ({})", name);
    }
    if (!reason.empty()) {
        text += ": " + escaped(reason);
    }
    return text;
}

// The exit code once the connection has ended, after saying on stderr
// what went wrong.
int outcome(const nnghttp::websocket& ws, link& l, const ws_client_options& o) {
    std::error_code ec;
    int out_err;
    {
        std::lock_guard lk(l.mtx);
        ec = l.end_ec;
        out_err = l.output_errno;
    }
    std::uint16_t code = ws.close_code();
    if (out_err != 0) {
        fmt::print(stderr, "nnghttp: cannot write standard output: {}\n", std::strerror(out_err));
        return failure;
    }
    if (ec == nnghttp::errc::protocol) {
        fmt::print(stderr, "nnghttp: {}: the server broke the protocol\n", o.target);
        return protocol;
    }
    if (ec == nnghttp::errc::message_size) {
        fmt::print(stderr,
                   "nnghttp: {}: a message was over the limit of {} bytes (--max-message)\n",
                   o.target, o.max_message);
        return protocol;
    }
    if (ec && ec != nnghttp::errc::closed) {
        fmt::print(stderr, "nnghttp: {}: {}\n", o.target, ec.message());
        return abnormal_close;
    }
    if (o.verbose) {
        fmt::print(stderr, "* closed: {}\n", describe_close(code, ws.close_reason()));
    }
    if (code != 1000 && code != 1001 && code != 1005) {
        fmt::print(stderr, "nnghttp: {}: closed with {}\n", o.target,
                   describe_close(code, ws.close_reason()));
        return abnormal_close;
    }
    int sig = l.signal;
    return sig != 0 ? signaled + sig : ok;
}

// A random Sec-WebSocket-Key: 16 bytes in base64.
std::string handshake_key() {
    constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::random_device rd;
    unsigned char raw[18] = {}; // 16 bytes, padded to a multiple of 3
    for (int i = 0; i < 16; i++) {
        raw[i] = static_cast<unsigned char>(rd());
    }
    std::string key;
    for (int i = 0; i < 18; i += 3) {
        unsigned v = (raw[i] << 16) | (raw[i + 1] << 8) | raw[i + 2];
        for (int k = 18; k >= 0; k -= 6) {
            key += b64[(v >> k) & 63];
        }
    }
    key.replace(22, 2, "==");
    return key;
}

struct refusal {
    std::uint16_t status = 0;
    std::string reason;
};

// The library reports a refused upgrade by kind only (404 and "nobody
// listens" are both connection_refused; 401 and 403 permission; other
// statuses and malformed answers protocol), not by status.  To say which
// status it was, the same upgrade request is made again with the HTTP
// client; its answer's status is the one returned (101 if the server
// accepted this time).  Nothing when the second attempt fails too.
nnghttp::task<std::optional<refusal>> ask_again(const nnghttp::url& u,
                                                const std::optional<nnghttp::tls_config>& tls,
                                                const nnghttp::ws_options& wo,
                                                std::chrono::milliseconds limit) {
    std::string http_url =
        (u.scheme() == "wss" ? "https" : "http") + u.text().substr(u.scheme().size());
    auto hu = nnghttp::url::parse(http_url);
    if (!hu) {
        co_return std::nullopt;
    }
    nnghttp::client cli(*hu);
    if (tls) {
        cli.set_tls(*tls);
    }
    nnghttp::request req(*hu);
    req.set_header("Upgrade", "websocket");
    req.set_header("Connection", "Upgrade");
    req.set_header("Sec-WebSocket-Key", handshake_key());
    req.set_header("Sec-WebSocket-Version", "13");
    if (!wo.protocols.empty()) {
        std::string list;
        for (const auto& p : wo.protocols) {
            list += (list.empty() ? "" : ", ") + p;
        }
        req.set_header("Sec-WebSocket-Protocol", list);
    }
    for (const auto& [name, value] : wo.headers) {
        req.set_header(name, value);
    }
    nnghttp::connection conn = co_await cli.connect().timeout(limit);
    co_await conn.write_request(req).timeout(limit);
    nnghttp::response res;
    co_await conn.read_response(res).timeout(limit);
    conn.close();
    co_return refusal{res.status(), std::string(res.reason())};
}

// The exit code of a failed connect, after saying why.
int connect_failed(const std::error_code& ec, const nnghttp::url& u,
                   const std::optional<nnghttp::tls_config>& tls, const nnghttp::ws_options& wo,
                   const ws_client_options& o) {
    if (ec == nnghttp::errc::connection_refused || ec == nnghttp::errc::permission ||
        ec == nnghttp::errc::protocol) {
        std::optional<refusal> r;
        try {
            r = nnghttp::run(ask_again(u, tls, wo, 10s));
        } catch (const std::exception&) {
            // As the first attempt failed: its error says it.
        }
        if (r && r->status != 101) {
            fmt::print(stderr, "nnghttp: {}: the server refused the upgrade: HTTP {} {}\n",
                       o.target, r->status, escaped(r->reason));
            return http_error;
        }
        if (r && ec == nnghttp::errc::protocol) {
            fmt::print(stderr, "nnghttp: {}: bad answer to the upgrade\n", o.target);
            return protocol;
        }
    }
    fmt::print(stderr, "nnghttp: {}: {}\n", o.target, ec.message());
    return code_for(ec);
}

nnghttp::task<nnghttp::result<nnghttp::websocket>>
open_connection(const std::string& target, const std::optional<nnghttp::tls_config>& tls,
                nnghttp::ws_options wo, std::chrono::milliseconds limit, std::stop_token cancel) {
    if (tls) {
        co_return co_await nnghttp::websocket::connect(target, *tls, std::move(wo))
            .timeout(limit)
            .cancel_on(cancel)
            .no_throw();
    }
    co_return co_await nnghttp::websocket::connect(target, std::move(wo))
        .timeout(limit)
        .cancel_on(cancel)
        .no_throw();
}

void print_handshake(const nnghttp::websocket& ws, const nnghttp::ws_options& wo,
                     const ws_client_options& o) {
    fmt::print(stderr, "* connected to {}\n", o.target);
    for (const auto& [name, value] : wo.headers) {
        fmt::print(stderr, "> {}: {}\n", name, value);
    }
    if (!wo.protocols.empty()) {
        std::string list;
        for (const auto& p : wo.protocols) {
            list += (list.empty() ? "" : ", ") + p;
        }
        fmt::print(stderr, "> Sec-WebSocket-Protocol: {}\n", list);
    }
    fmt::print(stderr, "< HTTP/1.1 101 Switching Protocols\n");
    for (const char* name : {"Upgrade", "Connection", "Sec-WebSocket-Accept",
                             "Sec-WebSocket-Protocol", "Server", "Date"}) {
        if (std::string v = ws.header(name); !v.empty()) {
            fmt::print(stderr, "< {}: {}\n", name, escaped(v));
        }
    }
    fmt::print(stderr, "* protocol: {}\n", ws.protocol().empty() ? "none" : escaped(ws.protocol()));
}

// The library's settings from the command line; false (after saying why)
// when they cannot be used.
bool make_settings(const ws_client_options& o, nnghttp::ws_options& wo) {
    for (const auto& hv : o.headers) {
        std::string name, value;
        if (!split_header(hv, name, value)) {
            fmt::print(stderr, "nnghttp: bad header (want 'Name: value'): {}\n", hv);
            return false;
        }
        wo.headers.emplace_back(std::move(name), std::move(value));
    }
    wo.protocols = o.protocols;
    wo.max_message = wo.max_frame = o.max_message;
    wo.close_timeout = close_limit;
    return true;
}

// Once connected: the conversation and the close.
int talk(nnghttp::websocket& ws, std::shared_ptr<link> l, const ws_client_options& o) {
    nnghttp::spawn(receive_all(ws, l));
    std::uint64_t sent = converse(ws, *l, o);
    if (!l->has_ended() && !l->interrupted && o.wait_s > 0) {
        wait_for_replies(*l, sent, o.wait_s);
    }
    bool output_ok;
    {
        std::lock_guard lk(l->mtx);
        output_ok = l->output_errno == 0;
    }
    // Also when the server closed first: this waits for that handshake to
    // finish (the library answered the server's close frame).
    (void)nnghttp::run(close_connection(ws, output_ok ? 1000 : 1001));
    // The receiving coroutine ends with the connection; each wait of the
    // handshake is bounded by close_limit, so this is a safety net only.
    clock::time_point give_up = clock::now() + 3 * close_limit;
    while (!l->has_ended()) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(give_up - clock::now());
        if (left <= 0ms) {
            ws.abort();
            give_up = clock::now() + close_limit;
            continue;
        }
        wait_for(*l, -1, static_cast<int>(left.count()));
    }
    return outcome(ws, *l, o);
}

} // namespace

int ws(const ws_client_options& o) {
    // The signals wait for the signal thread, whichever thread they hit:
    // block them before the library starts any thread.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    std::signal(SIGPIPE, SIG_IGN); // a closed stdout is an error to report
    // The main thread waits in poll(), not in the library: the receiving
    // coroutine needs a loop thread of its own (thread-free mode has none).
    ::setenv("NNGHTTP_THREADS", "1", 1);
    // A closed standard input would hand its number to the next descriptor
    // opened (a socket, the wake-up pipe): give it an empty input instead.
    if (::fcntl(STDIN_FILENO, F_GETFD) < 0 && ::open("/dev/null", O_RDONLY) != STDIN_FILENO) {
        fmt::print(stderr, "nnghttp: no standard input\n");
        return failure;
    }

    auto u = nnghttp::url::parse(o.target);
    if (!u || (u->scheme() != "ws" && u->scheme() != "wss")) {
        fmt::print(stderr, "nnghttp: bad URL (want ws:// or wss://): {}\n", o.target);
        return bad_url;
    }
    nnghttp::ws_options wo;
    if (!make_settings(o, wo)) {
        return usage;
    }
    std::optional<nnghttp::tls_config> tls_cfg;
    if (u->scheme() == "wss" && !client_tls(u->hostname(), o.cacert, o.insecure, tls_cfg)) {
        return tls;
    }
    auto l = std::make_shared<link>();
    std::thread(watch_signals, l, sigs).detach();

    auto limit =
        std::chrono::ceil<std::chrono::milliseconds>(std::chrono::duration<double>(o.timeout_s));
    nnghttp::result<nnghttp::websocket> conn;
    try {
        conn =
            nnghttp::run(open_connection(o.target, tls_cfg, wo, limit, l->canceller.get_token()));
    } catch (const nnghttp::error& e) {
        conn.ec = e.code(); // made before the connection was tried (a bad header, say)
    }
    if (!conn) {
        if (int sig = l->signal; sig != 0) {
            return signaled + sig;
        }
        if (conn.ec == nnghttp::errc::invalid) {
            fmt::print(stderr, "nnghttp: {}: {}\n", o.target, conn.ec.message());
            return usage;
        }
        return connect_failed(conn.ec, *u, tls_cfg, wo, o);
    }
    if (o.verbose) {
        print_handshake(conn.value, wo, o);
    }
    return talk(conn.value, l, o);
}

} // namespace tool
