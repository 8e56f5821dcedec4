#include "websocket/encoder.hpp"

#include "websocket/close.hpp"
#include "websocket/mask.hpp"
#include "websocket/utf8.hpp"

namespace nnghttp::detail::ws {

frame_header make_frame_header(opcode op, std::uint64_t length,
                               const frame_options& opts) noexcept {
    frame_header h;
    auto put = [&h](std::uint64_t byte) { h.bytes[h.size++] = char(std::uint8_t(byte)); };
    put((opts.fin ? 0x80u : 0u) | (opts.rsv & rsv_mask) | std::uint8_t(op));
    const std::uint8_t mask_bit = opts.mask ? 0x80 : 0;
    if (length <= 125) {
        put(mask_bit | length);
    } else if (length <= 0xFFFF) {
        put(mask_bit | 126u);
        put(length >> 8);
        put(length);
    } else {
        put(mask_bit | 127u);
        for (int shift = 56; shift >= 0; shift -= 8) {
            put(length >> shift);
        }
    }
    if (opts.mask) {
        for (std::uint8_t k : *opts.mask) {
            put(k);
        }
    }
    return h;
}

void append_frame(std::string& out, opcode op, std::string_view payload,
                  const frame_options& opts) {
    const frame_header h = make_frame_header(op, payload.size(), opts);
    const std::size_t at = out.size() + h.size;
    out.reserve(at + payload.size());
    out.append(h.view());
    out.append(payload);
    if (opts.mask) {
        apply_mask(out.data() + at, payload.size(), *opts.mask, 0);
    }
}

namespace {

bool append_control(std::string& out, opcode op, std::string_view payload,
                    std::optional<mask_key> mask) {
    if (payload.size() > max_control_payload) {
        return false;
    }
    frame_options o;
    o.mask = mask;
    append_frame(out, op, payload, o);
    return true;
}

} // namespace

bool append_ping(std::string& out, std::string_view payload, std::optional<mask_key> mask) {
    return append_control(out, opcode::ping, payload, mask);
}

bool append_pong(std::string& out, std::string_view payload, std::optional<mask_key> mask) {
    return append_control(out, opcode::pong, payload, mask);
}

bool append_close(std::string& out, std::uint16_t code, std::string_view reason,
                  std::optional<mask_key> mask) {
    if (code == 0) {
        return reason.empty() && append_control(out, opcode::close, {}, mask);
    }
    if (!is_valid_close_code(code) || reason.size() > max_close_reason || !is_valid_utf8(reason)) {
        return false;
    }
    char payload[max_control_payload];
    payload[0] = char(code >> 8);
    payload[1] = char(code & 0xFF);
    reason.copy(payload + 2, reason.size());
    return append_control(out, opcode::close, std::string_view(payload, 2 + reason.size()), mask);
}

} // namespace nnghttp::detail::ws
