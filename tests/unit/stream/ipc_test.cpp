// IPC byte streams (ipc://, unix://, abstract://) through the C API: the
// socket file's life (stale files replaced, path unlinked on close, a live
// path left alone), permissions, peer credentials, transfers, ordering,
// timeouts and closes.  tests/compat/stream_ipc.c compares the same
// behaviour with NNG 1.5.2.
//
// Paths are under /tmp and carry the process id and the test's name; every
// test removes what it made.  Every wait is bounded by an aio timeout.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <gtest/gtest.h>

#include "support/nng_test.hpp"
#include <nng/nng.h>
#include <random>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using nnghttp::detail::test::aio_box;
using nnghttp::detail::test::one_xfer;
using nnghttp::detail::test::wait_ms;
using nnghttp::detail::test::xfer_all;

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

// A socket path for the running test, removed before and after it.
class temp_path {
  public:
    explicit temp_path(const char* tag = "") {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        path_ = "/tmp/nnghttp-ipc-" + std::to_string(::getpid()) + "-" + info->name() + tag;
        ::unlink(path_.c_str());
    }
    ~temp_path() { ::unlink(path_.c_str()); }
    temp_path(const temp_path&) = delete;
    temp_path& operator=(const temp_path&) = delete;
    const std::string& path() const { return path_; }
    std::string url(const char* scheme = "ipc") const {
        return std::string(scheme) + "://" + path_;
    }

  private:
    std::string path_;
};

struct endpoint_pair {
    nng_stream_listener* l = nullptr;
    nng_stream_dialer* d = nullptr;
    explicit endpoint_pair(const std::string& url) {
        EXPECT_EQ(nng_stream_listener_alloc(&l, url.c_str()), 0);
        EXPECT_EQ(nng_stream_listener_listen(l), 0);
        EXPECT_EQ(nng_stream_dialer_alloc(&d, url.c_str()), 0);
    }
    ~endpoint_pair() {
        nng_stream_dialer_free(d);
        nng_stream_listener_free(l);
    }
    endpoint_pair(const endpoint_pair&) = delete;
    endpoint_pair& operator=(const endpoint_pair&) = delete;
    void connect(nng_stream*& srv, nng_stream*& cli) {
        nnghttp::detail::test::accept_and_dial(l, d, srv, cli);
    }
};

struct stream_pair {
    temp_path tp;
    endpoint_pair ep{tp.url()};
    nng_stream* srv = nullptr;
    nng_stream* cli = nullptr;
    stream_pair() { ep.connect(srv, cli); }
    ~stream_pair() {
        nng_stream_free(cli);
        nng_stream_free(srv);
    }
    stream_pair(const stream_pair&) = delete;
    stream_pair& operator=(const stream_pair&) = delete;
};

// Leaves a socket file behind, as a process that died would.
bool make_stale(const std::string& path, bool listening) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::strncpy(sun.sun_path, path.c_str(), sizeof sun.sun_path - 1);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0;
    if (ok && listening) {
        ok = ::listen(fd, 1) == 0;
    }
    ::close(fd);
    return ok;
}

} // namespace

TEST(IpcStream, EchoAndPartialCounts) {
    stream_pair p;
    std::mt19937 rng(7);
    for (size_t n : {size_t{1}, size_t{1000}, size_t{65536}, size_t{500000}}) {
        std::vector<uint8_t> out(n), mid(n), back(n);
        for (auto& b : out) {
            b = static_cast<uint8_t>(rng());
        }
        std::thread echo([&] {
            ASSERT_EQ(xfer_all(p.srv, false, mid.data(), n), 0);
            ASSERT_EQ(xfer_all(p.srv, true, mid.data(), n), 0);
        });
        ASSERT_EQ(xfer_all(p.cli, true, out.data(), n), 0);
        ASSERT_EQ(xfer_all(p.cli, false, back.data(), n), 0);
        echo.join();
        EXPECT_EQ(out, back) << n;
    }
    size_t c = 0;
    ASSERT_EQ(one_xfer(p.cli, true, const_cast<char*>("seven!!"), 7, &c), 0);
    char big[256] = {};
    ASSERT_EQ(one_xfer(p.srv, false, big, sizeof big, &c), 0);
    EXPECT_EQ(c, 7u);
    EXPECT_STREQ(big, "seven!!");
}

