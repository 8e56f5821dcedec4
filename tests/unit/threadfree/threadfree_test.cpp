// Thread-free mode (NNGHTTP_THREADS=0): the library starts no thread; its
// one event loop runs on the application's thread while that thread blocks
// in the library (nng_msleep, nng_aio_wait, nnghttp::run).  These tests set
// the variable before the library's first use, so each test process (CTest
// runs every case in its own) is thread-free from its start.  Peers are curl
// processes and our own client on the same thread.
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <nnghttp/nnghttp.hpp>

#include "support/nng_test.hpp"
#include "support/tls_material.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/single_threaded.h>
#include <sys/wait.h>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using nnghttp::detail::test::material;

// Before main(): the library reads the variable once, at its first use.
const bool thread_free_env = [] { return ::setenv("NNGHTTP_THREADS", "0", 1) == 0; }();

#if defined(__SANITIZE_THREAD__)
constexpr bool tsan = true; // ThreadSanitizer runs a thread of its own
#else
constexpr bool tsan = false;
#endif

int thread_count() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/task")) {
        while (dirent* e = ::readdir(d)) {
            n += e->d_name[0] != '.';
        }
        ::closedir(d);
    }
    return n;
}

// Runs argv as a child process with its output in a file while this thread
// keeps the loop running (nng_msleep): the child talks to servers that only
// this thread can serve.  Returns the child's output, or "exit N: ..." if it
// failed; gives up (killing it) after 20 s.
std::string run_child(std::vector<std::string> args) {
    char path[] = "/tmp/nnghttp-tf-XXXXXX";
    int fd = ::mkstemp(path);
    if (fd < 0) {
        return "mkstemp failed";
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t pid = -1;
    int rv = ::posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fd);
    std::string out;
    if (rv != 0) {
        out = "spawn failed";
    } else {
        int st = 0;
        pid_t got = 0;
        for (int i = 0; i < 2000 && (got = ::waitpid(pid, &st, WNOHANG)) == 0; i++) {
            nng_msleep(10); // serves the child meanwhile
        }
        if (got == 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &st, 0);
            out = "timed out: ";
        } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            out = "exit " + std::to_string(WIFEXITED(st) ? WEXITSTATUS(st) : -1) + ": ";
        }
        std::FILE* f = std::fopen(path, "rb");
        char buf[4096];
        while (f != nullptr) {
            std::size_t n = std::fread(buf, 1, sizeof buf, f);
            if (n == 0) {
                break;
            }
            out.append(buf, n);
        }
        if (f != nullptr) {
            std::fclose(f);
        }
    }
    ::unlink(path);
    return out;
}

int port_of(nng_http_server* s) {
    nng_sockaddr sa;
    if (nng_http_server_get_addr(s, &sa) != 0) {
        return -1;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(&sa.s_in.sa_port);
    return (p[0] << 8) | p[1];
}

nng_http_server* start_server(const std::string& url, nng_tls_config* tls = nullptr) {
    nng_url* u = nullptr;
    nng_http_server* s = nullptr;
    nng_http_handler* h = nullptr;
    EXPECT_EQ(nng_url_parse(&u, url.c_str()), 0);
    EXPECT_EQ(nng_http_server_hold(&s, u), 0);
    nng_url_free(u);
    if (tls != nullptr) {
        EXPECT_EQ(nng_http_server_set_tls(s, tls), 0);
    }
    EXPECT_EQ(nng_http_handler_alloc_static(&h, "/hello", "hello, one thread", 17, "text/plain"), 0);
    EXPECT_EQ(nng_http_server_add_handler(s, h), 0);
    EXPECT_EQ(nng_http_server_start(s), 0);
    return s;
}


} // namespace

