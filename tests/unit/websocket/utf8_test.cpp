// utf8_validator against Markus Kuhn's "UTF-8 decoder capability and stress
// test" (every family of sections 1-5, the same byte sequences that
// Autobahn|Testsuite's group 6 sends), each case fed whole, byte by byte
// and split at every offset, alone and inside ASCII (so that the
// word-at-a-time skip runs up to the bad byte), and held against the
// reference checker of utf8_reference.hpp; then exhaustively against the
// reference over short sequences and every code point.
#include "utf8_reference.hpp"
#include "websocket/utf8.hpp"

#include <deque>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

using namespace nnghttp::detail::ws;
using nnghttp::detail::ws::test::reference_utf8;
using nnghttp::detail::ws::test::utf8_verdict;

constexpr std::size_t npos = utf8_verdict::npos;

// Feeds s in pieces ending at each of cuts.
utf8_verdict validate(std::string_view s, const std::vector<std::size_t>& cuts) {
    utf8_validator v;
    std::size_t fed = 0;
    auto piece = [&](std::size_t upto) {
        std::size_t ok = v.feed(s.substr(fed, upto - fed));
        if (ok < upto - fed) {
            EXPECT_TRUE(v.failed());
            EXPECT_EQ(v.feed("a"), 0u) << "failure is sticky";
            return fed + ok;
        }
        fed = upto;
        return npos;
    };
    for (std::size_t k : cuts) {
        if (std::size_t bad = piece(k); bad != npos) {
            return {bad, false};
        }
    }
    if (std::size_t bad = piece(s.size()); bad != npos) {
        return {bad, false};
    }
    EXPECT_FALSE(v.failed());
    return {npos, v.complete()};
}

utf8_verdict grind(std::string_view s) {
    const utf8_verdict whole = validate(s, {});
    std::vector<std::size_t> bytes;
    for (std::size_t k = 1; k < s.size(); k++) {
        bytes.push_back(k);
        EXPECT_EQ(validate(s, {k}), whole) << "split at " << k;
    }
    EXPECT_EQ(validate(s, bytes), whole) << "byte by byte";
    EXPECT_EQ(reference_utf8(s), whole) << "the reference disagrees";
    EXPECT_EQ(is_valid_utf8(s), whole.complete);
    return whole;
}

// What a case expects: valid, cut short at its end, or invalid at a byte.
constexpr std::size_t valid = npos - 1;
constexpr std::size_t cut_short = npos - 2;

struct utf8_case {
    const char* name;
    std::string bytes;
    std::size_t expect; // valid, cut_short, or the index of the bad byte
};

std::string b(std::initializer_list<int> v) {
    std::string s;
    for (int c : v) {
        s.push_back(char(c));
    }
    return s;
}

