// Table-driven tests of frame_decoder.  Every case is decoded whole, byte by
// byte, split in two at every offset, and copied out through 1- and 7-byte
// buffers (grind.hpp); each way must give the same messages, control frames
// and verdict, at the same stream offset.
//
// Case names starting cN_N_N follow the Autobahn|Testsuite case of that
// number (groups 1-7: framing, pings, reserved bits, opcodes,
// fragmentation, UTF-8, close); the rest are this decoder's own corners.
#include "grind.hpp"
#include "websocket/close.hpp"

#include <deque>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

using namespace nnghttp::detail::ws;
using namespace nnghttp::detail::ws::test;
using fe = frame_error;
using ds = decode_status;

struct frame_case {
    const char* name;
    std::string input;
    ds status = ds::need_more;
    std::vector<std::string> log{};
    fe error = fe::none;
    std::uint64_t error_offset = 0;
    config cfg{};
    bool in_message = false; // need_more or closed: a message left unfinished
};

// Shorthands for the first header byte.
constexpr std::uint8_t fin = 0x80;
constexpr std::uint8_t text = 0x1, binary = 0x2, cont = 0x0, close_op = 0x8, ping = 0x9, pong = 0xA;

std::string close_payload(std::uint16_t code, std::string reason = "") {
    std::string p;
    p.push_back(char(code >> 8));
    p.push_back(char(code & 0xFF));
    return p + reason;
}

frame_case ok(const char* name, std::string input, std::vector<std::string> log, config cfg = {}) {
    return {name, std::move(input), ds::need_more, std::move(log), fe::none, 0, cfg};
}
frame_case closed(const char* name, std::string input, std::vector<std::string> log,
                  bool in_message = false, config cfg = {}) {
    return {name, std::move(input), ds::closed, std::move(log), fe::none, 0, cfg, in_message};
}
frame_case bad(const char* name, std::string input, fe e, std::uint64_t at,
               std::vector<std::string> log = {}, config cfg = {}) {
    return {name, std::move(input), ds::error, std::move(log), e, at, cfg};
}
frame_case open(const char* name, std::string input, std::vector<std::string> log = {},
                config cfg = {}) {
    return {name, std::move(input), ds::need_more, std::move(log), fe::none, 0, cfg, true};
}

config client() {
    config c;
    c.side = role::client;
    return c;
}
config deflate() {
    config c;
    c.opts.rsv_first = rsv1;
    return c;
}

// "κόσμε" (Greek, Autobahn's favourite), then the same with a UTF-16
// surrogate (ED A0 80) before "edited" (Autobahn cases 6.3.x and 7.5.1).
const std::string kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
const std::string kosme_bad = kosme + "\xed\xa0\x80" + "edited";

// A text message cut into one-byte fragments (Autobahn 6.2.4 style).
std::string byte_fragments(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); i++) {
        std::uint8_t b0 = (i == 0 ? text : cont) | (i + 1 == s.size() ? fin : 0);
        out += mf(b0, s.substr(i, 1));
    }
    return out;
}

std::string stars(std::size_t n) {
    return std::string(n, '*');
}

