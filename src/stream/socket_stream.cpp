#include "stream/socket_stream.hpp"

#include "core/error.hpp"
#include "core/executor.hpp"
#include "core/sigpipe.hpp"
#include "stream/sockaddr.hpp"

#include <asio/error.hpp>

#include <array>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

namespace nnghttp::detail {

namespace {
// The protocol Asio adopts fd with.  Asio uses it only to open sockets and
// to decode endpoints, neither of which this class asks of it (addresses
// come from the kernel, see get_name), so the family is not looked up:
// that would cost a system call per connection.
asio::generic::stream_protocol protocol_of(socket_stream::kind k) {
    return k == socket_stream::kind::tcp ? asio::generic::stream_protocol(AF_INET, IPPROTO_TCP)
                                         : asio::generic::stream_protocol(AF_UNIX, 0);
}
} // namespace

template struct grant_member<reactor_try_flags, &asio::detail::epoll_reactor::descriptor_state::try_speculative_>;

void skip_next_read_try(asio::detail::reactor::per_descriptor_data& d) noexcept {
    (d->*member(reactor_try_flags{}))[asio::detail::reactor::read_op] = false;
}

void clear_hangup_seen(asio::detail::reactor::per_descriptor_data& d) noexcept {
    (d->*member(reactor_try_flags{}))[asio::detail::reactor::except_op] = false;
}

bool hangup_seen(asio::detail::reactor::per_descriptor_data& d) noexcept {
    return (d->*member(reactor_try_flags{}))[asio::detail::reactor::except_op];
}

socket_stream::socket_stream(asio::io_context& ctx, int fd, kind k, const nng_sockaddr* path_addr)
    : ctx_(ctx), reactor_(asio::use_service<asio::detail::reactor>(ctx)), desc_(ctx, protocol_of(k), fd),
      fd_(fd), kind_(k) {
    if (path_addr != nullptr) {
        path_addr_ = std::make_unique<nng_sockaddr>(*path_addr);
    }
    // A new connection's first bytes are rarely in yet when it is accepted
    // under load (the peer's first flight follows its ACK): trying recv(2)
    // at once costs a system call that finds nothing, so the first receive
    // waits for the reactor's first event.  Registering the socket (in
    // desc_'s constructor, EPOLL_CTL_ADD) makes the next epoll_wait report
    // bytes already in, and on the reactor's own thread none can have run
    // since (skip_next_read_try); a stream made for another loop keeps
    // trying at once.
    if (loop::runs_here(ctx)) {
        skip_next_read_try(desc_.reactor_data());
        // No event was handled since registration either (rx_op::perform_recv).
        clear_hangup_seen(desc_.reactor_data());
        hangup_armed_ = true;
    }
}

void socket_stream::send(aio* a) {
    a->prov_tag = 0;
    start_send(a);
}

// Receives are reactor operations (rx_op) rather than a readiness wait plus
// our own read: the reactor tries one at once unless the last drained the
// socket, and otherwise queues it on the edge-triggered registration with
// no system call, where a readiness wait re-registers the descriptor
// (epoll_ctl) each time.  Only the head of the queue has a receive in
// flight; cancelling it goes through the reactor (the bytes may already be
// in the aio's buffers).
void socket_stream::recv(aio* a) {
    if (!a->begin()) {
        return;
    }
    int rv;
    {
        std::lock_guard lk(mtx_);
        rv = closed_ ? NNG_ECLOSED : rd_ended_ ? NNG_ECONNSHUT : a->schedule(cancel, this, this);
        if (rv == 0) {
            rdq_.push_back(a);
            if (!rd_inflight_) {
                start_recv();
            }
            return;
        }
    }
    a->set_outcome(rv, 0);
    aio_list done;
    done.push_back(a);
    complete_initiated(done);
}

socket_stream::rx_op::rx_op(socket_stream* s, done_fn fn)
    : reactor_op(asio::error_code(), &rx_op::perform_recv, &rx_op::complete), self(s), on_done(fn) {}

// Run by the reactor, under the registration's lock: at once when the
// receive starts (unless the last one drained the socket), then at each
// edge until it is done.
asio::detail::reactor_op::status socket_stream::rx_op::perform_recv(asio::detail::reactor_op* base) {
    auto* o = static_cast<rx_op*>(base);
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
    msghdr m{};
    m.msg_iov = o->vec;
    m.msg_iovlen = o->nvec;
    m.msg_control = cbuf;
    m.msg_controllen = sizeof cbuf;
    ssize_t r;
    do {
        r = ::recvmsg(o->fd, &m, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!o->self->hangup_armed_) {
                // Empty and no error pending: from now on the record
                // means a hang-up came (see hangup_armed_).
                clear_hangup_seen(*o->reg);
                o->self->hangup_armed_ = true;
            }
            return not_done;
        }
        o->ec_ = asio::error_code(errno, asio::error::get_system_category());
        return done;
    }
    o->bytes_transferred_ = static_cast<std::size_t>(r);
    if (r == 0) {
        o->ec_ = asio::error::eof;
        return done_and_exhausted;
    }
    // With TCP_INQ on (opt_tcp_inq) the kernel says what is left: 0 means
    // no bytes and no FIN, so the next receive can wait for the next edge.
    // A short read alone would not do: the FIN may be in already, its
    // edge spent, and the next receive would wait for an edge that never
    // comes.  A reset is the same, and TCP_INQ does not count it: bytes
    // and the RST that followed them, reported by one event, leave 0
    // after the bytes are read, yet recv(2) would now fail.  The reactor
    // records every error or hang-up event before this runs
    // (hangup_seen), so once one has come no receive waits for an edge.
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == IPPROTO_TCP && c->cmsg_type == TCP_CM_INQ) {
            int left = 1;
            std::memcpy(&left, CMSG_DATA(c), sizeof left);
            bool drained = left == 0 && o->self->hangup_armed_ && !hangup_seen(*o->reg);
            return drained ? done_and_exhausted : done;
        }
    }
    return done;
}

