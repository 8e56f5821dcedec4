// Design notes.
//
// The head parser works a line at a time.  memchr finds the next LF from
// where the previous call stopped; an incomplete line is left alone (only
// its length is checked), a complete one is checked in this order: its
// length against the line limit, its end against the head limit, the field
// count, then its bytes.  Since a partial line can only fail the line limit,
// and only when the complete line would fail it too, every split of the
// input reaches the same verdict.  The head limit is not checked on partial
// lines: the line limit already bounds how far past it a caller buffers.
//
// Offsets, not pointers, are kept until the head is complete, because the
// caller's buffer may move between calls.  Views are built once, at the end,
// into vectors that keep their capacity across reset().
//
// The chunk decoder instead is a byte-at-a-time state machine for the size
// lines (short) and a memcpy-free span hand-out for the data (long), so it
// needs no buffering of its own except for trailers, which are rare.
#include "http/parser.hpp"

#include <array>
#include <cstring>
#include <limits>

namespace nnghttp::detail::http {

namespace {

// Character classes, one table lookup each.
enum : std::uint8_t {
    c_tchar = 1,  // token character
    c_value = 2,  // field value: VCHAR, SP, HTAB, obs-text
    c_target = 4, // request-target: VCHAR, obs-text
    c_hex = 8,
    c_digit = 16,
};

constexpr std::array<std::uint8_t, 256> make_classes() {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0; c < 256; c++) {
        std::uint8_t v = 0;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        bool digit = c >= '0' && c <= '9';
        if (alpha || digit ||
            std::string_view("!#$%&'*+-.^_`|~").find(char(c)) != std::string_view::npos) {
            v |= c_tchar;
        }
        if ((c > 0x20 && c != 0x7f) || c == ' ' || c == '\t') {
            v |= c_value;
        }
        if (c > 0x20 && c != 0x7f) {
            v |= c_target;
        }
        if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
            v |= c_hex;
        }
        if (digit) {
            v |= c_digit;
        }
        t[c] = v;
    }
    return t;
}

constexpr auto classes = make_classes();

inline bool is(char c, std::uint8_t cls) {
    return (classes[std::uint8_t(c)] & cls) != 0;
}
inline bool is_ws(char c) {
    return c == ' ' || c == '\t';
}

// Index of the first byte in [i, e) outside cls, or e.
inline std::size_t span_of(const char* b, std::size_t i, std::size_t e, std::uint8_t cls) {
    while (i + 4 <= e && is(b[i], cls) && is(b[i + 1], cls) && is(b[i + 2], cls) &&
           is(b[i + 3], cls)) {
        i += 4;
    }
    while (i < e && is(b[i], cls)) {
        i++;
    }
    return i;
}

// Word-at-a-time skips over the common bytes of values and targets: a word
// passes when it holds no byte below `low` and no DEL; bytes >= 0x80 pass.
// The table loop (span_of) then finishes the job byte by byte.
inline std::size_t skip_words(const char* b, std::size_t i, std::size_t e, std::uint64_t low) {
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    constexpr std::uint64_t highs = 0x8080808080808080ull;
    while (i + 8 <= e) {
        std::uint64_t v;
        std::memcpy(&v, b + i, 8);
        std::uint64_t del = v ^ (ones * 0x7f);
        if ((((v - ones * low) & ~v) | ((del - ones) & ~del)) & highs) {
            break;
        }
        i += 8;
    }
    return i;
}

// span_of for field values (SP and HTAB allowed).
inline std::size_t span_of_value(const char* b, std::size_t i, std::size_t e) {
    return span_of(b, skip_words(b, i, e, 0x20), e, c_value);
}

// span_of for request targets (no SP).
inline std::size_t span_of_target(const char* b, std::size_t i, std::size_t e) {
    return span_of(b, skip_words(b, i, e, 0x21), e, c_target);
}

// The error for an unexpected byte: a stray CR is reported as such.
inline parse_error stray(char c, parse_error otherwise) {
    return c == '\r' ? parse_error::bare_cr : otherwise;
}

constexpr std::int64_t max_length = std::numeric_limits<std::int64_t>::max();

