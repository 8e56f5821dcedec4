#include "tls/stream.hpp"

#include "core/error.hpp"
#include "core/executor.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>
#include <utility>

namespace nnghttp::detail::tls {

namespace {
constexpr std::size_t max_pending_out = 64 * 1024;
constexpr std::uintptr_t tag_file = 2; // a send_file aio (prov_tag)

// Plaintext gathered into one record, a file's bytes on their way into
// SSL_write, ciphertext on its way out: all used and done with inside one
// call under the stream's lock, so one buffer per thread serves every
// stream.
char* scratch() {
    thread_local std::unique_ptr<char[]> buf;
    if (!buf) {
        buf.reset(new char[16 * 1024]);
    }
    return buf.get();
}

bool is_ip_literal(const std::string& s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}
} // namespace

int tls_stream::create(ref_ptr<stream> under, config& cfg, const std::string& name,
                       tls_stream*& out) {
    SSL_CTX* ctx = cfg.use();
    SSL* ssl = ctx != nullptr ? SSL_new(ctx) : nullptr;
    if (ssl == nullptr) {
        return NNG_ENOMEM;
    }
    BIO* rb = BIO_new(BIO_s_mem());
    BIO* wb = BIO_new(BIO_s_mem());
    if (rb == nullptr || wb == nullptr) {
        BIO_free(rb);
        BIO_free(wb);
        SSL_free(ssl);
        return NNG_ENOMEM;
    }
    BIO_set_mem_eof_return(rb, -1); // empty: "retry", not end of file
    SSL_set_bio(ssl, rb, wb);
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (cfg.role() == mode::client) {
        SSL_set_connect_state(ssl);
        if (!name.empty()) {
            if (!is_ip_literal(name)) {
                SSL_set_tlsext_host_name(ssl, name.c_str()); // SNI: names only
                SSL_set1_host(ssl, name.c_str());
            } else {
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
            }
        }
    } else {
        SSL_set_accept_state(ssl);
    }
    out = new tls_stream(std::move(under), cfg, ssl);
    out->rbio_ = rb;
    out->wbio_ = wb;
    return 0;
}

tls_stream::tls_stream(ref_ptr<stream> under, config& cfg, SSL* ssl)
    : under_(std::move(under)), cfg_(&cfg), ssl_(ssl), rx_(&tls_stream::rx_cb, this),
      tx_(&tls_stream::tx_cb, this), wake_(&tls_stream::wake_cb, this) {
    cfg_->add_ref();
    rx_.set_timeout(NNG_DURATION_INFINITE);
    tx_.set_timeout(NNG_DURATION_INFINITE);
    wake_.set_timeout(NNG_DURATION_INFINITE);
}

tls_stream::~tls_stream() {
    wake_.stop();
    rx_.stop();
    tx_.stop();
    under_->close();
    SSL_free(ssl_);
    cfg_->release();
}

// The last reference may go inside rx_cb or tx_cb, whose aios the
// destructor waits for.
void tls_stream::destroy() noexcept {
    asio::post(executor::global().current_or_next().context(), [this] { delete this; });
}

void tls_stream::start() {
    aio_list done;
    {
        std::lock_guard lk(mtx_);
        pump(done);
    }
    while (aio* a = done.pop_front()) {
        a->complete(false);
    }
}

void tls_stream::send(aio* a) {
    a->prov_tag = 0;
    submit(a, true);
}

void tls_stream::recv(aio* a) {
    submit(a, false);
}

void tls_stream::send_file(aio* a, const file_span& f) {
    a->prov_tag = tag_file;
    a->prov_ptr = const_cast<file_span*>(&f);
    submit(a, true);
}

bool tls_stream::wait_readable(ready_fn fn, void* arg, char* buf, std::size_t len) {
    {
        std::lock_guard lk(mtx_);
        if (closed_ || err_ != 0) {
            return false;
        }
        wake_fn_ = fn;
        wake_arg_ = arg;
        // Between requests OpenSSL's record buffers (about 17 KiB each
        // way) go back, and stay back while the wait's SSL_read finds
        // nothing (SSL_MODE_RELEASE_BUFFERS until the wait ends).  Not
        // for a whole connection: that mode frees and allocates them at
        // every flight of a handshake (about a tenth more CPU per
        // handshake, measured), so a wait before the handshake keeps them.
        if (hs_done_) {
            SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS);
            (void)SSL_free_buffers(ssl_); // kept if a partial record waits
        }
    }
    nng_iov iov{buf, len};
    (void)wake_.set_iov(1, &iov);
    recv(&wake_);
    return true;
}

