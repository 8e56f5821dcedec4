#include "websocket/connection.hpp"

#include "core/executor.hpp"
#include "websocket/close.hpp"
#include "websocket/encoder.hpp"
#include "websocket/mask.hpp"
#include "websocket/random.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <cstring>

namespace nnghttp::detail::ws {

namespace {

// The read buffer starts small (an idle connection keeps it) and grows
// while reads keep filling it.
constexpr std::size_t initial_rbuf = 512;
constexpr std::size_t max_rbuf = 64 * 1024;
// Payloads up to this size are copied next to their header, so that many
// small messages leave in one contiguous write.
constexpr std::size_t inline_payload = 1024;
// A write gathers frames up to this many bytes.
constexpr std::size_t batch_bytes = 256 * 1024;
// Room kept in the write buffer between writes, at most.
constexpr std::size_t max_idle_wbuf = 16 * 1024;
// Pongs waiting to be sent, at most.
constexpr std::size_t max_queued_pongs = 16;

// Which receive an aio in rq_ is (prov_tag).
constexpr std::uintptr_t tag_message = 1;
constexpr std::uintptr_t tag_bytes = 2;
// Which send an aio in sendwait_ is (prov_tag): the caller's bytes or a
// message taken over, and text or binary.
constexpr std::uintptr_t tag_send_ref = 4;
constexpr std::uintptr_t tag_send_owned = 8;
constexpr std::uintptr_t tag_text = 16;

int error_for(frame_error e) {
    return close_code(e) == close_too_big ? NNG_EMSGSIZE : NNG_EPROTO;
}

} // namespace

connection::connection(ref_ptr<stream> s, std::string leftover, const settings& cfg)
    : stream_(std::move(s)), cfg_(cfg), dec_(cfg.side, cfg.limits), rd_aio_(&connection::rd_cb, this) {
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
    if (close_stream) {
        stream_->close();
    }
    complete_all(done);
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
    if (close_stream) {
        stream_->close();
    }
    complete_all(done);
}

void connection::send_message(aio* a, bool text, std::size_t limit) {
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
            a->prov_tag = tag_send_ref | (text ? tag_text : 0);
            a->prov_ptr = reinterpret_cast<void*>(limit); // (no other use for a send)
            if (has_room_locked(limit > 0 ? std::min(limit, a->iov_residual()) : a->iov_residual())) {
                admit_locked(a, done);
                write_start_locked(done);
            } else {
                sendwait_.push_back(a);
            }
        }
        close_stream = std::exchange(stream_close_pending_, false);
    }
    if (close_stream) {
        stream_->close();
    }
    complete_all(done);
}

void connection::send_owned(aio* a, std::string* data, bool text) {
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
            a->prov_tag = tag_send_owned | (text ? tag_text : 0);
            a->prov_ptr = data;
            if (has_room_locked(data->size())) {
                admit_locked(a, done);
                write_start_locked(done);
            } else {
                sendwait_.push_back(a);
            }
        }
        close_stream = std::exchange(stream_close_pending_, false);
    }
    if (close_stream) {
        stream_->close();
    }
    complete_all(done);
}

std::size_t connection::queued_bytes() const {
    std::lock_guard lk(mtx_);
    return queued_bytes_;
}

// Whether a send of n bytes may join wq_ now: nobody waits before it, and
// it fits (or the queue is empty).
bool connection::has_room_locked(std::size_t n) const {
    return sendwait_.empty() && (cfg_.max_send_queue == 0 || queued_bytes_ == 0 ||
                                 queued_bytes_ + n <= cfg_.max_send_queue);
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
    }
    queued_bytes_ += it.total;
    wq_.push_back(std::move(it));
}

