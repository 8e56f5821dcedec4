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

#include <string_view>

namespace nnghttp {

class stream : public ref_counted {
public:
    virtual void send(aio* a) = 0;
    virtual void recv(aio* a) = 0;
    virtual void close() = 0;
    virtual int get(std::string_view name, const opt_out& out) = 0;
    virtual int set(std::string_view name, const opt_in& in) = 0;
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

} // namespace nnghttp
