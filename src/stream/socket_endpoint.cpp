#include "stream/socket_endpoint.hpp"

#include "core/error.hpp"
#include "core/executor.hpp"

#include <asio/error.hpp>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <fcntl.h>
#include <unistd.h>

namespace nnghttp::detail {

int open_nonblocking_socket(int family) {
    int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd >= 0 ? fd : -from_errno(errno);
}

// ---- listener ----

int socket_listener::listen() {
    std::lock_guard lk(mtx_);
    if (listening_) {
        return NNG_ESTATE;
    }
    if (closed_) {
        return NNG_ECLOSED;
    }
    int fd = open_socket();
    if (fd < 0) {
        return -fd;
    }
    try {
        // The protocol is only a label here (Asio opens nothing for us).
        desc_.emplace(ctx_, asio::generic::stream_protocol(AF_UNSPEC, 0), fd);
    } catch (const std::system_error&) {
        ::close(fd); // registration with the reactor failed
        return NNG_ENOMEM;
    }
    listening_ = true;
    fd_ = fd;
    return 0;
}

void socket_listener::accept(aio* a) {
    if (!a->begin()) {
        return;
    }
    aio_list done;
    {
        std::lock_guard lk(mtx_);
        int rv = !listening_ ? NNG_ESTATE : closed_ ? NNG_ECLOSED : a->schedule(cancel, this, this);
        if (rv != 0) {
            a->set_outcome(rv, 0);
            done.push_back(a);
        } else {
            q_.push_back(a);
            if (q_.front() == a) {
                pump(done);
            }
        }
    }
    while (aio* x = done.pop_front()) {
        x->complete(false);
    }
}

void socket_listener::pump(aio_list& done) {
    while (aio* a = q_.front()) {
        int nfd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (nfd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                arm();
                return;
            }
            if (errno == EINTR || errno == ECONNABORTED || errno == ECONNRESET) {
                continue; // a connection that died in the backlog: not news
            }
            q_.remove(a);
            a->set_outcome(from_errno(errno), 0);
            done.push_back(a);
            continue;
        }
        q_.remove(a);
        a->set_output(0, static_cast<stream*>(make_stream(nfd)));
        a->set_outcome(0, 0);
        done.push_back(a);
    }
}

socket_listener::ready_op::ready_op(socket_listener* l)
    : reactor_op(asio::error_code(), &ready_op::perform, &ready_op::complete), self(l) {}

// Run by the loop when the socket is readable or the wait was cancelled
// (owner != nullptr), or when the loop shuts down with it queued.
void socket_listener::ready_op::complete(void* owner, asio::detail::scheduler_operation* base,
                                         const asio::error_code&, std::size_t) {
    socket_listener* l = static_cast<ready_op*>(base)->self;
    if (owner != nullptr) {
        l->on_ready();
    }
    l->release(); // arm()'s reference
}

// With mtx_ held, after accept4 found the queue empty: waits for the next
// connection.  On the listener's own loop the empty queue was seen on the
// reactor's only thread, so the wait can skip the reactor's try at once and
// its re-arm: a connection that came since makes the next epoll_wait report
// the socket.  Elsewhere (accept() called from another thread) the reactor
// re-arms the descriptor, which reports one that is already there.
void socket_listener::arm() {
    if (armed_) {
        return;
    }
    armed_ = true;
    add_ref();
    ready_.ec_ = asio::error_code();
    bool own_loop = loop::runs_here(ctx_);
    if (own_loop) {
        skip_next_read_try(desc_->reactor_data());
    }
    reactor_.start_op(asio::detail::reactor::read_op, fd_, desc_->reactor_data(), &ready_, false,
                      own_loop);
}

void socket_listener::on_ready() {
    aio_list done;
    {
        std::lock_guard lk(mtx_);
        armed_ = false;
        if (!closed_) {
            pump(done);
        }
    }
    while (aio* a = done.pop_front()) {
        a->complete(true);
    }
}

void socket_listener::cancel(aio* a, void* arg, int err) {
    auto* l = static_cast<socket_listener*>(arg);
    bool found;
    {
        std::lock_guard lk(l->mtx_);
        found = l->q_.remove(a);
    }
    if (found) {
        a->finish_error(err);
    }
}

void socket_listener::close() {
    aio_list done;
    {
        std::lock_guard lk(mtx_);
        if (closed_) {
            return;
        }
        closed_ = true;
        while (aio* a = q_.pop_front()) {
            a->set_outcome(NNG_ECLOSED, 0);
            done.push_back(a);
        }
        if (desc_) {
            asio::error_code ignored;
            desc_->close(ignored); // cancels the wait (ready_)
        }
        fd_ = -1;
        on_closed();
    }
    while (aio* a = done.pop_front()) {
        a->complete(false);
    }
}

