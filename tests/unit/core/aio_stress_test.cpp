// Stress test of the aio contract: many operations (nng_sleep_aio and a
// custom nng_aio_begin/defer provider) with random short timeouts, racing
// cancels, aborts and stops from several threads.  Every started operation
// must produce exactly one callback, and every aio is freed at the end (ASan
// reports anything leaked).
//
// The normal build runs 200,000 operations.  Sanitizer builds run
// fewer (they are 5-20x slower); NNGHTTP_STRESS_OPS overrides the count.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <gtest/gtest.h>
#include <mutex>
#include <nng/nng.h>
#include <random>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NNGHTTP_STRESS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NNGHTTP_STRESS_SANITIZED 1
#endif
#endif

namespace {

using namespace std::chrono_literals;

long total_ops() {
    if (const char* env = std::getenv("NNGHTTP_STRESS_OPS")) {
        long n = std::atol(env);
        if (n > 0) {
            return n;
        }
    }
#ifdef NNGHTTP_STRESS_SANITIZED
    return 50000;
#else
    return 200000;
#endif
}

// One aio and its bookkeeping.  `started` counts operations whose begin
// succeeded (or sleeps, which always complete unless the aio is stopped);
// `callbacks` counts callback runs; they must match at the end.
struct slot {
    nng_aio* a = nullptr;
    std::atomic<std::int64_t> started{0};
    std::atomic<std::int64_t> callbacks{0};
    std::atomic<int> in_cb{0}; // callbacks of this aio running now
    std::atomic<bool> overlap{false};
    std::atomic<bool> bad_result{false};
    // Guards `stopped` against a start racing with a stop: a start holds it
    // from the check to the begin, a stopper only to set the flag.
    std::mutex start_mtx;
    bool stopped = false;
    // The custom provider's state, under mtx.
    std::mutex mtx;
    bool pending = false; // a deferred operation is the provider's
};

struct stress {
    std::vector<slot> slots;
    std::atomic<long> budget; // operations left to start
    std::atomic<long> completions{0};
    // Callbacks by result: 0, NNG_ETIMEDOUT, NNG_ECANCELED, NNG_ECONNABORTED.
    std::array<std::atomic<long>, 4> by_result{};

