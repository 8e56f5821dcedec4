// URLs as NNG 1.5.2 parses them.
//
// Contract: parse_url() accepts exactly the texts nng_url_parse() of NNG
// 1.5.2 accepts, rejects the others with the same code (NNG_EINVAL), and
// fills every field with the same text, quirks included; each quirk is
// named where it is reproduced, in url.cpp.  In short:
//
//   scheme://[userinfo@]host[:port][/path][?query][#fragment]
//
//  * The scheme is everything before the first ':', which must begin "://";
//    it is lower-cased and not otherwise checked (it may even be empty).
//  * ipc, unix, abstract and inproc URLs keep everything after "://",
//    verbatim, as the path; their host, hostname, port and requri are
//    absent (NULL in C), unlike other schemes where they are always set.
//  * The host (lower-cased, with ":port" if one was written) ends at the
//    first '/', '?' or '#'.  A lone "*" or a leading "*:" is a wildcard and
//    is dropped.  A port is not checked: any text after the first ':' (after
//    ']' for a bracketed IPv6 literal) is the port, but it must not be empty.
//    With no port, the scheme's default applies (default_port()).
//  * requri is the rest, canonicalised: escapes of unreserved characters
//    and of bytes >= 0x80 are decoded, other escapes are kept with upper-case
//    hex, a '%' not followed by two hex digits is an error; in the path
//    only, runs of '/' collapse and "." and ".." segments are resolved.  The
//    result must pass NNG's UTF-8 check.  path, query and fragment are then
//    cut from requri; the host and userinfo are never decoded.
//
// Everything here is a pure function of its arguments: no I/O, no global
// state, safe from any thread.  Functions that build strings may throw
// std::bad_alloc and nothing else.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nnghttp::detail {

// The fields of nng_url, with std::nullopt where NNG leaves a NULL.
struct url {
    std::string rawurl;                  // the text as given
    std::string scheme;                  // lower case
    std::optional<std::string> userinfo; // before '@', not decoded
    std::optional<std::string> host;     // hostname[:port] as written, lower case
    std::optional<std::string> hostname; // no brackets around IPv6 literals
    std::optional<std::string> port;     // written or default, "" if neither
    std::string path;                    // canonical; raw for path schemes
    std::optional<std::string> query;    // without '?'
    std::optional<std::string> fragment; // without '#'
    std::optional<std::string> requri;   // path[?query][#fragment]

    bool operator==(const url&) const = default;
};

// Parses text into out.  Returns 0, or NNG_EINVAL for text NNG 1.5.2
// rejects, in which case out is left as it was.  The text ends at its first
// NUL byte, as a C string would.
int parse_url(std::string_view text, url& out);

// The port NNG assumes for a scheme when none is written: "80" for http
// and ws, "443" for https and wss, also git, gopher, ssh and telnet, each
// also with a "4" or "6" suffix (NNG's way to pick an address family).
// "" for every other scheme, tcp and tls+tcp included.  scheme must
// already be lower case.
std::string_view default_port(std::string_view scheme) noexcept;

// True for the schemes whose whole remainder is a path or a name (ipc,
// unix, abstract, inproc).  scheme must already be lower case.
bool is_path_scheme(std::string_view scheme) noexcept;

// The value of a hexadecimal digit (either case), or -1.
int hex_digit(char c) noexcept;

// Decodes every %XX escape in text (nothing else is changed; the result may
// contain NUL bytes).  std::nullopt if a '%' is not followed by two hex
// digits.
std::optional<std::string> percent_decode(std::string_view text);

} // namespace nnghttp::detail
