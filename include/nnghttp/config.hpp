// nnghttp: the C++ API.  Common definitions every other header uses.
//
// The C++ API sits on the same core as the C API (nng/nng.h and
// nng/supplemental/...): each C++ object owns exactly one C handle, and
// native() / the adopt constructors convert between the two, so a program
// can mix both styles freely.
#pragma once

#define NNGHTTP_VERSION_MAJOR 0
#define NNGHTTP_VERSION_MINOR 1
#define NNGHTTP_VERSION_PATCH 0

#if defined(__GNUC__) || defined(__clang__)
#define NNGHTTP_API __attribute__((visibility("default")))
#else
#define NNGHTTP_API
#endif

namespace nnghttp {

// Tag for constructors that take over a C handle: the C++ object owns it
// from then on and frees it when destroyed.
struct adopt_t {
    explicit adopt_t() = default;
};
inline constexpr adopt_t adopt{};

// Tag for constructors that only view a C handle owned by someone else
// (e.g. the request a server hands to a handler): nothing is freed.
struct borrow_t {
    explicit borrow_t() = default;
};
inline constexpr borrow_t borrow{};

} // namespace nnghttp
