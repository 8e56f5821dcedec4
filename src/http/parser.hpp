// HTTP/1.1 message heads and chunked bodies, parsed from bytes (RFC 9110,
// RFC 9112).  Pure code: no I/O, no global state, no locks; one parser
// object belongs to one connection and is used from one thread at a time.
//
// head_parser
//   The caller owns a contiguous read buffer that grows as bytes arrive and
//   passes the whole of it (from the first byte of the message) to parse()
//   each time.  The parser remembers how far it has scanned and never scans
//   those bytes again, so feeding a message in pieces costs the same as
//   feeding it whole, and any split of the input gives the same result.  The
//   buffer may move between calls (a std::string that reallocates): the
//   parser keeps offsets, not pointers, until the head is complete.
//
//   When parse() returns parse_status::complete, head() describes the
//   message with std::string_views INTO the buffer given to that last call
//   (zero-copy); they stay valid while that buffer is unchanged.  The head
//   is `length` bytes long (leading empty lines included); the body, if
//   any, starts there.  For the next message on a keep-alive connection the
//   caller drops those bytes (or the whole message) from its buffer, calls
//   reset() and feeds the rest from its new first byte.  reset() keeps the
//   allocated capacity, so steady-state parsing does not allocate.
//
// chunk_decoder
//   Fed whatever bytes follow (it keeps its own state, so the caller may
//   discard consumed bytes), it strips the chunked framing and hands back
//   the body data as views into the input.  See the class comment.
//
// Strictness (every choice below has a test):
//   * Lines end in CRLF.  A bare LF is an error (bare_lf) unless
//     parser_options::allow_bare_lf; a CR not followed by LF is always an
//     error (bare_cr).  Empty lines before a start line are skipped (RFC
//     9112 section 2.2) and count toward the head's length and size limit.
//   * Request line: token SP request-target SP HTTP-version, single spaces.
//     The target is any run of visible ASCII or bytes >= 0x80 (the URL layer
//     checks it further).  Versions other than HTTP/1.0 and HTTP/1.1 that
//     look like "HTTP/d.d" give unsupported_version (505); anything else in
//     that place gives bad_version (400).
//   * Status line: HTTP-version SP 3DIGIT SP reason.  The code is 100-999.
//     "HTTP/1.1 200" with neither the final space nor a reason is accepted
//     (reason ""); the reason is kept as sent, spaces included.
//   * Field lines: token ":" OWS value OWS.  A line starting with SP or HTAB
//     (obs-fold) is rejected, as is whitespace before the colon.  Values may
//     hold VCHAR, SP, HTAB and bytes >= 0x80; any other control is rejected.
//     Names are not otherwise restricted: "Transfer_Encoding" is a valid,
//     unknown field and is NOT taken for Transfer-Encoding.
//   * Content-Length: 1*DIGIT, at most 2^63-1.  Repeated values that are all
//     equal, in several field lines or a comma list ("5, 5"), are accepted as
//     one (RFC 9110 section 8.6); differing ones are rejected.
//   * Transfer-Encoding: the codings of every such field line, in order,
//     must end with "chunked" and name it exactly once, else
//     bad_transfer_encoding (400; "chunked, gzip", "chunkedx", "gzip").  Any
//     other coding before it gives unsupported_transfer_coding (501;
//     "gzip, chunked").  Transfer-Encoding together with Content-Length, or
//     in an HTTP/1.0 message, is rejected.  Responses follow the same rules.
//   * Host (requests, with parser_options::check_host): at most one field
//     line, and its value a uri-host with an optional port (RFC 9112
//     section 3.2, RFC 3986 section 3.2.2); an empty value is rejected
//     too, as nginx does.  Whether one is required (HTTP/1.1) is the
//     server's business.
//   * The lines of a request head are checked as their bytes come, before
//     their LF: a byte that no line could hold at that place (binary junk,
//     a control byte in a method, target, version, field name or value, a
//     CR not followed by LF) fails at once instead of waiting for the rest
//     of a line that can never be valid.  The verdict is the one the
//     complete line gets, which is checked the same way first; so a bad
//     byte before a line's limit is reported as itself, not as 414/431.
//     In a version, the first byte that does not fit "HTTP/d.d" decides.
//   * Limits (parser_options): the start line (414), a field line, the
//     whole head and the number of fields (431).  A limit error is reported
//     as soon as it is certain, without waiting for the end of the line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nnghttp::detail::http {

// One header (or trailer) field: views of its name and of its value, the
// latter without leading or trailing whitespace.
struct header_field {
    std::string_view name;
    std::string_view value;

    friend bool operator==(const header_field&, const header_field&) = default;
};

