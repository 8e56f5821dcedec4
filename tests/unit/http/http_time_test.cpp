// HTTP dates: formatting, the per-second cache, parsing the three forms.
#include "http/http_time.hpp"

#include <array>
#include <cstdint>
#include <ctime>
#include <gtest/gtest.h>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace nnghttp::detail::http;

constexpr std::time_t rfc_example = 784111777; // Sun, 06 Nov 1994 08:49:37 GMT
constexpr std::time_t now_2026 = 1779717600;   // 2026-05-25T14:00:00Z

std::string fmt(std::time_t t) {
    std::array<char, http_date_size> buf;
    return std::string(format_http_date(t, buf));
}

// The reference: glibc's gmtime_r and strftime (C locale names).
std::string strf(std::time_t t, const char* f) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof(buf), f, &tm);
    return std::string(buf, n);
}

TEST(HttpTime, RfcExamples) {
    EXPECT_EQ(fmt(rfc_example), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), rfc_example);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), rfc_example);
    EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), rfc_example);
    EXPECT_EQ(parse_http_date("Sun Nov 06 08:49:37 1994"), rfc_example);
}

TEST(HttpTime, FormatFixedPoints) {
    struct row {
        std::time_t t;
        const char* s;
    } rows[] = {
        {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
        {-1, "Wed, 31 Dec 1969 23:59:59 GMT"},
        {86399, "Thu, 01 Jan 1970 23:59:59 GMT"},
        {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
        {2147483647, "Tue, 19 Jan 2038 03:14:07 GMT"},
        {2147483648, "Tue, 19 Jan 2038 03:14:08 GMT"},
        {4102444800, "Fri, 01 Jan 2100 00:00:00 GMT"},
        {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"},
        {-62135596800, "Mon, 01 Jan 0001 00:00:00 GMT"},
        // Clamped to the four-digit years.
        {253402300800, "Fri, 31 Dec 9999 23:59:59 GMT"},
        {INT64_MAX, "Fri, 31 Dec 9999 23:59:59 GMT"},
        {-62135596801, "Mon, 01 Jan 0001 00:00:00 GMT"},
        {INT64_MIN, "Mon, 01 Jan 0001 00:00:00 GMT"},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.t);
        EXPECT_EQ(fmt(r.t), r.s);
    }
}

TEST(HttpTime, FormatMatchesStrftimeAndRoundTrips) {
    std::mt19937_64 rng(12345);
    // Years 1000-9999, where strftime's %Y has four digits.
    std::uniform_int_distribution<std::int64_t> any(-30610224000, 253402300799);
    for (int i = 0; i < 100000; i++) {
        auto t = static_cast<std::time_t>(any(rng));
        std::string s = fmt(t);
        ASSERT_EQ(s, strf(t, "%a, %d %b %Y %H:%M:%S GMT")) << t;
        ASSERT_EQ(parse_http_date(s), t) << s;
    }
}

TEST(HttpTime, RoundTripAllFormsNearNow) {
    std::mt19937_64 rng(777);
    // Within 49 years of now, so RFC 850's two-digit year is unambiguous.
    const std::int64_t span = 49LL * 365 * 86400;
    std::uniform_int_distribution<std::int64_t> near(now_2026 - span, now_2026 + span);
    for (int i = 0; i < 20000; i++) {
        auto t = static_cast<std::time_t>(near(rng));
        std::string imf = fmt(t);
        std::string rfc850 = strf(t, "%A, %d-%b-%y %H:%M:%S GMT");
        std::string asc = strf(t, "%a %b %e %H:%M:%S %Y");
        ASSERT_EQ(parse_http_date(imf, now_2026), t) << imf;
        ASSERT_EQ(parse_http_date(rfc850, now_2026), t) << rfc850;
        ASSERT_EQ(parse_http_date(asc, now_2026), t) << asc;
    }
}

TEST(HttpTime, Rfc850TwoDigitYear) {
    struct row {
        const char* s;
        int year; // expected year, now being 2026
    } rows[] = {
        {"Sunday, 06-Nov-94 08:49:37 GMT", 1994},
        {"Thursday, 01-Jan-70 00:00:00 GMT", 2070}, // 44 years ahead: kept
        {"Saturday, 01-Jan-00 00:00:00 GMT", 2000},
        {"Monday, 01-Jan-35 00:00:00 GMT", 2035},
        {"Saturday, 01-Jan-76 00:00:00 GMT", 2076}, // exactly 50 years ahead
        {"Saturday, 01-Jan-77 00:00:00 GMT", 1977}, // 51: the past
        {"Friday, 01-Jan-26 00:00:00 GMT", 2026},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.s);
        auto t = parse_http_date(r.s, now_2026);
        ASSERT_TRUE(t.has_value());
        EXPECT_EQ(strf(*t, "%Y"), std::to_string(r.year));
    }
    // Near the start of a century.
    const std::time_t now_2101 = 4133980800; // 2101-01-01
    EXPECT_EQ(strf(*parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now_2101), "%Y"), "2094");
    EXPECT_EQ(strf(*parse_http_date("Sunday, 06-Nov-52 08:49:37 GMT", now_2101), "%Y"), "2052");
    EXPECT_EQ(strf(*parse_http_date("Sunday, 06-Nov-51 08:49:37 GMT", now_2101), "%Y"), "2151");
}

