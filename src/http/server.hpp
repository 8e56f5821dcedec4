// The HTTP server behind nng_http_server: one listener, a set of handlers
// (routed by http::router), and one small state machine per connection:
//
//   read head -> check it -> route -> read the body (Content-Length, up to
//   the handler's limit) -> run the handler -> write the response -> again
//   (keep-alive) or close.
//
// Idle connections are parked: between requests a connection keeps only
// its stream and a small record, and waits for readability without an aio;
// the heavy per-request state (a "session": conn, parser, buffers, aios)
// goes back to a per-loop pool and is taken again when bytes arrive.  Each
// event loop has its own slot (lock, lists, pool, idle sweep timer), so no
// lock is shared by all connections.  See server.cpp for the life cycle.
#pragma once

#include "core/aio.hpp"
#include "core/ref_counted.hpp"
#include "http/handler.hpp"
#include "http/router.hpp"
#include "stream/stream.hpp"
#include "tls/config.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nng/nng.h>
#include <set>
#include <string>

namespace nnghttp::detail::http {

class server_conn;
class response;

// One line of the access log: what a request got.
struct access_record {
    const nng_sockaddr* peer; // the client's address
    const char* method;
    const char* uri;
    const char* version;
    std::uint16_t status;
    std::uint64_t bytes; // body bytes sent (0 for HEAD)
};
using access_log_fn = std::function<void(const access_record&)>;

// What the server allows each client, so that one slow, idle or hostile
// client cannot hold on to resources other clients need.  Durations are in
// milliseconds; NNG_DURATION_INFINITE (-1) disables a timeout.
struct server_limits {
    // From the first byte of a request head to its end (slowloris).
    nng_duration head_timeout = 30000;
    // A keep-alive connection waiting for the first byte of its next request.
    nng_duration idle_timeout = 60000;
    // Receiving a request body: the longest wait for more of it (a slow
    // upload that keeps coming is not cut; one that stalls is).
    nng_duration body_timeout = 60000;
    // Sending a response: the longest wait for the client to take more of
    // it (a client that stops reading; a slow one that keeps reading is
    // served to the end).
    nng_duration send_timeout = 60000;
    // Connections open at once; past it new ones get 503 and are closed.
    std::size_t max_connections = 16384;
};

class server final : public ref_counted {
  public:
    // The server for the URL's address, shared (reference counted) by
    // every caller that holds the same host and port, plain (http, ws) or
    // secure (https, wss); a final '4' or '6' on the scheme pins the
    // address family of the server it makes.  A server held with port 0
    // is found under its bound port once started (as NNG), so that a later
    // hold of port 0 makes a new server.
    static int hold(const nng_url& url, server*& out);

    int start();
    void stop();
    // Graceful stop, first half: no new connections (the listener
    // closes), idle ones close now, and the requests in progress get
    // "Connection: close" on their responses.  connections() then falls to
    // zero as they finish; stop() closes whatever is left.  start() (after
    // stop()) serves normally again.
    void drain();
    // Called (on the caller's thread, no lock held) when stop() or drain()
    // takes effect: for what the server no longer tracks, such as the
    // connections it handed over to WebSocket routes.  Returns an id for
    // remove_stop_hook.
    int add_stop_hook(std::function<void()> f);
    void remove_stop_hook(int id);
    // SO_REUSEPORT on the listening socket (tcp only; before start()).
    int set_reuse_port(bool on);
    int add_handler(handler& h);
    int del_handler(handler& h);
    int get_addr(nng_sockaddr& sa);
    int set_error_page(std::uint16_t status, std::string html);
    int set_error_file(std::uint16_t status, const char* path);
    // Makes res an error response for its status, with the custom page if
    // one is set.
    void res_error(response& res);

    // https: the TLS configuration (a default server one until set).  For
    // an http server both are NNG_ENOTSUP; set_tls once started NNG_EBUSY.
    int set_tls(tls::config* cfg);
    int get_tls(tls::config*& cfg);

    // The options of the listening endpoint (tcp, or tls+tcp for https),
    // with its error codes, as NNG's server passes them on (for ws://
    // listeners).  Before start() they go to the endpoint start() will
    // listen with (made now: NNG_OPT_TCP_BOUND_PORT is then NNG_ESTATE);
    // NNG_OPT_TLS_CONFIG is set_tls / get_tls.
    int listener_get(std::string_view name, const opt_out& out);
    int listener_set(std::string_view name, const opt_in& in);

    // Limits (C++ API).  Settable at any time; each takes effect at the
    // next point a connection consults it.
    void set_limits(const server_limits& l);
    server_limits limits() const;

    // Called once per response sent, on an event loop thread (several at
    // once: the function must be thread-safe).  Set before start().
    void set_access_log(access_log_fn fn);

    // Connections open now (active or idle).
    std::size_t connections() const noexcept { return nconns_.load(std::memory_order_relaxed); }

    // ---- for the connection machinery (server.cpp) ----
    struct slot;
    // The route table and its generation: a connection keeps the table it
    // has until the generation moves (one relaxed atomic load per request).
    std::uint64_t routes_gen() const noexcept { return routes_gen_.load(std::memory_order_acquire); }
    std::shared_ptr<const router> routes() const;
    void conn_closed() noexcept { nconns_.fetch_sub(1, std::memory_order_relaxed); }

  private:
    friend void server_release(server* s);
    friend class session;
    explicit server(std::string key, std::string listen_url);
    ~server() override;
    void destroy() noexcept override;
    static void accept_cb(void* arg);
    void close_listener(stream_listener* l);
    int make_listener_locked();
    void rekey_bound_port_locked();
    template <typename F> void each_slot(F fn);
    void run_stop_hooks();

    std::string key_;
    std::string listen_url_;
    mutable std::mutex mtx_;
    std::shared_ptr<const router> routes_;
    std::atomic<std::uint64_t> routes_gen_{1};
    std::set<handler*> handlers_;
    std::map<int, std::function<void()>> stop_hooks_;
    int next_hook_ = 1;
    std::map<std::uint16_t, std::string> error_pages_;
    stream_listener* listener_ = nullptr;
    tls::config* tls_ = nullptr; // https only
    unsigned starts_ = 0;
    aio accept_aio_;
    // accept_aio_ sleeps instead of accepting (out of descriptors); only
    // accept_cb and the code that starts the sleep, in turn, touch it.
    bool accept_paused_ = false;
    static constexpr nng_duration accept_pause_ms = 100;
    std::atomic<std::size_t> nconns_{0};
    std::atomic<bool> draining_{false};
    bool reuse_port_ = false;
    // Limits, each read without a lock.
    std::atomic<nng_duration> head_timeout_{30000};
    std::atomic<nng_duration> idle_timeout_{60000};
    std::atomic<nng_duration> body_timeout_{60000};
    std::atomic<nng_duration> send_timeout_{60000};
    std::atomic<std::size_t> max_connections_{16384};
    std::atomic<const access_log_fn*> log_{nullptr};
    std::unique_ptr<access_log_fn> log_fn_;
    // One per event loop: the connections whose streams live there.
    std::unique_ptr<slot[]> slots_;
    unsigned nslots_ = 0;
};

// nng_http_server_release: drops one hold; the last one stops the server.
void server_release(server* s);

} // namespace nnghttp::detail::http