// Field line [ls, le) (no CRLF): name and value positions into out[4].
parse_error scan_field(const char* b, std::size_t ls, std::size_t le, std::uint32_t* out) {
    if (is_ws(b[ls])) {
        return parse_error::obs_fold;
    }
    std::size_t i = span_of(b, ls, le, c_tchar);
    if (i == le) {
        return parse_error::missing_colon;
    }
    if (b[i] != ':') {
        if (is_ws(b[i])) {
            std::size_t j = i;
            while (j < le && is_ws(b[j])) {
                j++;
            }
            if (j < le && b[j] == ':' && i > ls) {
                return parse_error::space_before_colon;
            }
        }
        return stray(b[i], parse_error::bad_field_name);
    }
    if (i == ls) {
        return parse_error::bad_field_name;
    }
    out[0] = std::uint32_t(ls);
    out[1] = std::uint32_t(i - ls);
    i++;
    while (i < le && is_ws(b[i])) {
        i++;
    }
    std::size_t vs = i;
    i = span_of_value(b, i, le);
    if (i != le) {
        return stray(b[i], parse_error::bad_field_value);
    }
    while (i > vs && is_ws(b[i - 1])) {
        i--;
    }
    out[2] = std::uint32_t(vs);
    out[3] = std::uint32_t(i - vs);
    return parse_error::none;
}

// "HTTP/1.0" -> 0, "HTTP/1.1" -> 1, other "HTTP/d.d" -> -1, else -2.
int version_minor(std::string_view v) {
    if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !is(v[5], c_digit) || v[6] != '.' ||
        !is(v[7], c_digit)) {
        return -2;
    }
    if (v[5] == '1' && (v[7] == '0' || v[7] == '1')) {
        return v[7] - '0';
    }
    return -1;
}

// The first byte of v that no HTTP-version ("HTTP/" DIGIT "." DIGIT) can
// have at its place decides: a CR is bare_cr, a space bad_request_line (a
// word too many), anything else bad_version.  For a version whose line has
// not ended yet (complete false) only such a byte is certain (a CR as the
// last byte may still be the line's end); a complete one must also be
// whole: empty is bad_request_line, short bad_version, and a well-formed
// one other than 1.0 and 1.1 unsupported_version.
parse_error version_error(std::string_view v, bool complete = true) {
    static constexpr std::string_view lead = "HTTP/";
    for (std::size_t i = 0; i < v.size(); i++) {
        char c = v[i];
        bool fits = i < lead.size() ? c == lead[i] : i == 6 ? c == '.' : i < 8 && is(c, c_digit);
        if (fits) {
            continue;
        }
        if (c == '\r') {
            return !complete && i + 1 == v.size() ? parse_error::none : parse_error::bare_cr;
        }
        return c == ' ' ? parse_error::bad_request_line : parse_error::bad_version;
    }
    if (!complete) {
        return parse_error::none;
    }
    if (v.empty()) {
        return parse_error::bad_request_line;
    }
    int m = version_minor(v);
    return m >= 0 ? parse_error::none : m == -1 ? parse_error::unsupported_version : parse_error::bad_version;
}

// scan_field's verdict on the bytes [ls, n) of a field line whose end has
// not come, where it is already certain (else none): see
// head_parser::partial_request_line.
parse_error partial_field(const char* b, std::size_t ls, std::size_t n) {
    if (ls == n) {
        return parse_error::none;
    }
    if (is_ws(b[ls])) {
        return parse_error::obs_fold;
    }
    std::size_t i = span_of(b, ls, n, c_tchar);
    if (i == n || (b[i] == '\r' && i + 1 == n)) {
        return parse_error::none; // a name so far, or its line's end
    }
    if (b[i] != ':') {
        if (is_ws(b[i])) {
            std::size_t j = i;
            while (j < n && is_ws(b[j])) {
                j++;
            }
            if (j == n) {
                return parse_error::none; // a colon may follow
            }
            if (b[j] == ':' && i > ls) {
                return parse_error::space_before_colon;
            }
        }
        return stray(b[i], parse_error::bad_field_name);
    }
    if (i == ls) {
        return parse_error::bad_field_name;
    }
    std::size_t k = span_of_value(b, i + 1, n);
    if (k == n || (b[k] == '\r' && k + 1 == n)) {
        return parse_error::none;
    }
    return stray(b[k], parse_error::bad_field_value);
}

inline char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
}

} // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); i++) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

bool is_token(std::string_view s) noexcept {
    return !s.empty() && span_of(s.data(), 0, s.size(), c_tchar) == s.size();
}

bool is_field_value(std::string_view s) noexcept {
    if (!s.empty() && (is_ws(s.front()) || is_ws(s.back()))) {
        return false;
    }
    return span_of(s.data(), 0, s.size(), c_value) == s.size();
}

bool is_request_target(std::string_view s) noexcept {
    return !s.empty() && span_of(s.data(), 0, s.size(), c_target) == s.size();
}

bool is_reason(std::string_view s) noexcept {
    return span_of(s.data(), 0, s.size(), c_value) == s.size();
}

int http_status(parse_error e) noexcept {
    switch (e) {
    case parse_error::none:
        return 0;
    case parse_error::start_line_too_long:
        return 414;
    case parse_error::field_line_too_long:
    case parse_error::head_too_large:
    case parse_error::too_many_fields:
    case parse_error::trailer_too_large:
        return 431;
    case parse_error::unsupported_transfer_coding:
        return 501;
    case parse_error::unsupported_version:
        return 505;
    default:
        return 400;
    }
}

