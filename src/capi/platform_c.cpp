// nng/supplemental/util/platform.h: clock, sleep, threads, mutexes,
// condition variables and random numbers over the C++ standard library.
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "core/clock.hpp"
#include "core/executor.hpp"

#include <pthread.h>
#include <sys/random.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>

struct nng_thread {
    std::thread thr;
};

struct nng_mtx {
    std::mutex m;
};

struct nng_cv {
    std::condition_variable cv;
    nng_mtx* mtx;
};

namespace {

// The caller holds cv->mtx (as with pthreads); wrap it without owning it.
template <class Wait>
auto with_held_lock(nng_cv* cv, Wait&& wait) {
    std::unique_lock lk(cv->mtx->m, std::adopt_lock);
    auto r = wait(lk);
    lk.release();
    return r;
}

// Thread-free mode, on the loop's thread: no other thread of ours can wake
// a waiter, so a wait runs the loop for one step instead (a callback there
// may change the condition and wake the cv) and returns like a spurious
// wake-up; NNG's callers check their condition again in a loop.  False
// (nothing done) when not thread-free or on another thread.
bool pump_instead(nng_cv* cv, nnghttp::detail::time_ms until) {
    using namespace std::chrono;
    if (!nnghttp::detail::loop::thread_free()) {
        return false;
    }
    nnghttp::detail::loop* l = nnghttp::detail::loop::current();
    if (l == nullptr) {
        return false; // another thread of the application: a plain wait
    }
    milliseconds limit(20);
    if (until != nnghttp::detail::time_never) {
        nnghttp::detail::time_ms now = nnghttp::detail::clock_ms();
        limit = std::min(limit, milliseconds(until > now ? until - now : 0));
    }
    cv->mtx->m.unlock();
    l->pump(limit);
    cv->mtx->m.lock();
    return true;
}

} // namespace

extern "C" {

nng_time nng_clock(void) { return nnghttp::detail::clock_ms(); }

void nng_msleep(nng_duration ms) {
    if (ms > 0) {
        nnghttp::detail::loop::block_for(std::chrono::milliseconds(ms));
    }
}

int nng_thread_create(nng_thread** out, void (*fn)(void*), void* arg) {
    auto* t = new (std::nothrow) nng_thread;
    if (t == nullptr) {
        return NNG_ENOMEM;
    }
    try {
        t->thr = std::thread(fn, arg);
    } catch (const std::system_error&) {
        delete t;
        return NNG_ENOMEM;
    }
    *out = t;
    return 0;
}

void nng_thread_set_name(nng_thread* t, const char* name) {
    if (name == nullptr) {
        return;
    }
    // Linux limits thread names to 15 bytes; longer names are cut.
    char buf[16];
    std::strncpy(buf, name, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    pthread_t id = t != nullptr ? t->thr.native_handle() : pthread_self();
    (void)pthread_setname_np(id, buf);
}

void nng_thread_destroy(nng_thread* t) {
    if (t == nullptr) {
        return;
    }
    if (t->thr.joinable()) {
        if (t->thr.get_id() == std::this_thread::get_id()) {
            t->thr.detach(); // destroying itself: cannot join
        } else {
            t->thr.join();
        }
    }
    delete t;
}

int nng_mtx_alloc(nng_mtx** out) {
    auto* m = new (std::nothrow) nng_mtx;
    if (m == nullptr) {
        return NNG_ENOMEM;
    }
    *out = m;
    return 0;
}

void nng_mtx_free(nng_mtx* m) { delete m; }
void nng_mtx_lock(nng_mtx* m) { m->m.lock(); }
void nng_mtx_unlock(nng_mtx* m) { m->m.unlock(); }

int nng_cv_alloc(nng_cv** out, nng_mtx* m) {
    auto* cv = new (std::nothrow) nng_cv;
    if (cv == nullptr) {
        return NNG_ENOMEM;
    }
    cv->mtx = m;
    *out = cv;
    return 0;
}

void nng_cv_free(nng_cv* cv) { delete cv; }

void nng_cv_wait(nng_cv* cv) {
    if (pump_instead(cv, nnghttp::detail::time_never)) {
        return;
    }
    with_held_lock(cv, [cv](std::unique_lock<std::mutex>& lk) {
        cv->cv.wait(lk);
        return 0;
    });
}

int nng_cv_until(nng_cv* cv, nng_time when) {
    using namespace std::chrono;
    // nng_time is milliseconds on clock_ms()'s steady clock.  Far-future
    // times (NNG_DURATION_INFINITE added to now, say) wait untimed.
    constexpr nng_time far = nng_time{1} << 52;
    if (when == 0) {
        return NNG_EAGAIN; // NNG 1.5.2: a zero time does not wait at all
    }
    if (when >= far) {
        nng_cv_wait(cv);
        return 0;
    }
    if (pump_instead(cv, when)) {
        return nnghttp::detail::clock_ms() >= when ? NNG_ETIMEDOUT : 0;
    }
    steady_clock::time_point deadline{milliseconds(when)};
    return with_held_lock(cv, [cv, deadline](std::unique_lock<std::mutex>& lk) {
        return cv->cv.wait_until(lk, deadline) == std::cv_status::timeout ? int{NNG_ETIMEDOUT} : 0;
    });
}

void nng_cv_wake(nng_cv* cv) { cv->cv.notify_all(); }
void nng_cv_wake1(nng_cv* cv) { cv->cv.notify_one(); }

uint32_t nng_random(void) {
    uint32_t v = 0;
    // getrandom() on a 4-byte request never returns short once the pool
    // is initialised; retry on EINTR.
    while (getrandom(&v, sizeof(v), 0) != static_cast<ssize_t>(sizeof(v))) {
    }
    return v;
}

} // extern "C"
