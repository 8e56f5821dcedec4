// Errors in the C++ API.
//
// Every failure is an NNG error code (NNG_E*), carried as a std::error_code
// in nnghttp::nng_category(): its message is nng_strerror's text, and the
// common ones compare equal to their std::errc counterparts
// (errc::timedout == std::errc::timed_out, and so on).
//
// Where errors surface:
//  * setting things up (constructors, start(), TLS configuration) throws
//    nnghttp::error, a std::system_error holding the code;
//  * asynchronous operations report a std::error_code: aio::result(), or,
//    for co_await, an exception by default and a result<T> with no_throw().
#pragma once

#include <nng/nng.h>
#include <nnghttp/config.hpp>

#include <system_error>
#include <type_traits>

namespace nnghttp {

enum class errc : int {
    interrupted = NNG_EINTR,
    no_memory = NNG_ENOMEM,
    invalid = NNG_EINVAL,
    busy = NNG_EBUSY,
    timed_out = NNG_ETIMEDOUT,
    connection_refused = NNG_ECONNREFUSED,
    closed = NNG_ECLOSED,
    again = NNG_EAGAIN,
    not_supported = NNG_ENOTSUP,
    address_in_use = NNG_EADDRINUSE,
    bad_state = NNG_ESTATE,
    no_entry = NNG_ENOENT,
    protocol = NNG_EPROTO,
    unreachable = NNG_EUNREACHABLE,
    address_invalid = NNG_EADDRINVAL,
    permission = NNG_EPERM,
    message_size = NNG_EMSGSIZE,
    connection_aborted = NNG_ECONNABORTED,
    connection_reset = NNG_ECONNRESET,
    canceled = NNG_ECANCELED,
    no_files = NNG_ENOFILES,
    no_space = NNG_ENOSPC,
    exists = NNG_EEXIST,
    read_only = NNG_EREADONLY,
    write_only = NNG_EWRITEONLY,
    crypto = NNG_ECRYPTO,
    peer_auth = NNG_EPEERAUTH,
    no_argument = NNG_ENOARG,
    ambiguous = NNG_EAMBIGUOUS,
    bad_type = NNG_EBADTYPE,
    connection_shutdown = NNG_ECONNSHUT,
    internal = NNG_EINTERNAL,
};

// The category of NNG error codes (name "nng").
NNGHTTP_API const std::error_category& nng_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), nng_category()};
}

// An NNG return value as an error_code (0: no error).
inline std::error_code to_error_code(int nng_rv) noexcept {
    return nng_rv == 0 ? std::error_code() : std::error_code(nng_rv, nng_category());
}

// What the C++ API throws.  code() is in nng_category().
class NNGHTTP_API error : public std::system_error {
  public:
    explicit error(std::error_code ec) : std::system_error(ec) {}
    error(std::error_code ec, const char* what) : std::system_error(ec, what) {}
    error(errc e, const char* what) : std::system_error(make_error_code(e), what) {}
    ~error() override;
};

// Throws nnghttp::error for a non-zero NNG return value; `what` names the
// operation ("server::start").
NNGHTTP_API void check(int nng_rv, const char* what);

} // namespace nnghttp

template <> struct std::is_error_code_enum<nnghttp::errc> : std::true_type {};