// Lets in the waiting sends that fit now, in order.
void connection::admit_waiting_locked(aio_list& done) {
    while (aio* a = sendwait_.front()) {
        std::size_t n = (a->prov_tag & tag_send_owned) != 0
                            ? static_cast<std::string*>(a->prov_ptr)->size()
                            : std::min(a->iov_residual(),
                                       reinterpret_cast<std::size_t>(a->prov_ptr) > 0
                                           ? reinterpret_cast<std::size_t>(a->prov_ptr)
                                           : a->iov_residual());
        if (cfg_.max_send_queue != 0 && queued_bytes_ != 0 &&
            queued_bytes_ + n > cfg_.max_send_queue) {
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
    if (close_stream) {
        stream_->close();
    }
    complete_all(done);
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
    if (close_stream) {
        stream_->close();
    }
    complete_all(done);
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
    if (close_stream) {
        stream_->close();
    }
    complete_all(done);
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
    if (close_stream) {
        stream_->close();
    }
    complete_all(done);
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

void connection::complete_all(aio_list& done) {
    while (aio* a = done.pop_front()) {
        a->complete(false, home_);
    }
}

// ---- reading ----

bool connection::want_input_locked() const {
    switch (phase_) {
    case phase::open:
        return !rq_.empty();
    case phase::closing:
        // Waiting for the peer's close frame (or for our own to go out,
        // after the peer's arrived: then nothing more is read).
        return !close_received_;
    case phase::draining:
        return true;
    case phase::done:
        return false;
    }
    return false;
}

void connection::read_more_locked() {
    if (reading_ || phase_ == phase::done) {
        return;
    }
    if (rget_ == rput_) {
        rget_ = rput_ = 0;
        // Sized by use.  A frame that did not fit in one read raises the
        // size to the next power of two that holds it (so the next frame
        // like it comes in one system call); a read that filled the buffer
        // doubles it (many small frames queued); four reads in a row that
        // used less than an eighth of a grown buffer give it back (idle
        // connections keep the small one).
        std::size_t ncap = rcap_;
        const std::uint64_t frame = dec_.frame_size();
        if (frame > rcap_ && rcap_ < max_rbuf) {
            ncap = std::max(rcap_, initial_rbuf);
            while (ncap < frame && ncap < max_rbuf) {
                ncap *= 2;
            }
            small_reads_ = 0;
        } else if (last_offer_ > 0 && last_read_ == last_offer_ && rcap_ < max_rbuf) {
            ncap = std::min(max_rbuf, rcap_ * 2);
            small_reads_ = 0;
        } else if (rcap_ > initial_rbuf && last_read_ < rcap_ / 8) {
            if (++small_reads_ >= 4) {
                ncap = initial_rbuf;
                small_reads_ = 0;
            }
        } else {
            small_reads_ = 0;
        }
        if (ncap != rcap_) {
            rbuf_.reset(new char[ncap]);
            rcap_ = ncap;
        }
    } else if (rget_ > 0) {
        std::memmove(rbuf_.get(), rbuf_.get() + rget_, rput_ - rget_);
        rput_ -= rget_;
        rget_ = 0;
    }
    if (rput_ == rcap_) {
        std::size_t ncap = rcap_ == 0 ? initial_rbuf : std::min(max_rbuf, rcap_ * 2);
        if (ncap <= rcap_) {
            return; // full of bytes nobody can take yet
        }
        std::unique_ptr<char[]> nbuf(new char[ncap]);
        if (rput_ > 0) {
            std::memcpy(nbuf.get(), rbuf_.get(), rput_);
        }
        rbuf_ = std::move(nbuf);
        rcap_ = ncap;
    }
    keepalive_locked(); // from the first read on (nothing if off or running)
    nng_iov iov{rbuf_.get() + rput_, rcap_ - rput_};
    last_offer_ = iov.iov_len;
    (void)rd_aio_.set_iov(1, &iov);
    reading_ = true;
    add_ref();
    stream_->recv(&rd_aio_);
}

// Decodes what is buffered for the receives waiting (and for the closing
// handshake), and reads more when that is needed.
void connection::pump_locked(aio_list& done) {
    while (want_input_locked()) {
        if (rget_ == rput_) {
            aio* f = rq_.front();
            if (f != nullptr && f->prov_tag == tag_bytes && f->count() > 0 &&
                dec_.between_frames()) {
                // A byte receive that has whole frames returns them rather
                // than wait for the rest of their message (which the peer
                // may send only after an answer).
                rq_.pop_front();
                done.push_back(f);
                continue;
            }
            read_more_locked();
            return;
        }
        if (phase_ == phase::draining || failed_) {
            // Waiting for the peer to end the stream, or failed (the
            // decoder is no longer in step with the stream): the peer's
            // bytes are dropped.
            rget_ = rput_ = 0;
            continue;
        }
        aio* a = rq_.front();
        decode_result r;
        char* in = rbuf_.get() + rget_;
        std::size_t avail = rput_ - rget_;
        if (a != nullptr && a->prov_tag == tag_bytes) {
            nng_iov* v = a->iov();
            unsigned i = 0;
            while (i < a->iov_count() && v[i].iov_len == 0) {
                i++;
            }
            r = dec_.decode(std::string_view(in, avail),
                            std::span<char>(static_cast<char*>(v[i].iov_buf), v[i].iov_len));
        } else {
            r = dec_.decode(std::span<char>(in, avail));
        }
        rget_ += r.consumed;
        switch (r.status) {
        case decode_status::need_more:
            if (a != nullptr && a->prov_tag == tag_bytes && a->count() > 0) {
                // Some bytes are here: a byte receive returns them rather
                // than wait for more.
                rq_.pop_front();
                done.push_back(a);
                continue;
            }
            if (r.consumed == 0 && rget_ < rput_) {
                // A byte receive whose vectors are full: it has its bytes.
                rq_.pop_front();
                done.push_back(a);
                continue;
            }
            break; // read more (below)
        case decode_status::data:
            if (a == nullptr) {
                // Closing with nobody receiving: the message is dropped,
                // and the rest of it too when a receive comes later.
                dropping_ = !r.last;
                cur_.clear();
                break;
            }
            if (dropping_) {
                dropping_ = !r.last;
                break;
            }
            if (r.first && r.op == opcode::text && cfg_.refuse_text) {
                fail_locked(close_unsupported_data, NNG_EPROTO, done);
                break;
            }
            if (a->prov_tag == tag_bytes) {
                a->iov_advance(r.data.size());
                a->bump_count(r.data.size());
                // A receive ends with its message (an empty message gives
                // it nothing: it waits for the next one).
                if (a->iov_residual() == 0 || (r.last && a->count() > 0)) {
                    rq_.pop_front();
                    done.push_back(a);
                }
                break;
            }
            if (r.first) {
                cur_.clear();
                cur_text_ = r.op == opcode::text;
            }
            cur_.append(r.data);
            if (r.last) {
                auto* out = static_cast<message*>(a->prov_ptr);
                out->data.swap(cur_);
                out->text = cur_text_;
                cur_.clear();
                rq_.pop_front();
                a->set_outcome(0, out->data.size());
                done.push_back(a);
            }
            break;
        case decode_status::control:
            on_control_locked(r, done);
            break;
        case decode_status::error:
            fail_locked(close_code(r.error), error_for(r.error), done);
            break;
        case decode_status::closed:
            // Nothing may follow a close frame: what does is dropped.
            rget_ = rput_;
            break;
        }
        if (r.status == decode_status::need_more) {
            read_more_locked();
            return;
        }
    }
}

void connection::on_control_locked(const decode_result& r, aio_list& done) {
    switch (r.op) {
    case opcode::ping:
        if (!close_queued_) {
            // Every ping gets its pong, but a peer that pings faster than
            // it reads cannot make the queue grow: past a bound, the
            // latest unsent pong is replaced (RFC 6455 section 5.5.3
            // allows answering only the most recent ping).
            std::size_t unsent = 0;
            for (const out_item& it : ctlq_) {
                unsent += it.op == opcode::pong && !it.started ? 1 : 0;
            }
            if (unsent >= max_queued_pongs) {
                for (auto it = ctlq_.rbegin(); it != ctlq_.rend(); ++it) {
                    if (it->op == opcode::pong && !it->started) {
                        ctlq_.erase(std::next(it).base());
                        break;
                    }
                }
            }
            queue_control_locked(opcode::pong, std::string(r.data));
            write_start_locked(done);
        }
        break;
    case opcode::pong:
        // Unsolicited pongs are allowed; ours carry nothing to match (any
        // byte from the peer already counts for the keepalive).
        post_pong_locked(r.data);
        break;
    case opcode::close:
        on_peer_close_locked(r.close_code, r.close_reason, done);
        break;
    default:
        break;
    }
}

void connection::on_peer_close_locked(std::uint16_t code, std::string_view reason,
                                      aio_list& done) {
    close_received_ = true;
    peer_code_ = code == 0 ? close_no_status : code;
    peer_reason_.assign(reason);
    // No more messages will come.
    while (aio* a = rq_.pop_front()) {
        if (a->prov_tag == tag_bytes && a->count() > 0) {
            done.push_back(a);
            continue;
        }
        a->set_outcome(closed_err_, 0);
        done.push_back(a);
    }
    cur_.clear();
    if (close_sent_) {
        // The answer to ours: the handshake is complete.
        if (cfg_.side == role::server) {
            shut_locked(done);
        } else {
            phase_ = phase::draining;
            start_timer_locked();
        }
        return;
    }
    if (!close_queued_) {
        // Echo the code and reason (an empty close frame answers an
        // empty one).
        std::string payload;
        if (code != 0) {
            payload.push_back(char(code >> 8));
            payload.push_back(char(code & 0xff));
            payload.append(reason);
        }
        close_queued_ = true;
        start_timer_locked(); // bounds a close frame stuck behind a stalled write too
        queue_control_locked(opcode::close, std::move(payload));
    }
    phase_ = phase::closing;
    write_start_locked(done);
}

// Fails the connection (section 7.1.7): a close frame with code, then the
// stream is closed after a bounded wait.
void connection::fail_locked(std::uint16_t code, int err, aio_list& done) {
    failed_ = true;
    fail_err_ = err;
    if (peer_code_ == 0) {
        peer_code_ = close_abnormal;
    }
    while (aio* a = rq_.pop_front()) {
        if (a->prov_tag == tag_bytes && a->count() > 0) {
            done.push_back(a);
            continue;
        }
        a->set_outcome(err, 0);
        done.push_back(a);
        fail_err_ = 0; // reported
    }
    cur_.clear();
    rget_ = rput_ = 0;
    if (phase_ == phase::draining || phase_ == phase::done) {
        return;
    }
    if (close_sent_) {
        // Our close frame is out and the peer misbehaved while we waited
        // for its own: done waiting.
        shut_locked(done);
        return;
    }
    // Our close frame, with the code of the failure, goes first (an
    // application's close still queued behind messages gives way to it).
    for (auto it = wq_.begin(); it != wq_.end(); ++it) {
        if (it->is_close && !it->started) {
            wq_.erase(it);
            break;
        }
    }
    if (!close_pending_locked()) {
        std::string payload;
        payload.push_back(char(code >> 8));
        payload.push_back(char(code & 0xff));
        queue_control_locked(opcode::close, std::move(payload));
    }
    close_queued_ = true;
    start_timer_locked(); // bounds a close frame stuck behind a stalled write too
    phase_ = phase::closing;
    write_start_locked(done);
}

void connection::rd_cb(void* arg) {
    auto* c = static_cast<connection*>(arg);
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(c->mtx_);
        c->reading_ = false;
        int rv = c->rd_aio_.result();
        if (c->phase_ == phase::done) {
            // closed meanwhile
        } else if (rv != 0) {
            // The peer ended the stream (or it failed).  After a closing
            // handshake that is the expected end; before, an abnormal one.
            if (!c->close_received_ && c->peer_code_ == 0) {
                c->peer_code_ = close_abnormal;
            }
            c->shut_locked(done);
        } else {
            c->last_read_ = c->rd_aio_.count();
            c->rput_ += c->last_read_;
            c->ka_heard_ = true;
            c->pump_locked(done);
        }
        close_stream = std::exchange(c->stream_close_pending_, false);
    }
    if (close_stream) {
        c->stream_->close();
    }
    while (aio* a = done.pop_front()) {
        a->complete(true, c->home_);
    }
    c->release();
}

void connection::cancel_rd(aio* a, void* arg, int err) {
    auto* c = static_cast<connection*>(arg);
    aio_list done;
    {
        std::lock_guard lk(c->mtx_);
        if (c->rq_.remove(a)) {
            a->set_outcome(a->prov_tag == tag_bytes && a->count() > 0 ? 0 : err, a->count());
            done.push_back(a);
        }
    }
    c->complete_all(done);
}

void connection::cancel_wait(aio* a, void* arg, int err) {
    auto* c = static_cast<connection*>(arg);
    aio_list done;
    {
        std::lock_guard lk(c->mtx_);
        if (c->close_waiters_.remove(a)) {
            a->set_outcome(err, 0);
            done.push_back(a);
        }
    }
    c->complete_all(done);
}

// ---- writing ----

void connection::queue_control_locked(opcode op, std::string payload) {
    out_item it;
    it.op = op;
    it.own = std::move(payload);
    it.total = it.own.size();
    it.is_close = op == opcode::close;
    ctlq_.push_back(std::move(it));
}

// Sends what is queued.  Most batches fit in the socket's buffer: those
// go here, with no round trip through wr_aio_ and its callback; the rest
// of a batch the socket did not take goes through wr_aio_.
void connection::write_start_locked(aio_list& done) {
    // Bounded: a peer that reads as fast as this thread writes must not
    // keep it here; what is left waits for wr_cb.
    for (int batches = 0;; batches++) {
        if (writing_ || phase_ == phase::done || phase_ == phase::draining) {
            return;
        }
        build_batch_locked();
        if (segs_.empty()) {
            return;
        }
        std::array<nng_iov, aio::max_iov> iov{};
        unsigned n = 0;
        std::size_t total = 0;
        for (const segment& s : segs_) {
            const char* p = s.ptr != nullptr ? s.ptr : wbuf_.data() + s.off;
            iov[n++] = nng_iov{const_cast<char*>(p), s.len};
            total += s.len;
        }
        std::size_t sent = 0;
        if (batches >= 4 || !stream_->try_send(iov.data(), n, sent)) {
            sent = 0;
        } else if (sent == total) {
            if (batch_sent_locked(done)) {
                after_close_sent_locked(done);
                return;
            }
            continue;
        }
        if (!wr_aio_) {
            // Made for the first write the socket did not take at once (an
            // idle connection, or one whose writes always fit, has none).
            wr_aio_ = std::make_unique<aio>(&connection::wr_cb, this);
            wr_aio_->set_timeout(NNG_DURATION_INFINITE);
        }
        (void)wr_aio_->set_iov(n, iov.data());
        wr_aio_->iov_advance(sent);
        writing_ = true;
        add_ref();
        stream_->send(wr_aio_.get());
        return;
    }
}

// The whole batch has reached the stream: its senders are done.  Returns
// whether it carried our close frame.
bool connection::batch_sent_locked(aio_list& done) {
    for (auto [q, k] : {std::pair{&ctlq_, batch_ctl_}, std::pair{&wq_, batch_data_done_}}) {
        for (std::size_t i = 0; i < k; i++) {
            out_item& it = (*q)[i];
            if (it.user != nullptr) {
                it.user->set_outcome(0, it.total);
                done.push_back(it.user);
            }
            if (q == &wq_) {
                queued_bytes_ -= it.total;
            }
        }
        q->erase(q->begin(), q->begin() + static_cast<std::ptrdiff_t>(k));
    }
    batch_ctl_ = batch_data_done_ = 0;
    admit_waiting_locked(done);
    if (wbuf_.capacity() > max_idle_wbuf) {
        std::string().swap(wbuf_); // a large batch's room, given back
    }
    return std::exchange(batch_has_close_, false);
}

// Frames the front of the queues into wbuf_ and segs_: control frames
// first (whole), then data frames in order, until the write is big enough
// or has used its vectors.
void connection::build_batch_locked() {
    wbuf_.clear();
    segs_.clear();
    batch_ctl_ = 0;
    batch_data_done_ = 0;
    batch_has_close_ = false;
    const bool masking = cfg_.side == role::client;
    std::size_t bytes = 0;

    auto add_wbuf = [&](std::size_t off, std::size_t len) {
        if (!segs_.empty() && segs_.back().ptr == nullptr &&
            segs_.back().off + segs_.back().len == off) {
            segs_.back().len += len;
        } else {
            segs_.push_back(segment{nullptr, off, len});
        }
        bytes += len;
    };
    auto add_frame_head = [&](opcode op, std::uint64_t len, bool fin, const mask_key* key) {
        frame_options fo;
        fo.fin = fin;
        if (key != nullptr) {
            fo.mask = *key;
        }
        frame_header h = make_frame_header(op, len, fo);
        std::size_t off = wbuf_.size();
        wbuf_.append(h.bytes.data(), h.size);
        add_wbuf(off, h.size);
    };
    auto add_owned_payload = [&](const char* p, std::size_t len, const mask_key* key,
                                 std::size_t at) {
        std::size_t off = wbuf_.size();
        wbuf_.resize(off + len);
        if (key != nullptr) {
            copy_masked(wbuf_.data() + off, p, len, *key, at);
        } else if (len > 0) {
            std::memcpy(wbuf_.data() + off, p, len);
        }
        add_wbuf(off, len);
    };

    // Control frames.
    for (out_item& it : ctlq_) {
        if (batch_has_close_ || segs_.size() >= aio::max_iov - 1) {
            break;
        }
        std::optional<mask_key> key;
        if (masking) {
            key = random_mask_key();
            if (!key) {
                key = mask_key{0x5a, 0xa5, 0x3c, 0xc3}; // OpenSSL failed: still masked
            }
        }
        add_frame_head(it.op, it.total, true, key ? &*key : nullptr);
        add_owned_payload(it.own.data(), it.own.size(), key ? &*key : nullptr, 0);
        it.started = true;
        batch_ctl_++;
        if (it.is_close) {
            batch_has_close_ = true;
        }
    }

    // Data frames, and an application's close in its turn, once every
    // control frame is in.
    if (!batch_has_close_ && !close_sent_ && batch_ctl_ == ctlq_.size()) {
        for (out_item& it : wq_) {
            if (bytes >= batch_bytes || segs_.size() >= aio::max_iov - 2) {
                break;
            }
            if (it.is_close) {
                std::optional<mask_key> key;
                if (masking) {
                    key = random_mask_key();
                    if (!key) {
                        key = mask_key{0x5a, 0xa5, 0x3c, 0xc3};
                    }
                }
                add_frame_head(opcode::close, it.total, true, key ? &*key : nullptr);
                add_owned_payload(it.own.data(), it.own.size(), key ? &*key : nullptr, 0);
                it.started = true;
                batch_data_done_++;
                batch_has_close_ = true;
                break;
            }
            bool whole = true;
            do {
                // The next frame of this message.
                std::size_t left = it.total - it.framed;
                std::size_t len = std::min(left, cfg_.send_frame);
                while (it.cur_iov < it.niov && it.iov[it.cur_iov].iov_len == it.cur_off) {
                    it.cur_iov++;
                    it.cur_off = 0;
                }
                bool big = len > inline_payload;
                if (big && !masking && it.cur_iov < it.niov) {
                    // From the caller's memory: one frame per vector piece.
                    len = std::min(len, it.iov[it.cur_iov].iov_len - it.cur_off);
                }
                const opcode op = it.framed == 0 ? it.op : opcode::continuation;
                const bool fin = it.framed + len == it.total;
                std::optional<mask_key> key;
                if (masking) {
                    key = random_mask_key();
                    if (!key) {
                        key = mask_key{0x5a, 0xa5, 0x3c, 0xc3};
                    }
                }
                add_frame_head(op, len, fin, key ? &*key : nullptr);
                if (big && !masking) {
                    const char* p = static_cast<const char*>(it.iov[it.cur_iov].iov_buf) + it.cur_off;
                    segs_.push_back(segment{p, 0, len});
                    bytes += len;
                    it.cur_off += len;
                } else {
                    // Copied (and masked, for a client) into wbuf_, across
                    // the vectors as needed.
                    std::size_t done_len = 0;
                    while (done_len < len) {
                        while (it.iov[it.cur_iov].iov_len == it.cur_off) {
                            it.cur_iov++;
                            it.cur_off = 0;
                        }
                        std::size_t piece =
                            std::min(len - done_len, it.iov[it.cur_iov].iov_len - it.cur_off);
                        const char* p =
                            static_cast<const char*>(it.iov[it.cur_iov].iov_buf) + it.cur_off;
                        add_owned_payload(p, piece, key ? &*key : nullptr, done_len);
                        it.cur_off += piece;
                        done_len += piece;
                    }
                }
                it.framed += len;
                it.started = true;
                whole = it.framed == it.total;
            } while (!whole && bytes < batch_bytes && segs_.size() < aio::max_iov - 2);
            if (!whole) {
                break; // the rest of it in a later write
            }
            batch_data_done_++;
        }
    }
}

bool connection::close_pending_locked() const {
    for (const out_item& it : ctlq_) {
        if (it.is_close) {
            return true;
        }
    }
    for (const out_item& it : wq_) {
        if (it.is_close && it.started) {
            return true;
        }
    }
    return false;
}

void connection::wr_cb(void* arg) {
    auto* c = static_cast<connection*>(arg);
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(c->mtx_);
        int rv = c->wr_aio_->result();
        std::size_t n = c->wr_aio_->count();
        if (c->phase_ == phase::done) {
            // Closed while the write was in flight: what it carried fails
            // now that the stream no longer reads the callers' memory.
            c->writing_ = false;
            c->fail_all_locked(c->closed_err_, done);
        } else if (rv != 0) {
            c->writing_ = false;
            if (c->peer_code_ == 0) {
                c->peer_code_ = close_abnormal;
            }
            c->shut_locked(done);
        } else if (c->wr_aio_->iov_residual() > n) {
            // Part of the batch went: send the rest.
            c->wr_aio_->iov_advance(n);
            c->add_ref();
            c->stream_->send(c->wr_aio_.get());
        } else {
            c->writing_ = false;
            if (c->batch_sent_locked(done)) {
                c->after_close_sent_locked(done);
            } else {
                c->write_start_locked(done);
            }
        }
        close_stream = std::exchange(c->stream_close_pending_, false);
    }
    if (close_stream) {
        c->stream_->close();
    }
    while (aio* a = done.pop_front()) {
        a->complete(true, c->home_);
    }
    c->release();
}

// The write in flight has reached the stream; the aio's vectors describe
// what is left of it (iov_residual() on completion covers the whole).
void connection::cancel_wr(aio* a, void* arg, int err) {
    auto* c = static_cast<connection*>(arg);
    aio_list done;
    bool close_stream = false;
    {
        std::lock_guard lk(c->mtx_);
        bool found = c->sendwait_.remove(a);
        if (found) {
            a->set_outcome(err, 0);
            done.push_back(a);
        }
        for (auto* q : {&c->ctlq_, &c->wq_}) {
            if (found) {
                break;
            }
            for (auto it = q->begin(); it != q->end(); ++it) {
                if (it->user != a) {
                    continue;
                }
                found = true;
                if (it->started) {
                    // Part of it is on the wire: the stream is mid-frame, so
                    // the connection cannot go on.  If the write in flight
                    // still reads the caller's memory, the aio completes
                    // when it returns.
                    it->err = err;
                    if (!c->writing_) {
                        it->user = nullptr;
                        a->set_outcome(err, 0);
                        done.push_back(a);
                    }
                    if (c->peer_code_ == 0) {
                        c->peer_code_ = close_abnormal;
                    }
                    c->shut_locked(done);
                    close_stream = std::exchange(c->stream_close_pending_, false);
                } else {
                    if (q == &c->wq_) {
                        c->queued_bytes_ -= it->total;
                    }
                    q->erase(it);
                    a->set_outcome(err, 0);
                    done.push_back(a);
                    c->admit_waiting_locked(done);
                    c->write_start_locked(done);
                }
                break;
            }
            if (found) {
                break;
            }
        }
        close_stream = std::exchange(c->stream_close_pending_, false) || close_stream;
    }
    if (close_stream) {
        c->stream_->close();
    }
    c->complete_all(done);
}

void connection::after_close_sent_locked(aio_list& done) {
    close_sent_ = true;
    // Nothing may follow the close frame.
    fail_waiting_locked(closed_err_, done);
    queued_bytes_ = 0;
    for (auto* q : {&wq_, &ctlq_}) {
        for (out_item& it : *q) {
            if (it.user != nullptr) {
                it.user->set_outcome(closed_err_, 0);
                done.push_back(it.user);
            }
        }
        q->clear();
    }
    if (failed_) {
        // Failing: the peer's bytes are dropped until it goes.  A server
        // ends its side now; a client waits for the server to.
        if (cfg_.side == role::server) {
            stream_->shutdown_send();
        }
        phase_ = phase::draining;
        start_timer_locked();
        pump_locked(done);
        return;
    }
    if (close_received_) {
        if (cfg_.side == role::server) {
            shut_locked(done);
        } else {
            phase_ = phase::draining;
            start_timer_locked();
            pump_locked(done);
        }
        return;
    }
    phase_ = phase::closing;
    start_timer_locked();
    pump_locked(done);
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
void connection::shut_locked(aio_list& done) {
    if (phase_ == phase::done) {
        return;
    }
    phase_ = phase::done;
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
