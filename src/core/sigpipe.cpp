#include "core/sigpipe.hpp"

#include <cerrno>
#include <ctime>
#include <pthread.h>

namespace nnghttp::detail {

namespace {

thread_local bool tl_blocked = false; // block_sigpipe_here ran on this thread

sigset_t pipe_set() noexcept {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    return s;
}

} // namespace

void block_sigpipe_here() noexcept {
    sigset_t s = pipe_set();
    if (pthread_sigmask(SIG_BLOCK, &s, nullptr) == 0) {
        tl_blocked = true;
    }
}

sigpipe_shield::sigpipe_shield() noexcept {
    if (tl_blocked) {
        return; // one of ours: blocked already, nothing to undo
    }
    sigset_t s = pipe_set();
    if (pthread_sigmask(SIG_BLOCK, &s, &old_) != 0) {
        return;
    }
    active_ = true;
    sigset_t pending;
    if (sigpending(&pending) == 0) {
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    }
}

sigpipe_shield::~sigpipe_shield() {
    if (!active_) {
        return;
    }
    sigset_t pending;
    if (!was_pending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        // Take back the signal the write raised before unblocking; with a
        // zero timeout this never waits.
        sigset_t s = pipe_set();
        timespec zero{};
        int saved = errno;
        while (sigtimedwait(&s, nullptr, &zero) < 0 && errno == EINTR) {
        }
        errno = saved;
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

} // namespace nnghttp::detail
