#include "websocket/frame.hpp"

#include "websocket/close.hpp"

namespace nnghttp::detail::ws {

std::uint16_t close_code(frame_error e) noexcept {
    switch (e) {
    case frame_error::none:
        return 0;
    case frame_error::too_many_fragments:
        return close_policy_violation;
    case frame_error::frame_too_large:
    case frame_error::message_too_large:
        return close_too_big;
    case frame_error::invalid_utf8:
    case frame_error::invalid_close_reason:
        return close_invalid_data;
    default:
        return close_protocol_error;
    }
}

std::string_view describe(frame_error e) noexcept {
    switch (e) {
    case frame_error::none:
        return "no error";
    case frame_error::reserved_opcode:
        return "reserved opcode";
    case frame_error::reserved_bits:
        return "reserved bit set without an extension";
    case frame_error::fragmented_control:
        return "fragmented control frame";
    case frame_error::unexpected_continuation:
        return "continuation frame with no message in progress";
    case frame_error::expected_continuation:
        return "new message while another is in progress";
    case frame_error::too_many_fragments:
        return "too many fragments in a message";
    case frame_error::mask_required:
        return "unmasked frame from a client";
    case frame_error::unexpected_mask:
        return "masked frame from a server";
    case frame_error::control_too_long:
        return "control frame payload over 125 bytes";
    case frame_error::non_minimal_length:
        return "payload length not minimally encoded";
    case frame_error::length_top_bit:
        return "64-bit payload length with its top bit set";
    case frame_error::frame_too_large:
        return "frame too large";
    case frame_error::message_too_large:
        return "message too large";
    case frame_error::invalid_utf8:
        return "text message is not valid UTF-8";
    case frame_error::close_payload_one_byte:
        return "close frame payload of one byte";
    case frame_error::invalid_close_code:
        return "invalid close code";
    case frame_error::invalid_close_reason:
        return "close reason is not valid UTF-8";
    }
    return "unknown error";
}

} // namespace nnghttp::detail::ws
