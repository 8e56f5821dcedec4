#include "http/conn.hpp"

#include "core/executor.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <cstring>

namespace nnghttp::detail::http {

namespace {

constexpr std::size_t initial_buffer = 16 * 1024;

} // namespace

conn::conn(ref_ptr<stream> s, parser_options opts)
    : stream_(std::move(s)), rd_aio_(&conn::rd_cb, this), req_parser_(message_kind::request, opts),
      res_parser_(message_kind::response, opts), wr_aio_(&conn::wr_cb, this) {
    home_ = stream_ ? home_loop_of(*stream_) : &executor::global().next();
    // The stream's own timeouts do not apply: the user's aios carry theirs.
    rd_aio_.set_timeout(NNG_DURATION_INFINITE);
    wr_aio_.set_timeout(NNG_DURATION_INFINITE);
}

conn::~conn() {
    if (stream_) {
        stream_->close();
    }
    rd_aio_.stop();
    wr_aio_.stop();
}

// The last reference may be dropped inside rd_cb or wr_cb, whose aios the
// destructor waits for: destroy on an event loop instead.
void conn::destroy() noexcept {
    asio::post(executor::global().current_or_next().context(), [this] { delete this; });
}

// ---- public operations ----

void conn::read(aio* a) {
    submit(a, op::read, nullptr);
}
void conn::read_all(aio* a) {
    submit(a, op::read_all, nullptr);
}
void conn::read_req(request& req, aio* a) {
    submit(a, op::read_req, &req);
}
void conn::read_res(response& res, aio* a) {
    submit(a, op::read_res, &res);
}
void conn::write(aio* a) {
    submit(a, op::write, nullptr);
}
void conn::write_all(aio* a) {
    submit(a, op::write_all, nullptr);
}
void conn::write_req(request& req, aio* a) {
    submit(a, op::write_req, &req);
}
void conn::write_res(response& res, aio* a) {
    submit(a, op::write_res, &res);
}
void conn::write_last_res(response& res, aio* a) {
    submit(a, op::write_last_res, &res);
}

void conn::write_file(file_span& f, aio* a) {
    submit(a, op::write_file, &f);
}

ref_ptr<stream> conn::detach() {
    std::lock_guard lk(mtx_);
    if (closed_ || read_broken_ || hijacked() || rd_uaio_ != nullptr || wr_uaio_ != nullptr ||
        !rdq_.empty() || !wrq_.empty() || rput_ != rget_) {
        return {};
    }
    rget_ = rput_ = 0;
    return std::move(stream_);
}

ref_ptr<stream> conn::take_stream(std::string& rest) {
    std::lock_guard lk(mtx_);
    if (closed_ || !stream_ || rd_uaio_ != nullptr || wr_uaio_ != nullptr || !rdq_.empty() ||
        !wrq_.empty()) {
        return {};
    }
    rest.append(rbuf_.get() + rget_, rput_ - rget_);
    rget_ = rput_ = 0;
    closed_ = true;
    return std::move(stream_);
}

void conn::attach(ref_ptr<stream> s) {
    std::lock_guard lk(mtx_);
    stream_ = std::move(s);
    home_ = home_loop_of(*stream_);
    parse_error_ = parse_error::none;
    body_kind_ = body_kind::none;
    content_length_ = -1;
    req_parser_.reset();
    res_parser_.reset();
}

void conn::drop_buffer() {
    std::lock_guard lk(mtx_);
    if (rd_uaio_ == nullptr && rdq_.empty() && rput_ == rget_) {
        rbuf_.reset();
        rcap_ = rget_ = rput_ = 0;
    }
}

void conn::set_progress_timeouts(nng_duration rd, nng_duration wr) {
    std::lock_guard lk(mtx_);
    rd_aio_.set_timeout(rd);
    wr_aio_.set_timeout(wr);
}

void conn::discard_input() {
    std::lock_guard lk(mtx_);
    if (rd_uaio_ == nullptr && rdq_.empty()) {
        rget_ = rput_ = 0;
        read_broken_ = false;
    }
}

void conn::close() {
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(mtx_);
        close_locked(done);
        close_stream = std::exchange(stream_close_pending_, false);
    }
    if (close_stream && stream_) {
        stream_->close();
    }
    complete_all(done, false);
}