TEST(IpcStream, OutstandingSendsArriveInOrder) {
    stream_pair p;
    constexpr int n = 300;
    std::vector<std::string> msgs;
    std::vector<nng_aio*> aios(n);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        msgs.push_back("<" + std::to_string(i) + ">");
        total += msgs.back().size();
    }
    // Small writes fill a Unix socket's buffer quickly (each is accounted
    // at its full buffer size): the receiver drains while sends are queued.
    std::string got;
    std::thread reader([&] {
        char buf[4096];
        for (int rounds = 0; got.size() < total && rounds < 1000000; rounds++) {
            size_t c = 0;
            if (one_xfer(p.srv, false, buf, sizeof buf, &c) != 0) {
                break;
            }
            got.append(buf, c);
        }
    });
    for (int i = 0; i < n; i++) {
        ASSERT_EQ(nng_aio_alloc(&aios[i], nullptr, nullptr), 0);
        nng_aio_set_timeout(aios[i], wait_ms);
        nng_iov iov{msgs[i].data(), msgs[i].size()};
        nng_aio_set_iov(aios[i], 1, &iov);
        nng_stream_send(p.cli, aios[i]);
    }
    std::string expected;
    for (int i = 0; i < n; i++) {
        nng_aio_wait(aios[i]);
        EXPECT_EQ(nng_aio_result(aios[i]), 0);
        expected += msgs[i].substr(0, nng_aio_count(aios[i]));
        nng_aio_free(aios[i]);
    }
    if (expected.size() < total) {
        std::string pad(total - expected.size(), '.');
        EXPECT_EQ(xfer_all(p.cli, true, pad.data(), pad.size()), 0);
        expected += pad;
    }
    reader.join();
    EXPECT_EQ(got, expected);
}

TEST(IpcStream, PeerCredentialsAreOurs) {
    stream_pair p;
    for (nng_stream* s : {p.srv, p.cli}) {
        uint64_t v = 0;
        ASSERT_EQ(nng_stream_get_uint64(s, NNG_OPT_IPC_PEER_PID, &v), 0);
        EXPECT_EQ(v, static_cast<uint64_t>(::getpid()));
        ASSERT_EQ(nng_stream_get_uint64(s, NNG_OPT_IPC_PEER_UID, &v), 0);
        EXPECT_EQ(v, static_cast<uint64_t>(::getuid()));
        ASSERT_EQ(nng_stream_get_uint64(s, NNG_OPT_IPC_PEER_GID, &v), 0);
        EXPECT_EQ(v, static_cast<uint64_t>(::getgid()));
        EXPECT_EQ(nng_stream_get_uint64(s, NNG_OPT_IPC_PEER_ZONEID, &v), NNG_ENOTSUP);
        int i = 0;
        EXPECT_EQ(nng_stream_get_int(s, NNG_OPT_IPC_PEER_PID, &i), NNG_EBADTYPE);
        EXPECT_EQ(nng_stream_set_uint64(s, NNG_OPT_IPC_PEER_UID, 0), NNG_EREADONLY);
        nng_sockaddr sa;
        ASSERT_EQ(nng_stream_get_addr(s, NNG_OPT_LOCADDR, &sa), 0);
        EXPECT_EQ(sa.s_family, NNG_AF_IPC);
        EXPECT_STREQ(sa.s_ipc.sa_path, p.tp.path().c_str());
        ASSERT_EQ(nng_stream_get_addr(s, NNG_OPT_REMADDR, &sa), 0);
        EXPECT_STREQ(sa.s_ipc.sa_path, p.tp.path().c_str());
    }
}

