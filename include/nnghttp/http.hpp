// HTTP connections, clients and servers (nng_http_conn, nng_http_client,
// nng_http_server, nng_http_handler underneath).
#pragma once

#include <nng/supplemental/http/http.h>
#include <nnghttp/config.hpp>
#include <nnghttp/error.hpp>
#include <nnghttp/message.hpp>
#include <nnghttp/task.hpp>
#include <nnghttp/tls.hpp>
#include <nnghttp/websocket.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace nnghttp {

class aio;
class url;

// One HTTP/1.1 connection.  Reads and writes are each served in order;
// a failed operation closes the connection (later ones fail with
// errc::closed), as NNG's do.
class NNGHTTP_API connection {
  public:
    connection() noexcept = default;
    connection(adopt_t, nng_http_conn* c) noexcept : c_(c) {}
    ~connection(); // closes it
    connection(connection&& o) noexcept;
    connection& operator=(connection&& o) noexcept;

    explicit operator bool() const noexcept { return c_ != nullptr; }

    // Sends req and reads the whole response (body included, whatever its
    // framing; errc::message_size past the client's limit).
    op<response> transact(request& req);
    void transact(request& req, response& res, aio& a);

    op<void> write_request(request& req);
    op<void> read_request(request& req);
    op<void> write_response(response& res);
    // The head only; then read_body() for the body, piece by piece.
    op<void> read_response(response& res);
    // After read_response (or transact's head): the next body bytes into
    // buf, by the head's framing (length, chunked, until close).  0 at the
    // end of the body.  Constant memory, for bodies of any size.
    op<std::size_t> read_body(std::span<std::byte> buf);

    // Raw bytes (at least one; _all: every byte, or an error).
    op<std::size_t> read(std::span<std::byte> buf);
    op<std::size_t> read_all(std::span<std::byte> buf);
    op<std::size_t> write(std::span<const std::byte> data);
    op<std::size_t> write_all(std::span<const std::byte> data);

    void close() noexcept;

    nng_http_conn* native() const noexcept { return c_; }
    nng_http_conn* release() noexcept;

  private:
    struct body_state;
    nng_http_conn* c_ = nullptr;
    body_state* body_ = nullptr;
};

class NNGHTTP_API client {
  public:
    // http:// or https:// (throws nnghttp::error: errc::address_invalid
    // for other schemes).  An https client verifies the server against the
    // system's CAs and the URL's host name unless set_tls says otherwise.
    explicit client(std::string_view url);
    explicit client(const url& u);
    client(adopt_t, nng_http_client* c) noexcept : c_(c) {}
    ~client();
    client(client&& o) noexcept;
    client& operator=(client&& o) noexcept;

    void set_tls(const tls_config& cfg);
    tls_config tls() const;
    // The largest response body transact() accepts (default 256 MiB).
    void set_response_limit(std::size_t bytes);

    op<connection> connect();
    // One exchange on a new connection, closed afterwards.
    op<response> transact(request& req);
    void connect(aio& a); // the nng_http_conn* in output 0
    void transact(request& req, response& res, aio& a);

    nng_http_client* native() const noexcept { return c_; }

  private:
    nng_http_client* c_ = nullptr;
};

// A request a custom handler is serving.  Answer it once, with send(),
// from any thread, at any time; a responder destroyed unanswered answers
// 500.  Movable, so the answer can come from a coroutine or another thread.
class NNGHTTP_API responder {
  public:
    explicit responder(nng_aio* a) noexcept;
    ~responder();
    responder(responder&& o) noexcept;
    responder& operator=(responder&& o) noexcept;

    // The request as received: uri() is the whole request target (path
    // and query, as NNG gives it), not only the part below the handler's
    // path.
    const nnghttp::request& request() const noexcept { return req_; }
    void send(response&& res) noexcept;
    void send(std::uint16_t status, std::string_view body = {},
              std::string_view content_type = "text/plain") noexcept;
    // The server's error page for status.
    void send_error(std::uint16_t status) noexcept;
    // Takes the connection over (e.g. to speak another protocol on it):
    // the server will neither answer nor close it.
    connection hijack();
    bool answered() const noexcept { return aio_ == nullptr; }

  private:
    nng_aio* aio_;
    nnghttp::request req_;
};

class NNGHTTP_API handler {
  public:
    using sync_fn = std::function<void(const request&, response&)>;
    using async_fn = std::function<void(responder)>;

    static handler file(std::string_view path, std::string_view file,
                        std::string_view content_type = {});
    static handler directory(std::string_view path, std::string_view dir);
    static handler static_content(std::string_view path, std::string_view data,
                                  std::string_view content_type = "text/plain");
    static handler redirect(std::string_view path, std::string_view location,
                            std::uint16_t status = 301);

    // A lambda serving the requests for path.  Three shapes:
    //   void(const request&, response&)  fills the response and returns;
    //   void(responder)                  answers with responder::send, now
    //                                    or later, from any thread;
    //   task<void>(responder)            a coroutine, spawned per request.
    // An exception out of the lambda answers 500.
    template <typename F> static handler custom(std::string_view path, F&& f) {
        if constexpr (std::is_invocable_r_v<task<void>, F&, responder>) {
            return make_async(path, [fn = std::forward<F>(f)](responder r) mutable {
                spawn(fn(std::move(r)));
            });
        } else if constexpr (std::is_invocable_v<F&, responder>) {
            return make_async(path, async_fn(std::forward<F>(f)));
        } else {
            static_assert(std::is_invocable_v<F&, const request&, response&>,
                          "a handler is void(const request&, response&), void(responder) or "
                          "task<void>(responder)");
            return make_sync(path, sync_fn(std::forward<F>(f)));
        }
    }

