// ETags, If-None-Match / If-Modified-Since / If-Range, and Range parsing.
#include "http/http_time.hpp"
#include "http/range.hpp"

#include <array>
#include <gtest/gtest.h>
#include <limits>
#include <string>

namespace {

using namespace nnghttp::detail::http;

constexpr std::uint64_t u64max = std::numeric_limits<std::uint64_t>::max();
constexpr std::time_t mtime = 784111777; // Sun, 06 Nov 1994 08:49:37 GMT

std::string date(std::time_t t) {
    std::array<char, http_date_size> b;
    return std::string(format_http_date(t, b));
}

std::string content_range(const byte_range& r, std::uint64_t size) {
    std::array<char, content_range_max> b;
    return std::string(format_content_range(r, size, b));
}

// ---- ETag ------------------------------------------------------------------

TEST(ConditionalEtag, FileEtag) {
    EXPECT_EQ(file_etag(0, 0, 0), "\"0-0-0\"");
    EXPECT_EQ(file_etag(1024, 0x123456789, 42), "\"2a-400-123456789\"");
    EXPECT_EQ(file_etag(u64max, -1, u64max),
              "\"ffffffffffffffff-ffffffffffffffff-ffffffffffffffff\"");
    std::string e = file_etag(100, 1700000000123456789, 77);
    EXPECT_TRUE(is_entity_tag(e));
    // Any one of the three changes the tag.
    EXPECT_NE(e, file_etag(101, 1700000000123456789, 77));
    EXPECT_NE(e, file_etag(100, 1700000000123456790, 77));
    EXPECT_NE(e, file_etag(100, 1700000000123456789, 78));
}

TEST(ConditionalEtag, Syntax) {
    struct row {
        const char* s;
        bool ok;
    } rows[] = {
        {"\"abc\"", true},   {"W/\"abc\"", true},    {"\"\"", true},      {"W/\"\"", true},
        {"\"a!#~\"", true},  {"\"\x80\xff\"", true}, {"abc", false},      {"\"abc", false},
        {"abc\"", false},    {"w/\"abc\"", false},   {"W/abc", false},    {"\"a b\"", false},
        {"\"a\"b\"", false}, {"\"a\x7f\"", false},   {"\"a\tb\"", false}, {"", false},
        {"W/", false},       {"\"abc\" ", false},    {"*", false},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.s);
        EXPECT_EQ(is_entity_tag(r.s), r.ok);
    }
}

TEST(ConditionalEtag, Comparison) {
    // RFC 9110 section 8.8.3.2's table.
    struct row {
        const char* a;
        const char* b;
        bool strong;
        bool weak;
    } rows[] = {
        {"W/\"1\"", "W/\"1\"", false, true}, {"W/\"1\"", "W/\"2\"", false, false},
        {"W/\"1\"", "\"1\"", false, true},   {"\"1\"", "\"1\"", true, true},
        {"\"1\"", "\"2\"", false, false},    {"\"1\"", "1", false, false},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(std::string(r.a) + " vs " + r.b);
        EXPECT_EQ(etag_strong_equal(r.a, r.b), r.strong);
        EXPECT_EQ(etag_strong_equal(r.b, r.a), r.strong);
        EXPECT_EQ(etag_weak_equal(r.a, r.b), r.weak);
        EXPECT_EQ(etag_weak_equal(r.b, r.a), r.weak);
    }
}

// ---- If-None-Match / If-Modified-Since -----------------------------------

