// Design notes.
//
// The header (2 to 14 bytes) is read a byte at a time and each byte is
// checked as it arrives, against the header bytes before it and the state of
// the message in progress.  Every check depends only on bytes at or before
// the one that triggers it, and the checks run in byte order, so the first
// failure is the same byte with the same error however the stream is split.
// The limits compare against the smallest length the length bytes read so
// far allow (the bytes still to come can only add to it), so an absurd
// length fails on its first byte; the shortest-form check needs the whole
// 16-bit value, or the first six bytes of the 64-bit one (all zero means
// below 65536), and runs before the limits on that byte.  A length that
// trips a limit early is never non-minimal, since its high bytes are not
// all zero.  No byte of payload is read, and nothing is allocated, before a
// frame has passed every header check.
//
// Payload is not buffered.  Data frames are unmasked where they lie (or
// while being copied out) and handed back as views, with the mask phase
// (payload offset % 4) taken from how much of the frame has gone out.  Text
// is checked by a utf8_validator that lives as long as the message, so a
// character split across pieces or fragments is followed through.  Control
// payloads, at most 125 bytes, are gathered into a fixed array so that a
// close frame can be checked and a ping answered as one piece.
//
// A frame with no payload produces no event unless it ends a message or
// is a control frame, and is passed over inside the same call: a flood of
// empty fragments costs a few header bytes each, linear time and no memory,
// until the fragment cap (1008) ends it.
//
// Errors and the close state are sticky: the result is kept and returned
// by every later call, so a caller that calls again by mistake cannot
// read on past a failure.
#include "websocket/decoder.hpp"

#include "websocket/close.hpp"
#include "websocket/mask.hpp"

#include <algorithm>
#include <cstring>

