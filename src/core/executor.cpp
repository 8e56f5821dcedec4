#include "core/executor.hpp"

#include "core/sigpipe.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sched.h>

namespace nnghttp::detail {

namespace {

// The CPUs this process may run on (its affinity mask: taskset, cgroups),
// which can be fewer than the machine has.
unsigned usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) {
            return static_cast<unsigned>(n);
        }
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

// One loop per usable CPU: more would only take turns on the same CPUs
// (two loops on one CPU made a 4 ms p99 tail in bench/client).
unsigned default_loops() {
    if (loop::thread_free()) {
        return 1;
    }
    if (const char* env = std::getenv("NNGHTTP_THREADS")) {
        int n = std::atoi(env);
        if (n > 0 && n <= 1024) {
            return static_cast<unsigned>(n);
        }
    }
    return usable_cpus();
}

// How long an idle loop polls before it sleeps (NNGHTTP_SPIN_US, 0 turns
// polling off).  30 us covers a loopback round trip to another process on
// the 2-core machines this was measured on (bench/run_stream.sh: ping-pong
// went from 1.1x to 1.7x NNG); shorter windows mostly miss the reply.
// With a single usable CPU a polling loop would only delay the thread it
// waits for, so the default there is 0.
int spin_us() {
    static const int v = [] {
        const char* env = std::getenv("NNGHTTP_SPIN_US");
        int dflt = usable_cpus() > 1 ? 30 : 0;
        int n = env != nullptr ? std::atoi(env) : dflt;
        return n >= 0 && n <= 10000 ? n : dflt;
    }();
    return v;
}

std::mutex global_mtx;
std::atomic<executor*> global_exec{nullptr};
thread_local loop* tl_loop = nullptr;

} // namespace

// ---- loop ----

bool loop::thread_free() noexcept {
    static const bool v = [] {
        const char* env = std::getenv("NNGHTTP_THREADS");
        return env != nullptr && env[0] == '0' && env[1] == '\0';
    }();
    return v;
}

// Concurrency hint 1: one thread runs the context, so Asio keeps the
// thread's own posts on a private queue (no lock, no wake-up).  Other
// threads may still post; that path locks.  Thread-free, nothing but the
// one thread ever touches the context, so Asio drops its locks as well
// (ASIO_CONCURRENCY_HINT_UNSAFE), and the loop is this thread's from the
// start.
loop::loop()
    : ctx_(thread_free() ? ASIO_CONCURRENCY_HINT_UNSAFE : 1),
      guard_(asio::make_work_guard(ctx_)) {
    if (thread_free()) {
        expiry_ = std::make_unique<asio::steady_timer>(ctx_);
        tl_loop = this;
        return;
    }
    thr_ = std::thread([this] {
        tl_loop = this;
        block_sigpipe_here(); // a file sent to a peer that left (core/sigpipe.hpp)
        run();
    });
}

// Runs handlers until stopped.  After a burst of work the loop polls for a
// short while before sleeping in the reactor: a reply that arrives within
// that window is handled without the cost of a thread wake-up.  Polling
// pays only when replies do come that fast (a request/reply exchange on
// loopback); when they do not (a server waiting for a slow reader to drain
// a big response) it burns CPU for nothing.  A window costs ~30 us when it
// finds nothing and saves a sleep and wake-up (~10 us) when it finds
// something, so it pays above ~75% success: an empty window costs 4
// credits, a fruitful one earns 1 (break-even at 80%); without credit the
// loop sleeps at once, and tries a window again every 64th time.
void loop::run() {
    using clock = std::chrono::steady_clock;
    const auto spin = std::chrono::microseconds(spin_us());
    if (spin.count() == 0) {
        // No polling: Asio's own loop, which asks the reactor without
        // blocking only while handlers wait, and blocks in one epoll_wait
        // when none do (poll() then run_one() made two calls each time the
        // loop went idle).
        while (!ctx_.stopped()) {
            ctx_.run();
        }
        return;
    }
    int credit = 8;
    unsigned idle_sleeps = 0;
    while (!ctx_.stopped()) {
        if (ctx_.poll() > 0) {
            continue;
        }
        bool got = false;
        if (credit > 0 || ++idle_sleeps % 64 == 0) {
            auto until = clock::now() + spin;
            while (clock::now() < until && !ctx_.stopped()) {
                if (ctx_.poll() > 0) {
                    got = true;
                    break;
                }
            }
            credit = got ? std::min(credit + 1, 16) : std::max(credit - 4, 0);
        }
        if (!got) {
            ctx_.run_one();
        }
    }
}

loop::~loop() {
    guard_.reset();
    ctx_.stop();
    if (thr_.joinable()) {
        thr_.join();
    }
    if (tl_loop == this) {
        tl_loop = nullptr;
    }
}

