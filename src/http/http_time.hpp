// HTTP dates (RFC 9110 section 5.6.7).
//
// Formatting always produces the preferred IMF-fixdate,
// "Sun, 06 Nov 1994 08:49:37 GMT": exactly http_date_size (29) bytes, into a
// caller's buffer, without allocating.  Times outside the four-digit years
// are clamped to 0001-01-01 00:00:00 and 9999-12-31 23:59:59.
//
// Parsing accepts the three forms a recipient must accept, and nothing else
// (no surrounding whitespace; names, "GMT" and the separators are
// case-sensitive, as the RFC's ABNF has them):
//   IMF-fixdate   "Sun, 06 Nov 1994 08:49:37 GMT"
//   RFC 850       "Sunday, 06-Nov-94 08:49:37 GMT"
//   asctime       "Sun Nov  6 08:49:37 1994"  (day as " 6" or "06")
// The day must exist in its month (no Feb 30), hours 00-23, minutes 00-59,
// seconds 00-60 (a leap second counts as the next minute's 00).  The day
// name must be a valid name but is not checked against the date.  RFC 850's
// two-digit year is placed in the century of `now`, then moved back 100
// years if that puts it more than 50 years after `now`'s year (RFC 9110:
// "the most recent year in the past that had the same last two digits").
//
// http_date_now() gives the current Date header value.  Each thread keeps
// its own copy, reformatted when the second changes, so it is computed at
// most once per second per thread, with no lock and no sharing.
#pragma once

#include <cstddef>
#include <ctime>
#include <optional>
#include <span>
#include <string_view>

namespace nnghttp::detail::http {

inline constexpr std::size_t http_date_size = 29;

// Writes the IMF-fixdate for t into out; returns a view of out.
std::string_view format_http_date(std::time_t t, std::span<char, http_date_size> out) noexcept;

// The IMF-fixdate for now (default: the system clock).  The view points into
// a thread-local buffer that is rewritten by this thread's next call in a
// later second: copy it before calling again.
std::string_view http_date_now() noexcept;
std::string_view http_date_now(std::time_t now) noexcept;

// Parses any of the three forms; nullopt when s is not one of them.
std::optional<std::time_t> parse_http_date(std::string_view s) noexcept;
std::optional<std::time_t> parse_http_date(std::string_view s, std::time_t now) noexcept;

} // namespace nnghttp::detail::http
