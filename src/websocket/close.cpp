#include "websocket/close.hpp"

#include "websocket/utf8.hpp"

namespace nnghttp::detail::ws {

bool is_valid_close_code(std::uint16_t code) noexcept {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

close_payload parse_close_payload(std::string_view payload) noexcept {
    close_payload r;
    if (payload.empty()) {
        return r;
    }
    if (payload.size() == 1) {
        r.error = frame_error::close_payload_one_byte;
        return r;
    }
    const auto code = std::uint16_t((std::uint8_t(payload[0]) << 8) | std::uint8_t(payload[1]));
    if (!is_valid_close_code(code)) {
        r.error = frame_error::invalid_close_code;
        return r;
    }
    std::string_view reason = payload.substr(2);
    if (!is_valid_utf8(reason)) {
        r.error = frame_error::invalid_close_reason;
        return r;
    }
    r.code = code;
    r.reason = reason;
    return r;
}

std::string_view fit_close_reason(std::string_view reason) noexcept {
    if (reason.size() <= max_close_reason) {
        return reason;
    }
    std::size_t n = max_close_reason;
    // Back off over continuation bytes (10xxxxxx) to the start of the
    // character that straddles the limit.
    while (n > 0 && (std::uint8_t(reason[n]) & 0xC0) == 0x80) {
        n--;
    }
    return reason.substr(0, n);
}

} // namespace nnghttp::detail::ws
