// Table-driven tests of head_parser.  Every case is parsed whole, byte by
// byte, and split in two at every offset; each way must give the same
// outcome, and the buffer is copied to a new place before every call, so a
// parser that kept pointers into an old buffer would be caught.
#include "http/parser.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace nnghttp::detail::http;
using pe = parse_error;

// Everything a parse produced, copied out of the buffer.
struct outcome {
    parse_status status = parse_status::need_more;
    std::size_t length = 0;
    parse_error error = pe::none;
    std::string method, target, version, reason;
    int minor = 0, code = 0;
    std::vector<std::pair<std::string, std::string>> fields;
    body_kind body = body_kind::none;
    std::int64_t cl = -1;
    bool operator==(const outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const outcome& o) {
    os << "{status=" << int(o.status) << " len=" << o.length << " error=" << describe(o.error)
       << " method=" << o.method << " target=" << o.target << " version=" << o.version
       << " code=" << o.code << " reason=" << o.reason << " body=" << int(o.body) << " cl=" << o.cl
       << " fields=" << o.fields.size() << '}';
    return os;
}

outcome snapshot(const head_parser& p, const parse_result& r) {
    outcome o;
    o.status = r.status;
    o.length = r.length;
    o.error = r.error;
    if (r.status == parse_status::complete) {
        const message_head& h = p.head();
        o.method = h.method;
        o.target = h.target;
        o.version = h.version;
        o.reason = h.reason;
        o.minor = h.version_minor;
        o.code = h.status;
        for (const auto& f : h.fields) {
            o.fields.emplace_back(f.name, f.value);
        }
        o.body = h.body;
        o.cl = h.content_length;
    }
    return o;
}

struct config {
    message_kind kind = message_kind::request;
    parser_options opts{};
    bool head_request = false;
};

// Feeds input in pieces ending at each offset of cuts (then the rest);
// each call sees a fresh copy of everything so far.
outcome feed(const config& c, const std::string& input, const std::vector<std::size_t>& cuts) {
    head_parser p(c.kind, c.opts);
    p.set_head_request(c.head_request);
    parse_result r;
    std::string buf;
    auto step = [&](std::size_t upto) {
        buf = input.substr(0, upto); // a new allocation each time
        std::string moved(buf);
        r = p.parse(moved);
        return r.status == parse_status::need_more ? std::optional<outcome>()
                                                   : std::optional(snapshot(p, r));
    };
    for (std::size_t k : cuts) {
        if (auto o = step(k)) {
            return *o;
        }
    }
    buf = input;
    r = p.parse(buf);
    return snapshot(p, r);
}

// Parses every way and checks they agree; returns the outcome.
outcome grind(const config& c, const std::string& input) {
    outcome whole = feed(c, input, {});
    std::vector<std::size_t> bytes;
    for (std::size_t k = 0; k < input.size(); k++) {
        bytes.push_back(k);
    }
    EXPECT_EQ(feed(c, input, bytes), whole) << "byte by byte";
    for (std::size_t k = 1; k < input.size(); k++) {
        EXPECT_EQ(feed(c, input, {k}), whole) << "split at " << k;
        if (::testing::Test::HasFailure()) {
            break;
        }
    }
    // The same parser, reset, parses the same input the same way.
    head_parser p(c.kind, c.opts);
    (void)p.parse("GET / HTTP/1.1\r\nA: b\r\n\r\n");
    p.reset();
    p.set_head_request(c.head_request);
    parse_result r = p.parse(input);
    EXPECT_EQ(snapshot(p, r), whole) << "after reset";
    return whole;
}

struct head_case {
    const char* name;
    std::string input;
    parse_error error; // none: complete (or need_more if incomplete)
    body_kind body = body_kind::none;
    std::int64_t cl = -1;
    config cfg{};
    bool incomplete = false;
};

config response() {
    config c;
    c.kind = message_kind::response;
    return c;
}
config head_response() {
    config c = response();
    c.head_request = true;
    return c;
}
config lenient_lf() {
    config c;
    c.opts.allow_bare_lf = true;
    return c;
}
config host_checked() {
    config c;
    c.opts.check_host = true;
    return c;
}
config small_limits() {
    config c;
    c.opts.max_start_line = 32;
    c.opts.max_field_line = 24;
    c.opts.max_head = 64;
    c.opts.max_fields = 3;
    return c;
}

// A request whose only Host field, if any, is among fields.
std::string host_req(std::string fields) {
    return "GET / HTTP/1.1\r\n" + fields + "\r\n";
}
std::string req(std::string fields, std::string body = "") {
    return "POST /p HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n" + body;
}
std::string field(std::string name, std::string value) {
    return name + ": " + value + "\r\n";
}
std::string cl(std::string v) {
    return req(field("Content-Length", v), "hello");
}
std::string te(std::string v) {
    return req(field("Transfer-Encoding", v), "0\r\n\r\n");
}
std::string n_fields(int n) {
    std::string f;
    for (int i = 0; i < n; i++) {
        f += field("X-" + std::to_string(i), "v");
    }
    return req(f);
}
std::string res(std::string status_line, std::string fields = "") {
    return status_line + "\r\n" + fields + "\r\n";
}

const body_kind none = body_kind::none;
const body_kind length = body_kind::length;
const body_kind chunked = body_kind::chunked;
const body_kind until_close = body_kind::until_close;

std::vector<head_case> cases() {
    const std::string long_target(8 * 1024 - 16, 'a');
    return {
        // ---- valid requests
        {"get_simple", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", pe::none},
        {"get_http10", "GET / HTTP/1.0\r\n\r\n", pe::none},
        {"no_fields", "GET /x?y=1 HTTP/1.1\r\n\r\n", pe::none},
        {"post_cl", cl("5"), pe::none, length, 5},
        {"post_cl_zero", cl("0"), pe::none, none, 0},
        {"post_chunked", te("chunked"), pe::none, chunked},
        {"te_upper", te("CHUNKED"), pe::none, chunked},
        {"te_mixed_case", te("ChUnKeD"), pe::none, chunked},
        {"te_trailing_ows", req("Transfer-Encoding: chunked \t\r\n"), pe::none, chunked},
        {"te_leading_ows", req("Transfer-Encoding:  \tchunked\r\n"), pe::none, chunked},
        {"cl_dup_same", req(field("Content-Length", "5") + field("Content-Length", "5")), pe::none,
         length, 5},
        {"cl_list_same", cl("5, 5"), pe::none, length, 5},
        {"cl_list_same_ows", cl("5 ,\t5,5"), pe::none, length, 5},
        {"cl_leading_zeros", cl("007"), pe::none, length, 7},
        {"cl_dup_same_value_zeros",
         req(field("Content-Length", "5") + field("content-length", "05")), pe::none, length, 5},
        {"cl_max", cl("9223372036854775807"), pe::none, length, 9223372036854775807},
        {"cl_lower_name", req(field("content-length", "3")), pe::none, length, 3},
        {"cl_upper_name", req(field("CONTENT-LENGTH", "3")), pe::none, length, 3},
        {"leading_crlf", "\r\nGET / HTTP/1.1\r\n\r\n", pe::none},
        {"two_leading_crlf", "\r\n\r\nGET / HTTP/1.1\r\n\r\n", pe::none},
        {"options_star", "OPTIONS * HTTP/1.1\r\n\r\n", pe::none},
        {"absolute_form", "GET http://a.b:8/c?d#e HTTP/1.1\r\n\r\n", pe::none},
        {"authority_form", "CONNECT a.b:443 HTTP/1.1\r\n\r\n", pe::none},
        {"method_tchars", "X!#$%&'*+-.^_`|~9 / HTTP/1.1\r\n\r\n", pe::none},
        {"method_lower", "get / HTTP/1.1\r\n\r\n", pe::none},
        {"target_utf8", "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", pe::none},
        {"target_quote", "GET /a\"b<c> HTTP/1.1\r\n\r\n", pe::none},
        {"value_obs_text", req(field("X", "\xff\x80")), pe::none},
        {"value_inner_spaces", req(field("X", "a  b\tc")), pe::none},
        {"value_empty", req("X:\r\n"), pe::none},
        {"value_only_ws", req("X: \t \r\n"), pe::none},
        {"value_tabs", req("X:\tv\t\r\n"), pe::none},
        {"value_colons", req(field("X", "a:b::c")), pe::none},
        {"name_tchars", req(field("!#$%&'*+-.^_`|~", "v")), pe::none},
        {"underscore_te_is_not_te", req(field("Transfer_Encoding", "chunked")), pe::none},
        {"underscore_te_with_cl",
         req(field("Transfer_Encoding", "chunked") + field("Content-Length", "3")), pe::none,
         length, 3},
        {"te_prefix_name_is_not_te", req(field("Transfer-Encodings", "gzip")), pe::none},
        {"fields_at_limit", n_fields(99), pe::none},
        {"pipelined", "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", pe::none},
        {"http10_cl", "POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nab", pe::none, length, 2},
        {"long_target_ok", "GET /" + long_target + " HTTP/1.1\r\n\r\n", pe::none},
        {"bare_lf_lenient", "GET / HTTP/1.1\nHost: a\n\n", pe::none, none, -1, lenient_lf()},
        {"bare_lf_lenient_mixed", "GET / HTTP/1.1\r\nHost: a\n\r\n", pe::none, none, -1,
         lenient_lf()},
        // ---- incomplete
        {"incomplete_line", "GET / HTTP/1.1", pe::none, none, -1, {}, true},
        {"incomplete_head", "GET / HTTP/1.1\r\nHost: a\r\n", pe::none, none, -1, {}, true},
        {"incomplete_cr", "GET / HTTP/1.1\r\nHost: a\r\n\r", pe::none, none, -1, {}, true},
        {"only_empty_lines", "\r\n\r\n\r\n", pe::none, none, -1, {}, true},
        {"empty", "", pe::none, none, -1, {}, true},
        {"incomplete_method", "OPTIO", pe::none, none, -1, {}, true},
        {"incomplete_target", "GET /a%20b", pe::none, none, -1, {}, true},
        {"incomplete_target_cr", "GET /a\r", pe::none, none, -1, {}, true},
        {"incomplete_version", "GET / HT", pe::none, none, -1, {}, true},
        // ---- junk refused before any line end comes
        {"junk_tls_hello", std::string("\x16\x03\x01\x02\x00\x01", 6), pe::bad_method},
        {"junk_binary", std::string("\x00\xff\x7f\x10", 4), pe::bad_method},
        {"junk_method_control", "GE\x01", pe::bad_method},
        {"junk_target_control", "GET /a\x7f", pe::bad_target},
        {"junk_cr_inside", "GET /a\rb", pe::bare_cr},
        {"junk_two_spaces", "GET  /", pe::bad_request_line},
        {"junk_leading_space", " GET", pe::bad_request_line},
        {"junk_version_nul", std::string("GET / HTTP/1.1\0", 15), pe::bad_version},
        {"junk_version_space", "GET / HTTP/1.1 x", pe::bad_request_line},
        {"junk_version_cr", "GET / HTTP/1.1\rJ", pe::bare_cr},
        {"junk_field_value_cr", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb", pe::bare_cr},
        {"junk_field_value_nul", std::string("GET / HTTP/1.1\r\nX-A: a\0b", 24), pe::bad_field_value},
        {"junk_field_name_nul", std::string("GET / HTTP/1.1\r\nX-A\0", 20), pe::bad_field_name},
        {"junk_cr_then_byte", "GET / HTTP/1.1\r\n\rJ", pe::bare_cr},
        {"junk_obs_fold", "GET / HTTP/1.1\r\nX: a\r\n b", pe::obs_fold},
        {"junk_space_before_colon", "GET / HTTP/1.1\r\nX :", pe::space_before_colon},
        {"incomplete_field_spaces", "GET / HTTP/1.1\r\nX  ", pe::none, none, -1, {}, true},
        {"incomplete_field_value_cr", "GET / HTTP/1.1\r\nX: a\r", pe::none, none, -1, {}, true},
        // ---- line endings
        {"bare_lf_request_line", "GET / HTTP/1.1\nHost: a\r\n\r\n", pe::bare_lf},
        {"bare_lf_field", "GET / HTTP/1.1\r\nHost: a\n\r\n", pe::bare_lf},
        {"bare_lf_end", "GET / HTTP/1.1\r\nHost: a\r\n\n", pe::bare_lf},
        {"bare_lf_leading", "\nGET / HTTP/1.1\r\n\r\n", pe::bare_lf},
        {"bare_lf_in_value", req("X: a\nb: c\r\n"), pe::bare_lf},
        {"bare_cr_value", req("X: a\rb\r\n"), pe::bare_cr},
        {"bare_cr_value_end", req("X: a\r\r\n"), pe::bare_cr},
        {"bare_cr_method", "GE\rT / HTTP/1.1\r\n\r\n", pe::bare_cr},
        {"bare_cr_target", "GET /\r HTTP/1.1\r\n\r\n", pe::bare_cr},
        {"bare_cr_version", "GET / HTTP/1.1\r\r\n\r\n", pe::bare_cr},
        {"bare_cr_start", "\rGET / HTTP/1.1\r\n\r\n", pe::bare_cr},
        {"bare_cr_name", req("X\r: a\r\n"), pe::bare_cr},
        {"cr_as_separator", "GET\r/\rHTTP/1.1\r\n\r\n", pe::bare_cr},
        // ---- request line
        {"double_space", "GET  / HTTP/1.1\r\n\r\n", pe::bad_request_line},
        {"double_space_2", "GET /  HTTP/1.1\r\n\r\n", pe::bad_request_line},
        {"leading_space", " GET / HTTP/1.1\r\n\r\n", pe::bad_request_line},
        {"trailing_space", "GET / HTTP/1.1 \r\n\r\n", pe::bad_request_line},
        {"missing_version", "GET /\r\n\r\n", pe::bad_request_line},
        {"missing_target", "GET\r\n\r\n", pe::bad_request_line},
        {"missing_target_sp", "GET \r\n\r\n", pe::bad_request_line},
        // The first byte that cannot be part of a version decides (so that
        // it can be refused before the line ends): "x" here.
        {"extra_word", "GET / x HTTP/1.1\r\n\r\n", pe::bad_version},
        {"tab_separator", "GET\t/ HTTP/1.1\r\n\r\n", pe::bad_method},
        {"method_paren", "G(T / HTTP/1.1\r\n\r\n", pe::bad_method},
        {"method_at", "GE@ / HTTP/1.1\r\n\r\n", pe::bad_method},
        {"method_nul", std::string("GE\0T / HTTP/1.1\r\n\r\n", 19), pe::bad_method},
        {"method_utf8", "G\xc3\xa9T / HTTP/1.1\r\n\r\n", pe::bad_method},
        {"method_slash", "GET/ / HTTP/1.1\r\n\r\n", pe::bad_method},
        {"target_del", "GET /\x7f HTTP/1.1\r\n\r\n", pe::bad_target},
        {"target_nul", std::string("GET /\0 HTTP/1.1\r\n\r\n", 19), pe::bad_target},
        {"target_tab", "GET /a\tb HTTP/1.1\r\n\r\n", pe::bad_target},
        {"target_vt", "GET /a\x0b HTTP/1.1\r\n\r\n", pe::bad_target},
        {"version_12", "GET / HTTP/1.2\r\n\r\n", pe::unsupported_version},
        {"version_20", "GET / HTTP/2.0\r\n\r\n", pe::unsupported_version},
        {"version_09", "GET / HTTP/0.9\r\n\r\n", pe::unsupported_version},
        {"version_30", "GET / HTTP/3.0\r\n\r\n", pe::unsupported_version},
        {"version_lower", "GET / http/1.1\r\n\r\n", pe::bad_version},
        {"version_short", "GET / HTTP/1\r\n\r\n", pe::bad_version},
        {"version_2", "GET / HTTP/2\r\n\r\n", pe::bad_version},
        {"version_110", "GET / HTTP/1.10\r\n\r\n", pe::bad_version},
        {"version_11", "GET / HTTP/11\r\n\r\n", pe::bad_version},
        {"version_x", "GET / HTTP/1.x\r\n\r\n", pe::bad_version},
        {"version_foo", "GET / FOO\r\n\r\n", pe::bad_version},
        {"version_suffix", "GET / HTTP/1.1x\r\n\r\n", pe::bad_version},
        {"version_nul", std::string("GET / HTTP/1.1\0\r\n\r\n", 19), pe::bad_version},
        // ---- field lines
        {"obs_fold_space", req("X: a\r\n b\r\n"), pe::obs_fold},
        {"obs_fold_tab", req("X: a\r\n\tb\r\n"), pe::obs_fold},
        {"first_field_space", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", pe::obs_fold},
        {"te_obs_fold", req("Transfer-Encoding: gzip\r\n chunked\r\n"), pe::obs_fold},
        {"space_before_colon", req("Host : a\r\n"), pe::space_before_colon},
        {"tab_before_colon", req("Host\t: a\r\n"), pe::space_before_colon},
        {"te_space_before_colon", req("Transfer-Encoding : chunked\r\n"), pe::space_before_colon},
        {"cl_space_before_colon", req("Content-Length : 5\r\n"), pe::space_before_colon},
        {"name_with_space", req("Ho st: a\r\n"), pe::bad_field_name},
        {"name_empty", req(": a\r\n"), pe::bad_field_name},
        {"name_paren", req("X(: a\r\n"), pe::bad_field_name},
        {"name_slash", req("X/Y: a\r\n"), pe::bad_field_name},
        {"name_at", req("X@Y: a\r\n"), pe::bad_field_name},
        {"name_brace", req("X{: a\r\n"), pe::bad_field_name},
        {"name_quote", req("X\": a\r\n"), pe::bad_field_name},
        {"name_nul", req(std::string("X\0Y: a\r\n", 8)), pe::bad_field_name},
        {"name_del", req("X\x7f: a\r\n"), pe::bad_field_name},
        {"name_utf8", req("X\xc3\xa9: a\r\n"), pe::bad_field_name},
        {"name_vt", req("Transfer-Encoding\x0b: chunked\r\n"), pe::bad_field_name},
        {"missing_colon", req("Host\r\n"), pe::missing_colon},
        // ---- Host (RFC 9112 section 3.2)
        {"host_twice", host_req("Host: a\r\nHost: a\r\n"), pe::bad_host, none, -1, host_checked()},
        {"host_twice_any_case", host_req("Host: a\r\nhOST: b\r\n"), pe::bad_host, none, -1, host_checked()},
        {"host_empty", host_req("Host:\r\n"), pe::bad_host, none, -1, host_checked()},
        {"host_space", host_req("Host: a b/c\r\n"), pe::bad_host, none, -1, host_checked()},
        {"host_slash", host_req("Host: a/b\r\n"), pe::bad_host, none, -1, host_checked()},
        {"host_at", host_req("Host: user@a\r\n"), pe::bad_host, none, -1, host_checked()},
        {"host_port_letters", host_req("Host: a:8o\r\n"), pe::bad_host, none, -1, host_checked()},
        {"host_port_only", host_req("Host: :80\r\n"), pe::bad_host, none, -1, host_checked()},
        {"host_unclosed_literal", host_req("Host: [::1\r\n"), pe::bad_host, none, -1, host_checked()},
        {"host_name_port", host_req("Host: www.example.com:8080\r\n"), pe::none, none, -1, host_checked()},
        {"host_empty_port", host_req("Host: a:\r\n"), pe::none, none, -1, host_checked()},
        {"host_ipv4", host_req("Host: 127.0.0.1\r\n"), pe::none, none, -1, host_checked()},
        {"host_ipv6", host_req("Host: [::1]:443\r\n"), pe::none, none, -1, host_checked()},
        {"host_pct_and_subdelims", host_req("Host: a%2Db!$&'()*+,;=~_\r\n"), pe::none, none, -1, host_checked()},
        // Off by default (NNG's conn reads requests for anyone).
        {"host_twice_unchecked", host_req("Host: a\r\nHost: b\r\n"), pe::none},
        {"host_empty_unchecked", host_req("Host:\r\n"), pe::none},
        {"missing_colon_value", req("Host a\r\n"), pe::bad_field_name},
        {"value_nul", req(std::string("X: a\0b\r\n", 8)), pe::bad_field_value},
        {"value_vt", req("X: a\x0b\r\n"), pe::bad_field_value},
        {"value_del", req("X: a\x7f\r\n"), pe::bad_field_value},
        {"value_esc", req("X: \x1b[0m\r\n"), pe::bad_field_value},
        {"value_soh", req("X: \x01\r\n"), pe::bad_field_value},
        {"te_vt_chunked",
         req("Transfer-Encoding: \x0b"
             "chunked\r\n"),
         pe::bad_field_value},
        {"te_ff_chunked",
         req("Transfer-Encoding: \x0c"
             "chunked\r\n"),
         pe::bad_field_value},
        // ---- Content-Length
        {"cl_alpha", cl("abc"), pe::bad_content_length},
        {"cl_empty", cl(""), pe::bad_content_length},
        {"cl_plus", cl("+5"), pe::bad_content_length},
        {"cl_minus", cl("-5"), pe::bad_content_length},
        {"cl_hex", cl("0x5"), pe::bad_content_length},
        {"cl_inner_space", cl("5 5"), pe::bad_content_length},
        {"cl_trailing_comma", cl("5,"), pe::bad_content_length},
        {"cl_leading_comma", cl(",5"), pe::bad_content_length},
        {"cl_double_comma", cl("5,,5"), pe::bad_content_length},
        {"cl_decimal", cl("5.0"), pe::bad_content_length},
        {"cl_exponent", cl("1e3"), pe::bad_content_length},
        {"cl_utf8_digit", cl("\xd9\xa5"), pe::bad_content_length},
        {"cl_overflow", cl("9223372036854775808"), pe::content_length_overflow},
        {"cl_overflow_big", cl("99999999999999999999999"), pe::content_length_overflow},
        {"cl_dup_differ", req(field("Content-Length", "5") + field("Content-Length", "6")),
         pe::conflicting_content_length},
        {"cl_list_differ", cl("5, 6"), pe::conflicting_content_length},
        {"cl_dup_zero_differ", req(field("Content-Length", "0") + field("Content-Length", "5")),
         pe::conflicting_content_length},
        // ---- Transfer-Encoding (request smuggling vectors)
        {"cl_te", req(field("Content-Length", "5") + field("Transfer-Encoding", "chunked")),
         pe::te_with_content_length},
        {"te_cl", req(field("Transfer-Encoding", "chunked") + field("Content-Length", "5")),
         pe::te_with_content_length},
        {"te_cl_zero", req(field("Transfer-Encoding", "chunked") + field("Content-Length", "0")),
         pe::te_with_content_length},
        {"te_gzip_chunked", te("gzip, chunked"), pe::unsupported_transfer_coding},
        {"te_custom_chunked", te("x-custom,chunked"), pe::unsupported_transfer_coding},
        {"te_param_chunked", te("gzip;q=1, chunked"), pe::unsupported_transfer_coding},
        {"te_lines_gzip_then_chunked",
         req(field("Transfer-Encoding", "gzip") + field("Transfer-Encoding", "chunked")),
         pe::unsupported_transfer_coding},
        {"te_chunked_gzip", te("chunked, gzip"), pe::bad_transfer_encoding},
        {"te_lines_chunked_then_gzip",
         req(field("Transfer-Encoding", "chunked") + field("Transfer-Encoding", "gzip")),
         pe::bad_transfer_encoding},
        {"te_chunkedx", te("chunkedx"), pe::bad_transfer_encoding},
        {"te_xchunked", te("xchunked"), pe::bad_transfer_encoding},
        {"te_chunked_twice", te("chunked, chunked"), pe::bad_transfer_encoding},
        {"te_lines_chunked_twice",
         req(field("Transfer-Encoding", "chunked") + field("Transfer-Encoding", "chunked")),
         pe::bad_transfer_encoding},
        {"te_gzip", te("gzip"), pe::bad_transfer_encoding},
        {"te_identity", te("identity"), pe::bad_transfer_encoding},
        {"te_empty", te(""), pe::bad_transfer_encoding},
        {"te_chunked_param", te("chunked;a=b"), pe::bad_transfer_encoding},
        {"te_leading_comma", te(",chunked"), pe::bad_transfer_encoding},
        {"te_trailing_comma", te("chunked,"), pe::bad_transfer_encoding},
        {"te_quoted", te("\"chunked\""), pe::bad_transfer_encoding},
        {"te_space_inside", te("chun ked"), pe::bad_transfer_encoding},
        {"te_obs_text",
         te("\xff"
            "chunked"),
         pe::bad_transfer_encoding},
        {"te_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
         pe::transfer_encoding_in_http10},
        // ---- limits
        {"too_many_fields", n_fields(100), pe::too_many_fields},
        {"start_line_at_limit", "GET /" + std::string(32 - 16, 'a') + " HTTP/1.1\r\n\r\n", pe::none,
         none, -1, small_limits()},
        {"start_line_over_limit", "GET /" + std::string(32 - 15, 'a') + " HTTP/1.1\r\n\r\n",
         pe::start_line_too_long, none, -1, small_limits()},
        {"start_line_over_limit_no_lf", "GET /" + std::string(100, 'a'), pe::start_line_too_long,
         none, -1, small_limits()},
        // A byte no request line may hold is refused where it stands,
        // before the line reaches the limit.
        {"start_line_over_limit_bad_char", "GET /" + std::string(40, '\x01'), pe::bad_target,
         none, -1, small_limits()},
        // A CR before the final CR of a line that crosses the limit: the
        // bare CR is seen before the LF, so it decides however the line
        // is split.
        {"start_line_cr_cr_lf_over_limit", "GET /" + std::string(25, 'a') + "\r\r\n\r\n",
         pe::bare_cr, none, -1, small_limits()},
        {"field_line_cr_cr_lf_over_limit", "GET / HTTP/1.1\r\nX: " + std::string(19, 'v') + "\r\r\n\r\n",
         pe::bare_cr, none, -1, small_limits()},
        {"start_line_over_limit_bad_char_after", "GET /" + std::string(40, 'a') + '\x01',
         pe::start_line_too_long, none, -1, small_limits()},
        {"long_start_line_default", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n",
         pe::start_line_too_long},
        {"field_line_at_limit", "GET / HTTP/1.1\r\nX: " + std::string(24 - 5, 'v') + "\r\n\r\n",
         pe::none, none, -1, small_limits()},
        {"field_line_over_limit", "GET / HTTP/1.1\r\nX: " + std::string(24 - 4, 'v') + "\r\n\r\n",
         pe::field_line_too_long, none, -1, small_limits()},
        {"long_field_default", req(field("X", std::string(9000, 'v'))), pe::field_line_too_long},
        {"head_over_limit",
         "GET / HTTP/1.1\r\nA: 1234567890123\r\nB: 1234567890123\r\nC: 123456\r\n\r\n",
         pe::head_too_large, none, -1, small_limits()},
        {"head_at_limit",
         "GET / HTTP/1.1\r\nA: 1234567890123\r\nB: 1234567890123\r\nC: 12345\r\n\r\n", pe::none,
         none, -1, small_limits()},
        {"fields_over_small_limit", "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
         pe::too_many_fields, none, -1, small_limits()},
        {"bad_char_before_line_limit", "GET / HTTP/1.1\r\n\x01" + std::string(30, 'v') + "\r\n\r\n",
         pe::bad_field_name, none, -1, small_limits()},
        {"line_limit_before_bad_char", "GET / HTTP/1.1\r\nX: " + std::string(30, 'v') + "\x01\r\n\r\n",
         pe::field_line_too_long, none, -1, small_limits()},
        // ---- responses
        {"res_ok_cl", res("HTTP/1.1 200 OK", field("Content-Length", "5")) + "hello", pe::none,
         length, 5, response()},
        {"res_ok_close", res("HTTP/1.1 200 OK"), pe::none, until_close, -1, response()},
        {"res_ok_chunked", res("HTTP/1.1 200 OK", field("Transfer-Encoding", "chunked")), pe::none,
         chunked, -1, response()},
        {"res_cl_zero", res("HTTP/1.1 200 OK", field("Content-Length", "0")), pe::none, none, 0,
         response()},
        {"res_204_cl", res("HTTP/1.1 204 No Content", field("Content-Length", "5")), pe::none, none,
         5, response()},
        {"res_304_cl", res("HTTP/1.1 304 Not Modified", field("Content-Length", "9")), pe::none,
         none, 9, response()},
        {"res_304_chunked", res("HTTP/1.1 304 Not Modified", field("Transfer-Encoding", "chunked")),
         pe::none, none, -1, response()},
        {"res_100", res("HTTP/1.1 100 Continue"), pe::none, none, -1, response()},
        {"res_101", res("HTTP/1.1 101 Switching Protocols", field("Upgrade", "websocket")),
         pe::none, none, -1, response()},
        {"res_head_cl", res("HTTP/1.1 200 OK", field("Content-Length", "5")), pe::none, none, 5,
         head_response()},
        {"res_head_chunked", res("HTTP/1.1 200 OK", field("Transfer-Encoding", "chunked")),
         pe::none, none, -1, head_response()},
        {"res_no_reason", res("HTTP/1.1 200"), pe::none, until_close, -1, response()},
        {"res_empty_reason", res("HTTP/1.1 200 "), pe::none, until_close, -1, response()},
        {"res_reason_spaces", res("HTTP/1.1 404 Not  Found "), pe::none, until_close, -1,
         response()},
        {"res_reason_obs_text", res("HTTP/1.1 200 \xc3\x89t\xc3\xa9"), pe::none, until_close, -1,
         response()},
        {"res_reason_tab", res("HTTP/1.1 200 a\tb"), pe::none, until_close, -1, response()},
        {"res_http10", res("HTTP/1.0 200 OK"), pe::none, until_close, -1, response()},
        {"res_999", res("HTTP/1.1 999 Odd"), pe::none, until_close, -1, response()},
        {"res_leading_crlf", "\r\n" + res("HTTP/1.1 200 OK", field("Content-Length", "1")),
         pe::none, length, 1, response()},
        {"res_code_099", res("HTTP/1.1 099 Low"), pe::bad_status_code, none, -1, response()},
        {"res_code_short", res("HTTP/1.1 20 OK"), pe::bad_status_code, none, -1, response()},
        {"res_code_long", res("HTTP/1.1 2000 OK"), pe::bad_status_code, none, -1, response()},
        {"res_code_alpha", res("HTTP/1.1 20a OK"), pe::bad_status_code, none, -1, response()},
        {"res_code_word", res("HTTP/1.1 OK"), pe::bad_status_code, none, -1, response()},
        {"res_code_neg", res("HTTP/1.1 -200 OK"), pe::bad_status_code, none, -1, response()},
        {"res_code_glued", res("HTTP/1.1 200OK"), pe::bad_status_code, none, -1, response()},
        {"res_code_missing", res("HTTP/1.1 "), pe::bad_status_code, none, -1, response()},
        {"res_double_space", res("HTTP/1.1  200 OK"), pe::bad_status_line, none, -1, response()},
        {"res_version_only", res("HTTP/1.1"), pe::bad_status_line, none, -1, response()},
        {"res_leading_space", res(" HTTP/1.1 200 OK"), pe::bad_status_line, none, -1, response()},
        {"res_version_2", res("HTTP/2 200 OK"), pe::bad_version, none, -1, response()},
        {"res_version_20", res("HTTP/2.0 200 OK"), pe::unsupported_version, none, -1, response()},
        {"res_icy", res("ICY 200 OK"), pe::bad_version, none, -1, response()},
        {"res_garbage", res("garbage"), pe::bad_version, none, -1, response()},
        {"res_reason_nul", res(std::string("HTTP/1.1 200 O\0K", 16)), pe::bad_reason, none, -1,
         response()},
        {"res_reason_del", res("HTTP/1.1 200 O\x7f"), pe::bad_reason, none, -1, response()},
        {"res_reason_cr", res("HTTP/1.1 200 O\rK"), pe::bare_cr, none, -1, response()},
        {"res_bare_lf", "HTTP/1.1 200 OK\n\r\n", pe::bare_lf, none, -1, response()},
        {"res_te_cl",
         res("HTTP/1.1 200 OK",
             field("Transfer-Encoding", "chunked") + field("Content-Length", "5")),
         pe::te_with_content_length, none, -1, response()},
        {"res_te_gzip", res("HTTP/1.1 200 OK", field("Transfer-Encoding", "gzip")),
         pe::bad_transfer_encoding, none, -1, response()},
        {"res_te_gzip_chunked", res("HTTP/1.1 200 OK", field("Transfer-Encoding", "gzip, chunked")),
         pe::unsupported_transfer_coding, none, -1, response()},
        {"res_cl_differ",
         res("HTTP/1.1 200 OK", field("Content-Length", "1") + field("Content-Length", "2")),
         pe::conflicting_content_length, none, -1, response()},
        {"res_obs_fold", res("HTTP/1.1 200 OK", "X: a\r\n b\r\n"), pe::obs_fold, none, -1,
         response()},
        {"res_te_http10", res("HTTP/1.0 200 OK", field("Transfer-Encoding", "chunked")),
         pe::transfer_encoding_in_http10, none, -1, response()},
        {"res_204_bad_cl", res("HTTP/1.1 204 No Content", field("Content-Length", "x")),
         pe::bad_content_length, none, -1, response()},
    };
}

void PrintTo(const head_case& c, std::ostream* os) {
    *os << c.name;
}

class head_table : public ::testing::TestWithParam<head_case> {};

TEST_P(head_table, every_split_agrees) {
    const head_case& c = GetParam();
    outcome o = grind(c.cfg, c.input);
    if (c.incomplete) {
        EXPECT_EQ(o.status, parse_status::need_more);
        return;
    }
    if (c.error != pe::none) {
        EXPECT_EQ(o.status, parse_status::error);
        EXPECT_EQ(o.error, c.error) << describe(o.error) << " vs " << describe(c.error);
        return;
    }
    ASSERT_EQ(o.status, parse_status::complete) << describe(o.error);
    EXPECT_EQ(o.body, c.body);
    EXPECT_EQ(o.cl, c.cl);
    ASSERT_LE(o.length, c.input.size());
    ASSERT_GE(o.length, 4u);
    EXPECT_EQ(c.input[o.length - 1], '\n'); // the head ends at its empty line
}

std::string case_name(const ::testing::TestParamInfo<head_case>& i) {
    return i.param.name;
}

INSTANTIATE_TEST_SUITE_P(cases, head_table, ::testing::ValuesIn(cases()), case_name);

TEST(head_parser, request_parts) {
    std::string in = "\r\nPOST /a/b?c=d HTTP/1.0\r\nHost:  example.com \r\n"
                     "Content-Length: 3\r\nX-Empty:\r\nx-tab:\tv 1\t\r\n\r\nabc";
    outcome o = grind({}, in);
    ASSERT_EQ(o.status, parse_status::complete);
    EXPECT_EQ(o.length, in.size() - 3);
    EXPECT_EQ(o.method, "POST");
    EXPECT_EQ(o.target, "/a/b?c=d");
    EXPECT_EQ(o.version, "HTTP/1.0");
    EXPECT_EQ(o.minor, 0);
    std::vector<std::pair<std::string, std::string>> want = {
        {"Host", "example.com"}, {"Content-Length", "3"}, {"X-Empty", ""}, {"x-tab", "v 1"}};
    EXPECT_EQ(o.fields, want);
    EXPECT_EQ(o.body, length);
    EXPECT_EQ(o.cl, 3);
}

TEST(head_parser, response_parts) {
    config c = response();
    outcome o = grind(c, "HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\n");
    ASSERT_EQ(o.status, parse_status::complete);
    EXPECT_EQ(o.version, "HTTP/1.1");
    EXPECT_EQ(o.minor, 1);
    EXPECT_EQ(o.code, 404);
    EXPECT_EQ(o.reason, "Not Found");
    EXPECT_TRUE(o.method.empty());
    ASSERT_EQ(o.fields.size(), 1u);
    EXPECT_EQ(o.fields[0].second, "x");
}

TEST(head_parser, views_point_into_buffer) {
    std::string in = "GET /x HTTP/1.1\r\nA: b\r\n\r\n";
    head_parser p(message_kind::request);
    ASSERT_EQ(p.parse(in).status, parse_status::complete);
    const auto& h = p.head();
    EXPECT_EQ(h.method.data(), in.data());
    EXPECT_EQ(h.target.data(), in.data() + 4);
    EXPECT_EQ(h.fields[0].value.data(), in.data() + 20);
    EXPECT_EQ(h.find("a"), &h.fields[0]);
    EXPECT_EQ(h.find("b"), nullptr);
}

TEST(head_parser, result_is_sticky_until_reset) {
    head_parser p(message_kind::request);
    EXPECT_EQ(p.parse("GET / HTTP/1.1\r\n\r\n").status, parse_status::complete);
    auto r = p.parse("garbage\r\n\r\n");
    EXPECT_EQ(r.status, parse_status::complete);
    EXPECT_EQ(r.length, 18u);
    p.reset();
    EXPECT_EQ(p.parse("G@T / HTTP/1.1\r\n\r\n").error, pe::bad_method);
    EXPECT_EQ(p.parse("GET / HTTP/1.1\r\n\r\n").error, pe::bad_method);
    p.reset();
    EXPECT_EQ(p.parse("GET / HTTP/1.1\r\n\r\n").status, parse_status::complete);
}

TEST(head_parser, keep_alive_sequence) {
    // The caller drops each head and body, resets and goes on.
    std::string wire = "POST /1 HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"
                       "GET /2 HTTP/1.1\r\n\r\n"
                       "GET /3 HTTP/1.1\r\nX: y\r\n\r\n";
    head_parser p(message_kind::request);
    std::vector<std::string> targets;
    std::string_view rest = wire;
    while (!rest.empty()) {
        auto r = p.parse(rest);
        ASSERT_EQ(r.status, parse_status::complete);
        targets.emplace_back(p.head().target);
        std::size_t body = p.head().body == length ? std::size_t(p.head().content_length) : 0;
        rest.remove_prefix(r.length + body);
        p.reset();
    }
    EXPECT_EQ(targets, (std::vector<std::string>{"/1", "/2", "/3"}));
}

TEST(head_parser, limit_reported_before_line_ends) {
    head_parser p(message_kind::request);
    std::string in = "GET /" + std::string(8 * 1024, 'a');
    auto r = p.parse(in);
    EXPECT_EQ(r.error, pe::start_line_too_long);
    EXPECT_EQ(http_status(r.error), 414);
}

TEST(parse_error, statuses_and_texts) {
    EXPECT_EQ(http_status(pe::none), 0);
    EXPECT_EQ(http_status(pe::bad_method), 400);
    EXPECT_EQ(http_status(pe::start_line_too_long), 414);
    EXPECT_EQ(http_status(pe::head_too_large), 431);
    EXPECT_EQ(http_status(pe::too_many_fields), 431);
    EXPECT_EQ(http_status(pe::field_line_too_long), 431);
    EXPECT_EQ(http_status(pe::unsupported_transfer_coding), 501);
    EXPECT_EQ(http_status(pe::unsupported_version), 505);
    EXPECT_EQ(describe(pe::bad_field_name), "invalid character in header name");
    for (int e = 0; e <= int(pe::trailer_too_large); e++) {
        EXPECT_NE(describe(parse_error(e)), "unknown error") << e;
    }
}

TEST(char_classes, for_message_builders) {
    EXPECT_TRUE(is_token("Content-Type"));
    EXPECT_FALSE(is_token(""));
    EXPECT_FALSE(is_token("A B"));
    EXPECT_FALSE(is_token("A:"));
    EXPECT_TRUE(is_field_value("text/html; q=1"));
    EXPECT_TRUE(is_field_value(""));
    EXPECT_FALSE(is_field_value(" a"));
    EXPECT_FALSE(is_field_value("a\r\nX: y"));
    EXPECT_TRUE(is_request_target("/a?b"));
    EXPECT_FALSE(is_request_target("/a b"));
    EXPECT_FALSE(is_request_target(""));
    EXPECT_TRUE(is_reason("Not Found"));
    EXPECT_FALSE(is_reason("a\nb"));
    EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
    EXPECT_FALSE(iequals("a", "ab"));
}

} // namespace
