// The machinery TCP and IPC listeners and dialers share: accepting on a
// listening socket, and connecting a non-blocking socket, both driven by
// the executor's reactor.  The transport files (tcp.cpp, ipc.cpp) supply
// the addresses, options and the kind of stream made.
#pragma once

#include "stream/socket_stream.hpp"
#include "stream/stream.hpp"

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <sys/socket.h>
#include <vector>

namespace nnghttp::detail {

class socket_listener : public stream_listener {
public:
    int listen() override;
    void accept(aio* a) override;
    void close() override;
    int get(std::string_view name, const opt_out& out) override;
    int set(std::string_view name, const opt_in& in) override;

protected:
    explicit socket_listener(asio::io_context& ctx)
        : ctx_(ctx), reactor_(asio::use_service<asio::detail::reactor>(ctx)) {}
    ~socket_listener() override = default;

    // Creates, binds and listens; returns the fd or a negative NNG error.
    virtual int open_socket() = 0;
    // Wraps an accepted, non-blocking fd.
    virtual socket_stream* make_stream(int fd) = 0;
    // Called by close() after the socket is closed (IPC removes its path).
    virtual void on_closed() {}
    virtual std::span<const option<socket_listener>> options() const = 0;

    int fd() const noexcept { return fd_; }
    bool listening() const noexcept { return listening_; }

    std::mutex mtx_; // guards everything below and the subclasses' options
    asio::io_context& ctx_;

private:
    void pump(aio_list& done);
    void arm();
    void on_ready();
    static void cancel(aio* a, void* arg, int err);

    // The wait for the next connection: a reactor operation of ours that is
    // done as soon as the reactor runs it (the socket is readable).  Asio's
    // own readiness wait re-arms the descriptor with EPOLL_CTL_MOD each
    // time; on the listener's loop this one is queued with no system call
    // (see arm()).  One lives in the listener: arming allocates nothing.
    struct ready_op : asio::detail::reactor_op {
        explicit ready_op(socket_listener* l);
        socket_listener* self;
        static status perform(asio::detail::reactor_op*) { return done; }
        static void complete(void* owner, asio::detail::scheduler_operation* base,
                             const asio::error_code& ec, std::size_t n);
    };

    asio::detail::reactor& reactor_;
    // The listening socket and its registration with the reactor, from
    // listen() on (an Asio socket only for that: accept4 is ours).
    std::optional<owned_socket> desc_;
    ready_op ready_{this};
    aio_queue q_;
    bool listening_ = false;
    bool closed_ = false;
    bool armed_ = false;
    int fd_ = -1;
};

// A dialer makes one connect_op per dial; many may be in flight at once.
class socket_dialer : public stream_dialer {
public:
    void dial(aio* a) override;
    void close() override;
    int get(std::string_view name, const opt_out& out) override;
    int set(std::string_view name, const opt_in& in) override;

protected:
    explicit socket_dialer(asio::io_context& ctx) : ctx_(ctx) {}
    ~socket_dialer() override = default;

    struct connect_op : ref_counted {
        explicit connect_op(asio::io_context& ctx) : desc(ctx) {}
        aio* a = nullptr;
        ref_ptr<socket_dialer> owner; // the cycle ends when the op settles
        bool done = false;
        asio::posix::stream_descriptor desc;
        // Set by a transport that resolves names asynchronously: cancels it.
        void (*cancel_resolve)(connect_op&) = nullptr;
        std::shared_ptr<void> resolve_state;
    };

    // Starts the dial: either connect_to() at once, or after resolving.
    // Called with mtx_ held.
    virtual void start(connect_op& op) = 0;
    virtual socket_stream* make_stream(int fd) = 0;
    virtual std::span<const option<socket_dialer>> options() const = 0;
    // Where to bind the socket before connecting, if anywhere (TCP LOCADDR).
    virtual socklen_t local_address(sockaddr_storage&) const { return 0; }

    // Connects op to the address (with mtx_ held).
    void connect_to(connect_op& op, const sockaddr_storage& ss, socklen_t len);
    // Ends op with an error (rv != 0) or with its stream, if not yet done.
    // With mtx_ held; the aio is finished by the caller via the returned
    // pointer (nullptr if op was already done).
    aio* settle(connect_op& op, int rv, int fd);

    std::mutex mtx_;
    asio::io_context& ctx_;

private:
    void on_connect_ready(connect_op& op, bool aborted);
    static void cancel(aio* a, void* arg, int err);

    std::vector<ref_ptr<connect_op>> ops_;
    bool closed_ = false;
};

// A socket() call with non-blocking and close-on-exec set.
int open_nonblocking_socket(int family);

} // namespace nnghttp::detail