TEST(ThreadFree, ServesHttpAndHttpsWithoutAThreadOfItsOwn) {
    ASSERT_TRUE(thread_free_env);
    const material& m = material::get();
    ASSERT_TRUE(m.ok());
    nng_tls_config* cfg = nullptr;
    ASSERT_EQ(nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER), 0);
    ASSERT_EQ(nng_tls_config_own_cert(cfg, m.read("server.crt").c_str(), m.read("server.key").c_str(),
                                      nullptr),
              0);
    nng_http_server* plain = start_server("http://127.0.0.1:0");
    nng_http_server* secure = start_server("https://127.0.0.1:0", cfg);
    nng_tls_config_free(cfg);
    int pp = port_of(plain);
    int sp = port_of(secure);
    ASSERT_GT(pp, 0);
    ASSERT_GT(sp, 0);

    // Several requests on one connection, and several connections.
    std::string u1 = "http://127.0.0.1:" + std::to_string(pp) + "/hello";
    EXPECT_EQ(run_child({"curl", "-sS", "--max-time", "10", u1, u1, u1}),
              "hello, one threadhello, one threadhello, one thread");
    std::string u2 = "https://127.0.0.1:" + std::to_string(sp) + "/hello";
    EXPECT_EQ(run_child({"curl", "-sS", "--max-time", "10", "--cacert", m.path("ca.crt"), u2, u2}),
              "hello, one threadhello, one thread");
    EXPECT_EQ(run_child({"curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                         "http://127.0.0.1:" + std::to_string(pp) + "/missing"}),
              "404");

    if (!tsan) {
        // Nothing of ours started a thread, so glibc and libstdc++ still
        // take their single-threaded paths.
        EXPECT_EQ(thread_count(), 1);
        EXPECT_NE(__libc_single_threaded, 0);
    }
    nng_http_server_release(plain);
    nng_http_server_release(secure);
}

TEST(ThreadFree, DeadlinesFireWhileTheThreadWaits) {
    ASSERT_TRUE(thread_free_env);
    nng_aio* sleep_aio = nullptr;
    ASSERT_EQ(nng_aio_alloc(&sleep_aio, nullptr, nullptr), 0);
    nng_time t0 = nng_clock();
    nng_sleep_aio(30, sleep_aio);
    nng_aio_wait(sleep_aio);
    EXPECT_EQ(nng_aio_result(sleep_aio), 0);
    EXPECT_GE(nng_clock() - t0, 30u);

    // A receive that nobody answers, with a long timeout, then a shorter
    // sleep started after it: the loop's timer must move earlier for it.
    nnghttp::detail::test::tcp_setup p;
    ASSERT_NO_FATAL_FAILURE(p.connect());
    nng_stream* srv = p.srv;
    nng_stream* cli = p.cli;

    nng_aio* recv_aio = nullptr;
    ASSERT_EQ(nng_aio_alloc(&recv_aio, nullptr, nullptr), 0);
    char buf[16];
    nng_iov iov{buf, sizeof buf};
    ASSERT_EQ(nng_aio_set_iov(recv_aio, 1, &iov), 0);
    nng_aio_set_timeout(recv_aio, 400);
    t0 = nng_clock();
    nng_stream_recv(srv, recv_aio);
    nng_sleep_aio(20, sleep_aio);
    nng_aio_wait(sleep_aio);
    nng_time slept = nng_clock() - t0;
    EXPECT_EQ(nng_aio_result(sleep_aio), 0);
    EXPECT_GE(slept, 20u);
    EXPECT_LT(slept, 400u) << "the shorter deadline waited for the longer one";
    nng_aio_wait(recv_aio);
    EXPECT_EQ(nng_aio_result(recv_aio), NNG_ETIMEDOUT);
    EXPECT_GE(nng_clock() - t0, 400u);

    // nng_msleep keeps the loop running: bytes sent meanwhile arrive, and
    // the receive's callback runs, before the sleep ends.
    nng_aio_free(recv_aio);
    static int calls;
    calls = 0;
    ASSERT_EQ(nng_aio_alloc(&recv_aio, [](void*) { calls++; }, nullptr), 0);
    ASSERT_EQ(nng_aio_set_iov(recv_aio, 1, &iov), 0);
    nng_stream_recv(srv, recv_aio);
    nng_aio* send_aio = nullptr;
    ASSERT_EQ(nng_aio_alloc(&send_aio, nullptr, nullptr), 0);
    char msg[] = "ping";
    nng_iov siov{msg, 4};
    ASSERT_EQ(nng_aio_set_iov(send_aio, 1, &siov), 0);
    nng_stream_send(cli, send_aio);
    nng_msleep(50);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(nng_aio_result(recv_aio), 0);
    EXPECT_EQ(nng_aio_count(recv_aio), 4u);
    EXPECT_EQ(std::string(buf, 4), "ping");

    nng_aio_free(send_aio);
    nng_aio_free(recv_aio);
    nng_aio_free(sleep_aio);
    p.close();
    if (!tsan) {
        EXPECT_EQ(thread_count(), 1);
    }
}

TEST(ThreadFree, ACondvarWaitRunsTheLoop) {
    ASSERT_TRUE(thread_free_env);
    // The usual NNG pattern: a callback sets a flag and wakes a condvar the
    // application waits on.  Thread-free, the wait itself runs the loop.
    struct state {
        nng_mtx* mtx = nullptr;
        nng_cv* cv = nullptr;
        bool done = false;
    } st;
    ASSERT_EQ(nng_mtx_alloc(&st.mtx), 0);
    ASSERT_EQ(nng_cv_alloc(&st.cv, st.mtx), 0);
    nng_aio* aio = nullptr;
    ASSERT_EQ(nng_aio_alloc(
                  &aio,
                  [](void* arg) {
                      auto* s = static_cast<state*>(arg);
                      nng_mtx_lock(s->mtx);
                      s->done = true;
                      nng_cv_wake(s->cv);
                      nng_mtx_unlock(s->mtx);
                  },
                  &st),
              0);
    nng_time t0 = nng_clock();
    nng_sleep_aio(30, aio);
    nng_mtx_lock(st.mtx);
    int waits = 0;
    while (!st.done && waits < 1000) {
        nng_cv_wait(st.cv);
        waits++;
    }
    bool done = st.done;
    nng_mtx_unlock(st.mtx);
    EXPECT_TRUE(done);
    EXPECT_GE(nng_clock() - t0, 30u);

    // nng_cv_until with nothing to wake it: times out at its time.
    t0 = nng_clock();
    nng_mtx_lock(st.mtx);
    int rv = 0;
    for (int i = 0; i < 1000 && rv == 0; i++) {
        rv = nng_cv_until(st.cv, t0 + 50);
    }
    nng_mtx_unlock(st.mtx);
    EXPECT_EQ(rv, NNG_ETIMEDOUT);
    EXPECT_GE(nng_clock() - t0, 50u);
    EXPECT_LT(nng_clock() - t0, 2000u);

    nng_aio_free(aio);
    nng_cv_free(st.cv);
    nng_mtx_free(st.mtx);
}

TEST(ThreadFree, ClientAndServerShareTheOneThread) {
    ASSERT_TRUE(thread_free_env);
    nng_http_server* s = start_server("http://127.0.0.1:0");
    int port = port_of(s);
    ASSERT_GT(port, 0);

    // A host name: resolved on the loop (no resolver thread).
    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, ("http://localhost:" + std::to_string(port) + "/hello").c_str()), 0);
    nng_http_client* c = nullptr;
    nng_http_req* req = nullptr;
    nng_http_res* res = nullptr;
    nng_aio* aio = nullptr;
    ASSERT_EQ(nng_http_client_alloc(&c, u), 0);
    ASSERT_EQ(nng_http_req_alloc(&req, u), 0);
    ASSERT_EQ(nng_http_res_alloc(&res), 0);
    ASSERT_EQ(nng_aio_alloc(&aio, nullptr, nullptr), 0);
    nng_aio_set_timeout(aio, 5000);
    for (int i = 0; i < 3; i++) {
        nng_http_client_transact(c, req, res, aio);
        nng_aio_wait(aio);
        ASSERT_EQ(nng_aio_result(aio), 0) << nng_strerror(nng_aio_result(aio));
        EXPECT_EQ(nng_http_res_get_status(res), 200);
        void* body = nullptr;
        size_t len = 0;
        nng_http_res_get_data(res, &body, &len);
        EXPECT_EQ(std::string(static_cast<char*>(body), len), "hello, one thread");
        nng_http_res_reset(res);
    }

    // The C++ API: run() blocks by running the loop; from inside a
    // coroutine it still refuses (the loop would stall).
    std::string root = "http://127.0.0.1:" + std::to_string(port);
    auto got = nnghttp::run([](std::string r) -> nnghttp::task<std::string> {
        nnghttp::client cli(r);
        nnghttp::request rq{nnghttp::url(r + "/hello")};
        auto rs = co_await cli.transact(rq).timeout(std::chrono::seconds(5));
        co_return std::to_string(rs.status()) + " " + std::string(rs.body_text());
    }(root));
    EXPECT_EQ(got, "200 hello, one thread");
    bool refused = nnghttp::run([]() -> nnghttp::task<bool> {
        try {
            nnghttp::run([]() -> nnghttp::task<void> { co_return; }());
        } catch (const nnghttp::error& e) {
            co_return e.code() == nnghttp::errc::bad_state;
        }
        co_return false;
    }());
    EXPECT_TRUE(refused);

    nng_aio_free(aio);
    nng_http_res_free(res);
    nng_http_req_free(req);
    nng_http_client_free(c);
    nng_url_free(u);
    nng_http_server_release(s);
    if (!tsan) {
        EXPECT_EQ(thread_count(), 1);
        EXPECT_NE(__libc_single_threaded, 0);
    }
}

