// The encoder: exact header bytes at every length boundary, minimal
// encodings the decoder accepts, masking, and the control-frame builders
// with their argument checks.  Frames it writes are decoded back with
// frame_decoder (through the grinder, so in pieces too).
#include "grind.hpp"
#include "websocket/close.hpp"
#include "websocket/encoder.hpp"

#include <gtest/gtest.h>
#include <string>

namespace {

using namespace nnghttp::detail::ws;
using namespace nnghttp::detail::ws::test;

std::string hex(std::string_view s) {
    std::string out;
    for (char c : s) {
        out += hex2(std::uint8_t(c));
    }
    return out;
}

TEST(encoder, header_bytes_at_length_boundaries) {
    struct row {
        std::uint64_t length;
        const char* want;
    };
    const row rows[] = {
        {0, "8100"},
        {125, "817d"},
        {126, "817e007e"},
        {65535, "817effff"},
        {65536, "817f0000000000010000"},
        {max_frame_length, "817f7fffffffffffffff"},
    };
    for (const row& r : rows) {
        frame_header h = make_frame_header(opcode::text, r.length);
        EXPECT_EQ(hex(h.view()), r.want) << r.length;
        EXPECT_EQ(h.size, frame_header_size(r.length, false));
    }
}

TEST(encoder, header_flags_and_mask) {
    frame_options o;
    o.fin = false;
    o.rsv = rsv1;
    o.mask = mask_key{1, 2, 3, 4};
    frame_header h = make_frame_header(opcode::binary, 300, o);
    EXPECT_EQ(hex(h.view()), "42fe012c01020304");
    EXPECT_EQ(h.size, frame_header_size(300, true));
    EXPECT_EQ(frame_header_size(65536, true), 14u);
    o = {};
    o.rsv = 0xFF; // only the RSV bits are kept
    EXPECT_EQ(hex(make_frame_header(opcode::continuation, 1, o).view()), "f001");
}

TEST(encoder, masked_frame_matches_builder) {
    const std::string data =
        "The quick brown fox jumps over the lazy dog, twice over: " + std::string(200, '#');
    frame_options o;
    o.mask = test_key;
    std::string out;
    append_frame(out, opcode::text, data, o);
    EXPECT_EQ(out, build({0x81, data, true}));
    out.clear();
    append_frame(out, opcode::binary, data);
    EXPECT_EQ(out, build({0x82, data, false}));
}

// Frames of every length form, fragmented and with control frames among
// them, masked with different keys, decode to what was encoded.
TEST(encoder, round_trip_through_decoder) {
    for (role side : {role::server, role::client}) {
        // What a peer of `side` sends: masked if side is a server.
        auto opts = [&](bool fin, std::uint8_t k) {
            frame_options o;
            o.fin = fin;
            if (side == role::server) {
                o.mask = mask_key{k, std::uint8_t(k * 3), std::uint8_t(k + 7), 0x5a};
            }
            return o;
        };
        std::string wire;
        std::vector<std::string> want;
        std::uint8_t k = 1;
        for (std::size_t n : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70000u}) {
            const std::string data(n, char('a' + n % 26));
            append_frame(wire, opcode::binary, data, opts(true, k++));
            want.push_back("binary:" + data);
        }
        append_frame(wire, opcode::text, "frag", opts(false, k++));
        ASSERT_TRUE(append_ping(wire, "are you there", opts(true, k++).mask));
        append_frame(wire, opcode::continuation, std::string(300, 'm'), opts(false, k++));
        append_frame(wire, opcode::continuation, "ment", opts(true, k++));
        want.push_back("ping:are you there");
        want.push_back("text:frag" + std::string(300, 'm') + "ment");
        ASSERT_TRUE(append_pong(wire, "", opts(true, k++).mask));
        want.push_back("pong:");
        ASSERT_TRUE(append_close(wire, close_going_away, "bye", opts(true, k++).mask));
        want.push_back("close:1001:bye");
        config c;
        c.side = side;
        c.opts.max_frame = c.opts.max_message = 1 << 20;
        outcome o = grind(c, wire);
        EXPECT_EQ(o.status, decode_status::closed) << o;
        EXPECT_EQ(o.log, want);
    }
}

TEST(encoder, control_frame_checks) {
    std::string out;
    EXPECT_TRUE(append_ping(out, std::string(125, 'p')));
    EXPECT_EQ(out.size(), 2u + 125u);
    EXPECT_FALSE(append_ping(out, std::string(126, 'p')));
    EXPECT_FALSE(append_pong(out, std::string(126, 'p')));
    EXPECT_EQ(out.size(), 2u + 125u) << "nothing appended on failure";

    out.clear();
    EXPECT_TRUE(append_close(out, 0));
    EXPECT_EQ(hex(out), "8800");
    out.clear();
    EXPECT_TRUE(append_close(out, close_normal, "ok"));
    EXPECT_EQ(hex(out), "880403e86f6b");
    out.clear();
    EXPECT_TRUE(append_close(out, 4999, std::string(123, 'r')));
    EXPECT_EQ(out.size(), 2u + 125u);
    out.clear();
    EXPECT_FALSE(append_close(out, 0, "reason without a code"));
    EXPECT_FALSE(append_close(out, close_no_status));
    EXPECT_FALSE(append_close(out, close_abnormal));
    EXPECT_FALSE(append_close(out, 5000));
    EXPECT_FALSE(append_close(out, close_normal, std::string(124, 'r')));
    EXPECT_FALSE(append_close(out, close_normal, "\xff"));
    EXPECT_TRUE(out.empty());

    // Masked control frames.
    EXPECT_TRUE(append_close(out, close_normal, "", mask_key{0, 0, 0, 0}));
    EXPECT_EQ(hex(out), "88820000000003e8"); // mask 0, code 1000
}

} // namespace
