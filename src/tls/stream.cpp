#include "tls/stream.hpp"

#include "core/error.hpp"
#include "core/executor.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>
#include <utility>

namespace nnghttp::detail::tls {

namespace {
constexpr std::size_t max_pending_out = 64 * 1024;
constexpr std::uintptr_t tag_file = 2; // a send_file aio (prov_tag)

// Plaintext gathered into one record, or a file's bytes on their way into
// SSL_write: used and done with inside one call under the stream's lock,
// so one buffer per thread serves every stream.
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
    BIO_METHOD* m = bio_method();
    BIO* b = m != nullptr ? BIO_new(m) : nullptr;
    if (b == nullptr) {
        SSL_free(ssl);
        return NNG_ENOMEM;
    }
    BIO_set_init(b, 1);
    SSL_set_bio(ssl, b, b); // one reference serves both directions
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
    out->bio_ = b;
    BIO_set_data(b, out);
    return 0;
}

// The engine's BIO: no buffer of its own, no allocation per call.  Reads
// take ciphertext from the receive window, or say "retry" when it is
// empty (more comes with the next receive; the peer's end shows as
// rx_err_, never as the BIO's end of file).  Writes append to fill_;
// flushing is flush_out()'s work, done after every engine call.
BIO_METHOD* tls_stream::bio_method() {
    static BIO_METHOD* const m = [] {
        int type = BIO_get_new_index();
        BIO_METHOD* bm = type > 0 ? BIO_meth_new(type | BIO_TYPE_SOURCE_SINK, "nng-http tls stream")
                                  : nullptr;
        if (bm != nullptr &&
            (BIO_meth_set_read_ex(bm, &tls_stream::bio_read) != 1 ||
             BIO_meth_set_write_ex(bm, &tls_stream::bio_write) != 1 ||
             BIO_meth_set_ctrl(bm, &tls_stream::bio_ctrl) != 1)) {
            BIO_meth_free(bm);
            bm = nullptr;
        }
        return bm;
    }();
    return m;
}

int tls_stream::bio_read(BIO* b, char* out, std::size_t len, std::size_t* got) {
    auto* s = static_cast<tls_stream*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    std::size_t avail = s->in_len_ - s->in_off_;
    if (avail == 0) {
        BIO_set_retry_read(b);
        *got = 0;
        return 0;
    }
    std::size_t n = std::min(len, avail);
    std::memcpy(out, s->in_buf_ + s->in_off_, n);
    s->in_off_ += n; // start_rx() moves the window back to the front
    *got = n;
    return 1;
}

int tls_stream::bio_write(BIO* b, const char* in, std::size_t len, std::size_t* put) {
    auto* s = static_cast<tls_stream*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    if (!s->fill_.append(in, len)) {
        *put = 0;
        return 0; // the engine fails the connection
    }
    s->made_ += len;
    *put = len;
    return 1;
}

long tls_stream::bio_ctrl(BIO* b, int cmd, long num, void* ptr) {
    (void)num;
    (void)ptr;
    auto* s = static_cast<tls_stream*>(BIO_get_data(b));
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return static_cast<long>(s->in_len_ - s->in_off_);
    case BIO_CTRL_WPENDING:
        return static_cast<long>(s->fill_.len);
    default:
        return 0;
    }
}

tls_stream::out_buf::~out_buf() { std::free(data_); }

bool tls_stream::out_buf::append(const char* p, std::size_t n) noexcept {
    if (n > cap_ - len) {
        std::size_t want = std::max({len + n, cap_ * 2, small_size});
        auto* d = static_cast<char*>(std::realloc(data_, want));
        if (d == nullptr) {
            return false;
        }
        data_ = d;
        cap_ = want;
    }
    std::memcpy(data_ + len, p, n);
    len += n;
    return true;
}

void tls_stream::out_buf::release() noexcept {
    std::free(data_);
    data_ = nullptr;
    cap_ = len = off = 0;
}

void tls_stream::out_buf::swap(out_buf& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(cap_, o.cap_);
    std::swap(len, o.len);
    std::swap(off, o.off);
}