TEST(IpcStream, PathIsUnlinkedWhenTheListenerCloses) {
    temp_path tp;
    nng_stream_listener* l = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, tp.url().c_str()), 0);
    EXPECT_FALSE(exists(tp.path()));
    ASSERT_EQ(nng_stream_listener_listen(l), 0);
    EXPECT_TRUE(exists(tp.path()));
    nng_stream_listener_close(l);
    EXPECT_FALSE(exists(tp.path()));
    nng_stream_listener_free(l);

    // Freeing without an explicit close unlinks too.
    ASSERT_EQ(nng_stream_listener_alloc(&l, tp.url().c_str()), 0);
    ASSERT_EQ(nng_stream_listener_listen(l), 0);
    EXPECT_TRUE(exists(tp.path()));
    nng_stream_listener_free(l);
    EXPECT_FALSE(exists(tp.path()));
}

TEST(IpcStream, StaleSocketFileIsReplaced) {
    temp_path tp;
    for (bool listening : {false, true}) {
        ASSERT_TRUE(make_stale(tp.path(), listening));
        ASSERT_TRUE(exists(tp.path()));
        nng_stream_dialer* d = nullptr;
        ASSERT_EQ(nng_stream_dialer_alloc(&d, tp.url().c_str()), 0);
        aio_box a;
        nng_stream_dialer_dial(d, a);
        EXPECT_EQ(a.wait(), NNG_ECONNREFUSED);

        nng_stream_listener* l = nullptr;
        ASSERT_EQ(nng_stream_listener_alloc(&l, tp.url().c_str()), 0);
        ASSERT_EQ(nng_stream_listener_listen(l), 0) << "stale file, listening " << listening;
        aio_box acc, dial;
        nng_stream_listener_accept(l, acc);
        nng_stream_dialer_dial(d, dial);
        ASSERT_EQ(acc.wait(), 0);
        ASSERT_EQ(dial.wait(), 0);
        nng_stream_free(static_cast<nng_stream*>(nng_aio_get_output(acc, 0)));
        nng_stream_free(static_cast<nng_stream*>(nng_aio_get_output(dial, 0)));
        nng_stream_listener_free(l);
        nng_stream_dialer_free(d);
        EXPECT_FALSE(exists(tp.path()));
    }
}

TEST(IpcStream, LivePathIsLeftAlone) {
    temp_path tp;
    nng_stream_listener* l1 = nullptr;
    nng_stream_listener* l2 = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l1, tp.url().c_str()), 0);
    ASSERT_EQ(nng_stream_listener_listen(l1), 0);
    ASSERT_EQ(nng_stream_listener_alloc(&l2, tp.url().c_str()), 0);
    EXPECT_EQ(nng_stream_listener_listen(l2), NNG_EADDRINUSE);
    nng_stream_listener_free(l2);
    EXPECT_TRUE(exists(tp.path())) << "a failed listen removed a live listener's path";
    // The first listener still works.
    nng_stream_dialer* d = nullptr;
    ASSERT_EQ(nng_stream_dialer_alloc(&d, tp.url().c_str()), 0);
    aio_box dial;
    nng_stream_dialer_dial(d, dial);
    ASSERT_EQ(dial.wait(), 0);
    nng_stream_free(static_cast<nng_stream*>(nng_aio_get_output(dial, 0)));
    nng_stream_dialer_free(d);
    nng_stream_listener_free(l1);
}

TEST(IpcStream, DialWithNothingThereIsRefused) {
    // NNG 1.5.2 reports a missing socket file as NNG_ECONNREFUSED
    // ("nobody listening"), not NNG_ENOENT.
    temp_path tp;
    nng_stream_dialer* d = nullptr;
    ASSERT_EQ(nng_stream_dialer_alloc(&d, tp.url().c_str()), 0);
    aio_box a;
    nng_stream_dialer_dial(d, a);
    EXPECT_EQ(a.wait(), NNG_ECONNREFUSED);
    nng_stream_dialer_free(d);
}

