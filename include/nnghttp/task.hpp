// C++20 coroutines over the library's own event loops.
//
//   nnghttp::task<T>   a lazy coroutine: it starts when awaited, or when
//                      handed to spawn() or run().
//   nnghttp::op<T>     one asynchronous operation (connect, transact, read,
//                      write, accept, sleep, ...); co_await gives its T.
//
// Every op can be given a timeout and a std::stop_token before it is
// awaited:
//
//   auto n = co_await conn.read(buf).timeout(5s);
//   auto res = co_await cli.transact(req).cancel_on(stop.get_token());
//
// A failed op throws nnghttp::error from co_await; after .no_throw() it
// gives a result<T> instead (ec set on failure).  Timeouts fail with
// errc::timed_out, a stop request with errc::canceled.
//
// Where coroutines run: an op resumes its coroutine on the event loop
// thread that completed it (posted after the completion returns, so the
// coroutine may destroy anything, the op included).  spawn() and run()
// start a task on a loop thread.  Blocking calls (run(), aio::wait()) must
// not be made from inside a coroutine or a callback.
#pragma once

#include <nng/nng.h>
#include <nnghttp/config.hpp>
#include <nnghttp/error.hpp>

#include <mutex>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <variant>

namespace nnghttp {

// The outcome of an op awaited with no_throw().
template <typename T> struct result {
    std::error_code ec;
    T value{};
    explicit operator bool() const noexcept { return !ec; }
};
template <> struct result<void> {
    std::error_code ec;
    explicit operator bool() const noexcept { return !ec; }
};

namespace api_detail {

// Resumes h later on an event loop: the current one when called from a loop
// thread, else the next one.
NNGHTTP_API void post_resume(std::coroutine_handle<> h);
NNGHTTP_API bool on_loop_thread() noexcept;

// What every op shares: the aio it runs on, its timeout and stop token.
class NNGHTTP_API op_base {
  public:
    op_base(const op_base&) = delete;
    op_base& operator=(const op_base&) = delete;

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h);

    // Slots the operation's start function reads (set by the op's maker).
    using start_fn = void (*)(op_base& self, nng_aio* a);
    void* obj = nullptr;    // the object the operation is on
    void* msg = nullptr;    // a message, for HTTP operations
    nng_iov iov{};          // a buffer, for reads and writes
    nng_duration arg_ms = 0; // sleep: the duration
    void (*drop_msg)(void*) = nullptr; // frees msg if the op still owns it

  protected:
    explicit op_base(start_fn fn) noexcept : start_(fn) {}
    op_base(op_base&& o) noexcept;
    ~op_base();

    // After resumption: the outcome, and what the aio carries.
    std::error_code outcome() noexcept;
    std::size_t count() const noexcept;
    void* output0() const noexcept;

    start_fn start_;
    nng_aio* aio_ = nullptr;
    nng_duration timeout_ = NNG_DURATION_DEFAULT;
    std::stop_token stop_;

  private:
    static void on_done(void* arg);
    struct canceller {
        op_base* self;
        void operator()() const noexcept;
    };
    std::optional<std::stop_callback<canceller>> stop_cb_;
    std::coroutine_handle<> h_;
    // Orders a stop request against the start: the canceller only touches
    // the aio once the provider has begun the operation.
    std::mutex mtx_;
    bool started_ = false;
    bool stop_hit_ = false;
};

} // namespace api_detail

// One asynchronous operation, made by the API's functions (conn.read(buf),
// cli.transact(req), sleep(d), ...) and meant to be co_awaited once, at
// once.  extract turns the finished aio into the value.
template <typename T> class op : public api_detail::op_base {
  public:
    using extract_fn = T (*)(op& self);

    op(start_fn s, extract_fn e) noexcept : op_base(s), extract_(e) {}
    op(op&&) noexcept = default;

    op&& timeout(std::chrono::milliseconds d) && noexcept {
        timeout_ = static_cast<nng_duration>(d.count());
        return std::move(*this);
    }
    op&& cancel_on(std::stop_token t) && noexcept {
        stop_ = std::move(t);
        return std::move(*this);
    }

    T await_resume() {
        if (std::error_code ec = outcome()) {
            throw error(ec);
        }
        return get();
    }

    struct nothrow_awaiter {
        op& o;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) { o.await_suspend(h); }
        result<T> await_resume() {
            result<T> r;
            r.ec = o.outcome();
            if (!r.ec) {
                if constexpr (std::is_void_v<T>) {
                    o.get();
                } else {
                    r.value = o.get();
                }
            }
            return r;
        }
    };
    nothrow_awaiter no_throw() && noexcept { return nothrow_awaiter{*this}; }

    // For extract functions.
    using op_base::count;
    using op_base::output0;

  private:
    T get() {
        if constexpr (std::is_void_v<T>) {
            if (extract_ != nullptr) {
                extract_(*this); // an op that delivers into the caller's object
            }
        } else {
            return extract_(*this);
        }
    }
    extract_fn extract_;
};

