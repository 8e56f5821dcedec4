#include "ws_show.hpp"

namespace tool {
namespace {

constexpr std::string_view text_marker = "[text] ";
constexpr std::string_view binary_marker = "[binary ";
constexpr char hex_digits[] = "0123456789abcdef";

bool is_c0_or_del(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

// A C1 control in UTF-8: U+0080 to U+009F are C2 80 to C2 9F.
bool is_c1_at(std::string_view s, std::size_t i) {
    return static_cast<unsigned char>(s[i]) == 0xc2 && i + 1 < s.size() &&
           static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
           static_cast<unsigned char>(s[i + 1]) <= 0x9f;
}

bool needs_escapes(std::string_view s) {
    if (s.starts_with(text_marker) || s.starts_with(binary_marker)) {
        return true;
    }
    for (std::size_t i = 0; i < s.size(); i++) {
        auto c = static_cast<unsigned char>(s[i]);
        if ((is_c0_or_del(c) && c != '\t') || is_c1_at(s, i)) {
            return true;
        }
    }
    return false;
}

void append_hex(std::string& out, unsigned char c) {
    out += hex_digits[c >> 4];
    out += hex_digits[c & 0xf];
}

} // namespace

std::string escaped(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (std::size_t i = 0; i < text.size(); i++) {
        auto c = static_cast<unsigned char>(text[i]);
        switch (c) {
        case '\\':
            out += "\\\\";
            continue;
        case '\n':
            out += "\\n";
            continue;
        case '\r':
            out += "\\r";
            continue;
        case '\t':
            out += "\\t";
            continue;
        default:
            break;
        }
        if (is_c0_or_del(c)) {
            out += "\\x";
            append_hex(out, c);
        } else if (is_c1_at(text, i)) {
            out += "\\u00";
            append_hex(out, static_cast<unsigned char>(text[++i]));
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string shown_message(std::string_view data, bool text) {
    if (text) {
        if (!needs_escapes(data)) {
            return std::string(data);
        }
        return std::string(text_marker) + escaped(data);
    }
    std::string out(binary_marker);
    out += std::to_string(data.size());
    out += ']';
    if (!data.empty()) {
        out += ' ';
        out.reserve(out.size() + 2 * data.size());
        for (char c : data) {
            append_hex(out, static_cast<unsigned char>(c));
        }
    }
    return out;
}

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            i++;
            continue;
        }
        // The length of the sequence, and the range of its second byte
        // (which rules out overlong forms, surrogates and > U+10FFFF).
        std::size_t len;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            return false;
        }
        if (s.size() - i < len) {
            return false;
        }
        auto second = static_cast<unsigned char>(s[i + 1]);
        if (second < lo || second > hi) {
            return false;
        }
        for (std::size_t k = 2; k < len; k++) {
            auto next = static_cast<unsigned char>(s[i + k]);
            if (next < 0x80 || next > 0xbf) {
                return false;
            }
        }
        i += len;
    }
    return true;
}

} // namespace tool