int socket_listener::get(std::string_view name, const opt_out& out) {
    std::lock_guard lk(mtx_);
    return get_option(options(), *this, name, out);
}

int socket_listener::set(std::string_view name, const opt_in& in) {
    std::lock_guard lk(mtx_);
    return set_option(options(), *this, name, in);
}

// ---- dialer ----

void socket_dialer::dial(aio* a) {
    if (!a->begin()) {
        return;
    }
    std::unique_lock lk(mtx_);
    auto op = make_ref<connect_op>(ctx_);
    op->a = a;
    op->owner = ref_ptr<socket_dialer>(this);
    int rv = closed_ ? NNG_ECLOSED : a->schedule(cancel, op.get(), op.get());
    if (rv != 0) {
        lk.unlock();
        a->finish_error(rv);
        return;
    }
    ops_.push_back(op);
    start(*op);
    // start() may have settled the op at once; its aio was then posted.
}

void socket_dialer::connect_to(connect_op& op, const sockaddr_storage& ss, socklen_t len) {
    int fd = open_nonblocking_socket(ss.ss_family);
    if (fd < 0) {
        if (aio* a = settle(op, -fd, -1)) {
            a->complete(false);
        }
        return;
    }
    sockaddr_storage local{};
    if (socklen_t llen = local_address(local); llen > 0) {
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), llen) != 0) {
            int rv = from_errno(errno);
            ::close(fd);
            if (aio* a = settle(op, rv, -1)) {
                a->complete(false);
            }
            return;
        }
    }
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len);
    if (rc == 0 || (errno != EINPROGRESS && errno != EAGAIN)) {
        // A Unix socket path that does not exist: nobody listens there,
        // which NNG reports as a refused connection.
        int rv = rc == 0 ? 0 : errno == ENOENT ? NNG_ECONNREFUSED : from_errno(errno);
        if (rv != 0) {
            ::close(fd);
        }
        if (aio* a = settle(op, rv, rc == 0 ? fd : -1)) {
            a->complete(false);
        }
        return;
    }
    asio::error_code ec;
    op.desc.assign(fd, ec);
    op.desc.async_wait(asio::posix::descriptor_base::wait_write,
                       [op = ref_ptr<connect_op>(&op)](const asio::error_code& e) {
                           op->owner->on_connect_ready(*op, is_aborted(e));
                       });
}

void socket_dialer::on_connect_ready(connect_op& op, bool aborted) {
    aio* a = nullptr;
    {
        std::lock_guard lk(mtx_);
        if (op.done || aborted) {
            return;
        }
        int fd = op.desc.native_handle();
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            err = errno;
        }
        if (err == 0) {
            a = settle(op, 0, op.desc.release());
        } else {
            a = settle(op, from_errno(err), -1);
        }
    }
    if (a != nullptr) {
        a->complete(true);
    }
}

aio* socket_dialer::settle(connect_op& op, int rv, int fd) {
    if (op.done) {
        if (fd >= 0) {
            ::close(fd);
        }
        return nullptr;
    }
    op.done = true;
    aio* a = op.a;
    if (rv == 0) {
        a->set_output(0, static_cast<stream*>(make_stream(fd)));
    }
    a->set_outcome(rv, 0);
    asio::error_code ignored;
    op.desc.close(ignored);
    if (op.cancel_resolve != nullptr) {
        op.cancel_resolve(op);
    }
    // Dropping our reference may free op; callers hold their own.
    std::erase_if(ops_, [&op](const ref_ptr<connect_op>& p) { return p.get() == &op; });
    return a;
}

void socket_dialer::cancel(aio*, void* arg, int err) {
    auto* op = static_cast<connect_op*>(arg);
    ref_ptr<connect_op> hold(op);
    ref_ptr<socket_dialer> owner = op->owner;
    aio* settled;
    {
        std::lock_guard lk(owner->mtx_);
        settled = owner->settle(*op, err, -1);
    }
    if (settled != nullptr) {
        settled->complete(false);
    }
}

void socket_dialer::close() {
    std::vector<aio*> done;
    {
        std::lock_guard lk(mtx_);
        closed_ = true;
        auto ops = ops_; // settle() edits ops_
        for (auto& op : ops) {
            if (aio* a = settle(*op, NNG_ECLOSED, -1)) {
                done.push_back(a);
            }
        }
    }
    for (aio* a : done) {
        a->complete(false);
    }
}

int socket_dialer::get(std::string_view name, const opt_out& out) {
    std::lock_guard lk(mtx_);
    return get_option(options(), *this, name, out);
}

int socket_dialer::set(std::string_view name, const opt_in& in) {
    std::lock_guard lk(mtx_);
    return set_option(options(), *this, name, in);
}

} // namespace nnghttp::detail