// Run by the loop when the receive is done, failed or was cancelled
// (owner != nullptr), or when the loop shuts down with it queued.
void socket_stream::rx_op::complete(void* owner, asio::detail::scheduler_operation* base,
                                    const asio::error_code&, std::size_t) {
    auto* o = static_cast<rx_op*>(base);
    socket_stream* s = o->self;
    if (owner != nullptr) {
        // The callee may start this operation again: read it out first.
        asio::error_code ec = o->ec_;
        std::size_t n = o->bytes_transferred_;
        (s->*(o->on_done))(ec, n);
    }
    s->release(); // start_op's reference
}

void socket_stream::start_op(rx_op& op) {
    add_ref();
    op.ec_ = asio::error_code();
    op.bytes_transferred_ = 0;
    op.cancellation_key_ = &op;
    op.fd = fd_;
    op.reg = &desc_.reactor_data();
    op.want = 0;
    for (unsigned i = 0; i < op.nvec; i++) {
        op.want += op.vec[i].iov_len;
    }
    if (op.want == 0) {
        reactor_.post_immediate_completion(&op, false); // nothing to read: 0 bytes
        return;
    }
    reactor_.start_op(asio::detail::reactor::read_op, fd_, desc_.reactor_data(), &op, false, true);
}

// With mtx_ held and rdq_ not empty: a receive for its head.
void socket_stream::start_recv() {
    aio* a = rdq_.front();
    const nng_iov* iov = a->iov();
    unsigned n = 0;
    for (unsigned i = 0; i < a->iov_count(); i++) {
        if (iov[i].iov_len > 0) {
            rd_vec_[n].iov_base = iov[i].iov_buf;
            rd_vec_[n].iov_len = iov[i].iov_len;
            n++;
        }
    }
    rd_inflight_ = true;
    rd_cancel_err_ = 0;
    rd_op_.vec = rd_vec_.data();
    rd_op_.nvec = n;
    start_op(rd_op_);
}

