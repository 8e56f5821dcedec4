// A connected stream socket (TCP or Unix domain), driven by the executor's
// reactor.
//
// Design notes.  The socket is non-blocking.  Sends: nng-http makes the
// sendmsg/sendfile calls itself and Asio's reactor only reports
// writability (async_wait); a send on a writable socket costs one system
// call.  Receives: a reactor operation of our own (rx_op), for the
// speculation the reactor keeps per socket (a receive that drained the
// socket makes the next one wait for an edge without any system call; a
// readiness wait would re-register the descriptor each time).  Both keep
// the transfer semantics NNG documents (one system call per operation,
// partial counts reported as they are).  Each direction has a FIFO of
// aios and only its head transfers.  A queued aio is cancelled by
// unlinking it; the head of the receive queue through the reactor's
// cancellation, since its bytes may already be in.
#pragma once

#include "stream/stream.hpp"

#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/version.hpp>
// After the two above (the reactor's header needs what they declare).
#include <asio/detail/reactor.hpp>
#include <asio/detail/reactor_op.hpp>

#include <array>
#include <memory>
#include <mutex>
#include <sys/uio.h>
#include <span>

namespace nnghttp::detail {

// Whether a reactor wait ended because it was cancelled (descriptor closed).
// Compares the value only: comparing with asio::error::operation_aborted
// builds an error_code from Asio's category object, which a handler running
// while the process exits may find already destroyed.  Reactor waits only
// ever report system errors, so the value is unambiguous.
inline bool is_aborted(const asio::error_code& ec) noexcept {
    return ec.value() == static_cast<int>(asio::error::operation_aborted);
}

// Whether a receive ended at the end of the stream, by value for the same
// reason (a connection may see its peer's FIN while the process exits).
// Only rx_op::perform_recv reports asio::error::eof (2), and recvmsg never
// fails with the system error of that value (ENOENT).
inline bool is_eof(const asio::error_code& ec) noexcept {
    return ec.value() == static_cast<int>(asio::error::eof);
}

// Asio's socket over a descriptor the stream owns outright.  Asio takes an
// adopted descriptor for one that may be shared (dup'ed) and in blocking
// mode: it sets non-blocking mode with ioctl(FIONBIO) at the first
// operation and removes the descriptor from epoll (EPOLL_CTL_DEL) before
// closing it, two system calls per connection.  Ours come from accept4 or
// socket with SOCK_NONBLOCK and are never shared, and closing removes a
// descriptor from epoll anyway, so the socket tells Asio that (its state
// flags; Asio 1.22's reactor service, which Debian 12 ships).
#if defined(ASIO_HAS_IO_URING_AS_DEFAULT) || defined(ASIO_HAS_IOCP)
#error "socket_stream relies on Asio's reactor (epoll): its state flags and reactor operations"
#endif

#if ASIO_VERSION < 102200 || ASIO_VERSION >= 102300
#error "owned_socket and rx_op are written against Asio 1.22's epoll reactor (Debian 12's libasio-dev)"
#endif

// The reactor's per-descriptor flag "the next operation of this kind should
// try at once" (epoll_reactor::descriptor_state::try_speculative_, private).
// An explicit instantiation may name a private member (C++20
// [temp.spec.general]/6); the friend function it defines hands out the
// member pointer (socket_stream.cpp instantiates it).
//
// skip_next_read_try clears the read flag: the next read operation started
// with speculation allowed is queued for the reactor's next event without
// being tried and without a system call.  Only from the one thread that runs
// the reactor, and only when nothing readable can have been reported since
// the caller last saw the descriptor empty (it registered it, or a read
// found nothing, on this thread): an event harvested in between would be
// lost.  An event that comes later sets the flag again.
void skip_next_read_try(asio::detail::reactor::per_descriptor_data& d) noexcept;
// The same flags' third member, for exceptional conditions, serves as a
// record of "an error or hang-up was reported".  Registering a descriptor
// sets it, and the reactor sets it again for every event with EPOLLPRI,
// EPOLLERR or EPOLLHUP (always, whether an operation waits for it or not),
// before it performs the read operations of that event.  No operation of
// that kind is ever started on our sockets, so nothing else touches it.
// Cleared at a moment when no hang-up can be pending (see socket_stream's
// hangup_armed_), hangup_seen (under the registration's lock, e.g. inside
// a reactor operation) then tells whether a reset, error or full close has
// been reported since.
void clear_hangup_seen(asio::detail::reactor::per_descriptor_data& d) noexcept;
bool hangup_seen(asio::detail::reactor::per_descriptor_data& d) noexcept;
struct reactor_try_flags {
    using type = bool (asio::detail::epoll_reactor::descriptor_state::*)[asio::detail::epoll_reactor::max_ops];
    friend type member(reactor_try_flags);
};
template <typename Tag, typename Tag::type M>
struct grant_member {
    friend typename Tag::type member(Tag) { return M; }
};

class owned_socket : public asio::generic::stream_protocol::socket {
public:
    owned_socket(asio::io_context& ctx, const asio::generic::stream_protocol& p, int fd)
        : basic_stream_socket(ctx, p, fd) {
        namespace ops = asio::detail::socket_ops;
        auto& st = impl_.get_implementation().state_;
        st = static_cast<ops::state_type>((st & ~ops::possible_dup) | ops::internal_non_blocking);
    }
    // The descriptor's registration with the reactor (for socket_stream's
    // own reactor operations, see rx_op).
    asio::detail::reactor::per_descriptor_data& reactor_data() noexcept {
        return impl_.get_implementation().reactor_data_;
    }
};

class socket_stream final : public stream {
public:
    enum class kind { tcp, ipc };

