// tcp://, tcp4://, tcp6:// dialers and listeners.
//
// Names resolve as NNG resolves them: the first IPv4 or IPv6 address that
// getaddrinfo returns, restricted to the scheme's family; a listener
// resolves synchronously when it is made, a dialer asynchronously (Asio's
// resolver thread) on each dial, so no worker ever blocks on DNS.  An IP
// literal skips the resolver.
#include "stream/tcp.hpp"

#include "core/error.hpp"
#include "core/executor.hpp"
#include "stream/sockaddr.hpp"
#include "stream/socket_endpoint.hpp"

#include <arpa/inet.h>
#include <asio/ip/tcp.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <unistd.h>

namespace nnghttp::detail {

namespace {

int family_of(const char* scheme) {
    if (std::strchr(scheme, '4') != nullptr) {
        return AF_INET;
    }
    if (std::strchr(scheme, '6') != nullptr) {
        return AF_INET6;
    }
    return AF_UNSPEC;
}

// A stream for a connected TCP socket, with the endpoint's options applied.
// A new socket has both options off, and an accepted one inherits the
// listening socket's (Linux copies them on accept): has_nodelay says which
// TCP_NODELAY the socket already has, so that the common case costs no
// system call per connection.  Keep-alive is never set on listening sockets.
socket_stream* make_tcp_stream(int fd, bool nodelay, bool keepalive, bool has_nodelay = false) {
    if (nodelay != has_nodelay) {
        int nd = nodelay ? 1 : 0;
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nd, sizeof nd);
    }
    if (keepalive) {
        int ka = 1;
        (void)::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &ka, sizeof ka);
    }
    return new socket_stream(executor::global().next().context(), fd, socket_stream::kind::tcp);
}

// NNG's reading of a getaddrinfo failure.  One difference: NNG turns the
// codes it does not list into NNG_ESYSERR + code, a meaningless value since
// those codes are negative; an address of the wrong family (tcp6:// with an
// IPv4 literal, EAI_ADDRFAMILY/EAI_FAMILY) is NNG_EADDRINVAL here.
int gai_to_nng(int rv) {
    switch (rv) {
    case EAI_ADDRFAMILY:
    case EAI_FAMILY:
        return NNG_EADDRINVAL;
    case EAI_MEMORY:
        return NNG_ENOMEM;
    case EAI_SYSTEM:
        return from_errno(errno);
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_SERVICE:
        return NNG_EADDRINVAL;
    case EAI_BADFLAGS:
        return NNG_EINVAL;
    case EAI_SOCKTYPE:
        return NNG_ENOTSUP;
    case EAI_AGAIN:
        return NNG_EAGAIN;
    default:
        return NNG_ESYSERR + rv;
    }
}

// A numeric port must be 0..65535.
bool port_out_of_range(const std::string& port) {
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    return *end == '\0' && (p < 0 || p > 0xffff);
}

// Fills ss from a literal address, or returns 0 if host is a name.
socklen_t literal_address(const std::string& host, const std::string& port, int family,
                          sockaddr_storage& ss) {
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p < 0 || p > 0xffff) {
        return 0;
    }
    std::memset(&ss, 0, sizeof ss);
    auto& sin = reinterpret_cast<sockaddr_in&>(ss);
    auto& sin6 = reinterpret_cast<sockaddr_in6&>(ss);
    if (family != AF_INET6 && ::inet_pton(AF_INET, host.c_str(), &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        sin.sin_port = htons(static_cast<uint16_t>(p));
        return sizeof sin;
    }
    if (family != AF_INET && ::inet_pton(AF_INET6, host.c_str(), &sin6.sin6_addr) == 1) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(static_cast<uint16_t>(p));
        return sizeof sin6;
    }
    return 0;
}

} // namespace