    handler(adopt_t, nng_http_handler* h) noexcept : h_(h) {}
    ~handler();
    handler(handler&& o) noexcept;
    handler& operator=(handler&& o) noexcept;

    // Settings (before the handler goes to a server).  The method is GET by
    // default; any_method() serves them all.
    // Each has an overload for a temporary, so that a handler can be made,
    // set and added in one expression:
    //   srv.add(handler::custom("/items", f).method("PUT").tree());
    handler& method(std::string_view m) &;
    handler&& method(std::string_view m) && { return std::move(method(m)); }
    handler& any_method() &;
    handler&& any_method() && { return std::move(any_method()); }
    handler& host(std::string_view h) &;
    handler&& host(std::string_view h) && { return std::move(host(h)); }
    // Also serve every path below this one.
    handler& tree(bool exclusive = false) &;
    handler&& tree(bool exclusive = false) && { return std::move(tree(exclusive)); }
    // Read the request body first (default: yes, up to 1 MiB).
    handler& collect_body(bool want, std::size_t max_bytes = 1024 * 1024) &;
    handler&& collect_body(bool want, std::size_t max_bytes = 1024 * 1024) && {
        return std::move(collect_body(want, max_bytes));
    }

    nng_http_handler* native() const noexcept { return h_; }
    nng_http_handler* release() noexcept;

  private:
    static handler make_sync(std::string_view path, sync_fn f);
    static handler make_async(std::string_view path, async_fn f);
    nng_http_handler* h_ = nullptr;
};

// What a server allows each client (see the server's documentation).
struct server_limits {
    std::chrono::milliseconds head_timeout{30000};
    std::chrono::milliseconds idle_timeout{60000};
    std::chrono::milliseconds body_timeout{60000};
    std::chrono::milliseconds send_timeout{60000};
    std::size_t max_connections = 16384;
};

// One response sent, for an access log.
struct access_entry {
    const nng_sockaddr* peer;
    std::string_view method;
    std::string_view uri;
    std::string_view version;
    std::uint16_t status;
    std::uint64_t bytes; // body bytes sent
};

// "127.0.0.1", "::1" (with_port: "127.0.0.1:8080", "[::1]:8080").
NNGHTTP_API std::string address_text(const nng_sockaddr& sa, bool with_port = false);

class NNGHTTP_API server {
  public:
    // http:// or https://host:port (port 0: any free port).  Servers made
    // for the same address share one listener (nng_http_server_hold).
    explicit server(std::string_view url);
    explicit server(const url& u);
    server(adopt_t, nng_http_server* s) noexcept : s_(s) {}
    ~server(); // drops this hold; the last one stops the server
    server(server&& o) noexcept;
    server& operator=(server&& o) noexcept;

    // Adds a handler (throws errc::address_in_use for a path and method
    // already served).  Returns *this for chaining.
    server& add(handler h);
    // Shorthands: add(handler::custom(path, f).method(m)).
    template <typename F> server& route(std::string_view method, std::string_view path, F&& f) {
        return add(handler::custom(path, std::forward<F>(f)).method(method));
    }
    template <typename F> server& get(std::string_view path, F&& f) {
        return route("GET", path, std::forward<F>(f));
    }
    template <typename F> server& post(std::string_view path, F&& f) {
        return route("POST", path, std::forward<F>(f));
    }
    template <typename F> server& put(std::string_view path, F&& f) {
        return route("PUT", path, std::forward<F>(f));
    }
    template <typename F> server& del(std::string_view path, F&& f) {
        return route("DELETE", path, std::forward<F>(f));
    }

    // A WebSocket route at path (GET only, the path itself): f is
    // void(websocket) or task<void>(websocket) and gets each connection
    // once its handshake is done, on an event loop thread.  Requests
    // that are not a valid handshake get an error status (426 for a plain
    // GET).  Throws errc::address_in_use for a path already served.
    template <typename F> server& ws(std::string_view path, F&& f, ws_options opts = {}) {
        if constexpr (std::is_invocable_r_v<task<void>, F&, websocket>) {
            return add_ws(path,
                          [fn = std::forward<F>(f)](websocket w) mutable { spawn(fn(std::move(w))); },
                          std::move(opts));
        } else {
            static_assert(std::is_invocable_v<F&, websocket>,
                          "a WebSocket route is void(websocket) or task<void>(websocket)");
            return add_ws(path, std::function<void(websocket)>(std::forward<F>(f)), std::move(opts));
        }
    }
    server& add_ws(std::string_view path, std::function<void(websocket)> f, ws_options opts);

    void set_tls(const tls_config& cfg);
    tls_config tls() const;
    void set_limits(const server_limits& l);
    server_limits limits() const;
    // Called for every response sent, on event loop threads (several at
    // once).  Before start().
    void on_access(std::function<void(const access_entry&)> fn);
    void set_error_page(std::uint16_t status, std::string_view html);
    // Bind with SO_REUSEPORT (tcp, before start()): several processes may
    // then listen on one port, the kernel spreading connections over them.
    void set_reuse_port(bool on);

    void start();
    // Closes the listener and every connection at once.
    void stop();
    // Graceful stop: no new connections; idle ones close; requests in
    // progress finish (their responses carry Connection: close); after
    // `grace`, what is left is closed.  Returns whether all finished.
    bool shutdown(std::chrono::milliseconds grace);

    // The bound address and port (after start()).
    nng_sockaddr address() const;
    std::uint16_t port() const;
    // Connections open now.
    std::size_t connections() const;

    nng_http_server* native() const noexcept { return s_; }

  private:
    nng_http_server* s_ = nullptr;
};

} // namespace nnghttp