parse_error conn::last_parse_error() const {
    std::lock_guard lk(mtx_);
    return parse_error_;
}

body_kind conn::last_body_kind() const {
    std::lock_guard lk(mtx_);
    return body_kind_;
}

std::int64_t conn::last_content_length() const {
    std::lock_guard lk(mtx_);
    return content_length_;
}

void conn::set_head_request(bool head) {
    std::lock_guard lk(mtx_);
    res_parser_.set_head_request(head);
}

std::size_t conn::buffered() const {
    std::lock_guard lk(mtx_);
    return rput_ - rget_;
}

int conn::put_back(std::string_view bytes) {
    std::lock_guard lk(mtx_);
    if (rd_uaio_ != nullptr || !rdq_.empty()) {
        return NNG_EBUSY;
    }
    if (bytes.empty()) {
        return 0;
    }
    std::size_t have = rput_ - rget_;
    std::size_t need = have + bytes.size();
    if (rget_ >= bytes.size()) {
        rget_ -= bytes.size(); // room in front: no move
    } else if (rcap_ >= need) {
        // Room in the buffer: slide what is there behind the new bytes.
        if (have > 0) {
            std::memmove(rbuf_.get() + bytes.size(), rbuf_.get() + rget_, have);
        }
        rget_ = 0;
        rput_ = need;
    } else {
        std::size_t ncap = std::max(need, rcap_ == 0 ? initial_buffer : rcap_);
        std::unique_ptr<char[]> nbuf(new (std::nothrow) char[ncap]);
        if (!nbuf) {
            return NNG_ENOMEM;
        }
        if (have > 0) {
            std::memcpy(nbuf.get() + bytes.size(), rbuf_.get() + rget_, have);
        }
        rbuf_ = std::move(nbuf);
        rcap_ = ncap;
        rget_ = 0;
        rput_ = need;
    }
    std::memcpy(rbuf_.get() + rget_, bytes.data(), bytes.size());
    return 0;
}

// ---- shared machinery ----

void conn::finish_locked(aio* a, int rv, aio_list& done) {
    a->set_outcome(rv, a->count());
    done.push_back(a);
}

void conn::complete_all(aio_list& done, bool sync) {
    while (aio* a = done.pop_front()) {
        a->complete(sync, home_);
    }
}

// The stream's event loop; for a stream without one (TLS), one picked now.
loop* conn::home_loop_of(stream& s) {
    executor& ex = executor::global();
    asio::io_context* ctx = s.home();
    return ctx != nullptr ? &ex.loop_of(*ctx) : &ex.next();
}

// Fails everything queued or in progress with NNG_ECLOSED.  The stream is
// closed by the caller after unlocking (its completions take our lock).
void conn::close_locked(aio_list& done) {
    if (closed_) {
        return;
    }
    closed_ = true;
    stream_close_pending_ = true;
    if (aio* a = std::exchange(rd_uaio_, nullptr)) {
        finish_locked(a, NNG_ECLOSED, done);
    }
    if (aio* a = std::exchange(wr_uaio_, nullptr)) {
        finish_locked(a, NNG_ECLOSED, done);
    }
    while (aio* a = rdq_.pop_front()) {
        finish_locked(a, NNG_ECLOSED, done);
    }
    while (aio* a = wrq_.pop_front()) {
        finish_locked(a, NNG_ECLOSED, done);
    }
}

void conn::submit(aio* a, op kind, void* msg) {
    if (!a->begin()) {
        return;
    }
    // The operation may complete on another thread, whose callback may
    // drop the caller's reference, before this call is done with the conn.
    ref_ptr<conn> hold(this);
    bool raw =
        kind == op::read || kind == op::read_all || kind == op::write || kind == op::write_all;
    if (raw && a->iov_count() == 0) {
        a->finish(NNG_EINVAL, 0);
        return;
    }
    bool reading =
        kind == op::read || kind == op::read_all || kind == op::read_req || kind == op::read_res;
    aio_list done;
    {
        std::lock_guard lk(mtx_);
        if (closed_ || !stream_) {
            a->set_outcome(NNG_ECLOSED, 0);
            done.push_back(a);
        } else if (int rv = a->schedule(reading ? &conn::cancel_rd : &conn::cancel_wr, this, this);
                   rv != 0) {
            a->set_outcome(rv, 0);
            done.push_back(a);
        } else {
            a->prov_tag = static_cast<std::uintptr_t>(kind);
            a->prov_ptr = msg;
            if (reading) {
                rdq_.push_back(a);
                if (rd_uaio_ == nullptr) {
                    read_start(done);
                }
            } else {
                wrq_.push_back(a);
                if (wr_uaio_ == nullptr) {
                    write_start(done);
                }
            }
        }
    }
    complete_all(done, false);
}