TEST(HttpTime, CalendarEdges) {
    EXPECT_EQ(parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400);
    EXPECT_TRUE(parse_http_date("Thu, 29 Feb 2024 12:00:00 GMT").has_value());
    EXPECT_FALSE(parse_http_date("Thu, 29 Feb 1900 12:00:00 GMT").has_value());
    EXPECT_FALSE(parse_http_date("Sun, 29 Feb 2023 12:00:00 GMT").has_value());
    EXPECT_FALSE(parse_http_date("Sun, 31 Apr 2023 12:00:00 GMT").has_value());
    EXPECT_FALSE(parse_http_date("Sun, 00 Apr 2023 12:00:00 GMT").has_value());
    EXPECT_FALSE(parse_http_date("Sun, 32 Jan 2023 12:00:00 GMT").has_value());
    EXPECT_TRUE(parse_http_date("Sun, 31 Dec 2023 12:00:00 GMT").has_value());
    // A leap second is the next minute's first second.
    EXPECT_EQ(parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT"),
              parse_http_date("Sun, 01 Jan 2017 00:00:00 GMT"));
    EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    EXPECT_EQ(parse_http_date("Wed, 31 Dec 1969 23:59:59 GMT"), -1);
    EXPECT_EQ(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), 253402300799);
    EXPECT_EQ(parse_http_date("Mon, 01 Jan 0001 00:00:00 GMT"), -62135596800);
    // The day name is not checked against the date (1994-11-06 was a Sunday).
    EXPECT_EQ(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"), rfc_example);
}

