// apply_mask and copy_masked against the definition (RFC 6455 section
// 5.3: byte i XOR key[i % 4]), for every length up to past the widest block
// loop, every payload offset, and every start alignment; and in pieces,
// the offset carried from one to the next.
#include "websocket/mask.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

using namespace nnghttp::detail::ws;

const mask_key key = {0xde, 0xad, 0x4b, 0x1f};

// Payload bytes that differ from one another and from their neighbours.
std::string payload(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; i++) {
        s[i] = char((i * 131 + 7) & 0xFF);
    }
    return s;
}

// The definition, payload bytes [offset, offset + s.size()).
std::string reference(std::string s, std::size_t offset) {
    for (std::size_t i = 0; i < s.size(); i++) {
        s[i] = char(std::uint8_t(s[i]) ^ key[(offset + i) % 4]);
    }
    return s;
}

TEST(mask, every_length_offset_and_alignment) {
    std::vector<char> buf(300 + 16);
    std::vector<char> dst(300 + 16);
    for (std::size_t n = 0; n <= 300; n++) {
        const std::string src = payload(n);
        for (std::size_t offset = 0; offset < 8; offset++) {
            const std::string want = reference(src, offset);
            for (std::size_t align = 0; align < 16; align += 3) {
                src.copy(buf.data() + align, n);
                apply_mask(buf.data() + align, n, key, offset);
                ASSERT_EQ(std::string(buf.data() + align, n), want)
                    << "n=" << n << " offset=" << offset << " align=" << align;
                // A byte past the end is left alone.
                buf[align + n] = 'X';
                copy_masked(dst.data() + (15 - align), src.data(), n, key, offset);
                ASSERT_EQ(std::string(dst.data() + (15 - align), n), want);
                apply_mask(buf.data() + align, n, key, offset);
                ASSERT_EQ(std::string(buf.data() + align, n), src) << "masking twice undoes it";
                ASSERT_EQ(buf[align + n], 'X');
            }
        }
    }
}

TEST(mask, in_pieces_with_carried_offset) {
    const std::string src = payload(5000);
    const std::string want = reference(src, 0);
    for (std::size_t step : {1u, 3u, 5u, 17u, 63u, 64u, 65u, 1000u}) {
        std::string s = src;
        for (std::size_t at = 0; at < s.size(); at += step) {
            const std::size_t n = std::min(step, s.size() - at);
            apply_mask(s.data() + at, n, key, at);
        }
        EXPECT_EQ(s, want) << "pieces of " << step;
    }
}

TEST(mask, only_offset_mod_4_matters) {
    const std::string src = payload(99);
    std::string a = src, b = src;
    apply_mask(a.data(), a.size(), key, 1);
    apply_mask(b.data(), b.size(), key, 4 * 1000 + 1);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, src);
}

} // namespace