// ---- reading ----

// Serves queued reads until one needs bytes from the stream (a receive is
// then in flight) or the queue is empty.
void conn::read_start(aio_list& done) {
    for (;;) {
        if (rd_uaio_ == nullptr) {
            rd_uaio_ = rdq_.pop_front();
            if (rd_uaio_ == nullptr) {
                return;
            }
        }
        aio* a = rd_uaio_;
        int rv = closed_ ? NNG_ECLOSED : read_broken_ ? NNG_EPROTO : read_step(a);
        if (rv == NNG_EAGAIN) {
            return;
        }
        rd_uaio_ = nullptr;
        finish_locked(a, rv, done);
        if (rv != 0) {
            if ((rv == NNG_EPROTO || rv == NNG_EMSGSIZE) && answer_bad_heads_) {
                // Keep the write side for the server's error response; no
                // further reads make sense on this stream.
                read_broken_ = true;
                while (aio* q = rdq_.pop_front()) {
                    finish_locked(q, NNG_ECLOSED, done);
                }
                return;
            }
            close_locked(done);
            return;
        }
    }
}

// One step of the current read: 0 when it is complete, NNG_EAGAIN when a
// receive was started, else an error.
int conn::read_step(aio* a) {
    auto kind = static_cast<op>(a->prov_tag);
    if (kind == op::read_req || kind == op::read_res) {
        int rv = parse_step(a, kind);
        if (rv != NNG_EAGAIN) {
            return rv;
        }
        // Make room for more of the head: move it to the front, then grow.
        if (rput_ == rcap_) {
            if (rget_ > 0) {
                std::memmove(rbuf_.get(), rbuf_.get() + rget_, rput_ - rget_);
                rput_ -= rget_;
                rget_ = 0;
            } else {
                std::size_t ncap = rcap_ == 0 ? initial_buffer : rcap_ * 2;
                std::unique_ptr<char[]> nbuf(new (std::nothrow) char[ncap]);
                if (!nbuf) {
                    return NNG_ENOMEM;
                }
                if (rput_ > 0) {
                    std::memcpy(nbuf.get(), rbuf_.get(), rput_);
                }
                rbuf_ = std::move(nbuf);
                rcap_ = ncap;
            }
        }
        nng_iov iov{rbuf_.get() + rput_, rcap_ - rput_};
        (void)rd_aio_.set_iov(1, &iov);
        rd_to_user_ = false;
    } else {
        // Bytes already buffered go first.
        std::size_t avail = rput_ - rget_;
        while (avail > 0 && a->iov_count() > 0) {
            nng_iov& v = a->iov()[0];
            std::size_t n = std::min(avail, v.iov_len);
            std::memcpy(v.iov_buf, rbuf_.get() + rget_, n);
            rget_ += n;
            avail -= n;
            a->iov_advance(n);
            a->bump_count(n);
        }
        if (avail == 0) {
            rget_ = rput_ = 0;
        }
        if (a->iov_residual() == 0 || (kind == op::read && a->count() > 0)) {
            return 0;
        }
        // Then straight from the stream into the caller's memory.
        (void)rd_aio_.set_iov(a->iov_count(), a->iov());
        rd_to_user_ = true;
    }
    add_ref(); // for rd_cb
    stream_->recv(&rd_aio_);
    return NNG_EAGAIN;
}

