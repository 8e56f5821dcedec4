// SIGPIPE from writes that cannot refuse it (sendfile has no MSG_NOSIGNAL):
// the library neither dies of it nor changes the process's dispositions
// (core/sigpipe.hpp).  The test process keeps the default disposition, so a
// SIGPIPE that got through would end it: these tests fail by dying.
#include "core/blocking.hpp"
#include "core/sigpipe.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <ctime>
#include <cstdio>
#include <future>
#include <pthread.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

using nnghttp::detail::sigpipe_shield;

bool pipe_pending() {
    sigset_t p;
    sigpending(&p);
    return sigismember(&p, SIGPIPE) == 1;
}

bool pipe_blocked() {
    sigset_t m;
    pthread_sigmask(SIG_SETMASK, nullptr, &m);
    return sigismember(&m, SIGPIPE) == 1;
}

// A socket whose peer is gone, and a file with bytes to send to it.
struct dead_peer {
    int sock = -1;
    FILE* file = nullptr;
    dead_peer() {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        ::close(sv[1]);
        sock = sv[0];
        file = std::tmpfile();
        std::fputs("some bytes for nobody", file);
        std::fflush(file);
    }
    ~dead_peer() {
        ::close(sock);
        std::fclose(file);
    }
    // sendfile under a shield, as socket_stream does; returns its errno.
    int send_shielded() {
        sigpipe_shield shield;
        off_t off = 0;
        ssize_t r = ::sendfile(sock, fileno(file), &off, 8);
        return r < 0 ? errno : 0;
    }
};

} // namespace

TEST(Sigpipe, ASendfileToAGonePeerFailsWithEpipeAndRaisesNothing) {
    ASSERT_EQ(std::signal(SIGPIPE, SIG_DFL), SIG_DFL) << "the test needs the default disposition";
    ASSERT_FALSE(pipe_blocked());
    dead_peer d;
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ(d.send_shielded(), EPIPE);
        EXPECT_FALSE(pipe_pending()) << "the signal the write raised was left pending";
        EXPECT_FALSE(pipe_blocked()) << "the thread's mask was not restored";
    }
}

TEST(Sigpipe, ASignalRaisedByACallThatSucceededIsTakenBackToo) {
    // sendfile moves a file in pieces: one that meets the peer's reset
    // after its first piece returns the count it moved, with SIGPIPE raised
    // all the same.  Raised by hand here, inside the shield.
    ASSERT_FALSE(pipe_blocked());
    {
        sigpipe_shield shield;
        ASSERT_EQ(pthread_kill(pthread_self(), SIGPIPE), 0);
        EXPECT_TRUE(pipe_pending());
    }
    EXPECT_FALSE(pipe_pending());
    EXPECT_FALSE(pipe_blocked());
}

TEST(Sigpipe, AShieldLeavesTheApplicationsOwnPendingSignalAlone) {
    // SIGPIPE blocked by the application, with one of its own pending: the
    // shield must neither take it nor unblock it.
    sigset_t pipe, old;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &pipe, &old), 0);
    ASSERT_EQ(pthread_kill(pthread_self(), SIGPIPE), 0);
    ASSERT_TRUE(pipe_pending());
    dead_peer d;
    EXPECT_EQ(d.send_shielded(), EPIPE);
    EXPECT_TRUE(pipe_pending()) << "the application's own signal was taken";
    EXPECT_TRUE(pipe_blocked());
    timespec zero{};
    EXPECT_EQ(sigtimedwait(&pipe, nullptr, &zero), SIGPIPE);
    EXPECT_EQ(sigtimedwait(&pipe, nullptr, &zero), -1) << "more than one SIGPIPE was pending";
    ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
}

TEST(Sigpipe, TheLibrarysThreadsBlockItWithoutAShieldCall) {
    // A blocking-call thread is one of the library's: SIGPIPE is blocked
    // there for good, and a raw sendfile raises nothing that kills.
    std::promise<std::pair<bool, int>> got;
    struct job {
        std::promise<std::pair<bool, int>>* out;
        static void run(void* arg) {
            auto* j = static_cast<job*>(arg);
            dead_peer d;
            off_t off = 0;
            ssize_t r = ::sendfile(d.sock, fileno(d.file), &off, 8);
            j->out->set_value({pipe_blocked(), r < 0 ? errno : 0});
        }
    } j{&got};
    nnghttp::detail::run_blocking(&job::run, &j);
    auto [blocked, err] = got.get_future().get();
    EXPECT_TRUE(blocked);
    EXPECT_EQ(err, EPIPE);
    EXPECT_FALSE(pipe_blocked()) << "the calling thread's mask changed";
}
