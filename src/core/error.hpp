// Error codes.  Inside C++ an error is a std::error_code in nng_category(),
// whose values are exactly NNG's NNG_E* codes, so translating to the C API
// is the identity.  Operating-system errors are mapped to the nearest NNG
// code by from_errno(); codes with no NNG equivalent become
// NNG_ESYSERR + errno, as NNG does.
#pragma once

#include <nng/nng.h>

#include <system_error>

namespace nnghttp {

// The category whose values are NNG_E* codes (including the NNG_ESYSERR and
// NNG_ETRANERR ranges).  Its message() is nng_strerror()'s text.
const std::error_category& nng_category() noexcept;

inline std::error_code make_nng_error(int nng_err) noexcept {
    return {nng_err, nng_category()};
}

// NNG's text for an error value: the same strings NNG 1.5.2 returns.  For
// NNG_ESYSERR+n it is strerror(n); unknown values get "Unknown error #n".
// The pointer stays valid for the life of the process (thread-safe).
const char* error_text(int nng_err) noexcept;

// Maps an errno value to an NNG_E* code, as NNG's POSIX platform does.
int from_errno(int err) noexcept;

// Maps any std::error_code (system or nng category) to an NNG_E* code;
// 0 for success.
int to_nng(const std::error_code& ec) noexcept;

} // namespace nnghttp