std::string_view describe(parse_error e) noexcept {
    switch (e) {
    case parse_error::none:
        return "no error";
    case parse_error::bad_request_line:
        return "malformed request line";
    case parse_error::bad_method:
        return "invalid character in method";
    case parse_error::bad_target:
        return "invalid character in request target";
    case parse_error::bad_version:
        return "malformed HTTP version";
    case parse_error::unsupported_version:
        return "unsupported HTTP version";
    case parse_error::bad_status_line:
        return "malformed status line";
    case parse_error::bad_status_code:
        return "invalid status code";
    case parse_error::bad_reason:
        return "invalid character in reason phrase";
    case parse_error::start_line_too_long:
        return "request line too long";
    case parse_error::bare_cr:
        return "CR not followed by LF";
    case parse_error::bare_lf:
        return "LF not preceded by CR";
    case parse_error::obs_fold:
        return "obsolete line folding";
    case parse_error::bad_field_name:
        return "invalid character in header name";
    case parse_error::space_before_colon:
        return "whitespace before colon in header";
    case parse_error::missing_colon:
        return "header line without colon";
    case parse_error::bad_field_value:
        return "invalid character in header value";
    case parse_error::field_line_too_long:
        return "header line too long";
    case parse_error::head_too_large:
        return "header section too large";
    case parse_error::too_many_fields:
        return "too many header fields";
    case parse_error::bad_content_length:
        return "invalid Content-Length";
    case parse_error::content_length_overflow:
        return "Content-Length too large";
    case parse_error::conflicting_content_length:
        return "conflicting Content-Length values";
    case parse_error::te_with_content_length:
        return "both Transfer-Encoding and Content-Length";
    case parse_error::bad_transfer_encoding:
        return "chunked is not the final transfer coding";
    case parse_error::transfer_encoding_in_http10:
        return "Transfer-Encoding in HTTP/1.0 message";
    case parse_error::unsupported_transfer_coding:
        return "unsupported transfer coding";
    case parse_error::bad_chunk_size:
        return "invalid chunk size";
    case parse_error::chunk_size_overflow:
        return "chunk size too large";
    case parse_error::bad_chunk_extension:
        return "invalid chunk extension";
    case parse_error::chunk_line_too_long:
        return "chunk size line too long";
    case parse_error::missing_chunk_crlf:
        return "missing CRLF after chunk data";
    case parse_error::trailer_too_large:
        return "trailer section too large";
    case parse_error::bad_host:
        return "missing, repeated or invalid Host";
    }
    return "unknown error";
}

const header_field* message_head::find(std::string_view name) const noexcept {
    for (const auto& f : fields) {
        if (iequals(f.name, name)) {
            return &f;
        }
    }
    return nullptr;
}

// ---------------------------------------------------------------- head

head_parser::head_parser(message_kind kind, parser_options opts) : opts_(opts) {
    // Offsets are 32-bit: a head is never allowed to reach 4 GiB.
    constexpr std::size_t cap = std::numeric_limits<std::uint32_t>::max() - 1;
    if (opts_.max_head > cap) {
        opts_.max_head = cap;
    }
    head_.kind = kind;
}

void head_parser::reset() noexcept {
    message_kind kind = head_.kind;
    head_.method = head_.target = head_.version = head_.reason = {};
    head_.version_minor = 1;
    head_.status = 0;
    head_.fields.clear();
    head_.body = body_kind::none;
    head_.content_length = -1;
    head_.kind = kind;
    offs_.clear();
    result_ = {};
    line_start_ = scanned_ = 0;
    in_fields_ = false;
    head_request_ = false;
    has_te_ = te_chunked_last_ = te_other_ = false;
    te_chunked_count_ = 0;
    has_host_ = false;
}

parse_result head_parser::fail(parse_error e) {
    result_ = {parse_status::error, 0, e};
    return result_;
}