TEST(IpcStream, Permissions) {
    temp_path tp;
    nng_stream_listener* l = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, tp.url().c_str()), 0);
    int v = 0;
    EXPECT_EQ(nng_stream_listener_get_int(l, NNG_OPT_IPC_PERMISSIONS, &v), NNG_EWRITEONLY);
    EXPECT_EQ(nng_stream_listener_set_bool(l, NNG_OPT_IPC_PERMISSIONS, true), NNG_EBADTYPE);
    EXPECT_EQ(nng_stream_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, S_IFREG | 0600), NNG_EINVAL);
    EXPECT_EQ(nng_stream_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, -1), NNG_EINVAL);
    uint16_t small = 0600;
    EXPECT_EQ(nng_stream_listener_set(l, NNG_OPT_IPC_PERMISSIONS, &small, sizeof small),
              NNG_EINVAL);
    int mode = 0604;
    ASSERT_EQ(nng_stream_listener_set(l, NNG_OPT_IPC_PERMISSIONS, &mode, sizeof mode), 0);
    ASSERT_EQ(nng_stream_listener_listen(l), 0);
    struct stat st;
    ASSERT_EQ(::stat(tp.path().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0604u);
    EXPECT_EQ(nng_stream_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0600), NNG_EBUSY);
    ASSERT_EQ(::stat(tp.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0604u);
    nng_stream_listener_free(l);
}

TEST(IpcStream, TimeoutsCancelStopAndClose) {
    stream_pair p;
    char buf[8];
    aio_box a;
    a.set_buf(buf, sizeof buf);
    nng_aio_set_timeout(a, 20);
    nng_stream_recv(p.srv, a);
    EXPECT_EQ(a.wait(), NNG_ETIMEDOUT);
    nng_aio_set_timeout(a, wait_ms);
    nng_stream_recv(p.srv, a);
    nng_aio_cancel(a);
    EXPECT_EQ(a.wait(), NNG_ECANCELED);

    std::atomic<int> calls{0};
    nng_aio* cb = nullptr;
    ASSERT_EQ(
        nng_aio_alloc(
            &cb, [](void* arg) { static_cast<std::atomic<int>*>(arg)->fetch_add(1); }, &calls),
        0);
    nng_aio_set_timeout(cb, wait_ms);
    nng_iov iov{buf, sizeof buf};
    nng_aio_set_iov(cb, 1, &iov);
    nng_stream_recv(p.srv, cb);
    nng_aio_stop(cb);
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(nng_aio_result(cb), NNG_ECANCELED);
    nng_aio_free(cb);

    // Full buffers: a send times out.
    std::vector<uint8_t> big(1u << 20);
    aio_box s;
    s.set_buf(big.data(), big.size());
    nng_aio_set_timeout(s, 100);
    int rv = 0;
    for (int i = 0; i < 2000 && rv == 0; i++) {
        nng_stream_send(p.srv, s);
        rv = s.wait();
    }
    EXPECT_EQ(rv, NNG_ETIMEDOUT);

    // Our close (on the side with nothing to receive).
    nng_stream_recv(p.srv, a);
    nng_stream_close(p.srv);
    EXPECT_EQ(a.wait(), NNG_ECLOSED);
    nng_stream_send(p.srv, a);
    EXPECT_EQ(a.wait(), NNG_ECLOSED);
    nng_stream_recv(p.srv, a);
    EXPECT_EQ(a.wait(), NNG_ECLOSED);
    uint64_t pid = 0;
    EXPECT_EQ(nng_stream_get_uint64(p.srv, NNG_OPT_IPC_PEER_PID, &pid), NNG_ECLOSED);
}

TEST(IpcStream, PeerCloseIsConnectionShutdown) {
    stream_pair p;
    char buf[4];
    aio_box a;
    a.set_buf(buf, sizeof buf);
    nng_stream_recv(p.srv, a);
    nng_stream_free(p.cli);
    p.cli = nullptr;
    EXPECT_EQ(a.wait(), NNG_ECONNSHUT);
    nng_stream_recv(p.srv, a);
    EXPECT_EQ(a.wait(), NNG_ECONNSHUT);
}

