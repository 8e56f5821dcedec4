// The asynchronous I/O handle (nng_aio underneath).
//
// An aio carries one operation at a time from a consumer (who allocated it
// and owns its callback) to a provider (a stream, a timer, a user's own
// code) and back.  The full contract is in docs/design/aio-contract.md; in
// short:
//
//  * A provider calls begin() first.  If it returns false the aio has been
//    stopped: the provider drops the request and does nothing else (no
//    callback runs; result() is NNG_ECANCELED).
//  * After a successful begin(), the provider completes the aio exactly once
//    with finish() / finish_sync() / finish_error().  Completion runs the
//    consumer's callback on a worker thread, never inside the call that
//    started the operation.
//  * A provider that cannot complete at once calls schedule() with a cancel
//    function.  If schedule() fails (stopped aio, zero timeout) the provider
//    must finish the aio with the error it returns.
//  * The cancel function may be called at most once per schedule(), from any
//    thread, with the reason (NNG_ECANCELED, NNG_ETIMEDOUT, NNG_ECLOSED or
//    the consumer's abort code).  If the operation is still the provider's
//    to cancel, it finishes the aio with that reason; otherwise it does
//    nothing.  It runs without any aio lock held.
//  * The provider must not be destroyed while one of its aios is scheduled
//    and unfinished.  If it is ref_counted and passes itself as `keep` to
//    schedule(), a cancel or timeout in flight holds a reference to it.
//
// Consumers: abort()/cancel() return at once; wait() blocks until the
// operation and its callback are done; stop() aborts with NNG_ECANCELED,
// refuses new operations and waits; the destructor is stop() plus a final
// wait.  The callback may start a new operation on the same aio.
#pragma once

#include <nng/nng.h>

#include "core/clock.hpp"
#include "core/ref_counted.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

struct nng_aio;

namespace nnghttp::detail {

class aio;
class aio_queue;
class aio_list;
class loop;
namespace detail {
class expire_shard;
}

// Thread-free mode only (loop::thread_free()): fires the aio deadlines that
// have passed at `now` and returns the next one (time_never if none).
time_ms expire_due(time_ms now);

// Called to cancel a scheduled operation; see the contract above.
using aio_cancel_fn = void (*)(aio*, void* arg, int err);

class aio {
public:
    using callback_fn = void (*)(void*);

    // NNG's limit on the scatter/gather vectors an aio carries.
    static constexpr unsigned max_iov = 8;
    static constexpr unsigned max_args = 4;

    // cb may be null: completion then only wakes wait().
    aio(callback_fn cb, void* arg) noexcept;
    ~aio();
    aio(const aio&) = delete;
    aio& operator=(const aio&) = delete;

    // ---- consumer side ----

    void set_timeout(nng_duration d) noexcept { timeout_ = d; }
    // Declares that the callback only hands the outcome on (it takes none
    // of the provider's locks, never waits, and returns at once): it may
    // then run in the call that completes the operation, on any thread,
    // rather than be posted to a loop.  Set before the first operation.
    void set_callback_inline() noexcept { cb_inline_ = true; }
    nng_duration timeout() const noexcept { return timeout_; }
    // Copies niov vectors (at most max_iov, else NNG_EINVAL).
    int set_iov(unsigned niov, const nng_iov* iov) noexcept;

    int result() const noexcept { return result_; }
    std::size_t count() const noexcept { return count_; }

    void set_input(unsigned i, void* p) noexcept;
    void* input(unsigned i) const noexcept { return i < max_args ? inputs_[i] : nullptr; }
    void set_output(unsigned i, void* p) noexcept;
    void* output(unsigned i) const noexcept { return i < max_args ? outputs_[i] : nullptr; }

    // Asks the provider to finish the current operation with err.
    void abort(int err) noexcept;
    void cancel() noexcept { abort(NNG_ECANCELED); }
    // Waits for the current operation and its callback.  From inside this
    // aio's own callback it waits for everything but that callback.
    void wait() noexcept;
    // Whether no operation or callback is pending (what wait() waits for),
    // without waiting.
    bool settled() const noexcept;
    // abort(NNG_ECANCELED), refuse new operations, wait().
    void stop() noexcept;
    // abort(NNG_ECLOSED) and refuse new operations, without waiting.
    void close() noexcept;
    // Completes after ms milliseconds with 0, or NNG_ETIMEDOUT if the aio's
    // own timeout is shorter.
    void sleep(nng_duration ms) noexcept;

