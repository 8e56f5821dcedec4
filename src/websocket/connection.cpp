#include "websocket/connection.hpp"

#include "core/executor.hpp"
#include "websocket/close.hpp"
#include "websocket/connection_impl.hpp"
#include "websocket/encoder.hpp"

#include <algorithm>
#include <array>
#include <asio/post.hpp>
#include <cstring>

namespace nnghttp::detail::ws {

using namespace conn_impl;

namespace {

// The decoder's limits; with permessage-deflate, RSV1 on the first frame
// of a message (RFC 7692 section 6).  Frame and message sizes on the wire
// are checked by the decoder, inflated sizes by the inflater.
decoder_options decoder_limits(const settings& cfg) {
    decoder_options o = cfg.limits;
    if (cfg.deflate) {
        o.rsv_first = rsv1;
        // The limits are on what the application gets: a compressed frame
        // of incompressible data is longer than its message (zlib's
        // deflateBound allows about 14% more for small windows and memory
        // levels), so the wire may carry a quarter more; the inflater and
        // take_payload_locked() apply the limits themselves to every
        // message, compressed or not.
        auto room = [](std::uint64_t limit) {
            if (limit == decoder_options::unlimited) {
                return limit;
            }
            std::uint64_t more = limit / 4 + 1024;
            return limit > decoder_options::unlimited - more ? decoder_options::unlimited
                                                             : limit + more;
        };
        o.max_frame = room(o.max_frame);
        o.max_message = room(o.max_message);
    }
    return o;
}

} // namespace

connection::connection(ref_ptr<stream> s, std::string leftover, const settings& cfg)
    : stream_(std::move(s)), cfg_(cfg), dec_(cfg.side, decoder_limits(cfg)),
      rd_aio_(&connection::rd_cb, this) {
    executor& ex = executor::global();
    asio::io_context* ctx = stream_->home();
    home_ = ctx != nullptr ? &ex.loop_of(*ctx) : &ex.next();
    rd_aio_.set_timeout(NNG_DURATION_INFINITE);
    if (cfg_.send_frame == 0) {
        cfg_.send_frame = 65536;
    }
    if (cfg_.close_timeout <= 0) {
        cfg_.close_timeout = 5000; // the closing handshake is always bounded
    }
    if (cfg_.deflate) {
        defl_ = std::make_unique<deflater>(cfg_.deflate->outgoing(cfg_.side), cfg_.deflate_level,
                                           cfg_.deflate_mem_level);
        infl_ = std::make_unique<inflater>(cfg_.deflate->incoming(cfg_.side),
                                           cfg_.limits.max_message);
    }
    if (!leftover.empty()) {
        rcap_ = std::max(initial_rbuf, leftover.size());
        rbuf_.reset(new char[rcap_]);
        std::memcpy(rbuf_.get(), leftover.data(), leftover.size());
        rput_ = leftover.size();
    }
}

connection::~connection() {
    if (stream_) {
        stream_->close();
    }
    rd_aio_.stop();
    if (wr_aio_) {
        wr_aio_->stop();
    }
    if (timer_) {
        timer_->stop();
    }
    if (ka_timer_) {
        ka_timer_->stop();
    }
}

// The last reference may go inside one of our own callbacks, whose aios
// the destructor waits for: delete on an event loop instead.
void connection::destroy() noexcept {
    asio::post(executor::global().current_or_next().context(), [this] { delete this; });
}

// ---- public operations ----

void connection::recv_message(aio* a, message* out) {
    if (!a->begin()) {
        return;
    }
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(mtx_);
        if (user_ended_) {
            a->set_outcome(closed_err_, 0);
            done.push_back(a);
        } else if (phase_ == phase::done || close_received_ || failed_) {
            a->set_outcome(failed_ && fail_err_ != 0 ? fail_err_ : closed_err_, 0);
            fail_err_ = 0; // the failure is reported once
            done.push_back(a);
        } else if (int rv = a->schedule(&connection::cancel_rd, this, this); rv != 0) {
            a->set_outcome(rv, 0);
            done.push_back(a);
        } else {
            a->prov_tag = tag_message;
            a->prov_ptr = out;
            rq_.push_back(a);
            pump_locked(done);
        }
        close_stream = std::exchange(stream_close_pending_, false);
    }
    after_unlock(done, close_stream, false);
}

