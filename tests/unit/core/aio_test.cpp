// Tests for nnghttp::detail::aio and the nng_aio_* / nng_sleep_aio shims: one test
// per function and error case of the contract in
// docs/design/aio-contract.md.  Where NNG's man pages are silent the
// expected values are what Debian's libnng 1.5.2 does for the same calls.
// The AioOwnCallback tests show the documented differences listed in
// docs/compat.md (wait/stop from an aio's own callback).
#include "capi/handles.hpp"
#include "core/aio.hpp"
#include "core/executor.hpp"
#include "core/ref_counted.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <gtest/gtest.h>
#include <mutex>
#include <nng/nng.h>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using nnghttp::detail::aio;
using nnghttp::detail::capi::from_c;
using nnghttp::detail::capi::to_c;
using steady = std::chrono::steady_clock;

constexpr auto patience = 5s; // upper bound for anything that should happen

// Polls pred until it holds or limit passes.
template <typename Pred> bool eventually(Pred pred, std::chrono::milliseconds limit = patience) {
    auto end = steady::now() + limit;
    while (!pred()) {
        if (steady::now() > end) {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

// A test that would otherwise hang cannot unwind through GoogleTest (a
// worker thread is stuck): report and leave at once.
void die_stuck(const char* what) {
    std::fprintf(stderr, "FATAL: stuck: %s\n", what);
    std::fflush(stderr);
    std::_Exit(1);
}

// Records every callback of one aio: how many, on which thread, with what
// result.  `hook` runs inside the callback before it is counted.
struct probe {
    nng_aio* a = nullptr;
    std::function<void(probe&)> hook;

    std::mutex m;
    std::condition_variable cv;
    int calls = 0;
    int result = -1;
    std::thread::id thread;
    bool on_loop = false;

    static void cb(void* arg) {
        auto* p = static_cast<probe*>(arg);
        int rv = nng_aio_result(p->a);
        bool loop_thread = nnghttp::detail::loop::current() != nullptr;
        if (p->hook) {
            p->hook(*p);
        }
        std::lock_guard lk(p->m);
        p->calls++;
        p->result = rv;
        p->thread = std::this_thread::get_id();
        p->on_loop = loop_thread;
        p->cv.notify_all();
    }

    int count() {
        std::lock_guard lk(m);
        return calls;
    }

    // Waits (bounded) for at least n callbacks.
    bool wait_calls(int n, std::chrono::milliseconds limit = patience) {
        std::unique_lock lk(m);
        return cv.wait_for(lk, limit, [&] { return calls >= n; });
    }
};

// An aio allocated through the C API with a probe as its callback.
struct c_aio {
    probe p;
    nng_aio* a = nullptr;

    c_aio() {
        EXPECT_EQ(nng_aio_alloc(&a, probe::cb, &p), 0);
        p.a = a;
    }
    ~c_aio() { nng_aio_free(a); }
    c_aio(const c_aio&) = delete;
    c_aio& operator=(const c_aio&) = delete;
};

// A provider for nng_aio_begin/defer/finish: its cancel function records
// the reason and, when `finishes` is set, completes the aio with it.
struct provider {
    std::atomic<int> cancels{0};
    std::atomic<int> reason{-1};
    bool finishes = true;

    static void cancel(nng_aio* a, void* arg, int err) {
        auto* pv = static_cast<provider*>(arg);
        pv->reason = err;
        pv->cancels++;
        if (pv->finishes) {
            nng_aio_finish(a, err);
        }
    }

    // Starts an operation that only a cancel or timeout ends.
    void start(nng_aio* a) {
        ASSERT_TRUE(nng_aio_begin(a));
        nng_aio_defer(a, cancel, this);
    }
};

// ---- nng_aio_alloc / nng_aio_free ----

TEST(AioAlloc, FreshAioIsIdle) {
    nng_aio* a = nullptr;
    ASSERT_EQ(nng_aio_alloc(&a, nullptr, nullptr), 0);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(nng_aio_result(a), 0);
    EXPECT_EQ(nng_aio_count(a), 0u);
    for (unsigned i = 0; i < 4; i++) {
        EXPECT_EQ(nng_aio_get_input(a, i), nullptr);
        EXPECT_EQ(nng_aio_get_output(a, i), nullptr);
    }
    // The C API's default timeout is "the provider's default".
    EXPECT_EQ(from_c(a)->timeout(), NNG_DURATION_DEFAULT);
    nng_aio_free(a);
}

TEST(AioAlloc, DistinctHandles) {
    nng_aio* a = nullptr;
    nng_aio* b = nullptr;
    ASSERT_EQ(nng_aio_alloc(&a, nullptr, nullptr), 0);
    ASSERT_EQ(nng_aio_alloc(&b, nullptr, nullptr), 0);
    EXPECT_NE(a, b);
    nng_aio_free(a);
    nng_aio_free(b);
}

TEST(AioFree, IdleAioRunsNoCallback) {
    probe p;
    nng_aio* a = nullptr;
    ASSERT_EQ(nng_aio_alloc(&a, probe::cb, &p), 0);
    p.a = a;
    nng_aio_free(a);
    EXPECT_EQ(p.count(), 0);
}

TEST(AioFree, NullIsIgnored) {
    nng_aio_free(nullptr);
}

TEST(AioFree, PendingOpIsClosedAndCompletedBeforeReturn) {
    // As NNG 1.5.2: the cancel function gets NNG_ECLOSED; the completion it
    // makes runs the callback before nng_aio_free returns.
    probe p;
    provider pv;
    nng_aio* a = nullptr;
    ASSERT_EQ(nng_aio_alloc(&a, probe::cb, &p), 0);
    p.a = a;
    pv.start(a);
    nng_aio_free(a);
    EXPECT_EQ(pv.cancels.load(), 1);
    EXPECT_EQ(pv.reason.load(), NNG_ECLOSED);
    EXPECT_EQ(p.count(), 1);
    EXPECT_EQ(p.result, NNG_ECLOSED);
}

TEST(AioFree, PendingSleepCompletesBeforeReturn) {
    probe p;
    nng_aio* a = nullptr;
    ASSERT_EQ(nng_aio_alloc(&a, probe::cb, &p), 0);
    p.a = a;
    nng_sleep_aio(60000, a);
    auto t0 = steady::now();
    nng_aio_free(a);
    EXPECT_LT(steady::now() - t0, patience);
    EXPECT_EQ(p.count(), 1);
    EXPECT_EQ(p.result, NNG_ECLOSED);
}

TEST(AioFree, FromAnotherAiosCallback) {
    // a's callback frees b, whose sleep is pending: b's callback must run
    // (on some worker, possibly the one running a's callback) before the
    // free returns, without deadlocking.
    c_aio a;
    probe pb;
    nng_aio* b = nullptr;
    ASSERT_EQ(nng_aio_alloc(&b, probe::cb, &pb), 0);
    pb.a = b;
    std::atomic<int> b_calls_seen{-1};
    a.p.hook = [&](probe&) {
        nng_aio_free(b);
        b_calls_seen = pb.count();
    };
    nng_sleep_aio(60000, b);
    nng_sleep_aio(1, a.a);
    if (!a.p.wait_calls(1)) {
        die_stuck("nng_aio_free from another aio's callback");
    }
    EXPECT_EQ(b_calls_seen.load(), 1);
    EXPECT_EQ(pb.result, NNG_ECLOSED);
}

TEST(AioFree, FromAnotherAiosCallbackWithProviderOp) {
    c_aio a;
    probe pb;
    provider pv;
    nng_aio* b = nullptr;
    ASSERT_EQ(nng_aio_alloc(&b, probe::cb, &pb), 0);
    pb.a = b;
    pv.start(b);
    a.p.hook = [&](probe&) { nng_aio_free(b); };
    ASSERT_TRUE(nng_aio_begin(a.a));
    nng_aio_finish(a.a, 0);
    if (!a.p.wait_calls(1)) {
        die_stuck("nng_aio_free of a deferred aio from another aio's callback");
    }
    EXPECT_EQ(pv.reason.load(), NNG_ECLOSED);
    EXPECT_EQ(pb.count(), 1);
}

// The reaper may still be inside the callback's epilogue when the test
// sees the callback; static objects outlive it.
TEST(AioReap, FreesLaterAndClosesPendingOp) {
    static probe p;
    static provider pv;
    nng_aio* a = nullptr;
    ASSERT_EQ(nng_aio_alloc(&a, probe::cb, &p), 0);
    p.a = a;
    pv.start(a);
    nng_aio_reap(a);
    ASSERT_TRUE(p.wait_calls(1));
    EXPECT_EQ(pv.reason.load(), NNG_ECLOSED);
    EXPECT_EQ(pv.cancels.load(), 1);
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(p.count(), 1);
}

TEST(AioReap, FromOwnCallback) {
    static std::atomic<bool> reaped{false};
    static probe p;
    nng_aio* a = nullptr;
    ASSERT_EQ(nng_aio_alloc(&a, probe::cb, &p), 0);
    p.a = a;
    p.hook = [](probe& self) {
        nng_aio_reap(self.a);
        reaped = true;
    };
    nng_sleep_aio(1, a);
    ASSERT_TRUE(p.wait_calls(1));
    EXPECT_TRUE(reaped.load());
    std::this_thread::sleep_for(20ms); // let the reaper free the aio
}

// ---- inputs, outputs, vectors, timeout ----

TEST(AioInput, RoundTripsIndicesZeroToThree) {
    c_aio a;
    int v[4];
    for (unsigned i = 0; i < 4; i++) {
        EXPECT_EQ(nng_aio_set_input(a.a, i, &v[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++) {
        EXPECT_EQ(nng_aio_get_input(a.a, i), &v[i]);
    }
    EXPECT_EQ(nng_aio_set_input(a.a, 2, nullptr), 0);
    EXPECT_EQ(nng_aio_get_input(a.a, 2), nullptr);
}

TEST(AioInput, IndexAboveThreeIsEinval) {
    c_aio a;
    int v = 0;
    EXPECT_EQ(nng_aio_set_input(a.a, 4, &v), NNG_EINVAL);
    EXPECT_EQ(nng_aio_set_input(a.a, 1000, &v), NNG_EINVAL);
    EXPECT_EQ(nng_aio_get_input(a.a, 4), nullptr);
    EXPECT_EQ(nng_aio_get_input(a.a, ~0u), nullptr);
    for (unsigned i = 0; i < 4; i++) {
        EXPECT_EQ(nng_aio_get_input(a.a, i), nullptr); // nothing spilled over
    }
}

TEST(AioInput, SurvivesAnOperation) {
    c_aio a;
    int v = 0;
    ASSERT_EQ(nng_aio_set_input(a.a, 0, &v), 0);
    nng_sleep_aio(1, a.a);
    nng_aio_wait(a.a);
    EXPECT_EQ(nng_aio_get_input(a.a, 0), &v);
}

TEST(AioOutput, RoundTripsIndicesZeroToThree) {
    c_aio a;
    int v[4];
    for (unsigned i = 0; i < 4; i++) {
        EXPECT_EQ(nng_aio_set_output(a.a, i, &v[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++) {
        EXPECT_EQ(nng_aio_get_output(a.a, i), &v[i]);
    }
}

TEST(AioOutput, IndexAboveThreeIsEinval) {
    c_aio a;
    int v = 0;
    EXPECT_EQ(nng_aio_set_output(a.a, 4, &v), NNG_EINVAL);
    EXPECT_EQ(nng_aio_get_output(a.a, 4), nullptr);
    EXPECT_EQ(nng_aio_get_output(a.a, 99), nullptr);
}

TEST(AioOutput, BeginClearsOutputsAndCount) {
    c_aio a;
    int v = 0;
    ASSERT_EQ(nng_aio_set_output(a.a, 0, &v), 0);
    ASSERT_EQ(nng_aio_set_output(a.a, 3, &v), 0);
    from_c(a.a)->bump_count(7);
    ASSERT_TRUE(nng_aio_begin(a.a));
    EXPECT_EQ(nng_aio_get_output(a.a, 0), nullptr);
    EXPECT_EQ(nng_aio_get_output(a.a, 3), nullptr);
    EXPECT_EQ(nng_aio_count(a.a), 0u);
    // A provider sets outputs during the operation; the consumer sees them.
    ASSERT_EQ(nng_aio_set_output(a.a, 1, &v), 0);
    nng_aio_finish(a.a, 0);
    nng_aio_wait(a.a);
    EXPECT_EQ(nng_aio_get_output(a.a, 1), &v);
}

TEST(AioIov, UpToEightVectorsAreCopied) {
    c_aio a;
    char buf[8];
    for (unsigned n = 0; n <= 8; n++) {
        nng_iov iov[8];
        for (unsigned i = 0; i < n; i++) {
            iov[i].iov_buf = &buf[i];
            iov[i].iov_len = i + 1;
        }
        ASSERT_EQ(nng_aio_set_iov(a.a, n, iov), 0) << n;
        // Copied: clobbering the caller's array changes nothing.
        for (unsigned i = 0; i < n; i++) {
            iov[i] = nng_iov{nullptr, 0};
        }
        aio* p = from_c(a.a);
        ASSERT_EQ(p->iov_count(), n);
        for (unsigned i = 0; i < n; i++) {
            EXPECT_EQ(p->iov()[i].iov_buf, &buf[i]);
            EXPECT_EQ(p->iov()[i].iov_len, i + 1);
        }
        EXPECT_EQ(p->iov_residual(), n * (n + 1) / 2);
    }
}

TEST(AioIov, MoreThanEightIsEinval) {
    c_aio a;
    char buf[16];
    nng_iov iov[16];
    for (unsigned i = 0; i < 16; i++) {
        iov[i] = nng_iov{&buf[i], 1};
    }
    ASSERT_EQ(nng_aio_set_iov(a.a, 2, iov), 0);
    EXPECT_EQ(nng_aio_set_iov(a.a, 9, iov), NNG_EINVAL);
    EXPECT_EQ(nng_aio_set_iov(a.a, 16, iov), NNG_EINVAL);
    EXPECT_EQ(from_c(a.a)->iov_count(), 2u); // unchanged by the failed calls
}

TEST(AioIov, AdvanceDropsConsumedBytes) {
    aio a(nullptr, nullptr);
    char buf[10];
    nng_iov iov[3] = {{buf, 2}, {buf + 2, 3}, {buf + 5, 5}};
    ASSERT_EQ(a.set_iov(3, iov), 0);
    a.iov_advance(1);
    EXPECT_EQ(a.iov_count(), 3u);
    EXPECT_EQ(a.iov()[0].iov_buf, buf + 1);
    EXPECT_EQ(a.iov_residual(), 9u);
    a.iov_advance(4); // the rest of the first and all of the second
    EXPECT_EQ(a.iov_count(), 1u);
    EXPECT_EQ(a.iov()[0].iov_buf, buf + 5);
    EXPECT_EQ(a.iov_residual(), 5u);
    a.iov_advance(5);
    EXPECT_EQ(a.iov_count(), 0u);
    EXPECT_EQ(a.iov_residual(), 0u);
}

TEST(AioTimeout, PersistsAcrossOperations) {
    c_aio a;
    nng_aio_set_timeout(a.a, 10);
    for (int i = 1; i <= 3; i++) {
        nng_sleep_aio(60000, a.a);
        nng_aio_wait(a.a);
        EXPECT_EQ(nng_aio_result(a.a), NNG_ETIMEDOUT);
        EXPECT_EQ(a.p.count(), i);
    }
}

TEST(AioTimeout, InfiniteAndDefaultNeverExpire) {
    for (nng_duration d : {NNG_DURATION_INFINITE, NNG_DURATION_DEFAULT}) {
        c_aio a;
        provider pv;
        nng_aio_set_timeout(a.a, d);
        pv.start(a.a);
        std::this_thread::sleep_for(30ms);
        EXPECT_EQ(pv.cancels.load(), 0) << d;
        EXPECT_EQ(a.p.count(), 0) << d;
        nng_aio_cancel(a.a);
        nng_aio_wait(a.a);
        EXPECT_EQ(nng_aio_result(a.a), NNG_ECANCELED);
    }
}

TEST(AioTimeout, ExpiryCallsCancelWithETimedout) {
    c_aio a;
    provider pv;
    nng_aio_set_timeout(a.a, 10);
    auto t0 = steady::now();
    pv.start(a.a);
    nng_aio_wait(a.a);
    EXPECT_GE(steady::now() - t0, 9ms);
    EXPECT_EQ(pv.cancels.load(), 1);
    EXPECT_EQ(pv.reason.load(), NNG_ETIMEDOUT);
    EXPECT_EQ(nng_aio_result(a.a), NNG_ETIMEDOUT);
    EXPECT_EQ(a.p.count(), 1);
}

TEST(AioTimeout, ZeroTimeoutFailsScheduleWithETimedout) {
    // Provider rule 3: schedule() reports NNG_ETIMEDOUT for a zero timeout
    // and the provider finishes with it.
    probe p;
    aio a(probe::cb, &p);
    p.a = to_c(&a);
    a.set_timeout(NNG_DURATION_ZERO);
    ASSERT_TRUE(a.begin());
    bool cancelled = false;
    int rv = a.schedule([](aio*, void* arg, int) { *static_cast<bool*>(arg) = true; }, &cancelled);
    ASSERT_EQ(rv, NNG_ETIMEDOUT);
    a.finish_error(rv);
    a.wait();
    EXPECT_EQ(a.result(), NNG_ETIMEDOUT);
    EXPECT_EQ(p.count(), 1);
    EXPECT_FALSE(cancelled);
}

TEST(AioTimeout, ZeroTimeoutDeferAbandonsOperation) {
    // NNG 1.5.2's nng_aio_defer drops the operation when the timeout is
    // zero: no cancel, no callback, nng_aio_wait returns.  A provider that
    // finishes anyway still gets its callback.
    c_aio a;
    provider pv;
    nng_aio_set_timeout(a.a, NNG_DURATION_ZERO);
    pv.start(a.a);
    nng_aio_wait(a.a);
    nng_aio_cancel(a.a);
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(pv.cancels.load(), 0);
    EXPECT_EQ(a.p.count(), 0);
    EXPECT_EQ(nng_aio_result(a.a), 0);
    nng_aio_finish(a.a, NNG_ETIMEDOUT);
    ASSERT_TRUE(a.p.wait_calls(1));
    EXPECT_EQ(a.p.result, NNG_ETIMEDOUT);
}

// ---- result and count ----

TEST(AioResult, IsTheProvidersCode) {
    c_aio a;
    for (int code : {0, int{NNG_EPROTO}, int{NNG_ECONNRESET}, 12345}) {
        ASSERT_TRUE(nng_aio_begin(a.a));
        nng_aio_finish(a.a, code);
        nng_aio_wait(a.a);
        EXPECT_EQ(nng_aio_result(a.a), code);
        EXPECT_EQ(a.p.result, code); // also inside the callback
    }
}

TEST(AioCount, IsTheProvidersCount) {
    probe p;
    aio a(probe::cb, &p);
    p.a = to_c(&a);
    ASSERT_TRUE(a.begin());
    a.finish(0, 42);
    a.wait();
    EXPECT_EQ(nng_aio_count(to_c(&a)), 42u);
    EXPECT_EQ(p.count(), 1);
}

TEST(AioCount, NngAioFinishKeepsAccumulatedCount) {
    c_aio a;
    ASSERT_TRUE(nng_aio_begin(a.a));
    from_c(a.a)->bump_count(5);
    from_c(a.a)->bump_count(6);
    nng_aio_finish(a.a, 0);
    nng_aio_wait(a.a);
    EXPECT_EQ(nng_aio_count(a.a), 11u);
}

TEST(AioCount, FinishErrorZeroesCount) {
    aio a(nullptr, nullptr);
    ASSERT_TRUE(a.begin());
    a.bump_count(9);
    a.finish_error(NNG_ECLOSED);
    a.wait();
    EXPECT_EQ(a.count(), 0u);
    EXPECT_EQ(a.result(), NNG_ECLOSED);
}

// ---- nng_aio_begin / nng_aio_defer / nng_aio_finish ----

TEST(AioBegin, TrueOnFreshAio) {
    c_aio a;
    ASSERT_TRUE(nng_aio_begin(a.a));
    EXPECT_EQ(nng_aio_result(a.a), 0);
    nng_aio_finish(a.a, 0);
    ASSERT_TRUE(a.p.wait_calls(1));
}

TEST(AioBegin, FalseOnStoppedAioWithECanceledAndNoCallback) {
    c_aio a;
    nng_aio_stop(a.a);
    EXPECT_FALSE(nng_aio_begin(a.a));
    EXPECT_EQ(nng_aio_result(a.a), NNG_ECANCELED);
    nng_aio_wait(a.a); // nothing started: returns at once
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(a.p.count(), 0);
}

TEST(AioBegin, ResetsResult) {
    c_aio a;
    ASSERT_TRUE(nng_aio_begin(a.a));
    nng_aio_finish(a.a, NNG_EPROTO);
    nng_aio_wait(a.a);
    ASSERT_EQ(nng_aio_result(a.a), NNG_EPROTO);
    ASSERT_TRUE(nng_aio_begin(a.a));
    EXPECT_EQ(nng_aio_result(a.a), 0);
    nng_aio_finish(a.a, 0);
    nng_aio_wait(a.a);
}

TEST(AioFinish, WithoutDeferRunsCallbackOnce) {
    c_aio a;
    ASSERT_TRUE(nng_aio_begin(a.a));
    nng_aio_finish(a.a, 0);
    ASSERT_TRUE(a.p.wait_calls(1));
    std::this_thread::sleep_for(10ms);
    EXPECT_EQ(a.p.count(), 1);
    EXPECT_EQ(a.p.result, 0);
}

TEST(AioFinish, WithoutBeginStillRunsCallback) {
    // NNG 1.5.2 allows it: the completion counts as an operation.
    c_aio a;
    nng_aio_finish(a.a, NNG_ETIMEDOUT);
    nng_aio_wait(a.a);
    EXPECT_EQ(a.p.count(), 1);
    EXPECT_EQ(nng_aio_result(a.a), NNG_ETIMEDOUT);
}

TEST(AioFinish, WaitReturnsOnlyAfterCallback) {
    c_aio a;
    std::atomic<bool> done{false};
    a.p.hook = [&](probe&) {
        std::this_thread::sleep_for(30ms);
        done = true;
    };
    ASSERT_TRUE(nng_aio_begin(a.a));
    nng_aio_finish(a.a, 0);
    nng_aio_wait(a.a);
    EXPECT_TRUE(done.load());
}

TEST(AioFinish, NullCallbackAioCompletes) {
    nng_aio* a = nullptr;
    ASSERT_EQ(nng_aio_alloc(&a, nullptr, nullptr), 0);
    ASSERT_TRUE(nng_aio_begin(a));
    nng_aio_finish(a, NNG_EAGAIN);
    nng_aio_wait(a);
    EXPECT_EQ(nng_aio_result(a), NNG_EAGAIN);
    nng_sleep_aio(1, a);
    nng_aio_wait(a);
    EXPECT_EQ(nng_aio_result(a), 0);
    nng_aio_free(a);
}

TEST(AioDefer, CancelFunctionGetsArgAndAio) {
    c_aio a;
    struct seen {
        nng_aio* aio = nullptr;
        void* arg = nullptr;
    } s;
    ASSERT_TRUE(nng_aio_begin(a.a));
    nng_aio_defer(
        a.a,
        [](nng_aio* x, void* arg, int err) {
            static_cast<seen*>(arg)->aio = x;
            static_cast<seen*>(arg)->arg = arg;
            nng_aio_finish(x, err);
        },
        &s);
    nng_aio_cancel(a.a);
    nng_aio_wait(a.a);
    EXPECT_EQ(s.aio, a.a);
    EXPECT_EQ(s.arg, &s);
}

TEST(AioDefer, NullCancelFunctionIsNotCancellable) {
    // Without a cancel function neither cancel nor the timeout can end the
    // operation; it ends when the provider finishes it.
    c_aio a;
    nng_aio_set_timeout(a.a, 5);
    ASSERT_TRUE(nng_aio_begin(a.a));
    nng_aio_defer(a.a, nullptr, nullptr);
    nng_aio_cancel(a.a);
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(a.p.count(), 0);
    nng_aio_finish(a.a, 77);
    nng_aio_wait(a.a);
    EXPECT_EQ(a.p.count(), 1);
    EXPECT_EQ(nng_aio_result(a.a), 77);
}

TEST(AioDefer, CancelFunctionCalledAtMostOnce) {
    c_aio a;
    provider pv;
    pv.finishes = false; // the operation is "no longer cancellable"
    pv.start(a.a);
    nng_aio_cancel(a.a);
    nng_aio_abort(a.a, NNG_EPROTO);
    nng_aio_cancel(a.a);
    EXPECT_EQ(pv.cancels.load(), 1);
    EXPECT_EQ(pv.reason.load(), NNG_ECANCELED);
    EXPECT_EQ(a.p.count(), 0);
    nng_aio_finish(a.a, 0); // the provider completes normally
    nng_aio_wait(a.a);
    EXPECT_EQ(a.p.count(), 1);
    EXPECT_EQ(nng_aio_result(a.a), 0);
}

TEST(AioDefer, CancelFunctionRunsWithoutAioLock) {
    // The cancel function may call back into the aio (here: abort again and
    // read the result); with a lock held this would deadlock.
    c_aio a;
    ASSERT_TRUE(nng_aio_begin(a.a));
    nng_aio_defer(
        a.a,
        [](nng_aio* x, void*, int err) {
            nng_aio_abort(x, NNG_EINTERNAL); // no-op: already taken out
            (void)nng_aio_result(x);
            nng_aio_finish(x, err);
        },
        nullptr);
    std::thread t([&] { nng_aio_cancel(a.a); });
    if (!a.p.wait_calls(1)) {
        die_stuck("cancel function calling into its aio");
    }
    t.join();
    EXPECT_EQ(a.p.result, NNG_ECANCELED);
}

TEST(AioSchedule, StoppedAioRefusesWithEClosed) {
    aio a(nullptr, nullptr);
    ASSERT_TRUE(a.begin());
    a.close(); // stop without waiting: the begun operation is still ours
    int rv = a.schedule([](aio*, void*, int) {}, nullptr);
    EXPECT_EQ(rv, NNG_ECLOSED);
    a.finish_error(rv);
    a.wait();
    EXPECT_EQ(a.result(), NNG_ECLOSED);
    EXPECT_FALSE(a.begin());
    EXPECT_EQ(a.result(), NNG_ECANCELED);
}

// A ref-counted provider that records its destruction.
struct counted_provider : nnghttp::detail::ref_counted {
    std::atomic<bool>* destroyed;
    explicit counted_provider(std::atomic<bool>* d) : destroyed(d) {}
    ~counted_provider() override { *destroyed = true; }
};

TEST(AioSchedule, KeepHoldsProviderAcrossCancel) {
    // Provider rule 5: a provider passed as `keep` outlives the cancel call
    // even when its owner drops the last reference inside it.
    std::atomic<bool> destroyed{false};
    auto* pv = new counted_provider(&destroyed);
    struct ctx {
        counted_provider* pv;
        std::atomic<bool>* destroyed;
        bool alive_after_release = false;
    } c{pv, &destroyed};
    aio a(nullptr, nullptr);
    ASSERT_TRUE(a.begin());
    ASSERT_EQ(a.schedule(
                  [](aio* x, void* arg, int err) {
                      auto* cx = static_cast<ctx*>(arg);
                      cx->pv->release(); // the owner's reference
                      cx->alive_after_release = !cx->destroyed->load();
                      x->finish_error(err);
                  },
                  &c, pv),
              0);
    EXPECT_FALSE(destroyed.load());
    a.cancel();
    a.wait();
    EXPECT_TRUE(c.alive_after_release);
    EXPECT_TRUE(destroyed.load()); // released once the cancel returned
    EXPECT_EQ(a.result(), NNG_ECANCELED);
}

// ---- callbacks ----

TEST(AioCallback, RunsOnceOnWorkerThreadNotCaller) {
    c_aio a;
    ASSERT_TRUE(nng_aio_begin(a.a));
    nng_aio_finish(a.a, 0); // completed inside the "starting" thread
    ASSERT_TRUE(a.p.wait_calls(1));
    std::this_thread::sleep_for(10ms);
    EXPECT_EQ(a.p.count(), 1);
    EXPECT_NE(a.p.thread, std::this_thread::get_id());
    EXPECT_TRUE(a.p.on_loop);
}

TEST(AioCallback, SleepCallbackOnWorkerThread) {
    c_aio a;
    nng_sleep_aio(1, a.a);
    ASSERT_TRUE(a.p.wait_calls(1));
    EXPECT_NE(a.p.thread, std::this_thread::get_id());
    EXPECT_TRUE(a.p.on_loop);
}

TEST(AioCallback, NotRunInsideStartingCallFromWorker) {
    // A provider completing at once from inside a callback (on a worker)
    // must not run the next callback nested in the call.
    c_aio a;
    std::atomic<int> depth{0};
    std::atomic<int> max_depth{0};
    a.p.hook = [&](probe& self) {
        int d = ++depth;
        max_depth = std::max(max_depth.load(), d);
        if (self.count() < 5 && nng_aio_begin(self.a)) {
            nng_aio_finish(self.a, 0);
        }
        --depth;
    };
    ASSERT_TRUE(nng_aio_begin(a.a));
    nng_aio_finish(a.a, 0);
    ASSERT_TRUE(a.p.wait_calls(6));
    nng_aio_wait(a.a);
    EXPECT_EQ(a.p.count(), 6);
    EXPECT_EQ(max_depth.load(), 1);
}

TEST(AioCallback, MayStartNextOperation) {
    c_aio a;
    a.p.hook = [](probe& self) {
        if (self.count() < 9) {
            nng_sleep_aio(1, self.a);
        }
    };
    nng_sleep_aio(1, a.a);
    ASSERT_TRUE(a.p.wait_calls(10));
    nng_aio_wait(a.a); // the chain has ended
    EXPECT_EQ(a.p.count(), 10);
}

TEST(AioCallback, WaitCoversAChain) {
    // wait() from outside returns only when the whole chain of operations
    // started by the callback is over.
    c_aio a;
    a.p.hook = [](probe& self) {
        if (self.count() < 4) {
            nng_sleep_aio(2, self.a);
        }
    };
    nng_sleep_aio(2, a.a);
    nng_aio_wait(a.a);
    EXPECT_EQ(a.p.count(), 5);
}

// ---- nng_aio_wait ----

TEST(AioWait, IdleReturnsAtOnce) {
    c_aio a;
    auto t0 = steady::now();
    nng_aio_wait(a.a);
    nng_aio_wait(a.a);
    EXPECT_LT(steady::now() - t0, 1s);
    EXPECT_EQ(a.p.count(), 0);
}

TEST(AioWait, AfterCompletionReturnsAtOnce) {
    c_aio a;
    nng_sleep_aio(1, a.a);
    nng_aio_wait(a.a);
    nng_aio_wait(a.a);
    EXPECT_EQ(a.p.count(), 1);
}

TEST(AioWait, FromSeveralThreads) {
    c_aio a;
    nng_sleep_aio(20, a.a);
    std::atomic<int> done{0};
    std::thread t1([&] {
        nng_aio_wait(a.a);
        EXPECT_EQ(a.p.count(), 1);
        done++;
    });
    std::thread t2([&] {
        nng_aio_wait(a.a);
        EXPECT_EQ(a.p.count(), 1);
        done++;
    });
    t1.join();
    t2.join();
    EXPECT_EQ(done.load(), 2);
}

// ---- nng_aio_cancel / nng_aio_abort ----

TEST(AioCancel, PendingOpEndsWithECanceled) {
    c_aio a;
    provider pv;
    pv.start(a.a);
    nng_aio_cancel(a.a);
    nng_aio_wait(a.a);
    EXPECT_EQ(pv.reason.load(), NNG_ECANCELED);
    EXPECT_EQ(nng_aio_result(a.a), NNG_ECANCELED);
    EXPECT_EQ(a.p.count(), 1);
    EXPECT_EQ(a.p.result, NNG_ECANCELED);
}

TEST(AioCancel, IdleIsNoop) {
    c_aio a;
    nng_aio_cancel(a.a);
    nng_aio_wait(a.a);
    EXPECT_EQ(a.p.count(), 0);
    EXPECT_EQ(nng_aio_result(a.a), 0);
    nng_sleep_aio(1, a.a); // still usable
    nng_aio_wait(a.a);
    EXPECT_EQ(nng_aio_result(a.a), 0);
}

TEST(AioCancel, AfterCompletionIsNoop) {
    c_aio a;
    nng_sleep_aio(1, a.a);
    nng_aio_wait(a.a);
    nng_aio_cancel(a.a);
    EXPECT_EQ(nng_aio_result(a.a), 0);
    EXPECT_EQ(a.p.count(), 1);
}

TEST(AioCancel, ReturnsWithoutWaiting) {
    // The callback blocks until released; cancel must not wait for it.
    c_aio a;
    provider pv;
    std::atomic<bool> release{false};
    a.p.hook = [&](probe&) {
        if (!eventually([&] { return release.load(); })) {
            die_stuck("callback never released");
        }
    };
    pv.start(a.a);
    nng_aio_cancel(a.a);
    EXPECT_EQ(a.p.count(), 0); // callback not yet done
    release = true;
    nng_aio_wait(a.a);
    EXPECT_EQ(a.p.count(), 1);
}

TEST(AioAbort, DeliversTheCode) {
    for (int code : {int{NNG_ECONNSHUT}, int{NNG_ECLOSED}, int{NNG_ETIMEDOUT}, 99999}) {
        c_aio a;
        provider pv;
        pv.start(a.a);
        nng_aio_abort(a.a, code);
        nng_aio_wait(a.a);
        EXPECT_EQ(pv.reason.load(), code);
        EXPECT_EQ(nng_aio_result(a.a), code);
        EXPECT_EQ(a.p.count(), 1);
    }
}

TEST(AioAbort, IdleLeavesResultAlone) {
    c_aio a;
    ASSERT_TRUE(nng_aio_begin(a.a));
    nng_aio_finish(a.a, NNG_EPROTO);
    nng_aio_wait(a.a);
    nng_aio_abort(a.a, NNG_ECONNRESET);
    EXPECT_EQ(nng_aio_result(a.a), NNG_EPROTO);
    EXPECT_EQ(a.p.count(), 1);
}

TEST(AioAbort, FromAnotherThread) {
    c_aio a;
    nng_sleep_aio(60000, a.a);
    std::thread t([&] { nng_aio_abort(a.a, NNG_ECONNABORTED); });
    t.join();
    ASSERT_TRUE(a.p.wait_calls(1));
    EXPECT_EQ(a.p.result, NNG_ECONNABORTED);
}

// ---- nng_sleep_aio ----

TEST(AioSleep, CompletesWithZeroAfterTheDelay) {
    c_aio a;
    auto t0 = steady::now();
    nng_sleep_aio(20, a.a);
    nng_aio_wait(a.a);
    EXPECT_GE(steady::now() - t0, 19ms);
    EXPECT_EQ(nng_aio_result(a.a), 0);
    EXPECT_EQ(a.p.count(), 1);
    EXPECT_EQ(a.p.result, 0);
}

TEST(AioSleep, ZeroAndNegativeCompleteAtOnceWithZero) {
    c_aio a;
    nng_sleep_aio(0, a.a);
    nng_aio_wait(a.a);
    EXPECT_EQ(nng_aio_result(a.a), 0);
    nng_sleep_aio(-5, a.a);
    nng_aio_wait(a.a);
    EXPECT_EQ(nng_aio_result(a.a), 0);
    EXPECT_EQ(a.p.count(), 2);
}

TEST(AioSleep, ShorterTimeoutGivesETimedout) {
    c_aio a;
    nng_aio_set_timeout(a.a, 10);
    auto t0 = steady::now();
    nng_sleep_aio(60000, a.a);
    nng_aio_wait(a.a);
    EXPECT_LT(steady::now() - t0, patience);
    EXPECT_EQ(nng_aio_result(a.a), NNG_ETIMEDOUT);
    EXPECT_EQ(a.p.count(), 1);
}

TEST(AioSleep, LongerTimeoutGivesZero) {
    c_aio a;
    nng_aio_set_timeout(a.a, 10000);
    nng_sleep_aio(5, a.a);
    nng_aio_wait(a.a);
    EXPECT_EQ(nng_aio_result(a.a), 0);
}

TEST(AioSleep, ZeroTimeoutGivesETimedoutUnlessSleepIsZero) {
    // As NNG 1.5.2: a zero timeout is "shorter" than any positive sleep.
    c_aio a;
    nng_aio_set_timeout(a.a, NNG_DURATION_ZERO);
    nng_sleep_aio(100, a.a);
    nng_aio_wait(a.a);
    EXPECT_EQ(nng_aio_result(a.a), NNG_ETIMEDOUT);
    nng_sleep_aio(0, a.a);
    nng_aio_wait(a.a);
    EXPECT_EQ(nng_aio_result(a.a), 0);
    EXPECT_EQ(a.p.count(), 2);
}

TEST(AioSleep, CancelGivesECanceled) {
    c_aio a;
    nng_sleep_aio(60000, a.a);
    nng_aio_cancel(a.a);
    nng_aio_wait(a.a);
    EXPECT_EQ(nng_aio_result(a.a), NNG_ECANCELED);
    EXPECT_EQ(a.p.count(), 1);
}

TEST(AioSleep, AbortGivesTheCode) {
    c_aio a;
    nng_sleep_aio(60000, a.a);
    nng_aio_abort(a.a, 99);
    nng_aio_wait(a.a);
    EXPECT_EQ(nng_aio_result(a.a), 99);
    EXPECT_EQ(a.p.count(), 1);
}

TEST(AioSleep, ManyConcurrentSleepsOrderedByDeadline) {
    constexpr int n = 8;
    std::mutex m;
    std::vector<int> order;
    struct slot {
        nng_aio* a = nullptr;
        int id = 0;
        std::mutex* m = nullptr;
        std::vector<int>* order = nullptr;
    } slots[n];
    for (int i = 0; i < n; i++) {
        slots[i] = slot{nullptr, i, &m, &order};
        ASSERT_EQ(nng_aio_alloc(
                      &slots[i].a,
                      [](void* arg) {
                          auto* s = static_cast<slot*>(arg);
                          std::lock_guard lk(*s->m);
                          s->order->push_back(s->id);
                      },
                      &slots[i]),
                  0);
    }
    // Started in reverse; deadlines 40 ms apart so the order is certain.
    for (int i = n - 1; i >= 0; i--) {
        nng_sleep_aio(10 + 40 * i, slots[i].a);
    }
    for (auto& s : slots) {
        nng_aio_wait(s.a);
    }
    for (auto& s : slots) {
        nng_aio_free(s.a);
    }
    ASSERT_EQ(order.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; i++) {
        EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
    }
}

// ---- nng_aio_stop ----

TEST(AioStop, PendingOpRunsCallbackWithECanceledBeforeReturn) {
    // docs/compat.md: as NNG 1.5.2 (not the v1.3.0 man page), the aborted
    // operation's callback runs, exactly once, before stop returns.
    c_aio a;
    provider pv;
    pv.start(a.a);
    nng_aio_stop(a.a);
    EXPECT_EQ(pv.cancels.load(), 1);
    EXPECT_EQ(pv.reason.load(), NNG_ECANCELED);
    EXPECT_EQ(a.p.count(), 1);
    EXPECT_EQ(a.p.result, NNG_ECANCELED);
    EXPECT_EQ(nng_aio_result(a.a), NNG_ECANCELED);
    std::this_thread::sleep_for(10ms);
    EXPECT_EQ(a.p.count(), 1);
}

TEST(AioStop, PendingSleepRunsCallbackWithECanceled) {
    c_aio a;
    nng_sleep_aio(60000, a.a);
    nng_aio_stop(a.a);
    EXPECT_EQ(a.p.count(), 1);
    EXPECT_EQ(nng_aio_result(a.a), NNG_ECANCELED);
}

TEST(AioStop, WaitsForRunningCallback) {
    c_aio a;
    std::atomic<bool> entered{false};
    std::atomic<bool> finished{false};
    a.p.hook = [&](probe&) {
        entered = true;
        std::this_thread::sleep_for(50ms);
        finished = true;
    };
    nng_sleep_aio(1, a.a);
    ASSERT_TRUE(eventually([&] { return entered.load(); }));
    nng_aio_stop(a.a);
    EXPECT_TRUE(finished.load());
    EXPECT_EQ(a.p.count(), 1);
}

TEST(AioStop, WaitsForProviderThatIgnoresCancel) {
    // The cancel function cannot end the operation; stop waits until the
    // provider finishes it.
    c_aio a;
    provider pv;
    pv.finishes = false;
    pv.start(a.a);
    std::atomic<bool> stopped{false};
    std::thread t([&] {
        nng_aio_stop(a.a);
        stopped = true;
    });
    ASSERT_TRUE(eventually([&] { return pv.cancels.load() == 1; }));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(stopped.load());
    nng_aio_finish(a.a, NNG_EPROTO);
    t.join();
    EXPECT_TRUE(stopped.load());
    EXPECT_EQ(a.p.count(), 1);
    EXPECT_EQ(a.p.result, NNG_EPROTO);
}

TEST(AioStop, LaterOperationsFailWithoutCallback) {
    c_aio a;
    nng_aio_stop(a.a);
    EXPECT_FALSE(nng_aio_begin(a.a));
    EXPECT_EQ(nng_aio_result(a.a), NNG_ECANCELED);
    nng_sleep_aio(1, a.a);
    nng_aio_wait(a.a);
    EXPECT_EQ(nng_aio_result(a.a), NNG_ECANCELED);
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(a.p.count(), 0);
}

TEST(AioStop, CallbackRestartingTheAioIsRefused) {
    // A callback that restarts its aio, racing with stop: the restart after
    // stop must fail at begin, so stop returns and the chain ends.
    c_aio a;
    a.p.hook = [](probe& self) { nng_sleep_aio(1, self.a); };
    nng_sleep_aio(1, a.a);
    ASSERT_TRUE(a.p.wait_calls(3));
    nng_aio_stop(a.a);
    int n = a.p.count();
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(a.p.count(), n);
    EXPECT_FALSE(nng_aio_begin(a.a));
}

TEST(AioStop, IdleAndRepeatedAndNull) {
    c_aio a;
    nng_aio_stop(a.a);
    nng_aio_stop(a.a);
    nng_aio_stop(nullptr);
    EXPECT_EQ(a.p.count(), 0);
}

TEST(AioStop, ConcurrentStopsFromSeveralThreads) {
    c_aio a;
    provider pv;
    pv.start(a.a);
    std::thread ts[4];
    for (auto& t : ts) {
        t = std::thread([&] { nng_aio_stop(a.a); });
    }
    for (auto& t : ts) {
        t.join();
    }
    EXPECT_EQ(pv.cancels.load(), 1);
    EXPECT_EQ(a.p.count(), 1);
}

// ---- from the aio's own callback (docs/compat.md: NNG deadlocks) ----

TEST(AioOwnCallback, WaitDoesNotDeadlock) {
    c_aio a;
    std::atomic<bool> returned{false};
    a.p.hook = [&](probe& self) {
        nng_aio_wait(self.a);
        returned = true;
    };
    nng_sleep_aio(1, a.a);
    if (!eventually([&] { return returned.load(); })) {
        die_stuck("nng_aio_wait from the aio's own callback");
    }
    nng_aio_wait(a.a);
    EXPECT_EQ(a.p.count(), 1);
}

TEST(AioOwnCallback, StopDoesNotDeadlock) {
    c_aio a;
    std::atomic<bool> returned{false};
    a.p.hook = [&](probe& self) {
        nng_aio_stop(self.a);
        returned = true;
    };
    nng_sleep_aio(1, a.a);
    if (!eventually([&] { return returned.load(); })) {
        die_stuck("nng_aio_stop from the aio's own callback");
    }
    nng_aio_wait(a.a);
    EXPECT_EQ(a.p.count(), 1);
    // Stopped: further operations fail at begin.
    EXPECT_FALSE(nng_aio_begin(a.a));
    EXPECT_EQ(nng_aio_result(a.a), NNG_ECANCELED);
}

TEST(AioOwnCallback, WaitForAnotherAioStartedInCallback) {
    // A callback starts an operation on another aio and waits for it: the
    // wait keeps the worker running, so the other callback can run even if
    // it was queued behind this one on the same worker.
    c_aio a;
    c_aio b;
    std::atomic<int> b_calls_seen{-1};
    a.p.hook = [&](probe&) {
        nng_sleep_aio(5, b.a);
        nng_aio_wait(b.a);
        b_calls_seen = b.p.count();
    };
    ASSERT_TRUE(nng_aio_begin(a.a));
    nng_aio_finish(a.a, 0);
    if (!a.p.wait_calls(1)) {
        die_stuck("waiting for another aio inside a callback");
    }
    EXPECT_EQ(b_calls_seen.load(), 1);
}

TEST(AioOwnCallback, WaitCoversOperationStartedInCallback) {
    // From inside the callback, wait covers an operation started there: it
    // returns once that operation is done (its result is readable), and the
    // operation's own callback is never run nested inside this one.  (It may
    // run on another worker before this one returns, as with NNG's
    // taskq, when the completion comes from another thread.)
    c_aio a;
    std::atomic<int> entered{0};
    std::atomic<bool> nested{false};
    std::atomic<int> result_after_wait{-1};
    thread_local int depth = 0;
    a.p.hook = [&](probe& self) {
        if (++depth > 1) {
            nested = true;
        }
        if (entered++ == 0) {
            nng_aio_set_timeout(self.a, 5);
            nng_sleep_aio(60000, self.a); // ends by the 5 ms timeout
            nng_aio_wait(self.a);
            result_after_wait = nng_aio_result(self.a);
        }
        --depth;
    };
    nng_sleep_aio(1, a.a);
    if (!eventually([&] { return result_after_wait.load() >= 0; })) {
        die_stuck("nng_aio_wait for an operation started in the own callback");
    }
    EXPECT_EQ(result_after_wait.load(), NNG_ETIMEDOUT);
    ASSERT_TRUE(a.p.wait_calls(2));
    nng_aio_wait(a.a);
    EXPECT_EQ(a.p.count(), 2);
    EXPECT_FALSE(nested.load());
}

TEST(AioOwnCallback, StopCancelsOperationStartedInCallback) {
    // The callback starts a long sleep and then stops its own aio: the sleep
    // is cancelled, and its callback runs once.
    c_aio a;
    std::atomic<bool> returned{false};
    std::atomic<int> entered{0};
    a.p.hook = [&](probe& self) {
        if (entered++ == 0) {
            nng_sleep_aio(60000, self.a);
            nng_aio_stop(self.a);
            returned = true;
        }
    };
    nng_sleep_aio(1, a.a);
    if (!eventually([&] { return returned.load(); })) {
        die_stuck("nng_aio_stop of an op started in the own callback");
    }
    ASSERT_TRUE(a.p.wait_calls(2));
    nng_aio_wait(a.a);
    EXPECT_EQ(a.p.count(), 2);
    EXPECT_EQ(a.p.result, NNG_ECANCELED);
}

TEST(AioOwnCallback, WaitCoversOperationFinishedInCallback) {
    c_aio a;
    std::atomic<bool> returned{false};
    std::atomic<int> entered{0};
    a.p.hook = [&](probe& self) {
        if (entered++ == 0 && nng_aio_begin(self.a)) {
            nng_aio_finish(self.a, NNG_EPROTO);
            nng_aio_wait(self.a);
            returned = true;
        }
    };
    nng_sleep_aio(1, a.a);
    if (!eventually([&] { return returned.load(); })) {
        die_stuck("nng_aio_wait for an op finished in the own callback");
    }
    nng_aio_wait(a.a);
    EXPECT_EQ(a.p.count(), 2);
    EXPECT_EQ(a.p.result, NNG_EPROTO);
}

} // namespace
