// Design notes.
//
// Locking.  Every aio belongs to one expiry shard for life.  The shard's
// mutex guards the aio's scheduling state: cancel function, expiry time and
// list links, the busy count and the stopped flag.  Sharding (one shard per
// core, aios dealt out round robin) keeps unrelated aios off each other's
// lock.  Provider state (queues) is under the provider's own lock; the aio
// never calls into a provider while holding the shard lock, so the only
// lock order is provider -> shard.
//
// Busy count.  busy_ counts begun operations that have not yet had their
// callback run, plus callbacks pending or running.  begin() raises it;
// finish() keeps it (or raises it for a completion without begin, as NNG
// allows); the end of the callback lowers it.  wait() sleeps until it is
// zero.  Because a callback may start the next operation on the same aio
// before returning, the count of a busy chain never touches zero until the
// chain ends or the aio is stopped.
//
// Cancellation.  abort(), stop(), the expiry thread and the destructor all
// take the cancel function out under the lock (so it is called at most once
// per schedule) and call it with the lock released.  A provider that passed
// itself as `keep` is held by a reference across that call: an unfinished
// scheduled aio proves its provider is still alive, and the reference keeps
// it so until the cancel function returns.
//
// Expiry.  Each shard has a thread that sleeps until the earliest deadline
// in its (unsorted, intrusive) list, then collects expired aios, marks them
// `expiring_` so that their destructor waits, and cancels them with
// NNG_ETIMEDOUT (or 0 for a sleep).  Add and remove are O(1); a scan happens
// only when a deadline passes.  In thread-free mode (loop::thread_free()) there is one
// shard and no thread: the loop's timer is set for the earliest deadline
// (loop::deadline_added) and calls expire_due() when it goes off.
//
// Callbacks.  finish() posts the callback to the current worker's executor
// (a worker's own posts stay on that thread: no wake-up, no hop); a handler
// already running on a worker uses finish_sync() to run the callback in
// place, and so does any thread for a callback declared inline (one that
// only passes the outcome on, as the C++ API's awaiting ops do).  An aio
// without a callback completes inline.

#include "core/aio.hpp"

#include "core/executor.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace nnghttp::detail {

namespace detail {

class expire_shard {
public:
    // Thread-free mode: no thread; the loop calls expire_due() instead.
    expire_shard() {
        if (!loop::thread_free()) {
            thr_ = std::thread([this] { run(); });
        }
    }
    // Shards live for the whole process (see shards()).
    ~expire_shard() = delete;

    // Both with mtx held.
    void add(aio* a) noexcept {
        assert(!a->exp_linked_);
        a->exp_prev_ = nullptr;
        a->exp_next_ = head_;
        if (head_ != nullptr) {
            head_->exp_prev_ = a;
        }
        head_ = a;
        a->exp_linked_ = true;
        if (a->expire_ < next_) {
            next_ = a->expire_;
            if (thr_.joinable()) {
                cv_.notify_one();
            }
        }
        if (!thr_.joinable()) {
            // Thread-free: the loop's timer decides, not next_, which a
            // remove() leaves stale (early) and which outlives a loop that
            // nng_fini destroyed.
            loop::deadline_added(a->expire_);
        }
    }

    void remove(aio* a) noexcept {
        if (!a->exp_linked_) {
            return;
        }
        if (a->exp_prev_ != nullptr) {
            a->exp_prev_->exp_next_ = a->exp_next_;
        } else {
            head_ = a->exp_next_;
        }
        if (a->exp_next_ != nullptr) {
            a->exp_next_->exp_prev_ = a->exp_prev_;
        }
        a->exp_prev_ = a->exp_next_ = nullptr;
        a->exp_linked_ = false;
        // next_ may now be early; the thread then just rescans.
    }

    std::mutex mtx;
    std::condition_variable done_cv; // busy_ reached 0, or expiring_ cleared