std::vector<utf8_case> kuhn_cases() {
    std::vector<utf8_case> v = {
        // 1  Some correct UTF-8 text
        {"k1_kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", valid},
        {"empty", "", valid},
        {"ascii", "Hello, world! 0123456789 ~", valid},
        // 2.1  First possible sequence of a certain length
        {"k2_1_1_u0000", b({0x00}), valid},
        {"k2_1_2_u0080", b({0xc2, 0x80}), valid},
        {"k2_1_3_u0800", b({0xe0, 0xa0, 0x80}), valid},
        {"k2_1_4_u10000", b({0xf0, 0x90, 0x80, 0x80}), valid},
        {"k2_1_5_five_bytes", b({0xf8, 0x88, 0x80, 0x80, 0x80}), 0},
        {"k2_1_6_six_bytes", b({0xfc, 0x84, 0x80, 0x80, 0x80, 0x80}), 0},
        // 2.2  Last possible sequence of a certain length
        {"k2_2_1_u007f", b({0x7f}), valid},
        {"k2_2_2_u07ff", b({0xdf, 0xbf}), valid},
        {"k2_2_3_uffff", b({0xef, 0xbf, 0xbf}), valid},
        {"k2_2_4_u1fffff", b({0xf7, 0xbf, 0xbf, 0xbf}), 0},
        {"k2_2_5_five_bytes", b({0xfb, 0xbf, 0xbf, 0xbf, 0xbf}), 0},
        {"k2_2_6_six_bytes", b({0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf}), 0},
        // 2.3  Other boundary conditions
        {"k2_3_1_ud7ff", b({0xed, 0x9f, 0xbf}), valid},
        {"k2_3_2_ue000", b({0xee, 0x80, 0x80}), valid},
        {"k2_3_3_ufffd", b({0xef, 0xbf, 0xbd}), valid},
        {"k2_3_4_u10ffff", b({0xf4, 0x8f, 0xbf, 0xbf}), valid},
        {"k2_3_5_u110000", b({0xf4, 0x90, 0x80, 0x80}), 1},
        // 3.1  Unexpected continuation bytes
        {"k3_1_1_first", b({0x80}), 0},
        {"k3_1_2_last", b({0xbf}), 0},
        {"k3_1_3_two", b({0x80, 0xbf}), 0},
        {"k3_1_9_after_char", b({0xc2, 0x80, 0x80}), 2},
        // 3.3  Sequences with the last continuation byte missing
        {"k3_3_1_2byte_u0000", b({0xc0}), 0},
        {"k3_3_2_3byte_u0000", b({0xe0, 0x80}), 1},
        {"k3_3_3_4byte_u0000", b({0xf0, 0x80, 0x80}), 1},
        {"k3_3_4_5byte_u0000", b({0xf8, 0x80, 0x80, 0x80}), 0},
        {"k3_3_5_6byte_u0000", b({0xfc, 0x80, 0x80, 0x80, 0x80}), 0},
        {"k3_3_6_2byte_u07ff", b({0xdf}), cut_short},
        {"k3_3_7_3byte_uffff", b({0xef, 0xbf}), cut_short},
        {"k3_3_8_4byte_u1fffff", b({0xf7, 0xbf, 0xbf}), 0},
        {"k3_3_9_5byte", b({0xfb, 0xbf, 0xbf, 0xbf}), 0},
        {"k3_3_10_6byte", b({0xfd, 0xbf, 0xbf, 0xbf, 0xbf}), 0},
        {"cut_short_4byte", b({0xf0, 0x9f, 0x98}), cut_short},
        {"cut_short_then_ascii", b({0xe2, 0x82, 0x41}), 2},
        // 3.4  Concatenation of incomplete sequences
        {"k3_4_concatenation", b({0xc0, 0xe0, 0x80, 0xf0, 0x80, 0x80, 0xf8, 0x80, 0x80, 0x80,
                                  0xfc, 0x80, 0x80, 0x80, 0x80, 0xdf, 0xef, 0xbf, 0xf7, 0xbf,
                                  0xbf, 0xfb, 0xbf, 0xbf, 0xbf, 0xfd, 0xbf, 0xbf, 0xbf, 0xbf}),
         0},
        {"k3_4_valid_incomplete_ones", b({0xdf, 0xef, 0xbf}), 1},
        // 3.5  Impossible bytes
        {"k3_5_1_fe", b({0xfe}), 0},
        {"k3_5_2_ff", b({0xff}), 0},
        {"k3_5_3_fefeffff", b({0xfe, 0xfe, 0xff, 0xff}), 0},
        // 4.1  Overlong forms of '/'
        {"k4_1_1_2byte", b({0xc0, 0xaf}), 0},
        {"k4_1_2_3byte", b({0xe0, 0x80, 0xaf}), 1},
        {"k4_1_3_4byte", b({0xf0, 0x80, 0x80, 0xaf}), 1},
        {"k4_1_4_5byte", b({0xf8, 0x80, 0x80, 0x80, 0xaf}), 0},
        {"k4_1_5_6byte", b({0xfc, 0x80, 0x80, 0x80, 0x80, 0xaf}), 0},
        // 4.2  Maximum overlong sequences
        {"k4_2_1_u007f", b({0xc1, 0xbf}), 0},
        {"k4_2_2_u07ff", b({0xe0, 0x9f, 0xbf}), 1},
        {"k4_2_3_uffff", b({0xf0, 0x8f, 0xbf, 0xbf}), 1},
        {"k4_2_4_u1fffff", b({0xf8, 0x87, 0xbf, 0xbf, 0xbf}), 0},
        {"k4_2_5_u3ffffff", b({0xfc, 0x83, 0xbf, 0xbf, 0xbf, 0xbf}), 0},
        // 4.3  Overlong NUL
        {"k4_3_1_2byte", b({0xc0, 0x80}), 0},
        {"k4_3_2_3byte", b({0xe0, 0x80, 0x80}), 1},
        {"k4_3_3_4byte", b({0xf0, 0x80, 0x80, 0x80}), 1},
        {"k4_3_4_5byte", b({0xf8, 0x80, 0x80, 0x80, 0x80}), 0},
        {"k4_3_5_6byte", b({0xfc, 0x80, 0x80, 0x80, 0x80, 0x80}), 0},
        // 5.1  Single UTF-16 surrogates
        {"k5_1_1_ud800", b({0xed, 0xa0, 0x80}), 1},
        {"k5_1_2_udb7f", b({0xed, 0xad, 0xbf}), 1},
        {"k5_1_3_udb80", b({0xed, 0xae, 0x80}), 1},
        {"k5_1_4_udbff", b({0xed, 0xaf, 0xbf}), 1},
        {"k5_1_5_udc00", b({0xed, 0xb0, 0x80}), 1},
        {"k5_1_6_udf80", b({0xed, 0xbe, 0x80}), 1},
        {"k5_1_7_udfff", b({0xed, 0xbf, 0xbf}), 1},
        // 5.2  Paired UTF-16 surrogates
        {"k5_2_1_ud800_udc00", b({0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80}), 1},
        {"k5_2_2_ud800_udfff", b({0xed, 0xa0, 0x80, 0xed, 0xbf, 0xbf}), 1},
        {"k5_2_3_udb7f_udc00", b({0xed, 0xad, 0xbf, 0xed, 0xb0, 0x80}), 1},
        {"k5_2_4_udb7f_udfff", b({0xed, 0xad, 0xbf, 0xed, 0xbf, 0xbf}), 1},
        {"k5_2_5_udb80_udc00", b({0xed, 0xae, 0x80, 0xed, 0xb0, 0x80}), 1},
        {"k5_2_6_udb80_udfff", b({0xed, 0xae, 0x80, 0xed, 0xbf, 0xbf}), 1},
        {"k5_2_7_udbff_udc00", b({0xed, 0xaf, 0xbf, 0xed, 0xb0, 0x80}), 1},
        {"k5_2_8_udbff_udfff", b({0xed, 0xaf, 0xbf, 0xed, 0xbf, 0xbf}), 1},
        // 5.3  Noncharacters: valid UTF-8, accepted
        {"k5_3_1_ufffe", b({0xef, 0xbf, 0xbe}), valid},
        {"k5_3_2_uffff", b({0xef, 0xbf, 0xbf}), valid},
        {"k5_3_3_ufdd0", b({0xef, 0xb7, 0x90}), valid},
        {"k5_3_3_ufdef", b({0xef, 0xb7, 0xaf}), valid},
        {"k5_3_4_u1fffe", b({0xf0, 0x9f, 0xbf, 0xbe}), valid},
        {"k5_3_4_u10ffff", b({0xf4, 0x8f, 0xbf, 0xbf}), valid},
        // Sequences that break off in every way a 4-byte one can.
        {"lead_then_ascii", b({0xc3, 0x41}), 1},
        {"e0_then_a0_then_ascii", b({0xe0, 0xa0, 0x41}), 2},
        {"f0_90_then_ascii", b({0xf0, 0x90, 0x41}), 2},
        {"f0_90_80_then_ascii", b({0xf0, 0x90, 0x80, 0x41}), 3},
        {"f4_8f_then_c0", b({0xf4, 0x8f, 0xc0}), 2},
    };
    // 3.1.9 and 3.2: every lone continuation byte, and every lone start
    // byte followed by a space.
    static std::deque<std::string> names; // outlive the cases, never move
    for (int c = 0x80; c <= 0xbf; c++) {
        names.push_back("k3_1_9_cont_" + std::to_string(c));
        v.push_back({names.back().c_str(), b({c}), 0});
    }
    for (int c = 0xc0; c <= 0xff; c++) {
        names.push_back("k3_2_lonely_start_" + std::to_string(c));
        // C0, C1 and F5-FF can start nothing; the rest fail at the space.
        const bool never = c <= 0xc1 || c >= 0xf5;
        v.push_back({names.back().c_str(), b({c, 0x20}), std::size_t(never ? 0 : 1)});
    }
    return v;
}

