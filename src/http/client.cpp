#include "http/client.hpp"

#include "core/executor.hpp"
#include "tls/transport.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <cstring>
#include <mutex>

namespace nnghttp::detail::http {

namespace {

// One exchange on a conn (and, for client::transact, the connect before it
// and the close after it).  Reference counted: the user's aio's cancel
// function and the inner aio's callback each may outlive the other.
class txn final : public ref_counted {
  public:
    txn(conn* c, client* cl, request& req, response& res, aio* user, std::size_t limit)
        : conn_(c), client_(cl), req_(req), res_(res), user_(user), limit_(limit),
          wr_(nullptr, nullptr), inner_(&txn::inner_cb, this) {
        inner_.set_timeout(NNG_DURATION_INFINITE);
        wr_.set_timeout(NNG_DURATION_INFINITE);
        if (conn_ != nullptr) {
            conn_->add_ref();
        }
        if (client_ != nullptr) {
            client_->add_ref();
        }
    }

    // Called with user_ begun; starts the first step.
    void start(stream_dialer* dialer) {
        std::lock_guard lk(mtx_);
        if (int rv = user_->schedule(&txn::cancel, this, this); rv != 0) {
            user_->set_outcome(rv, 0);
            user_->complete(false);
            user_ = nullptr;
            return;
        }
        res_.reset();
        if (!req_.has_uri()) {
            // Nothing to put in the request line (NNG: EINVAL); nothing
            // was sent, so the connection goes on.
            user_->set_outcome(NNG_EINVAL, 0);
            user_->complete(false);
            user_ = nullptr;
            return;
        }
        add_ref(); // for the inner operation
        if (dialer != nullptr) {
            state_ = state::connecting;
            dialer->dial(&inner_);
        } else {
            send_request();
        }
    }

  private:
    enum class state { connecting, head, body_length, body_chunked, body_close };

    ~txn() override {
        inner_.stop();
        wr_.stop();
        if (conn_ != nullptr) {
            if (client_ != nullptr) {
                conn_->close(); // the connection client::transact opened
            }
            conn_->release();
        }
        if (client_ != nullptr) {
            client_->release();
        }
    }

    // Destroyed from inside the inner aio's callback: finish elsewhere.
    void destroy() noexcept override {
        asio::post(executor::global().current_or_next().context(), [this] { delete this; });
    }

    static void cancel(aio* a, void* arg, int err) {
        auto* t = static_cast<txn*>(arg);
        {
            std::lock_guard lk(t->mtx_);
            if (t->user_ != a || t->cancel_err_ != 0) {
                return;
            }
            t->cancel_err_ = err;
        }
        // Whatever is in flight fails with err (the conn then closes: the
        // exchange was cut at an unknown point).
        t->inner_.abort(err);
    }

    static void inner_cb(void* arg) {
        auto* t = static_cast<txn*>(arg);
        t->step();
        t->release(); // the inner operation's reference
    }

    // With mtx_ held.  The request goes out through wr_, which has no
    // callback (a write that completes inside this call then costs no
    // hand-off to a loop), and the response head is asked for at once:
    // the conn serves reads and writes independently.
    void send_request() {
        conn_->write_req(req_, &wr_);
        read_head();
    }

    void read_head() {
        state_ = state::head;
        conn_->set_head_request(std::strcmp(req_.method(), "HEAD") == 0);
        conn_->read_res(res_, &inner_);
    }

    void step() {
        bool finishing;
        {
            std::lock_guard lk(mtx_);
            step_locked();
            // Claimed under the lock: once this step unlocks, the next
            // operation's completion may already run step() on another
            // loop, and only one of them may finish the user's aio.
            finishing = fin_aio_ != nullptr && !fin_claimed_;
            if (finishing) {
                fin_claimed_ = true;
            }
        }
        // The user's callback runs outside the lock, here on the loop (not
        // inside the initiating call), once the request is out.
        if (finishing) {
            finish_after_write();
        }
    }

