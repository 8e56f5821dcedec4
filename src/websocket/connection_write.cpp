// ws::connection, writing: the queues, batches of frames, and what
// follows our close frame.
#include "websocket/connection.hpp"

#include "core/executor.hpp"
#include "websocket/close.hpp"
#include "websocket/connection_impl.hpp"
#include "websocket/encoder.hpp"
#include "websocket/mask.hpp"
#include "websocket/random.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

namespace nnghttp::detail::ws {

using namespace conn_impl;

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
                it.user->set_outcome(0, it.compressed ? it.reported : it.total);
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
    auto add_frame_head = [&](opcode op, std::uint64_t len, bool fin, const mask_key* key,
                              std::uint8_t rsv = 0) {
        frame_options fo;
        fo.fin = fin;
        fo.rsv = rsv;
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
                // RSV1 on the first frame of a compressed message only.
                add_frame_head(op, len, fin, key ? &*key : nullptr,
                               it.compressed && it.framed == 0 ? rsv1 : 0);
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
    c->after_unlock(done, close_stream, true);
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
    c->after_unlock(done, close_stream, false);
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

} // namespace nnghttp::detail::ws