// The waiter learns of bytes (n > 0) or of the end, whatever it was (-1):
// closed, failed, or the peer's close_notify.
void tls_stream::wake_cb(void* arg) {
    auto* s = static_cast<tls_stream*>(arg);
    ready_fn fn;
    void* fn_arg;
    {
        std::lock_guard lk(s->mtx_);
        fn = std::exchange(s->wake_fn_, nullptr);
        fn_arg = std::exchange(s->wake_arg_, nullptr);
        SSL_clear_mode(s->ssl_, SSL_MODE_RELEASE_BUFFERS);
    }
    long n = s->wake_.result() == 0 ? static_cast<long>(s->wake_.count()) : -1L;
    fn(fn_arg, n);
}

void tls_stream::submit(aio* a, bool is_send) {
    if (!a->begin()) {
        return;
    }
    aio_list done;
    {
        std::lock_guard lk(mtx_);
        int rv = closed_ ? NNG_ECLOSED : err_;
        if (rv == 0) {
            rv = a->schedule(&tls_stream::cancel, this, this);
        }
        if (rv != 0) {
            a->set_outcome(rv, 0);
            done.push_back(a);
        } else {
            (is_send ? wrq_ : rdq_).push_back(a);
            pump(done);
        }
    }
    while (aio* x = done.pop_front()) {
        x->complete(false); // inside the initiating call: posted
    }
}

// The error for a failed SSL call: 0 when it only needs more input.
int tls_stream::ssl_error(int ret) {
    int e = SSL_get_error(ssl_, ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        return 0;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        return NNG_ECONNSHUT; // the peer's close_notify
    }
    // The peer failed to authenticate: its certificate did not verify, or
    // it sent none when one is required.
    unsigned long first = ERR_peek_error();
    if (!hs_done_ && (SSL_get_verify_result(ssl_) != X509_V_OK ||
                      (ERR_GET_LIB(first) == ERR_LIB_SSL &&
                       ERR_GET_REASON(first) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE))) {
        ERR_clear_error();
        return NNG_EPEERAUTH;
    }
    ERR_clear_error();
    return NNG_ECRYPTO;
}

void tls_stream::fail_all(int rv, aio_list& done) {
    for (aio_queue* q : {&rdq_, &wrq_}) {
        while (aio* a = q->pop_front()) {
            a->set_outcome(rv, 0);
            done.push_back(a);
        }
    }
}