    // With lk (of mtx) held: fires what is due at now; false if nothing was.
    bool fire_due(std::unique_lock<std::mutex>& lk, time_ms now);
    // With mtx held: the earliest deadline (or an earlier time, after a
    // remove), time_never if none.
    time_ms next_deadline() const noexcept { return next_; }

private:
    static constexpr std::size_t batch_max = 64;

    void run();
    std::size_t collect_expired(time_ms now, std::array<aio*, batch_max>& batch) noexcept;

    std::condition_variable cv_;
    aio* head_ = nullptr;
    time_ms next_ = time_never;
    std::thread thr_;
};

std::size_t expire_shard::collect_expired(time_ms now,
                                          std::array<aio*, batch_max>& batch) noexcept {
    std::size_t n = 0;
    next_ = time_never;
    aio* a = head_;
    while (a != nullptr) {
        aio* nxt = a->exp_next_;
        if (a->expire_ <= now && n < batch_max) {
            remove(a);
            a->expiring_ = true;
            batch[n++] = a;
        } else if (a->expire_ <= now) {
            next_ = now; // batch full: come straight back
        } else {
            next_ = std::min(next_, a->expire_);
        }
        a = nxt;
    }
    return n;
}

// Take every cancel function of the batch while still locked: once the
// lock is released, an aio of the batch may finish and begin a new
// operation, whose cancel function is not ours to call.
bool expire_shard::fire_due(std::unique_lock<std::mutex>& lk, time_ms now) {
    std::array<aio*, batch_max> batch{};
    std::array<aio::cancel_call, batch_max> calls{};
    std::size_t n = collect_expired(now, batch);
    if (n == 0) {
        return false;
    }
    for (std::size_t i = 0; i < n; i++) {
        calls[i] = batch[i]->take_cancel_locked(batch[i]->expire_ok_ ? 0 : NNG_ETIMEDOUT);
    }
    lk.unlock();
    for (std::size_t i = 0; i < n; i++) {
        calls[i].invoke();
        calls[i] = {};
    }
    lk.lock();
    for (std::size_t i = 0; i < n; i++) {
        batch[i]->expiring_ = false;
    }
    done_cv.notify_all();
    return true;
}

void expire_shard::run() {
    std::unique_lock lk(mtx);
    for (;;) {
        time_ms now = clock_ms();
        if (now < next_) {
            if (next_ == time_never) {
                cv_.wait(lk);
            } else {
                auto tp = std::chrono::steady_clock::time_point(std::chrono::milliseconds(next_));
                cv_.wait_until(lk, tp);
            }
            continue;
        }
        fire_due(lk, now);
    }
}

namespace {

struct shard_set {
    std::vector<expire_shard*> shards;
    std::atomic<unsigned> next{0};
};

// Created once and never destroyed: aios may be freed after main() returns
// (static destructors of user programs), and their shards must outlive them.
shard_set& shards() {
    static shard_set* set = [] {
        auto* s = new shard_set;
        unsigned n = loop::thread_free() ? 1u
                                         : std::max(1u, std::min(64u, std::thread::hardware_concurrency()));
        for (unsigned i = 0; i < n; i++) {
            s->shards.push_back(new expire_shard);
        }
        return s;
    }();
    return *set;
}

expire_shard& pick_shard() {
    shard_set& s = shards();
    unsigned i = s.next.fetch_add(1, std::memory_order_relaxed);
    return *s.shards[i % s.shards.size()];
}

} // namespace
} // namespace detail

time_ms expire_due(time_ms now) {
    detail::expire_shard& sh = *detail::shards().shards.front();
    std::unique_lock lk(sh.mtx);
    if (now >= sh.next_deadline()) {
        sh.fire_due(lk, now);
    }
    return sh.next_deadline();
}

namespace detail {
namespace {

// The aios whose callbacks this thread is running, innermost first (wait()
// may run other callbacks nested inside one).
struct callback_frame {
    const aio* a;
    const callback_frame* outer;
};
thread_local const callback_frame* tl_frames = nullptr;

} // namespace
} // namespace detail