// Why a message was rejected.  http_status() gives the response a server
// sends for it, describe() a short English text naming the problem.
enum class parse_error : std::uint8_t {
    none = 0,
    // start line
    bad_request_line,    // not "method SP target SP version"
    bad_method,          // invalid character in method
    bad_target,          // invalid character in request-target
    bad_version,         // not an HTTP-version
    unsupported_version, // HTTP/x.y other than 1.0 and 1.1 (505)
    bad_status_line,     // not "version SP code SP reason"
    bad_status_code,     // not three digits, or below 100
    bad_reason,          // invalid character in reason phrase
    start_line_too_long, // request line over the limit (414)
    // line structure
    bare_cr, // CR not followed by LF
    bare_lf, // LF not preceded by CR
    // field lines
    obs_fold,            // line starts with whitespace
    bad_field_name,      // empty name, or invalid character in it
    space_before_colon,  // whitespace between field name and colon
    missing_colon,       // field line without a colon
    bad_field_value,     // control character in a field value
    field_line_too_long, // one field line over the limit (431)
    head_too_large,      // header section over the limit (431)
    too_many_fields,     // more field lines than allowed (431)
    // framing
    bad_content_length,          // Content-Length not 1*DIGIT
    content_length_overflow,     // Content-Length above 2^63-1
    conflicting_content_length,  // Content-Length values differ
    te_with_content_length,      // both Transfer-Encoding and Content-Length
    bad_transfer_encoding,       // chunked missing, repeated or not last
    transfer_encoding_in_http10, // Transfer-Encoding in an HTTP/1.0 message
    unsupported_transfer_coding, // a coding other than chunked (501)
    // chunked body
    bad_chunk_size,      // chunk size missing or not hex
    chunk_size_overflow, // chunk size above 2^63-1
    bad_chunk_extension, // malformed chunk extension
    chunk_line_too_long, // chunk size line (with extensions) too long
    missing_chunk_crlf,  // chunk data not followed by CRLF
    trailer_too_large,   // trailer section over the limit (431)
    // requests
    bad_host, // Host repeated, empty or not "host[:port]" (RFC 9112 3.2)
};

// The HTTP status a server answers with: 400, 414, 431, 501 or 505.  0 for
// parse_error::none.
int http_status(parse_error e) noexcept;

// A short lower-case description, e.g. "invalid character in header name".
std::string_view describe(parse_error e) noexcept;

// What the parser does with the bytes after a complete head.
enum class body_kind : std::uint8_t {
    none,        // no body: the next message starts right after the head
    length,      // exactly content_length bytes
    chunked,     // chunked coding: feed a chunk_decoder
    until_close, // response delimited by the end of the connection
};

enum class message_kind : std::uint8_t { request, response };

// Limits and leniencies.  Sizes count every byte, CRLFs included.
struct parser_options {
    std::size_t max_start_line = 8 * 1024; // request or status line
    std::size_t max_field_line = 8 * 1024; // one field line
    std::size_t max_head = 64 * 1024;      // start line, fields, final CRLF
    std::size_t max_fields = 100;          // field lines in the head
    bool allow_bare_lf = false;            // accept LF alone as a line end
    // Requests: a Host repeated, empty or not host[:port] is bad_host.  A
    // server's rule (RFC 9112 section 3.2); NNG's conn, which reads
    // requests for anyone, takes them as they come, so it is off by default.
    bool check_host = false;
};

// The parsed head.  Views point into the caller's buffer (see top).
struct message_head {
    message_kind kind = message_kind::request;
    std::string_view method;  // requests
    std::string_view target;  // requests: the request-target as sent
    std::string_view version; // "HTTP/1.0" or "HTTP/1.1"
    int version_minor = 1;    // 0 or 1
    int status = 0;           // responses: 100-999
    std::string_view reason;  // responses: may be empty
    std::vector<header_field> fields;
    body_kind body = body_kind::none;
    // The Content-Length value when the message carried one (even if body
    // is none, e.g. for a 304), else -1.
    std::int64_t content_length = -1;

    // The first field with this name (ASCII case-insensitive), or nullptr.
    const header_field* find(std::string_view name) const noexcept;
};

enum class parse_status : std::uint8_t { need_more, complete, error };

struct parse_result {
    parse_status status = parse_status::need_more;
    std::size_t length = 0; // complete: bytes of the head, final CRLF included
    parse_error error = parse_error::none;
};

// Incremental parser of one message head at a time.
class head_parser {
  public:
    explicit head_parser(message_kind kind, parser_options opts = {});

    // Parses buf, the whole message so far (see top).  buf must begin with
    // the bytes given before (it may have moved).  After complete or error,
    // further calls return the same result until reset().
    [[nodiscard]] parse_result parse(std::string_view buf);

    // Valid after parse() returned complete.
    const message_head& head() const noexcept { return head_; }

    // Ready for the next message; keeps the options and the capacity.
    void reset() noexcept;

    // For a response parser: the request was HEAD, so the response has no
    // body whatever its fields say.  Cleared by reset().
    void set_head_request(bool head) noexcept { head_request_ = head; }

    const parser_options& options() const noexcept { return opts_; }