// Parses the buffered bytes as a message head.
int conn::parse_step(aio* a, op kind) {
    head_parser& p = kind == op::read_req ? req_parser_ : res_parser_;
    std::string_view buf(rbuf_.get() + rget_, rput_ - rget_);
    parse_result r = p.parse(buf);
    if (r.status == parse_status::need_more) {
        return NNG_EAGAIN;
    }
    if (r.status == parse_status::error) {
        parse_error_ = r.error;
        int status = http_status(r.error);
        return (status == 414 || status == 431) ? NNG_EMSGSIZE : NNG_EPROTO;
    }
    const message_head& h = p.head();
    try {
        message* m;
        if (kind == op::read_req) {
            auto* req = static_cast<request*>(a->prov_ptr);
            req->set_method(h.method);
            req->set_uri(h.target);
            m = req;
        } else {
            auto* res = static_cast<response*>(a->prov_ptr);
            res->set_status(static_cast<std::uint16_t>(h.status));
            res->set_reason(h.reason);
            m = res;
        }
        m->set_version(h.version);
        for (const header_field& f : h.fields) {
            m->headers().add(f.name, f.value); // repeated fields fold, as NNG
        }
    } catch (const std::bad_alloc&) {
        return NNG_ENOMEM;
    }
    parse_error_ = parse_error::none;
    body_kind_ = h.body;
    content_length_ = h.content_length;
    rget_ += r.length;
    if (rget_ == rput_) {
        rget_ = rput_ = 0;
    }
    p.reset();
    return 0;
}

void conn::rd_cb(void* arg) {
    auto* c = static_cast<conn*>(arg);
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(c->mtx_);
        int rv = c->rd_aio_.result();
        std::size_t n = c->rd_aio_.count();
        aio* a = c->rd_uaio_;
        if (rv != 0) {
            if (a != nullptr) {
                c->rd_uaio_ = nullptr;
                c->finish_locked(a, rv, done);
            }
            c->close_locked(done);
        } else if (c->rd_to_user_) {
            if (a == nullptr) {
                // The read was canceled while bytes were landing in its
                // memory: the stream's position is lost.
                c->close_locked(done);
            } else {
                a->iov_advance(n);
                a->bump_count(n);
                c->read_start(done);
            }
        } else {
            c->rput_ += n;
            c->read_start(done);
        }
        close_stream = std::exchange(c->stream_close_pending_, false);
    }
    if (close_stream) {
        c->stream_->close();
    }
    c->complete_all(done, true);
    c->release();
}

void conn::cancel_rd(aio* a, void* arg, int err) {
    auto* c = static_cast<conn*>(arg);
    aio_list done;
    bool abort_io = false;
    bool close_stream = false;
    {
        std::lock_guard lk(c->mtx_);
        if (a == c->rd_uaio_) {
            // The stream operation underneath is still running and leaves
            // the byte stream at an unknown point: the connection closes
            // (the next operation must not reuse the busy internal aio).
            c->rd_uaio_ = nullptr;
            c->finish_locked(a, err, done);
            c->close_locked(done);
            abort_io = true;
            close_stream = std::exchange(c->stream_close_pending_, false);
        } else if (c->rdq_.remove(a)) {
            c->finish_locked(a, err, done);
        }
    }
    if (abort_io) {
        c->rd_aio_.abort(err);
    }
    if (close_stream) {
        c->stream_->close();
    }
    c->complete_all(done, false);
}

// ---- writing ----

