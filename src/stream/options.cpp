#include "stream/options.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace nnghttp::detail {

int copy_out_bytes(const void* src, std::size_t n, const opt_out& out) noexcept {
    std::size_t room = *out.size;
    std::memcpy(out.buf, src, std::min(room, n));
    *out.size = n;
    return room < n ? NNG_EINVAL : 0;
}

int copy_out_string(std::string_view s, const opt_out& out) noexcept {
    switch (out.type) {
    case opt_type::string: {
        // Allocated like nng_strdup, so that nng_strfree releases it.
        auto* copy = static_cast<char*>(std::malloc(s.size() + 1));
        if (copy == nullptr) {
            return NNG_ENOMEM;
        }
        std::memcpy(copy, s.data(), s.size());
        copy[s.size()] = '\0';
        *static_cast<char**>(out.buf) = copy;
        return 0;
    }
    case opt_type::opaque: {
        std::size_t room = *out.size;
        std::size_t n = s.size() + 1;
        std::size_t c = std::min(room, n);
        if (c > 0) {
            std::memcpy(out.buf, s.data(), std::min(c, s.size()));
            if (c == n) {
                static_cast<char*>(out.buf)[s.size()] = '\0';
            }
        }
        *out.size = n;
        return room < n ? NNG_EINVAL : 0;
    }
    default:
        return NNG_EBADTYPE;
    }
}

int copy_in_int(int& v, const opt_in& in, int lo, int hi) {
    int x = 0;
    if (int rv = copy_in(x, in); rv != 0) {
        return rv;
    }
    if (x < lo || x > hi) {
        return NNG_EINVAL;
    }
    v = x;
    return 0;
}

int copy_in_ms(nng_duration& v, const opt_in& in) {
    nng_duration d = 0;
    if (int rv = copy_in(d, in, opt_type::ms); rv != 0) {
        return rv;
    }
    if (d < -1) {
        return NNG_EINVAL;
    }
    v = d;
    return 0;
}

int copy_in_string(std::string_view& v, const opt_in& in, std::size_t max_len) {
    const auto* p = static_cast<const char*>(in.buf);
    std::size_t n = 0;
    switch (in.type) {
    case opt_type::string:
        n = p == nullptr ? 0 : std::strlen(p);
        break;
    case opt_type::opaque:
        n = p == nullptr ? 0 : strnlen(p, in.size);
        if (n >= in.size) {
            return NNG_EINVAL; // no terminating NUL
        }
        break;
    default:
        return NNG_EBADTYPE;
    }
    if (n >= max_len) {
        return NNG_EINVAL;
    }
    v = std::string_view(p == nullptr ? "" : p, n);
    return 0;
}

} // namespace nnghttp::detail
