// Incremental decoder of received WebSocket frames (RFC 6455 section 5).
// Pure code: no I/O, no global state, no locks, and no allocation: one
// decoder belongs to one connection and is used from one thread at a time.
//
// Feeding.  Like http::chunk_decoder, decode(in) reads from the front of
// `in` until it has something to report, reaches the end of `in`, or finds
// an error.  It returns how many bytes of `in` it consumed; the caller drops
// them and calls again with the rest (and whatever arrived since).  Bytes
// once consumed are never needed again, whatever the split, and every split
// of the same stream gives the same messages, the same control frames and
// the same verdict, at the same stream offset.
//
// Delivery.  Message payload comes out as decode_status::data events whose
// `data` views point INTO `in` (zero-copy): the payload is unmasked in
// place, the masking key's phase carried from one piece to the next.  A
// frame's payload may come out in several events (one per call that sees
// some of it); the events of one message carry the message's opcode, and
// `first` and `last` mark its first and last bytes.  An empty message is
// one event with empty data, first and last.  The other overload copies
// the unmasked payload into a caller's buffer instead and leaves `in`
// untouched.  Control frames (at most 125 bytes) are gathered in the
// decoder and come out whole as decode_status::control events, between the
// data events of a fragmented message if that is where they were sent.
//
// Strictness (every choice has a test).  Each check is made as soon as the
// bytes it needs have arrived, in this order:
//   first byte:   reserved opcode (3-7, 0xB-0xF); an RSV bit that
//                 decoder_options does not allow; a control frame without
//                 FIN; a continuation with no message in progress; a text
//                 or binary frame while one is in progress; a continuation
//                 past decoder_options::max_fragments (1008).
//   second byte:  the MASK bit against the role (a server requires masked
//                 frames, a client unmasked ones); a control payload over
//                 125; a close payload of exactly 1 byte.
//   length:       the 64-bit form's top bit; a length not in its shortest
//                 form (16-bit below 126, 64-bit below 65536); the frame
//                 and message limits (1009).  The limits are checked on
//                 each length byte against the smallest length the bytes so
//                 far allow, so 2^63-1 fails on the first of its 8 length
//                 bytes; every error is reported before any payload.
//   payload:      text messages are checked as UTF-8 a piece at a time and
//                 fail on the first invalid byte, or at the end of the
//                 message if a character is cut short (1007); a close
//                 payload is checked at the end of its frame (code, then
//                 reason as UTF-8).
// Text messages whose first frame has an RSV bit set (compressed, with
// permessage-deflate) are not checked: their payload is not the text; the
// layer that inflates them checks the result with utf8_validator.
//
// After an error, decode() returns the same result (consuming nothing)
// until reset().  After a close frame, it returns decode_status::closed
// and consumes nothing: RFC 6455 section 5.5.1 says nothing may follow it.
#pragma once

#include "websocket/frame.hpp"
#include "websocket/utf8.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

namespace nnghttp::detail::ws {

// Limits and negotiated extension bits.  The limits are checked from the
// frame headers, before any payload is read.
struct decoder_options {
    // Largest payload of one data frame (1009 beyond it).
    std::uint64_t max_frame = 16u << 20;
    // Largest message: the sum of its fragments' lengths (1009 beyond it).
    std::uint64_t max_message = 16u << 20;
    // Most frames in one message (1008 beyond it).  The first frame of a
    // message is always allowed, so 0 and 1 both forbid fragmentation.
    // Bounds the work a peer can cause with a flood of empty fragments.
    // Autobahn|Testsuite's cases 9.3.x and 9.4.x send 4 MiB messages in
    // 64-byte fragments (65,536 of them); the default leaves room for that.
    std::uint64_t max_fragments = 1u << 17;
    // RSV bits allowed on the first frame of a text or binary message, and
    // on continuation frames.  Control frames allow none.  permessage-deflate
    // sets rsv_first = rsv1 and leaves rsv_continuation 0 (RFC 7692
    // section 6).
    std::uint8_t rsv_first = 0;
    std::uint8_t rsv_continuation = 0;
    // Check that text messages are UTF-8 (RFC 6455 section 8.1).
    bool validate_text = true;

    static constexpr std::uint64_t unlimited = std::numeric_limits<std::uint64_t>::max();
};

enum class decode_status : std::uint8_t {
    need_more, // nothing to report: every byte was absorbed (see below)
    data,      // message payload in `data`
    control,   // a whole ping, pong or close frame
    error,     // the connection must be failed: see `error`
    closed,    // a close frame was decoded earlier; nothing more is read
};

struct decode_result {
    decode_status status = decode_status::need_more;
    // Bytes of `in` used.  With need_more this is all of `in`, except in
    // the copying overload when `out` had no room left.
    std::size_t consumed = 0;