// Completes after d (co_await sleep(100ms)).
NNGHTTP_API op<void> sleep(std::chrono::milliseconds d);

template <typename T = void> class task;

namespace api_detail {

template <typename T> struct task_promise_base {
    std::coroutine_handle<> continuation;
    std::exception_ptr error;

    std::suspend_always initial_suspend() noexcept { return {}; }
    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <typename P> std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
            auto c = h.promise().continuation;
            return c ? c : std::noop_coroutine();
        }
        void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <typename T> struct task_promise : task_promise_base<T> {
    std::optional<T> value;
    task<T> get_return_object() noexcept;
    template <typename U> void return_value(U&& v) { value.emplace(std::forward<U>(v)); }
    T take() {
        if (this->error) {
            std::rethrow_exception(this->error);
        }
        return std::move(*value);
    }
};

template <> struct task_promise<void> : task_promise_base<void> {
    task<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take() {
        if (this->error) {
            std::rethrow_exception(this->error);
        }
    }
};

} // namespace api_detail

template <typename T> class [[nodiscard]] task {
  public:
    using promise_type = api_detail::task_promise<T>;
    using handle = std::coroutine_handle<promise_type>;

    task() noexcept = default;
    explicit task(handle h) noexcept : h_(h) {}
    task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    task& operator=(task&& o) noexcept {
        if (this != &o) {
            if (h_) {
                h_.destroy();
            }
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    ~task() {
        if (h_) {
            h_.destroy();
        }
    }

    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> cont) noexcept {
        h_.promise().continuation = cont;
        return h_;
    }
    T await_resume() { return h_.promise().take(); }

    // For spawn() and run(): gives up the coroutine.
    handle release() noexcept { return std::exchange(h_, {}); }

  private:
    handle h_;
};

namespace api_detail {

template <typename T> task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}

// A blocking wait for run().
class NNGHTTP_API latch {
  public:
    latch();
    ~latch();
    latch(const latch&) = delete;
    latch& operator=(const latch&) = delete;
    void set() noexcept;
    void wait() noexcept;

  private:
    struct impl;
    impl* p_;
};

// The coroutine spawn() wraps a task in: it frees itself at the end.
struct detached {
    struct promise_type {
        detached get_return_object() noexcept {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
    std::coroutine_handle<promise_type> h;
};

inline detached run_detached(task<void> t, void (*on_error)(std::exception_ptr)) {
    try {
        co_await t;
    } catch (...) {
        if (on_error != nullptr) {
            on_error(std::current_exception());
        }
    }
}

template <typename T> detached run_and_signal(task<T>& t, latch& done, std::optional<T>& out,
                                              std::exception_ptr& err) {
    try {
        out.emplace(co_await t);
    } catch (...) {
        err = std::current_exception();
    }
    done.set();
}
inline detached run_and_signal_void(task<void>& t, latch& done, std::exception_ptr& err) {
    try {
        co_await t;
    } catch (...) {
        err = std::current_exception();
    }
    done.set();
}

NNGHTTP_API void report_detached_error(std::exception_ptr e) noexcept;

} // namespace api_detail

// Starts t on an event loop and lets it run to its end on its own.  An
// exception that escapes it is reported on stderr (it cannot reach anyone).
inline void spawn(task<void> t) {
    auto d = api_detail::run_detached(std::move(t), &api_detail::report_detached_error);
    api_detail::post_resume(d.h);
}

// Whether the process runs thread-free (NNGHTTP_THREADS=0): the library
// starts no thread, and its one event loop runs on the application's thread
// only while that thread blocks in the library (run(), aio waits, ...).
NNGHTTP_API bool thread_free() noexcept;

// Runs t on an event loop and blocks the calling thread until it ends;
// returns its value or rethrows its exception.  Not from a loop thread
// (errc::bad_state): that would stall the loop the task needs.  Thread-free,
// the loop runs inside the wait (but still not from inside a coroutine or a
// callback).
template <typename T> T run(task<T> t) {
    if (api_detail::on_loop_thread()) {
        throw error(errc::bad_state, "nnghttp::run from an event loop thread");
    }
    api_detail::latch done;
    std::exception_ptr err;
    if constexpr (std::is_void_v<T>) {
        auto d = api_detail::run_and_signal_void(t, done, err);
        api_detail::post_resume(d.h);
        done.wait();
        if (err) {
            std::rethrow_exception(err);
        }
    } else {
        std::optional<T> out;
        auto d = api_detail::run_and_signal(t, done, out, err);
        api_detail::post_resume(d.h);
        done.wait();
        if (err) {
            std::rethrow_exception(err);
        }
        return std::move(*out);
    }
}

} // namespace nnghttp
