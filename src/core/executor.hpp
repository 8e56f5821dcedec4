// The worker threads: one Asio io_context run by a pool of threads.
//
// Every asynchronous completion in nng-http runs on one of these threads:
// reactor readiness handlers, timers, resolver results and aio callbacks
// posted by aio::finish().  A handler that the reactor runs may complete an
// aio and call its callback directly (no extra thread hop); a completion
// that happens inside the call that started the operation is posted
// instead, so a callback never runs inside the initiating call.
//
// Work posted from a worker thread lands on that thread's private queue
// (Asio's behaviour), so chains of completions stay on one thread without
// wake-ups.
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <memory>
#include <thread>
#include <vector>

namespace nnghttp {

class executor {
public:
    // threads == 0 picks the default: two per core (at least 4), or the
    // value of the NNGHTTP_THREADS environment variable.
    explicit executor(unsigned threads = 0);
    ~executor(); // stops the context and joins the threads
    executor(const executor&) = delete;
    executor& operator=(const executor&) = delete;

    asio::io_context& context() noexcept { return ctx_; }

    template <typename F> void post(F&& f) { asio::post(ctx_, std::forward<F>(f)); }

    // True when called from one of this executor's threads.
    bool running_in_this_thread() const noexcept;

    unsigned thread_count() const noexcept { return static_cast<unsigned>(threads_.size()); }

    // The process-wide executor, created on first use.
    static executor& global();
    // The executor whose worker is the calling thread, or global().
    static executor& current();
    // Destroys the global executor (nng_fini).  The next global() makes a
    // new one.  Nothing may be in flight.
    static void shutdown_global();

private:
    asio::io_context ctx_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::vector<std::thread> threads_;
};

} // namespace nnghttp
