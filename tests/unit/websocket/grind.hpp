// Shared by the WebSocket decoder tests: a frame builder that works byte by
// byte (independent of the encoder and of mask.cpp), and a grinder that
// decodes a stream whole, byte by byte, split in two at every offset, and
// copied out through small buffers, checking that every way gives the same
// log of messages and control frames and the same verdict at the same
// offset.
#pragma once

#include "websocket/decoder.hpp"

#include <gtest/gtest.h>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace nnghttp::detail::ws::test {

inline constexpr mask_key test_key = {0x37, 0xfa, 0x21, 0x3d};

// How a frame's length is written: the shortest form, or a forced one (to
// build non-minimal encodings).
enum class len_form { shortest, l16, l64 };

// One frame: first header byte b0 (FIN, RSV, opcode), payload, masked with
// key when masked.  The length field may be forced to a form, or replaced
// by announce (a length that differs from the payload given).
struct frame_spec {
    std::uint8_t b0 = 0x81;
    std::string payload;
    bool masked = true;
    len_form form = len_form::shortest;
    std::uint64_t announce = ~std::uint64_t(0); // default: payload.size()
    mask_key key = test_key;
};

inline std::string build(const frame_spec& f) {
    std::string out;
    out.push_back(char(f.b0));
    const std::uint64_t len = f.announce == ~std::uint64_t(0) ? f.payload.size() : f.announce;
    const std::uint8_t m = f.masked ? 0x80 : 0;
    len_form form = f.form;
    if (form == len_form::shortest) {
        form = len <= 125 ? len_form::shortest : len <= 0xFFFF ? len_form::l16 : len_form::l64;
    }
    if (form == len_form::shortest) {
        out.push_back(char(m | len));
    } else if (form == len_form::l16) {
        out.push_back(char(m | 126));
        out.push_back(char(len >> 8));
        out.push_back(char(len & 0xFF));
    } else {
        out.push_back(char(m | 127));
        for (int s = 56; s >= 0; s -= 8) {
            out.push_back(char((len >> s) & 0xFF));
        }
    }
    if (f.masked) {
        out.append(reinterpret_cast<const char*>(f.key.data()), 4);
    }
    for (std::size_t i = 0; i < f.payload.size(); i++) {
        out.push_back(f.masked ? char(std::uint8_t(f.payload[i]) ^ f.key[i % 4]) : f.payload[i]);
    }
    return out;
}

// Shorthands: a masked frame (client to server) and an unmasked one.
inline std::string mf(std::uint8_t b0, std::string payload = "") {
    return build({b0, std::move(payload)});
}
inline std::string uf(std::uint8_t b0, std::string payload = "") {
    return build({b0, std::move(payload), false});
}

struct config {
    role side = role::server;
    decoder_options opts{};
};