TEST(IpcStream, FreeWithOperationsPending) {
    temp_path tp;
    endpoint_pair ep(tp.url());
    nng_stream *srv = nullptr, *cli = nullptr;
    ep.connect(srv, cli);
    char buf[4];
    aio_box r1, r2;
    r1.set_buf(buf, sizeof buf);
    r2.set_buf(buf, sizeof buf);
    nng_stream_recv(srv, r1);
    nng_stream_recv(srv, r2);
    nng_stream_free(srv);
    EXPECT_EQ(r1.wait(), NNG_ECLOSED);
    EXPECT_EQ(r2.wait(), NNG_ECLOSED);
    nng_stream_free(cli);
}

TEST(IpcStream, HundredConnections) {
    temp_path tp;
    endpoint_pair ep(tp.url());
    constexpr int n = 100;
    std::vector<nng_stream*> srv(n), cli(n);
    std::vector<nng_aio*> acc(n), dial(n);
    for (int i = 0; i < n; i++) {
        ASSERT_EQ(nng_aio_alloc(&acc[i], nullptr, nullptr), 0);
        ASSERT_EQ(nng_aio_alloc(&dial[i], nullptr, nullptr), 0);
        nng_aio_set_timeout(acc[i], wait_ms);
        nng_aio_set_timeout(dial[i], wait_ms);
        nng_stream_listener_accept(ep.l, acc[i]);
        nng_stream_dialer_dial(ep.d, dial[i]);
    }
    for (int i = 0; i < n; i++) {
        nng_aio_wait(acc[i]);
        nng_aio_wait(dial[i]);
        ASSERT_EQ(nng_aio_result(acc[i]), 0);
        ASSERT_EQ(nng_aio_result(dial[i]), 0);
        srv[i] = static_cast<nng_stream*>(nng_aio_get_output(acc[i], 0));
        cli[i] = static_cast<nng_stream*>(nng_aio_get_output(dial[i], 0));
    }
    std::vector<int> seen(n, 0);
    for (int i = 0; i < n; i++) {
        uint16_t v = static_cast<uint16_t>(i);
        ASSERT_EQ(xfer_all(cli[i], true, &v, sizeof v), 0);
    }
    for (int i = 0; i < n; i++) {
        uint16_t v = 0;
        ASSERT_EQ(xfer_all(srv[i], false, &v, sizeof v), 0);
        ASSERT_LT(v, n);
        seen[v]++;
    }
    for (int i = 0; i < n; i++) {
        EXPECT_EQ(seen[i], 1);
        nng_stream_free(srv[i]);
        nng_stream_free(cli[i]);
        nng_aio_free(acc[i]);
        nng_aio_free(dial[i]);
    }
}

TEST(IpcStream, UnixSchemeIsIpc) {
    temp_path tp;
    endpoint_pair ep(tp.url("unix"));
    nng_stream *srv = nullptr, *cli = nullptr;
    ep.connect(srv, cli);
    size_t c = 0;
    ASSERT_EQ(one_xfer(cli, true, const_cast<char*>("u"), 1, &c), 0);
    char b = 0;
    ASSERT_EQ(one_xfer(srv, false, &b, 1, &c), 0);
    EXPECT_EQ(b, 'u');
    nng_stream_free(srv);
    nng_stream_free(cli);
}

