// A TLS stream's send path, driven by hand: the stream runs over an
// underlying stream whose every send the test decides (taken at once, or
// held until the test lets it go), with an OpenSSL client over memory BIOs
// on the other side, so that the orders of events behind two faults are
// laid out exactly, without sockets: a writer waiting at the 64 KiB bound
// that lost its wake-up, and a send that completed before its ciphertext
// had gone.
#include "support/nng_test.hpp"
#include "support/tls_material.hpp"
#include "tls/config.hpp"
#include "tls/stream.hpp"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <gtest/gtest.h>
#include <memory>
#include <mutex>
#include <nng/nng.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string>
#include <thread>
#include <vector>

namespace {

using nnghttp::detail::aio;
using nnghttp::detail::ref_ptr;
using nnghttp::detail::stream;
using nnghttp::detail::test::material;
using nnghttp::detail::test::pattern;
using nnghttp::detail::tls::config;
using nnghttp::detail::tls::mode;
using nnghttp::detail::tls::tls_stream;
using namespace std::chrono_literals;

// The stream under the TLS stream.  What the TLS stream sends collects in
// a buffer the test takes; what the test feeds is what it receives.
// try_send either takes everything (open) or finds the socket full
// (closed); a send() is held, one at a time, until release_send().
class hand_stream final : public stream {
  public:
    void send(aio* a) override {
        if (!a->begin()) {
            return;
        }
        int rv;
        {
            std::lock_guard lk(mtx_);
            rv = closed_ ? NNG_ECLOSED : a->schedule(&hand_stream::cancel, this, this);
            if (rv == 0) {
                held_send_ = a;
                cv_.notify_all();
                return;
            }
        }
        a->finish_error(rv);
    }

    void recv(aio* a) override {
        if (!a->begin()) {
            return;
        }
        int rv;
        {
            std::lock_guard lk(mtx_);
            rv = closed_ ? NNG_ECLOSED : a->schedule(&hand_stream::cancel, this, this);
            if (rv == 0) {
                held_recv_ = a;
                deliver_locked();
                return;
            }
        }
        a->finish_error(rv);
    }

    bool try_send(const nng_iov* iov, unsigned n, std::size_t& sent) override {
        std::lock_guard lk(mtx_);
        if (closed_ || held_send_ != nullptr) {
            return false;
        }
        sent = 0;
        if (open_) {
            for (unsigned i = 0; i < n; i++) {
                out_.append(static_cast<const char*>(iov[i].iov_buf), iov[i].iov_len);
                sent += iov[i].iov_len;
            }
            cv_.notify_all();
        }
        return true;
    }

    void close() override {
        aio* s;
        aio* r;
        {
            std::lock_guard lk(mtx_);
            closed_ = true;
            s = std::exchange(held_send_, nullptr);
            r = std::exchange(held_recv_, nullptr);
        }
        for (aio* a : {s, r}) {
            if (a != nullptr) {
                a->finish_error(NNG_ECLOSED);
            }
        }
    }

    int get(std::string_view, const nnghttp::detail::opt_out&) override { return NNG_ENOTSUP; }
    int set(std::string_view, const nnghttp::detail::opt_in&) override { return NNG_ENOTSUP; }

    // ---- the test's side ----

    void set_open(bool open) {
        std::lock_guard lk(mtx_);
        open_ = open;
    }

    void feed(const std::string& bytes) {
        std::lock_guard lk(mtx_);
        in_ += bytes;
        deliver_locked();
    }

    // Everything sent so far; with wait, after waiting up to 5 s for at
    // least one byte.
    std::string take_out(bool wait = false) {
        std::unique_lock lk(mtx_);
        if (wait) {
            cv_.wait_for(lk, 5s, [this] { return !out_.empty(); });
        }
        return std::exchange(out_, std::string());
    }

    // Whether a send() is held, waiting up to 5 s for one.
    bool send_held() {
        std::unique_lock lk(mtx_);
        return cv_.wait_for(lk, 5s, [this] { return held_send_ != nullptr; });
    }

    // Lets the held send go: all its bytes are taken.
    void release_send() {
        aio* a;
        std::size_t n = 0;
        {
            std::lock_guard lk(mtx_);
            a = std::exchange(held_send_, nullptr);
            if (a == nullptr) {
                return;
            }
            for (unsigned i = 0; i < a->iov_count(); i++) {
                out_.append(static_cast<const char*>(a->iov()[i].iov_buf), a->iov()[i].iov_len);
                n += a->iov()[i].iov_len;
            }
        }
        a->finish(0, n);
    }

  private:
    ~hand_stream() override = default;