    // Takes ownership of fd, which must be a connected, non-blocking socket.
    // For ipc, path_addr is the address reported as NNG_OPT_LOCADDR and
    // NNG_OPT_REMADDR (the socket's path, as NNG reports it).
    socket_stream(asio::io_context& ctx, int fd, kind k, const nng_sockaddr* path_addr = nullptr);

    void send(aio* a) override;
    void recv(aio* a) override;
    void close() override;
    int get(std::string_view name, const opt_out& out) override;
    int set(std::string_view name, const opt_in& in) override;
    void send_file(aio* a, const file_span& f) override;
    bool wait_readable(ready_fn fn, void* arg, char* buf, std::size_t len) override;
    bool try_send(const nng_iov* iov, unsigned n, std::size_t& sent) override;
    void shutdown_send() noexcept override;
    asio::io_context* home() noexcept override { return &ctx_; }

    int native_handle() const noexcept { return fd_; }

private:
    ~socket_stream() override = default;

    void start_send(aio* a);
    // A receive run by Asio's reactor, but our own operation rather than
    // async_receive's.  Asio's receive, in the version Debian 12 ships,
    // counts only the end of the stream as draining the socket: after any
    // other read the next receive tries recv(2) at once, and in a
    // request/response exchange that try almost always finds nothing
    // (EAGAIN: a wasted system call, two per TLS handshake).  On a socket
    // with TCP_INQ (opt_tcp_inq) this one learns from each read whether
    // anything (bytes or the FIN) is left, and when nothing is, the next
    // receive waits for the reactor's next edge with no system call.  The
    // reactor performs it under the registration's lock, so an edge that
    // comes after the read still makes the next receive try at once.
    // One of each kind lives in the stream: starting one allocates nothing.
    struct rx_op : asio::detail::reactor_op {
        using done_fn = void (socket_stream::*)(const asio::error_code&, std::size_t);
        rx_op(socket_stream* s, done_fn fn);
        socket_stream* self;
        done_fn on_done;
        int fd = -1;
        asio::detail::reactor::per_descriptor_data* reg = nullptr;
        iovec* vec = nullptr;
        unsigned nvec = 0;
        std::size_t want = 0;
        static status perform_recv(asio::detail::reactor_op* base);
        static void complete(void* owner, asio::detail::scheduler_operation* base,
                             const asio::error_code& ec, std::size_t n);
    };

    // With mtx_ held: starts op (over its vectors), holding a reference
    // until it completes.
    void start_op(rx_op& op);
    void start_recv();
    void on_recv(const asio::error_code& ec, std::size_t got);
    void on_wait(const asio::error_code& ec, std::size_t got);
    void complete_initiated(aio_list& done);
    // With mtx_ held: sends for queued aios until the socket would block,
    // moving each finished aio (with its outcome) to done.
    void pump_send(aio_list& done);
    void arm_send();
    void on_writable(bool failed);
    static void cancel(aio* a, void* arg, int err);

    static std::span<const option<socket_stream>> options(kind k);

    std::mutex mtx_;
    asio::io_context& ctx_;
    asio::detail::reactor& reactor_;
    // A socket, not a plain descriptor: Asio's registration with the
    // reactor, which the receives (rx_op) and the wait for writability use.
    owned_socket desc_;
    int fd_;
    kind kind_;
    bool closed_ = false;
    aio_queue rdq_;
    aio_queue wrq_;
    bool wr_armed_ = false; // a wait for writability is pending
    // The receive in flight for rdq_'s head (see recv()).
    bool rd_inflight_ = false;
    int rd_cancel_err_ = 0;
    bool rd_ended_ = false; // a receive met the end of the stream or an error
    // Whether the reactor's hang-up record (hangup_seen) has been cleared
    // at a moment no hang-up could be pending, so that it now means one
    // came: in the constructor on the stream's own loop (no event can be
    // handled before it returns), else at the first receive that finds
    // the socket empty (EAGAIN: no error pending then), under the
    // registration's lock that the reactor's events also take.  Until
    // then no receive counts as draining the socket.  Read and written
    // only under that lock (or before any reactor operation).
    bool hangup_armed_ = false;
    rx_op rd_op_{this, &socket_stream::on_recv};
    std::array<iovec, aio::max_iov> rd_vec_{};
    // wait_readable's receive.
    rx_op wait_op_{this, &socket_stream::on_wait};
    iovec wait_vec_{};
    ready_fn wait_fn_ = nullptr;
    void* wait_arg_ = nullptr;
    // IPC only (a TCP stream asks the kernel): kept apart so that the many
    // idle connections of a server do not each carry 136 unused bytes.
    std::unique_ptr<nng_sockaddr> path_addr_;
};

} // namespace nnghttp::detail
