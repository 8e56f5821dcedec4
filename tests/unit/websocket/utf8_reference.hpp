// A slow, plainly written UTF-8 checker to hold utf8_validator against, in
// the tests and in fuzz/ws_frame_fuzz.cpp.  It works on code point values
// rather than on byte ranges: after each byte of a sequence it computes the
// smallest and largest code points the sequence could still become, and
// fails the byte that leaves no valid code point (not overlong, not a
// surrogate, not above U+10FFFF) in that interval.  That is what "fails on
// the first byte that makes the text invalid" means, reached a different
// way from the validator's automaton.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nnghttp::detail::ws::test {

struct utf8_verdict {
    std::size_t fail = npos; // index of the first invalid byte, or npos
    bool complete = false;   // no invalid byte, and no character left open
    static constexpr std::size_t npos = std::size_t(-1);
    bool operator==(const utf8_verdict&) const = default;
};

// Whether a code point in [lo, hi] can be encoded validly in len bytes.
inline bool reachable(std::uint32_t lo, std::uint32_t hi, int len) {
    auto meets = [&](std::uint32_t a, std::uint32_t b) { return lo <= b && hi >= a; };
    switch (len) {
    case 2:
        return meets(0x80, 0x7FF);
    case 3:
        return meets(0x800, 0xD7FF) || meets(0xE000, 0xFFFF);
    default:
        return meets(0x10000, 0x10FFFF);
    }
}

inline utf8_verdict reference_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = std::uint8_t(s[i]);
        if (b < 0x80) {
            i++;
            continue;
        }
        int len;
        std::uint32_t cp;
        if ((b & 0xE0) == 0xC0) {
            len = 2, cp = b & 0x1F;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3, cp = b & 0x0F;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4, cp = b & 0x07;
        } else {
            return {i, false}; // a continuation byte, or F8-FF
        }
        for (int j = 0; j < len; j++) {
            if (j > 0) {
                if (i + j >= s.size()) {
                    return {utf8_verdict::npos, false}; // cut short
                }
                const auto c = std::uint8_t(s[i + j]);
                if ((c & 0xC0) != 0x80) {
                    return {i + j, false};
                }
                cp = (cp << 6) | (c & 0x3F);
            }
            const int open_bits = 6 * (len - 1 - j);
            const std::uint32_t lo = cp << open_bits;
            const std::uint32_t hi = lo | ((1u << open_bits) - 1);
            if (!reachable(lo, hi, len)) {
                return {i + j, false};
            }
        }
        i += std::size_t(len);
    }
    return {utf8_verdict::npos, true};
}

} // namespace nnghttp::detail::ws::test