std::vector<frame_case> framing_cases() {
    const std::string hello = mf(fin | text, "Hello");
    return {
        // ---- group 1: text and binary messages of every length form
        ok("c1_1_1_text_0", mf(fin | text), {"text:"}),
        ok("c1_1_2_text_125", mf(fin | text, stars(125)), {"text:" + stars(125)}),
        ok("c1_1_3_text_126", mf(fin | text, stars(126)), {"text:" + stars(126)}),
        ok("c1_1_4_text_127", mf(fin | text, stars(127)), {"text:" + stars(127)}),
        ok("c1_1_5_text_128", mf(fin | text, stars(128)), {"text:" + stars(128)}),
        ok("c1_1_6_text_65535", mf(fin | text, stars(65535)), {"text:" + stars(65535)}),
        ok("c1_1_7_text_65536", mf(fin | text, stars(65536)), {"text:" + stars(65536)}),
        ok("c1_2_1_binary_0", mf(fin | binary), {"binary:"}),
        ok("c1_2_3_binary_126", mf(fin | binary, std::string(126, '\xfe')),
           {"binary:" + std::string(126, '\xfe')}),
        ok("c1_2_8_binary_65536", mf(fin | binary, std::string(65536, '\0')),
           {"binary:" + std::string(65536, '\0')}),
        ok("binary_any_bytes", mf(fin | binary, std::string("\x00\xff\x80\xc0", 4)),
           {"binary:" + std::string("\x00\xff\x80\xc0", 4)}),
        ok("two_messages", hello + mf(fin | binary, "b"), {"text:Hello", "binary:b"}),
        ok("client_unmasked", uf(fin | text, "Hello"), {"text:Hello"}, client()),
        ok("unmasked_16_bit", build({fin | binary, stars(300), false}), {"binary:" + stars(300)},
           client()),
        ok("zero_mask_key", build({fin | text, "abc", true, len_form::shortest, ~0ull, {}}),
           {"text:abc"}),
        // ---- group 2: pings and pongs
        ok("c2_1_ping_empty", mf(fin | ping), {"ping:"}),
        ok("c2_2_ping_text", mf(fin | ping, "Hello, world!"), {"ping:Hello, world!"}),
        ok("c2_3_ping_binary", mf(fin | ping, std::string("\x00\xff\xfe\xfd", 4)),
           {"ping:" + std::string("\x00\xff\xfe\xfd", 4)}),
        ok("c2_4_ping_125", mf(fin | ping, stars(125)), {"ping:" + stars(125)}),
        bad("c2_5_ping_126", mf(fin | ping, stars(126)), fe::control_too_long, 1),
        ok("c2_7_pong_unsolicited", mf(fin | pong), {"pong:"}),
        ok("c2_8_pong_unsolicited_payload", mf(fin | pong, "x"), {"pong:x"}),
        ok("c2_10_ten_pings",
           [] {
               std::string s;
               for (int i = 0; i < 10; i++) {
                   s += mf(fin | ping, "p" + std::to_string(i));
               }
               return s;
           }(),
           {"ping:p0", "ping:p1", "ping:p2", "ping:p3", "ping:p4", "ping:p5", "ping:p6", "ping:p7",
            "ping:p8", "ping:p9"}),
        ok("control_unmasked_to_client", uf(fin | ping, "x"), {"ping:x"}, client()),
        // ---- group 3: reserved bits
        bad("c3_1_rsv1_text", mf(fin | 0x40 | text, "Hello"), fe::reserved_bits, 0),
        bad("c3_2_rsv2_after_message", hello + mf(fin | 0x20 | text, "x") + mf(fin | ping),
            fe::reserved_bits, 11, {"text:Hello"}),
        bad("c3_3_rsv3_after_message", hello + mf(fin | 0x10 | text, "x"), fe::reserved_bits, 11,
            {"text:Hello"}),
        bad("c3_4_rsv12_text", mf(fin | 0x60 | text, "x"), fe::reserved_bits, 0),
        bad("c3_5_rsv13_binary", mf(fin | 0x50 | binary, "x"), fe::reserved_bits, 0),
        bad("c3_6_rsv23_ping", mf(fin | 0x30 | ping, "x"), fe::reserved_bits, 0),
        bad("c3_7_rsv123_close", mf(fin | 0x70 | close_op), fe::reserved_bits, 0),
        bad("rsv1_continuation", mf(text, "a") + mf(fin | 0x40 | cont, "b"), fe::reserved_bits, 7),
        // ---- group 4: reserved opcodes
        bad("c4_1_1_opcode_3", mf(fin | 0x3), fe::reserved_opcode, 0),
        bad("c4_1_2_opcode_4_payload", mf(fin | 0x4, "reserved"), fe::reserved_opcode, 0),
        bad("c4_1_3_opcode_5_after_message", hello + mf(fin | 0x5) + mf(fin | ping),
            fe::reserved_opcode, 11, {"text:Hello"}),
        bad("c4_1_4_opcode_6", hello + mf(fin | 0x6, "x"), fe::reserved_opcode, 11, {"text:Hello"}),
        bad("c4_1_5_opcode_7", mf(fin | 0x7), fe::reserved_opcode, 0),
        bad("c4_2_1_opcode_b", mf(fin | 0xB), fe::reserved_opcode, 0),
        bad("c4_2_2_opcode_c_payload", mf(fin | 0xC, "reserved"), fe::reserved_opcode, 0),
        bad("c4_2_3_opcode_d_after_message", hello + mf(fin | 0xD), fe::reserved_opcode, 11,
            {"text:Hello"}),
        bad("c4_2_4_opcode_e", mf(fin | 0xE), fe::reserved_opcode, 0),
        bad("c4_2_5_opcode_f", mf(fin | 0xF, "x"), fe::reserved_opcode, 0),
        bad("opcode_3_no_fin", mf(0x3), fe::reserved_opcode, 0),
        // ---- group 5: fragmentation
        bad("c5_1_ping_fragmented", mf(ping, "frag") + mf(fin | cont, "ment"),
            fe::fragmented_control, 0),
        bad("c5_2_pong_fragmented", mf(pong, "frag") + mf(fin | cont, "ment"),
            fe::fragmented_control, 0),
        bad("close_fragmented", mf(close_op), fe::fragmented_control, 0),
        ok("c5_3_text_two_fragments", mf(text, "frag") + mf(fin | cont, "ment"), {"text:fragment"}),
        ok("c5_6_ping_between_fragments",
           mf(text, "frag") + mf(fin | ping, "p") + mf(fin | cont, "ment"),
           {"ping:p", "text:fragment"}),
        ok("c5_7_pong_between_fragments",
           mf(text, "frag") + mf(fin | pong) + mf(fin | cont, "ment"), {"pong:", "text:fragment"}),
        bad("c5_9_continuation_first", mf(fin | cont, "x") + hello, fe::unexpected_continuation, 0),
        bad("c5_12_continuation_no_fin_first", mf(cont, "x"), fe::unexpected_continuation, 0),
        bad("c5_15_continuation_after_message",
            mf(text, "a") + mf(fin | cont, "b") + mf(cont, "c") + mf(fin | cont, "d"),
            fe::unexpected_continuation, 14, {"text:ab"}),
        bad("c5_18_text_during_text", mf(text, "a") + mf(fin | text, "b"),
            fe::expected_continuation, 7),
        bad("binary_during_text", mf(text, "a") + mf(binary, "b"), fe::expected_continuation, 7),
        ok("c5_19_pings_between_many_fragments",
           mf(text, "a") + mf(cont, "b") + mf(fin | ping, "1") + mf(cont, "c") +
               mf(fin | ping, "2") + mf(fin | cont, "d"),
           {"ping:1", "ping:2", "text:abcd"}),
        ok("empty_fragments", mf(text) + mf(cont) + mf(cont, "x") + mf(fin | cont), {"text:x"}),
        ok("all_fragments_empty", mf(binary) + mf(cont) + mf(fin | cont), {"binary:"}),
        ok("binary_fragments", mf(binary, "\x01") + mf(fin | cont, "\x02"), {"binary:\x01\x02"}),
        open("message_unfinished", mf(text, "ab") + mf(cont, "c"), {}),
        open("header_unfinished", "\x81", {}),
        open("header_unfinished_length", "\x81\xfe\x01", {}),
        open("payload_unfinished", mf(fin | text, "abcdef").substr(0, 9), {}),
        ok("ping_header_unfinished", std::string("\x89\x85\x01", 3), {}),
        // ---- masking by role
        bad("server_gets_unmasked", uf(fin | text, "Hello"), fe::mask_required, 1),
        bad("server_gets_unmasked_ping", hello + uf(fin | ping), fe::mask_required, 12,
            {"text:Hello"}),
        bad("client_gets_masked", mf(fin | text, "Hello"), fe::unexpected_mask, 1, {}, client()),
        // ---- length encodings
        bad("length_16_for_125", build({fin | text, stars(125), true, len_form::l16}),
            fe::non_minimal_length, 3),
        bad("length_16_for_0", build({fin | text, "", true, len_form::l16}), fe::non_minimal_length,
            3),
        ok("length_16_for_126", build({fin | text, stars(126), true, len_form::l16}),
           {"text:" + stars(126)}),
        bad("length_64_for_65535", build({fin | binary, stars(65535), true, len_form::l64}),
            fe::non_minimal_length, 7),
        bad("length_64_for_126", build({fin | binary, stars(126), true, len_form::l64}),
            fe::non_minimal_length, 7),
        bad("length_64_for_0", build({fin | binary, "", true, len_form::l64}),
            fe::non_minimal_length, 7),
        bad("length_64_top_bit", build({fin | binary, "", true, len_form::l64, 1ull << 63}),
            fe::length_top_bit, 2),
        bad("length_64_all_ones", build({fin | binary, "", true, len_form::l64, ~0ull - 1}),
            fe::length_top_bit, 2),
        bad("length_2_63_minus_1", build({fin | binary, "", true, len_form::l64, max_frame_length}),
            fe::frame_too_large, 2),
        bad("length_2_32", build({fin | binary, "", true, len_form::l64, 1ull << 32}),
            fe::frame_too_large, 5),
        // ---- group 6: UTF-8 in text messages (the validator's own table
        // covers every family; these check the decoder's use of it)
        ok("c6_2_1_valid_one_frame", mf(fin | text, kosme), {"text:" + kosme}),
        ok("c6_2_3_valid_byte_fragments", byte_fragments(kosme), {"text:" + kosme}),
        ok("c6_2_4_valid_split_in_character",
           mf(text, kosme.substr(0, 4)) + mf(fin | cont, kosme.substr(4)), {"text:" + kosme}),
        bad("c6_3_1_invalid_one_frame", mf(fin | text, kosme_bad), fe::invalid_utf8, 6 + 12),
        bad("c6_3_2_invalid_byte_fragments", byte_fragments(kosme_bad), fe::invalid_utf8,
            7 * 12 + 6),
        // The bad byte fails the message before the frame has ended.
        bad("c6_4_1_fail_fast_in_frame",
            build({fin | text, kosme + "\xf4\x90\x80\x80", true, len_form::shortest, 100}),
            fe::invalid_utf8, 6 + 11 + 1),
        bad("c6_4_2_fail_fast_in_fragment",
            mf(text, kosme) + build({cont, "\xf4\x90", true, len_form::shortest, 50}),
            fe::invalid_utf8, 17 + 6 + 1),
        bad("c6_4_3_fail_fast_ends_in_bad_byte", mf(text, kosme) + mf(cont, "\xf4\x90"),
            fe::invalid_utf8, 17 + 6 + 1),
        bad("utf8_cut_short_at_end", mf(fin | text, "a\xce"), fe::invalid_utf8, 7),
        bad("utf8_cut_short_by_empty_last", mf(text, "a\xe2\x82") + mf(fin | cont),
            fe::invalid_utf8, 14),
        ok("utf8_cut_by_ping", mf(text, "\xe2\x82") + mf(fin | ping) + mf(fin | cont, "\xac"),
           {"ping:", "text:\xe2\x82\xac"}),
        ok("utf8_noncharacter", mf(fin | text, "\xef\xbf\xbf\xef\xbf\xbe"),
           {"text:\xef\xbf\xbf\xef\xbf\xbe"}),
        ok("binary_not_checked", mf(fin | binary, "\xff\xed\xa0\x80"), {"binary:\xff\xed\xa0\x80"}),
        ok("ping_not_checked", mf(fin | ping, "\xff"), {"ping:\xff"}),
        bad("utf8_second_message", mf(fin | text, "ok") + mf(fin | text, "\xc0\xaf"),
            fe::invalid_utf8, 8 + 6, {"text:ok"}),
        // ---- group 7: close frames
        closed("c7_1_1_close_after_message", hello + mf(fin | close_op, close_payload(1000)),
               {"text:Hello", "close:1000:"}),
        closed("c7_1_2_close_twice", mf(fin | close_op, close_payload(1000)) + mf(fin | close_op),
               {"close:1000:"}),
        closed("c7_1_3_ping_after_close", mf(fin | close_op) + mf(fin | ping), {"close:"}),
        closed("c7_1_4_text_after_close", mf(fin | close_op) + hello, {"close:"}),
        closed("c7_1_5_close_inside_message",
               mf(text, "frag") + mf(fin | close_op) + mf(fin | cont, "ment"), {"close:"}, true),
        closed("c7_3_1_close_empty", mf(fin | close_op), {"close:"}),
        bad("c7_3_2_close_one_byte", mf(fin | close_op, "a"), fe::close_payload_one_byte, 1),
        closed("c7_3_3_close_code_only", mf(fin | close_op, close_payload(1000)), {"close:1000:"}),
        closed("c7_3_4_close_reason", mf(fin | close_op, close_payload(1000, "Hello World!")),
               {"close:1000:Hello World!"}),
        closed("c7_3_5_close_123_reason", mf(fin | close_op, close_payload(1000, stars(123))),
               {"close:1000:" + stars(123)}),
        bad("c7_3_6_close_126", mf(fin | close_op, close_payload(1000, stars(124))),
            fe::control_too_long, 1),
        bad("c7_5_1_close_reason_not_utf8", mf(fin | close_op, close_payload(1000, kosme_bad)),
            fe::invalid_close_reason, 6 + 2 + 20 - 1),
        bad("close_reason_cut_short", mf(fin | close_op, close_payload(1000, "\xce")),
            fe::invalid_close_reason, 8),
        bad("c7_13_1_close_5000", mf(fin | close_op, close_payload(5000)), fe::invalid_close_code,
            7),
        bad("c7_13_2_close_65535", mf(fin | close_op, close_payload(65535)), fe::invalid_close_code,
            7),
        closed("close_to_client", uf(fin | close_op, close_payload(1001, "bye")),
               {"close:1001:bye"}, false, client()),
    };
}