// With mtx_ held: moves the engine as far as it can go, starting
// underlying I/O where it needs some.
void tls_stream::pump(aio_list& done) {
    if (closed_ || err_ != 0) {
        return;
    }
    bool want_read = false;
    if (!hs_done_) {
        int r = SSL_do_handshake(ssl_);
        if (r == 1) {
            hs_done_ = true;
        } else if (int rv = ssl_error(r); rv != 0) {
            err_ = rv;
        } else {
            want_read = SSL_get_error(ssl_, r) == SSL_ERROR_WANT_READ;
        }
    }
    if (hs_done_ && err_ == 0) {
        // Plaintext for readers.
        while (aio* a = rdq_.front()) {
            nng_iov* v = nullptr;
            for (unsigned i = 0; i < a->iov_count(); i++) {
                if (a->iov()[i].iov_len > 0) {
                    v = &a->iov()[i];
                    break;
                }
            }
            if (v == nullptr) {
                rdq_.remove(a);
                a->set_outcome(NNG_EINVAL, 0);
                done.push_back(a);
                continue;
            }
            std::size_t n = 0;
            int r = SSL_read_ex(ssl_, v->iov_buf, v->iov_len, &n);
            if (r == 1) {
                rdq_.remove(a);
                a->set_outcome(0, n);
                done.push_back(a);
                continue;
            }
            int rv = ssl_error(r);
            if (rv == 0 && rx_err_ != 0) {
                rv = rx_err_; // nothing more will come
            }
            if (rv == NNG_ECONNSHUT || (rv != 0 && rv == rx_err_)) {
                rdq_.remove(a);
                a->set_outcome(rv, 0);
                done.push_back(a);
                continue;
            }
            if (rv != 0) {
                err_ = rv;
                break;
            }
            want_read = true;
            break;
        }
        // Plaintext from writers, while the ciphertext backlog is small.
        while (aio* a = wrq_.front()) {
            if (BIO_ctrl_pending(wbio_) >= max_pending_out) {
                break;
            }
            const void* p = nullptr;
            std::size_t len = 0;
            if (a->prov_tag == tag_file) {
                auto* f = static_cast<file_span*>(a->prov_ptr);
                std::size_t want = f->length < net_size ? static_cast<std::size_t>(f->length) : net_size;
                ssize_t got = ::pread(f->fd, scratch(), want, static_cast<off_t>(f->offset));
                if (got <= 0) {
                    wrq_.remove(a);
                    a->set_outcome(from_errno(got < 0 ? errno : EIO), 0);
                    done.push_back(a);
                    continue;
                }
                p = scratch();
                len = static_cast<std::size_t>(got);
            } else {
                // Several vectors (an HTTP head and its body) go out as one
                // record: gathered into a buffer, up to a record's worth.
                unsigned nonempty = 0;
                for (unsigned i = 0; i < a->iov_count(); i++) {
                    if (a->iov()[i].iov_len > 0) {
                        if (nonempty++ == 0) {
                            p = a->iov()[i].iov_buf;
                            len = a->iov()[i].iov_len;
                        }
                    }
                }
                if (nonempty > 1 && len < net_size) {
                    char* buf = scratch();
                    len = 0;
                    for (unsigned i = 0; i < a->iov_count() && len < net_size; i++) {
                        std::size_t n = std::min(a->iov()[i].iov_len, net_size - len);
                        std::memcpy(buf + len, a->iov()[i].iov_buf, n);
                        len += n;
                    }
                    p = buf;
                }
            }
            if (p == nullptr) {
                wrq_.remove(a);
                a->set_outcome(NNG_EINVAL, 0);
                done.push_back(a);
                continue;
            }
            std::size_t n = 0;
            int r = SSL_write_ex(ssl_, p, len, &n);
            if (r == 1) {
                wrq_.remove(a);
                a->set_outcome(0, n);
                done.push_back(a);
                continue;
            }
            if (int rv = ssl_error(r); rv != 0) {
                err_ = rv;
            }
            break;
        }
    }
    if (err_ != 0) {
        fail_all(err_, done);
    }
    // Ciphertext out (also the alert that reports a failure).
    flush_out();
    if (err_ != 0) {
        if (!tx_busy_) {
            under_->close();
        }
        return;
    }
    // Ciphertext in, when the engine waits for it (once per receive, not
    // at every pump while one is out: the time to give back what a burst
    // grew).
    if (want_read && !rx_busy_ && rx_err_ == 0) {
        trim_bios();
        start_rx();
    }
}

namespace {
// The buffer a memory BIO holds, whether or not it has data in it.
std::size_t mem_capacity(BIO* b) {
    BUF_MEM* m = nullptr;
    BIO_get_mem_ptr(b, &m);
    return m != nullptr ? m->max : 0;
}
} // namespace