loop* loop::current() noexcept {
    if (tl_loop == nullptr && thread_free() && global_exec.load(std::memory_order_acquire) == nullptr) {
        // The one loop runs on the thread that first needs it: make it now
        // if the program has not used the library yet.  (If another thread
        // made it, this one gets nullptr: it may sleep and wait on its own
        // condvars, not use the library.)
        executor::global();
    }
    return tl_loop;
}

void loop::defer(aio* a) {
    if (tl_loop != this) {
        asio::post(ctx_, [a] { a->run_callback(); });
        return;
    }
    pending_.push_back(a);
    if (!drain_posted_) {
        drain_posted_ = true;
        asio::post(ctx_, [this] { drain(); });
    }
}

// Runs the callbacks pending when it starts (later ones wait for the next
// batch, so a chain of immediate completions cannot starve the reactor).
// An aio whose callback is already on this thread's stack (we are nested in
// its wait) stays pending: callbacks are never re-entered.  Returns whether
// any ran.
bool loop::run_pending() {
    bool ran = false;
    for (std::size_t n = pending_.size(); n > 0; n--) {
        aio* a = pending_.pop_front();
        if (a->in_callback_here()) {
            pending_.push_back(a);
            continue;
        }
        a->run_callback();
        ran = true;
    }
    return ran;
}

void loop::drain() {
    drain_posted_ = false;
    run_pending();
    if (!pending_.empty() && !drain_posted_) {
        drain_posted_ = true;
        asio::post(ctx_, [this] { drain(); });
    }
}

// After pending callbacks, one step that does not block: a chain of
// callbacks that each defer another must not keep the reactor and timers
// from ever running.
void loop::pump(std::chrono::milliseconds limit) {
    if (run_pending()) {
        ctx_.poll_one();
    } else {
        ctx_.run_one_for(limit);
    }
}

void loop::block_for(std::chrono::milliseconds d) {
    loop* l = current();
    if (l == nullptr || !thread_free()) {
        std::this_thread::sleep_for(d);
        return;
    }
    auto until = std::chrono::steady_clock::now() + d;
    while (!l->ctx_.stopped() && std::chrono::steady_clock::now() < until) {
        l->ctx_.run_until(until);
    }
    std::this_thread::sleep_until(until); // at once unless the loop was stopped
}

void loop::deadline_added(time_ms t) {
    loop* l = current();
    if (l == nullptr) {
        misuse("an aio deadline");
    }
    l->arm_expiry(t);
}

void loop::misuse(const char* what) noexcept {
    std::fprintf(stderr,
                 "nng-http: NNGHTTP_THREADS=0 (thread-free) but %s came from a thread that "
                 "does not run the loop; a thread-free program may use the library from one "
                 "thread only\n",
                 what);
    std::abort();
}

// Setting the timer again cancels its previous wait, whose handler then
// returns at once.
void loop::arm_expiry(time_ms t) {
    if (t >= expiry_at_) {
        return;
    }
    expiry_at_ = t;
    expiry_->expires_at(std::chrono::steady_clock::time_point(std::chrono::milliseconds(t)));
    expiry_->async_wait([this](const asio::error_code& ec) {
        if (!ec) {
            on_expiry();
        }
    });
}

void loop::on_expiry() {
    expiry_at_ = time_never;
    time_ms next = expire_due(clock_ms());
    if (next != time_never) {
        arm_expiry(next);
    }
}

// ---- executor ----

executor::executor(unsigned loops) {
    unsigned n = loops == 0 ? default_loops() : loops;
    loops_.reserve(n);
    for (unsigned i = 0; i < n; i++) {
        loops_.push_back(std::make_unique<loop>());
    }
}

executor::~executor() = default;

loop& executor::next() noexcept {
    unsigned i = next_.fetch_add(1, std::memory_order_relaxed);
    return *loops_[i % loops_.size()];
}

unsigned executor::index_of(const asio::io_context& ctx) const noexcept {
    for (std::size_t i = 0; i < loops_.size(); i++) {
        if (&loops_[i]->context() == &ctx) {
            return static_cast<unsigned>(i);
        }
    }
    return 0;
}

loop& executor::current_or_next() noexcept {
    loop* l = loop::current();
    return l != nullptr ? *l : next();
}

executor& executor::global() {
    executor* e = global_exec.load(std::memory_order_acquire);
    if (e != nullptr) {
        return *e;
    }
    std::lock_guard lk(global_mtx);
    e = global_exec.load(std::memory_order_relaxed);
    if (e == nullptr) {
        e = new executor();
        global_exec.store(e, std::memory_order_release);
    }
    return *e;
}

void executor::shutdown_global() {
    std::lock_guard lk(global_mtx);
    delete global_exec.exchange(nullptr, std::memory_order_acq_rel);
}

} // namespace nnghttp::detail
