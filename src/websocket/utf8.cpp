// Design notes.
//
// The validator is a deterministic automaton over byte classes.  Its states
// say what the next byte may be:
//   0 (start)  between characters
//   1          one continuation byte (80-BF) left
//   2          two left
//   3          three left
//   4 (e0)     after E0: A0-BF (shorter forms would be overlong), then one
//   5 (ed)     after ED: 80-9F (A0-BF would encode a surrogate), then one
//   6 (f0)     after F0: 90-BF (80-8F would be overlong), then two
//   7 (f4)     after F4: 80-8F (90-BF would pass U+10FFFF), then two
//   8 (fail)   an invalid byte was seen; absorbing
// These are exactly the rows of Unicode's Table 3-7 (well-formed UTF-8 byte
// sequences), so a byte is refused as soon as the prefix can no longer be
// completed.  Twelve byte classes are enough to tell every transition
// apart; both tables are built at compile time.
//
// In the start state, runs of ASCII are skipped a 64-bit word at a time: a
// word with no top bit set holds eight complete characters.
#include "websocket/utf8.hpp"

#include <array>
#include <cstring>

namespace nnghttp::detail::ws {

namespace {

enum : std::uint8_t { s_start = 0, s_e0 = 4, s_ed = 5, s_f0 = 6, s_f4 = 7, s_fail = 8 };
constexpr int n_states = 9;

// Byte classes.
enum : std::uint8_t {
    c_ascii,   // 00-7F
    c_cont_lo, // 80-8F
    c_cont_mi, // 90-9F
    c_cont_hi, // A0-BF
    c_bad,     // C0-C1, F5-FF: never in UTF-8
    c_lead2,   // C2-DF
    c_e0,      // E0
    c_lead3,   // E1-EC, EE-EF
    c_ed,      // ED
    c_f0,      // F0
    c_lead4,   // F1-F3
    c_f4,      // F4
    n_classes
};

constexpr std::array<std::uint8_t, 256> make_classes() {
    std::array<std::uint8_t, 256> t{};
    for (int b = 0; b < 256; b++) {
        std::uint8_t c = c_bad;
        if (b < 0x80) {
            c = c_ascii;
        } else if (b < 0x90) {
            c = c_cont_lo;
        } else if (b < 0xA0) {
            c = c_cont_mi;
        } else if (b < 0xC0) {
            c = c_cont_hi;
        } else if (b >= 0xC2 && b <= 0xDF) {
            c = c_lead2;
        } else if (b == 0xE0) {
            c = c_e0;
        } else if (b == 0xED) {
            c = c_ed;
        } else if (b >= 0xE1 && b <= 0xEF) {
            c = c_lead3;
        } else if (b == 0xF0) {
            c = c_f0;
        } else if (b >= 0xF1 && b <= 0xF3) {
            c = c_lead4;
        } else if (b == 0xF4) {
            c = c_f4;
        }
        t[b] = c;
    }
    return t;
}

using transitions = std::array<std::array<std::uint8_t, n_classes>, n_states>;

constexpr transitions make_transitions() {
    transitions t{};
    for (auto& row : t) {
        row.fill(s_fail);
    }
    auto& start = t[s_start];
    start[c_ascii] = s_start;
    start[c_lead2] = 1;
    start[c_e0] = s_e0;
    start[c_lead3] = 2;
    start[c_ed] = s_ed;
    start[c_f0] = s_f0;
    start[c_lead4] = 3;
    start[c_f4] = s_f4;
    // States 1-3: any continuation byte, one fewer left.
    for (std::uint8_t s = 1; s <= 3; s++) {
        t[s][c_cont_lo] = t[s][c_cont_mi] = t[s][c_cont_hi] = std::uint8_t(s - 1);
    }
    t[s_e0][c_cont_hi] = 1;
    t[s_ed][c_cont_lo] = t[s_ed][c_cont_mi] = 1;
    t[s_f0][c_cont_mi] = t[s_f0][c_cont_hi] = 2;
    t[s_f4][c_cont_lo] = 2;
    return t;
}

constexpr auto byte_class = make_classes();
constexpr auto next_state = make_transitions();

// Index of the first byte at or after i that is not ASCII, or n.
inline std::size_t skip_ascii(const char* p, std::size_t i, std::size_t n) noexcept {
    constexpr std::uint64_t highs = 0x8080808080808080ull;
    while (i + 16 <= n) {
        std::uint64_t a, b;
        std::memcpy(&a, p + i, 8);
        std::memcpy(&b, p + i + 8, 8);
        if (((a | b) & highs) != 0) {
            break;
        }
        i += 16;
    }
    while (i + 8 <= n) {
        std::uint64_t a;
        std::memcpy(&a, p + i, 8);
        if ((a & highs) != 0) {
            break;
        }
        i += 8;
    }
    while (i < n && std::uint8_t(p[i]) < 0x80) {
        i++;
    }
    return i;
}

} // namespace

bool utf8_validator::failed() const noexcept {
    return state_ == s_fail;
}

std::size_t utf8_validator::feed(std::string_view s) noexcept {
    if (state_ == s_fail) {
        return 0;
    }
    const char* p = s.data();
    const std::size_t n = s.size();
    std::uint8_t st = state_;
    std::size_t i = 0;
    while (i < n) {
        if (st == s_start) {
            i = skip_ascii(p, i, n);
            if (i == n) {
                break;
            }
        }
        st = next_state[st][byte_class[std::uint8_t(p[i])]];
        if (st == s_fail) {
            state_ = s_fail;
            return i;
        }
        i++;
    }
    state_ = st;
    return n;
}

bool is_valid_utf8(std::string_view s) noexcept {
    utf8_validator v;
    return v.feed(s) == s.size() && v.complete();
}

} // namespace nnghttp::detail::ws