// With mtx_ held and the engine waiting for the peer: a memory BIO keeps
// the largest buffer it ever needed (records of a large answer or upload,
// up to 64 KiB of ciphertext out), so one that grew past a small burst is
// swapped for a fresh one once it is empty.  Not while a burst goes on:
// the send side waits until nothing is queued or in flight, the receive
// side until a receive fitted the small buffer (as for netin_).
void tls_stream::trim_bios() {
    if (!hs_done_) {
        return; // handshake flights are small, and OpenSSL may buffer them
    }
    if (!tx_busy_ && wrq_.empty() && BIO_ctrl_pending(wbio_) == 0 &&
        mem_capacity(wbio_) > small_size) {
        if (BIO* b = BIO_new(BIO_s_mem())) {
            SSL_set0_wbio(ssl_, b); // frees the old one
            wbio_ = b;
        }
    }
    if (!rx_big_ && BIO_ctrl_pending(rbio_) == 0 && mem_capacity(rbio_) > small_size) {
        if (BIO* b = BIO_new(BIO_s_mem())) {
            BIO_set_mem_eof_return(b, -1);
            SSL_set0_rbio(ssl_, b);
            rbio_ = b;
        }
    }
}

std::size_t tls_stream::buffer_bytes() {
    std::lock_guard lk(mtx_);
    return mem_capacity(rbio_) + mem_capacity(wbio_) + (netin_ ? net_size : 0) +
           (netout_ ? net_size : 0);
}

// With mtx_ held and no send in flight: sends what the engine wrote.  The
// socket usually takes it all at once; only what it does not take is kept
// (in netout_) for an asynchronous send.
void tls_stream::flush_out() {
    while (!tx_busy_ && BIO_ctrl_pending(wbio_) > 0) {
        char* buf = scratch();
        int n = BIO_read(wbio_, buf, static_cast<int>(net_size));
        if (n <= 0) {
            return;
        }
        std::size_t len = static_cast<std::size_t>(n);
        std::size_t sent = 0;
        nng_iov iov{buf, len};
        if (!under_->try_send(&iov, 1, sent)) {
            sent = 0; // send() reports whatever stopped it
        }
        if (sent == len) {
            continue;
        }
        if (!netout_) {
            netout_.reset(new char[net_size]);
        }
        out_len_ = len - sent;
        out_off_ = 0;
        std::memcpy(netout_.get(), buf + sent, out_len_);
        nng_iov rest{netout_.get(), out_len_};
        (void)tx_.set_iov(1, &rest);
        tx_busy_ = true;
        add_ref();
        under_->send(&tx_);
    }
    if (!tx_busy_) {
        netout_.reset(); // all sent: an idle stream keeps no buffer
    }
}

// With mtx_ held: a receive of ciphertext, into small_in_ or netin_ as
// the last receive decided.
void tls_stream::start_rx() {
    char* buf = small_in_;
    std::size_t cap = small_size;
    if (rx_big_) {
        if (!netin_) {
            netin_.reset(new char[net_size]);
        }
        buf = netin_.get();
        cap = net_size;
    }
    nng_iov iov{buf, cap};
    (void)rx_.set_iov(1, &iov);
    rx_busy_ = true;
    add_ref();
    under_->recv(&rx_);
}

void tls_stream::rx_cb(void* arg) {
    auto* s = static_cast<tls_stream*>(arg);
    aio_list done;
    {
        std::lock_guard lk(s->mtx_);
        s->rx_busy_ = false;
        int rv = s->rx_.result();
        if (rv != 0) {
            s->rx_err_ = rv;
            if (!s->hs_done_ && s->err_ == 0) {
                s->err_ = rv; // the peer went away during the handshake
                s->fail_all(rv, done);
            }
        } else {
            std::size_t n = s->rx_.count();
            BIO_write(s->rbio_, s->rx_big_ ? s->netin_.get() : s->small_in_, static_cast<int>(n));
            // A full small buffer: more is coming, take it 16 KiB at a
            // time.  A receive that would have fitted the small one: the
            // burst is over, give the big one back.
            if (!s->rx_big_ && n == small_size) {
                s->rx_big_ = true;
            } else if (s->rx_big_ && n <= small_size) {
                s->rx_big_ = false;
                s->netin_.reset();
            }
        }
        s->pump(done);
    }
    while (aio* a = done.pop_front()) {
        a->complete(true);
    }
    s->release();
}