TEST(IpcStream, AbstractNames) {
    std::string name = "nnghttp-unit-abstract-" + std::to_string(::getpid());
    std::string url = "abstract://" + name;
    {
        endpoint_pair ep(url);
        nng_stream *srv = nullptr, *cli = nullptr;
        ep.connect(srv, cli);
        nng_sockaddr sa;
        ASSERT_EQ(nng_stream_get_addr(srv, NNG_OPT_LOCADDR, &sa), 0);
        EXPECT_EQ(sa.s_family, NNG_AF_ABSTRACT);
        EXPECT_EQ(std::string(reinterpret_cast<char*>(sa.s_abstract.sa_name), sa.s_abstract.sa_len),
                  name);
        size_t c = 0;
        ASSERT_EQ(one_xfer(cli, true, const_cast<char*>("a"), 1, &c), 0);
        char b = 0;
        ASSERT_EQ(one_xfer(srv, false, &b, 1, &c), 0);
        EXPECT_EQ(b, 'a');
        // Permissions mean nothing for an abstract name, and are accepted.
        EXPECT_EQ(nng_stream_listener_set_int(ep.l, NNG_OPT_IPC_PERMISSIONS, 0600), 0);
        nng_stream_listener* l2 = nullptr;
        ASSERT_EQ(nng_stream_listener_alloc(&l2, url.c_str()), 0);
        EXPECT_EQ(nng_stream_listener_listen(l2), NNG_EADDRINUSE);
        nng_stream_listener_free(l2);
        nng_stream_free(srv);
        nng_stream_free(cli);
    }
    // Once closed, the name is free again (nothing to unlink).
    nng_stream_listener* l = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, url.c_str()), 0);
    EXPECT_EQ(nng_stream_listener_listen(l), 0);
    nng_stream_listener_free(l);
}

TEST(IpcStream, EmptyAbstractNameAutoBinds) {
    // As in NNG 1.5.2: an empty name asks the kernel for a unique one, so
    // two such listeners coexist and each reports a non-empty name.
    nng_stream_listener *l1 = nullptr, *l2 = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l1, "abstract://"), 0);
    ASSERT_EQ(nng_stream_listener_alloc(&l2, "abstract://"), 0);
    ASSERT_EQ(nng_stream_listener_listen(l1), 0);
    EXPECT_EQ(nng_stream_listener_listen(l2), 0);
    nng_sockaddr sa;
    ASSERT_EQ(nng_stream_listener_get_addr(l1, NNG_OPT_LOCADDR, &sa), 0);
    EXPECT_EQ(sa.s_family, NNG_AF_ABSTRACT);
    EXPECT_GT(sa.s_abstract.sa_len, 0);
    nng_stream_listener_free(l1);
    nng_stream_listener_free(l2);
}

TEST(IpcStream, AllocErrors) {
    nng_stream_listener* l = nullptr;
    nng_stream_dialer* d = nullptr;
    EXPECT_EQ(nng_stream_listener_alloc(&l, "ipc://"), NNG_EADDRINVAL);
    EXPECT_EQ(nng_stream_dialer_alloc(&d, "unix://"), NNG_EADDRINVAL);
    EXPECT_EQ(nng_stream_listener_alloc(&l, "abstract://bad%zz"), NNG_EADDRINVAL);
    std::string longurl = "ipc:///tmp/" + std::string(200, 'x');
    EXPECT_EQ(nng_stream_listener_alloc(&l, longurl.c_str()), NNG_EADDRINVAL);
    EXPECT_EQ(nng_stream_dialer_alloc(&d, longurl.c_str()), NNG_EADDRINVAL);
    EXPECT_EQ(l, nullptr);
    EXPECT_EQ(d, nullptr);
}

TEST(IpcStream, ListenerStates) {
    temp_path tp;
    nng_stream_listener* l = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, tp.url().c_str()), 0);
    aio_box a;
    nng_stream_listener_accept(l, a);
    EXPECT_EQ(a.wait(), NNG_ESTATE);
    ASSERT_EQ(nng_stream_listener_listen(l), 0);
    EXPECT_EQ(nng_stream_listener_listen(l), NNG_ESTATE);
    int port = 0;
    EXPECT_EQ(nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), NNG_ENOTSUP);
    nng_stream_listener_accept(l, a);
    nng_stream_listener_close(l);
    EXPECT_EQ(a.wait(), NNG_ECLOSED);
    nng_stream_listener_accept(l, a);
    EXPECT_EQ(a.wait(), NNG_ECLOSED);
    EXPECT_EQ(nng_stream_listener_listen(l), NNG_ESTATE);
    nng_stream_listener_free(l);
}
