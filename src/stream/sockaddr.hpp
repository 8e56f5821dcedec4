// Conversions between POSIX socket addresses and nng_sockaddr.
#pragma once

#include <nng/nng.h>

#include <sys/socket.h>

namespace nnghttp::detail {

// NNG_EADDRINVAL for a family nng_sockaddr cannot carry.
int to_nng_sockaddr(const sockaddr_storage& ss, socklen_t len, nng_sockaddr& out) noexcept;
// Returns the length used in ss, or 0 for an unsupported family.
socklen_t from_nng_sockaddr(const nng_sockaddr& sa, sockaddr_storage& ss) noexcept;

} // namespace nnghttp::detail