void tls_stream::tx_cb(void* arg) {
    auto* s = static_cast<tls_stream*>(arg);
    aio_list done;
    {
        std::lock_guard lk(s->mtx_);
        int rv = s->tx_.result();
        if (rv != 0) {
            s->tx_busy_ = false;
            if (s->err_ == 0) {
                s->err_ = rv;
            }
            s->fail_all(s->err_, done);
            s->under_->close();
        } else {
            s->out_off_ += s->tx_.count();
            if (s->out_off_ < s->out_len_) {
                nng_iov iov{s->netout_.get() + s->out_off_, s->out_len_ - s->out_off_};
                (void)s->tx_.set_iov(1, &iov);
                s->add_ref();
                s->under_->send(&s->tx_);
            } else {
                s->tx_busy_ = false;
                if (s->err_ != 0 && BIO_ctrl_pending(s->wbio_) == 0) {
                    s->under_->close(); // the alert is out
                } else {
                    s->pump(done);
                }
            }
        }
    }
    while (aio* a = done.pop_front()) {
        a->complete(true);
    }
    s->release();
}

void tls_stream::cancel(aio* a, void* arg, int err) {
    auto* s = static_cast<tls_stream*>(arg);
    bool found;
    {
        std::lock_guard lk(s->mtx_);
        found = s->rdq_.remove(a) || s->wrq_.remove(a);
    }
    if (found) {
        a->finish_error(err);
    }
}

void tls_stream::close() {
    aio_list done;
    {
        std::lock_guard lk(mtx_);
        if (closed_) {
            return;
        }
        closed_ = true;
        fail_all(NNG_ECLOSED, done);
        send_close_notify();
    }
    under_->close();
    while (aio* a = done.pop_front()) {
        a->complete(false);
    }
}

// With mtx_ held, closing: a close_notify alert, so that the peer can tell
// our end of the data from a cut connection (TLS 1.2 and 1.3 ask it of
// whoever closes).  Best effort, without waiting: it goes only if the
// handshake is done, nothing failed, no earlier ciphertext is still queued
// and the socket takes it at once.  The peer's own close_notify is not
// awaited.
void tls_stream::send_close_notify() {
    if (!hs_done_ || err_ != 0 || tx_busy_ || rx_err_ != 0) {
        return;
    }
    if (SSL_shutdown(ssl_) < 0) {
        ERR_clear_error();
        return;
    }
    char* buf = scratch();
    int n = BIO_read(wbio_, buf, static_cast<int>(net_size));
    if (n > 0) {
        nng_iov iov{buf, static_cast<std::size_t>(n)};
        std::size_t sent = 0;
        (void)under_->try_send(&iov, 1, sent);
    }
}

int tls_stream::get(std::string_view name, const opt_out& out) {
    if (name == NNG_OPT_TLS_VERIFIED) {
        std::lock_guard lk(mtx_);
        X509* peer = SSL_get0_peer_certificate(ssl_);
        bool ok = hs_done_ && peer != nullptr && SSL_get_verify_result(ssl_) == X509_V_OK;
        return copy_out(ok, out);
    }
    if (name == NNG_OPT_TLS_CONFIG) {
        void* p = cfg_;
        return copy_out(p, out);
    }
    return under_->get(name, out);
}

int tls_stream::set(std::string_view name, const opt_in& in) {
    if (name == NNG_OPT_TLS_VERIFIED || name == NNG_OPT_TLS_CONFIG) {
        return NNG_EREADONLY;
    }
    return under_->set(name, in);
}

} // namespace nnghttp::detail::tls
