// Sec-WebSocket-Extensions parsing, table-driven: what each value parses to
// (written back with append_extensions, which the table compares), what is
// refused, and that a value written back parses to the same extensions.
#include "websocket/extensions.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

using namespace nnghttp::detail::ws;

struct ext_case {
    const char* name;
    std::string value;
    const char* want; // append_extensions of the result; nullptr: refused
};

std::vector<ext_case> cases() {
    return {
        {"bare", "permessage-deflate", "permessage-deflate"},
        {"param_without_value", "permessage-deflate; client_max_window_bits",
         "permessage-deflate; client_max_window_bits"},
        {"params", "permessage-deflate; client_max_window_bits=15; server_no_context_takeover",
         "permessage-deflate; client_max_window_bits=15; server_no_context_takeover"},
        {"no_spaces", "permessage-deflate;client_max_window_bits=10",
         "permessage-deflate; client_max_window_bits=10"},
        {"spaces_everywhere", "a \t;\t b = c ; d", "a; b=c; d"},
        {"quoted_value", "permessage-deflate; server_max_window_bits=\"15\"",
         "permessage-deflate; server_max_window_bits=15"},
        {"quoted_escape", "a; b=\"x\\yz\"", "a; b=xyz"},
        {"several", "a, b; c=d ,e", "a, b; c=d, e"},
        {"empty_elements", " , a,, b ,", "a, b"},
        {"repeat_kept", "a; x=1; x=2, a", "a; x=1; x=2, a"},
        {"token_chars", "x-webkit-deflate-frame; no_context_takeover",
         "x-webkit-deflate-frame; no_context_takeover"},
        {"empty", "", nullptr},
        {"only_commas", " , ,", nullptr},
        {"space_in_name", "a b", nullptr},
        {"trailing_semicolon", "a;", nullptr},
        {"double_semicolon", "a;;b", nullptr},
        {"leading_semicolon", ";a", nullptr},
        {"param_no_name", "a; =1", nullptr},
        {"value_missing", "a; b=", nullptr},
        {"value_two_words", "a; b=c d", nullptr},
        {"value_two_equals", "a; b=1=2", nullptr},
        {"value_on_extension", "a=1", nullptr},
        {"quoted_empty", "a; b=\"\"", nullptr},
        {"quoted_space", "a; b=\"1 2\"", nullptr},
        {"quoted_unterminated", "a; b=\"15", nullptr},
        {"quoted_escape_at_end", "a; b=\"1\\", nullptr},
        {"quoted_then_junk", "a; b=\"x\"y", nullptr},
        {"quoted_name", "\"a\"", nullptr},
        {"quoted_comma", "a; b=\"1,2\"", nullptr},
        {"control_char", "a; b=\x01", nullptr},
        {"obs_text", "a\xff", nullptr},
        {"bad_after_good", "a, b c", nullptr},
    };
}

void PrintTo(const ext_case& c, std::ostream* os) {
    *os << c.name;
}

class ext_table : public ::testing::TestWithParam<ext_case> {};

TEST_P(ext_table, parses_as_expected) {
    const ext_case& c = GetParam();
    std::vector<extension> out(1); // a previous line's offer stays
    out[0].name = "earlier";
    const bool ok = parse_extensions(c.value, out);
    ASSERT_EQ(ok, c.want != nullptr);
    if (!ok) {
        EXPECT_EQ(out.size(), 1u) << "unchanged after a refusal";
        return;
    }
    std::vector<extension> parsed(out.begin() + 1, out.end());
    std::string text;
    append_extensions(text, parsed);
    EXPECT_EQ(text, c.want);
    // Written back, it parses to the same extensions.
    std::vector<extension> again;
    ASSERT_TRUE(parse_extensions(text, again));
    EXPECT_EQ(again, parsed);
}

std::string case_name(const ::testing::TestParamInfo<ext_case>& i) {
    return i.param.name;
}

INSTANTIATE_TEST_SUITE_P(extensions, ext_table, ::testing::ValuesIn(cases()), case_name);

TEST(extensions, fields_of_an_offer) {
    std::vector<extension> v;
    const std::string value = "permessage-deflate; client_max_window_bits; server_max_window_bits="
                              "\"10\", permessage-deflate";
    ASSERT_TRUE(parse_extensions(value, v));
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].name, "permessage-deflate");
    EXPECT_EQ(v[0].name.data(), value.data()); // a view into the value
    ASSERT_EQ(v[0].params.size(), 2u);
    EXPECT_EQ(v[0].params[0].name, "client_max_window_bits");
    EXPECT_FALSE(v[0].params[0].has_value);
    EXPECT_EQ(v[0].params[1].name, "server_max_window_bits");
    EXPECT_TRUE(v[0].params[1].has_value);
    EXPECT_EQ(v[0].params[1].value, "10");
    EXPECT_TRUE(v[1].params.empty());
}

} // namespace
