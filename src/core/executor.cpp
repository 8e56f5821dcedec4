#include "core/executor.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

namespace nnghttp {

namespace {

unsigned default_threads() {
    if (const char* env = std::getenv("NNGHTTP_THREADS")) {
        int n = std::atoi(env);
        if (n > 0 && n <= 1024) {
            return static_cast<unsigned>(n);
        }
    }
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    return std::max(4u, 2 * cores);
}

std::mutex global_mtx;
thread_local executor* tl_current = nullptr;
std::atomic<executor*> global_exec{nullptr};

} // namespace

executor::executor(unsigned threads)
    : ctx_(static_cast<int>(threads == 0 ? default_threads() : threads)),
      guard_(asio::make_work_guard(ctx_)) {
    unsigned n = threads == 0 ? default_threads() : threads;
    threads_.reserve(n);
    for (unsigned i = 0; i < n; i++) {
        threads_.emplace_back([this] {
            tl_current = this;
            ctx_.run();
        });
    }
}

executor::~executor() {
    guard_.reset();
    ctx_.stop();
    for (auto& t : threads_) {
        t.join();
    }
}

bool executor::running_in_this_thread() const noexcept {
    return tl_current == this;
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

executor& executor::current() {
    return tl_current != nullptr ? *tl_current : global();
}

void executor::shutdown_global() {
    std::lock_guard lk(global_mtx);
    delete global_exec.exchange(nullptr, std::memory_order_acq_rel);
}

} // namespace nnghttp
