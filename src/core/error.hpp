// Error codes.  Inside the core an error is an int holding an NNG_E* code,
// so the C API passes it through unchanged.  Operating-system errors are
// mapped to the nearest NNG code by from_errno(); codes with no NNG
// equivalent become NNG_ESYSERR + errno, as NNG does.
#pragma once

#include <nng/nng.h>

namespace nnghttp::detail {

// NNG's text for an error value: the same strings NNG 1.5.2 returns.  For
// NNG_ESYSERR+n it is strerror(n); unknown values get "Unknown error #n".
// The pointer stays valid for the life of the process (thread-safe).
const char* error_text(int nng_err) noexcept;

// Maps an errno value to an NNG_E* code, as NNG's POSIX platform does.
int from_errno(int err) noexcept;

} // namespace nnghttp::detail
