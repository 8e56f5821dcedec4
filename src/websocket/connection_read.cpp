// ws::connection, reading: the read buffer, decoding for the waiting
// receives, control frames, and failing the connection.
#include "websocket/connection.hpp"

#include "core/executor.hpp"
#include "websocket/close.hpp"
#include "websocket/connection_impl.hpp"
#include "websocket/utf8.hpp"

#include <algorithm>
#include <cstring>

namespace nnghttp::detail::ws {

using namespace conn_impl;

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
        if ((!staged_.empty() || staged_end_) && deliver_staged_locked(done)) {
            continue;
        }
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
        if (a != nullptr && a->prov_tag == tag_bytes && !infl_) {
            // Straight into the caller's vectors (with permessage-deflate,
            // payload goes through staged_ instead).
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
            if (a->prov_tag == tag_bytes && infl_) {
                if (take_payload_locked(r, staged_, done) && r.last) {
                    staged_end_ = true;
                }
                break; // handed out at the top of the loop
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
            if (!take_payload_locked(r, cur_, done)) {
                break;
            }
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

// Appends a data event's payload to out, inflated if its message is
// compressed (then checked as text, if it is text).  False if the
// connection failed (too big: 1009; not DEFLATE: 1007; no memory: 1011).
bool connection::take_payload_locked(const decode_result& r, std::string& out, aio_list& done) {
    if (r.first) {
        cur_compressed_ = (r.rsv & rsv1) != 0;
        inflated_utf8_.reset();
        msg_in_ = 0;
    }
    if (!cur_compressed_) {
        // (The decoder's limits leave room for compressed frames: these
        // are the limits themselves.)
        msg_in_ += r.data.size();
        if (msg_in_ > cfg_.limits.max_message) {
            fail_locked(close_too_big, NNG_EMSGSIZE, done);
            return false;
        }
        out.append(r.data);
        return true;
    }
    const std::size_t before = out.size();
    inflate_status st = infl_->feed(r.data, r.last, out);
    if (st != inflate_status::ok) {
        out.resize(before);
        fail_locked(close_code(st), st == inflate_status::too_big ? NNG_EMSGSIZE : NNG_EPROTO,
                    done);
        return false;
    }
    if (r.op == opcode::text && cfg_.limits.validate_text) {
        std::string_view added(out.data() + before, out.size() - before);
        if (inflated_utf8_.feed(added) != added.size() || (r.last && !inflated_utf8_.complete())) {
            out.resize(before);
            fail_locked(close_invalid_data, NNG_EPROTO, done);
            return false;
        }
    }
    return true;
}

// Hands inflated bytes (staged_) to the byte receive in front, never past
// the end of their message.  False if there is nothing it can take now.
bool connection::deliver_staged_locked(aio_list& done) {
    aio* a = rq_.front();
    if (a == nullptr || a->prov_tag != tag_bytes) {
        return false;
    }
    std::size_t taken = 0;
    while (taken < staged_.size() && a->iov_residual() > 0) {
        nng_iov* v = a->iov();
        unsigned i = 0;
        while (i < a->iov_count() && v[i].iov_len == 0) {
            i++;
        }
        std::size_t n = std::min(v[i].iov_len, staged_.size() - taken);
        std::memcpy(v[i].iov_buf, staged_.data() + taken, n);
        a->iov_advance(n);
        a->bump_count(n);
        taken += n;
    }
    staged_.erase(0, taken);
    const bool ended = staged_.empty() && staged_end_;
    if (ended) {
        staged_end_ = false;
    }
    if (a->iov_residual() == 0 || (ended && a->count() > 0)) {
        rq_.pop_front();
        done.push_back(a);
        return true;
    }
    return taken > 0 || ended;
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
                // In place: a flood costs no allocation per ping.
                for (auto it = ctlq_.rbegin(); it != ctlq_.rend(); ++it) {
                    if (it->op == opcode::pong && !it->started) {
                        it->own.assign(r.data);
                        it->total = it->own.size();
                        break;
                    }
                }
            } else {
                queue_control_locked(opcode::pong, std::string(r.data));
            }
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
    c->after_unlock(done, close_stream, true);
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
    c->after_unlock(done, false, false);
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
    c->after_unlock(done, false, false);
}

} // namespace nnghttp::detail::ws