// What a whole stream decoded to.  log holds one entry per complete message
// ("text:payload", "binary:payload", with "+rsv40" after the opcode when an
// RSV bit was set) and per control frame ("ping:payload", "pong:payload",
// "close:code:reason", "close:" when empty), in stream order.
struct outcome {
    decode_status status = decode_status::need_more; // need_more, error or closed
    frame_error error = frame_error::none;
    std::uint64_t error_offset = 0;
    std::vector<std::string> log;
    std::string partial;      // payload of a message left unfinished (no error)
    bool in_message = false;  // a message was left unfinished
    std::uint64_t offset = 0; // bytes consumed in all (no error)
    bool operator==(const outcome&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const outcome& o) {
    os << "{status=" << int(o.status) << " error=" << describe(o.error) << " at " << o.error_offset
       << " offset=" << o.offset << " in_message=" << o.in_message
       << " partial=" << o.partial.size() << "B log=[";
    for (const auto& l : o.log) {
        os << (l.size() > 40 ? l.substr(0, 40) + "..." : l) << "; ";
    }
    return os << "]}";
}

inline std::string hex2(std::uint8_t v) {
    const char* d = "0123456789abcdef";
    return {d[v >> 4], d[v & 15]};
}

// Decodes input in pieces ending at each offset of cuts, then the rest.
// out_size 0 decodes in place; otherwise through an out buffer that size.
// The unconsumed bytes stay in `pending` from `head` on; they are moved to
// its front once per piece, so a long stream costs linear time however
// small the pieces or the out buffer.
inline outcome feed(const config& c, std::string_view input, const std::vector<std::size_t>& cuts,
                    std::size_t out_size = 0) {
    frame_decoder d(c.side, c.opts);
    outcome o;
    std::string pending, msg;
    std::size_t head = 0;
    std::vector<char> out(out_size);
    std::size_t fed = 0;
    bool expect_first = true;
    auto record = [&](const decode_result& r) {
        if (r.status == decode_status::data) {
            const char* lo = out_size == 0 ? pending.data() + head : out.data();
            const std::size_t room = out_size == 0 ? r.consumed : out_size;
            EXPECT_TRUE(r.data.empty() ||
                        (r.data.data() >= lo && r.data.data() + r.data.size() <= lo + room))
                << "data outside its buffer";
            EXPECT_EQ(r.first, expect_first) << "first flag";
            expect_first = r.last;
            msg.append(r.data);
            if (r.last) {
                std::string tag = r.op == opcode::text ? "text" : "binary";
                if (r.rsv != 0) {
                    tag += "+rsv" + hex2(r.rsv);
                }
                o.log.push_back(tag + ":" + msg);
                msg.clear();
            }
        } else if (r.status == decode_status::control) {
            std::string p(r.data);
            if (r.op == opcode::close) {
                o.log.push_back(p.empty() ? "close:"
                                          : "close:" + std::to_string(r.close_code) + ":" +
                                                std::string(r.close_reason));
            } else {
                o.log.push_back((r.op == opcode::ping ? "ping:" : "pong:") + p);
            }
        }
    };
    auto run = [&](std::size_t upto) {
        pending.erase(0, head);
        head = 0;
        const std::size_t start = fed - pending.size(); // stream offset of pending[0]
        pending.append(input.substr(fed, upto - fed));
        fed = upto;
        bool go = true;
        while (go) {
            std::span<char> rest(pending.data() + head, pending.size() - head);
            decode_result r = out_size == 0 ? d.decode(rest)
                                            : d.decode(std::string_view(rest.data(), rest.size()),
                                                       std::span<char>(out));
            EXPECT_LE(r.consumed, rest.size());
            record(r);
            head += r.consumed;
            if (r.status == decode_status::error || r.status == decode_status::closed) {
                EXPECT_EQ(r.consumed, 0u);
                o.status = r.status;
                o.error = r.error;
                o.error_offset = r.error_offset;
                go = false;
            } else if (r.status == decode_status::need_more) {
                // out is never empty here, so need_more always takes all.
                EXPECT_EQ(head, pending.size()) << "need_more left bytes behind";
                break;
            }
        }
        if (out_size != 0) {
            EXPECT_EQ(std::string_view(pending), input.substr(start, pending.size()))
                << "the copying decode changed its input";
        }
        return go;
    };
    bool go = true;
    for (std::size_t k : cuts) {
        if (go && k >= fed && k <= input.size()) {
            go = run(k);
        }
    }
    if (go) {
        run(input.size());
    }
    if (o.status != decode_status::error) {
        o.partial = msg;
        o.in_message = d.in_message();
        o.offset = d.offset();
    }
    // The verdict is sticky.
    if (o.status != decode_status::need_more) {
        std::string more = "\x81\x80";
        decode_result again = d.decode(std::span<char>(more));
        EXPECT_EQ(again.status, o.status);
        EXPECT_EQ(again.error, o.error);
        EXPECT_EQ(again.consumed, 0u);
    }
    return o;
}

// The offsets at which a stream of n bytes is split: all of them for short
// streams, the edges and a sample for long ones.
inline std::vector<std::size_t> split_points(std::size_t n) {
    std::vector<std::size_t> k;
    for (std::size_t i = 1; i < n; i++) {
        if (n <= 600 || i < 300 || n - i < 300 || i % 997 == 0) {
            k.push_back(i);
        }
    }
    return k;
}

// Decodes every way and checks they agree; returns the outcome.
inline outcome grind(const config& c, std::string_view input) {
    const outcome whole = feed(c, input, {});
    if (input.size() <= 4096) {
        std::vector<std::size_t> bytes;
        for (std::size_t k = 1; k < input.size(); k++) {
            bytes.push_back(k);
        }
        EXPECT_EQ(feed(c, input, bytes), whole) << "byte by byte";
    }
    for (std::size_t k : split_points(input.size())) {
        EXPECT_EQ(feed(c, input, {k}), whole) << "split at " << k;
        if (::testing::Test::HasFailure()) {
            break;
        }
    }
    EXPECT_EQ(feed(c, input, {}, 1), whole) << "copied out a byte at a time";
    EXPECT_EQ(feed(c, input, {}, 7), whole) << "copied out 7 bytes at a time";
    EXPECT_EQ(feed(c, input, {input.size() / 3, input.size() / 2}, 4096), whole)
        << "copied out, in three pieces";
    return whole;
}

} // namespace nnghttp::detail::ws::test
