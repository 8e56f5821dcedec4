// A connected stream socket (TCP or Unix domain), driven by the executor's
// reactor.
//
// Design notes.  The socket is non-blocking and nng-http makes the
// sendmsg/readv calls itself; Asio's reactor only reports readiness
// (async_wait).  That keeps the transfer semantics NNG documents (one
// system call per operation, partial counts reported as they are) and makes
// cancellation a pure queue operation: a cancelled aio is unlinked and
// finished, with no I/O of ours to unwind.  Each direction has a FIFO of
// aios; only its head transfers, and a readiness wait is armed while the
// queue is non-empty.  An operation started on an idle direction tries its
// system call at once, so a send on a writable socket costs one syscall and
// one posted completion.
#pragma once

#include "stream/stream.hpp"

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <memory>
#include <mutex>
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
    bool wait_readable(ready_fn fn, void* arg) override;
    bool try_send(const nng_iov* iov, unsigned n, std::size_t& sent) override;
    asio::io_context* home() noexcept override { return &ctx_; }

    int native_handle() const noexcept { return fd_; }

private:
    ~socket_stream() override = default;

    struct direction {
        aio_queue q;
        bool armed = false;
        bool is_send;
    };

    void start(aio* a, direction& d);
    // With mtx_ held: transfers for queued aios until the socket would block,
    // moving each finished aio (with its outcome) to done.
    void pump(direction& d, aio_queue& done);
    void arm(direction& d);
    void on_ready(direction& d, bool failed);
    static void cancel(aio* a, void* arg, int err);

    static std::span<const option<socket_stream>> options(kind k);

    std::mutex mtx_;
    asio::io_context& ctx_;
    asio::posix::stream_descriptor desc_;
    int fd_;
    kind kind_;
    bool closed_ = false;
    direction rd_{.is_send = false};
    direction wr_{.is_send = true};
    // IPC only (a TCP stream asks the kernel): kept apart so that the many
    // idle connections of a server do not each carry 136 unused bytes.
    std::unique_ptr<nng_sockaddr> path_addr_;
};

} // namespace nnghttp::detail
