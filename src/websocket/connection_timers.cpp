// The connection's timers: the bound on the closing handshake, and the
// keepalive pings (see settings::ping_interval).
#include "websocket/connection.hpp"

#include "core/executor.hpp"
#include "websocket/close.hpp"

#include <asio/post.hpp>

namespace nnghttp::detail::ws {

// Each wait of the closing handshake gets its own close_timeout: a
// running timer is re-armed (timer_cb starts it again).
void connection::start_timer_locked() {
    if (ka_running_) {
        ka_timer_->abort(NNG_ECANCELED); // closing: no more keepalive
    }
    if (timer_running_) {
        rearm_ = true;
        timer_->abort(NNG_ECANCELED);
        return;
    }
    timer_running_ = true;
    add_ref();
    if (!timer_) {
        timer_ = std::make_unique<aio>(&connection::timer_cb, this);
    }
    timer_->sleep(cfg_.close_timeout);
}

void connection::timer_cb(void* arg) {
    auto* c = static_cast<connection*>(arg);
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(c->mtx_);
        c->timer_running_ = false;
        if (std::exchange(c->rearm_, false) && c->phase_ != phase::done) {
            c->start_timer_locked();
        } else if (c->timer_->result() == 0 && c->phase_ != phase::done) {
            if (c->peer_code_ == 0) {
                c->peer_code_ = close_abnormal;
            }
            c->shut_locked(done);
        }
        close_stream = std::exchange(c->stream_close_pending_, false);
    }
    c->after_unlock(done, close_stream, true);
    c->release();
}


// ---- keepalive ----

// One timer does it all.  It first runs for ping_interval; whenever it goes
// off it looks at what happened since it was set: a byte from the peer
// (the connection is alive: start over), nothing while nobody read (no
// verdict is possible: start over), nothing after our ping (the peer is
// gone: fail with 1011), or nothing yet (send a ping, wait pong_timeout).
void connection::keepalive_locked() {
    if (cfg_.ping_interval <= 0 || ka_running_ || phase_ != phase::open) {
        return;
    }
    if (!ka_timer_) {
        ka_timer_ = std::make_unique<aio>(&connection::keepalive_cb, this);
    }
    ka_running_ = true;
    ka_heard_ = false;
    add_ref();
    nng_duration wait = cfg_.ping_interval;
    if (ka_pinged_ && cfg_.pong_timeout > 0) {
        wait = cfg_.pong_timeout;
    }
    ka_timer_->sleep(wait);
}

void connection::keepalive_cb(void* arg) {
    auto* c = static_cast<connection*>(arg);
    aio_list done;
    bool close_stream;
    {
        std::lock_guard lk(c->mtx_);
        c->ka_running_ = false;
        if (c->ka_timer_->result() == 0 && c->phase_ == phase::open) {
            if (c->ka_heard_ || !c->reading_) {
                c->ka_pinged_ = false;
            } else if (!c->ka_pinged_) {
                c->ka_pinged_ = true;
                c->queue_control_locked(opcode::ping, std::string());
                c->write_start_locked(done);
            } else {
                c->ka_pinged_ = false;
                c->fail_locked(close_internal_error, NNG_ETIMEDOUT, done);
            }
            c->keepalive_locked(); // nothing when no longer open
        }
        close_stream = std::exchange(c->stream_close_pending_, false);
    }
    c->after_unlock(done, close_stream, true);
    c->release();
}

void connection::set_pong_handler(std::function<void(std::string_view)> f) {
    std::lock_guard lk(mtx_);
    if (f) {
        on_pong_ = std::make_unique<std::function<void(std::string_view)>>(std::move(f));
    } else {
        on_pong_.reset();
    }
}

// Hands a pong's payload to the application's handler, on the loop, with
// no lock held.
void connection::post_pong_locked(std::string_view payload) {
    if (!on_pong_) {
        return;
    }
    add_ref();
    asio::post(home_->context(), [this, f = *on_pong_, p = std::string(payload)] {
        try {
            f(p);
        } catch (...) {
            // The application's exception ends here: the connection goes on.
        }
        release();
    });
}

} // namespace nnghttp::detail::ws