tls_stream::tls_stream(ref_ptr<stream> under, config& cfg, SSL* ssl)
    : under_(std::move(under)), cfg_(&cfg), ssl_(ssl), rx_(&tls_stream::rx_cb, this),
      tx_(&tls_stream::tx_cb, this), wake_(&tls_stream::wake_cb, this) {
    cfg_->add_ref();
    starved_ = cfg.role() == mode::server;
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
        // Our send buffer goes too (2 KiB per parked connection).
        if (hs_done_) {
            SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS);
            (void)SSL_free_buffers(ssl_); // kept if a partial record waits
            if (!tx_busy_ && fill_.len == 0) {
                fill_.release(); // and ours: the next answer allocates one
            }
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

// The error for a failed SSL call (e: SSL_get_error's reading of it): 0
// when it only needs more input.
int tls_stream::ssl_error(int e) {
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
    // Sends whose ciphertext had not all gone fail too: the caller cannot
    // know how much of it the peer will see.
    for (aio_queue* q : {&rdq_, &sentq_, &wrq_}) {
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
        if (starved_) {
            want_read = true; // the handshake cannot move before the peer does
        } else if (int r = SSL_do_handshake(ssl_); r == 1) {
            hs_done_ = true;
        } else {
            int e = SSL_get_error(ssl_, r);
            if (int rv = ssl_error(e); rv != 0) {
                err_ = rv;
            } else {
                want_read = starved_ = e == SSL_ERROR_WANT_READ;
            }
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
            int rv = 0;
            if (!starved_) {
                std::size_t n = 0;
                int r = SSL_read_ex(ssl_, v->iov_buf, v->iov_len, &n);
                if (r == 1) {
                    rdq_.remove(a);
                    a->set_outcome(0, n);
                    done.push_back(a);
                    continue;
                }
                int e = SSL_get_error(ssl_, r);
                rv = ssl_error(e);
                starved_ = rv == 0 && e == SSL_ERROR_WANT_READ;
            }
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
        // At the bound a writer waits only while a send is in flight, whose
        // completion (tx_cb) pumps again.  Without one the backlog is fill_
        // alone, and the socket may take all of it at once: flushed here,
        // the writers go on.  (Waiting then lost the wake-up: the flush
        // after this loop emptied fill_ without starting a send, so nothing
        // pumped again and the writer sat in wrq_ until its timeout.)
        while (aio* a = wrq_.front()) {
            if (pending_out() >= max_pending_out) {
                flush_out();
                if (pending_out() >= max_pending_out) {
                    break; // tx_busy_: tx_cb resumes the writers
                }
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
                if (std::exchange(last_send_, false) && a->prov_tag != tag_file && wrq_.empty() &&
                    n == a->iov_residual()) {
                    // The last send, all of it: the close_notify goes in
                    // the same flush (see last_send()).
                    (void)write_close_notify();
                }
                // Done once its ciphertext has gone (settle_sent).
                a->prov_tag = made_;
                sentq_.push_back(a);
                continue;
            }
            if (int rv = ssl_error(SSL_get_error(ssl_, r)); rv != 0) {
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
    settle_sent(done);
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
        trim_out();
        start_rx();
    }
}

// With mtx_ held and the engine waiting for the peer: a fill_ that grew
// past a small flight (records of a large answer, up to 64 KiB queued) is
// freed once it is empty, so that a waiting connection does not keep it.
// Not before the handshake is done (its flights are small) nor while
// anything is queued or in flight.
void tls_stream::trim_out() {
    if (hs_done_ && !tx_busy_ && wrq_.empty() && fill_.len == 0 && fill_.cap() > small_size) {
        fill_.release();
    }
}

// With mtx_ held: the sends whose ciphertext has all gone to the
// underlying stream complete, in order.
void tls_stream::settle_sent(aio_list& done) {
    while (aio* a = sentq_.front()) {
        // gone_ has reached the mark (both counts wrap).
        if (static_cast<std::intptr_t>(gone_ - a->prov_tag) < 0) {
            break;
        }
        sentq_.remove(a);
        done.push_back(a);
    }
}

std::size_t tls_stream::buffer_bytes() {
    std::lock_guard lk(mtx_);
    return (netin_ ? net_size : 0) + fill_.cap() + flight_.cap();
}

// With mtx_ held and no send in flight: sends what the engine wrote.  The
// socket usually takes it all at once; what it does not take goes out
// asynchronously from flight_, while the engine writes on into fill_.
void tls_stream::flush_out() {
    if (tx_busy_ || fill_.len == 0) {
        return;
    }
    std::size_t sent = 0;
    nng_iov iov{fill_.data(), fill_.len};
    if (!under_->try_send(&iov, 1, sent)) {
        sent = 0; // send() reports whatever stopped it
    }
    gone_ += sent;
    if (sent == fill_.len) {
        fill_.len = 0;
        return;
    }
    fill_.swap(flight_); // flight_ was empty: no send is in flight
    flight_.off = sent;
    nng_iov rest{flight_.data() + sent, flight_.len - sent};
    (void)tx_.set_iov(1, &rest);
    tx_busy_ = true;
    add_ref();
    under_->send(&tx_);
}

// With mtx_ held, the engine waiting for ciphertext: a receive into
// small_in_ or netin_, as the last receive decided.  The engine asks for
// more only once it has taken everything it was given, so the window is
// empty here; if it were not, its bytes move to the front of the buffer.
void tls_stream::start_rx() {
    std::size_t left = in_len_ - in_off_;
    char* buf = small_in_;
    std::size_t size = small_size;
    if (rx_big_ || left > small_size) {
        if (!netin_) {
            netin_.reset(new char[net_size]);
        }
        buf = netin_.get();
        size = net_size;
    }
    if (left > 0) {
        std::memmove(buf, in_buf_ + in_off_, left);
    }
    if (buf != netin_.get()) {
        netin_.reset(); // the burst is over: give the big buffer back
    }
    in_buf_ = buf;
    in_off_ = 0;
    in_len_ = left;
    rx_cap_ = size - left;
    if (rx_cap_ == 0) {
        return; // (cannot happen: see above) the engine reads first
    }
    nng_iov iov{buf + left, rx_cap_};
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
        s->starved_ = false; // news for the engine: bytes, or the end
        int rv = s->rx_.result();
        if (rv != 0) {
            s->rx_err_ = rv;
            if (!s->hs_done_ && s->err_ == 0) {
                s->err_ = rv; // the peer went away during the handshake
                s->fail_all(rv, done);
            }
        } else {
            std::size_t n = s->rx_.count();
            s->in_len_ += n; // the engine reads it from there
            // A full small buffer: more is coming, take it 16 KiB at a
            // time.  A receive that would have fitted the small one: the
            // burst is over, the big one goes at the next receive.
            if (!s->rx_big_ && n == s->rx_cap_) {
                s->rx_big_ = true;
            } else if (s->rx_big_ && n <= small_size) {
                s->rx_big_ = false;
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
            s->flight_.release();
            if (s->err_ == 0) {
                s->err_ = rv;
            }
            s->fail_all(s->err_, done);
            s->under_->close();
        } else {
            s->flight_.off += s->tx_.count();
            s->gone_ += s->tx_.count();
            s->settle_sent(done);
            if (s->flight_.off < s->flight_.len) {
                nng_iov iov{s->flight_.data() + s->flight_.off, s->flight_.len - s->flight_.off};
                (void)s->tx_.set_iov(1, &iov);
                s->add_ref();
                s->under_->send(&s->tx_);
            } else {
                s->tx_busy_ = false;
                s->flight_.release();
                if (s->err_ != 0 && s->fill_.len == 0) {
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
        // A send in sentq_ can still be cancelled (its timeout, say): its
        // ciphertext may yet go out, but it did not within its time.
        found = s->rdq_.remove(a) || s->wrq_.remove(a) || s->sentq_.remove(a);
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

void tls_stream::last_send() noexcept {
    std::lock_guard lk(mtx_);
    last_send_ = true;
}

// With mtx_ held: the engine writes our close_notify into fill_, once.
// False if it could not (nothing to send then).
bool tls_stream::write_close_notify() {
    if (notify_sent_) {
        return false;
    }
    if (SSL_shutdown(ssl_) < 0) {
        ERR_clear_error();
        return false;
    }
    notify_sent_ = true;
    return true;
}

// With mtx_ held, closing: a close_notify alert, so that the peer can tell
// our end of the data from a cut connection (TLS 1.2 and 1.3 ask it of
// whoever closes), unless it went with the last send already.  Best
// effort, without waiting: it goes only if the handshake is done, nothing
// failed, no earlier ciphertext is still queued and the socket takes it at
// once.  The peer's own close_notify is not awaited.
void tls_stream::send_close_notify() {
    if (!hs_done_ || err_ != 0 || tx_busy_ || rx_err_ != 0 || !write_close_notify()) {
        return;
    }
    if (fill_.len > 0) {
        nng_iov iov{fill_.data(), fill_.len};
        std::size_t sent = 0;
        (void)under_->try_send(&iov, 1, sent);
        fill_.len = 0;
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