int resolve_tcp(const char* host, const char* port, int family, bool passive, sockaddr_storage& ss,
                socklen_t& len) {
    addrinfo hints{};
    hints.ai_flags = AI_ADDRCONFIG | (passive ? AI_PASSIVE : 0);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    if (port != nullptr) {
        char* end = nullptr;
        long p = std::strtol(port, &end, 10);
        if (*end == '\0') {
            hints.ai_flags |= AI_NUMERICSERV;
            if (p < 0 || p > 0xffff) {
                return NNG_EADDRINVAL;
            }
        }
    }
    addrinfo* res = nullptr;
    if (int rv = ::getaddrinfo(host, port, &hints, &res); rv != 0) {
        return gai_to_nng(rv);
    }
    int rv = NNG_EADDRINVAL;
    for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
        if (p->ai_family == AF_INET || p->ai_family == AF_INET6) {
            std::memcpy(&ss, p->ai_addr, p->ai_addrlen);
            len = p->ai_addrlen;
            rv = 0;
            break;
        }
    }
    ::freeaddrinfo(res);
    return rv;
}

// ---- listener ----

namespace {

class tcp_listener final : public socket_listener {
  public:
    tcp_listener(asio::io_context& ctx, const sockaddr_storage& ss, socklen_t len)
        : socket_listener(ctx), addr_(ss), len_(len) {}