aio::aio(callback_fn cb, void* arg) noexcept : cb_(cb), cb_arg_(arg), shard_(detail::pick_shard()) {}

aio::~aio() {
    cancel_call call;
    {
        std::unique_lock lk(shard_.mtx);
        stopped_ = true;
        shard_.done_cv.wait(lk, [this] { return !expiring_; });
        shard_.remove(this);
        call = take_cancel_locked(NNG_ECLOSED);
    }
    call.invoke();
    call = {};
    wait_busy(false);
}

aio::cancel_call aio::take_cancel_locked(int err) noexcept {
    cancel_call c;
    c.a = this;
    c.fn = std::exchange(cancel_fn_, nullptr);
    c.cfn = std::exchange(c_cancel_fn_, nullptr);
    c.arg = std::exchange(cancel_arg_, nullptr);
    // The provider is alive while its operation is scheduled; hold it
    // across the call.
    c.keep = ref_ptr<ref_counted>(std::exchange(cancel_keep_, nullptr));
    c.err = err;
    return c;
}

void aio::cancel_call::invoke() noexcept {
    if (fn != nullptr) {
        fn(a, arg, err);
    } else if (cfn != nullptr) {
        cfn(reinterpret_cast<::nng_aio*>(a), arg, err);
    }
}

int aio::set_iov(unsigned niov, const nng_iov* iov) noexcept {
    if (niov > max_iov) {
        return NNG_EINVAL;
    }
    if (iov != iov_.data()) {
        std::copy_n(iov, niov, iov_.begin());
    }
    niov_ = niov;
    return 0;
}

void aio::set_input(unsigned i, void* p) noexcept {
    if (i < max_args) {
        inputs_[i] = p;
    }
}

void aio::set_output(unsigned i, void* p) noexcept {
    if (i < max_args) {
        outputs_[i] = p;
    }
}

void aio::take_and_cancel(int err, bool stop) noexcept {
    cancel_call call;
    {
        std::lock_guard lk(shard_.mtx);
        shard_.remove(this);
        call = take_cancel_locked(err);
        if (stop) {
            stopped_ = true;
        }
    }
    call.invoke();
}

void aio::abort(int err) noexcept { take_and_cancel(err, false); }

void aio::close() noexcept { take_and_cancel(NNG_ECLOSED, true); }

void aio::stop() noexcept {
    take_and_cancel(NNG_ECANCELED, true);
    wait();
}

bool aio::callback_running_here() noexcept { return detail::tl_frames != nullptr; }

bool aio::in_callback_here() const noexcept {
    for (const auto* f = detail::tl_frames; f != nullptr; f = f->outer) {
        if (f->a == this) {
            return true;
        }
    }
    return false;
}

void aio::wait() noexcept {
    // Inside our own callback, a callback for an operation started there
    // cannot run until this one returns: wait for the operation only.
    wait_busy(in_callback_here());
}

bool aio::settled_locked(bool op_only) const noexcept { return op_only ? !prepped_ : busy_ == 0; }

bool aio::settled() const noexcept {
    std::lock_guard lk(shard_.mtx);
    return busy_ == 0;
}

void aio::wait_busy(bool op_only) noexcept {
    std::unique_lock lk(shard_.mtx);
    if (settled_locked(op_only)) {
        return; // also keeps an idle aio freed after nng_fini from making a loop
    }
    if (loop* l = loop::current()) {
        // On a loop thread: keep the loop running while we wait, since the
        // completion may need it (see executor.hpp).
        while (!settled_locked(op_only)) {
            pump_loop_ = l;
            lk.unlock();
            l->pump(std::chrono::milliseconds(20));
            lk.lock();
        }
        pump_loop_ = nullptr;
        return;
    }
    if (loop::thread_free()) {
        loop::misuse("an aio wait");
    }
    waiters_++;
    shard_.done_cv.wait(lk, [this, op_only] { return settled_locked(op_only); });
    waiters_--;
}

