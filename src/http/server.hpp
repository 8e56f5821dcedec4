// The HTTP server behind nng_http_server: one listener, a set of handlers
// (routed by http::router), and one small state machine per connection:
//
//   read head -> check it -> route -> read the body (Content-Length, up to
//   the handler's limit) -> run the handler -> write the response -> again
//   (keep-alive) or close.
//
// Status of this code (first cut, see docs/design/server-plan.md): custom,
// static and redirect handlers; keep-alive, HTTP/1.0, Connection: close,
// HEAD, 400/404/405 (with Allow)/413/414/431/501/505 on bad input, a head
// timeout, chunked request bodies.  Not yet: file streaming (files are read
// whole), Expect: 100-continue, idle/connection limits, hijack hand-over
// details, TLS.
#pragma once

#include "core/aio.hpp"
#include "core/ref_counted.hpp"
#include "http/handler.hpp"
#include "http/router.hpp"
#include "stream/stream.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nng/nng.h>
#include <set>
#include <string>

namespace nnghttp::http {

class server_conn;
class response;

class server final : public ref_counted {
  public:
    // The server for the URL's address, shared (reference counted) by
    // every caller that holds the same scheme, host and port.
    static int hold(const nng_url& url, server*& out);

    int start();
    void stop();
    int add_handler(handler& h);
    int del_handler(handler& h);
    int get_addr(nng_sockaddr& sa);
    int set_error_page(std::uint16_t status, std::string html);
    int set_error_file(std::uint16_t status, const char* path);
    // Makes res an error response for its status, with the custom page if
    // one is set.
    void res_error(response& res);

    // Settings (C++ API).
    nng_duration head_timeout = 30000; // ms to receive a whole request head

    // For connections.
    std::shared_ptr<const router> routes() const;
    void conn_done(server_conn* c);

  private:
    friend void server_release(server* s);
    explicit server(std::string key, std::string listen_url);
    ~server() override;
    void destroy() noexcept override;
    static void accept_cb(void* arg);
    void close_all();

    std::string key_;
    std::string listen_url_;
    mutable std::mutex mtx_;
    std::shared_ptr<const router> routes_;
    std::set<handler*> handlers_;
    std::map<std::uint16_t, std::string> error_pages_;
    stream_listener* listener_ = nullptr;
    unsigned starts_ = 0;
    aio accept_aio_;
    std::set<server_conn*> conns_;
};

// nng_http_server_release: drops one hold; the last one stops the server.
void server_release(server* s);

} // namespace nnghttp::http