void PrintTo(const frame_case& c, std::ostream* os) {
    *os << c.name;
}

class frame_table : public ::testing::TestWithParam<frame_case> {};

TEST_P(frame_table, every_split_agrees) {
    const frame_case& c = GetParam();
    outcome o = grind(c.cfg, c.input);
    EXPECT_EQ(o.status, c.status) << o;
    EXPECT_EQ(o.log, c.log) << o;
    if (c.status == ds::error) {
        EXPECT_EQ(o.error, c.error) << describe(o.error) << " vs " << describe(c.error);
        EXPECT_EQ(o.error_offset, c.error_offset) << describe(o.error);
    } else {
        EXPECT_EQ(o.error, fe::none) << describe(o.error);
        EXPECT_EQ(o.in_message, c.in_message);
        if (c.status == ds::need_more) {
            EXPECT_EQ(o.offset, c.input.size());
        }
    }
}

std::string case_name(const ::testing::TestParamInfo<frame_case>& i) {
    return i.param.name;
}

INSTANTIATE_TEST_SUITE_P(framing, frame_table, ::testing::ValuesIn(framing_cases()), case_name);

// Close codes, sent in a close frame, each way (Autobahn 7.7.x lists valid
// codes, 7.9.x invalid ones; close.hpp explains the rest).
std::vector<frame_case> close_code_cases() {
    // The names outlive the cases (frame_case holds a const char*); a
    // deque never moves its elements as it grows.
    static std::deque<std::string> names;
    std::vector<frame_case> v;
    auto add = [&](std::uint16_t code, bool valid) {
        names.push_back((valid ? "c7_7_valid_" : "c7_9_invalid_") + std::to_string(code));
    };
    const std::vector<std::uint16_t> valid = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
                                              1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999};
    const std::vector<std::uint16_t> invalid = {0,    999,  1004, 1005, 1006,
                                                1015, 1016, 1100, 2000, 2999};
    for (std::uint16_t code : valid) {
        add(code, true);
        v.push_back(closed(names.back().c_str(), mf(fin | close_op, close_payload(code, "r")),
                           {"close:" + std::to_string(code) + ":r"}));
    }
    for (std::uint16_t code : invalid) {
        add(code, false);
        // The code is judged at the end of the frame: its last byte, 8.
        v.push_back(bad(names.back().c_str(), mf(fin | close_op, close_payload(code, "r")),
                        fe::invalid_close_code, 8));
    }
    return v;
}