void socket_stream::on_recv(const asio::error_code& ec, std::size_t got) {
    aio_list done;
    {
        std::lock_guard lk(mtx_);
        rd_inflight_ = false;
        if (closed_) {
            return; // close() finished every queued aio
        }
        aio* a = rdq_.pop_front();
        done.push_back(a);
        if (!ec) {
            a->set_outcome(0, got);
        } else if (is_aborted(ec) && rd_cancel_err_ != 0) {
            a->set_outcome(rd_cancel_err_, 0);
        } else {
            // The end of the stream, or an error: the edge that reported it
            // will not come again, so every later receive fails at once.
            rd_ended_ = true;
            a->set_outcome(is_eof(ec) ? NNG_ECONNSHUT : from_errno(ec.value()), 0);
        }
        if (rd_ended_) {
            while (aio* x = rdq_.pop_front()) {
                x->set_outcome(NNG_ECONNSHUT, 0);
                done.push_back(x);
            }
        } else if (!rdq_.empty()) {
            start_recv();
        }
    }
    // A reactor handler on a loop: run the callbacks right here.
    while (aio* x = done.pop_front()) {
        x->complete(true);
    }
}

// A queued send whose prov_ptr is a file_span: pump_send() calls
// sendfile(2) for it instead of sendmsg.
void socket_stream::send_file(aio* a, const file_span& f) {
    a->prov_tag = 1;
    a->prov_ptr = const_cast<file_span*>(&f);
    start_send(a);
}

bool socket_stream::wait_readable(ready_fn fn, void* arg, char* buf, std::size_t len) {
    std::lock_guard lk(mtx_);
    if (closed_ || wait_fn_ != nullptr) {
        return false;
    }
    wait_fn_ = fn;
    wait_arg_ = arg;
    wait_vec_.iov_base = buf;
    wait_vec_.iov_len = len;
    wait_op_.vec = &wait_vec_;
    wait_op_.nvec = 1;
    start_op(wait_op_);
    return true;
}

void socket_stream::on_wait(const asio::error_code& ec, std::size_t n) {
    ready_fn fn;
    void* arg;
    bool closed;
    {
        std::lock_guard lk(mtx_);
        fn = std::exchange(wait_fn_, nullptr);
        arg = wait_arg_;
        closed = closed_;
    }
    // Any error, the peer's end of stream (eof) among them, ends the wait.
    fn(arg, closed || ec ? -1L : static_cast<long>(n));
}

namespace {
// The non-empty vectors of iov, for sendmsg; returns how many.
unsigned to_iovecs(const nng_iov* iov, unsigned n, std::array<iovec, aio::max_iov>& v) {
    unsigned k = 0;
    for (unsigned i = 0; i < n && k < v.size(); i++) {
        if (iov[i].iov_len > 0) {
            v[k].iov_base = iov[i].iov_buf;
            v[k].iov_len = iov[i].iov_len;
            k++;
        }
    }
    return k;
}
} // namespace

bool socket_stream::try_send(const nng_iov* iov, unsigned n, std::size_t& sent) {
    std::array<iovec, aio::max_iov> v;
    unsigned k = to_iovecs(iov, n, v);
    std::lock_guard lk(mtx_);
    if (closed_ || !wrq_.empty()) {
        return false; // in order behind what is queued
    }
    msghdr hdr{};
    hdr.msg_iov = v.data();
    hdr.msg_iovlen = k;
    ssize_t r;
    do {
        r = ::sendmsg(fd_, &hdr, MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            sent = 0;
            return true;
        }
        return false; // send() meets the error again and reports it
    }
    sent = static_cast<std::size_t>(r);
    return true;
}

void socket_stream::shutdown_send() noexcept {
    std::lock_guard lk(mtx_);
    if (!closed_) {
        (void)::shutdown(fd_, SHUT_WR);
    }
}

void socket_stream::start_send(aio* a) {
    if (!a->begin()) {
        return;
    }
    aio_list done;
    {
        std::lock_guard lk(mtx_);
        int rv = closed_ ? NNG_ECLOSED : a->schedule(cancel, this, this);
        if (rv != 0) {
            a->set_outcome(rv, 0);
            done.push_back(a);
        } else {
            wrq_.push_back(a);
            if (wrq_.front() == a) {
                pump_send(done);
                if (!wrq_.empty()) {
                    arm_send();
                }
            }
        }
    }
    complete_initiated(done);
}

