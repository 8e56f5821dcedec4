// Byte streams, dialers and listeners (nng_stream, nng_stream_dialer,
// nng_stream_listener underneath).
//
// Every operation takes an aio and completes it exactly once, following the
// aio contract (core/aio.hpp):
//  * send/recv transfer at least one byte (or fail) and complete with the
//    count transferred, which may be less than the aio's vectors describe;
//    several outstanding sends (or receives) complete in the order issued.
//  * dial/accept complete with the new stream (a ref_counted stream*, one
//    reference owned by the receiver) in output 0.
//  * close() completes every pending operation with NNG_ECLOSED and makes
//    new ones fail with NNG_ECLOSED; it does not free the object.
// Objects are reference counted: the owner's reference is dropped with
// release() after close(); handlers in flight hold their own references.
#pragma once

#include <nng/nng.h>

#include "core/aio.hpp"
#include "core/ref_counted.hpp"
#include "stream/options.hpp"

#include <cstdint>
#include <string_view>

namespace asio {
class io_context;
}

namespace nnghttp::detail {

// A part of an open file, for stream::send_file.
struct file_span {
    int fd = -1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

class stream : public ref_counted {
public:
    virtual void send(aio* a) = 0;
    virtual void recv(aio* a) = 0;
    virtual void close() = 0;
    virtual int get(std::string_view name, const opt_out& out) = 0;
    virtual int set(std::string_view name, const opt_in& in) = 0;

    // Sends bytes of a file, queued with send() in order; completes like
    // send (at least one byte, count in the aio).  f must stay valid until
    // completion.  Streams that cannot (the default) fail with NNG_ENOTSUP.
    virtual void send_file(aio* a, const file_span& f) {
        (void)f;
        if (a->begin()) {
            a->set_outcome(NNG_ENOTSUP, 0);
            a->complete(false);
        }
    }

    // A send tried right here, for a caller that would rather skip an aio
    // round trip when the socket can take the bytes at once.  Returns false
    // when this stream cannot do that now (no such path, a send already
    // queued, closed, or an error, which send() will then report); true
    // with sent = the bytes the kernel took (0: it would block).  The
    // caller sends the rest, if any, with send().
    virtual bool try_send(const nng_iov* iov, unsigned n, std::size_t& sent) {
        (void)iov;
        (void)n;
        (void)sent;
        return false;
    }

    // A hint that the next send() (or try_send()) is the stream's last:
    // the caller closes the stream once it completes.  A stream may end
    // its output along with those bytes (TLS: the close_notify alert in
    // the same segment, where close() would send it apart, one system
    // call and one packet more).  Only if that send takes all its bytes in
    // one go; closing is still the caller's job.  The default ignores it.
    virtual void last_send() noexcept {}

    // Ends the output side (a TCP FIN after what was sent) while input may
    // still be read: for a server that answers and closes with the
    // client's bytes still coming, so that it can read and drop them
    // before closing (a close with unread input makes the kernel send a
    // reset, which can destroy the answer before the client reads it).
    // Only once no send is pending.  The default does nothing.
    virtual void shutdown_send() noexcept {}

    // For a server between requests: calls fn(arg, n) once, on the
    // stream's event loop, when bytes arrive or the stream is closed.  The
    // stream receives up to len (> 0) bytes into buf as they arrive and n
    // is how many (> 0); n < 0: closed, failed, or the peer ended the
    // stream.  No aio is used, so an idle connection costs little; the
    // buffer must stay valid until fn runs.  At most one wait at a time,
    // and no recv pending.  Returns false if the stream cannot do this (the
    // caller then reads as usual).
    //
    // Why a receive and not a readiness wait: the wait costs a system call
    // each time to re-arm the descriptor (Asio's reactor re-registers it),
    // while a receive queued on an edge-triggered registration costs none;
    // and the bytes it takes are the ones the woken reader wanted anyway.
    using ready_fn = void (*)(void* arg, long n);
    // The event loop context the stream's completions run on, if it has one.
    virtual asio::io_context* home() noexcept { return nullptr; }
    virtual bool wait_readable(ready_fn fn, void* arg, char* buf, std::size_t len) {
        (void)fn;
        (void)arg;
        (void)buf;
        (void)len;
        return false;
    }
};

class stream_dialer : public ref_counted {
public:
    virtual void dial(aio* a) = 0;
    virtual void close() = 0;
    virtual int get(std::string_view name, const opt_out& out) = 0;
    virtual int set(std::string_view name, const opt_in& in) = 0;
};

class stream_listener : public ref_counted {
public:
    virtual int listen() = 0;
    virtual void accept(aio* a) = 0;
    virtual void close() = 0;
    virtual int get(std::string_view name, const opt_out& out) = 0;
    virtual int set(std::string_view name, const opt_in& in) = 0;
};

// Makes a dialer or listener for a parsed URL (tcp, tcp4, tcp6, ipc, unix,
// abstract).  NNG_ENOTSUP for other schemes; NNG_EADDRINVAL for a URL the
// scheme cannot use.
int make_dialer(const nng_url& url, stream_dialer*& out);
int make_listener(const nng_url& url, stream_listener*& out);

} // namespace nnghttp::detail