void connection::recv_bytes(aio* a) {
    if (!a->begin()) {
        return;
    }
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(mtx_);
        if (a->iov_residual() == 0) {
            a->set_outcome(NNG_EINVAL, 0);
            done.push_back(a);
        } else if (user_ended_) {
            a->set_outcome(closed_err_, 0);
            done.push_back(a);
        } else if (phase_ == phase::done || close_received_ || failed_) {
            a->set_outcome(failed_ && fail_err_ != 0 ? fail_err_ : closed_err_, 0);
            fail_err_ = 0;
            done.push_back(a);
        } else if (int rv = a->schedule(&connection::cancel_rd, this, this); rv != 0) {
            a->set_outcome(rv, 0);
            done.push_back(a);
        } else {
            a->prov_tag = tag_bytes;
            a->prov_ptr = nullptr;
            a->set_outcome(0, 0);
            rq_.push_back(a);
            pump_locked(done);
        }
        close_stream = std::exchange(stream_close_pending_, false);
    }
    after_unlock(done, close_stream, false);
}

void connection::send_message(aio* a, bool text, std::size_t limit) {
    // (prov_ptr has no other use for a send: it carries the limit.)
    submit_send(a, tag_send_ref | (text ? tag_text : 0), reinterpret_cast<void*>(limit));
}

void connection::send_owned(aio* a, std::string* data, bool text) {
    submit_send(a, tag_send_owned | (text ? tag_text : 0), data);
}

// A send: into wq_ if it has room, else to wait in sendwait_
// (admit_waiting_locked lets it in later).
void connection::submit_send(aio* a, std::uintptr_t tag, void* ptr) {
    if (!a->begin()) {
        return;
    }
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(mtx_);
        if (phase_ != phase::open || close_queued_) {
            a->set_outcome(closed_err_, 0);
            done.push_back(a);
        } else if (int rv = a->schedule(&connection::cancel_wr, this, this); rv != 0) {
            a->set_outcome(rv, 0);
            done.push_back(a);
        } else {
            a->prov_tag = tag;
            a->prov_ptr = ptr;
            if (sendwait_.empty() && fits_locked(send_size(a))) {
                admit_locked(a, done);
                write_start_locked(done);
            } else {
                sendwait_.push_back(a);
            }
        }
        close_stream = std::exchange(stream_close_pending_, false);
    }
    after_unlock(done, close_stream, false);
}

std::size_t connection::queued_bytes() const {
    std::lock_guard lk(mtx_);
    return queued_bytes_;
}

// The payload bytes of a send that submit_send() tagged.
std::size_t connection::send_size(const aio* a) {
    if ((a->prov_tag & tag_send_owned) != 0) {
        return static_cast<const std::string*>(a->prov_ptr)->size();
    }
    const auto limit = reinterpret_cast<std::size_t>(a->prov_ptr);
    return limit > 0 ? std::min(limit, a->iov_residual()) : a->iov_residual();
}

// Whether n more bytes fit in wq_ (a message larger than the bound goes
// in when the queue is empty).
bool connection::fits_locked(std::size_t n) const {
    return cfg_.max_send_queue == 0 || queued_bytes_ == 0 || queued_bytes_ + n <= cfg_.max_send_queue;
}

// Puts the send a into wq_.  A message taken over is done at once.
void connection::admit_locked(aio* a, aio_list& done) {
    out_item it;
    it.op = (a->prov_tag & tag_text) != 0 ? opcode::text : opcode::binary;
    if ((a->prov_tag & tag_send_owned) != 0) {
        auto* data = static_cast<std::string*>(a->prov_ptr);
        it.kept = std::make_unique<std::string>(std::move(*data));
        it.iov[0] = nng_iov{it.kept->data(), it.kept->size()};
        it.niov = 1;
        it.total = it.kept->size();
        a->set_outcome(0, it.total);
        done.push_back(a);
        (void)compress_locked(it);
    } else {
        it.user = a;
        const auto limit = reinterpret_cast<std::size_t>(a->prov_ptr);
        for (unsigned i = 0; i < a->iov_count(); i++) {
            nng_iov v = a->iov()[i];
            if (limit > 0) {
                if (it.total == limit) {
                    break;
                }
                v.iov_len = std::min(v.iov_len, limit - it.total);
            }
            it.iov[it.niov++] = v;
            it.total += v.iov_len;
        }
        (void)compress_locked(it);
    }
    queued_bytes_ += it.total;
    wq_.push_back(std::move(it));
}