// Inside the initiating call: completions are posted, never run here; from
// a thread that is no loop's, to this stream's loop (where the stream's
// next events will be handled too, after them).
void socket_stream::complete_initiated(aio_list& done) {
    if (done.empty()) {
        return;
    }
    loop* home = loop::current() == nullptr ? &executor::global().loop_of(ctx_) : nullptr;
    while (aio* x = done.pop_front()) {
        x->complete(false, home);
    }
}

void socket_stream::pump_send(aio_list& done) {
    while (aio* a = wrq_.front()) {
        std::array<iovec, aio::max_iov> v;
        int n = static_cast<int>(to_iovecs(a->iov(), a->iov_count(), v));
        ssize_t r;
        if (a->prov_tag == 1) {
            auto* f = static_cast<file_span*>(a->prov_ptr);
            auto off = static_cast<off_t>(f->offset);
            std::size_t want = f->length > (1u << 30) ? (1u << 30) : static_cast<std::size_t>(f->length);
            {
                // sendfile has no MSG_NOSIGNAL (core/sigpipe.hpp).
                sigpipe_shield shield;
                r = ::sendfile(fd_, f->fd, &off, want);
            }
            if (r == 0 && want > 0) {
                r = -1; // the file is shorter than it was: nothing more will come
                errno = EIO;
            }
        } else {
            msghdr hdr{};
            hdr.msg_iov = v.data();
            hdr.msg_iovlen = static_cast<std::size_t>(n);
            r = ::sendmsg(fd_, &hdr, MSG_NOSIGNAL);
        }
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        wrq_.remove(a);
        if (r < 0) {
            a->set_outcome(from_errno(errno), 0);
        } else {
            a->set_outcome(0, static_cast<std::size_t>(r));
        }
        done.push_back(a);
    }
}

void socket_stream::arm_send() {
    if (wr_armed_) {
        return;
    }
    wr_armed_ = true;
    desc_.async_wait(asio::socket_base::wait_write,
                     [self = ref_ptr<socket_stream>(this)](const asio::error_code& ec) {
                         self->on_writable(ec && !is_aborted(ec));
                     });
}

void socket_stream::on_writable(bool failed) {
    aio_list done;
    {
        std::lock_guard lk(mtx_);
        wr_armed_ = false;
        if (closed_) {
            return;
        }
        if (failed) {
            while (aio* a = wrq_.pop_front()) {
                a->set_outcome(NNG_ECONNSHUT, 0);
                done.push_back(a);
            }
        }
        pump_send(done);
        if (!wrq_.empty()) {
            arm_send();
        }
    }
    // A reactor handler on a worker thread: run the callbacks right here.
    while (aio* a = done.pop_front()) {
        a->complete(true);
    }
}

void socket_stream::cancel(aio* a, void* arg, int err) {
    auto* s = static_cast<socket_stream*>(arg);
    bool found;
    {
        std::lock_guard lk(s->mtx_);
        if (s->rd_inflight_ && s->rdq_.front() == a) {
            // The reactor ends the receive: on_recv finishes a, with err
            // if no bytes came first.
            s->rd_cancel_err_ = err;
            s->reactor_.cancel_ops_by_key(s->fd_, s->desc_.reactor_data(), asio::detail::reactor::read_op,
                                          &s->rd_op_);
            return;
        }
        found = s->rdq_.remove(a) || s->wrq_.remove(a);
    }
    if (found) {
        a->finish_error(err);
    }
}

void socket_stream::close() {
    aio_list done;
    {
        std::lock_guard lk(mtx_);
        if (closed_) {
            return;
        }
        closed_ = true;
        for (aio_queue* q : {&rdq_, &wrq_}) {
            while (aio* a = q->pop_front()) {
                a->set_outcome(NNG_ECLOSED, 0);
                done.push_back(a);
            }
        }
        // Wakes any armed wait with operation_aborted and closes the fd.
        asio::error_code ignored;
        desc_.close(ignored);
        fd_ = -1;
    }
    while (aio* a = done.pop_front()) {
        a->complete(false);
    }
}

