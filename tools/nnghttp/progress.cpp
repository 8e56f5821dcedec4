#include "progress.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/core.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace tool {
namespace {

// The rate is measured over this much recent history.
constexpr std::chrono::seconds rate_window{3};
constexpr unsigned default_columns = 80;
constexpr std::size_t max_bar = 40;
constexpr std::size_t min_bar = 10;

unsigned terminal_columns(int fd) {
    winsize ws{};
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        return ws.ws_col;
    }
    return default_columns;
}

// The whole string, retrying short writes; a terminal that went away is
// not worth an error.
void write_text(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n <= 0) {
            return;
        }
        off += static_cast<std::size_t>(n);
    }
}

double seconds_between(progress::clock::time_point a, progress::clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

} // namespace

std::string size_text(double bytes) {
    static const char* const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        return fmt::format("{} B", static_cast<std::uint64_t>(bytes));
    }
    std::size_t u = 0;
    bytes /= 1024;
    while (bytes >= 1024 && u + 1 < std::size(units)) {
        bytes /= 1024;
        ++u;
    }
    return fmt::format("{:.1f} {}", bytes, units[u]);
}

std::string duration_text(double seconds) {
    auto s = static_cast<std::uint64_t>(std::max(0.0, std::round(seconds)));
    if (s >= 3600) {
        return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    }
    return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string progress_line(std::uint64_t done, std::optional<std::uint64_t> total, double rate,
                          double seconds, bool final, unsigned columns) {
    std::string rate_text = size_text(rate) + "/s";
    std::string when;
    if (final) {
        when = "in " + duration_text(seconds);
    } else if (total && rate > 0) {
        when = "ETA " + duration_text(seconds);
    } else if (total) {
        when = "ETA --:--";
    }
    if (!total) {
        std::string line = fmt::format("{}  {}", size_text(static_cast<double>(done)), rate_text);
        return final ? line + "  " + when : line;
    }
    double frac = *total > 0 ? std::min(1.0, static_cast<double>(done) / *total) : 1.0;
    // done is right-aligned to the widest size_text ("1023.9 KiB"), so that
    // the bar stays put as the figures grow.
    std::string head =
        fmt::format("{:>10} / {} {:3}%", size_text(static_cast<double>(done)),
                    size_text(static_cast<double>(*total)), static_cast<unsigned>(frac * 100));
    std::string tail = fmt::format("  {}  {}", rate_text, when);
    // One column stays free: a line that fills the terminal would wrap.
    std::size_t room =
        columns > head.size() + tail.size() + 4 ? columns - 1 - head.size() - tail.size() - 3 : 0;
    std::size_t bar = std::min(room, max_bar);
    if (bar < min_bar) {
        return head + tail;
    }
    auto filled = static_cast<std::size_t>(frac * static_cast<double>(bar));
    std::string b(filled, '=');
    if (filled < bar) {
        b += '>';
        b.append(bar - filled - 1, ' ');
    }
    return head + " [" + b + "]" + tail;
}

progress::progress(int fd, std::optional<std::uint64_t> total)
    : fd_(fd), total_(total), start_(clock::now()), last_draw_(start_) {
    samples_.emplace_back(start_, 0);
}

progress::~progress() {
    if (drawn_ && !finished_) {
        write_text(fd_, "\n");
    }
}

void progress::update(std::uint64_t done) {
    done_ = done;
    auto now = clock::now();
    if (now - last_draw_ >= redraw_interval) {
        draw(now, false);
    }
}

void progress::finish() {
    if (!finished_) {
        draw(clock::now(), true);
        write_text(fd_, "\n");
        finished_ = true;
    }
}

double progress::recent_rate(clock::time_point now) {
    samples_.emplace_back(now, done_);
    // Keep one sample at least rate_window old, so the window is full.
    while (samples_.size() > 2 && now - samples_[1].first >= rate_window) {
        samples_.pop_front();
    }
    double secs = seconds_between(samples_.front().first, now);
    return secs > 0 ? static_cast<double>(done_ - samples_.front().second) / secs : 0;
}

void progress::draw(clock::time_point now, bool final) {
    double rate;
    double seconds;
    if (final) {
        seconds = seconds_between(start_, now);
        rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0;
    } else {
        rate = recent_rate(now);
        std::uint64_t left = total_ && *total_ > done_ ? *total_ - done_ : 0;
        seconds = rate > 0 ? static_cast<double>(left) / rate : 0;
    }
    std::string line = progress_line(done_, total_, rate, seconds, final, terminal_columns(fd_));
    std::size_t len = line.size();
    if (len < width_drawn_) {
        line.append(width_drawn_ - len, ' '); // blank what a longer line left
    }
    width_drawn_ = std::max(width_drawn_, len);
    write_text(fd_, "\r" + line);
    last_draw_ = now;
    drawn_ = true;
}

} // namespace tool
