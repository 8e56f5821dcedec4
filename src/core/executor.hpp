// Event loops: one Asio io_context per thread.
//
// Every asynchronous completion in nng-http runs on a loop thread: reactor
// readiness handlers, resolver results and aio callbacks.  An I/O object
// (stream, listener, dialer) is bound to one loop for life, so its handlers
// and the callbacks they run stay on one thread: no locks contended between
// loops, no wake-ups, and the private-queue fast path of an io_context that
// one thread runs.
//
// Completions.  A reactor handler completes an aio and runs its callback in
// place (aio::finish_sync).  A completion that happens inside the call that
// started the operation is deferred instead (loop::defer): on a loop thread
// it joins that loop's list of pending callbacks, drained by one posted
// handler per batch; from any other thread it is posted to a loop.
//
// Blocking inside a callback.  A callback that waits for another aio
// (nng_aio_wait, a synchronous helper) would stall its loop; aio::wait()
// therefore keeps the calling loop running (pending callbacks first, then
// the reactor) until the awaited operation is done.  A callback is never
// re-entered for the aio it is running for.
#pragma once

#include "core/aio.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace nnghttp::detail {

class loop {
  public:
    loop();
    ~loop(); // stops the context and joins the thread
    loop(const loop&) = delete;
    loop& operator=(const loop&) = delete;

    asio::io_context& context() noexcept { return ctx_; }

    // Runs a's callback later on this loop (thread-safe).
    void defer(aio* a);

    // The loop whose thread is calling, or nullptr.
    static loop* current() noexcept;

    // Thread-free mode (NNGHTTP_THREADS=0, read once): the process gets one
    // loop and no thread of ours at all.  The loop runs on the thread that
    // made it (the application's) whenever that thread blocks in the library
    // (nng_msleep, nng_aio_wait, ...), and aio deadlines are kept by the loop
    // instead of expiry threads.  For single-threaded programs: glibc and
    // libstdc++ then skip their atomics and locks, and Asio runs unlocked.
    static bool thread_free() noexcept;

    // Blocks the calling thread for d; in thread-free mode, on the loop's
    // thread, the loop runs meanwhile.
    static void block_for(std::chrono::milliseconds d);

    // Thread-free mode: an aio deadline t was added; the loop's timer fires
    // the aio deadlines instead of a thread.
    static void deadline_added(time_ms t);

    // Thread-free mode, the library used from a thread that does not run
    // the loop (the mode's one rule broken): says so on stderr and aborts,
    // rather than hang or race.
    [[noreturn]] static void misuse(const char* what) noexcept;
    // Whether the calling thread is the one that runs ctx (its reactor's
    // only thread: nothing else can be waiting on that reactor meanwhile).
    static bool runs_here(const asio::io_context& ctx) noexcept {
        loop* l = current();
        return l != nullptr && &l->ctx_ == &ctx;
    }

    // Only from this loop's own thread: runs the pending callbacks (except
    // those of aios already in a callback on this thread) and one ready
    // handler if any, else waits up to `limit` for one handler.
    void pump(std::chrono::milliseconds limit);

  private:
    void run();
    bool run_pending();
    void drain();
    void arm_expiry(time_ms t);
    void on_expiry();

    asio::io_context ctx_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::unique_ptr<asio::steady_timer> expiry_; // thread-free mode only
    time_ms expiry_at_ = time_never;             // what expiry_ is set for
    aio_list pending_;          // this thread only
    bool drain_posted_ = false; // this thread only
    std::thread thr_;
};

class executor {
  public:
    // loops == 0 picks the default: one per CPU the process may use, or the value
    // of the NNGHTTP_THREADS environment variable.
    explicit executor(unsigned loops = 0);
    ~executor();
    executor(const executor&) = delete;
    executor& operator=(const executor&) = delete;

    // The loop for a new I/O object (round robin).
    loop& next() noexcept;
    // The calling thread's loop, else next().
    loop& current_or_next() noexcept;

    unsigned loop_count() const noexcept { return static_cast<unsigned>(loops_.size()); }
    loop& at(unsigned i) noexcept { return *loops_[i % loops_.size()]; }
    // The index of the loop that runs ctx (0 if none does).
    unsigned index_of(const asio::io_context& ctx) const noexcept;
    // The loop that runs ctx (the first if none does).
    loop& loop_of(const asio::io_context& ctx) noexcept { return at(index_of(ctx)); }

    // The process-wide executor, created on first use.
    static executor& global();
    // Destroys the global executor (nng_fini).  Nothing may be in flight.
    static void shutdown_global();

  private:
    std::vector<std::unique_ptr<loop>> loops_;
    std::atomic<unsigned> next_{0};
};

} // namespace nnghttp::detail