TEST(HttpTime, Malformed) {
    const char* bad[] = {
        "",
        "garbage",
        "Sun, 06 Nov 1994 08:49:37 GMT ",   // trailing space
        " Sun, 06 Nov 1994 08:49:37 GMT",   // leading space
        "Sun, 06 Nov 1994 08:49:37 UTC",    // zone
        "Sun, 06 Nov 1994 08:49:37 gmt",    // case-sensitive
        "sun, 06 Nov 1994 08:49:37 GMT",    // day name case
        "Sun, 06 nov 1994 08:49:37 GMT",    // month case
        "Sun, 06 NOV 1994 08:49:37 GMT",    //
        "Sun, 6 Nov 1994 08:49:37 GMT",     // one-digit day
        "Sun,  6 Nov 1994 08:49:37 GMT",    // padded day
        "Sun, 06 Nov 94 08:49:37 GMT",      // two-digit year
        "Sun, 06 Nov 1994 8:49:37 GMT",     // one-digit hour
        "Sun, 06 Nov 1994 24:00:00 GMT",    // hour
        "Sun, 06 Nov 1994 08:60:00 GMT",    // minute
        "Sun, 06 Nov 1994 08:49:61 GMT",    // second
        "Sun, 06 Nov 1994 08-49-37 GMT",    // separators
        "Sun 06 Nov 1994 08:49:37 GMT",     // missing comma
        "Sun, 06-Nov-1994 08:49:37 GMT",    // mixed forms
        "Sunday, 06 Nov 1994 08:49:37 GMT", // long name in IMF
        "Sun, 06 Now 1994 08:49:37 GMT",    // month
        "Sux, 06 Nov 1994 08:49:37 GMT",    // day name
        "Sun, 0x Nov 1994 08:49:37 GMT",    // digits
        "Sun, 06 Nov 19a4 08:49:37 GMT",    //
        "Sun, 06 Nov +994 08:49:37 GMT",    //
        "Sun, 06 Nov 1994 08:49:37 GMT\r",  //
        "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT ", // RFC 850
        "Sunday, 06-Nov-94 08:49:37 UTC",
        "Sunday, 6-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sundays, 06-Nov-94 08:49:37 GMT",
        "sunday, 06-Nov-94 08:49:37 GMT",
        "Sunday,06-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37",
        "Sunday, 31-Nov-94 08:49:37 GMT",
        ", 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994 ", // asctime
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov   6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sun Nov 31 08:49:37 1994",
        "Sun Nov  0 08:49:37 1994",
        "Sun Nov x6 08:49:37 1994",
        "Sun Nov  6 08:49:37 19944",
        "Sun  Nov 6 08:49:37 1994",
        "Sunday Nov  6 08:49:37 1994",
        "Sun Nov  6 25:49:37 1994",
        "784111777",
    };
    for (const char* s : bad) {
        SCOPED_TRACE(s);
        EXPECT_FALSE(parse_http_date(s).has_value());
        EXPECT_FALSE(parse_http_date(s, now_2026).has_value());
    }
    // Embedded NUL.
    EXPECT_FALSE(
        parse_http_date(std::string_view("Sun, 06 Nov 1994 08:49:37 GM\0", 29)).has_value());
}

TEST(HttpTime, NowIsCachedPerSecond) {
    std::string_view a = http_date_now(rfc_example);
    EXPECT_EQ(a, "Sun, 06 Nov 1994 08:49:37 GMT");
    std::string_view b = http_date_now(rfc_example);
    EXPECT_EQ(a.data(), b.data()); // same thread-local buffer
    EXPECT_EQ(http_date_now(rfc_example + 1), "Sun, 06 Nov 1994 08:49:38 GMT");
    EXPECT_EQ(http_date_now(0), "Thu, 01 Jan 1970 00:00:00 GMT");

    std::time_t before = std::time(nullptr);
    std::string now(http_date_now());
    std::time_t after = std::time(nullptr);
    EXPECT_TRUE(now == fmt(before) || now == fmt(after)) << now;
    auto parsed = parse_http_date(now);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_GE(*parsed, before);
    EXPECT_LE(*parsed, after);
}

TEST(HttpTime, NowFromManyThreads) {
    std::vector<std::thread> threads;
    std::vector<int> bad(4, 0);
    for (int i = 0; i < 4; i++) {
        threads.emplace_back([i, &bad] {
            for (int k = 0; k < 5000; k++) {
                std::time_t t = rfc_example + (k / 100) * (i + 1);
                if (http_date_now(t) != fmt(t)) {
                    bad[static_cast<std::size_t>(i)]++;
                }
                std::string_view real = http_date_now();
                if (real.size() != http_date_size || !parse_http_date(real)) {
                    bad[static_cast<std::size_t>(i)]++;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (int b : bad) {
        EXPECT_EQ(b, 0);
    }
}

} // namespace