// ---- options ----

namespace {

int get_name(int fd, bool peer, const opt_out& out) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                  : ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    if (rc != 0) {
        return from_errno(errno);
    }
    nng_sockaddr sa;
    if (int rv = to_nng_sockaddr(ss, len, sa); rv != 0) {
        return rv;
    }
    return copy_out(sa, out);
}

int get_flag(int fd, int level, int name, const opt_out& out) {
    int v = 0;
    socklen_t len = sizeof v;
    if (::getsockopt(fd, level, name, &v, &len) != 0) {
        return from_errno(errno);
    }
    return copy_out(v != 0, out);
}

int set_flag(int fd, int level, int name, const opt_in& in) {
    bool b = false;
    if (int rv = copy_in(b, in); rv != 0) {
        return rv;
    }
    int v = b ? 1 : 0;
    if (::setsockopt(fd, level, name, &v, sizeof v) != 0) {
        return from_errno(errno);
    }
    return 0;
}

// Which of the peer's credentials an option asks for.
enum class cred { pid, uid, gid };

int get_cred(int fd, cred which, const opt_out& out) {
    ucred c{};
    socklen_t len = sizeof c;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) != 0) {
        return from_errno(errno);
    }
    std::uint64_t v = which == cred::pid ? static_cast<std::uint64_t>(c.pid)
                      : which == cred::uid ? c.uid
                                           : c.gid;
    return copy_out(v, out, opt_type::uint64);
}

} // namespace

std::span<const option<socket_stream>> socket_stream::options(kind k) {
    using s = socket_stream;
    static constexpr option<s> tcp_opts[] = {
        {NNG_OPT_REMADDR, [](s& x, const opt_out& o) { return get_name(x.fd_, true, o); }, nullptr},
        {NNG_OPT_LOCADDR, [](s& x, const opt_out& o) { return get_name(x.fd_, false, o); }, nullptr},
        {NNG_OPT_TCP_NODELAY,
         [](s& x, const opt_out& o) { return get_flag(x.fd_, IPPROTO_TCP, TCP_NODELAY, o); },
         [](s& x, const opt_in& i) { return set_flag(x.fd_, IPPROTO_TCP, TCP_NODELAY, i); }},
        {NNG_OPT_TCP_KEEPALIVE,
         [](s& x, const opt_out& o) { return get_flag(x.fd_, SOL_SOCKET, SO_KEEPALIVE, o); },
         [](s& x, const opt_in& i) { return set_flag(x.fd_, SOL_SOCKET, SO_KEEPALIVE, i); }},
    };
    static constexpr option<s> ipc_opts[] = {
        {NNG_OPT_LOCADDR, [](s& x, const opt_out& o) { return copy_out(*x.path_addr_, o); }, nullptr},
        {NNG_OPT_REMADDR, [](s& x, const opt_out& o) { return copy_out(*x.path_addr_, o); }, nullptr},
        {NNG_OPT_IPC_PEER_PID, [](s& x, const opt_out& o) { return get_cred(x.fd_, cred::pid, o); },
         nullptr},
        {NNG_OPT_IPC_PEER_UID, [](s& x, const opt_out& o) { return get_cred(x.fd_, cred::uid, o); },
         nullptr},
        {NNG_OPT_IPC_PEER_GID, [](s& x, const opt_out& o) { return get_cred(x.fd_, cred::gid, o); },
         nullptr},
        {NNG_OPT_IPC_PEER_ZONEID, [](s&, const opt_out&) -> int { return NNG_ENOTSUP; }, nullptr},
    };
    if (k == kind::tcp) {
        return tcp_opts;
    }
    return ipc_opts;
}

int socket_stream::get(std::string_view name, const opt_out& out) {
    std::lock_guard lk(mtx_);
    return get_option(options(kind_), *this, name, out);
}

int socket_stream::set(std::string_view name, const opt_in& in) {
    std::lock_guard lk(mtx_);
    return set_option(options(kind_), *this, name, in);
}

} // namespace nnghttp::detail
