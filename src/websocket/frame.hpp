// WebSocket framing vocabulary (RFC 6455 section 5): opcodes, the two
// roles, the masking key, the fixed sizes of the frame header, and the
// errors a received frame can have, each with the close code to send.
// Pure definitions shared by the decoder, the encoder and the close-frame
// code; no I/O, no state.
//
// This directory is the protocol core that the ws:// and wss:// streams of
// the C API and the message API of the C++ API sit on:
//   frame.hpp       this file
//   mask.hpp        masking and unmasking, a word (or a vector) at a time
//   utf8.hpp        incremental UTF-8 validation
//   close.hpp       close codes and close-frame payloads
//   decoder.hpp     incremental frame decoder with limits
//   encoder.hpp     frame headers, frames and control frames
//   handshake.hpp   Sec-WebSocket-Accept/-Key, token lists, subprotocols
//   extensions.hpp  Sec-WebSocket-Extensions parsing
//   random.hpp      masking keys and handshake nonces from OpenSSL
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nnghttp::detail::ws {

// Frame opcodes (RFC 6455 section 5.2).  3-7 and 0xB-0xF are reserved and
// never appear in a decoded frame.
enum class opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

// Control frames (close, ping, pong) have the top opcode bit set.
constexpr bool is_control(opcode op) noexcept {
    return (std::uint8_t(op) & 0x8) != 0;
}

// Which end of the connection this is.  Clients mask every frame they send
// and servers none (RFC 6455 section 5.1); each side fails a connection on
// which the other breaks that rule.
enum class role : std::uint8_t { server, client };

// The 4-byte masking key, in wire order.
using mask_key = std::array<std::uint8_t, 4>;

// The reserved bits of the first header byte, as they sit on the wire.
// RSV1 is permessage-deflate's "compressed" bit (RFC 7692).
inline constexpr std::uint8_t rsv1 = 0x40;
inline constexpr std::uint8_t rsv2 = 0x20;
inline constexpr std::uint8_t rsv3 = 0x10;
inline constexpr std::uint8_t rsv_mask = rsv1 | rsv2 | rsv3;

// 2 bytes, up to 8 of extended length, up to 4 of masking key.
inline constexpr std::size_t max_header_size = 14;
// A control frame's payload is at most this long (RFC 6455 section 5.5).
inline constexpr std::size_t max_control_payload = 125;
// A close frame's reason: the control payload less the 2-byte code.
inline constexpr std::size_t max_close_reason = max_control_payload - 2;
// The largest length the 64-bit form can carry (its top bit must be 0).
inline constexpr std::uint64_t max_frame_length = 0x7fffffffffffffffull;

// Why a received frame (or a received close frame's payload) is refused.
// close_code() gives the code of the close frame to answer with, describe()
// a short English text.
enum class frame_error : std::uint8_t {
    none = 0,
    // header, first byte
    reserved_opcode,         // opcode 3-7 or 0xB-0xF (1002)
    reserved_bits,           // RSV bit no negotiated extension allows (1002)
    fragmented_control,      // control frame without FIN (1002)
    unexpected_continuation, // continuation with no message in progress (1002)
    expected_continuation,   // text/binary while a message is in progress (1002)
    too_many_fragments,      // message over the fragment cap (1008)
    // header, second byte and length
    mask_required,      // a server got an unmasked frame (1002)
    unexpected_mask,    // a client got a masked frame (1002)
    control_too_long,   // control payload over 125 bytes (1002)
    non_minimal_length, // length not in its shortest form (1002)
    length_top_bit,     // 64-bit length with its top bit set (1002)
    frame_too_large,    // frame payload over the limit (1009)
    message_too_large,  // message (sum of fragments) over the limit (1009)
    // payload
    invalid_utf8, // text message that is not UTF-8 (1007)
    // close frame payload
    close_payload_one_byte, // a 1-byte close payload (1002)
    invalid_close_code,     // a code not allowed on the wire (1002)
    invalid_close_reason,   // a reason that is not UTF-8 (1007)
};

// The close code to send when failing the connection for e (1002, 1007,
// 1008 or 1009); 0 for frame_error::none.
std::uint16_t close_code(frame_error e) noexcept;

// A short lower-case description, e.g. "reserved opcode".
std::string_view describe(frame_error e) noexcept;

} // namespace nnghttp::detail::ws
