// ipc://, unix:// (a socket path) and abstract:// (a Linux abstract name)
// dialers and listeners over Unix domain stream sockets.
//
// As in NNG: a listener whose path is held by a dead socket file removes it
// and binds again; the path is unlinked when the listener closes; the
// NNG_OPT_IPC_PERMISSIONS mode is applied before listen(); streams report
// the path as both their local and remote address.
#include "stream/ipc.hpp"

#include "core/error.hpp"
#include "core/executor.hpp"
#include "core/url.hpp"
#include "stream/sockaddr.hpp"
#include "stream/socket_endpoint.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace nnghttp::detail {

namespace {

// Percent-decodes src into dst (at most cap bytes); -1 on a bad escape or
// overflow.
long percent_decode(const char* src, std::uint8_t* dst, std::size_t cap) {
    std::size_t n = 0;
    for (const char* p = src; *p != '\0'; p++) {
        int c = static_cast<unsigned char>(*p);
        if (*p == '%') {
            int hi = hex_digit(p[1]);
            int lo = hi < 0 ? -1 : hex_digit(p[2]);
            if (lo < 0) {
                return -1;
            }
            c = hi * 16 + lo;
            p += 2;
        }
        if (n >= cap) {
            return -1;
        }
        dst[n++] = static_cast<std::uint8_t>(c);
    }
    return static_cast<long>(n);
}

// The address an ipc/unix/abstract URL names.
int ipc_address(const nng_url& url, nng_sockaddr& sa) {
    std::memset(&sa, 0, sizeof sa);
    std::string_view scheme = url.u_scheme;
    if (scheme == "ipc" || scheme == "unix") {
        std::size_t len = url.u_path != nullptr ? std::strlen(url.u_path) : 0;
        if (len == 0 || len > NNG_MAXADDRLEN) {
            return NNG_EADDRINVAL;
        }
        sa.s_ipc.sa_family = NNG_AF_IPC;
        std::memcpy(sa.s_ipc.sa_path, url.u_path, std::min<std::size_t>(len, NNG_MAXADDRLEN - 1));
        return 0;
    }
    long n = percent_decode(url.u_path != nullptr ? url.u_path : "", sa.s_abstract.sa_name,
                            sizeof sa.s_abstract.sa_name);
    if (n < 0) {
        return NNG_EADDRINVAL;
    }
    sa.s_abstract.sa_family = NNG_AF_ABSTRACT;
    sa.s_abstract.sa_len = static_cast<std::uint16_t>(n);
    return 0;
}

// Removes a socket file nobody listens on any more.
void remove_stale(const char* path) {
    sockaddr_storage ss{};
    nng_sockaddr sa{};
    sa.s_ipc.sa_family = NNG_AF_IPC;
    std::memcpy(sa.s_ipc.sa_path, path, strnlen(path, sizeof sa.s_ipc.sa_path - 1));
    socklen_t len = from_nng_sockaddr(sa, ss);
    int fd = open_nonblocking_socket(AF_UNIX);
    if (fd < 0 || len == 0) {
        return;
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno == ECONNREFUSED) {
        (void)::unlink(path);
    }
    ::close(fd);
}

class ipc_listener final : public socket_listener {
public:
    ipc_listener(asio::io_context& ctx, const nng_sockaddr& sa) : socket_listener(ctx), sa_(sa) {}

private:
    int open_socket() override {
        sockaddr_storage ss{};
        socklen_t len = from_nng_sockaddr(sa_, ss);
        if (len == 0) {
            return -NNG_EADDRINVAL;
        }
        int fd = open_nonblocking_socket(AF_UNIX);
        if (fd < 0) {
            return fd;
        }
        bool is_path = sa_.s_family == NNG_AF_IPC;
        int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len);
        if (rc != 0 && is_path && (errno == EADDRINUSE || errno == EEXIST)) {
            remove_stale(sa_.s_ipc.sa_path);
            rc = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len);
        }
        bool bound = rc == 0;
        if (rc == 0 && is_path && perms_ != 0) {
            rc = ::chmod(sa_.s_ipc.sa_path, static_cast<mode_t>(perms_));
        }
        if (rc == 0) {
            rc = ::listen(fd, SOMAXCONN);
        }
        if (rc != 0) {
            int rv = from_errno(errno);
            ::close(fd);
            if (bound && is_path) {
                (void)::unlink(sa_.s_ipc.sa_path);
            }
            return -rv;
        }
        learn_abstract_name(fd);
        path_bound_ = is_path;
        return fd;
    }

    // Binding an empty abstract name makes the kernel pick one: report it.
    void learn_abstract_name(int fd) {
        if (sa_.s_family != NNG_AF_ABSTRACT || sa_.s_abstract.sa_len != 0) {
            return;
        }
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
            (void)to_nng_sockaddr(ss, len, sa_);
        }
    }

    void on_closed() override {
        if (path_bound_) {
            (void)::unlink(sa_.s_ipc.sa_path);
            path_bound_ = false;
        }
    }

    socket_stream* make_stream(int fd) override {
        return new socket_stream(executor::global().next().context(), fd, socket_stream::kind::ipc, &sa_);
    }

    std::span<const option<socket_listener>> options() const override {
        using l = socket_listener;
        static const option<l> opts[] = {
            {NNG_OPT_LOCADDR,
             [](l& x, const opt_out& o) { return copy_out(static_cast<ipc_listener&>(x).sa_, o); },
             nullptr},
            {NNG_OPT_IPC_PERMISSIONS, nullptr,
             [](l& x, const opt_in& i) { return static_cast<ipc_listener&>(x).set_perms(i); }},
        };
        return opts;
    }

    int set_perms(const opt_in& in) {
        int mode = 0;
        if (int rv = copy_in_int(mode, in, 0, S_IFMT); rv != 0) {
            return rv;
        }
        if (sa_.s_family == NNG_AF_ABSTRACT) {
            return 0; // accepted and ignored, as NNG does
        }
        if ((mode & S_IFMT) != 0) {
            return NNG_EINVAL;
        }
        if (listening()) {
            return NNG_EBUSY;
        }
        perms_ = mode;
        return 0;
    }

    nng_sockaddr sa_;
    int perms_ = 0;
    bool path_bound_ = false;
};

class ipc_dialer final : public socket_dialer {
public:
    ipc_dialer(asio::io_context& ctx, const nng_sockaddr& sa) : socket_dialer(ctx), sa_(sa) {}

private:
    void start(connect_op& op) override {
        sockaddr_storage ss{};
        socklen_t len = from_nng_sockaddr(sa_, ss);
        connect_to(op, ss, len);
    }

    socket_stream* make_stream(int fd) override {
        return new socket_stream(executor::global().next().context(), fd, socket_stream::kind::ipc, &sa_);
    }

    std::span<const option<socket_dialer>> options() const override { return {}; }

    nng_sockaddr sa_;
};

} // namespace

int make_ipc_dialer(const nng_url& url, stream_dialer*& out) {
    nng_sockaddr sa;
    if (int rv = ipc_address(url, sa); rv != 0) {
        return rv;
    }
    out = new ipc_dialer(executor::global().next().context(), sa);
    return 0;
}

int make_ipc_listener(const nng_url& url, stream_listener*& out) {
    nng_sockaddr sa;
    if (int rv = ipc_address(url, sa); rv != 0) {
        return rv;
    }
    out = new ipc_listener(executor::global().next().context(), sa);
    return 0;
}

} // namespace nnghttp::detail
