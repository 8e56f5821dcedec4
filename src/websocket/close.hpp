// Close codes and close-frame payloads (RFC 6455 sections 5.5.1 and 7.4).
//
// A close payload is empty, or a 2-byte code (network order) followed by a
// reason in UTF-8.  A 1-byte payload is a protocol error (1002), a reason
// that is not UTF-8 an invalid-data error (1007).
//
// Which codes may appear in a close frame (sent or received; the same set
// both ways, so what this side sends, a strict peer accepts):
//
//   0-999       refused: RFC 6455 section 7.4.2 says they are not used.
//   1000-1003   accepted: normal, going away, protocol error, unsupported
//               data (section 7.4.1).
//   1004        refused: reserved, with no meaning defined.
//   1005, 1006  refused: section 7.4.1 says an endpoint MUST NOT set them
//               in a close frame (they stand for "no code received" and
//               "closed without a close frame").
//   1007-1011   accepted: invalid data, policy violation, too big,
//               missing extension, internal error (section 7.4.1).
//   1012-1014   accepted: registered since with IANA ("WebSocket Close
//               Code Number Registry": service restart, try again later,
//               bad gateway).  Autobahn|Testsuite listed them among the
//               invalid codes of its case 7.9.x until 2016 (1012, 1013)
//               and 2018 (1014), then dropped them from that list; no case
//               sends them now, so following the registry costs nothing.
//   1015        refused: TLS handshake failure, which section 7.4.1 also
//               says MUST NOT be set in a close frame.  (Autobahn dropped
//               it from case 7.9.x in 2018 as well, so that suite accepts
//               either answer.)
//   1016-2999   refused: reserved for future revisions of the protocol and
//               for extensions, and unassigned in the registry: a peer
//               that sends one means something this code cannot know.
//               Autobahn's case 7.9.x expects 1016, 1100, 2000 and 2999 to
//               be refused with 1002.
//   3000-3999   accepted: registered with IANA by libraries and frameworks.
//   4000-4999   accepted: private use.
//   5000-65535  refused: outside every range section 7.4.2 defines.
//               (Autobahn's cases 7.13.x send 5000 and 65535 and leave the
//               outcome open.)
//
// A refused code in a received close frame fails the connection with 1002.
//
// The answer to a peer's close frame echoes its code (section 5.5.1: "the
// endpoint typically echos the status code it received"), and an empty
// close frame is answered with an empty one.  Autobahn's cases 7.3.1 and
// 7.7.x accept exactly that: "normal or echoed code", or none.
#pragma once

#include "websocket/frame.hpp"

#include <cstdint>
#include <string_view>

namespace nnghttp::detail::ws {

inline constexpr std::uint16_t close_normal = 1000;
inline constexpr std::uint16_t close_going_away = 1001;
inline constexpr std::uint16_t close_protocol_error = 1002;
inline constexpr std::uint16_t close_unsupported_data = 1003;
inline constexpr std::uint16_t close_no_status = 1005; // never on the wire
inline constexpr std::uint16_t close_abnormal = 1006;  // never on the wire
inline constexpr std::uint16_t close_invalid_data = 1007;
inline constexpr std::uint16_t close_policy_violation = 1008;
inline constexpr std::uint16_t close_too_big = 1009;
inline constexpr std::uint16_t close_missing_extension = 1010;
inline constexpr std::uint16_t close_internal_error = 1011;
inline constexpr std::uint16_t close_service_restart = 1012;
inline constexpr std::uint16_t close_try_again_later = 1013;
inline constexpr std::uint16_t close_bad_gateway = 1014;
inline constexpr std::uint16_t close_tls_handshake = 1015; // never on the wire

// Whether code may appear in a close frame (see the table above).
bool is_valid_close_code(std::uint16_t code) noexcept;

// A parsed close payload.  On success, code is 0 for an empty payload
// (the application sees close_no_status then), and reason is a view into
// the payload.
struct close_payload {
    frame_error error = frame_error::none;
    std::uint16_t code = 0;
    std::string_view reason;
};

// Parses and checks a received close frame's payload (at most 125 bytes;
// the decoder has checked that).  error is close_payload_one_byte,
// invalid_close_code or invalid_close_reason when refused.
close_payload parse_close_payload(std::string_view payload) noexcept;

// The code of the close frame that answers a valid received one: the same
// code, or 0 (an empty payload) when the received payload was empty.
constexpr std::uint16_t close_reply_code(std::uint16_t received) noexcept {
    return received;
}

// The longest prefix of reason that fits a close frame (123 bytes) and
// does not cut a character in two.  reason is assumed to be UTF-8.
std::string_view fit_close_reason(std::string_view reason) noexcept;

} // namespace nnghttp::detail::ws
