// A one-line download progress display for a terminal, redrawn in place
// with \r: bytes so far, and when the total is known a percentage, a bar
// and the time left; the rate in every case.  The caller decides whether a
// terminal is there (isatty); this class only draws.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace tool {

class progress {
  public:
    using clock = std::chrono::steady_clock;

    // Draws on fd; total: the body's length, when the head gave it.
    progress(int fd, std::optional<std::uint64_t> total);
    // Ends the line if finish() was not called (an error cut the transfer
    // short), so that what is printed next starts on a line of its own.
    ~progress();
    progress(const progress&) = delete;
    progress& operator=(const progress&) = delete;

    // done: the bytes received so far.  Redraws at most every
    // redraw_interval; cheap otherwise.
    void update(std::uint64_t done);
    // Draws the final state (average rate, time taken) and a newline.
    void finish();

    static constexpr std::chrono::milliseconds redraw_interval{100};

  private:
    void draw(clock::time_point now, bool final);
    double recent_rate(clock::time_point now);

    int fd_;
    std::optional<std::uint64_t> total_;
    std::uint64_t done_ = 0;
    clock::time_point start_;
    clock::time_point last_draw_;
    bool drawn_ = false;
    bool finished_ = false;
    std::size_t width_drawn_ = 0; // of the longest line so far, to blank it
    // (time, bytes) at recent redraws: the rate is over the last few seconds.
    std::deque<std::pair<clock::time_point, std::uint64_t>> samples_;
};

// "512 B", "1.5 KiB", "12.3 MiB", "2.0 GiB".
std::string size_text(double bytes);
// "0:07", "12:34", "1:02:03".
std::string duration_text(double seconds);
// The progress line (no \r), at most `columns` characters wide: done and,
// when known, total; rate in bytes per second; seconds: the time left
// (or, when final, the time taken).
std::string progress_line(std::uint64_t done, std::optional<std::uint64_t> total, double rate,
                          double seconds, bool final, unsigned columns);

} // namespace tool