// With permessage-deflate, replaces a message of at least deflate_min
// bytes by its compressed form (sent with RSV1).  False if it stays as it
// is (too short, or zlib failed: sending it plain is always allowed).
bool connection::compress_locked(out_item& it) {
    if (!defl_ || it.total < cfg_.deflate_min) {
        return false;
    }
    std::array<std::string_view, aio::max_iov> pieces{};
    for (unsigned i = 0; i < it.niov; i++) {
        pieces[i] = std::string_view(static_cast<const char*>(it.iov[i].iov_buf), it.iov[i].iov_len);
    }
    auto out = std::make_unique<std::string>();
    if (!defl_->compress(std::span<const std::string_view>(pieces.data(), it.niov), *out)) {
        return false;
    }
    it.reported = it.total;
    it.kept = std::move(out);
    it.iov = {};
    it.iov[0] = nng_iov{it.kept->data(), it.kept->size()};
    it.niov = 1;
    it.total = it.kept->size();
    it.compressed = true;
    return true;
}

// Lets in the waiting sends that fit now, in order.
void connection::admit_waiting_locked(aio_list& done) {
    while (aio* a = sendwait_.front()) {
        if (!fits_locked(send_size(a))) {
            return;
        }
        sendwait_.pop_front();
        admit_locked(a, done);
    }
}

void connection::fail_waiting_locked(int err, aio_list& done) {
    while (aio* a = sendwait_.pop_front()) {
        a->set_outcome(err, 0);
        done.push_back(a);
    }
}

void connection::ping(aio* a, std::string_view payload) {
    if (!a->begin()) {
        return;
    }
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(mtx_);
        if (payload.size() > max_control_payload) {
            a->set_outcome(NNG_EINVAL, 0);
            done.push_back(a);
        } else if (phase_ != phase::open || close_queued_) {
            a->set_outcome(closed_err_, 0);
            done.push_back(a);
        } else if (int rv = a->schedule(&connection::cancel_wr, this, this); rv != 0) {
            a->set_outcome(rv, 0);
            done.push_back(a);
        } else {
            out_item it;
            it.user = a;
            it.op = opcode::ping;
            it.own.assign(payload);
            it.total = payload.size();
            ctlq_.push_back(std::move(it));
            write_start_locked(done);
        }
        close_stream = std::exchange(stream_close_pending_, false);
    }
    after_unlock(done, close_stream, false);
}

int connection::close(std::uint16_t code, std::string_view reason, aio* a) {
    std::string payload;
    if (code != 0) {
        if (!is_valid_close_code(code) || reason.size() > max_close_reason) {
            return NNG_EINVAL;
        }
        std::string frame;
        if (!append_close(frame, code, reason)) {
            return NNG_EINVAL; // a reason that is not UTF-8
        }
        payload.push_back(char(code >> 8));
        payload.push_back(char(code & 0xff));
        payload.append(reason);
    } else if (!reason.empty()) {
        return NNG_EINVAL;
    }
    if (a != nullptr && !a->begin()) {
        a = nullptr;
    }
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(mtx_);
        if (a != nullptr) {
            if (phase_ == phase::done) {
                a->set_outcome(0, 0);
                done.push_back(a);
                a = nullptr;
            } else if (int rv = a->schedule(&connection::cancel_wait, this, this); rv != 0) {
                a->set_outcome(rv, 0);
                done.push_back(a);
                a = nullptr;
            } else {
                close_waiters_.push_back(a);
            }
        }
        queue_app_close_locked(std::move(payload), done);
        close_stream = std::exchange(stream_close_pending_, false);
    }
    after_unlock(done, close_stream, false);
    return 0;
}

void connection::close_and_end(std::uint16_t code) {
    std::string payload;
    if (code != 0) {
        payload.push_back(char(code >> 8));
        payload.push_back(char(code & 0xff));
    }
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(mtx_);
        if (!user_ended_) {
            user_ended_ = true;
            while (aio* a = rq_.pop_front()) {
                if (!(a->prov_tag == tag_bytes && a->count() > 0)) {
                    a->set_outcome(closed_err_, 0);
                }
                done.push_back(a);
            }
            // Sends none of whose bytes has gone: they never will.
            fail_waiting_locked(closed_err_, done);
            for (auto* q : {&ctlq_, &wq_}) {
                for (auto it = q->begin(); it != q->end();) {
                    if (it->user != nullptr && !it->started) {
                        it->user->set_outcome(closed_err_, 0);
                        done.push_back(it->user);
                        if (q == &wq_) {
                            queued_bytes_ -= it->total;
                        }
                        it = q->erase(it);
                    } else {
                        ++it;
                    }
                }
            }
        }
        queue_app_close_locked(std::move(payload), done);
        close_stream = std::exchange(stream_close_pending_, false);
    }
    after_unlock(done, close_stream, false);
}