parse_result head_parser::parse(std::string_view buf) {
    if (result_.status != parse_status::need_more) {
        return result_;
    }
    const char* b = buf.data();
    const std::size_t n = buf.size();
    if (n < scanned_) {
        return result_; // shorter than before: a caller error, wait for more
    }
    for (;;) {
        const std::size_t ls = line_start_;
        const std::size_t limit = in_fields_ ? opts_.max_field_line : opts_.max_start_line;
        const parse_error too_long =
            in_fields_ ? parse_error::field_line_too_long : parse_error::start_line_too_long;
        const void* p = scanned_ < n ? std::memchr(b + scanned_, '\n', n - scanned_) : nullptr;
        if (p == nullptr) {
            if (parse_error e = partial_line(b, ls, std::min(n, ls + limit)); e != parse_error::none) {
                return fail(e);
            }
            scanned_ = n;
            if (n - ls >= limit) {
                return fail(too_long);
            }
            return result_;
        }
        const std::size_t lf = std::size_t(static_cast<const char*>(p) - b);
        const std::size_t end = lf + 1;
        {
            // The check a partial line gets, first, so that every split
            // of the input meets the same verdict.
            // (The line's final CR stays in: as the last byte it is taken
            // for a possible line end, as it was before its LF came.)
            if (parse_error e = partial_line(b, ls, std::min(lf, ls + limit)); e != parse_error::none) {
                return fail(e);
            }
        }
        if (end - ls > limit) {
            return fail(too_long);
        }
        if (end > opts_.max_head) {
            return fail(parse_error::head_too_large);
        }
        std::size_t le = lf;
        if (le > ls && b[le - 1] == '\r') {
            le--;
        } else if (!opts_.allow_bare_lf) {
            return fail(parse_error::bare_lf);
        }
        line_start_ = scanned_ = end;
        parse_error e = parse_error::none;
        if (le == ls) {
            if (!in_fields_) {
                continue; // empty line before the start line
            }
            if ((e = finish(b)) != parse_error::none) {
                return fail(e);
            }
            result_ = {parse_status::complete, end, parse_error::none};
            return result_;
        }
        if (!in_fields_) {
            e = start_line(b, ls, le);
            in_fields_ = true;
        } else if (offs_.size() >= opts_.max_fields) {
            e = parse_error::too_many_fields;
        } else {
            e = field_line(b, ls, le);
        }
        if (e != parse_error::none) {
            return fail(e);
        }
    }
}

parse_error head_parser::start_line(const char* b, std::size_t ls, std::size_t le) {
    return head_.kind == message_kind::request ? request_line(b, ls, le) : status_line(b, ls, le);
}

parse_error head_parser::request_line(const char* b, std::size_t ls, std::size_t le) {
    std::size_t i = span_of(b, ls, le, c_tchar);
    if (i == le || (i == ls && b[i] == ' ')) {
        return parse_error::bad_request_line;
    }
    if (b[i] != ' ') {
        return stray(b[i], parse_error::bad_method);
    }
    std::size_t t = i + 1;
    std::size_t j = span_of_target(b, t, le);
    if (j == le) {
        return parse_error::bad_request_line; // no version (HTTP/0.9) or no target
    }
    if (b[j] != ' ') {
        return stray(b[j], parse_error::bad_target);
    }
    if (j == t) {
        return parse_error::bad_request_line; // two spaces
    }
    std::string_view v(b + j + 1, le - j - 1);
    if (parse_error e = version_error(v); e != parse_error::none) {
        return e;
    }
    head_.version_minor = version_minor(v);
    sl_[0] = std::uint32_t(ls);
    sl_[1] = std::uint32_t(i - ls);
    sl_[2] = std::uint32_t(t);
    sl_[3] = std::uint32_t(j - t);
    sl_[4] = std::uint32_t(j + 1);
    sl_[5] = std::uint32_t(le - j - 1);
    return parse_error::none;
}

// The bytes [ls, n) of a request line (or of an empty line before one)
// whose end has not come, up to the start line limit: an error if no
// ending could make them valid, so that junk is refused at its first bytes
// instead of waiting for a line end that may never come.  It finds the
// first error request_line() would report at the same place (the method,
// the separators, the target; the version is left to request_line), and
// parse() runs it on complete lines too, before the limit checks, so that
// every split of the input gets the same verdict.  Rescanning the prefix on
// each call stays cheap: heads nearly always come whole, and the limit
// bounds the rest.
parse_error head_parser::partial_request_line(const char* b, std::size_t ls, std::size_t n) const {
    std::size_t i = span_of(b, ls, n, c_tchar);
    if (i == n) {
        return parse_error::none; // a method so far
    }
    if (b[i] == '\r' && i + 1 == n) {
        return parse_error::none; // perhaps the CR of the line's end
    }
    if (b[i] != ' ') {
        return stray(b[i], parse_error::bad_method);
    }
    if (i == ls) {
        return parse_error::bad_request_line;
    }
    std::size_t t = i + 1;
    std::size_t j = span_of_target(b, t, n);
    if (j == n || (b[j] == '\r' && j + 1 == n)) {
        return parse_error::none; // a target so far
    }
    if (b[j] != ' ') {
        return stray(b[j], parse_error::bad_target);
    }
    if (j == t) {
        return parse_error::bad_request_line; // two spaces
    }
    return version_error({b + j + 1, n - j - 1}, false);
}

