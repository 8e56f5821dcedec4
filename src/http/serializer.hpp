// HTTP/1.1 message heads and chunk framing, written as bytes.  Pure code:
// no I/O, no state.
//
// append_request_head() and append_response_head() append a complete head,
// final CRLF included, to a std::string in one pass: they compute its size,
// reserve once, then copy.  The body is never copied here: the caller sends
// head and body with one gathered write (a vector of nng_iov), and for a
// chunked body interleaves chunk_header(n).view(), the data and chunk_end.
//
// The serializer does not validate: it writes what it is given.  Whoever
// accepts names and values from users (the message class) must check them
// first, with is_token(), is_field_value(), is_request_target() and
// is_reason() from parser.hpp, or a CR LF in a value would split the
// message.  What the parser accepts, the serializer writes back so that the
// parser reads the same head again (the fuzz target checks this).
#pragma once

#include "http/parser.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace nnghttp::detail::http {

// Size of "name: value\r\n" for every field, without the final CRLF.
std::size_t fields_size(std::span<const header_field> fields) noexcept;

// Bytes append_request_head() / append_response_head() will append.
std::size_t request_head_size(std::string_view method, std::string_view target,
                              std::string_view version,
                              std::span<const header_field> fields) noexcept;
std::size_t response_head_size(std::string_view version, int status, std::string_view reason,
                               std::span<const header_field> fields) noexcept;

// "method SP target SP version CRLF" + fields + CRLF.
void append_request_head(std::string& out, std::string_view method, std::string_view target,
                         std::string_view version, std::span<const header_field> fields);

// "version SP status SP reason CRLF" + fields + CRLF.  status is written in
// decimal, three digits for 100-999.
void append_response_head(std::string& out, std::string_view version, int status,
                          std::string_view reason, std::span<const header_field> fields);

// The line that opens a chunk of n bytes: "%zx\r\n".  Kept in place, so a
// gathered write can point at it without any allocation.
struct chunk_header {
    char bytes[2 * sizeof(std::size_t) + 2];
    unsigned char size;
    std::string_view view() const noexcept { return {bytes, size}; }
};
chunk_header make_chunk_header(std::size_t n) noexcept;

// Ends every chunk's data.
inline constexpr std::string_view chunk_end = "\r\n";
// The last chunk and the end of an empty trailer section.
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

// Appends one chunk (header, data, CRLF); nothing for empty data, since an
// empty chunk would end the body.  For tests and small bodies: large ones
// go through chunk_header and a gathered write instead.
void append_chunk(std::string& out, std::string_view data);

// Appends "0\r\n", the trailer fields, and the final CRLF.
void append_last_chunk(std::string& out, std::span<const header_field> trailers = {});

} // namespace nnghttp::detail::http
