// Table-driven tests of chunk_decoder.  Like the head tests, each case is
// decoded whole, byte by byte and split in two at every offset; the caller
// here drops what the decoder consumed, as a connection would.
#include "http/parser.hpp"

#include <gtest/gtest.h>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace nnghttp::detail::http;
using pe = parse_error;

struct outcome {
    chunk_status status = chunk_status::need_more;
    std::string data;
    std::size_t consumed = 0; // total, up to the end of the body
    parse_error error = pe::none;
    std::vector<std::pair<std::string, std::string>> trailers;
    bool operator==(const outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const outcome& o) {
    return os << "{status=" << int(o.status) << " data=\"" << o.data << "\" consumed=" << o.consumed
              << " error=" << describe(o.error) << " trailers=" << o.trailers.size() << '}';
}

// Feeds input cut at the given offsets; between calls only the unconsumed
// bytes are kept (in a fresh buffer), followed by the next piece.
outcome feed(const chunk_options& opts, const std::string& input,
             const std::vector<std::size_t>& cuts) {
    chunk_decoder d(opts);
    outcome o;
    std::string pending;
    std::size_t fed = 0;
    auto run = [&](std::size_t upto) {
        pending += input.substr(fed, upto - fed);
        fed = upto;
        for (;;) {
            std::string buf(pending); // moves between calls
            chunk_result r = d.decode(buf);
            o.consumed += r.consumed;
            pending = buf.substr(r.consumed);
            if (r.status == chunk_status::data) {
                EXPECT_GT(r.data.size(), 0u);
                EXPECT_GE(r.data.data(), buf.data());
                EXPECT_LE(r.data.data() + r.data.size(), buf.data() + r.consumed);
                o.data.append(r.data);
                continue;
            }
            o.status = r.status;
            o.error = r.error;
            return r.status != chunk_status::need_more;
        }
    };
    for (std::size_t k : cuts) {
        if (run(k)) {
            break;
        }
    }
    if (o.status == chunk_status::need_more) {
        run(input.size());
    }
    if (o.status == chunk_status::error) {
        o.consumed = 0; // how far it got before failing may vary
    }
    for (const auto& t : d.trailers()) {
        o.trailers.emplace_back(t.name, t.value);
    }
    return o;
}

outcome grind(const chunk_options& opts, const std::string& input) {
    outcome whole = feed(opts, input, {});
    std::vector<std::size_t> bytes;
    for (std::size_t k = 0; k < input.size(); k++) {
        bytes.push_back(k);
    }
    EXPECT_EQ(feed(opts, input, bytes), whole) << "byte by byte";
    for (std::size_t k = 1; k < input.size() && !::testing::Test::HasFailure(); k++) {
        EXPECT_EQ(feed(opts, input, {k}), whole) << "split at " << k;
    }
    return whole;
}

struct chunk_case {
    const char* name;
    std::string input;
    parse_error error;
    std::string data = {};
    std::size_t consumed = 0; // 0: the whole input
    chunk_options opts = {};
    bool incomplete = false;
};

void PrintTo(const chunk_case& c, std::ostream* os) {
    *os << c.name;
}

chunk_options keep() {
    chunk_options o;
    o.keep_trailers = true;
    return o;
}
chunk_options lenient() {
    chunk_options o;
    o.allow_bare_lf = true;
    return o;
}
chunk_options small() {
    chunk_options o;
    o.max_chunk_line = 16;
    o.max_trailer = 20;
    o.max_trailer_fields = 2;
    return o;
}

std::vector<chunk_case> cases() {
    return {
        {"one_chunk", "5\r\nhello\r\n0\r\n\r\n", pe::none, "hello"},
        {"two_chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", pe::none, "hello world"},
        {"empty_body", "0\r\n\r\n", pe::none, ""},
        {"hex_upper", "A\r\n0123456789\r\n0\r\n\r\n", pe::none, "0123456789"},
        {"hex_lower", "a\r\n0123456789\r\n0\r\n\r\n", pe::none, "0123456789"},
        {"hex_two_digits", "10\r\n" + std::string(16, 'x') + "\r\n0\r\n\r\n", pe::none,
         std::string(16, 'x')},
        {"leading_zeros", "0005\r\nhello\r\n000\r\n\r\n", pe::none, "hello"},
        {"binary_data", std::string("3\r\n\0\r\n\r\n0\r\n\r\n", 13), pe::none,
         std::string("\0\r\n", 3)},
        {"crlf_in_data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", pe::none, "\r\n\r\n"},
        {"ext_token", "5;a=b\r\nhello\r\n0\r\n\r\n", pe::none, "hello"},
        {"ext_name_only", "5;a\r\nhello\r\n0\r\n\r\n", pe::none, "hello"},
        {"ext_quoted", "5;a=\"b c\"\r\nhello\r\n0\r\n\r\n", pe::none, "hello"},
        {"ext_quoted_escape", "5;a=\"b\\\"c\\\\\"\r\nhello\r\n0\r\n\r\n", pe::none, "hello"},
        {"ext_quoted_semicolon", "5;a=\";b=c\"\r\nhello\r\n0\r\n\r\n", pe::none, "hello"},
        {"ext_many", "5;a=1;b;c=\"x\"\r\nhello\r\n0\r\n\r\n", pe::none, "hello"},
        {"ext_bws", "5 ;a = 1 ; b\r\nhello\r\n0\r\n\r\n", pe::none, "hello"},
        {"ext_bws_after_semi", "5; a=1\r\nhello\r\n0\r\n\r\n", pe::none, "hello"},
        {"ext_tab", "5\t;\ta\t=\t1\r\nhello\r\n0\r\n\r\n", pe::none, "hello"},
        {"ext_on_last", "5\r\nhello\r\n0;end=1\r\n\r\n", pe::none, "hello"},
        {"trailer", "5\r\nhello\r\n0\r\nX: y\r\n\r\n", pe::none, "hello"},
        {"trailers_two", "0\r\nA: 1\r\nB:  2 \r\n\r\n", pe::none, ""},
        {"trailer_empty_value", "0\r\nA:\r\n\r\n", pe::none, ""},
        {"pipelined", "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", pe::none, "hello", 15},
        {"pipelined_trailer", "0\r\nA: b\r\n\r\nNEXT", pe::none, "", 11},
        {"bare_lf_lenient", "5\nhello\n0\nX: y\n\n", pe::none, "hello", 0, lenient()},
        {"bare_lf_lenient_mixed", "5\r\nhello\n0\n\r\n", pe::none, "hello", 0, lenient()},
        {"line_at_limit", "5;a=1234567890\r\nhello\r\n0\r\n\r\n", pe::none, "hello", 0, small()},
        {"trailers_at_limit", "0\r\nA: 1\r\nB: 2\r\n\r\n", pe::none, "", 0, small()},
        // incomplete
        {"incomplete_size", "5", pe::none, "", 0, {}, true},
        {"incomplete_data", "5\r\nhel", pe::none, "hel", 0, {}, true},
        {"incomplete_after_data", "5\r\nhello\r", pe::none, "hello", 0, {}, true},
        {"incomplete_no_final", "5\r\nhello\r\n0\r\n", pe::none, "hello", 0, {}, true},
        {"incomplete_trailer", "0\r\nX: y", pe::none, "", 0, {}, true},
        {"incomplete_final_cr", "0\r\n\r", pe::none, "", 0, {}, true},
        // sizes
        {"size_alpha", "x\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_size},
        {"size_empty", "\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_size},
        {"size_only_ext", ";a\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_size},
        {"size_leading_space", " 5\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_size},
        {"size_minus", "-5\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_size},
        {"size_plus", "+5\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_size},
        {"size_0x", "0x5\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_size},
        {"size_g", "5g\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_size},
        {"size_nul", std::string("5\0\r\nhello\r\n0\r\n\r\n", 16), pe::bad_chunk_size},
        {"size_utf8", "\xd9\xa5\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_size},
        {"size_overflow_2_63", "8000000000000000\r\n", pe::chunk_size_overflow},
        {"size_overflow_17_digits", "10000000000000000\r\n", pe::chunk_size_overflow},
        {"size_overflow_long", "ffffffffffffffffffff\r\n", pe::chunk_size_overflow},
        {"size_max_then_short", "7fffffffffffffff\r\nhello", pe::none, "hello", 0, {}, true},
        {"size_bare_lf", "5\nhello\r\n0\r\n\r\n", pe::bare_lf},
        {"size_bare_cr", "5\rhello\r\n0\r\n\r\n", pe::bare_cr},
        // extensions
        {"ext_trailing_space", "5 \r\nhello\r\n0\r\n\r\n", pe::bad_chunk_extension},
        {"ext_empty", "5;\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_extension},
        {"ext_no_name", "5;=a\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_extension},
        {"ext_no_value", "5;a=\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_extension},
        {"ext_unterminated_quote", "5;a=\"b\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_extension},
        {"ext_space_in_value", "5;a=b c\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_extension},
        {"ext_space_in_name", "5;a b\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_extension},
        {"ext_ctl", "5;a=\x01\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_extension},
        {"ext_ctl_quoted", "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_extension},
        {"ext_after_quote", "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", pe::bad_chunk_extension},
        {"ext_value_space_cr", "5;a=b \r\nhello\r\n0\r\n\r\n", pe::bad_chunk_extension},
        {"ext_bare_lf", "5;a\nhello\r\n0\r\n\r\n", pe::bare_lf},
        {"line_over_limit", "5;a=12345678901\r\nhello\r\n0\r\n\r\n", pe::chunk_line_too_long, "", 0,
         small()},
        {"line_over_limit_zeros", std::string(20, '0') + "5\r\n", pe::chunk_line_too_long, "", 0,
         small()},
        {"line_over_default", "5;a=\"" + std::string(5000, 'x') + "\"\r\nhello\r\n0\r\n\r\n",
         pe::chunk_line_too_long},
        // data framing
        {"data_no_crlf", "5\r\nhelloX\r\n0\r\n\r\n", pe::missing_chunk_crlf, "hello"},
        {"data_bare_lf", "5\r\nhello\n0\r\n\r\n", pe::missing_chunk_crlf, "hello"},
        {"data_cr_only", "5\r\nhello\r0\r\n\r\n", pe::missing_chunk_crlf, "hello"},
        {"data_longer_than_size", "3\r\nhello\r\n0\r\n\r\n", pe::missing_chunk_crlf, "hel"},
        {"data_shorter_than_size", "6\r\nhello\r\n0\r\n\r\n", pe::missing_chunk_crlf, "hello\r"},
        // trailers
        {"trailer_obs_fold", "0\r\nX: a\r\n b\r\n\r\n", pe::obs_fold},
        {"trailer_bad_name", "0\r\nX Y: a\r\n\r\n", pe::bad_field_name},
        {"trailer_space_colon", "0\r\nX : a\r\n\r\n", pe::space_before_colon},
        {"trailer_no_colon", "0\r\nXY\r\n\r\n", pe::missing_colon},
        {"trailer_nul", std::string("0\r\nX: a\0\r\n\r\n", 12), pe::bad_field_value},
        {"trailer_bare_cr", "0\r\nX: a\rb\r\n\r\n", pe::bare_cr},
        {"trailer_bare_lf", "0\r\nX: a\n\r\n", pe::bare_lf},
        {"final_bare_lf", "0\r\n\n", pe::bare_lf},
        {"final_cr_x", "0\r\n\rX", pe::bare_cr},
        {"trailer_too_large", "0\r\nA: 123456789012345678\r\n\r\n", pe::trailer_too_large, "", 0,
         small()},
        {"trailers_too_many", "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", pe::too_many_fields, "", 0,
         small()},
    };
}

class chunk_table : public ::testing::TestWithParam<chunk_case> {};

TEST_P(chunk_table, every_split_agrees) {
    const chunk_case& c = GetParam();
    outcome o = grind(c.opts, c.input);
    if (c.incomplete) {
        EXPECT_EQ(o.status, chunk_status::need_more);
        EXPECT_EQ(o.data, c.data);
        return;
    }
    if (c.error != pe::none) {
        EXPECT_EQ(o.status, chunk_status::error);
        EXPECT_EQ(o.error, c.error) << describe(o.error) << " vs " << describe(c.error);
        if (!c.data.empty()) {
            EXPECT_EQ(o.data, c.data);
        }
        return;
    }
    ASSERT_EQ(o.status, chunk_status::done) << describe(o.error);
    EXPECT_EQ(o.data, c.data);
    EXPECT_EQ(o.consumed, c.consumed == 0 ? c.input.size() : c.consumed);
}

std::string case_name(const ::testing::TestParamInfo<chunk_case>& i) {
    return i.param.name;
}

INSTANTIATE_TEST_SUITE_P(cases, chunk_table, ::testing::ValuesIn(cases()), case_name);

TEST(chunk_decoder, trailers_kept) {
    outcome o = grind(keep(), "5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum:  abc \r\n\r\n");
    ASSERT_EQ(o.status, chunk_status::done);
    std::vector<std::pair<std::string, std::string>> want = {{"Expires", "never"},
                                                             {"X-Sum", "abc"}};
    EXPECT_EQ(o.trailers, want);
}

TEST(chunk_decoder, trailers_discarded_by_default) {
    outcome o = grind({}, "0\r\nExpires: never\r\n\r\n");
    ASSERT_EQ(o.status, chunk_status::done);
    EXPECT_TRUE(o.trailers.empty());
}

TEST(chunk_decoder, data_is_a_view_of_the_input) {
    std::string in = "5\r\nhello\r\n0\r\n\r\n";
    chunk_decoder d;
    chunk_result r = d.decode(in);
    ASSERT_EQ(r.status, chunk_status::data);
    EXPECT_EQ(r.data.data(), in.data() + 3);
    EXPECT_EQ(r.consumed, 8u);
    r = d.decode(std::string_view(in).substr(8));
    EXPECT_EQ(r.status, chunk_status::done);
    EXPECT_EQ(r.consumed, 7u);
    EXPECT_EQ(d.body_size(), 5u);
    // Done and error are sticky until reset.
    EXPECT_EQ(d.decode("5\r\n").status, chunk_status::done);
    d.reset();
    EXPECT_EQ(d.decode("x").error, pe::bad_chunk_size);
    EXPECT_EQ(d.decode("5\r\n").error, pe::bad_chunk_size);
    d.reset();
    EXPECT_EQ(d.decode("0\r\n\r\n").status, chunk_status::done);
}

TEST(chunk_decoder, huge_chunk_streams) {
    chunk_decoder d;
    chunk_result r = d.decode("7fffffffffffffff\r\n");
    EXPECT_EQ(r.status, chunk_status::need_more);
    std::string block(4096, 'z');
    for (int i = 0; i < 100; i++) {
        r = d.decode(block);
        ASSERT_EQ(r.status, chunk_status::data);
        ASSERT_EQ(r.consumed, block.size());
    }
    EXPECT_EQ(d.body_size(), 409600u);
}

} // namespace
