// TCP transport entry points (used by make_dialer / make_listener).
#pragma once

#include "stream/stream.hpp"

#include <sys/socket.h>

namespace nnghttp::detail {

int make_tcp_dialer(const nng_url& url, stream_dialer*& out);
int make_tcp_listener(const nng_url& url, stream_listener*& out);

// Resolves host:port as NNG does (first IPv4/IPv6 result of getaddrinfo in
// the given family; host == nullptr with passive gives the wildcard).
int resolve_tcp(const char* host, const char* port, int family, bool passive,
                sockaddr_storage& ss, socklen_t& len);

} // namespace nnghttp::detail