void PrintTo(const utf8_case& c, std::ostream* os) {
    *os << c.name;
}

class kuhn_table : public ::testing::TestWithParam<utf8_case> {};

TEST_P(kuhn_table, every_split_agrees) {
    const utf8_case& c = GetParam();
    const utf8_verdict alone = grind(c.bytes);
    // Inside ASCII: 19 bytes before (not a multiple of 8) and some after,
    // so an open character at the end meets a space.
    const std::string before = "abcdefghijklmnopqrs";
    const utf8_verdict inside = grind(before + c.bytes + " tail");
    if (c.expect == valid) {
        EXPECT_EQ(alone, (utf8_verdict{npos, true}));
        EXPECT_EQ(inside, (utf8_verdict{npos, true}));
    } else if (c.expect == cut_short) {
        EXPECT_EQ(alone, (utf8_verdict{npos, false}));
        EXPECT_EQ(inside, (utf8_verdict{before.size() + c.bytes.size(), false}));
    } else {
        EXPECT_EQ(alone, (utf8_verdict{c.expect, false}));
        EXPECT_EQ(inside, (utf8_verdict{before.size() + c.expect, false}));
    }
}

std::string case_name(const ::testing::TestParamInfo<utf8_case>& i) {
    return i.param.name;
}

INSTANTIATE_TEST_SUITE_P(kuhn, kuhn_table, ::testing::ValuesIn(kuhn_cases()), case_name);