    // ---- provider side ----

    [[nodiscard]] bool begin() noexcept;
    // 0, or the error the provider must finish with.
    [[nodiscard]] int schedule(aio_cancel_fn fn, void* arg, ref_counted* keep = nullptr) noexcept;
    // Completes the operation; the callback is posted to a worker thread.
    void finish(int rv, std::size_t count) noexcept;
    // Completes and runs the callback on this thread.  Only for a worker
    // thread that is not inside the call that started the operation.
    void finish_sync(int rv, std::size_t count) noexcept;
    void finish_error(int rv) noexcept { finish(rv, 0); }
    // Records the outcome now and completes later with complete(): for a
    // provider that collects finished aios under its lock and completes
    // them after releasing it.
    void set_outcome(int rv, std::size_t n) noexcept {
        result_ = rv;
        count_ = n;
    }
    // home: where the callback is posted when it cannot run here and this
    // thread is not an event loop's (the provider's own loop, so that its
    // completions stay in order with its other events there).
    void complete(bool sync, loop* home = nullptr) noexcept { finish_impl(result_, count_, sync, home); }
    // Gives up a begun operation without completing it (NNG's behaviour when
    // nng_aio_defer cannot schedule): no callback runs unless the provider
    // later finishes the aio anyway.
    void abandon() noexcept;

    // Replaces NNG_DURATION_DEFAULT with the provider's own default.
    void normalize_timeout(nng_duration d) noexcept {
        if (timeout_ == NNG_DURATION_DEFAULT) {
            timeout_ = d;
        }
    }

    unsigned iov_count() const noexcept { return niov_; }
    nng_iov* iov() noexcept { return iov_.data(); }
    // Total bytes the vectors describe.
    std::size_t iov_residual() const noexcept;
    // Drops n bytes from the front of the vectors (after a partial transfer).
    void iov_advance(std::size_t n) noexcept;
    void bump_count(std::size_t n) noexcept { count_ += n; }

    // Scratch space for the provider of the current operation (e.g. which
    // kind of read an HTTP connection is doing, and its message).  Only the
    // provider that began the operation uses it.
    std::uintptr_t prov_tag = 0;
    void* prov_ptr = nullptr;

    // nng_aio_defer: schedule() with the C API's kind of cancel function.
    using c_cancel_fn = void (*)(::nng_aio*, void*, int);
    [[nodiscard]] int schedule_c(c_cancel_fn fn, void* arg) noexcept;

    // A cancel function taken out of the aio (under the shard lock, so that
    // it belongs to one operation), called later without the lock.
    struct cancel_call {
        aio* a = nullptr;
        aio_cancel_fn fn = nullptr;
        c_cancel_fn cfn = nullptr;
        void* arg = nullptr;
        ref_ptr<ref_counted> keep;
        int err = 0;
        void invoke() noexcept;
    };

    // True when this thread is inside this aio's callback (at any depth).
    bool in_callback_here() const noexcept;
    // Whether this thread is inside any aio's callback.
    static bool callback_running_here() noexcept;

private:
    friend class aio_queue;
    friend class aio_list;
    friend class loop;
    friend class detail::expire_shard;

    void finish_impl(int rv, std::size_t count, bool sync, loop* home = nullptr) noexcept;
    void run_callback() noexcept;
    // Waits until nothing is in flight (op_only: until no operation is in
    // progress, though its callback may be pending), pumping the loop when
    // called from a loop thread.
    void wait_busy(bool op_only) noexcept;
    bool settled_locked(bool op_only) const noexcept;
    // With the shard lock held: one busy unit is done.  Returns a loop to
    // wake (a waiter pumping it), if any.
    loop* release_busy_locked(bool& notify) noexcept;
    int schedule_impl(aio_cancel_fn fn, c_cancel_fn cfn, void* arg, ref_counted* keep) noexcept;
    cancel_call take_cancel_locked(int err) noexcept;
    // Takes the cancel function out (under the shard lock) and calls it.
    void take_and_cancel(int err, bool stop) noexcept;
    static void sleep_cancel(aio* a, void* arg, int err);