void conn::write_start(aio_list& done) {
    while (wr_uaio_ == nullptr && !closed_) {
        aio* a = wrq_.pop_front();
        if (a == nullptr) {
            return;
        }
        auto kind = static_cast<op>(a->prov_tag);
        if (kind == op::write_file) {
            auto* f = static_cast<file_span*>(a->prov_ptr);
            if (f->length == 0) {
                finish_locked(a, 0, done);
                continue;
            }
            wr_uaio_ = a;
            add_ref(); // for wr_cb
            stream_->send_file(&wr_aio_, *f);
            continue;
        }
        if (kind == op::write || kind == op::write_all) {
            (void)wr_aio_.set_iov(a->iov_count(), a->iov());
        } else {
            const message* m;
            try {
                whead_.clear();
                if (kind == op::write_req) {
                    auto* req = static_cast<request*>(a->prov_ptr);
                    if (!req->has_uri()) {
                        // Nothing to put in the request line (NNG: EINVAL);
                        // nothing was sent, so the connection goes on.
                        finish_locked(a, NNG_EINVAL, done);
                        continue;
                    }
                    append_head(whead_, *req);
                    m = req;
                } else {
                    auto* res = static_cast<response*>(a->prov_ptr);
                    append_head(whead_, *res);
                    m = res;
                }
            } catch (const std::bad_alloc&) {
                finish_locked(a, NNG_ENOMEM, done);
                continue;
            }
            nng_iov iov[2];
            unsigned n = 0;
            iov[n++] = {whead_.data(), whead_.size()};
            if (m->body().size() > 0) {
                iov[n++] = {m->body().data(), m->body().size()};
            }
            (void)wr_aio_.set_iov(n, iov);
        }
        if (kind == op::write_last_res) {
            stream_->last_send(); // before either way of sending it
        }
        // Most writes fit in the socket's buffer: sent here, they need no
        // round trip through wr_aio_ and its callback (which, from a thread
        // that is no event loop's, costs a wake-up of the stream's loop).
        std::size_t sent = 0;
        if (stream_->try_send(wr_aio_.iov(), wr_aio_.iov_count(), sent)) {
            a->bump_count(sent);
            wr_aio_.iov_advance(sent);
            if (wr_aio_.iov_residual() == 0 || (kind == op::write && sent > 0)) {
                finish_locked(a, 0, done);
                continue;
            }
        }
        wr_uaio_ = a;
        add_ref(); // for wr_cb
        stream_->send(&wr_aio_);
    }
}

void conn::wr_cb(void* arg) {
    auto* c = static_cast<conn*>(arg);
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(c->mtx_);
        int rv = c->wr_aio_.result();
        std::size_t n = c->wr_aio_.count();
        aio* a = c->wr_uaio_;
        if (rv != 0 || a == nullptr) {
            // An error, or a write canceled part way: the peer has seen an
            // unknown part of it, so the connection cannot go on.
            if (a != nullptr) {
                c->wr_uaio_ = nullptr;
                c->finish_locked(a, rv, done);
            }
            c->close_locked(done);
        } else if (static_cast<op>(a->prov_tag) == op::write_file) {
            auto* f = static_cast<file_span*>(a->prov_ptr);
            a->bump_count(n);
            f->offset += n;
            f->length -= std::min<std::uint64_t>(n, f->length);
            if (f->length > 0) {
                c->add_ref();
                c->stream_->send_file(&c->wr_aio_, *f);
            } else {
                c->wr_uaio_ = nullptr;
                c->finish_locked(a, 0, done);
                c->write_start(done);
            }
        } else {
            a->bump_count(n);
            c->wr_aio_.iov_advance(n);
            if (static_cast<op>(a->prov_tag) != op::write && c->wr_aio_.iov_residual() > 0) {
                c->add_ref();
                c->stream_->send(&c->wr_aio_);
            } else {
                c->wr_uaio_ = nullptr;
                c->finish_locked(a, 0, done);
                c->write_start(done);
            }
        }
        close_stream = std::exchange(c->stream_close_pending_, false);
    }
    if (close_stream) {
        c->stream_->close();
    }
    c->complete_all(done, true);
    c->release();
}

void conn::cancel_wr(aio* a, void* arg, int err) {
    auto* c = static_cast<conn*>(arg);
    aio_list done;
    bool abort_io = false;
    bool close_stream = false;
    {
        std::lock_guard lk(c->mtx_);
        if (a == c->wr_uaio_) {
            // The stream operation underneath is still running and leaves
            // the byte stream at an unknown point: the connection closes
            // (the next operation must not reuse the busy internal aio).
            c->wr_uaio_ = nullptr;
            c->finish_locked(a, err, done);
            c->close_locked(done);
            abort_io = true;
            close_stream = std::exchange(c->stream_close_pending_, false);
        } else if (c->wrq_.remove(a)) {
            c->finish_locked(a, err, done);
        }
    }
    if (abort_io) {
        c->wr_aio_.abort(err);
    }
    if (close_stream) {
        c->stream_->close();
    }
    c->complete_all(done, false);
}

} // namespace nnghttp::detail::http