    // data: payload bytes, inside `in` (or `out`).  control: the payload,
    // inside the decoder, valid until the next call.
    std::string_view data;
    // data: text or binary (the message's opcode).  control: close, ping
    // or pong.
    opcode op = opcode::continuation;
    // data: the RSV bits of the message's first frame.
    std::uint8_t rsv = 0;
    bool first = false; // data: the first event of its message
    bool last = false;  // data: the message ends with these bytes

    // control, for close: the code (0 when the payload was empty) and the
    // reason, a view into the decoder valid until the next call.
    std::uint16_t close_code = 0;
    std::string_view close_reason;

    // error: what is wrong (close_code(error) is the code to send) and the
    // stream offset of the byte that showed it (counted from the first
    // byte decoded since construction or reset()).
    frame_error error = frame_error::none;
    std::uint64_t error_offset = 0;
};

class frame_decoder {
  public:
    explicit frame_decoder(role r, decoder_options opts = {}) noexcept;

    // Decodes from the front of in, unmasking payload in place.
    [[nodiscard]] decode_result decode(std::span<char> in) noexcept;

    // Decodes from the front of in, which is left unchanged, writing
    // unmasked payload to the front of out (at most out.size() bytes per
    // call; data views point into out).  With out empty, it reads up to
    // the next payload byte of a data frame and returns need_more with
    // fewer bytes consumed than in holds.
    [[nodiscard]] decode_result decode(std::string_view in, std::span<char> out) noexcept;

    // Ready for a new stream; keeps the role and options.
    void reset() noexcept;

    // Whether a fragmented message is in progress.
    bool in_message() const noexcept { return in_message_; }
    // Whether every frame begun so far has ended (the next byte is the
    // first of a frame header).
    bool between_frames() const noexcept { return st_ == state::header && hread_ == 0; }
    // Payload bytes of the current frame still to come (0 outside a payload).
    std::uint64_t payload_remaining() const noexcept { return st_ == state::payload ? remaining_ : 0; }
    // Header plus payload length of the current frame (0 outside a payload).
    std::uint64_t frame_size() const noexcept { return st_ == state::payload ? hread_ + length_ : 0; }
    // Stream bytes consumed since construction or reset().
    std::uint64_t offset() const noexcept { return pos_; }

    role side() const noexcept { return role_; }
    const decoder_options& options() const noexcept { return opts_; }

  private:
    enum class state : std::uint8_t { header, payload, closed, failed };
    decode_result run(const char* in, char* inplace, std::size_t n, char* out,
                      std::size_t out_size) noexcept;
    frame_error header_byte(std::uint8_t b) noexcept;
    frame_error first_byte(std::uint8_t b) noexcept;
    frame_error second_byte(std::uint8_t b) noexcept;
    frame_error length_byte(std::uint8_t b) noexcept;
    frame_error check_limits(std::uint64_t at_least) const noexcept;
    void begin_payload() noexcept;
    decode_result control_payload(const char* p, std::size_t avail, std::size_t& i) noexcept;
    decode_result data_payload(const char* dst, std::size_t avail, std::size_t& i) noexcept;
    decode_result fail(frame_error e, std::uint64_t at) noexcept;

    role role_;
    decoder_options opts_;
    state st_ = state::header;
    std::uint64_t pos_ = 0; // stream offset of the next byte

    // The frame being read.
    std::uint8_t hread_ = 0;  // header bytes read
    std::uint8_t hsize_ = 2;  // header size, known after its second byte
    std::uint8_t lbytes_ = 0; // extended length bytes: 0, 2 or 8
    opcode op_ = opcode::continuation;
    bool fin_ = false;
    bool masked_ = false;
    mask_key key_{};
    std::uint64_t length_ = 0;    // payload length (partial while read)
    std::uint64_t remaining_ = 0; // payload bytes still to come

    // The message in progress.
    bool in_message_ = false;
    bool started_ = false; // its first data event went out
    bool check_utf8_ = false;
    opcode msg_op_ = opcode::text;
    std::uint8_t msg_rsv_ = 0;
    std::uint64_t msg_size_ = 0;   // sum of its frames' lengths so far
    std::uint64_t msg_frames_ = 0; // its frames so far
    utf8_validator utf8_;

    // A control frame's payload, gathered.
    std::array<char, max_control_payload> ctl_{};
    std::uint8_t ctl_len_ = 0;

    decode_result sticky_; // error or closed
};

} // namespace nnghttp::detail::ws
