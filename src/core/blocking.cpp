#include "core/blocking.hpp"

#include "core/executor.hpp"
#include "core/sigpipe.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

namespace nnghttp::detail {

namespace {

class blocking_pool {
  public:
    void submit(void (*fn)(void*), void* arg) {
        std::unique_lock lk(mtx_);
        jobs_.emplace_back(fn, arg);
        if (idle_ == 0 && threads_ < blocking_threads) {
            threads_++;
            std::thread([this] { work(); }).detach();
        } else {
            cv_.notify_one();
        }
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
    static auto* pool = new blocking_pool;
    pool->submit(fn, arg);
}

} // namespace nnghttp::detail