// notify: whether threads wait in wait(); the caller notifies the shard's
// condition after unlocking (notified under the lock, a waiter would wake
// only to block on the lock at once).  The shard outlives every aio, so it
// may be notified even after a waiter has freed this one.
loop* aio::release_busy_locked(bool& notify) noexcept {
    --busy_;
    notify = waiters_ > 0;
    return pump_loop_;
}

namespace {
// Wakes a loop thread pumping in wait(), so it rechecks at once.
void wake(loop* l) {
    if (l != nullptr) {
        asio::post(l->context(), [] {});
    }
}
// After the shard lock is released: wakes threads in wait() (notify) and a
// loop pumping in wait() (l).
void wake_waiters(detail::expire_shard& sh, bool notify, loop* l) {
    if (notify) {
        sh.done_cv.notify_all();
    }
    wake(l);
}
} // namespace

bool aio::begin() noexcept {
    std::lock_guard lk(shard_.mtx);
    outputs_ = {};
    count_ = 0;
    if (stopped_) {
        result_ = NNG_ECANCELED;
        return false;
    }
    assert(!prepped_ && cancel_fn_ == nullptr && c_cancel_fn_ == nullptr && !exp_linked_);
    result_ = 0;
    busy_++;
    prepped_ = true;
    return true;
}

int aio::schedule(aio_cancel_fn fn, void* arg, ref_counted* keep) noexcept {
    return schedule_impl(fn, nullptr, arg, keep);
}

int aio::schedule_c(c_cancel_fn fn, void* arg) noexcept {
    return schedule_impl(nullptr, fn, arg, nullptr);
}

int aio::schedule_impl(aio_cancel_fn fn, c_cancel_fn cfn, void* arg, ref_counted* keep) noexcept {
    if (!sleeping_) {
        switch (timeout_) {
        case NNG_DURATION_ZERO:
            return NNG_ETIMEDOUT;
        case NNG_DURATION_INFINITE:
        case NNG_DURATION_DEFAULT:
            expire_ = time_never;
            break;
        default:
            expire_ = timeout_ > 0 ? clock_ms() + static_cast<time_ms>(timeout_) : time_never;
            break;
        }
    }
    std::lock_guard lk(shard_.mtx);
    if (stopped_) {
        return NNG_ECLOSED;
    }
    assert(cancel_fn_ == nullptr && c_cancel_fn_ == nullptr);
    cancel_fn_ = fn;
    c_cancel_fn_ = cfn;
    cancel_arg_ = arg;
    cancel_keep_ = keep;
    if (expire_ != time_never && (fn != nullptr || cfn != nullptr)) {
        shard_.add(this);
    }
    return 0;
}

void aio::finish_impl(int rv, std::size_t n, bool sync, loop* home) noexcept {
    loop* w = nullptr;
    // Read under the lock: without a callback, a waiter may free the aio
    // as soon as the lock is released.
    bool has_cb = cb_ != nullptr;
    bool notify = false;
    detail::expire_shard& sh = shard_;
    {
        std::lock_guard lk(shard_.mtx);
        shard_.remove(this);
        result_ = rv;
        count_ = n;
        cancel_fn_ = nullptr;
        c_cancel_fn_ = nullptr;
        cancel_arg_ = nullptr;
        cancel_keep_ = nullptr;
        expire_ = time_never;
        sleeping_ = false;
        if (prepped_) {
            prepped_ = false;
        } else {
            busy_++;
        }
        if (!has_cb) {
            w = release_busy_locked(notify);
        } else if (waiters_ > 0 || pump_loop_ != nullptr) {
            // A wait() from inside our own callback waits for this.
            notify = waiters_ > 0;
            w = pump_loop_;
        }
    }
    wake_waiters(sh, notify, w);
    if (!has_cb) {
        return;
    }
    // Never re-enter a callback that is on this thread's stack (a handler
    // run while that callback waits): it runs once the callback returns.
    if ((sync || cb_inline_) && !in_callback_here()) {
        run_callback();
    } else if (loop* cur = loop::current(); cur != nullptr || home == nullptr) {
        executor::global().current_or_next().defer(this);
    } else {
        home->defer(this);
    }
}