// Every code point, encoded by hand, is accepted; surrogates are refused
// on their second byte.
std::string encode(std::uint32_t cp) {
    if (cp < 0x80) {
        return b({int(cp)});
    }
    if (cp < 0x800) {
        return b({int(0xc0 | (cp >> 6)), int(0x80 | (cp & 0x3f))});
    }
    if (cp < 0x10000) {
        return b({int(0xe0 | (cp >> 12)), int(0x80 | ((cp >> 6) & 0x3f)), int(0x80 | (cp & 0x3f))});
    }
    return b({int(0xf0 | (cp >> 18)), int(0x80 | ((cp >> 12) & 0x3f)),
              int(0x80 | ((cp >> 6) & 0x3f)), int(0x80 | (cp & 0x3f))});
}

TEST(utf8_validator, every_code_point) {
    std::string all;
    for (std::uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        std::string e = encode(cp);
        utf8_validator v;
        const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        ASSERT_EQ(v.feed(e), surrogate ? 1u : e.size()) << std::hex << cp;
        ASSERT_EQ(v.complete(), !surrogate) << std::hex << cp;
        if (!surrogate) {
            all += e;
        }
    }
    // All of them in one text, in pieces of 4093 bytes (cutting characters).
    utf8_validator v;
    for (std::size_t i = 0; i < all.size(); i += 4093) {
        std::string_view piece = std::string_view(all).substr(i, 4093);
        ASSERT_EQ(v.feed(piece), piece.size()) << i;
    }
    EXPECT_TRUE(v.complete());
}

// Every sequence of one or two bytes, and every three- and four-byte one
// whose later bytes come from the values where the rules change.
TEST(utf8_validator, agrees_with_reference_exhaustively) {
    const int edges[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
                         0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff};
    auto check = [](const std::string& s) {
        utf8_validator v;
        std::size_t ok = v.feed(s);
        utf8_verdict got{ok < s.size() ? ok : npos, ok == s.size() && v.complete()};
        ASSERT_EQ(got, reference_utf8(s)) << testing::PrintToString(s);
    };
    for (int x = 0; x < 256; x++) {
        check(b({x}));
        for (int y = 0; y < 256; y++) {
            check(b({x, y}));
        }
    }
    for (int x = 0xc0; x < 256; x++) {
        for (int y = 0; y < 256; y++) {
            for (int z : edges) {
                check(b({x, y, z}));
                for (int w : edges) {
                    check(b({x, y, z, w}));
                }
            }
        }
    }
}

TEST(utf8_validator, reset_clears_failure_and_open_character) {
    utf8_validator v;
    EXPECT_EQ(v.feed("\xe2\x82"), 2u);
    EXPECT_FALSE(v.complete());
    v.reset();
    EXPECT_TRUE(v.complete());
    EXPECT_EQ(v.feed("a\xff"), 1u);
    EXPECT_TRUE(v.failed());
    EXPECT_EQ(v.feed("abc"), 0u);
    v.reset();
    EXPECT_FALSE(v.failed());
    EXPECT_EQ(v.feed("abc"), 3u);
}

// Long ASCII with one bad byte at every position: the word-at-a-time skip
// must end exactly there.
TEST(utf8_validator, bad_byte_found_at_every_position_in_ascii) {
    for (std::size_t n : {1u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 32u, 33u, 100u}) {
        for (std::size_t at = 0; at < n; at++) {
            std::string s(n, 'x');
            s[at] = '\x80';
            utf8_validator v;
            EXPECT_EQ(v.feed(s), at) << n << " " << at;
            s[at] = '\xc3'; // an open character, then ASCII
            utf8_validator w;
            EXPECT_EQ(w.feed(s), at + 1 < n ? at + 1 : n) << n << " " << at;
        }
    }
}

} // namespace
