// URL parsing, bug-compatible with NNG 1.5.2 (see url.hpp for the rules).
//
// Design notes.  The parse runs in the same stages as NNG's, because some
// results depend on the order: escapes are decoded before dot segments are
// resolved (so "%2e%2e" is a ".." segment), and the UTF-8 check runs on the
// decoded text.  Where NNG 1.5.2 departs from the RFCs or from its own
// documentation, we follow NNG, since programs written against it see those
// results; each such place is marked "NNG quirk".
#include "core/url.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <nng/nng.h>
#include <utility>

namespace nnghttp::detail {

namespace {

char lower_ascii(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

char upper_ascii(char c) noexcept {
    return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = lower_ascii(c);
    }
    return out;
}


// The byte at i, or 0 past the end: NNG walks C strings, so the end of the
// text reads as NUL, and one quirk below even looks past it.
unsigned char byte_at(std::string_view s, std::size_t i) noexcept {
    return i < s.size() ? static_cast<unsigned char>(s[i]) : 0;
}

// The value of the escape "%XY" starting at i, or -1 if it is malformed.
int escape_at(std::string_view s, std::size_t i) noexcept {
    int hi = hex_digit(static_cast<char>(byte_at(s, i + 1)));
    int lo = hex_digit(static_cast<char>(byte_at(s, i + 2)));
    return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

// Bytes an escape may be decoded to without changing what the URL means:
// RFC 3986's unreserved set, plus bytes >= 0x80 so that UTF-8 gets checked.
bool decodes_safely(int c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '~' || c == '_' || c == '-' || c >= 0x80;
}

// Stage 1: decodes the safe escapes, upper-cases the hex of the others.
int normalise_escapes(std::string_view in, std::string& out) {
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        int c = escape_at(in, i);
        if (c < 0) {
            return NNG_EINVAL;
        }
        if (decodes_safely(c)) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += upper_ascii(in[i + 1]);
            out += upper_ascii(in[i + 2]);
        }
        i += 2;
    }
    return 0;
}

// Stage 2: collapses each run of '/' in the path to one '/'.
std::string collapse_slashes(std::string_view path) {
    std::string out;
    out.reserve(path.size());
    for (char c : path) {
        if (c != '/' || out.empty() || out.back() != '/') {
            out += c;
        }
    }
    return out;
}

// True if path holds the segment seg starting right after the '/' at i.
bool is_segment(std::string_view path, std::size_t i, std::string_view seg) noexcept {
    std::size_t end = i + 1 + seg.size();
    return path.substr(i + 1, seg.size()) == seg && (end == path.size() || path[end] == '/');
}

// Stage 3: resolves "." and ".." segments of a path without runs of '/'.
// NNG quirk: ".." removes the previous segment together with its '/', so
// "/a/.." becomes "" rather than "/", and ".." above the root is dropped.
std::string remove_dot_segments(std::string_view path) {
    std::string out;
    out.reserve(path.size());
    std::size_t i = 0;
    while (i < path.size()) {
        if (path[i] != '/') {
            out += path[i++];
        } else if (is_segment(path, i, "..")) {
            std::size_t slash = out.empty() ? 0 : out.rfind('/', out.size() - 1);
            out.resize(slash == std::string::npos ? 0 : slash);
            i += 3;
        } else if (is_segment(path, i, ".")) {
            i += 2;
        } else {
            out += path[i++];
        }
    }
    return out;
}

// What a UTF-8 lead byte promises: its value bits, how many continuation
// bytes follow, and the smallest value that needs that many.
struct utf8_lead {
    std::uint32_t bits;
    int extra;
    std::uint32_t min;
};

std::optional<utf8_lead> classify_lead(unsigned char b) noexcept {
    if ((b & 0xe0) == 0xc0) {
        return utf8_lead{b & 0x1fu, 1, 0x80};
    }
    if ((b & 0xf0) == 0xe0) {
        return utf8_lead{b & 0x0fu, 2, 0x800};
    }
    if ((b & 0xf8) == 0xf0) {
        return utf8_lead{b & 0x07u, 3, 0x10000};
    }
    return std::nullopt; // a continuation byte, or 0xf8 and above
}

// Stage 4: NNG's UTF-8 check.  It rejects stray continuation bytes, lead
// bytes 0xf8 and above, truncated sequences, and sequences whose value is
// overlong, a surrogate or above U+10FFFF.  NNG quirk: the value is built
// from the lead byte and the bytes one place further on than the
// continuation bytes it checks (the byte after the sequence, a NUL at the
// end, stands in for the last), so "%e2%82%ac" passes but "%e0%a0%80"
// (U+0800) and "%ed%9f%bf" (U+D7FF) fail and "%ed%a0%80" passes.
bool nng_utf8_valid(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        unsigned char b = byte_at(s, i++);
        if (b < 0x80) {
            continue;
        }
        std::optional<utf8_lead> lead = classify_lead(b);
        if (!lead) {
            return false;
        }
        std::uint32_t v = lead->bits;
        for (int k = 0; k < lead->extra; ++k) {
            if ((byte_at(s, i++) & 0xc0) != 0x80) {
                return false;
            }
            v = (v << 6) + (byte_at(s, i) & 0x3fu);
        }
        if (v < lead->min || (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff) {
            return false;
        }
    }
    return true;
}

// The request URI from what follows the host.  Slashes and dot segments
// are only touched before the first '?' or '#'; the UTF-8 check and escape
// rules cover the query and fragment too.
int canonical_requri(std::string_view rest, std::string& out) {
    std::string text;
    if (int rv = normalise_escapes(rest, text); rv != 0) {
        return rv;
    }
    std::size_t cut = std::min(text.find_first_of("?#"), text.size());
    std::string_view path = std::string_view(text).substr(0, cut);
    out = remove_dot_segments(collapse_slashes(path));
    out += std::string_view(text).substr(cut);
    return nng_utf8_valid(out) ? 0 : NNG_EINVAL;
}

// Splits "scheme://rest".  The scheme ends at the first ':', whatever
// comes before it.
int split_scheme(std::string_view text, url& u, std::string_view& rest) {
    std::size_t colon = text.find(':');
    if (colon == std::string_view::npos || text.substr(colon, 3) != "://") {
        return NNG_EINVAL;
    }
    u.scheme = to_lower(text.substr(0, colon));
    rest = text.substr(colon + 3);
    return 0;
}

// Splits "[userinfo@]authority" off rest, leaving in tail what follows the
// authority ('/', '?', '#' or nothing).  A second '@' is an error.
// NNG quirk: after an '@' the scan resumes one byte late, so the byte just
// after the '@' always belongs to the host, even if it is '/', '?', '#' or
// '@': "user@/a/b" has host "/a" and path "/b".  If the '@' ends the text,
// NNG reads the NUL after it as that byte; the host is then "".
int split_authority(std::string_view rest, url& u, std::string_view& authority,
                    std::string_view& tail) {
    std::size_t start = 0;
    std::size_t i = 0;
    for (;; ++i) {
        char c = static_cast<char>(byte_at(rest, i));
        if (c == '\0' || c == '/' || c == '?' || c == '#') {
            break;
        }
        if (c == '@') {
            if (u.userinfo) {
                return NNG_EINVAL;
            }
            u.userinfo = std::string(rest.substr(start, i - start));
            start = i + 1;
            i = start; // the loop's ++i makes this the quirk described above
        }
    }
    std::size_t end = std::min(i, rest.size()); // start <= end holds here
    authority = rest.substr(start, end - start);
    tail = rest.substr(end);
    return 0;
}

// "*" and a leading "*:" mean "any host" in nanomsg URLs; NNG drops the '*'.
std::string_view strip_wildcard(std::string_view host) noexcept {
    if (host == "*" || host.substr(0, 2) == "*:") {
        host.remove_prefix(1);
    }
    return host;
}

// Cuts path, query and fragment out of the canonical request URI.
void split_requri(url& u) {
    std::string_view r = *u.requri;
    std::size_t cut = std::min(r.find_first_of("?#"), r.size());
    u.path = std::string(r.substr(0, cut));
    r.remove_prefix(cut);
    if (!r.empty() && r.front() == '?') {
        std::size_t hash = std::min(r.find('#'), r.size());
        u.query = std::string(r.substr(1, hash - 1));
        r.remove_prefix(hash);
    }
    if (!r.empty() && r.front() == '#') {
        u.fragment = std::string(r.substr(1));
    }
}

// Splits the host into hostname and port.  An IPv6 literal must be closed
// by ']' and followed by nothing or ':'.  The port is all the text after
// the first ':' (so "h:80:90" has port "80:90"), and must not be empty.
int split_host_port(url& u) {
    std::string_view h = *u.host;
    std::size_t end = 0;
    if (!h.empty() && h.front() == '[') {
        std::size_t close = h.find(']');
        if (close == std::string_view::npos || (close + 1 < h.size() && h[close + 1] != ':')) {
            return NNG_EINVAL;
        }
        u.hostname = std::string(h.substr(1, close - 1));
        end = close + 1;
    } else {
        end = std::min(h.find(':'), h.size());
        u.hostname = std::string(h.substr(0, end));
    }
    if (end == h.size()) {
        u.port = std::string(default_port(u.scheme));
    } else if (end + 1 == h.size()) {
        return NNG_EINVAL;
    } else {
        u.port = std::string(h.substr(end + 1));
    }
    return 0;
}

// Parses what follows "scheme://" for schemes with a host.
int parse_hierarchical(std::string_view rest, url& u) {
    std::string_view authority;
    std::string_view tail;
    if (int rv = split_authority(rest, u, authority, tail); rv != 0) {
        return rv;
    }
    u.host = to_lower(strip_wildcard(authority));
    u.requri.emplace();
    if (int rv = canonical_requri(tail, *u.requri); rv != 0) {
        return rv;
    }
    split_requri(u);
    return split_host_port(u);
}

} // namespace

