#include "http/http_time.hpp"

#include <array>
#include <chrono>
#include <cstdint>

namespace nnghttp::detail::http {

namespace {

namespace chr = std::chrono;

constexpr std::array<std::string_view, 7> short_days = {"Sun", "Mon", "Tue", "Wed",
                                                        "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> long_days = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

constexpr std::int64_t secs_per_day = 86400;

// Seconds since the epoch of 0001-01-01T00:00:00 and 9999-12-31T23:59:59.
constexpr std::int64_t min_time =
    chr::sys_days(chr::year(1) / 1 / 1).time_since_epoch().count() * secs_per_day;
constexpr std::int64_t max_time =
    chr::sys_days(chr::year(9999) / 12 / 31).time_since_epoch().count() * secs_per_day +
    secs_per_day - 1;

std::int64_t clamp_time(std::time_t t) noexcept {
    std::int64_t s = static_cast<std::int64_t>(t);
    return s < min_time ? min_time : s > max_time ? max_time : s;
}

// Splits clamped seconds into days since the epoch and seconds into the day.
chr::sys_days split(std::int64_t s, std::int64_t& rem) noexcept {
    std::int64_t days = s / secs_per_day;
    rem = s % secs_per_day;
    if (rem < 0) {
        rem += secs_per_day;
        days--;
    }
    return chr::sys_days{chr::days(days)};
}

void put2(char* p, unsigned v) noexcept {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
}

void put_name(char* p, std::string_view name) noexcept {
    for (char c : name) {
        *p++ = c;
    }
}

// Reads exactly n digits.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& v) noexcept {
    if (pos + n > s.size()) {
        return false;
    }
    v = 0;
    for (std::size_t i = pos; i < pos + n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    return true;
}

bool one_of(std::string_view s, const auto& names) noexcept {
    for (std::string_view n : names) {
        if (s == n) {
            return true;
        }
    }
    return false;
}

int month_of(std::string_view s) noexcept {
    for (std::size_t i = 0; i < months.size(); i++) {
        if (s == months[i]) {
            return static_cast<int>(i) + 1;
        }
    }
    return 0;
}

// "HH:MM:SS" at pos.
bool time_of_day(std::string_view s, std::size_t pos, int& h, int& m, int& sec) noexcept {
    return pos + 8 <= s.size() && digits(s, pos, 2, h) && s[pos + 2] == ':' &&
           digits(s, pos + 3, 2, m) && s[pos + 5] == ':' && digits(s, pos + 6, 2, sec) && h <= 23 &&
           m <= 59 && sec <= 60;
}

std::optional<std::time_t> to_time(int year, int month, int day, int h, int m, int sec) {
    chr::year_month_day ymd{chr::year(year), chr::month(static_cast<unsigned>(month)),
                            chr::day(static_cast<unsigned>(day))};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    std::int64_t days = chr::sys_days(ymd).time_since_epoch().count();
    return static_cast<std::time_t>(days * secs_per_day + h * 3600 + m * 60 + sec);
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<std::time_t> parse_imf(std::string_view s) {
    int day, year, h, m, sec;
    if (s.size() != 29 || !one_of(s.substr(0, 3), short_days) || s.substr(3, 2) != ", " ||
        !digits(s, 5, 2, day) || s[7] != ' ' || s[11] != ' ' || !digits(s, 12, 4, year) ||
        s[16] != ' ' || !time_of_day(s, 17, h, m, sec) || s.substr(25) != " GMT") {
        return std::nullopt;
    }
    int month = month_of(s.substr(8, 3));
    if (month == 0) {
        return std::nullopt;
    }
    return to_time(year, month, day, h, m, sec);
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<std::time_t> parse_rfc850(std::string_view s, std::time_t now) {
    std::size_t comma = s.find(',');
    if (comma == std::string_view::npos || !one_of(s.substr(0, comma), long_days)) {
        return std::nullopt;
    }
    std::string_view r = s.substr(comma);
    int day, yy, h, m, sec;
    if (r.size() != 24 || r[1] != ' ' || !digits(r, 2, 2, day) || r[4] != '-' || r[8] != '-' ||
        !digits(r, 9, 2, yy) || r[11] != ' ' || !time_of_day(r, 12, h, m, sec) ||
        r.substr(20) != " GMT") {
        return std::nullopt;
    }
    int month = month_of(r.substr(5, 3));
    if (month == 0) {
        return std::nullopt;
    }
    std::int64_t rem;
    int now_year = static_cast<int>(chr::year_month_day(split(clamp_time(now), rem)).year());
    int year = now_year - now_year % 100 + yy;
    if (year > now_year + 50) {
        year -= 100;
    }
    return to_time(year, month, day, h, m, sec);
}

// "Sun Nov  6 08:49:37 1994"
std::optional<std::time_t> parse_asctime(std::string_view s) {
    int day, year, h, m, sec;
    if (s.size() != 24 || !one_of(s.substr(0, 3), short_days) || s[3] != ' ' || s[7] != ' ') {
        return std::nullopt;
    }
    if (s[8] == ' ') {
        if (!digits(s, 9, 1, day)) {
            return std::nullopt;
        }
    } else if (!digits(s, 8, 2, day)) {
        return std::nullopt;
    }
    if (s[10] != ' ' || !time_of_day(s, 11, h, m, sec) || s[19] != ' ' || !digits(s, 20, 4, year)) {
        return std::nullopt;
    }
    int month = month_of(s.substr(4, 3));
    if (month == 0) {
        return std::nullopt;
    }
    return to_time(year, month, day, h, m, sec);
}

} // namespace

std::string_view format_http_date(std::time_t t, std::span<char, http_date_size> out) noexcept {
    std::int64_t rem;
    chr::sys_days sd = split(clamp_time(t), rem);
    chr::year_month_day ymd(sd);
    unsigned wd = chr::weekday(sd).c_encoding(); // 0 = Sunday
    unsigned year = static_cast<unsigned>(static_cast<int>(ymd.year()));
    char* p = out.data();
    put_name(p, short_days[wd]);
    p[3] = ',';
    p[4] = ' ';
    put2(p + 5, static_cast<unsigned>(ymd.day()));
    p[7] = ' ';
    put_name(p + 8, months[static_cast<unsigned>(ymd.month()) - 1]);
    p[11] = ' ';
    put2(p + 12, year / 100);
    put2(p + 14, year % 100);
    p[16] = ' ';
    put2(p + 17, static_cast<unsigned>(rem / 3600));
    p[19] = ':';
    put2(p + 20, static_cast<unsigned>(rem / 60 % 60));
    p[22] = ':';
    put2(p + 23, static_cast<unsigned>(rem % 60));
    put_name(p + 25, " GMT");
    return {out.data(), out.size()};
}

std::string_view http_date_now(std::time_t now) noexcept {
    struct cache {
        std::time_t second = 0;
        bool valid = false;
        std::array<char, http_date_size> buf{};
    };
    thread_local cache c;
    if (!c.valid || c.second != now) {
        format_http_date(now, c.buf);
        c.second = now;
        c.valid = true;
    }
    return {c.buf.data(), c.buf.size()};
}

std::string_view http_date_now() noexcept {
    return http_date_now(std::time(nullptr));
}

std::optional<std::time_t> parse_http_date(std::string_view s, std::time_t now) noexcept {
    if (s.size() == 29) {
        return parse_imf(s);
    }
    if (s.size() == 24 && s[3] == ' ') {
        return parse_asctime(s);
    }
    return parse_rfc850(s, now);
}

std::optional<std::time_t> parse_http_date(std::string_view s) noexcept {
    return parse_http_date(s, std::time(nullptr));
}

} // namespace nnghttp::detail::http
