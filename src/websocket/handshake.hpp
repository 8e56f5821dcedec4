// The string work of the opening handshake (RFC 6455 section 4): the
// Sec-WebSocket-Accept answer, the Sec-WebSocket-Key and -Version checks,
// the token lists of Connection and Upgrade, and the choice of a
// subprotocol.  Pure functions over header values; the HTTP layer finds the
// fields (a field that may repeat is passed one line at a time, the
// results appended).  SHA-1 and base64 are OpenSSL's.
//
// Strictness (every choice has a test):
//   * Sec-WebSocket-Key must be the canonical base64 of 16 bytes: 22
//     alphabet characters, the last of which carries no stray low bits
//     (one of "AQgw"), then "==".  NNG 1.x only checks that it is 24
//     characters long.
//   * Lists (RFC 9110 section 5.6.1): elements separated by commas with
//     optional spaces and tabs around them; empty elements are skipped; any
//     element that is not a token (an Upgrade element: token, or
//     token "/" token) makes the whole list malformed, and a malformed
//     list contains nothing.  Tokens in Connection and Upgrade compare
//     without case ("keep-alive, Upgrade" has "upgrade"; "WebSocket" is
//     websocket).
//   * Subprotocols compare exactly, byte for byte: the server answers with
//     the client's own spelling of one of the names it offered, and a
//     client accepts only a name it offered.  A name offered twice makes
//     the offer malformed (section 11.3.4: the names "MUST all be unique").
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nnghttp::detail::ws {

// Appended to the key before hashing (RFC 6455 section 1.3).
inline constexpr std::string_view handshake_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
// The only Sec-WebSocket-Version this code speaks.
inline constexpr std::string_view websocket_version = "13";

// The Sec-WebSocket-Accept value for a Sec-WebSocket-Key: the base64 of the
// SHA-1 of key followed by handshake_guid (28 characters).  Empty only if
// OpenSSL fails.
std::string accept_key(std::string_view key);

// Whether the server's Sec-WebSocket-Accept answers the client's key.
bool accept_matches(std::string_view key, std::string_view accept);

// Whether key is a valid Sec-WebSocket-Key (see top).
bool is_valid_key(std::string_view key) noexcept;

// Whether a Sec-WebSocket-Version value is "13".
bool is_supported_version(std::string_view value) noexcept;

// Appends the tokens of a comma-separated list to out.  False if the list
// is malformed; out is then unchanged.
bool parse_token_list(std::string_view value, std::vector<std::string_view>& out);

// Whether a list (Connection) holds token, compared without case.
bool token_list_contains(std::string_view value, std::string_view token) noexcept;

// Whether an Upgrade value lists the protocol "websocket" (without case,
// without a version).
bool upgrade_has_websocket(std::string_view value) noexcept;

// Appends the subprotocol names of one Sec-WebSocket-Protocol field line of
// a request to offered.  False if a name is not a token or is already in
// offered; offered is then unchanged.
bool parse_protocols(std::string_view value, std::vector<std::string_view>& offered);

// The server's choice: the first of its supported names, in its order of
// preference, that the client offered; the view is the client's (an
// element of offered).  nullopt if none was offered: the server then
// answers without a Sec-WebSocket-Protocol (or refuses, if it requires
// one).
std::optional<std::string_view> choose_protocol(std::span<const std::string_view> offered,
                                                std::span<const std::string_view> supported);

// The client's check of the server's Sec-WebSocket-Protocol: exactly one of
// the names it offered.
bool is_offered_protocol(std::span<const std::string_view> offered,
                         std::string_view answer) noexcept;

} // namespace nnghttp::detail::ws