    // The user may free the request once called back, and a server may
    // answer before it has read all of it: the write must be done first.
    // It nearly always is; if not (an early answer, or its completion is
    // queued behind ours on this very stack), look again shortly.  When the
    // exchange failed because a failed write closed the conn, the write's
    // error is the one to report.
    void finish_after_write() {
        if (!wr_.settled()) {
            // First look again right after what is queued on this loop (the
            // write's completion usually is); after that, every millisecond
            // (a write still going, e.g. a big body the server answered early).
            add_ref();
            auto& ctx = executor::global().current_or_next().context();
            if (write_polls_++ == 0) {
                asio::post(ctx, [this] {
                    finish_after_write();
                    release();
                });
                return;
            }
            auto t = std::make_shared<asio::steady_timer>(ctx, std::chrono::milliseconds(1));
            t->async_wait([this, t](const asio::error_code&) {
                finish_after_write();
                release();
            });
            return;
        }
        aio* u = std::exchange(fin_aio_, nullptr);
        int rv = fin_rv_;
        // A whole response counts, even if the write's completion saw the
        // conn close afterwards (it raced with the server's close).
        if (wr_.result() != 0 && rv == NNG_ECLOSED) {
            rv = wr_.result();
        }
        if (rv == 0 && (client_ != nullptr || server_closes())) {
            // The server said this was the last exchange: the next
            // transaction fails at once (NNG_ECLOSED) instead of sending
            // into a connection that is going away.  (Only now: closing
            // earlier could fail the request's write, not yet called back.)
            conn_->close();
        }
        u->finish_sync(rv, 0);
    }

    void step_locked() {
        int rv = inner_.result();
        if (rv == 0 && cancel_err_ != 0) {
            rv = cancel_err_;
        }
        if (rv != 0) {
            if (state_ == state::body_close && rv == NNG_ECONNSHUT) {
                // The server's close ends a body without a length.
                done_body();
                return;
            }
            fail(rv);
            return;
        }
        switch (state_) {
        case state::connecting: {
            auto* st = static_cast<stream*>(inner_.output(0));
            try {
                conn_ = new conn(ref_ptr<stream>::adopt(st));
            } catch (const std::bad_alloc&) {
                st->close();
                st->release();
                fail(NNG_ENOMEM);
                return;
            }
            add_ref();
            send_request();
            return;
        }
        case state::head:
            on_head();
            return;
        case state::body_length:
            res_.body().adopt(std::move(body_), body_len_);
            finish(0);
            return;
        case state::body_chunked:
            on_chunks();
            return;
        case state::body_close:
            got_ += inner_.count();
            read_until_close();
            return;
        }
    }

    void on_head() {
        std::uint16_t st = res_.status();
        if (st >= 100 && st < 200 && st != 101) {
            // An interim response: the final one follows.
            res_.reset();
            add_ref();
            read_head();
            return;
        }
        switch (conn_->last_body_kind()) {
        case body_kind::none:
            finish(0);
            return;
        case body_kind::length: {
            auto len = static_cast<std::uint64_t>(conn_->last_content_length());
            if (len == 0) {
                finish(0);
                return;
            }
            if (len > limit_) {
                fail(NNG_EMSGSIZE);
                return;
            }
            body_.reset(new (std::nothrow) char[len]);
            if (!body_) {
                fail(NNG_ENOMEM);
                return;
            }
            body_len_ = static_cast<std::size_t>(len);
            nng_iov iov{body_.get(), body_len_};
            (void)inner_.set_iov(1, &iov);
            state_ = state::body_length;
            add_ref();
            conn_->read_all(&inner_);
            return;
        }
        case body_kind::chunked:
            state_ = state::body_chunked;
            read_chunks();
            return;
        case body_kind::until_close:
            state_ = state::body_close;
            read_until_close();
            return;
        }
    }

    // Raw reads into scratch_, decoded into acc_.
    void read_chunks() {
        if (!scratch_) {
            scratch_.reset(new (std::nothrow) char[scratch_size]);
            if (!scratch_) {
                fail(NNG_ENOMEM);
                return;
            }
        }
        nng_iov iov{scratch_.get(), scratch_size};
        (void)inner_.set_iov(1, &iov);
        add_ref();
        conn_->read(&inner_);
    }

    void on_chunks() {
        pend_.append(scratch_.get(), inner_.count());
        std::size_t pos = 0;
        for (;;) {
            chunk_result r = chunks_.decode(std::string_view(pend_).substr(pos));
            pos += r.consumed;
            if (chunks_.body_size() + chunks_.chunk_remaining() > limit_) {
                fail(NNG_EMSGSIZE); // announced by a size line: refused before it comes
                return;
            }
            switch (r.status) {
            case chunk_status::data:
                acc_.append(r.data);
                continue;
            case chunk_status::need_more:
                pend_.erase(0, pos);
                read_chunks();
                return;
            case chunk_status::error:
                fail(NNG_EPROTO);
                return;
            case chunk_status::done:
                // Bytes past the body belong to the next response.
                if (conn_->put_back(std::string_view(pend_).substr(pos)) != 0) {
                    conn_->close();
                }
                try {
                    res_.body().copy(acc_.data(), acc_.size());
                } catch (const std::bad_alloc&) {
                    fail(NNG_ENOMEM);
                    return;
                }
                finish(0);
                return;
            }
        }
    }