TEST(Conditional, IfNoneMatch) {
    const std::string tag = "\"xyz\"";
    struct row {
        const char* field;
        bool match;
    } rows[] = {
        {"\"xyz\"", true},
        {"W/\"xyz\"", true}, // weak comparison
        {"*", true},
        {" * ", true},
        {"\"abc\"", false},
        {"\"abc\", \"xyz\"", true},
        {"\"abc\",\"xyz\"", true},
        {"\"abc\" ,\t\"xyz\"", true},
        {"W/\"abc\", W/\"xyz\", \"def\"", true},
        {"\"abc\", W/\"def\"", false},
        {", ,\"xyz\",", true},      // empty list elements
        {"\"a,b\", \"xyz\"", true}, // comma inside a tag
        {"\"a,b\"", false},
        {"\"XYZ\"", false}, // case-sensitive
        {"xyz", false},     // unquoted: invalid
        {"\"xyz\" \"abc\"", false},
        {"\"xyz\", abc", false}, // invalid list: no match even though one matched
        {"*, \"xyz\"", false},
        {"\"xyz\"*", false},
        {"", false},
        {" , ", false},
        {"\"xyz", false},
        {"w/\"xyz\"", false},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.field);
        EXPECT_EQ(if_none_match_matches(r.field, tag), r.match);
    }
    // The current tag may itself be weak.
    EXPECT_TRUE(if_none_match_matches("\"xyz\"", "W/\"xyz\""));
    EXPECT_FALSE(if_none_match_matches("\"xyz\"", "xyz"));
}

TEST(Conditional, IfModifiedSince) {
    EXPECT_TRUE(not_modified_since(date(mtime), mtime));
    EXPECT_TRUE(not_modified_since(date(mtime + 1), mtime));
    EXPECT_TRUE(not_modified_since(date(mtime + 86400 * 365), mtime));
    EXPECT_FALSE(not_modified_since(date(mtime - 1), mtime));
    EXPECT_TRUE(not_modified_since("Sunday, 06-Nov-94 08:49:37 GMT", mtime));
    EXPECT_TRUE(not_modified_since("Sun Nov  6 08:49:37 1994", mtime));
    EXPECT_FALSE(not_modified_since("Sun Nov  6 08:49:36 1994", mtime));
    EXPECT_FALSE(not_modified_since("not a date", mtime));
    EXPECT_FALSE(not_modified_since("", mtime));
    EXPECT_FALSE(not_modified_since(date(mtime) + ", " + date(mtime), mtime));
}

TEST(Conditional, StatusForGetAndHead) {
    const std::string tag = file_etag(10, 5, 7);
    file_validators f{tag, mtime, 10};
    const std::string same = date(mtime), later = date(mtime + 60), earlier = date(mtime - 60);
    struct row {
        std::optional<std::string_view> inm;
        std::optional<std::string_view> ims;
        int status;
    } rows[] = {
        {std::nullopt, std::nullopt, 200},
        {tag, std::nullopt, 304},
        {"\"other\"", std::nullopt, 200},
        {"*", std::nullopt, 304},
        {std::nullopt, same, 304},
        {std::nullopt, later, 304},
        {std::nullopt, earlier, 200},
        {std::nullopt, "garbage", 200},
        // If-Modified-Since is ignored when If-None-Match is present.
        {"\"other\"", same, 200},
        {"\"other\"", later, 200},
        {tag, earlier, 304},
        {"bad list", same, 200},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(std::string(r.inm.value_or("-")) + " / " + std::string(r.ims.value_or("-")));
        get_conditions c;
        c.if_none_match = r.inm;
        c.if_modified_since = r.ims;
        EXPECT_EQ(conditional_status(c, f), r.status);
        EXPECT_EQ(evaluate_get(c, f).status, r.status);
        c.head = true;
        EXPECT_EQ(evaluate_get(c, f).status, r.status);
    }
}

