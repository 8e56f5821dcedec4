// Conversions between the opaque C handles and the C++ objects behind them.
// A C handle *is* the C++ object: the pointer is converted, nothing wraps.
#pragma once

#include <nng/nng.h>

#include "core/aio.hpp"

#include <new>

namespace nnghttp::detail::capi {

inline aio* from_c(nng_aio* a) noexcept { return reinterpret_cast<aio*>(a); }
inline nng_aio* to_c(aio* a) noexcept { return reinterpret_cast<nng_aio*>(a); }

// Runs f, turning a C++ exception into an NNG error code: exceptions never
// cross extern "C".
template <typename F> int guard(F&& f) noexcept {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        return NNG_ENOMEM;
    } catch (...) {
        return NNG_EINTERNAL;
    }
}

} // namespace nnghttp::detail::capi