// The application's close frame, behind the messages already queued
// (once: a later close only waits).
void connection::queue_app_close_locked(std::string payload, aio_list& done) {
    if (phase_ != phase::open || close_queued_) {
        return;
    }
    close_queued_ = true;
    start_timer_locked(); // bounds a close frame stuck behind a stalled write too
    out_item it;
    it.op = opcode::close;
    it.own = std::move(payload);
    it.total = it.own.size();
    it.is_close = true;
    wq_.push_back(std::move(it));
    write_start_locked(done);
}

void connection::abort() {
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(mtx_);
        if (peer_code_ == 0) {
            peer_code_ = close_abnormal;
        }
        shut_locked(done);
        close_stream = std::exchange(stream_close_pending_, false);
    }
    after_unlock(done, close_stream, false);
}

void connection::set_closed_error(int err) {
    std::lock_guard lk(mtx_);
    closed_err_ = err;
}

std::uint16_t connection::peer_close_code() const {
    std::lock_guard lk(mtx_);
    return peer_code_;
}

std::string connection::peer_close_reason() const {
    std::lock_guard lk(mtx_);
    return peer_reason_;
}

bool connection::closed() const {
    std::lock_guard lk(mtx_);
    return phase_ == phase::done;
}

bool connection::open() const {
    std::lock_guard lk(mtx_);
    return phase_ == phase::open && !close_queued_ && !close_received_ && !failed_;
}

// After the lock is released: closes the stream if the locked part asked
// for it (its completions take our lock), then completes done (in place
// when sync: from the connection's own callbacks on its loop).
void connection::after_unlock(aio_list& done, bool close_stream, bool sync) {
    if (close_stream) {
        stream_->close();
    }
    while (aio* a = done.pop_front()) {
        a->complete(sync, home_);
    }
}

// ---- ending ----

void connection::fail_all_locked(int err, aio_list& done) {
    while (aio* a = rq_.pop_front()) {
        if (a->prov_tag == tag_bytes && a->count() > 0) {
            done.push_back(a);
            continue;
        }
        a->set_outcome(err, 0);
        done.push_back(a);
    }
    // Sends fail, except those the write in flight reads from (its
    // completion fails them).
    for (auto* q : {&ctlq_, &wq_}) {
        for (out_item& it : *q) {
            if (it.user != nullptr && !(writing_ && it.started)) {
                it.user->set_outcome(it.err != 0 ? it.err : closed_err_, 0);
                done.push_back(it.user);
                it.user = nullptr;
            }
        }
    }
    fail_waiting_locked(err, done);
    if (!writing_) {
        ctlq_.clear();
        wq_.clear();
        queued_bytes_ = 0;
    }
}

// Closes the stream (by the caller, after unlocking) and ends everything.
void connection::set_end_hook(std::function<void()> f) {
    std::lock_guard lk(mtx_);
    if (phase_ == phase::done) {
        asio::post(home_->context(), std::move(f));
        return;
    }
    on_end_ = std::make_unique<std::function<void()>>(std::move(f));
}

void connection::shut_locked(aio_list& done) {
    if (phase_ == phase::done) {
        return;
    }
    phase_ = phase::done;
    if (on_end_) {
        asio::post(home_->context(), std::move(*on_end_));
        on_end_.reset();
    }
    stream_close_pending_ = true;
    fail_all_locked(failed_ && fail_err_ != 0 ? fail_err_ : closed_err_, done);
    while (aio* a = close_waiters_.pop_front()) {
        a->set_outcome(0, 0);
        done.push_back(a);
    }
    if (timer_running_) {
        timer_->abort(NNG_ECLOSED);
    }
    if (ka_running_) {
        ka_timer_->abort(NNG_ECLOSED);
    }
}

} // namespace nnghttp::detail::ws