    // A body delimited by the close: read into acc_ until the peer closes.
    void read_until_close() {
        if (got_ > limit_) {
            fail(NNG_EMSGSIZE);
            return;
        }
        std::size_t want = 64 * 1024;
        try {
            if (acc_.size() < got_ + want) {
                acc_.resize(got_ + want);
            }
        } catch (const std::bad_alloc&) {
            fail(NNG_ENOMEM);
            return;
        }
        nng_iov iov{acc_.data() + got_, want};
        (void)inner_.set_iov(1, &iov);
        add_ref();
        conn_->read(&inner_);
    }

    void done_body() {
        try {
            res_.body().copy(acc_.data(), got_);
        } catch (const std::bad_alloc&) {
            fail(NNG_ENOMEM);
            return;
        }
        finish(0);
    }

    void fail(int rv) {
        if (conn_ != nullptr) {
            conn_->close(); // cut at an unknown point: not reusable
        }
        finish(rv);
    }

    // Whether the response ends the connection: "Connection: close", or
    // HTTP/1.0 without "Connection: keep-alive".
    bool server_closes() const {
        const char* c = res_.get_header("Connection");
        auto has = [c](std::string_view token) { return c != nullptr && list_has_token(c, token); };
        if (has("close")) {
            return true;
        }
        return std::strcmp(res_.version(), "HTTP/1.0") == 0 && !has("keep-alive");
    }

    // With mtx_ held, from the inner aio's callback (a loop thread, not the
    // initiating call): the user's callback runs right here.
    void finish(int rv) {
        aio* u = std::exchange(user_, nullptr);
        if (u == nullptr) {
            return;
        }

        fin_aio_ = u;
        fin_rv_ = rv;
    }

    std::mutex mtx_;
    conn* conn_;
    client* client_;
    request& req_;
    response& res_;
    aio* user_;
    std::size_t limit_;
    int cancel_err_ = 0;
    state state_ = state::head;
    std::unique_ptr<char[]> body_;
    std::size_t body_len_ = 0;
    chunk_decoder chunks_;
    std::unique_ptr<char[]> scratch_;
    static constexpr std::size_t scratch_size = 16 * 1024;
    std::string pend_;
    std::string acc_;
    std::size_t got_ = 0;
    aio* fin_aio_ = nullptr; // finished by step() after unlocking
    bool fin_claimed_ = false; // a step() is finishing fin_aio_ (under mtx_)
    int fin_rv_ = 0;
    unsigned write_polls_ = 0;
    aio wr_; // the request's write
    aio inner_;
};

// client::connect: the dial, then a conn for the stream.
class connect_op final : public ref_counted {
  public:
    connect_op(client* cl, aio* user) : client_(cl), user_(user), inner_(&connect_op::cb, this) {
        inner_.set_timeout(NNG_DURATION_INFINITE);
        client_->add_ref();
    }

    void start(stream_dialer& d) {
        std::lock_guard lk(mtx_);
        if (int rv = user_->schedule(&connect_op::cancel, this, this); rv != 0) {
            user_->set_outcome(rv, 0);
            user_->complete(false);
            user_ = nullptr;
            return;
        }
        add_ref();
        d.dial(&inner_);
    }

  private:
    ~connect_op() override {
        inner_.stop();
        client_->release();
    }
    void destroy() noexcept override {
        asio::post(executor::global().current_or_next().context(), [this] { delete this; });
    }

    static void cancel(aio* a, void* arg, int err) {
        auto* op = static_cast<connect_op*>(arg);
        {
            std::lock_guard lk(op->mtx_);
            if (op->user_ != a) {
                return;
            }
        }
        op->inner_.abort(err);
    }

    static void cb(void* arg) {
        auto* op = static_cast<connect_op*>(arg);
        {
            std::lock_guard lk(op->mtx_);
            aio* u = std::exchange(op->user_, nullptr);
            int rv = op->inner_.result();
            conn* c = nullptr;
            if (rv == 0) {
                auto* st = static_cast<stream*>(op->inner_.output(0));
                c = new (std::nothrow) conn(ref_ptr<stream>::adopt(st));
                if (c == nullptr) {
                    st->close();
                    st->release();
                    rv = NNG_ENOMEM;
                }
            }
            if (u != nullptr) {
                u->set_output(0, c);
                u->finish_sync(rv, 0);
            } else if (c != nullptr) {
                c->close();
                c->release();
            }
        }
        op->release();
    }

