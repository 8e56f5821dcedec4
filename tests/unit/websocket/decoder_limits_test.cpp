// frame_decoder under floods and absurd lengths (bounded memory, linear
// time, the right close code at the right byte), and the parts of its
// contract the table cannot show: where data views point, the copying
// overload with a full buffer, sticky verdicts, reset().
#include "grind.hpp"
#include "websocket/close.hpp"

#include <array>
#include <gtest/gtest.h>
#include <string>
#include <type_traits>

namespace {

using namespace nnghttp::detail::ws;
using namespace nnghttp::detail::ws::test;

// A stream of `count` masked frames, given their first header byte and a
// payload, fed to d in 64 KiB pieces without ever holding it all.
struct flood {
    std::string first, middle, last;
    std::size_t count; // middle frames
};

decode_result drain(frame_decoder& d, const flood& f, std::size_t& events) {
    std::string buf;
    std::size_t emitted = 0; // middle frames put into buf so far
    bool first_done = false, last_done = false;
    for (;;) {
        if (!first_done) {
            buf += f.first;
            first_done = true;
        }
        while (buf.size() < (64u << 10) && emitted < f.count) {
            buf += f.middle;
            emitted++;
        }
        if (emitted == f.count && !last_done) {
            buf += f.last;
            last_done = true;
        }
        std::size_t head = 0;
        decode_result r;
        do {
            r = d.decode(std::span<char>(buf.data() + head, buf.size() - head));
            head += r.consumed;
            events += r.status != decode_status::need_more;
        } while (r.status == decode_status::data || r.status == decode_status::control);
        if (r.status != decode_status::need_more) {
            return r;
        }
        buf.erase(0, head);
        if (last_done && buf.empty()) {
            return r;
        }
    }
}

TEST(decoder_limits, million_empty_fragments_hit_the_cap) {
    frame_decoder d(role::server);
    const flood f{mf(0x01), mf(0x00), mf(0x80), 1000000};
    std::size_t events = 0;
    decode_result r = drain(d, f, events);
    ASSERT_EQ(r.status, decode_status::error);
    EXPECT_EQ(r.error, frame_error::too_many_fragments);
    EXPECT_EQ(close_code(r.error), close_policy_violation);
    // The first frame plus max_fragments - 1 continuations pass; the next
    // one fails on its first byte.  Nothing was reported before.
    const std::uint64_t cap = decoder_options{}.max_fragments;
    EXPECT_EQ(r.error_offset, 6 * cap);
    EXPECT_EQ(events, 1u);
}

TEST(decoder_limits, million_empty_fragments_uncapped_cost_nothing) {
    decoder_options o;
    o.max_fragments = decoder_options::unlimited;
    frame_decoder d(role::server, o);
    const flood f{mf(0x01), mf(0x00), mf(0x80, "end"), 1000000};
    std::size_t events = 0;
    decode_result r = drain(d, f, events);
    EXPECT_EQ(r.status, decode_status::need_more);
    EXPECT_EQ(events, 1u) << "one data event, for the last frame";
    EXPECT_EQ(d.offset(), 6u * 1000002 + 3);
    EXPECT_FALSE(d.in_message());
    // The decoder holds no heap memory: its size is all it ever takes.
    static_assert(std::is_trivially_destructible_v<frame_decoder>);
}

TEST(decoder_limits, million_small_fragments_hit_the_size_limit) {
    decoder_options o;
    o.max_message = 1000;
    o.max_fragments = decoder_options::unlimited;
    frame_decoder d(role::server, o);
    const flood f{mf(0x02, "x"), mf(0x00, "x"), mf(0x80, "x"), 1000000};
    std::size_t events = 0;
    decode_result r = drain(d, f, events);
    ASSERT_EQ(r.status, decode_status::error);
    EXPECT_EQ(r.error, frame_error::message_too_large);
    EXPECT_EQ(close_code(r.error), close_too_big);
    // Frame 1001 (7 bytes each) fails on its length byte.
    EXPECT_EQ(r.error_offset, 7u * 1000 + 1);
    EXPECT_EQ(events, 1000u + 1);
}

TEST(decoder_limits, huge_length_fails_before_its_other_bytes) {
    frame_decoder d(role::server);
    // 2^63-1 announced; only the first length byte has arrived.
    std::string in = "\x82\xff\x7f";
    decode_result r = d.decode(std::span<char>(in));
    ASSERT_EQ(r.status, decode_status::error);
    EXPECT_EQ(r.error, frame_error::frame_too_large);
    EXPECT_EQ(r.error_offset, 2u);
    EXPECT_EQ(close_code(r.error), close_too_big);
}

TEST(decoder_limits, data_views_point_into_input) {
    frame_decoder d(role::server);
    std::string in = mf(0x81, "Hello") + mf(0x82, "World");
    decode_result r = d.decode(std::span<char>(in));
    ASSERT_EQ(r.status, decode_status::data);
    EXPECT_EQ(r.data, "Hello");
    EXPECT_EQ(r.data.data(), in.data() + 6); // unmasked where it lay
    EXPECT_EQ(r.consumed, 11u);
    EXPECT_TRUE(r.first && r.last);
    EXPECT_EQ(r.op, opcode::text);
    std::span<char> rest(in.data() + r.consumed, in.size() - r.consumed);
    r = d.decode(rest);
    ASSERT_EQ(r.status, decode_status::data);
    EXPECT_EQ(r.data, "World");
    EXPECT_EQ(r.op, opcode::binary);
    EXPECT_EQ(r.data.data(), in.data() + 17);
    r = d.decode(rest.subspan(r.consumed));
    EXPECT_EQ(r.status, decode_status::need_more);
    EXPECT_EQ(r.consumed, 0u);
}

TEST(decoder_limits, copying_decode_with_no_room) {
    frame_decoder d(role::server);
    const std::string in = mf(0x89, "p") + mf(0x81, "abc");
    std::array<char, 2> out{};
    // No room: the ping still comes out (it needs none), then the text
    // waits before its first payload byte.
    decode_result r = d.decode(in, std::span<char>());
    ASSERT_EQ(r.status, decode_status::control);
    EXPECT_EQ(r.data, "p");
    std::size_t at = r.consumed;
    r = d.decode(std::string_view(in).substr(at), std::span<char>());
    EXPECT_EQ(r.status, decode_status::need_more);
    EXPECT_EQ(r.consumed, 6u) << "the header is taken, the payload left";
    at += r.consumed;
    r = d.decode(std::string_view(in).substr(at), std::span<char>(out));
    ASSERT_EQ(r.status, decode_status::data);
    EXPECT_EQ(r.data, "ab");
    EXPECT_EQ(r.data.data(), out.data());
    EXPECT_TRUE(r.first);
    EXPECT_FALSE(r.last);
    at += r.consumed;
    r = d.decode(std::string_view(in).substr(at), std::span<char>(out));
    ASSERT_EQ(r.status, decode_status::data);
    EXPECT_EQ(r.data, "c");
    EXPECT_FALSE(r.first);
    EXPECT_TRUE(r.last);
    EXPECT_EQ(at + r.consumed, in.size());
    EXPECT_EQ(in, mf(0x89, "p") + mf(0x81, "abc")) << "input untouched";
}

TEST(decoder_limits, empty_message_through_full_buffer) {
    // An empty final frame needs no room in out.
    frame_decoder d(role::server);
    const std::string in = mf(0x81);
    decode_result r = d.decode(in, std::span<char>());
    ASSERT_EQ(r.status, decode_status::data);
    EXPECT_TRUE(r.data.empty());
    EXPECT_TRUE(r.first && r.last);
}

TEST(decoder_limits, sticky_verdicts_and_reset) {
    frame_decoder d(role::server);
    std::string bad = "\x83\x80";
    decode_result r = d.decode(std::span<char>(bad));
    ASSERT_EQ(r.error, frame_error::reserved_opcode);
    std::string good = mf(0x81, "x");
    r = d.decode(std::span<char>(good));
    EXPECT_EQ(r.status, decode_status::error);
    EXPECT_EQ(r.error, frame_error::reserved_opcode);
    EXPECT_EQ(r.consumed, 0u);

    d.reset();
    EXPECT_EQ(d.offset(), 0u);
    r = d.decode(std::span<char>(good));
    ASSERT_EQ(r.status, decode_status::data);
    EXPECT_EQ(r.data, "x");

    std::string close = mf(0x88, std::string("\x03\xe8", 2));
    r = d.decode(std::span<char>(close));
    ASSERT_EQ(r.status, decode_status::control);
    EXPECT_EQ(r.op, opcode::close);
    EXPECT_EQ(r.close_code, close_normal);
    std::string after = mf(0x81, "late");
    r = d.decode(std::span<char>(after));
    EXPECT_EQ(r.status, decode_status::closed);
    EXPECT_EQ(r.consumed, 0u);
    EXPECT_EQ(after, mf(0x81, "late")) << "nothing unmasked after the close";

    d.reset();
    r = d.decode(std::span<char>(after));
    EXPECT_EQ(r.status, decode_status::data);
    EXPECT_EQ(d.side(), role::server);
}

TEST(decoder_limits, mask_phase_carries_across_pieces) {
    // A masked payload cut at every offset decodes the same: the second
    // piece starts at a phase other than 0 for most cuts.
    const std::string payload = "0123456789abcdefghijklmnopqrstuvwxyz";
    const std::string wire = mf(0x82, payload);
    for (std::size_t cut = 7; cut < wire.size(); cut++) {
        frame_decoder d(role::server);
        std::string a = wire.substr(0, cut), b = wire.substr(cut);
        std::string got;
        decode_result r = d.decode(std::span<char>(a));
        got.append(r.data);
        r = d.decode(std::span<char>(b));
        got.append(r.data);
        EXPECT_TRUE(r.last);
        EXPECT_EQ(got, payload) << cut;
    }
}

} // namespace