// A line of a request head whose end has not come: the start line, or a
// field line.  Responses are not checked before their lines end.
parse_error head_parser::partial_line(const char* b, std::size_t ls, std::size_t n) const {
    if (head_.kind != message_kind::request) {
        return parse_error::none;
    }
    return in_fields_ ? partial_field(b, ls, n) : partial_request_line(b, ls, n);
}

parse_error head_parser::status_line(const char* b, std::size_t ls, std::size_t le) {
    const void* sp = std::memchr(b + ls, ' ', le - ls);
    if (sp == nullptr) {
        std::string_view v(b + ls, le - ls);
        return version_minor(v) == -2 ? version_error(v) : parse_error::bad_status_line;
    }
    std::size_t j = std::size_t(static_cast<const char*>(sp) - b);
    std::string_view v(b + ls, j - ls);
    if (parse_error e = version_error(v); e != parse_error::none) {
        return e == parse_error::bad_request_line ? parse_error::bad_status_line : e;
    }
    head_.version_minor = version_minor(v);
    std::size_t k = j + 1;
    std::size_t d = span_of(b, k, le, c_digit);
    if (d == k) {
        return k < le && b[k] == ' ' ? parse_error::bad_status_line
                                     : stray(k < le ? b[k] : ' ', parse_error::bad_status_code);
    }
    if (d - k != 3 || b[k] == '0') {
        return parse_error::bad_status_code;
    }
    if (d < le && b[d] != ' ') {
        return stray(b[d], parse_error::bad_status_code);
    }
    head_.status = (b[k] - '0') * 100 + (b[k + 1] - '0') * 10 + (b[k + 2] - '0');
    std::size_t r = d < le ? d + 1 : le;
    std::size_t re = span_of_value(b, r, le);
    if (re != le) {
        return stray(b[re], parse_error::bad_reason);
    }
    sl_[0] = std::uint32_t(ls);
    sl_[1] = std::uint32_t(j - ls);
    sl_[2] = std::uint32_t(r);
    sl_[3] = std::uint32_t(le - r);
    return parse_error::none;
}

parse_error head_parser::field_line(const char* b, std::size_t ls, std::size_t le) {
    std::uint32_t o[4];
    if (parse_error e = scan_field(b, ls, le, o); e != parse_error::none) {
        return e;
    }
    offs_.push_back({o[0], o[1], o[2], o[3]});
    // Only two names matter to framing; compare lengths first.
    if (o[1] == 14 && iequals({b + o[0], 14}, "content-length")) {
        return content_length({b + o[2], o[3]});
    }
    if (o[1] == 17 && iequals({b + o[0], 17}, "transfer-encoding")) {
        return transfer_encoding({b + o[2], o[3]});
    }
    if (o[1] == 4 && opts_.check_host && head_.kind == message_kind::request &&
        iequals({b + o[0], 4}, "host")) {
        return host({b + o[2], o[3]});
    }
    return parse_error::none;
}

// Host = uri-host [ ":" port ] (RFC 9112 section 3.2): an IP literal in
// brackets, or a reg-name / IPv4 address (unreserved, pct-encoded and
// sub-delims characters); the port is digits.  One field line only.
parse_error head_parser::host(std::string_view v) {
    if (has_host_ || v.empty()) {
        return parse_error::bad_host;
    }
    has_host_ = true;
    std::size_t i = 0;
    const std::size_t n = v.size();
    if (v[0] == '[') {
        std::size_t close = v.find(']');
        if (close == std::string_view::npos || close == 1) {
            return parse_error::bad_host;
        }
        for (std::size_t k = 1; k < close; k++) {
            char c = v[k];
            if (!is(c, c_hex) && c != ':' && c != '.' && c != 'v' && c != 'V') {
                return parse_error::bad_host;
            }
        }
        i = close + 1;
    } else {
        static constexpr std::string_view extra = "-._~!$&'()*+,;=%";
        while (i < n && v[i] != ':') {
            char c = v[i];
            bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is(c, c_digit);
            if (!alnum && extra.find(c) == std::string_view::npos) {
                return parse_error::bad_host;
            }
            i++;
        }
        if (i == 0) {
            return parse_error::bad_host; // ":80"
        }
    }
    if (i < n) {
        if (v[i] != ':') {
            return parse_error::bad_host;
        }
        if (span_of(v.data(), i + 1, n, c_digit) != n) {
            return parse_error::bad_host;
        }
    }
    return parse_error::none;
}

