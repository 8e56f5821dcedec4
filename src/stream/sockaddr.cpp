#include "stream/sockaddr.hpp"

#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace nnghttp::detail {

int to_nng_sockaddr(const sockaddr_storage& ss, socklen_t len, nng_sockaddr& out) noexcept {
    std::memset(&out, 0, sizeof out);
    switch (ss.ss_family) {
    case AF_INET: {
        const auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
        out.s_in.sa_family = NNG_AF_INET;
        out.s_in.sa_port = sin.sin_port;
        out.s_in.sa_addr = sin.sin_addr.s_addr;
        return 0;
    }
    case AF_INET6: {
        const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
        out.s_in6.sa_family = NNG_AF_INET6;
        out.s_in6.sa_port = sin6.sin6_port;
        std::memcpy(out.s_in6.sa_addr, &sin6.sin6_addr, 16);
        out.s_in6.sa_scope = sin6.sin6_scope_id;
        return 0;
    }
    case AF_UNIX: {
        const auto& sun = reinterpret_cast<const sockaddr_un&>(ss);
        std::size_t plen = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
        plen = std::min(plen, sizeof sun.sun_path);
        if (plen > 0 && sun.sun_path[0] == '\0') {
            // Linux abstract name: no leading NUL, explicit length.
            std::size_t n = std::min<std::size_t>(plen - 1, sizeof out.s_abstract.sa_name);
            out.s_abstract.sa_family = NNG_AF_ABSTRACT;
            out.s_abstract.sa_len = static_cast<uint16_t>(n);
            std::memcpy(out.s_abstract.sa_name, sun.sun_path + 1, n);
            return 0;
        }
        out.s_ipc.sa_family = NNG_AF_IPC;
        std::size_t n = strnlen(sun.sun_path, plen);
        n = std::min(n, sizeof out.s_ipc.sa_path - 1);
        std::memcpy(out.s_ipc.sa_path, sun.sun_path, n);
        return 0;
    }
    default:
        return NNG_EADDRINVAL;
    }
}

socklen_t from_nng_sockaddr(const nng_sockaddr& sa, sockaddr_storage& ss) noexcept {
    std::memset(&ss, 0, sizeof ss);
    switch (sa.s_family) {
    case NNG_AF_INET: {
        auto& sin = reinterpret_cast<sockaddr_in&>(ss);
        sin.sin_family = AF_INET;
        sin.sin_port = sa.s_in.sa_port;
        sin.sin_addr.s_addr = sa.s_in.sa_addr;
        return sizeof sin;
    }
    case NNG_AF_INET6: {
        auto& sin6 = reinterpret_cast<sockaddr_in6&>(ss);
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = sa.s_in6.sa_port;
        std::memcpy(&sin6.sin6_addr, sa.s_in6.sa_addr, 16);
        sin6.sin6_scope_id = sa.s_in6.sa_scope;
        return sizeof sin6;
    }
    case NNG_AF_IPC: {
        auto& sun = reinterpret_cast<sockaddr_un&>(ss);
        std::size_t n = strnlen(sa.s_ipc.sa_path, sizeof sa.s_ipc.sa_path);
        if (n >= sizeof sun.sun_path) {
            return 0;
        }
        sun.sun_family = AF_UNIX;
        std::memcpy(sun.sun_path, sa.s_ipc.sa_path, n);
        return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n + 1);
    }
    case NNG_AF_ABSTRACT: {
        auto& sun = reinterpret_cast<sockaddr_un&>(ss);
        std::size_t n = std::min<std::size_t>(sa.s_abstract.sa_len, sizeof sun.sun_path - 1);
        sun.sun_family = AF_UNIX;
        if (n == 0) {
            // An empty name: the kernel picks a unique one when binding
            // (Linux "autobind", requested by an address of just the family).
            return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path));
        }
        std::memcpy(sun.sun_path + 1, sa.s_abstract.sa_name, n);
        return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
    }
    default:
        return 0;
    }
}

} // namespace nnghttp::detail
