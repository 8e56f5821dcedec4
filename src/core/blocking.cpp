#include "core/blocking.hpp"

#include "core/executor.hpp"
#include "core/sigpipe.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <new>
#include <thread>
#include <utility>

namespace nnghttp::detail {

namespace {

class blocking_pool {
  public:
    // False when the job could not be queued (out of memory, or no thread
    // to run it and none could be started): the caller runs it itself.
    bool submit(void (*fn)(void*), void* arg) noexcept {
        std::unique_lock lk(mtx_);
        try {
            jobs_.emplace_back(fn, arg);
        } catch (...) {
            return false;
        }
        // A thread more whenever jobs outnumber the idle threads (one
        // already woken for an earlier job still counts as idle until it
        // runs), so that a job never waits behind one that is stuck.
        if (jobs_.size() > idle_ && threads_ < blocking_threads) {
            try {
                std::thread([this] { work(); }).detach();
                threads_++;
            } catch (...) {
                if (threads_ == 0) {
                    jobs_.pop_back();
                    return false;
                }
            }
        }
        cv_.notify_one();
        return true;
    }

  private:
    void work() {
        block_sigpipe_here();
        std::unique_lock lk(mtx_);
        for (;;) {
            while (jobs_.empty()) {
                idle_++;
                cv_.wait(lk);
                idle_--;
            }
            auto [fn, arg] = jobs_.front();
            jobs_.pop_front();
            lk.unlock();
            fn(arg);
            lk.lock();
        }
    }

    std::mutex mtx_;
    std::condition_variable cv_;
    std::deque<std::pair<void (*)(void*), void*>> jobs_;
    unsigned threads_ = 0;
    unsigned idle_ = 0;
};

} // namespace

void run_blocking(void (*fn)(void*), void* arg) {
    if (loop::thread_free()) {
        fn(arg);
        return;
    }
    // Never destroyed: its threads wait on it until the process ends.
    static auto* pool = new (std::nothrow) blocking_pool;
    if (pool == nullptr || !pool->submit(fn, arg)) {
        fn(arg); // better late on this thread than never
    }
}

} // namespace nnghttp::detail
