#include "http/range.hpp"

#include "http/http_time.hpp"
#include "http/parser.hpp"

#include <charconv>
#include <cstdio>
#include <limits>

namespace nnghttp::detail::http {

namespace {

constexpr bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}

constexpr bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// etagc = %x21 / %x23-7E / obs-text
constexpr bool is_etagc(char c) noexcept {
    auto u = static_cast<unsigned char>(c);
    return u == 0x21 || (u >= 0x23 && u <= 0x7e) || u >= 0x80;
}

std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_ows(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// Length of the entity-tag at the start of s, 0 if there is none.
std::size_t entity_tag_length(std::string_view s) noexcept {
    std::size_t i = 0;
    if (s.size() >= 2 && s[0] == 'W' && s[1] == '/') {
        i = 2;
    }
    if (i >= s.size() || s[i] != '"') {
        return 0;
    }
    for (i++; i < s.size(); i++) {
        if (s[i] == '"') {
            return i + 1;
        }
        if (!is_etagc(s[i])) {
            return 0;
        }
    }
    return 0;
}

bool is_weak(std::string_view tag) noexcept {
    return tag.size() >= 2 && tag[0] == 'W';
}

std::string_view opaque(std::string_view tag) noexcept {
    return is_weak(tag) ? tag.substr(2) : tag;
}

// 1*DIGIT, saturating at 2^64-1.  False when s is empty or has a non-digit.
bool parse_u64(std::string_view s, std::uint64_t& v) noexcept {
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    if (s.empty()) {
        return false;
    }
    v = 0;
    for (char c : s) {
        if (!is_digit(c)) {
            return false;
        }
        auto d = static_cast<std::uint64_t>(c - '0');
        v = (v > (max - d) / 10) ? max : v * 10 + d;
    }
    return true;
}

char* put_u64(char* p, char* end, std::uint64_t v) noexcept {
    return std::to_chars(p, end, v).ptr;
}

} // namespace

std::string file_etag(std::uint64_t size, std::int64_t mtime_ns, std::uint64_t inode) {
    char buf[etag_max];
    return std::string(file_etag(size, mtime_ns, inode, buf));
}

std::string_view file_etag(std::uint64_t size, std::int64_t mtime_ns, std::uint64_t inode,
                           std::span<char, etag_max> out) noexcept {
    // At most 1 + 16 + 1 + 16 + 1 + 16 + 1 = 52 bytes: it always fits.
    int n = std::snprintf(out.data(), out.size(), "\"%llx-%llx-%llx\"",
                          static_cast<unsigned long long>(inode),
                          static_cast<unsigned long long>(size),
                          static_cast<unsigned long long>(static_cast<std::uint64_t>(mtime_ns)));
    return {out.data(), n > 0 ? static_cast<std::size_t>(n) : 0};
}

bool is_entity_tag(std::string_view s) noexcept {
    return !s.empty() && entity_tag_length(s) == s.size();
}

bool etag_weak_equal(std::string_view a, std::string_view b) noexcept {
    return is_entity_tag(a) && is_entity_tag(b) && opaque(a) == opaque(b);
}

bool etag_strong_equal(std::string_view a, std::string_view b) noexcept {
    return is_entity_tag(a) && is_entity_tag(b) && !is_weak(a) && !is_weak(b) && a == b;
}

bool if_none_match_matches(std::string_view field, std::string_view etag) noexcept {
    std::string_view s = trim_ows(field);
    if (s == "*") {
        return true;
    }
    if (!is_entity_tag(etag)) {
        return false;
    }
    bool matched = false;
    bool any = false;
    while (!s.empty()) {
        if (s.front() == ',' || is_ows(s.front())) {
            s.remove_prefix(1); // empty elements and OWS around commas
            continue;
        }
        std::size_t n = entity_tag_length(s);
        if (n == 0) {
            return false; // not a list of entity tags
        }
        any = true;
        if (opaque(s.substr(0, n)) == opaque(etag)) {
            matched = true;
        }
        s.remove_prefix(n);
        while (!s.empty() && is_ows(s.front())) {
            s.remove_prefix(1);
        }
        if (!s.empty() && s.front() != ',') {
            return false; // two tags without a comma between them
        }
    }
    return any && matched;
}

bool not_modified_since(std::string_view field, std::time_t mtime) noexcept {
    std::optional<std::time_t> t = parse_http_date(trim_ows(field));
    return t && mtime <= *t;
}

bool if_range_matches(std::string_view field, std::string_view etag, std::time_t mtime) noexcept {
    std::string_view s = trim_ows(field);
    if (s.starts_with('"') || s.starts_with("W/")) { // not "Wed, ..."
        return etag_strong_equal(s, etag);
    }
    std::optional<std::time_t> t = parse_http_date(s);
    return t && *t == mtime;
}

byte_range parse_range(std::string_view field, std::uint64_t size) noexcept {
    std::size_t eq = field.find('=');
    if (eq == std::string_view::npos || !iequals(field.substr(0, eq), "bytes")) {
        return {};
    }
    std::string_view set = field.substr(eq + 1);
    if (set.empty() || is_ows(set.front())) {
        return {};
    }
    std::size_t satisfiable = 0;
    byte_range found{range_kind::single, 0, 0};
    bool any = false;
    while (!set.empty()) {
        std::size_t comma = set.find(',');
        std::string_view spec = trim_ows(set.substr(0, comma));
        set.remove_prefix(comma == std::string_view::npos ? set.size() : comma + 1);
        if (spec.empty()) {
            continue;
        }
        any = true;
        std::size_t dash = spec.find('-');
        if (dash == std::string_view::npos) {
            return {};
        }
        if (dash == 0) { // -suffix
            std::uint64_t len;
            if (!parse_u64(spec.substr(1), len)) {
                return {};
            }
            if (len == 0) {
                continue;
            }
            if (++satisfiable == 1 && size != 0) {
                found.first = len >= size ? 0 : size - len;
                found.last = size - 1;
            }
            continue;
        }
        std::uint64_t first, last = std::numeric_limits<std::uint64_t>::max();
        if (!parse_u64(spec.substr(0, dash), first)) {
            return {};
        }
        if (dash + 1 < spec.size() && !parse_u64(spec.substr(dash + 1), last)) {
            return {};
        }
        if (last < first) {
            return {}; // invalid range-spec
        }
        if (first >= size) {
            continue;
        }
        if (++satisfiable == 1) {
            found.first = first;
            found.last = last >= size ? size - 1 : last;
        }
    }
    if (!any) {
        return {};
    }
    if (satisfiable == 0) {
        return {range_kind::unsatisfiable, 0, 0};
    }
    if (satisfiable > 1 || size == 0) {
        return {};
    }
    return found;
}

std::string_view format_content_range(const byte_range& r, std::uint64_t size,
                                      std::span<char, content_range_max> out) noexcept {
    if (r.kind == range_kind::none) {
        return {};
    }
    char* p = out.data();
    char* end = p + out.size();
    for (char c : std::string_view("bytes ")) {
        *p++ = c;
    }
    if (r.kind == range_kind::single) {
        p = put_u64(p, end, r.first);
        *p++ = '-';
        p = put_u64(p, end, r.last);
    } else {
        *p++ = '*';
    }
    *p++ = '/';
    p = put_u64(p, end, size);
    return {out.data(), static_cast<std::size_t>(p - out.data())};
}

int conditional_status(const get_conditions& c, const file_validators& f) noexcept {
    if (c.if_none_match) {
        return if_none_match_matches(*c.if_none_match, f.etag) ? 304 : 200;
    }
    if (c.if_modified_since && not_modified_since(*c.if_modified_since, f.mtime)) {
        return 304;
    }
    return 200;
}

get_outcome evaluate_get(const get_conditions& c, const file_validators& f) noexcept {
    if (conditional_status(c, f) == 304) {
        return {304, {}};
    }
    if (!c.range || c.head) {
        return {200, {}};
    }
    if (c.if_range && !if_range_matches(*c.if_range, f.etag, f.mtime)) {
        return {200, {}};
    }
    byte_range r = parse_range(*c.range, f.size);
    switch (r.kind) {
    case range_kind::single:
        return {206, r};
    case range_kind::unsatisfiable:
        return {416, r};
    case range_kind::none:
        break;
    }
    return {200, {}};
}

} // namespace nnghttp::detail::http