    callback_fn cb_;
    void* cb_arg_;
    detail::expire_shard& shard_;
    bool cb_inline_ = false; // see set_callback_inline()

    nng_duration timeout_ = NNG_DURATION_INFINITE;
    int result_ = 0;
    std::size_t count_ = 0;
    unsigned niov_ = 0;
    std::array<nng_iov, max_iov> iov_{};
    std::array<void*, max_args> inputs_{};
    std::array<void*, max_args> outputs_{};

    // Guarded by shard_.mtx:
    aio_cancel_fn cancel_fn_ = nullptr;
    c_cancel_fn c_cancel_fn_ = nullptr;
    void* cancel_arg_ = nullptr;
    ref_counted* cancel_keep_ = nullptr;
    time_ms expire_ = time_never;
    aio* exp_prev_ = nullptr; // links in the shard's expiry list
    aio* exp_next_ = nullptr;
    unsigned busy_ = 0;    // operations begun + callbacks pending or running
    unsigned waiters_ = 0; // threads in wait()
    loop* pump_loop_ = nullptr; // a loop thread waiting in wait(), pumping
    bool exp_linked_ = false;
    bool prepped_ = false;   // begin() done, finish not yet
    bool stopped_ = false;   // stop()/close(): begin() fails from now on
    bool expiring_ = false;  // the expiry thread is calling our cancel fn
    bool sleeping_ = false;  // a sleep() is pending
    bool expire_ok_ = false; // expiry completes with 0 (sleep), not ETIMEDOUT

    // Guarded by the provider's own lock (aio_queue):
    aio* q_prev_ = nullptr;
    aio* q_next_ = nullptr;
    aio_queue* q_owner_ = nullptr;
    // Owned by whoever holds the aio in an aio_list (one thread at a time).
    aio* l_next_ = nullptr;
};

// A FIFO of aios for a provider, linked through the aios themselves (no
// allocation).  Not thread-safe: the provider guards it with its own lock.
class aio_queue {
public:
    aio_queue() = default;
    aio_queue(const aio_queue&) = delete;
    aio_queue& operator=(const aio_queue&) = delete;

    bool empty() const noexcept { return head_ == nullptr; }
    aio* front() const noexcept { return head_; }
    bool contains(const aio* a) const noexcept { return a->q_owner_ == this; }
    void push_back(aio* a) noexcept;
    // Removes a if it is queued here; returns whether it was.
    bool remove(aio* a) noexcept;
    aio* pop_front() noexcept;
    std::size_t size() const noexcept { return size_; }

private:
    aio* head_ = nullptr;
    aio* tail_ = nullptr;
    std::size_t size_ = 0;
};

// A FIFO of aios taken out of their provider's queue to be completed
// (a batch built under the provider's lock and completed after it is
// released), or waiting for their callback on a loop.  It links through
// its own field, not the queue links: a cancel racing with the completion
// may still look at the queue links (under the provider's lock) while the
// batch is walked without it.
class aio_list {
public:
    aio_list() = default;
    aio_list(const aio_list&) = delete;
    aio_list& operator=(const aio_list&) = delete;

    bool empty() const noexcept { return head_ == nullptr; }
    std::size_t size() const noexcept { return size_; }
    void push_back(aio* a) noexcept {
        a->l_next_ = nullptr;
        if (tail_ != nullptr) {
            tail_->l_next_ = a;
        } else {
            head_ = a;
        }
        tail_ = a;
        size_++;
    }
    aio* pop_front() noexcept {
        aio* a = head_;
        if (a != nullptr) {
            head_ = a->l_next_;
            if (head_ == nullptr) {
                tail_ = nullptr;
            }
            a->l_next_ = nullptr;
            size_--;
        }
        return a;
    }

private:
    aio* head_ = nullptr;
    aio* tail_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace nnghttp::detail