void aio::abandon() noexcept {
    loop* w = nullptr;
    bool notify = false;
    detail::expire_shard& sh = shard_;
    {
        std::lock_guard lk(shard_.mtx);
        if (prepped_) {
            prepped_ = false;
            w = release_busy_locked(notify);
        }
    }
    wake_waiters(sh, notify, w);
}

void aio::finish(int rv, std::size_t n) noexcept { finish_impl(rv, n, false); }

void aio::finish_sync(int rv, std::size_t n) noexcept { finish_impl(rv, n, true); }

void aio::run_callback() noexcept {
    detail::callback_frame frame{this, detail::tl_frames};
    detail::tl_frames = &frame;
    cb_(cb_arg_);
    detail::tl_frames = frame.outer;
    loop* w;
    bool notify = false;
    detail::expire_shard& sh = shard_;
    {
        std::lock_guard lk(shard_.mtx);
        w = release_busy_locked(notify);
    }
    wake_waiters(sh, notify, w);
}

void aio::sleep_cancel(aio* a, void*, int err) {
    {
        std::lock_guard lk(a->shard_.mtx);
        if (!a->sleeping_) {
            return;
        }
        a->sleeping_ = false;
        a->shard_.remove(a);
    }
    a->finish_error(err);
}

void aio::sleep(nng_duration ms) noexcept {
    if (!begin()) {
        return;
    }
    ms = std::max<nng_duration>(ms, 0);
    expire_ok_ = true;
    sleeping_ = true;
    if (timeout_ >= 0 && ms > timeout_) {
        // The aio's own timeout is shorter: wake early, as a timeout.
        expire_ok_ = false;
        ms = timeout_;
    }
    expire_ = clock_ms() + static_cast<time_ms>(ms);
    if (int rv = schedule(sleep_cancel, nullptr); rv != 0) {
        finish_error(rv);
    }
}

std::size_t aio::iov_residual() const noexcept {
    std::size_t n = 0;
    for (unsigned i = 0; i < niov_; i++) {
        n += iov_[i].iov_len;
    }
    return n;
}

void aio::iov_advance(std::size_t n) noexcept {
    unsigned skip = 0;
    while (skip < niov_ && n >= iov_[skip].iov_len) {
        n -= iov_[skip].iov_len;
        skip++;
    }
    if (skip > 0) {
        std::copy(iov_.begin() + skip, iov_.begin() + niov_, iov_.begin());
        niov_ -= skip;
    }
    if (niov_ > 0 && n > 0) {
        iov_[0].iov_buf = static_cast<char*>(iov_[0].iov_buf) + n;
        iov_[0].iov_len -= n;
    }
}

void aio_queue::push_back(aio* a) noexcept {
    assert(a->q_owner_ == nullptr);
    a->q_owner_ = this;
    size_++;
    a->q_next_ = nullptr;
    a->q_prev_ = tail_;
    if (tail_ != nullptr) {
        tail_->q_next_ = a;
    } else {
        head_ = a;
    }
    tail_ = a;
}

bool aio_queue::remove(aio* a) noexcept {
    if (a->q_owner_ != this) {
        return false;
    }
    if (a->q_prev_ != nullptr) {
        a->q_prev_->q_next_ = a->q_next_;
    } else {
        head_ = a->q_next_;
    }
    if (a->q_next_ != nullptr) {
        a->q_next_->q_prev_ = a->q_prev_;
    } else {
        tail_ = a->q_prev_;
    }
    a->q_prev_ = a->q_next_ = nullptr;
    a->q_owner_ = nullptr;
    size_--;
    return true;
}

aio* aio_queue::pop_front() noexcept {
    aio* a = head_;
    if (a != nullptr) {
        remove(a);
    }
    return a;
}

} // namespace nnghttp::detail