TEST(Conditional, IfRange) {
    const std::string tag = "\"v1\"";
    EXPECT_TRUE(if_range_matches("\"v1\"", tag, mtime));
    EXPECT_FALSE(if_range_matches("\"v2\"", tag, mtime));
    EXPECT_FALSE(if_range_matches("W/\"v1\"", tag, mtime)); // weak never matches
    EXPECT_FALSE(if_range_matches("\"v1\"", "W/\"v1\"", mtime));
    EXPECT_TRUE(if_range_matches(date(mtime), tag, mtime));
    EXPECT_TRUE(if_range_matches("Sun Nov  6 08:49:37 1994", tag, mtime));
    EXPECT_FALSE(if_range_matches(date(mtime + 1), tag, mtime)); // exact match only
    EXPECT_FALSE(if_range_matches(date(mtime - 1), tag, mtime));
    EXPECT_TRUE(if_range_matches("Wed, 09 Nov 1994 08:49:37 GMT", tag, mtime + 3 * 86400));
    EXPECT_FALSE(if_range_matches("", tag, mtime));
    EXPECT_FALSE(if_range_matches("v1", tag, mtime));
    EXPECT_FALSE(if_range_matches("\"v1\", \"v2\"", tag, mtime));
}

// ---- Range -----------------------------------------------------------------

struct range_row {
    const char* field;
    std::uint64_t size;
    range_kind kind;
    std::uint64_t first;
    std::uint64_t last;
    const char* content_range; // "" for none
};

constexpr auto none = range_kind::none;
constexpr auto one = range_kind::single;
constexpr auto bad = range_kind::unsatisfiable;