parse_error head_parser::content_length(std::string_view v) {
    std::size_t i = 0;
    const std::size_t n = v.size();
    for (;;) {
        if (i == n || !is(v[i], c_digit)) {
            return parse_error::bad_content_length;
        }
        std::int64_t val = 0;
        for (; i < n && is(v[i], c_digit); i++) {
            int dg = v[i] - '0';
            if (val > (max_length - dg) / 10) {
                return parse_error::content_length_overflow;
            }
            val = val * 10 + dg;
        }
        if (head_.content_length >= 0 && head_.content_length != val) {
            return parse_error::conflicting_content_length;
        }
        head_.content_length = val;
        while (i < n && is_ws(v[i])) {
            i++;
        }
        if (i == n) {
            return parse_error::none;
        }
        if (v[i] != ',') {
            return parse_error::bad_content_length;
        }
        i++;
        while (i < n && is_ws(v[i])) {
            i++;
        }
    }
}

parse_error head_parser::transfer_encoding(std::string_view v) {
    has_te_ = true;
    std::size_t i = 0;
    const std::size_t n = v.size();
    for (;;) {
        std::size_t s = i;
        i = span_of(v.data(), i, n, c_tchar);
        if (i == s) {
            return parse_error::bad_transfer_encoding;
        }
        bool chunked = iequals(v.substr(s, i - s), "chunked");
        while (i < n && is_ws(v[i])) {
            i++;
        }
        if (i < n && v[i] == ';') {
            // Parameters: chunked takes none; other codings are refused
            // anyway, so their parameters are skipped, not parsed.
            if (chunked) {
                return parse_error::bad_transfer_encoding;
            }
            while (i < n && v[i] != ',') {
                i++;
            }
        }
        if (chunked) {
            if (te_chunked_count_ != 0) {
                return parse_error::bad_transfer_encoding;
            }
            te_chunked_count_ = 1;
        } else {
            te_other_ = true;
        }
        te_chunked_last_ = chunked;
        if (i == n) {
            return parse_error::none;
        }
        if (v[i] != ',') {
            return parse_error::bad_transfer_encoding;
        }
        i++;
        while (i < n && is_ws(v[i])) {
            i++;
        }
    }
}

parse_error head_parser::finish(const char* b) {
    const bool request = head_.kind == message_kind::request;
    if (has_te_) {
        if (head_.content_length >= 0) {
            return parse_error::te_with_content_length;
        }
        if (head_.version_minor == 0) {
            return parse_error::transfer_encoding_in_http10;
        }
        if (!te_chunked_last_) {
            return parse_error::bad_transfer_encoding;
        }
        if (te_other_) {
            return parse_error::unsupported_transfer_coding;
        }
    }
    if (request) {
        head_.method = {b + sl_[0], sl_[1]};
        head_.target = {b + sl_[2], sl_[3]};
        head_.version = {b + sl_[4], sl_[5]};
    } else {
        head_.version = {b + sl_[0], sl_[1]};
        head_.reason = {b + sl_[2], sl_[3]};
    }
    head_.fields.clear();
    head_.fields.reserve(offs_.size());
    for (const auto& o : offs_) {
        head_.fields.push_back({{b + o.name_pos, o.name_len}, {b + o.value_pos, o.value_len}});
    }
    const int st = head_.status;
    if (!request && (head_request_ || st < 200 || st == 204 || st == 304)) {
        head_.body = body_kind::none;
    } else if (has_te_) {
        head_.body = body_kind::chunked;
    } else if (head_.content_length > 0) {
        head_.body = body_kind::length;
    } else if (head_.content_length == 0 || request) {
        head_.body = body_kind::none;
    } else {
        head_.body = body_kind::until_close;
    }
    return parse_error::none;
}

// ---------------------------------------------------------------- chunks

enum class chunk_decoder::state : std::uint8_t {
    size_first,    // first hex digit of a size
    size,          // more hex digits, or what follows them
    ext_ws,        // BWS before ';'
    ext_name_ws,   // after ';': BWS, then a name
    ext_name,      // in a name
    ext_name_end,  // BWS after a name: '=' or ';'
    ext_val_ws,    // after '=': BWS, then a value
    ext_val,       // in a token value
    ext_quoted,    // in a quoted value
    ext_quoted_bs, // after a backslash in a quoted value
    ext_val_end,   // after the closing quote
    size_lf,       // CR seen, LF expected
    data,
    data_cr,
    data_lf,
    trailer_start, // start of a trailer line, or the final CRLF
    trailer_line,  // in a trailer line
    final_lf,      // final CR seen
    done,
    failed,
};

chunk_decoder::chunk_decoder(chunk_options opts) : opts_(opts), st_(state::size_first) {}

void chunk_decoder::reset() noexcept {
    st_ = state::size_first;
    remaining_ = body_size_ = 0;
    line_len_ = trailer_bytes_ = trailer_count_ = tline_ = 0;
    error_ = parse_error::none;
    tbuf_.clear();
    toffs_.clear();
    trailers_.clear();
}