INSTANTIATE_TEST_SUITE_P(close_codes, frame_table, ::testing::ValuesIn(close_code_cases()),
                         case_name);

// Limits and extension bits, with the options that set them.
config limits(std::uint64_t frame, std::uint64_t message, std::uint64_t fragments = 1u << 17) {
    config c;
    c.opts.max_frame = frame;
    c.opts.max_message = message;
    c.opts.max_fragments = fragments;
    return c;
}

std::vector<frame_case> option_cases() {
    config lax_text;
    lax_text.opts.validate_text = false;
    config deflate_cont = deflate();
    deflate_cont.opts.rsv_continuation = rsv1;
    const config unlimited = limits(decoder_options::unlimited, decoder_options::unlimited);
    return {
        ok("frame_at_limit", mf(fin | text, stars(10)), {"text:" + stars(10)}, limits(10, 100)),
        bad("frame_over_limit", mf(fin | text, stars(11)), fe::frame_too_large, 1, {},
            limits(10, 100)),
        // 201 is known on the second length byte; 256 on the first.
        bad("frame_over_limit_16", mf(fin | binary, stars(201)), fe::frame_too_large, 3, {},
            limits(200, 1000)),
        bad("frame_over_limit_16_early", mf(fin | binary, stars(256)), fe::frame_too_large, 2, {},
            limits(200, 1000)),
        ok("control_frames_have_their_own_limit", mf(fin | ping, stars(20)) + mf(fin | text, "x"),
           {"ping:" + stars(20), "text:x"}, limits(1, 1)),
        ok("message_at_limit", mf(text, stars(10)) + mf(fin | cont, stars(10)),
           {"text:" + stars(20)}, limits(100, 20)),
        bad("message_over_limit", mf(text, stars(10)) + mf(fin | cont, stars(11)),
            fe::message_too_large, 17, {}, limits(100, 20)),
        bad("one_frame_over_message_limit", mf(fin | text, stars(21)), fe::message_too_large, 1, {},
            limits(100, 20)),
        ok("message_limit_per_message", mf(fin | text, stars(20)) + mf(fin | text, stars(20)),
           {"text:" + stars(20), "text:" + stars(20)}, limits(100, 20)),
        ok("fragments_at_cap", mf(text) + mf(cont) + mf(fin | cont, "x"), {"text:x"},
           limits(100, 100, 3)),
        bad("fragments_over_cap", mf(text) + mf(cont) + mf(cont) + mf(fin | cont),
            fe::too_many_fragments, 18, {}, limits(100, 100, 3)),
        ok("cap_counts_per_message", mf(text) + mf(fin | cont) + mf(binary) + mf(fin | cont),
           {"text:", "binary:"}, limits(100, 100, 2)),
        bad("cap_zero_forbids_fragments", mf(text) + mf(fin | cont), fe::too_many_fragments, 6, {},
            limits(100, 100, 0)),
        ok("cap_zero_allows_whole_messages", mf(fin | text, "x"), {"text:x"}, limits(100, 100, 0)),
        open("unlimited_takes_huge_length",
             build({fin | binary, "abc", true, len_form::l64, max_frame_length}), {}, unlimited),
        bad("unlimited_frame_but_not_message",
            build({fin | binary, "", true, len_form::l64, max_frame_length}), fe::message_too_large,
            2, {}, limits(decoder_options::unlimited, 1u << 20)),
        bad("message_limit_sums_fragments_early", mf(text, stars(10)) + mf(cont, stars(100)),
            fe::message_too_large, 17, {}, limits(1000, 100)),
        // permessage-deflate's RSV1: first frame only, never on control.
        ok("deflate_rsv1_first", mf(fin | rsv1 | text, "x"), {"text+rsv40:x"}, deflate()),
        ok("deflate_rsv1_fragmented", mf(rsv1 | binary, "a") + mf(fin | cont, "b"),
           {"binary+rsv40:ab"}, deflate()),
        ok("deflate_plain_message", mf(fin | text, "x"), {"text:x"}, deflate()),
        bad("deflate_rsv1_on_continuation", mf(rsv1 | text, "a") + mf(fin | rsv1 | cont, "b"),
            fe::reserved_bits, 7, {}, deflate()),
        bad("deflate_rsv1_on_ping", mf(fin | rsv1 | ping), fe::reserved_bits, 0, {}, deflate()),
        bad("deflate_rsv2_refused", mf(fin | rsv2 | text, "x"), fe::reserved_bits, 0, {},
            deflate()),
        ok("deflate_compressed_text_not_checked", mf(fin | rsv1 | text, std::string("\xff\x00", 2)),
           {std::string("text+rsv40:\xff\x00", 13)}, deflate()),
        ok("rsv_on_continuation_when_allowed", mf(rsv1 | text, "a") + mf(fin | rsv1 | cont, "b"),
           {"text+rsv40:ab"}, deflate_cont),
        ok("text_check_off", mf(fin | text, "\xff"), {"text:\xff"}, lax_text),
    };
}

INSTANTIATE_TEST_SUITE_P(options, frame_table, ::testing::ValuesIn(option_cases()), case_name);

} // namespace