const range_row range_rows[] = {
    // The three forms.
    {"bytes=0-499", 10000, one, 0, 499, "bytes 0-499/10000"},
    {"bytes=500-999", 10000, one, 500, 999, "bytes 500-999/10000"},
    {"bytes=9500-", 10000, one, 9500, 9999, "bytes 9500-9999/10000"},
    {"bytes=-500", 10000, one, 9500, 9999, "bytes 9500-9999/10000"},
    {"bytes=0-0", 10000, one, 0, 0, "bytes 0-0/10000"},
    {"bytes=-1", 10000, one, 9999, 9999, "bytes 9999-9999/10000"},
    {"bytes=0-", 10000, one, 0, 9999, "bytes 0-9999/10000"},
    {"bytes=9999-9999", 10000, one, 9999, 9999, "bytes 9999-9999/10000"},
    {"bytes=0-0", 1, one, 0, 0, "bytes 0-0/1"},
    // Clamping.
    {"bytes=0-99999", 10000, one, 0, 9999, "bytes 0-9999/10000"},
    {"bytes=9000-20000", 10000, one, 9000, 9999, "bytes 9000-9999/10000"},
    {"bytes=-20000", 10000, one, 0, 9999, "bytes 0-9999/10000"}, // suffix longer than file
    {"bytes=-10000", 10000, one, 0, 9999, "bytes 0-9999/10000"},
    // Unit and spacing.
    {"BYTES=1-2", 10, one, 1, 2, "bytes 1-2/10"},
    {"Bytes=1-2", 10, one, 1, 2, "bytes 1-2/10"},
    {"bytes=1-2,", 10, one, 1, 2, "bytes 1-2/10"},
    {"bytes=,1-2", 10, one, 1, 2, "bytes 1-2/10"},
    {"bytes=, 1-2 ,", 10, one, 1, 2, "bytes 1-2/10"},
    {"bytes= 1-2", 10, none, 0, 0, ""}, // no whitespace after '='
    {"bytes =1-2", 10, none, 0, 0, ""},
    {"bytes=1 -2", 10, none, 0, 0, ""},
    {"bytes=1- 2", 10, none, 0, 0, ""},
    {"items=1-2", 10, none, 0, 0, ""},
    {"byte=1-2", 10, none, 0, 0, ""},
    {"bytes", 10, none, 0, 0, ""},
    {"bytes=", 10, none, 0, 0, ""},
    {"bytes=,", 10, none, 0, 0, ""},
    {"", 10, none, 0, 0, ""},
    {"=1-2", 10, none, 0, 0, ""},
    // Invalid specs: the header is ignored.
    {"bytes=5-3", 10, none, 0, 0, ""},
    {"bytes=5-3", 0, none, 0, 0, ""},
    {"bytes=-", 10, none, 0, 0, ""},
    {"bytes=1", 10, none, 0, 0, ""},
    {"bytes=a-b", 10, none, 0, 0, ""},
    {"bytes=1-2-3", 10, none, 0, 0, ""},
    {"bytes=--1", 10, none, 0, 0, ""},
    {"bytes=+1-2", 10, none, 0, 0, ""},
    {"bytes=0x1-2", 10, none, 0, 0, ""},
    {"bytes=1-2,x", 10, none, 0, 0, ""},
    {"bytes=1-2,3-1", 10, none, 0, 0, ""},
    {"bytes=20-30,5-3", 10, none, 0, 0, ""},
    // Unsatisfiable.
    {"bytes=10-", 10, bad, 0, 0, "bytes */10"},
    {"bytes=10-20", 10, bad, 0, 0, "bytes */10"},
    {"bytes=-0", 10, bad, 0, 0, "bytes */10"},
    {"bytes=20-30,40-", 10, bad, 0, 0, "bytes */10"},
    {"bytes=0-", 0, bad, 0, 0, "bytes */0"},
    {"bytes=0-0", 0, bad, 0, 0, "bytes */0"},
    {"bytes=-0", 0, bad, 0, 0, "bytes */0"},
    // Empty file: a suffix has no byte to send, so the full (empty) 200.
    {"bytes=-5", 0, none, 0, 0, ""},
    // Several ranges: the full 200 unless exactly one is satisfiable.
    {"bytes=0-1,3-4", 10, none, 0, 0, ""},
    {"bytes=0-0,0-0", 10, none, 0, 0, ""},
    {"bytes=0-1,-2", 10, none, 0, 0, ""},
    {"bytes=0-1,20-30", 10, one, 0, 1, "bytes 0-1/10"},
    {"bytes=20-30, -0, 5-", 10, one, 5, 9, "bytes 5-9/10"},
    {"bytes=20-30,-3", 10, one, 7, 9, "bytes 7-9/10"},
    // Huge numbers saturate.
    {"bytes=0-18446744073709551615", 10, one, 0, 9, "bytes 0-9/10"},
    {"bytes=0-18446744073709551616", 10, one, 0, 9, "bytes 0-9/10"},
    {"bytes=0-99999999999999999999999999999999", 10, one, 0, 9, "bytes 0-9/10"},
    {"bytes=99999999999999999999999999999999-", 10, bad, 0, 0, "bytes */10"},
    {"bytes=18446744073709551615-18446744073709551615", 10, bad, 0, 0, "bytes */10"},
    {"bytes=-99999999999999999999999999999999", 10, one, 0, 9, "bytes 0-9/10"},
    {"bytes=99999999999999999999999999999999-1", 10, none, 0, 0, ""}, // last < first
    {"bytes=00000000000000000000000000000001-2", 10, one, 1, 2, "bytes 1-2/10"},
    {"bytes=18446744073709551614-", u64max, one, 18446744073709551614ULL, 18446744073709551614ULL,
     "bytes 18446744073709551614-18446744073709551614/18446744073709551615"},
    {"bytes=-1", u64max, one, 18446744073709551614ULL, 18446744073709551614ULL,
     "bytes 18446744073709551614-18446744073709551614/18446744073709551615"},
    {"bytes=0-", u64max, one, 0, 18446744073709551614ULL,
     "bytes 0-18446744073709551614/18446744073709551615"},
    {"bytes=18446744073709551615-", u64max, bad, 0, 0, "bytes */18446744073709551615"},
};

TEST(Range, Parse) {
    for (const range_row& r : range_rows) {
        SCOPED_TRACE(std::string(r.field) + " size " + std::to_string(r.size));
        byte_range got = parse_range(r.field, r.size);
        EXPECT_EQ(got.kind, r.kind);
        if (r.kind == range_kind::single) {
            EXPECT_EQ(got.first, r.first);
            EXPECT_EQ(got.last, r.last);
            EXPECT_EQ(got.length(), r.last - r.first + 1);
            EXPECT_LT(got.last, r.size);
        } else {
            EXPECT_EQ(got.length(), 0u);
        }
        EXPECT_EQ(content_range(got, r.size), r.content_range);
    }
}