// One byte of a chunk size line, CR and LF included.
parse_error chunk_decoder::size_line_byte(char c) {
    if (++line_len_ > opts_.max_chunk_line) {
        return parse_error::chunk_line_too_long;
    }
    auto line_end = [this]() {
        st_ = remaining_ == 0 ? state::trailer_start : state::data;
        line_len_ = 0;
        return parse_error::none;
    };
    // Where the line may end: CR (or LF if allowed) finishes it.
    const bool may_end = st_ == state::size || st_ == state::ext_name || st_ == state::ext_val ||
                         st_ == state::ext_val_end;
    if (may_end && c == '\r') {
        st_ = state::size_lf;
        return parse_error::none;
    }
    if (may_end && c == '\n') {
        return opts_.allow_bare_lf ? line_end() : parse_error::bare_lf;
    }
    const parse_error bad_ext = parse_error::bad_chunk_extension;
    switch (st_) {
    case state::size_first:
    case state::size:
        if (is(c, c_hex)) {
            int d = is(c, c_digit) ? c - '0' : lower(c) - 'a' + 10;
            if (remaining_ > (std::uint64_t(max_length) - std::uint64_t(d)) / 16) {
                return parse_error::chunk_size_overflow;
            }
            remaining_ = remaining_ * 16 + std::uint64_t(d);
            st_ = state::size;
            return parse_error::none;
        }
        if (st_ == state::size && is_ws(c)) {
            st_ = state::ext_ws;
        } else if (st_ == state::size && c == ';') {
            st_ = state::ext_name_ws;
        } else {
            return parse_error::bad_chunk_size;
        }
        return parse_error::none;
    case state::ext_ws:
        if (c == ';') {
            st_ = state::ext_name_ws;
        } else if (!is_ws(c)) {
            return bad_ext;
        }
        return parse_error::none;
    case state::ext_name_ws:
        if (is(c, c_tchar)) {
            st_ = state::ext_name;
        } else if (!is_ws(c)) {
            return bad_ext;
        }
        return parse_error::none;
    case state::ext_name:
    case state::ext_name_end:
        if (st_ == state::ext_name && is(c, c_tchar)) {
            return parse_error::none;
        }
        if (c == '=') {
            st_ = state::ext_val_ws;
        } else if (c == ';') {
            st_ = state::ext_name_ws;
        } else if (is_ws(c)) {
            st_ = state::ext_name_end;
        } else {
            return bad_ext;
        }
        return parse_error::none;
    case state::ext_val_ws:
        if (is(c, c_tchar)) {
            st_ = state::ext_val;
        } else if (c == '"') {
            st_ = state::ext_quoted;
        } else if (!is_ws(c)) {
            return bad_ext;
        }
        return parse_error::none;
    case state::ext_val:
    case state::ext_val_end:
        if (st_ == state::ext_val && is(c, c_tchar)) {
            return parse_error::none;
        }
        if (c == ';') {
            st_ = state::ext_name_ws;
        } else if (is_ws(c)) {
            st_ = state::ext_ws;
        } else {
            return bad_ext;
        }
        return parse_error::none;
    case state::ext_quoted:
        if (c == '"') {
            st_ = state::ext_val_end;
        } else if (c == '\\') {
            st_ = state::ext_quoted_bs;
        } else if (!is(c, c_value)) {
            return bad_ext;
        }
        return parse_error::none;
    case state::ext_quoted_bs:
        if (!is(c, c_value)) {
            return bad_ext;
        }
        st_ = state::ext_quoted;
        return parse_error::none;
    case state::size_lf:
        if (c != '\n') {
            return parse_error::bare_cr;
        }
        return line_end();
    default:
        return parse_error::bad_chunk_size; // not reached
    }
}

// A whole size line of 1 to 15 hex digits and CRLF at p: consumes it, sets
// the state as size_line_byte() would, and returns its length; otherwise 0,
// and the byte-wise machine takes over (extensions, limits, errors, splits).
std::size_t chunk_decoder::plain_size_line(const char* p, std::size_t n) {
    std::size_t k = 0;
    std::uint64_t v = 0;
    while (k < n && k < 15 && is(p[k], c_hex)) {
        int d = is(p[k], c_digit) ? p[k] - '0' : lower(p[k]) - 'a' + 10;
        v = v * 16 + std::uint64_t(d);
        k++;
    }
    if (k == 0 || k + 2 > n || p[k] != '\r' || p[k + 1] != '\n' || k + 2 > opts_.max_chunk_line) {
        return 0;
    }
    remaining_ = v;
    st_ = v == 0 ? state::trailer_start : state::data;
    line_len_ = 0;
    return k + 2;
}

