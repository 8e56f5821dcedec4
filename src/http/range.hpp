// Validators, conditional requests and byte ranges for static files
// (RFC 9110 sections 8.8, 13 and 14).  Pure functions over header values.
//
// ETag
//   file_etag() makes a strong entity tag from what stat() gives:
//   "\"<inode>-<size>-<mtime ns>\"", each in lower-case hex.  A file that is
//   rewritten in place within the same second still gets a new tag (the
//   nanoseconds change), which a Last-Modified date alone cannot promise.
//
// If-None-Match (RFC 9110 section 13.1.2)
//   "*", or a comma list of entity tags ([W/]"opaque"), compared with the
//   weak comparison (W/ ignored on both sides).  Empty list elements are
//   allowed (section 5.6.1).  A value that is neither is not a match: the
//   full response is sent.
//
// If-Modified-Since (section 13.1.3)
//   Used only when If-None-Match is absent.  Not modified when the file's
//   mtime (whole seconds) is at or before the date.  A value that is not an
//   HTTP-date is ignored.
//
// Range (section 14)
//   Only the "bytes" unit (any case) is understood.  The header is ignored
//   (range_kind::none: send the full 200) when its unit is another one, or it
//   is syntactically invalid: anything other than
//   "bytes=" range-spec *( OWS "," OWS range-spec ) with empty elements
//   allowed, where a range-spec is "first-last", "first-" or "-suffix"
//   (digits only; no whitespace right after '='), or when last < first.
//   Numbers of any length are accepted; values past 2^64-1 saturate, which
//   gives the right answer (a huge first is past the end, a huge last or
//   suffix covers the rest of the file).
//   Of the ranges, the satisfiable ones are those with first < size, and
//   suffixes with length > 0 (then covering min(length, size) final bytes);
//   last is clamped to size - 1.
//     none satisfiable  -> 416, "Content-Range: bytes */size"
//     exactly one       -> 206 for it, "Content-Range: bytes first-last/size"
//     two or more       -> none: the full 200.  We do not send
//                          multipart/byteranges.
//   A file of size 0 has no byte to send: a suffix range is satisfiable in
//   the RFC's terms but there is nothing to put in a Content-Range, so it
//   gives none (the empty 200); "bytes=0-" gives 416.
//
// If-Range (section 13.1.5)
//   With a Range, the range is honoured only when If-Range matches: an
//   entity tag by strong comparison (a weak tag never matches), or an
//   HTTP-date exactly equal to the file's mtime in whole seconds.  Anything
//   else (no match, or not a valid value) means the full 200.
//
// evaluate_get() puts it together, in the order of section 13.2.2.  It does
// not handle If-Match or If-Unmodified-Since (not needed for GET/HEAD of a
// static file in this server yet).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace nnghttp::detail::http {

// A strong ETag for a file, quotes included.
std::string file_etag(std::uint64_t size, std::int64_t mtime_ns, std::uint64_t inode);
// The same, written into out (no allocation); returns a view of out.
inline constexpr std::size_t etag_max = 3 * 16 + 5; // and the NUL snprintf writes
std::string_view file_etag(std::uint64_t size, std::int64_t mtime_ns, std::uint64_t inode,
                           std::span<char, etag_max> out) noexcept;

// Whether s is one entity-tag: [W/]"etagc*".
bool is_entity_tag(std::string_view s) noexcept;

// Weak and strong comparison of two entity tags (false if either is not one).
bool etag_weak_equal(std::string_view a, std::string_view b) noexcept;
bool etag_strong_equal(std::string_view a, std::string_view b) noexcept;

// Whether an If-None-Match value matches the current etag ("*" matches any
// existing file).  True means: 304 for GET and HEAD.
bool if_none_match_matches(std::string_view field, std::string_view etag) noexcept;

// Whether an If-Modified-Since value says the file is unchanged (true: 304).
// False when the value is not an HTTP-date.
bool not_modified_since(std::string_view field, std::time_t mtime) noexcept;

// Whether an If-Range value lets the Range apply.
bool if_range_matches(std::string_view field, std::string_view etag, std::time_t mtime) noexcept;

enum class range_kind : std::uint8_t {
    none,          // ignore Range: send the full representation (200)
    single,        // send bytes first..last inclusive (206)
    unsatisfiable, // 416
};

struct byte_range {
    range_kind kind = range_kind::none;
    std::uint64_t first = 0; // single only
    std::uint64_t last = 0;  // single only; inclusive, < size

    std::uint64_t length() const noexcept {
        return kind == range_kind::single ? last - first + 1 : 0;
    }
    friend bool operator==(const byte_range&, const byte_range&) = default;
};

// Parses a Range value for a representation of `size` bytes.
byte_range parse_range(std::string_view field, std::uint64_t size) noexcept;

// Longest Content-Range value: "bytes " + 3 * 20 digits + "-" + "/".
inline constexpr std::size_t content_range_max = 6 + 20 + 1 + 20 + 1 + 20;

// The Content-Range value for a single or unsatisfiable range ("" for none),
// written into out.
std::string_view format_content_range(const byte_range& r, std::uint64_t size,
                                      std::span<char, content_range_max> out) noexcept;

// The request fields that matter for GET/HEAD of a file; nullopt when absent.
struct get_conditions {
    std::optional<std::string_view> if_none_match;
    std::optional<std::string_view> if_modified_since;
    std::optional<std::string_view> range;
    std::optional<std::string_view> if_range;
    bool head = false; // HEAD: Range is ignored (it is defined for GET only)
};

// The file being served.
struct file_validators {
    std::string_view etag; // as from file_etag()
    std::time_t mtime = 0; // whole seconds, as sent in Last-Modified
    std::uint64_t size = 0;
};

// The response to send: status 200, 206, 304 or 416; range is single for 206
// (unsatisfiable for 416, none otherwise).
struct get_outcome {
    int status = 200;
    byte_range range;
};

// Without the Range parts: 200 or 304.
int conditional_status(const get_conditions& c, const file_validators& f) noexcept;

// All of it: 304 by the preconditions, else 206/416 by If-Range and Range,
// else 200.
get_outcome evaluate_get(const get_conditions& c, const file_validators& f) noexcept;

} // namespace nnghttp::detail::http