TEST(Range, ContentRangeFitsLongestValue) {
    byte_range r{range_kind::single, u64max - 1, u64max - 1};
    std::string s = content_range(r, u64max);
    EXPECT_LE(s.size(), content_range_max);
    EXPECT_EQ(content_range({}, 5), "");
    EXPECT_EQ(content_range({range_kind::unsatisfiable, 0, 0}, 0), "bytes */0");
}

TEST(Range, LongHeaderWithManyElements) {
    std::string many = "bytes=";
    for (int i = 0; i < 1000; i++) {
        many += std::to_string(1000 + i) + "-,";
    }
    many += "-0";
    EXPECT_EQ(parse_range(many, 10).kind, range_kind::unsatisfiable);
    EXPECT_EQ(parse_range(many, 100000).kind, range_kind::none);
    EXPECT_EQ(parse_range(many, 1001), (byte_range{range_kind::single, 1000, 1000}));
}

TEST(Conditional, EvaluateGetWithRanges) {
    const std::string tag = file_etag(10000, 123, 9);
    file_validators f{tag, mtime, 10000};
    const std::string same = date(mtime), later = date(mtime + 60), weak_tag = "W/" + tag;
    struct row {
        std::optional<std::string_view> inm, ims, range, if_range;
        bool head;
        int status;
        std::uint64_t first, last;
    } rows[] = {
        {{}, {}, "bytes=0-99", {}, false, 206, 0, 99},
        {{}, {}, "bytes=0-99", {}, true, 200, 0, 0}, // HEAD ignores Range
        {{}, {}, "bytes=20000-", {}, false, 416, 0, 0},
        {{}, {}, "bytes=0-1,5-6", {}, false, 200, 0, 0},
        {{}, {}, "items=0-1", {}, false, 200, 0, 0},
        {{}, {}, "bytes=9-1", {}, false, 200, 0, 0},
        // Preconditions come first.
        {tag, {}, "bytes=0-99", {}, false, 304, 0, 0},
        {{}, same, "bytes=0-99", {}, false, 304, 0, 0},
        {{}, same, "bytes=20000-", {}, false, 304, 0, 0},
        {"\"old\"", same, "bytes=0-99", {}, false, 206, 0, 99},
        // If-Range.
        {{}, {}, "bytes=0-99", tag, false, 206, 0, 99},
        {{}, {}, "bytes=0-99", "\"old\"", false, 200, 0, 0},
        {{}, {}, "bytes=0-99", weak_tag, false, 200, 0, 0},
        {{}, {}, "bytes=0-99", same, false, 206, 0, 99},
        {{}, {}, "bytes=0-99", later, false, 200, 0, 0},
        {{}, {}, "bytes=0-99", "junk", false, 200, 0, 0},
        {{}, {}, "bytes=20000-", "\"old\"", false, 200, 0, 0},
        {{}, {}, "bytes=20000-", tag, false, 416, 0, 0},
        {{}, {}, {}, tag, false, 200, 0, 0}, // If-Range without Range
    };
    for (const row& r : rows) {
        SCOPED_TRACE(std::string(r.range.value_or("-")) + " if-range " +
                     std::string(r.if_range.value_or("-")) + (r.head ? " HEAD" : " GET"));
        get_conditions c{r.inm, r.ims, r.range, r.if_range, r.head};
        get_outcome o = evaluate_get(c, f);
        EXPECT_EQ(o.status, r.status);
        if (o.status == 206) {
            EXPECT_EQ(o.range.kind, range_kind::single);
            EXPECT_EQ(o.range.first, r.first);
            EXPECT_EQ(o.range.last, r.last);
        } else if (o.status == 416) {
            EXPECT_EQ(o.range.kind, range_kind::unsatisfiable);
        } else {
            EXPECT_EQ(o.range.kind, range_kind::none);
        }
    }
}

} // namespace
