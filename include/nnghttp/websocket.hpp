// WebSocket (RFC 6455): messages with their boundaries and types, over the
// same core as the HTTP API.
//
//   // a server route, beside the HTTP handlers
//   srv.ws("/echo", [](nnghttp::websocket ws) -> nnghttp::task<void> {
//       for (;;) {
//           auto msg = co_await ws.receive().no_throw();
//           if (!msg) co_return;               // closed (see ws.close_code())
//           co_await ws.send(msg.value.data, msg.value.text);
//       }
//   });
//   // a client
//   nnghttp::websocket ws = co_await nnghttp::websocket::connect("ws://127.0.0.1:8080/echo");
//
// Every operation is an op (see task.hpp): .timeout(), .cancel_on() and
// .no_throw() apply.  Sends may be outstanding from several coroutines at
// once; they go out in the order they were started.  The data of a send
// must stay valid until it completes.
//
// Closing: close() runs the closing handshake and completes when the
// connection is closed.  A close from the peer is answered by the library;
// receive() then fails with errc::closed and close_code() / close_reason()
// tell what the peer sent (1005: no code; 1006: no close frame at all).  A
// peer that breaks the protocol gets a close frame with the matching code
// (1002, 1007 for bad UTF-8 in text, 1009 for a message over the limit)
// and the waiting receive fails with errc::protocol or errc::message_size.
// The destructor of an open websocket starts the closing handshake with
// 1001 (going away) and lets it finish in the background, bounded by
// close_timeout.
#pragma once

#include <nnghttp/config.hpp>
#include <nnghttp/message.hpp>
#include <nnghttp/task.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nnghttp {

class tls_config;

// One received message.
struct ws_message {
    std::string data;
    bool text = false; // a text message (UTF-8, checked), else binary
};

// An opening handshake, as a server route's on_upgrade sees it: after the
// library found it well formed, before anything is answered.  The hook
// may refuse it (any status but 101, with a body), or accept it with
// extra answer fields and another subprotocol.
struct ws_upgrade {
    const request& req;  // the client's request (valid during the call)
    nng_sockaddr peer{}; // the client's address
    // The subprotocol to answer with: the route's choice on entry; the
    // hook may set one the client offered, or "" for none.
    std::string protocol;
    // Extra fields of the answer (the handshake's own fields stay).
    std::vector<std::pair<std::string, std::string>> headers;
    // 101 accepts; anything else (200-599) refuses with that status and
    // body (text/plain; empty: the server's error page).
    std::uint16_t status = 101;
    std::string body;

    // Shorthands.
    std::string_view origin() const noexcept { return req.header("Origin").value_or(""); }
    void refuse(std::uint16_t s, std::string_view b = {}) {
        status = s;
        body.assign(b);
    }
};

// permessage-deflate (RFC 7692) settings.  Off by default.  A client
// offers it, a server accepts the first offer it can honour; both fall
// back to no compression when the peer will not.  Every receive limit
// applies to the inflated size.
struct ws_compression {
    bool enabled = false;
    // The server starts each of its messages afresh (no window kept between
    // them: less memory, larger output).  A server sets it for itself; a
    // client asks for it.
    bool server_no_context_takeover = false;
    // The same for the client's messages (a server asks; a client promises).
    bool client_no_context_takeover = false;
    // Windows, 9..15 bits (zlib cannot compress with 8).
    int server_max_window_bits = 15;
    int client_max_window_bits = 15;
    // zlib's level (0-9) and memLevel (1-9) for what this end sends.
    // Level 1 by default, as nginx's gzip: on JSON-like messages with the
    // window kept between them it sends 1.3-1.5x the bytes of level 6 for
    // 2.2x the messages per CPU-second (bench/ws, DEFLATE=1).
    int level = 1;
    int mem_level = 8;
    // Messages shorter than this go uncompressed.
    std::size_t min_size = 32;
};