  private:
    struct span_off {
        std::uint32_t name_pos, name_len, value_pos, value_len;
    };
    parse_error start_line(const char* b, std::size_t ls, std::size_t le);
    parse_error request_line(const char* b, std::size_t ls, std::size_t le);
    parse_error status_line(const char* b, std::size_t ls, std::size_t le);
    parse_error field_line(const char* b, std::size_t ls, std::size_t le);
    parse_error partial_request_line(const char* b, std::size_t ls, std::size_t n) const;
    parse_error partial_line(const char* b, std::size_t ls, std::size_t n) const;
    parse_error host(std::string_view v);
    parse_error content_length(std::string_view v);
    parse_error transfer_encoding(std::string_view v);
    parse_error finish(const char* b);
    parse_result fail(parse_error e);

    parser_options opts_;
    message_head head_;
    std::vector<span_off> offs_;
    parse_result result_;
    std::size_t line_start_ = 0; // first byte of the line being read
    std::size_t scanned_ = 0;    // no LF in [line_start_, scanned_)
    bool in_fields_ = false;     // start line done
    bool head_request_ = false;
    // start line, as offsets
    std::uint32_t sl_[6] = {};
    // framing state gathered from the fields
    bool has_te_ = false;
    bool te_chunked_last_ = false;
    bool te_other_ = false;
    std::uint8_t te_chunked_count_ = 0;
    bool has_host_ = false;
};

// Decoder of a chunked body (RFC 9112 section 7.1).
//
// decode(in) reads framing from the front of `in` until it reaches chunk
// data, the end of the body, the end of `in`, or an error.  It returns how
// many bytes of `in` it consumed and, with status data, a view into `in` of
// body bytes (those bytes are part of `consumed`).  The caller drops
// `consumed` bytes and calls again; bytes already consumed are never needed
// again, whatever the split.  With status done, `consumed` ends exactly
// after the final CRLF: what follows belongs to the next message.
//
// Chunk extensions are checked against the grammar and ignored.  Trailer
// fields are checked like header fields; they are kept (trailers()) only if
// chunk_options::keep_trailers, and then copied, since they are rare.
struct chunk_options {
    std::size_t max_chunk_line = 4 * 1024; // size, extensions and CRLF
    std::size_t max_trailer = 16 * 1024;   // trailer field lines, CRLFs in
    std::size_t max_trailer_fields = 100;
    bool keep_trailers = false;
    bool allow_bare_lf = false; // in size lines and trailers
};

enum class chunk_status : std::uint8_t { need_more, data, done, error };

struct chunk_result {
    chunk_status status = chunk_status::need_more;
    std::size_t consumed = 0;
    std::string_view data; // chunk_status::data: body bytes, inside `in`
    parse_error error = parse_error::none;
};

class chunk_decoder {
  public:
    explicit chunk_decoder(chunk_options opts = {});

    [[nodiscard]] chunk_result decode(std::string_view in);

    // After done, with keep_trailers: the trailer fields (views into the
    // decoder's own storage, valid until reset()).
    const std::vector<header_field>& trailers() const noexcept { return trailers_; }

    // Body bytes produced so far.
    std::uint64_t body_size() const noexcept { return body_size_; }
    // Bytes the current chunk still announces (its size, while its size
    // line is read; then what is left of its data): body_size() plus this
    // is what the body will have grown to at the end of this chunk, known
    // before the data arrives (a limit can be enforced early).
    std::uint64_t chunk_remaining() const noexcept { return remaining_; }

    void reset() noexcept;

  private:
    enum class state : std::uint8_t;
    parse_error size_line_byte(char c);
    std::size_t plain_size_line(const char* p, std::size_t n);
    parse_error trailer_line_end();

    chunk_options opts_;
    state st_;
    std::uint64_t remaining_ = 0; // chunk size, then data left
    std::uint64_t body_size_ = 0;
    std::size_t line_len_ = 0;
    std::size_t trailer_bytes_ = 0;
    std::size_t trailer_count_ = 0;
    parse_error error_ = parse_error::none;
    std::string tbuf_;                 // current trailer line; all of them if kept
    std::size_t tline_ = 0;            // start of the current trailer line in tbuf_
    std::vector<std::uint32_t> toffs_; // kept trailers: 4 offsets each
    std::vector<header_field> trailers_;
};

// Character classes, for code that builds messages (validating what it is
// about to send) as well as for the parser.
bool is_token(std::string_view s) noexcept;          // non-empty tchar run
// Whether a comma-separated field value (Connection, Expect, ...) lists
// token, compared without case; whitespace around elements is ignored.
bool list_has_token(std::string_view list, std::string_view token) noexcept;
bool is_field_value(std::string_view s) noexcept;    // VCHAR/SP/HTAB/obs-text,
                                                     // no edge whitespace
bool is_request_target(std::string_view s) noexcept; // non-empty, no SP/CTL
bool is_reason(std::string_view s) noexcept;         // VCHAR/SP/HTAB/obs-text

// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

} // namespace nnghttp::detail::http