TEST(ThreadFree, DeadlinesStillFireAfterNngFini) {
    ASSERT_TRUE(thread_free_env);
    // A deadline that never fires (its receive completes first) leaves the
    // expiry list's earliest time behind; nng_fini then ends the loop and
    // its timer.  The next loop must still fire a later deadline.
    nnghttp::detail::test::tcp_setup p;
    ASSERT_NO_FATAL_FAILURE(p.connect());
    nng_stream* srv = p.srv;
    nng_stream* cli = p.cli;
    char msg[] = "x";
    ASSERT_EQ(nnghttp::detail::test::xfer_all(cli, true, msg, 1), 0);
    nng_aio* aio = nullptr;
    ASSERT_EQ(nng_aio_alloc(&aio, nullptr, nullptr), 0);
    char buf[4];
    nng_iov iov{buf, sizeof buf};
    ASSERT_EQ(nng_aio_set_iov(aio, 1, &iov), 0);
    nng_aio_set_timeout(aio, 100);
    nng_stream_recv(srv, aio);
    nng_aio_wait(aio);
    ASSERT_EQ(nng_aio_result(aio), 0);
    nng_aio_free(aio);
    p.close();
    nng_fini();

    ASSERT_EQ(nng_aio_alloc(&aio, nullptr, nullptr), 0);
    nng_time t0 = nng_clock();
    nng_sleep_aio(300, aio); // later than the stale 100 ms
    nng_aio_wait(aio);
    EXPECT_EQ(nng_aio_result(aio), 0);
    EXPECT_GE(nng_clock() - t0, 300u);
    EXPECT_LT(nng_clock() - t0, 5000u);
    nng_aio_free(aio);
}