    // With mtx_ held: the held receive takes what was fed.
    void deliver_locked() {
        if (held_recv_ == nullptr || in_.empty()) {
            return;
        }
        aio* a = std::exchange(held_recv_, nullptr);
        std::size_t n = 0;
        for (unsigned i = 0; i < a->iov_count() && n < in_.size(); i++) {
            std::size_t k = std::min(a->iov()[i].iov_len, in_.size() - n);
            std::memcpy(a->iov()[i].iov_buf, in_.data() + n, k);
            n += k;
        }
        in_.erase(0, n);
        a->finish(0, n); // posted: never runs inside this call
    }

    static void cancel(aio* a, void* arg, int err) {
        auto* s = static_cast<hand_stream*>(arg);
        bool found = false;
        {
            std::lock_guard lk(s->mtx_);
            for (aio** slot : {&s->held_send_, &s->held_recv_}) {
                if (*slot == a) {
                    *slot = nullptr;
                    found = true;
                }
            }
        }
        if (found) {
            a->finish_error(err);
        }
    }

    std::mutex mtx_;
    std::condition_variable cv_;
    bool open_ = true;
    bool closed_ = false;
    aio* held_send_ = nullptr;
    aio* held_recv_ = nullptr;
    std::string in_;
    std::string out_;
};

// An OpenSSL client over memory BIOs: the test carries its bytes.
class mem_client {
  public:
    mem_client() {
        EXPECT_EQ(config::create(mode::client, cfg_), 0);
        EXPECT_EQ(cfg_->set_auth_mode(nnghttp::detail::tls::auth::none), 0);
        ssl_ = SSL_new(cfg_->use());
        in_ = BIO_new(BIO_s_mem());
        out_ = BIO_new(BIO_s_mem());
        SSL_set_bio(ssl_, in_, out_);
        SSL_set_connect_state(ssl_);
    }
    ~mem_client() {
        SSL_free(ssl_);
        cfg_->release();
        ERR_clear_error();
    }
    mem_client(const mem_client&) = delete;
    mem_client& operator=(const mem_client&) = delete;

    // Runs the handshake with the TLS stream over under; true once it is
    // done on the client's side.
    bool handshake(hand_stream& under) {
        for (int i = 0; i < 20; i++) {
            int r = SSL_do_handshake(ssl_);
            under.feed(written());
            if (r == 1) {
                return true;
            }
            if (SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ) {
                return false;
            }
            put(under.take_out(true));
        }
        return false;
    }

    void put(const std::string& ciphertext) {
        BIO_write(in_, ciphertext.data(), static_cast<int>(ciphertext.size()));
    }

    std::string written() {
        std::string s(static_cast<std::size_t>(BIO_pending(out_)), '\0');
        if (!s.empty()) {
            BIO_read(out_, s.data(), static_cast<int>(s.size()));
        }
        return s;
    }

    bool write(const std::string& plaintext) {
        std::size_t n = 0;
        return SSL_write_ex(ssl_, plaintext.data(), plaintext.size(), &n) == 1 &&
               n == plaintext.size();
    }

    int shutdown_state() const { return SSL_get_shutdown(ssl_); }

    // All the plaintext the ciphertext put so far decrypts to.
    std::string read_all() {
        std::string got;
        char buf[16384];
        std::size_t n = 0;
        while (SSL_read_ex(ssl_, buf, sizeof buf, &n) == 1) {
            got.append(buf, n);
        }
        return got;
    }

  private:
    config* cfg_ = nullptr;
    SSL* ssl_ = nullptr;
    BIO* in_ = nullptr;
    BIO* out_ = nullptr;
};

// A send of buf (which must outlive it) through the TLS stream, started
// and not waited for.
class send_op {
  public:
    send_op(tls_stream& ts, const std::string& buf) : a_(nullptr, nullptr) {
        a_.set_timeout(5000);
        nng_iov iov{const_cast<char*>(buf.data()), buf.size()};
        EXPECT_EQ(a_.set_iov(1, &iov), 0);
        ts.send(&a_);
    }
    // Whether it completes (callback included) within ms.
    bool settles_within(std::chrono::milliseconds ms) {
        auto end = std::chrono::steady_clock::now() + ms;
        while (!a_.settled()) {
            if (std::chrono::steady_clock::now() >= end) {
                return false;
            }
            std::this_thread::sleep_for(1ms);
        }
        return true;
    }
    // Waits (up to the aio's 5 s timeout): its result and count.
    int wait() {
        a_.wait();
        return a_.result();
    }
    std::size_t count() const { return a_.count(); }

