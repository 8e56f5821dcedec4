// The millisecond clock behind nng_clock() and every timeout.
#pragma once

#include <chrono>
#include <cstdint>

namespace nnghttp::detail {

using time_ms = std::uint64_t; // same as nng_time

inline constexpr time_ms time_never = ~time_ms{0};

// Milliseconds on the monotonic clock; never goes backwards.
inline time_ms clock_ms() noexcept {
    using namespace std::chrono;
    return static_cast<time_ms>(
        duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

} // namespace nnghttp::detail