    explicit stress(std::size_t n, long ops) : slots(n), budget(ops) {}
};

stress* g_stress = nullptr;

bool valid_result(int rv) {
    switch (rv) {
    case 0:
    case NNG_ETIMEDOUT:
    case NNG_ECANCELED:
    case NNG_ECLOSED:
    case NNG_ECONNABORTED: // the abort code used below
        return true;
    default:
        return false;
    }
}

// The custom provider: the operation ends only by cancel (the aio's timeout
// included) or by a "completer" thread finishing it.
void provider_cancel(nng_aio* a, void* arg, int err) {
    auto* s = static_cast<slot*>(arg);
    {
        std::lock_guard lk(s->mtx);
        if (!s->pending) {
            return; // already finished by the completer
        }
        s->pending = false;
    }
    nng_aio_finish(a, err);
}

void provider_start(slot& s) {
    if (!nng_aio_begin(s.a)) {
        return; // stopped: no callback
    }
    s.started++;
    // Deferred under the provider's lock (order provider -> aio, as the
    // contract allows): a completer cannot finish the operation before it
    // is deferred, which would let this call touch the aio's next one.
    std::lock_guard lk(s.mtx);
    s.pending = true;
    nng_aio_defer(s.a, provider_cancel, &s);
}

// Finishes a pending custom operation normally, if there is one.
void provider_complete(slot& s) {
    {
        std::lock_guard lk(s.mtx);
        if (!s.pending) {
            return;
        }
        s.pending = false;
    }
    nng_aio_finish(s.a, 0);
}

thread_local std::minstd_rand tl_rng{std::random_device{}()};

// Starts the next operation on slot s, if the budget allows.
void start_next(slot& s) {
    std::lock_guard lk(s.start_mtx);
    if (s.stopped || g_stress->budget.fetch_sub(1) <= 0) {
        return;
    }
    auto r = tl_rng();
    // Timeouts: none, zero-ish, or a few ms; sleeps of 0-3 ms.
    static constexpr std::array<nng_duration, 5> timeouts = {NNG_DURATION_INFINITE, 1, 2, 3,
                                                             NNG_DURATION_DEFAULT};
    nng_aio_set_timeout(s.a, timeouts[r % timeouts.size()]);
    if ((r >> 8) % 2 == 0) {
        // Not stopped (and no stop can begin until we return), so the sleep
        // will complete: count it as started.  (Caller holds start_mtx.)
        s.started++;
        nng_sleep_aio(static_cast<nng_duration>((r >> 12) % 4), s.a);
    } else {
        // A zero timeout would make nng_aio_defer abandon the operation
        // (NNG 1.5.2's behaviour): the timeouts above are never zero.
        provider_start(s);
    }
}

void on_complete(void* arg) {
    auto* s = static_cast<slot*>(arg);
    if (s->in_cb.fetch_add(1) != 0) {
        s->overlap = true;
    }
    if (!valid_result(nng_aio_result(s->a))) {
        s->bad_result = true;
    }
    switch (nng_aio_result(s->a)) {
    case 0:
        g_stress->by_result[0]++;
        break;
    case NNG_ETIMEDOUT:
        g_stress->by_result[1]++;
        break;
    case NNG_ECANCELED:
        g_stress->by_result[2]++;
        break;
    case NNG_ECONNABORTED:
        g_stress->by_result[3]++;
        break;
    default:
        break;
    }
    s->callbacks++;
    g_stress->completions++;
    s->in_cb.fetch_sub(1);
    start_next(*s);
}

TEST(AioStress, EveryOperationCompletesExactlyOnce) {
    const long ops = total_ops();
    constexpr std::size_t n_slots = 256;
    stress st(n_slots, ops);
    g_stress = &st;

    for (auto& s : st.slots) {
        ASSERT_EQ(nng_aio_alloc(&s.a, on_complete, &s), 0);
    }
    auto t0 = std::chrono::steady_clock::now();
    for (auto& s : st.slots) {
        start_next(s);
    }

    // Disruptors: cancel, abort, finish the custom operation normally, and
    // (rarely) stop: a stopped slot drops out of the run.
    std::atomic<bool> done{false};
    std::atomic<std::size_t> stops{0};
    auto disrupt = [&](unsigned seed, int kind) {
        std::minstd_rand rng(seed);
        while (!done.load()) {
            slot& s = st.slots[rng() % n_slots];
            switch (kind) {
            case 0:
                nng_aio_cancel(s.a);
                break;
            case 1:
                nng_aio_abort(s.a, NNG_ECONNABORTED);
                break;
            case 2:
                provider_complete(s);
                break;
            default:
                // Stop a few slots (at most one in 8) during the run.
                if (rng() % 4096 == 0 && stops.fetch_add(1) < n_slots / 8) {
                    bool first = false;
                    {
                        std::lock_guard lk(s.start_mtx);
                        first = !s.stopped;
                        s.stopped = true;
                    }
                    if (first) {
                        nng_aio_stop(s.a);
                    }
                }
                break;
            }
            if (rng() % 8 == 0) {
                std::this_thread::yield();
            }
        }
    };
    std::vector<std::thread> threads;
    threads.emplace_back(disrupt, 1u, 0);
    threads.emplace_back(disrupt, 2u, 1);
    threads.emplace_back(disrupt, 3u, 2);
    threads.emplace_back(disrupt, 4u, 2);
    threads.emplace_back(disrupt, 5u, 3);

    // The run ends when the budget is spent and every chain has ended.
    auto quiet = [&] {
        if (st.budget.load() > 0) {
            return false;
        }
        for (auto& s : st.slots) {
            if (s.started.load() != s.callbacks.load()) {
                return false;
            }
        }
        return true;
    };
    const auto limit = t0 + 50s;
    while (!quiet() && std::chrono::steady_clock::now() < limit) {
        std::this_thread::sleep_for(2ms);
    }
    done = true;
    for (auto& t : threads) {
        t.join();
    }
    bool finished = quiet();
    auto elapsed = std::chrono::steady_clock::now() - t0;

    // Free everything (operations still pending, if the run timed out, are
    // closed and complete here).
    for (auto& s : st.slots) {
        nng_aio_free(s.a);
    }
    g_stress = nullptr;

    ASSERT_TRUE(finished) << "operations still pending after 50 s";
    std::int64_t started = 0;
    std::int64_t callbacks = 0;
    int stopped = 0;
    for (std::size_t i = 0; i < n_slots; i++) {
        slot& s = st.slots[i];
        EXPECT_EQ(s.started.load(), s.callbacks.load()) << "slot " << i;
        EXPECT_FALSE(s.overlap.load()) << "slot " << i << ": callbacks overlapped";
        EXPECT_FALSE(s.bad_result.load()) << "slot " << i;
        started += s.started.load();
        callbacks += s.callbacks.load();
        stopped += s.stopped ? 1 : 0;
    }
    EXPECT_EQ(callbacks, st.completions.load());
    // Stopped slots drop out; the others use up the whole budget.
    EXPECT_EQ(started, ops);
    // Every kind of ending happened (success, timeout, cancel, abort).
    for (std::size_t k = 0; k < st.by_result.size(); k++) {
        EXPECT_GT(st.by_result[k].load(), 0) << "result kind " << k;
    }
    RecordProperty("operations", static_cast<int>(started));
    RecordProperty("stopped_slots", stopped);
    RecordProperty(
        "elapsed_ms",
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
}

} // namespace