  private:
    int open_socket() override {
        int fd = open_nonblocking_socket(addr_.ss_family);
        if (fd < 0) {
            return fd;
        }
        int on = 1;
        (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (reuse_port_ && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
            int rv = from_errno(errno);
            ::close(fd);
            return -rv;
        }
        if (inq_) {
            // Accepted sockets inherit it; a kernel without it (before
            // 4.18) just reports nothing (see socket_stream::rx_op).
            (void)::setsockopt(fd, IPPROTO_TCP, TCP_INQ, &on, sizeof on);
        }
        // Accepted sockets inherit it (see make_tcp_stream).
        listen_nodelay_ = nodelay_ &&
                          ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&addr_), len_) != 0 ||
            ::listen(fd, SOMAXCONN) != 0) {
            int rv = from_errno(errno);
            ::close(fd);
            return -rv;
        }
        return fd;
    }

    socket_stream* make_stream(int fd) override {
        return make_tcp_stream(fd, nodelay_, keepalive_, listen_nodelay_);
    }

    bool is_listening() const noexcept { return listening(); }

    // The bound address once listening; before that, as NNG 1.5.2, an
    // unspecified address.
    int local_addr(nng_sockaddr& sa) {
        if (!listening()) {
            sa = nng_sockaddr{};
            sa.s_family = NNG_AF_UNSPEC;
            return 0;
        }
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        if (::getsockname(fd(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
            return from_errno(errno);
        }
        return to_nng_sockaddr(ss, len, sa);
    }

    std::span<const option<socket_listener>> options() const override {
        using l = socket_listener;
        static const option<l> opts[] = {
            {NNG_OPT_LOCADDR,
             [](l& x, const opt_out& o) -> int {
                 nng_sockaddr sa;
                 int rv = static_cast<tcp_listener&>(x).local_addr(sa);
                 return rv != 0 ? rv : copy_out(sa, o);
             },
             nullptr},
            {NNG_OPT_TCP_NODELAY,
             [](l& x, const opt_out& o) {
                 return copy_out(static_cast<tcp_listener&>(x).nodelay_, o);
             },
             [](l& x, const opt_in& i) {
                 return copy_in(static_cast<tcp_listener&>(x).nodelay_, i);
             }},
            {NNG_OPT_TCP_KEEPALIVE,
             [](l& x, const opt_out& o) {
                 return copy_out(static_cast<tcp_listener&>(x).keepalive_, o);
             },
             [](l& x, const opt_in& i) {
                 return copy_in(static_cast<tcp_listener&>(x).keepalive_, i);
             }},
            {opt_reuse_port,
             [](l& x, const opt_out& o) {
                 return copy_out(static_cast<tcp_listener&>(x).reuse_port_, o);
             },
             [](l& x, const opt_in& i) {
                 return copy_in(static_cast<tcp_listener&>(x).reuse_port_, i);
             }},
            {opt_tcp_inq,
             [](l& x, const opt_out& o) { return copy_out(static_cast<tcp_listener&>(x).inq_, o); },
             [](l& x, const opt_in& i) { return copy_in(static_cast<tcp_listener&>(x).inq_, i); }},
            {NNG_OPT_TCP_BOUND_PORT,
             [](l& x, const opt_out& o) -> int {
                 if (!static_cast<tcp_listener&>(x).is_listening()) {
                     return NNG_ESTATE; // no port is bound yet
                 }
                 nng_sockaddr sa;
                 int rv = static_cast<tcp_listener&>(x).local_addr(sa);
                 if (rv != 0) {
                     return rv;
                 }
                 uint16_t p = sa.s_family == NNG_AF_INET    ? sa.s_in.sa_port
                              : sa.s_family == NNG_AF_INET6 ? sa.s_in6.sa_port
                                                            : 0;
                 return copy_out(static_cast<int>(ntohs(p)), o);
             },
             nullptr},
        };
        return opts;
    }

    sockaddr_storage addr_;
    socklen_t len_;
    bool nodelay_ = true;
    bool keepalive_ = false;
    bool listen_nodelay_ = false; // TCP_NODELAY on the listening socket
    bool reuse_port_ = false;
    bool inq_ = false; // TCP_INQ (opt_tcp_inq)
};

// ---- dialer ----

class tcp_dialer final : public socket_dialer {
  public:
    tcp_dialer(asio::io_context& ctx, std::string host, std::string port, int family)
        : socket_dialer(ctx), host_(std::move(host)), port_(std::move(port)), family_(family) {}

  private:
    using resolver = asio::ip::tcp::resolver;

    void start(connect_op& op) override {
        sockaddr_storage ss;
        if (socklen_t len = literal_address(host_, port_, family_, ss); len > 0) {
            connect_to(op, ss, len);
            return;
        }
        if (port_out_of_range(port_)) {
            if (aio* a = settle(op, NNG_EADDRINVAL, -1)) {
                a->complete(false);
            }
            return;
        }
        auto flags = resolver::address_configured | resolver::numeric_service;
        if (loop::thread_free()) {
            // No resolver thread in thread-free mode: the lookup runs on the
            // loop, which waits for getaddrinfo meanwhile.
            op.cancel_resolve = [](connect_op&) {};
            asio::post(ctx_, [this, op = ref_ptr<connect_op>(&op), flags] {
                {
                    std::lock_guard lk(mtx_);
                    if (op->done) {
                        return; // timed out, canceled or closed meanwhile: no lookup
                    }
                }
                resolver res(ctx_);
                asio::error_code ec;
                auto results = family_ == AF_UNSPEC
                                   ? res.resolve(host_, port_, flags, ec)
                                   : res.resolve(family_ == AF_INET6 ? asio::ip::tcp::v6()
                                                                     : asio::ip::tcp::v4(),
                                                 host_, port_, flags, ec);
                static_cast<tcp_dialer&>(*op->owner).resolved(*op, ec, results);
            });
            return;
        }
        auto res = std::make_shared<resolver>(ctx_);
        op.resolve_state = res;
        op.cancel_resolve = [](connect_op& o) {
            static_cast<resolver*>(o.resolve_state.get())->cancel();
        };
        auto proto = family_ == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4();
        auto on_resolved = [op = ref_ptr<connect_op>(&op)](const asio::error_code& ec,
                                                           resolver::results_type results) {
            static_cast<tcp_dialer&>(*op->owner).resolved(*op, ec, results);
        };
        if (family_ == AF_UNSPEC) {
            res->async_resolve(host_, port_, flags, on_resolved);
        } else {
            res->async_resolve(proto, host_, port_, flags, on_resolved);
        }
    }

    void resolved(connect_op& op, const asio::error_code& ec,
                  const resolver::results_type& results) {
        std::lock_guard lk(mtx_);
        if (op.done) {
            return;
        }
        if (!ec && !results.empty()) {
            auto ep = results.begin()->endpoint();
            sockaddr_storage ss{};
            std::memcpy(&ss, ep.data(), ep.size());
            connect_to(op, ss, static_cast<socklen_t>(ep.size()));
            return;
        }
        if (aio* a = settle(op, ec ? resolve_error(ec) : NNG_EADDRINVAL, -1)) {
            a->complete(false);
        }
    }

    static int resolve_error(const asio::error_code& ec) {
        if (ec == asio::error::operation_aborted) {
            return NNG_ECANCELED;
        }
        if (ec == asio::error::host_not_found || ec == asio::error::service_not_found ||
            ec == asio::error::no_data) {
            return NNG_EADDRINVAL;
        }
        if (ec == asio::error::host_not_found_try_again) {
            return NNG_EAGAIN;
        }
        if (ec == asio::error::no_memory) {
            return NNG_ENOMEM;
        }
        return ec.category() == asio::system_category() ? from_errno(ec.value()) : NNG_EADDRINVAL;
    }

    socket_stream* make_stream(int fd) override {
        return make_tcp_stream(fd, nodelay_, keepalive_);
    }

    socklen_t local_address(sockaddr_storage& ss) const override {
        return local_.s_family == NNG_AF_UNSPEC ? 0 : from_nng_sockaddr(local_, ss);
    }

    std::span<const option<socket_dialer>> options() const override {
        using d = socket_dialer;
        static const option<d> opts[] = {
            {NNG_OPT_LOCADDR,
             [](d& x, const opt_out& o) { return copy_out(static_cast<tcp_dialer&>(x).local_, o); },
             [](d& x, const opt_in& i) -> int {
                 nng_sockaddr sa;
                 if (int rv = copy_in(sa, i); rv != 0) {
                     return rv;
                 }
                 if (sa.s_family != NNG_AF_INET && sa.s_family != NNG_AF_INET6) {
                     return NNG_EADDRINVAL;
                 }
                 static_cast<tcp_dialer&>(x).local_ = sa;
                 return 0;
             }},
            {NNG_OPT_TCP_NODELAY,
             [](d& x, const opt_out& o) {
                 return copy_out(static_cast<tcp_dialer&>(x).nodelay_, o);
             },
             [](d& x, const opt_in& i) {
                 return copy_in(static_cast<tcp_dialer&>(x).nodelay_, i);
             }},
            {NNG_OPT_TCP_KEEPALIVE,
             [](d& x, const opt_out& o) {
                 return copy_out(static_cast<tcp_dialer&>(x).keepalive_, o);
             },
             [](d& x, const opt_in& i) {
                 return copy_in(static_cast<tcp_dialer&>(x).keepalive_, i);
             }},
        };
        return opts;
    }

    std::string host_;
    std::string port_;
    int family_;
    nng_sockaddr local_{};
    bool nodelay_ = true;
    bool keepalive_ = false;
};

} // namespace

int make_tcp_dialer(const nng_url& url, stream_dialer*& out) {
    const char* port = url.u_port;
    if (port == nullptr || *port == '\0') {
        port = ""; // no default port for tcp
    }
    if (*port == '\0' || url.u_hostname == nullptr || *url.u_hostname == '\0') {
        return NNG_EADDRINVAL;
    }
    out = new tcp_dialer(executor::global().next().context(), url.u_hostname, port,
                         family_of(url.u_scheme));
    return 0;
}

int make_tcp_listener(const nng_url& url, stream_listener*& out) {
    const char* host = url.u_hostname;
    if (host != nullptr && (std::strcmp(host, "*") == 0 || *host == '\0')) {
        host = nullptr; // the wildcard address
    }
    const char* port = url.u_port; // "" is passed on, as NNG does
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (int rv = resolve_tcp(host, port, family_of(url.u_scheme), true, ss, len); rv != 0) {
        return rv;
    }
    out = new tcp_listener(executor::global().next().context(), ss, len);
    return 0;
}

} // namespace nnghttp::detail