// Settings of a WebSocket endpoint (a server route or a client).
struct ws_options {
    // Largest message and frame accepted; more fails the connection with
    // 1009 before the memory is taken (0: no limit).
    std::size_t max_message = 16u << 20;
    std::size_t max_frame = 16u << 20;
    // Most frames in one message (1008 beyond it).
    std::size_t max_fragments = 1u << 17;
    // Messages longer than this are sent in several frames.
    std::size_t send_frame = 65536;
    // Bound on each wait of the closing handshake.
    std::chrono::milliseconds close_timeout{5000};
    // Keepalive (0: off).  While a receive waits, a ping goes out after
    // ping_interval without a byte from the peer; when pong_timeout more
    // pass without one (0: ping_interval), the connection fails with 1011
    // and the receive with errc::timed_out.  Nothing is sent or concluded
    // while no receive waits (the peer's bytes are not read then).
    std::chrono::milliseconds ping_interval{0};
    std::chrono::milliseconds pong_timeout{0};
    // Bound on the bytes of messages queued for sending and not yet handed
    // to the connection (0: none).  Past it, send() and enqueue() wait, in
    // order, for room; a message larger than the bound goes in alone.
    std::size_t max_send_queue = 16u << 20;
    // permessage-deflate.
    ws_compression compression;
    // Server: the subprotocols it speaks, by preference (the first one the
    // client offers is chosen).  Client: those it offers.
    std::vector<std::string> protocols;
    // Server: refuse (400) a client that offers none of protocols.
    bool require_protocol = false;
    // Extra header fields of the handshake (client: the request; server:
    // the 101 answer).
    std::vector<std::pair<std::string, std::string>> headers;
    // Server: also serve every path below the route's (as handler::tree).
    bool tree = false;
    // Server: sees every opening handshake first, on the server's event
    // loop (it must not block); unset, none is refused (as NNG).  An
    // exception it throws refuses with 500.
    std::function<void(ws_upgrade&)> on_upgrade;
};

class NNGHTTP_API websocket {
  public:
    websocket() noexcept = default;
    ~websocket();
    websocket(websocket&& o) noexcept;
    websocket& operator=(websocket&& o) noexcept;

    explicit operator bool() const noexcept { return c_ != nullptr; }

    // Connects to ws:// or wss:// (wss: the server is verified against
    // the system's CAs unless tls says otherwise).  Fails with
    // errc::permission (401, 403), errc::connection_refused (404, 405, or
    // no server), errc::protocol (any other refusal or a bad answer).
    static op<websocket> connect(std::string_view url, ws_options opts = {});
    static op<websocket> connect(std::string_view url, const tls_config& tls,
                                 ws_options opts = {});

    // The next whole message.
    op<ws_message> receive();
    // The same into m, reusing the room of m.data: a loop that receives
    // into one ws_message allocates nothing once it has room for its
    // largest message.  m must stay valid until the op completes.
    op<void> receive(ws_message& m);
    // One message of data (as text if text; the caller keeps it valid and
    // UTF-8 until the op completes).
    op<void> send(std::string_view data, bool text = false);
    op<void> send_text(std::string_view data) { return send(data, true); }
    // One message the library takes over: completes as soon as it is
    // queued (at once while fewer than ws_options::max_send_queue bytes
    // wait to go; else when they have gone), not when it is sent.  A
    // failure to send it later shows in the next receive or send.
    op<void> enqueue(std::string data, bool text = false);
    // Bytes of messages queued and not yet handed to the connection.
    std::size_t buffered_amount() const;
    // A ping (at most 125 bytes).  Completes when it is sent; the pong
    // comes to on_pong's function.
    op<void> ping(std::string_view payload = {});
    // f gets the payload of every pong from the peer, on the connection's
    // event loop (an exception from f is dropped).  Replaces an earlier f.
    void on_pong(std::function<void(std::string_view payload)> f);
    // The closing handshake (code 0: a close frame without a code).
    op<void> close(std::uint16_t code = 1000, std::string_view reason = {});
    // Closes the connection at once, without a handshake.
    void abort() noexcept;

    // The peer's close frame (0 while none came; 1005: it had no code;
    // 1006: the connection ended without one).
    std::uint16_t close_code() const;
    std::string close_reason() const;

    // From the opening handshake.
    const std::string& protocol() const noexcept { return protocol_; }
    // Whether permessage-deflate was agreed.
    bool compressed() const noexcept { return compressed_; }
    const std::string& uri() const noexcept { return uri_; }
    // A field of the request (server side) or the answer (client side);
    // empty if absent.
    std::string header(std::string_view name) const;

    // For the library: adopts a core connection.
    struct info;
    websocket(void* core, info* i) noexcept;

  private:
    void* c_ = nullptr;
    info* info_ = nullptr;
    std::string protocol_;
    std::string uri_;
    bool compressed_ = false;
};

} // namespace nnghttp