    std::mutex mtx_;
    client* client_;
    aio* user_;
    aio inner_;
};

} // namespace

// ---- client ----

int client::create(const nng_url& url, client*& out) {
    if (url.u_scheme == nullptr) {
        return NNG_EADDRINVAL;
    }
    std::string scheme = url.u_scheme;
    // "ws4", "https6": the family the name must resolve to.
    std::string family;
    if (!scheme.empty() && (scheme.back() == '4' || scheme.back() == '6')) {
        family.assign(1, scheme.back());
        scheme.pop_back();
    }
    bool secure = scheme == "https" || scheme == "wss";
    if (!secure && scheme != "http" && scheme != "ws") {
        return NNG_EADDRINVAL;
    }
    std::string host = url.u_hostname != nullptr ? url.u_hostname : "";
    if (host.empty()) {
        return NNG_EADDRINVAL;
    }
    std::string port =
        url.u_port != nullptr && *url.u_port != '\0' ? url.u_port : (secure ? "443" : "80");
    std::string bracketed = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    std::string dial = "tcp" + family + "://" + bracketed + ":" + port;
    nng_url* u = nullptr;
    int rv = nng_url_parse(&u, dial.c_str());
    if (rv != 0) {
        return rv;
    }
    stream_dialer* d = nullptr;
    rv = make_dialer(*u, d);
    nng_url_free(u);
    if (rv != 0) {
        return rv;
    }
    if (secure) {
        tls::config* cfg = nullptr;
        if ((rv = tls::config::create(tls::mode::client, cfg)) != 0) {
            d->release();
            return rv;
        }
        stream_dialer* plain = d;
        rv = tls::wrap_dialer(plain, cfg, host, d);
        cfg->release();
        if (rv != 0) {
            plain->release();
            return rv;
        }
    }
    out = new client(d);
    return 0;
}

int client::set_tls(void* cfg) {
    return dialer_->set(NNG_OPT_TLS_CONFIG, opt_in{&cfg, sizeof cfg, opt_type::ptr});
}

int client::get_tls(void*& cfg) {
    std::size_t sz = sizeof cfg;
    return dialer_->get(NNG_OPT_TLS_CONFIG, opt_out{&cfg, &sz, opt_type::ptr});
}

int client::get(std::string_view name, const opt_out& out) { return dialer_->get(name, out); }

int client::set(std::string_view name, const opt_in& in) { return dialer_->set(name, in); }

client::~client() {
    dialer_->close();
    dialer_->release();
}

void client::connect(aio* a) {
    if (!a->begin()) {
        return;
    }
    auto* op = new (std::nothrow) connect_op(this, a);
    if (op == nullptr) {
        a->finish(NNG_ENOMEM, 0);
        return;
    }
    op->start(*dialer_);
    op->release();
}

void client::transact(request& req, response& res, aio* a) {
    if (!a->begin()) {
        return;
    }
    try {
        req.headers().set("Connection", "close"); // as NNG: one exchange, then closed
    } catch (const std::bad_alloc&) {
        a->finish(NNG_ENOMEM, 0);
        return;
    }
    auto* t = new (std::nothrow) txn(nullptr, this, req, res, a, limit_);
    if (t == nullptr) {
        a->finish(NNG_ENOMEM, 0);
        return;
    }
    t->start(dialer_);
    t->release();
}

void transact(conn& c, request& req, response& res, aio* a, std::size_t limit) {
    if (!a->begin()) {
        return;
    }
    auto* t = new (std::nothrow) txn(&c, nullptr, req, res, a, limit);
    if (t == nullptr) {
        a->finish(NNG_ENOMEM, 0);
        return;
    }
    t->start(nullptr);
    t->release();
}

} // namespace nnghttp::detail::http

