// NNG's WebSocket byte streams: nng_stream_dialer and nng_stream_listener
// for ws://, wss:// (and ws4, ws6, wss4, wss6), and the streams they make,
// over ws::connection.
//
// Streams (ws_stream, both sides).  A send sends the aio's bytes as one
// message (text with NNG_OPT_WS_SEND_TEXT, else binary) of at most
// NNG_OPT_WS_SENDMAXFRAME bytes (0: no limit); it completes with the count
// sent, which is less than asked when the limit cut it (the caller sends
// the rest, as after any short send).  A receive gives at least one byte,
// never past the end of a message: two messages are never joined in one
// receive, and empty messages are skipped.  A text message on a stream
// without NNG_OPT_WS_RECV_TEXT fails the connection with close code 1003,
// and the waiting receive with NNG_EPROTO.  close() sends close code 1000
// and ends the caller's side at once: waiting receives and sends not yet
// started fail with NNG_ECLOSED, and so does everything after, options
// included; the closing handshake finishes in the background.
//
// Dialers (ws_dialer.cpp) hold an http::client for the URL; each dial is
// one opening handshake (request target "/" when the URL has no path; Host
// as NNG writes it).  Listeners (ws_listener.cpp) share the HTTP server of
// their address (http::server::hold, as nng_http_server_hold): listen()
// adds a GET handler for the URL's path (and host, unless a wildcard) and
// starts the server; upgraded connections wait for accept() in a queue of
// at most max_ready streams beyond the accepts waiting, past which requests
// are answered 503.
//
// Options, as NNG 1.5.2 looks them up (docs/compat.md lists where the codes
// or the behaviour differ): a dialer's or listener's own table first
// (sizes, protocol, text modes, headers, url), then the endpoint underneath
// (tcp or tls+tcp: the client's dialer, the server's listener), then the
// header prefixes (set only).  A stream: NNG_ECLOSED once closed, then the
// connection underneath (tcp, tls), then its own table (text modes,
// headers, request URI: all read-only), then the prefixes (get).
#pragma once

#include "http/message.hpp"
#include "stream/stream.hpp"
#include "websocket/connection.hpp"
#include "websocket/upgrade.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nnghttp::detail::ws {

// Whether url's scheme is ws, wss, ws4, ws6, wss4 or wss6.
bool is_stream_scheme(const nng_url& url) noexcept;

// A dialer or listener for a ws URL; NNG_ENOTSUP for other schemes.  A
// dialer needs a host (NNG_EADDRINVAL); a listener's address is resolved
// now (NNG_EADDRINVAL if it cannot be).
int make_dialer(const nng_url& url, stream_dialer*& out);
int make_listener(const nng_url& url, stream_listener*& out);

// Every scheme the C API's nng_stream_dialer_alloc_url and
// nng_stream_listener_alloc_url know: ws ones here, the others from
// tls::make_any_dialer / make_any_listener.
int make_any_dialer(const nng_url& url, stream_dialer*& out);
int make_any_listener(const nng_url& url, stream_listener*& out);

// ---- shared by the dialer, the listener and their streams ----

// Upgraded connections waiting for accept(), at most, beyond the accepts
// waiting for them (a listener).
inline constexpr std::size_t max_ready = 256;

// What a dialer or listener gives the streams it makes.
struct endpoint_options {
    std::size_t send_max = 65536;      // NNG_OPT_WS_SENDMAXFRAME
    std::size_t recv_frame = 1u << 20; // NNG_OPT_WS_RECVMAXFRAME
    std::size_t recv_max = 1u << 20;   // NNG_OPT_RECVMAXSZ
    std::string protocol;              // NNG_OPT_WS_PROTOCOL, as set
    bool send_text = false;
    bool recv_text = false;
    bool deflate = false;           // NNG_OPT_WS_DEFLATE (ours)
    nng_duration ping_interval = 0; // NNG_OPT_WS_PING_INTERVAL (ours)
    nng_duration pong_timeout = 0;  // NNG_OPT_WS_PONG_TIMEOUT (ours)
    http::header_list headers; // extra request (dialer) or response fields

    // The names in protocol, in order.
    std::vector<std::string> protocols() const;
    // The connection settings for a stream of role side.
    settings connection_settings(role side) const;

    // The options both kinds of endpoint have (see the top); NNG_ENOTSUP
    // for other names.
    int get(std::string_view name, const opt_out& out) const;
    int set(std::string_view name, const opt_in& in);
    // name is "<prefix>Field": sets headers' Field (NNG_ENOTSUP if name
    // does not start with prefix).
    int set_header(std::string_view prefix, std::string_view name, const opt_in& in);
    // Adds "Name: value" lines (CRLF, LF or CR between them) to headers;
    // NNG_EINVAL (headers unchanged) for a line without ':' or a name that
    // is not a token.
    int set_header_lines(const opt_in& in);
};

// A ws stream: takes over one reference to c.
class ws_stream final : public stream {
  public:
    // The text modes and send limit come from o.
    ws_stream(connection* c, std::unique_ptr<handshake_info> info, const endpoint_options& o);

    void send(aio* a) override;
    void recv(aio* a) override;
    void close() override;
    int get(std::string_view name, const opt_out& out) override;
    int set(std::string_view name, const opt_in& in) override;

    // Closes with code instead of 1000 (a listener's queued streams: 1001).
    void close_with(std::uint16_t code);

  private:
    ~ws_stream() override;

    connection* c_;
    std::unique_ptr<handshake_info> info_;
    bool send_text_;
    bool recv_text_;
    std::size_t send_max_;
};

} // namespace nnghttp::detail::ws