// The tests below start a second thread: CTest runs each case in a process
// of its own, and they come last so that a run of the whole binary checks
// the thread counts above first.

TEST(ThreadFree, AnotherThreadMaySleepAndWaitOnItsOwnCondvar) {
    ASSERT_TRUE(thread_free_env);
    nng_msleep(1); // the loop is this thread's
    struct state {
        nng_mtx* mtx = nullptr;
        nng_cv* cv = nullptr;
        bool go = false;
        bool seen = false;
    } st;
    ASSERT_EQ(nng_mtx_alloc(&st.mtx), 0);
    ASSERT_EQ(nng_cv_alloc(&st.cv, st.mtx), 0);
    nng_thread* t = nullptr;
    ASSERT_EQ(nng_thread_create(
                  &t,
                  [](void* arg) {
                      auto* s = static_cast<state*>(arg);
                      nng_msleep(10);
                      nng_mtx_lock(s->mtx);
                      while (!s->go) {
                          nng_cv_wait(s->cv);
                      }
                      s->seen = true;
                      nng_mtx_unlock(s->mtx);
                  },
                  &st),
              0);
    nng_msleep(30);
    nng_mtx_lock(st.mtx);
    st.go = true;
    nng_cv_wake(st.cv);
    nng_mtx_unlock(st.mtx);
    nng_thread_destroy(t); // joins
    EXPECT_TRUE(st.seen);
    nng_cv_free(st.cv);
    nng_mtx_free(st.mtx);
}

TEST(ThreadFreeDeathTest, TheLibraryFromASecondThreadAbortsWithAMessage) {
    ASSERT_TRUE(thread_free_env);
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            nng_msleep(1); // the loop is this thread's
            std::thread([] {
                nng_aio* aio = nullptr;
                if (nng_aio_alloc(&aio, nullptr, nullptr) == 0) {
                    nng_sleep_aio(10, aio);
                    nng_aio_wait(aio);
                }
            }).join();
        },
        "thread-free.*from a thread that does not run the loop");
}