// A complete trailer line sits in tbuf_ from tline_, its LF included.
parse_error chunk_decoder::trailer_line_end() {
    std::size_t le = tbuf_.size() - 1;
    if (le > tline_ && tbuf_[le - 1] == '\r') {
        le--;
    } else if (!opts_.allow_bare_lf) {
        return parse_error::bare_lf;
    }
    if (++trailer_count_ > opts_.max_trailer_fields) {
        return parse_error::too_many_fields;
    }
    std::uint32_t o[4];
    if (parse_error e = scan_field(tbuf_.data(), tline_, le, o); e != parse_error::none) {
        return e;
    }
    if (opts_.keep_trailers) {
        toffs_.insert(toffs_.end(), o, o + 4);
        tline_ = tbuf_.size();
    } else {
        tbuf_.clear();
    }
    return parse_error::none;
}

chunk_result chunk_decoder::decode(std::string_view in) {
    const char* b = in.data();
    const std::size_t n = in.size();
    std::size_t i = 0;
    auto fail = [this](parse_error e) {
        error_ = e;
        st_ = state::failed;
        return chunk_result{chunk_status::error, 0, {}, e};
    };
    while (i < n) {
        switch (st_) {
        case state::data: {
            std::size_t take = n - i;
            if (remaining_ < take) {
                take = std::size_t(remaining_);
            }
            remaining_ -= take;
            body_size_ += take;
            if (remaining_ == 0) {
                st_ = state::data_cr;
            }
            return {chunk_status::data, i + take, {b + i, take}, parse_error::none};
        }
        case state::data_cr:
            if (i + 2 <= n && b[i] == '\r' && b[i + 1] == '\n') {
                st_ = state::size_first; // the common case, in one step
                i += 2;
                break;
            }
            if (b[i] == '\n' && opts_.allow_bare_lf) {
                st_ = state::size_first;
            } else if (b[i] != '\r') {
                return fail(parse_error::missing_chunk_crlf);
            } else {
                st_ = state::data_lf;
            }
            i++;
            break;
        case state::data_lf:
            if (b[i] != '\n') {
                return fail(parse_error::missing_chunk_crlf);
            }
            st_ = state::size_first;
            i++;
            break;
        case state::trailer_start:
            if (b[i] == '\r') {
                st_ = state::final_lf;
                i++;
                break;
            }
            if (b[i] == '\n') {
                if (!opts_.allow_bare_lf) {
                    return fail(parse_error::bare_lf);
                }
                st_ = state::final_lf;
                break; // final_lf takes this LF
            }
            st_ = state::trailer_line;
            break;
        case state::trailer_line: {
            const void* p = std::memchr(b + i, '\n', n - i);
            std::size_t stop = p ? std::size_t(static_cast<const char*>(p) - b) + 1 : n;
            trailer_bytes_ += stop - i;
            if (trailer_bytes_ > opts_.max_trailer) {
                return fail(parse_error::trailer_too_large);
            }
            tbuf_.append(b + i, stop - i);
            i = stop;
            if (p != nullptr) {
                if (parse_error e = trailer_line_end(); e != parse_error::none) {
                    return fail(e);
                }
                st_ = state::trailer_start;
            }
            break;
        }
        case state::final_lf:
            if (b[i] != '\n') {
                return fail(parse_error::bare_cr);
            }
            i++;
            st_ = state::done;
            trailers_.clear();
            for (std::size_t k = 0; k + 3 < toffs_.size(); k += 4) {
                trailers_.push_back({{tbuf_.data() + toffs_[k], toffs_[k + 1]},
                                     {tbuf_.data() + toffs_[k + 2], toffs_[k + 3]}});
            }
            return {chunk_status::done, i, {}, parse_error::none};
        case state::done:
            return {chunk_status::done, 0, {}, parse_error::none};
        case state::failed:
            return {chunk_status::error, 0, {}, error_};
        case state::size_first:
            if (std::size_t k = plain_size_line(b + i, n - i); k != 0) {
                i += k; // "hex CRLF" in one step
                break;
            }
            [[fallthrough]];
        default:
            if (parse_error e = size_line_byte(b[i]); e != parse_error::none) {
                return fail(e);
            }
            i++;
            break;
        }
    }
    if (st_ == state::done) {
        return {chunk_status::done, 0, {}, parse_error::none};
    }
    if (st_ == state::failed) {
        return {chunk_status::error, 0, {}, error_};
    }
    return {chunk_status::need_more, i, {}, parse_error::none};
}

bool list_has_token(std::string_view list, std::string_view token) noexcept {
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
            item.remove_prefix(1);
        }
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
            item.remove_suffix(1);
        }
        if (iequals(item, token)) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    return false;
}

} // namespace nnghttp::detail::http
