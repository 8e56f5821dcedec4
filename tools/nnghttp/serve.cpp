// nnghttp serve: a directory over HTTP(S), with a Common Log Format line
// per response on stdout, until SIGINT or SIGTERM.  The stop is graceful:
// the listener closes, idle connections close, and requests in progress get
// up to stop_grace to finish.  A second signal during that time stops at
// once.  With --ws-echo PATH, WebSocket upgrades at PATH get an echo: every
// message goes back with its type, until the client closes; on a signal,
// the echo connections are closed with 1001 (going away) first.
#include "cli.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fmt/core.h>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <stop_token>
#include <thread>

namespace tool {
namespace {

using namespace std::chrono_literals;

// How long requests in progress may take to finish after a stop signal.
constexpr std::chrono::milliseconds stop_grace = 10s;

std::mutex log_mtx;

// Common Log Format: host ident authuser [date] "request" status bytes
void log_access(const nnghttp::access_entry& e) {
    std::string host = e.peer != nullptr ? nnghttp::address_text(*e.peer) : "-";
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char date[64];
    std::strftime(date, sizeof date, "%d/%b/%Y:%H:%M:%S %z", &tm);
    std::string bytes = e.bytes > 0 ? std::to_string(e.bytes) : "-";
    std::lock_guard lk(log_mtx);
    fmt::print("{} - - [{}] \"{} {} {}\" {} {}\n", host, date, e.method, e.uri, e.version, e.status,
               bytes);
    std::fflush(stdout);
}

// The --ws-echo connections.  Once `closing` is set (and the waiting
// receives canceled), their echo loops end and close with 1001; `open`
// counts those not yet closed.
struct echo_connections {
    std::atomic<bool> closing{false};
    std::stop_source canceller;
    std::atomic<int> open{0};
};
echo_connections echoes;

// The --ws-echo route: each message back as it came.  One buffer serves
// every message of the connection.
nnghttp::task<void> echo(nnghttp::websocket ws) {
    echoes.open++;
    nnghttp::ws_message msg;
    while (!echoes.closing) {
        if (!co_await ws.receive(msg).cancel_on(echoes.canceller.get_token()).no_throw()) {
            break; // closed (the library answered the close), failed, or canceled
        }
        if (!co_await ws.send(msg.data, msg.text).no_throw()) {
            break;
        }
    }
    if (echoes.closing) {
        (void)co_await ws.close(1001, "server shutting down").no_throw();
    }
    echoes.open--;
}

// Closes the echo connections (with 1001), waiting up to `limit` for their
// closing handshakes.
void close_echoes(std::chrono::milliseconds limit) {
    echoes.closing = true;
    echoes.canceller.request_stop();
    auto until = std::chrono::steady_clock::now() + limit;
    while (echoes.open > 0 && std::chrono::steady_clock::now() < until) {
        // In the library, not in a sleep of our own: thread-free, the
        // connections progress only while this thread waits there.
        nnghttp::run([]() -> nnghttp::task<void> {
            co_await nnghttp::sleep(std::chrono::milliseconds(10));
        }());
    }
}

const char* signal_name(int sig) {
    return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

// Configures srv for https from PEM files; false (after saying why) when
// they cannot be used.
bool setup_tls(nnghttp::server& srv, const serve_options& o) {
    std::string cert, key;
    if (!read_file(o.cert, cert) || !read_file(o.key, key)) {
        fmt::print(stderr, "nnghttp: TLS certificate or key not usable: cannot read the file\n");
        return false;
    }
    try {
        nnghttp::tls_config cfg(nnghttp::tls_mode::server);
        cfg.own_cert(cert, key);
        if (!o.tls_ciphers.empty()) {
            cfg.tls12_ciphers(o.tls_ciphers);
        }
        srv.set_tls(cfg);
    } catch (const nnghttp::error& e) {
        fmt::print(stderr, "nnghttp: TLS certificate or key not usable: {}\n", e.code().message());
        return false;
    }
    return true;
}

// Waits for a stop signal, then stops srv gracefully.
int run_until_signal(nnghttp::server& srv, const sigset_t& sigs) {
    int sig = 0;
    if (nnghttp::thread_free()) {
        // The server runs only while this thread waits in the library: wait
        // there, looking for a signal between slices.
        const timespec now{};
        while ((sig = sigtimedwait(&sigs, nullptr, &now)) < 0) {
            nnghttp::run([]() -> nnghttp::task<void> {
                co_await nnghttp::sleep(std::chrono::milliseconds(100));
            }());
        }
    } else {
        sigwait(&sigs, &sig);
    }
    {
        std::lock_guard lk(log_mtx);
        fmt::print("nnghttp: stopping ({})\n", signal_name(sig));
        std::fflush(stdout);
    }
    // A second signal means "now": the waiting requests are given up.
    std::thread([sigs] {
        int again = 0;
        sigwait(&sigs, &again);
        std::lock_guard lk(log_mtx);
        fmt::print("nnghttp: stopping at once ({} again)\n", signal_name(again));
        std::fflush(stdout);
        std::_Exit(failure);
    }).detach();
    close_echoes(stop_grace);
    if (!srv.shutdown(stop_grace)) {
        std::lock_guard lk(log_mtx);
        fmt::print(stderr, "nnghttp: requests still in progress after {} s were cut off\n",
                   std::chrono::duration_cast<std::chrono::seconds>(stop_grace).count());
    }
    return ok;
}

} // namespace

int serve(const serve_options& o) {
    if (o.threads >= 0) {
        ::setenv("NNGHTTP_THREADS", std::to_string(o.threads).c_str(), 1);
    }
    // Block the stop signals before the library starts any thread: they then
    // wait for sigwait, whichever thread they were sent to.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

    auto u = nnghttp::url::parse(o.listen);
    if (!u) {
        fmt::print(stderr, "nnghttp: bad listen URL: {}\n", o.listen);
        return bad_url;
    }
    bool https = u->scheme() == "https";
    std::optional<nnghttp::server> srv;
    try {
        srv.emplace(*u);
    } catch (const nnghttp::error& e) {
        fmt::print(stderr, "nnghttp: cannot serve {}: {}\n", o.listen, e.code().message());
        return bad_url;
    }
    if (https) {
        if (o.cert.empty() || o.key.empty()) {
            fmt::print(stderr, "nnghttp: https needs --tls-cert and --tls-key\n");
            return usage;
        }
        if (!setup_tls(*srv, o)) {
            return tls;
        }
    }
    try {
        // No request bodies: a directory has no use for them.
        srv->add(nnghttp::handler::directory("/", o.dir).tree().collect_body(true, 0));
        if (!o.ws_echo.empty()) {
            srv->ws(o.ws_echo, echo);
        }
        srv->on_access(log_access);
        srv->set_reuse_port(o.reuse_port);
        nnghttp::server_limits lim = srv->limits();
        auto ms = [](double s) { return std::chrono::milliseconds(static_cast<long long>(s * 1000)); };
        if (o.head_timeout_s >= 0) {
            lim.head_timeout = ms(o.head_timeout_s);
        }
        if (o.idle_timeout_s >= 0) {
            lim.idle_timeout = ms(o.idle_timeout_s);
        }
        if (o.body_timeout_s >= 0) {
            lim.body_timeout = ms(o.body_timeout_s);
        }
        if (o.send_timeout_s >= 0) {
            lim.send_timeout = ms(o.send_timeout_s);
        }
        if (o.max_connections > 0) {
            lim.max_connections = static_cast<std::size_t>(o.max_connections);
        }
        srv->set_limits(lim);
    } catch (const nnghttp::error& e) {
        fmt::print(stderr, "nnghttp: {}\n", e.code().message());
        return failure;
    }
    try {
        srv->start();
    } catch (const nnghttp::error& e) {
        fmt::print(stderr, "nnghttp: cannot listen on {}: {}\n", o.listen, e.code().message());
        return e.code() == nnghttp::errc::address_in_use ? refused : failure;
    }
    std::string where = nnghttp::address_text(srv->address(), true);
    fmt::print("nnghttp: serving {} at {}://{}/\n", o.dir, https ? "https" : "http", where);
    if (!o.ws_echo.empty()) {
        fmt::print("nnghttp: WebSocket echo at {}://{}{}\n", https ? "wss" : "ws", where,
                   o.ws_echo);
    }
    std::fflush(stdout);
    return run_until_signal(*srv, sigs);
}

} // namespace tool