  private:
    aio a_;
};

// A server's TLS stream over a hand_stream, and an OpenSSL client that
// has finished the handshake with it.
class TlsBacklog : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(material::get().ok());
        config* scfg = nullptr;
        ASSERT_EQ(config::create(mode::server, scfg), 0);
        ASSERT_EQ(scfg->set_cert_key_file(material::get().path("server.pem").c_str(), nullptr), 0);
        auto* raw = new hand_stream;
        under_ = ref_ptr<hand_stream>(raw); // ours; the TLS stream adopts the first
        int rv = tls_stream::create(ref_ptr<stream>::adopt(raw), *scfg, "", ts_);
        scfg->release(); // the stream holds it
        ASSERT_EQ(rv, 0);
        ts_->start();
        ASSERT_TRUE(client_.handshake(*under_));
        // A first message from the client shows that the server is done
        // with the handshake too.
        ASSERT_TRUE(client_.write("ping"));
        under_->feed(client_.written());
        aio r(nullptr, nullptr);
        r.set_timeout(5000);
        char buf[16];
        nng_iov iov{buf, sizeof buf};
        ASSERT_EQ(r.set_iov(1, &iov), 0);
        ts_->recv(&r);
        r.wait();
        ASSERT_EQ(r.result(), 0);
        ASSERT_EQ(std::string(buf, r.count()), "ping");
        client_.put(under_->take_out()); // whatever the handshake left, if anything
    }
    void TearDown() override {
        if (ts_ != nullptr) {
            ts_->close();
            ts_->release();
        }
    }

    mem_client client_;
    ref_ptr<hand_stream> under_;
    tls_stream* ts_ = nullptr;
};

// The wake-up a writer waiting at the 64 KiB bound depends on.  A send's
// ciphertext goes out asynchronously (the socket was full) and is held;
// meanwhile four 16 KiB sends fill the stream's buffer past the bound, so
// the next writer waits.  Then the socket drains: the held send completes
// and the socket takes the whole buffer at once.  The stream used to flush
// that buffer and return, with nothing left in flight to call it again,
// and the writer waited until its timeout (an https download stalled in
// the middle of the file until the server's send timeout).  It must go on.
TEST_F(TlsBacklog, AWriterWaitingAtTheBoundGoesOnWhenTheSocketTakesTheBacklogAtOnce) {
    under_->set_open(false);
    std::string a = pattern(100, 1);
    send_op sa(*ts_, a);
    ASSERT_TRUE(under_->send_held());

    // The engine writes one record per call, each into the stream's
    // buffer, which ends past the bound (ciphertext is longer than its
    // plaintext).
    std::string b[4];
    std::vector<std::unique_ptr<send_op>> sb;
    for (unsigned i = 0; i < 4; i++) {
        b[i] = pattern(16 * 1024, 2 + i);
        sb.push_back(std::make_unique<send_op>(*ts_, b[i]));
    }
    std::string c = pattern(16 * 1024, 9);
    send_op sc(*ts_, c); // waits at the bound

    // The socket drains: the held send completes, and the socket takes all
    // that waits at once.
    under_->set_open(true);
    under_->release_send();
    EXPECT_EQ(sc.wait(), 0) << "the writer at the bound was left waiting (NNG_ETIMEDOUT is "
                            << NNG_ETIMEDOUT << ")";
    EXPECT_EQ(sc.count(), c.size());
    EXPECT_EQ(sa.wait(), 0);
    EXPECT_EQ(sa.count(), a.size());
    std::string want = a;
    for (unsigned i = 0; i < 4; i++) {
        EXPECT_EQ(sb[i]->wait(), 0) << i;
        EXPECT_EQ(sb[i]->count(), b[i].size()) << i;
        want += b[i];
    }
    if (sc.count() > 0) {
        want += c.substr(0, sc.count());
    }

    // Every byte arrives, in order.
    client_.put(under_->take_out());
    std::string got = client_.read_all();
    EXPECT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want);
}

// A send completes once its ciphertext has gone to the underlying stream,
// as a socket's send completes once the kernel has its bytes, so that a
// caller may close the stream as soon as its last send completes (the
// server does so after the last answer of a connection).  The stream used
// to complete a send as soon as the engine had taken its plaintext, and a
// close then dropped the ciphertext still waiting for the socket: an https
// download with Connection: close lost up to the last 64 KiB of its file.
TEST_F(TlsBacklog, ASendCompletesOnceItsCiphertextHasGoneSoClosingAfterItLosesNothing) {
    under_->set_open(false);
    std::string a = pattern(10 * 1024, 3);
    send_op sa(*ts_, a);
    ASSERT_TRUE(under_->send_held());
    // The caller closes once the send is done, as the server would.
    bool early = sa.settles_within(300ms);
    EXPECT_FALSE(early) << "the send completed while its ciphertext was held";
    if (early) {
        ts_->close();
    }
    under_->set_open(true);
    under_->release_send();
    EXPECT_EQ(sa.wait(), 0);
    EXPECT_EQ(sa.count(), a.size());
    ts_->close();

    // Everything arrives, then the close_notify.
    client_.put(under_->take_out());
    std::string got = client_.read_all();
    EXPECT_EQ(got.size(), a.size());
    EXPECT_TRUE(got == a);
    EXPECT_EQ(client_.shutdown_state() & SSL_RECEIVED_SHUTDOWN, SSL_RECEIVED_SHUTDOWN)
        << "the close_notify came after the data";
}

} // namespace