int parse_url(std::string_view text, url& out) {
    text = text.substr(0, std::min(text.find('\0'), text.size()));
    url u;
    u.rawurl = std::string(text);
    std::string_view rest;
    if (int rv = split_scheme(text, u, rest); rv != 0) {
        return rv;
    }
    // Path schemes: the remainder names a file or an in-process endpoint,
    // and is kept exactly as written.
    if (is_path_scheme(u.scheme)) {
        u.path = std::string(rest);
    } else if (int rv = parse_hierarchical(rest, u); rv != 0) {
        return rv;
    }
    out = std::move(u);
    return 0;
}

std::string_view default_port(std::string_view scheme) noexcept {
    struct entry {
        std::string_view scheme;
        std::string_view port;
    };
    static constexpr std::array<entry, 8> table{{
        {"git", "9418"},
        {"gopher", "70"},
        {"http", "80"},
        {"https", "443"},
        {"ssh", "22"},
        {"telnet", "23"},
        {"ws", "80"},
        {"wss", "443"},
    }};
    // A trailing '4' or '6' selects the address family; the port is the
    // same.  Only one such suffix is allowed ("http44" has no default).
    std::string_view base = scheme;
    if (!base.empty() && (base.back() == '4' || base.back() == '6')) {
        base.remove_suffix(1);
    }
    for (const entry& e : table) {
        if (e.scheme == scheme || e.scheme == base) {
            return e.port;
        }
    }
    return "";
}

bool is_path_scheme(std::string_view scheme) noexcept {
    return scheme == "ipc" || scheme == "unix" || scheme == "abstract" || scheme == "inproc";
}

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = lower_ascii(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        int c = escape_at(text, i);
        if (c < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(c);
        i += 2;
    }
    return out;
}

} // namespace nnghttp::detail