namespace nnghttp::detail::ws {

frame_decoder::frame_decoder(role r, decoder_options opts) noexcept : role_(r), opts_(opts) {}

void frame_decoder::reset() noexcept {
    *this = frame_decoder(role_, opts_);
}

decode_result frame_decoder::decode(std::span<char> in) noexcept {
    return run(in.data(), in.data(), in.size(), nullptr, 0);
}

decode_result frame_decoder::decode(std::string_view in, std::span<char> out) noexcept {
    // A non-null scratch pointer marks the copying mode even when out is
    // empty (its data() may then be null).
    char none = 0;
    return run(in.data(), nullptr, in.size(), out.empty() ? &none : out.data(), out.size());
}

decode_result frame_decoder::fail(frame_error e, std::uint64_t at) noexcept {
    st_ = state::failed;
    sticky_ = decode_result{};
    sticky_.status = decode_status::error;
    sticky_.error = e;
    sticky_.error_offset = at;
    return sticky_;
}

frame_error frame_decoder::first_byte(std::uint8_t b) noexcept {
    const auto op = std::uint8_t(b & 0x0F);
    const std::uint8_t rsv = b & rsv_mask;
    const bool fin = (b & 0x80) != 0;
    if ((op >= 0x3 && op <= 0x7) || op >= 0xB) {
        return frame_error::reserved_opcode;
    }
    const bool control = (op & 0x8) != 0;
    const std::uint8_t allowed = control ? 0 : op == 0 ? opts_.rsv_continuation : opts_.rsv_first;
    if ((rsv & ~allowed) != 0) {
        return frame_error::reserved_bits;
    }
    if (control && !fin) {
        return frame_error::fragmented_control;
    }
    if (op == 0) {
        if (!in_message_) {
            return frame_error::unexpected_continuation;
        }
        if (msg_frames_ >= std::max<std::uint64_t>(opts_.max_fragments, 1)) {
            return frame_error::too_many_fragments;
        }
        msg_frames_++;
    } else if (!control) {
        if (in_message_) {
            return frame_error::expected_continuation;
        }
        in_message_ = true;
        started_ = false;
        msg_op_ = opcode(op);
        msg_rsv_ = rsv;
        msg_size_ = 0;
        msg_frames_ = 1;
        check_utf8_ = opts_.validate_text && msg_op_ == opcode::text && rsv == 0;
        utf8_.reset();
    }
    op_ = opcode(op);
    fin_ = fin;
    return frame_error::none;
}

frame_error frame_decoder::second_byte(std::uint8_t b) noexcept {
    masked_ = (b & 0x80) != 0;
    const std::uint8_t len7 = b & 0x7F;
    if (role_ == role::server && !masked_) {
        return frame_error::mask_required;
    }
    if (role_ == role::client && masked_) {
        return frame_error::unexpected_mask;
    }
    if (is_control(op_)) {
        if (len7 > max_control_payload) {
            return frame_error::control_too_long;
        }
        if (op_ == opcode::close && len7 == 1) {
            return frame_error::close_payload_one_byte;
        }
    }
    lbytes_ = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    hsize_ = std::uint8_t(2 + lbytes_ + (masked_ ? 4 : 0));
    length_ = lbytes_ == 0 ? len7 : 0;
    return lbytes_ == 0 && !is_control(op_) ? check_limits(length_) : frame_error::none;
}

frame_error frame_decoder::length_byte(std::uint8_t b) noexcept {
    const std::size_t idx = hread_ - 2u; // 0 for the first length byte
    if (lbytes_ == 8 && idx == 0 && (b & 0x80) != 0) {
        return frame_error::length_top_bit;
    }
    length_ = (length_ << 8) | b;
    if ((lbytes_ == 2 && idx == 1 && length_ < 126) || (lbytes_ == 8 && idx == 5 && length_ == 0)) {
        return frame_error::non_minimal_length;
    }
    const std::size_t left = lbytes_ - idx - 1;
    return check_limits(length_ << (8 * left));
}

frame_error frame_decoder::check_limits(std::uint64_t at_least) const noexcept {
    if (at_least > opts_.max_frame) {
        return frame_error::frame_too_large;
    }
    // msg_size_ never exceeds max_message, so this cannot wrap.
    if (at_least > opts_.max_message - msg_size_) {
        return frame_error::message_too_large;
    }
    return frame_error::none;
}

frame_error frame_decoder::header_byte(std::uint8_t b) noexcept {
    frame_error e = frame_error::none;
    if (hread_ == 0) {
        e = first_byte(b);
    } else if (hread_ == 1) {
        e = second_byte(b);
    } else if (hread_ < 2 + lbytes_) {
        e = length_byte(b);
    } else {
        key_[hread_ - 2 - lbytes_] = b;
    }
    hread_++;
    return e;
}

void frame_decoder::begin_payload() noexcept {
    st_ = state::payload;
    remaining_ = length_;
    if (is_control(op_)) {
        ctl_len_ = 0;
    } else {
        msg_size_ += length_;
    }
}

// Gathers up to avail bytes of a control payload from p; at the end of the
// frame, reports it (or fails a bad close payload).
decode_result frame_decoder::control_payload(const char* p, std::size_t avail,
                                             std::size_t& i) noexcept {
    if (masked_) {
        copy_masked(ctl_.data() + ctl_len_, p, avail, key_, ctl_len_);
    } else if (avail > 0) {
        std::memcpy(ctl_.data() + ctl_len_, p, avail);
    }
    ctl_len_ = std::uint8_t(ctl_len_ + avail);
    remaining_ -= avail;
    i += avail;
    decode_result r;
    r.consumed = i;
    if (remaining_ > 0) {
        return r; // need_more
    }
    st_ = state::header;
    hread_ = 0;
    hsize_ = 2;
    lbytes_ = 0;
    r.status = decode_status::control;
    r.op = op_;
    r.data = std::string_view(ctl_.data(), ctl_len_);
    if (op_ == opcode::close) {
        close_payload c = parse_close_payload(r.data);
        if (c.error != frame_error::none) {
            return fail(c.error, pos_ + i - 1); // the frame's last byte
        }
        r.close_code = c.code;
        r.close_reason = c.reason;
        st_ = state::closed;
        sticky_ = decode_result{};
        sticky_.status = decode_status::closed;
    }
    return r;
}

// Hands out avail payload bytes of a data frame, already at dst and
// unmasked; checks text; ends the frame and the message when they end.
// Returns need_more when there is nothing to report (an empty fragment).
decode_result frame_decoder::data_payload(const char* dst, std::size_t avail,
                                          std::size_t& i) noexcept {
    if (check_utf8_) {
        std::size_t ok = utf8_.feed(std::string_view(dst, avail));
        if (ok < avail) {
            return fail(frame_error::invalid_utf8, pos_ + i + ok);
        }
    }
    i += avail;
    remaining_ -= avail;
    const bool last = remaining_ == 0 && fin_;
    if (last && check_utf8_ && !utf8_.complete()) {
        return fail(frame_error::invalid_utf8, pos_ + i - 1); // cut short
    }
    if (remaining_ == 0) {
        st_ = state::header;
        hread_ = 0;
        hsize_ = 2;
        lbytes_ = 0;
        if (last) {
            in_message_ = false;
        }
    }
    decode_result r;
    r.consumed = i;
    if (avail == 0 && !last) {
        return r; // need_more: an empty fragment, or nothing yet
    }
    r.status = decode_status::data;
    r.data = std::string_view(dst, avail);
    r.op = msg_op_;
    r.rsv = msg_rsv_;
    r.first = !started_;
    r.last = last;
    started_ = true;
    return r;
}

decode_result frame_decoder::run(const char* in, char* inplace, std::size_t n, char* out,
                                 std::size_t out_size) noexcept {
    if (st_ == state::failed || st_ == state::closed) {
        return sticky_;
    }
    std::size_t i = 0;
    for (;;) {
        if (st_ == state::header) {
            while (i < n && hread_ < hsize_) {
                frame_error e = header_byte(std::uint8_t(in[i]));
                if (e != frame_error::none) {
                    return fail(e, pos_ + i);
                }
                i++;
            }
            if (hread_ < hsize_) {
                break; // need_more
            }
            begin_payload();
        }
        const bool control = is_control(op_);
        std::size_t avail = std::size_t(std::min<std::uint64_t>(remaining_, n - i));
        if (out != nullptr && !control) {
            avail = std::min(avail, out_size);
        }
        if (avail == 0 && remaining_ > 0) {
            break; // need_more: no input left, or no room in out
        }
        decode_result r;
        if (control) {
            r = control_payload(in + i, avail, i);
        } else {
            char* dst = out != nullptr ? out : inplace + i;
            const std::uint64_t done = length_ - remaining_;
            if (masked_) {
                copy_masked(dst, in + i, avail, key_, std::size_t(done & 3));
            } else if (out != nullptr && avail > 0) {
                std::memcpy(dst, in + i, avail);
            }
            r = data_payload(dst, avail, i);
        }
        if (r.status == decode_status::error) {
            return r;
        }
        if (r.status != decode_status::need_more) {
            pos_ += i;
            return r;
        }
    }
    pos_ += i;
    decode_result r;
    r.consumed = i;
    return r;
}

} // namespace nnghttp::detail::ws
