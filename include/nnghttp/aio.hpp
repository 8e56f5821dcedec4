// nnghttp::aio: an owning handle for one nng_aio, with a lambda as its
// callback.
//
// It is the callback style of asynchronous I/O, for code that does not use
// coroutines (see task.hpp for those).  The rules are NNG's: one operation
// at a time; the callback runs once per operation, on one of the library's
// event loop threads, never inside the call that started it; result() and
// count() tell how it went.  The destructor stops the aio: it cancels what
// is in flight and waits for the callback to return, so it must not run
// inside that callback.
#pragma once

#include <nng/nng.h>
#include <nnghttp/config.hpp>
#include <nnghttp/error.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>

namespace nnghttp {

class NNGHTTP_API aio {
  public:
    using callback = std::function<void()>;

    // No callback: wait() is how the caller learns of completion.
    aio();
    explicit aio(callback cb);
    // Takes over a C aio (its callback stays what nng_aio_alloc set).
    aio(adopt_t, nng_aio* a) noexcept;
    ~aio();
    aio(aio&& o) noexcept;
    aio& operator=(aio&& o) noexcept;
    aio(const aio&) = delete;
    aio& operator=(const aio&) = delete;

    // The next operation's timeout (the default: the provider's own).
    void set_timeout(std::chrono::milliseconds d) noexcept;
    void set_timeout(nng_duration ms) noexcept;
    // The buffers the next read or write uses (at most 8).
    void set_iov(std::span<const nng_iov> iov);
    void set_buffer(std::span<std::byte> buf);
    void set_buffer(std::span<const std::byte> buf);

    std::error_code result() const noexcept;
    std::size_t count() const noexcept;
    void* output(unsigned index) const noexcept;
    void set_input(unsigned index, void* p) noexcept;

    void cancel() noexcept;
    void abort(errc reason) noexcept;
    // Blocks until the operation and its callback are done.
    void wait() noexcept;
    // Cancels, refuses new operations, waits.
    void stop() noexcept;
    // Completes after d (result: no error), or at the timeout.
    void sleep(std::chrono::milliseconds d) noexcept;

    nng_aio* native() const noexcept { return a_; }
    // Gives up ownership: the caller frees it with nng_aio_free.  An aio
    // made with a C++ callback keeps calling it, so its small state is
    // left allocated for good: release() is meant for adopted C aios.
    nng_aio* release() noexcept;

  private:
    struct state;
    nng_aio* a_ = nullptr;
    std::unique_ptr<state> st_;
};

} // namespace nnghttp
