// WebSocket frames written as bytes (RFC 6455 section 5.2).  Pure code: no
// I/O, no state.
//
// make_frame_header() writes a header with the length in its shortest form
// (7 bits up to 125, 16 bits up to 65535, 64 bits beyond), so that a strict
// peer (this project's decoder among them) accepts it.  The payload is not
// copied there: the caller sends header and payload with one gathered
// write.  A client masks every frame it sends with a fresh key from a
// strong source (random.hpp draws them from OpenSSL); it masks the payload
// into its own buffer with copy_masked() from mask.hpp, since the
// application's bytes must not change.
//
// append_frame() and the control-frame builders write whole frames into a
// std::string, for control frames and small messages.
//
// make_frame_header() and append_frame() do not validate: they write what
// they are given.  The caller keeps rsv to the bits it negotiated, control
// frames final and at most 125 bytes, and lengths at most 2^63-1.  The
// control-frame builders do check their arguments, since a close frame's
// code and reason come from applications.
#pragma once

#include "websocket/frame.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nnghttp::detail::ws {

struct frame_options {
    bool fin = true;
    std::uint8_t rsv = 0;         // some of rsv1 | rsv2 | rsv3
    std::optional<mask_key> mask; // a client's key for this frame
};

// One frame header, kept in place (a gathered write can point at it).
struct frame_header {
    std::array<char, max_header_size> bytes{};
    std::uint8_t size = 0;
    std::string_view view() const noexcept { return {bytes.data(), size}; }
};

// Size of the header for a payload of `length` bytes: 2 to 14.
constexpr std::size_t frame_header_size(std::uint64_t length, bool masked) noexcept {
    return 2 + (length <= 125 ? 0 : length <= 0xFFFF ? 2 : 8) + (masked ? 4 : 0);
}

frame_header make_frame_header(opcode op, std::uint64_t length,
                               const frame_options& opts = {}) noexcept;

// Appends header and payload, the payload masked with opts.mask if set.
void append_frame(std::string& out, opcode op, std::string_view payload,
                  const frame_options& opts = {});

// Append a ping or pong frame.  False, and nothing appended, if the payload
// is over 125 bytes.
bool append_ping(std::string& out, std::string_view payload,
                 std::optional<mask_key> mask = std::nullopt);
bool append_pong(std::string& out, std::string_view payload,
                 std::optional<mask_key> mask = std::nullopt);

// Appends a close frame: an empty payload when code is 0, else the code and
// the reason.  False, and nothing appended, if the code may not be sent
// (is_valid_close_code() in close.hpp), the reason is over 123 bytes or not
// UTF-8, or a reason comes without a code.  fit_close_reason() shortens a
// long reason.
bool append_close(std::string& out, std::uint16_t code, std::string_view reason = {},
                  std::optional<mask_key> mask = std::nullopt);

} // namespace nnghttp::detail::ws
