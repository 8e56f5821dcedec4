// The opening handshake over an HTTP connection (RFC 6455 section 4), both
// sides, ending in a ws::connection.
//
// Server: a handler that sees an upgrade request calls answer_upgrade()
// to check it and make the answer.  On 101 it calls finish_upgrade(),
// which hijacks the HTTP connection, sends the 101 and hands the stream
// (with any frame bytes that came behind the request) to a new connection;
// the handler then completes its aio with no response.  Any other status
// is an ordinary answer (the response is filled in for it), sent by the
// server as usual.
//
// Client: client_upgrade() sends the request on a fresh HTTP connection,
// reads the answer and checks it; its aio completes with the connection in
// output 0 (one reference for the caller).  A refusal maps to NNG's codes:
// 401 and 403 NNG_EPERM, 404 and 405 NNG_ECONNREFUSED, anything else (or
// a 101 that fails a check) NNG_EPROTO.
#pragma once

#include "core/aio.hpp"
#include "core/ref_counted.hpp"
#include "http/client.hpp"
#include "http/conn.hpp"
#include "http/message.hpp"
#include "websocket/connection.hpp"
#include "websocket/deflate.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nnghttp::detail::ws {

// What the handshake said, kept for the connection's options.
struct handshake_info {
    std::string uri;                     // the request target
    http::header_list request_headers;   // as the client sent them
    http::header_list response_headers;  // as the server answered
    std::string protocol;                // the subprotocol chosen, or ""
    std::optional<deflate_params> deflate; // permessage-deflate, if agreed
};

struct accept_options {
    // Subprotocols this server speaks, in its order of preference.  The
    // first one the client offered is chosen; with none in common the
    // answer carries none (RFC 6455 section 4.2.2), or is 400 when
    // require_protocol is set.
    std::vector<std::string> protocols;
    bool require_protocol = false;
    // Extra fields of the 101 answer.
    http::header_list headers;
    // permessage-deflate (RFC 7692): accepted when enabled and an offer can
    // be honoured (else the connection goes on without it).
    deflate_config deflate;
};

// Checks req as an opening handshake and fills res: 101 with its fields,
// or the status that refuses it with a body naming the problem (400 for a
// malformed handshake, 405 for a method other than GET, 426 with
// Sec-WebSocket-Version: 13 for another version).  Returns the status.
// *deflate (if given) gets the permessage-deflate parameters agreed.
std::uint16_t answer_upgrade(const http::request& req, const accept_options& opts,
                             http::response& res, std::string& protocol,
                             std::optional<deflate_params>* deflate = nullptr);

// Called once the 101 is sent: rv 0 and the connection (one reference for
// the callee), or an error (the connection is then gone).
using upgrade_ready_fn = void (*)(void* arg, int rv, connection* c,
                                  std::unique_ptr<handshake_info> info);

// After answer_upgrade gave 101: takes the connection over and sends res.
// keep (if given) is held until fn has run.  info->deflate, if set, turns
// compression on for the connection.
void finish_upgrade(http::conn& c, std::unique_ptr<http::response> res,
                    std::unique_ptr<handshake_info> info, const settings& cfg, upgrade_ready_fn fn,
                    void* arg, ref_counted* keep);

struct dial_options {
    std::string uri = "/";  // request target
    std::string host;       // the Host field
    std::vector<std::string> protocols; // offered, in order
    http::header_list headers;          // extra request fields
    settings cfg;                       // for the connection (role client)
    deflate_config deflate;             // permessage-deflate offered if enabled
};

// The client side on c (takes over one reference).  a completes with the
// ws::connection* in output 0 (one reference for the caller); *info (if
// given) gets the handshake's fields.  info must stay valid until a
// completes.
void client_upgrade(ref_ptr<http::conn> c, dial_options opts, aio* a,
                    std::unique_ptr<handshake_info>* info);

// The same on a new connection of cli (http:// or https://).
void dial(http::client& cli, dial_options opts, aio* a, std::unique_ptr<handshake_info>* info);

} // namespace nnghttp::detail::ws