namespace nnghttp::detail::http {

// ---- body_reader ----

body_reader::body_reader(conn& c) : c_(&c), kind_(c.last_body_kind()), inner_(&body_reader::inner_cb, this) {
    c_->add_ref();
    inner_.set_timeout(NNG_DURATION_INFINITE);
    if (kind_ == body_kind::length) {
        remaining_ = static_cast<std::uint64_t>(c.last_content_length());
    }
    done_ = kind_ == body_kind::none || (kind_ == body_kind::length && remaining_ == 0);
}

body_reader::~body_reader() {
    inner_.stop();
    c_->release();
}

void body_reader::read(aio* a) {
    if (!a->begin()) {
        return;
    }
    if (a->iov_count() == 0 || a->iov()[0].iov_len == 0) {
        a->finish(NNG_EINVAL, 0);
        return;
    }
    bool complete;
    {
        std::lock_guard lk(mtx_);
        if (user_ != nullptr) {
            a->set_outcome(NNG_EBUSY, 0);
            complete = true;
        } else if (int rv = a->schedule(&body_reader::cancel, this); rv != 0) {
            a->set_outcome(rv, 0);
            complete = true;
        } else {
            user_ = a;
            complete = serve();
            if (complete) {
                user_ = nullptr;
            }
        }
    }
    if (complete) {
        a->complete(false); // inside the initiating call: posted
    }
}

bool body_reader::serve() {
    nng_iov& v = user_->iov()[0];
    if (done_) {
        user_->set_outcome(0, 0);
        return true;
    }
    switch (kind_) {
    case body_kind::none:
        user_->set_outcome(0, 0);
        return true;
    case body_kind::length:
    case body_kind::until_close: {
        std::size_t want = v.iov_len;
        if (kind_ == body_kind::length && want > remaining_) {
            want = static_cast<std::size_t>(remaining_);
        }
        nng_iov iov{v.iov_buf, want};
        (void)inner_.set_iov(1, &iov);
        raw_pending_ = false;
        c_->read(&inner_);
        return false;
    }
    case body_kind::chunked:
        break;
    }
    for (;;) {
        if (plen_ > 0) {
            std::size_t n = std::min(plen_, v.iov_len);
            std::memcpy(v.iov_buf, pdata_, n);
            pdata_ += n;
            plen_ -= n;
            user_->set_outcome(0, n);
            return true;
        }
        chunk_result r = chunks_.decode(std::string_view(buf_.get() + used_, have_ - used_));
        used_ += r.consumed;
        switch (r.status) {
        case chunk_status::data:
            pdata_ = r.data.data();
            plen_ = r.data.size();
            continue;
        case chunk_status::done:
            done_ = true;
            if (c_->put_back(std::string_view(buf_.get() + used_, have_ - used_)) != 0) {
                c_->close();
            }
            used_ = have_ = 0;
            user_->set_outcome(0, 0);
            return true;
        case chunk_status::error:
            c_->close();
            user_->set_outcome(NNG_EPROTO, 0);
            return true;
        case chunk_status::need_more:
            raw_read();
            return false;
        }
    }
}

// More raw chunked bytes behind the undecoded ones.
void body_reader::raw_read() {
    if (!buf_) {
        buf_.reset(new char[buf_size]);
    }
    if (used_ > 0) {
        std::memmove(buf_.get(), buf_.get() + used_, have_ - used_);
        have_ -= used_;
        used_ = 0;
    }
    // A size line longer than the buffer cannot be decoded (the decoder
    // refuses lines past 4 KiB before that).
    nng_iov iov{buf_.get() + have_, buf_size - have_};
    (void)inner_.set_iov(1, &iov);
    raw_pending_ = true;
    c_->read(&inner_);
}

void body_reader::cancel(aio* a, void* arg, int err) {
    auto* r = static_cast<body_reader*>(arg);
    {
        std::lock_guard lk(r->mtx_);
        if (r->user_ != a) {
            return;
        }
    }
    r->inner_.abort(err);
}

void body_reader::inner_cb(void* arg) {
    auto* r = static_cast<body_reader*>(arg);
    aio* done = nullptr;
    {
        std::lock_guard lk(r->mtx_);
        aio* u = r->user_;
        int rv = r->inner_.result();
        std::size_t n = r->inner_.count();
        bool complete = true;
        if (rv == NNG_ECONNSHUT && r->kind_ == body_kind::until_close) {
            r->done_ = true;
            u->set_outcome(0, 0);
        } else if (rv != 0) {
            r->c_->close();
            u->set_outcome(rv, 0);
        } else if (r->raw_pending_) {
            r->have_ += n;
            complete = r->serve();
        } else {
            if (r->kind_ == body_kind::length) {
                r->remaining_ -= n;
                r->done_ = r->remaining_ == 0;
            }
            u->set_outcome(0, n);
        }
        if (complete) {
            r->user_ = nullptr;
            done = u;
        }
    }
    if (done != nullptr) {
        done->complete(true); // a loop thread, not the initiating call
    }
}

} // namespace nnghttp::detail::http
