// The C++ API's foundations: errors, aio, coroutine support, URLs.
// Everything here is a thin layer over the core's own classes
// (nnghttp::detail::*); a C handle is the core object itself.
#include <nnghttp/aio.hpp>
#include <nnghttp/error.hpp>
#include <nnghttp/task.hpp>
#include <nnghttp/url.hpp>

#include "core/aio.hpp"
#include "core/error.hpp"
#include "core/executor.hpp"
#include "core/url.hpp"

#include <asio/post.hpp>
#include <condition_variable>
#include <cstdio>
#include <mutex>

namespace nnghttp {

namespace {

detail::aio* core(nng_aio* a) noexcept { return reinterpret_cast<detail::aio*>(a); }

class nng_error_category final : public std::error_category {
  public:
    const char* name() const noexcept override { return "nng"; }
    std::string message(int ev) const override { return detail::error_text(ev); }
    std::error_condition default_error_condition(int ev) const noexcept override {
        switch (ev) {
        case NNG_EINTR:
            return std::errc::interrupted;
        case NNG_ENOMEM:
            return std::errc::not_enough_memory;
        case NNG_EINVAL:
            return std::errc::invalid_argument;
        case NNG_EBUSY:
            return std::errc::device_or_resource_busy;
        case NNG_ETIMEDOUT:
            return std::errc::timed_out;
        case NNG_ECONNREFUSED:
            return std::errc::connection_refused;
        case NNG_EAGAIN:
            return std::errc::resource_unavailable_try_again;
        case NNG_ENOTSUP:
            return std::errc::not_supported;
        case NNG_EADDRINUSE:
            return std::errc::address_in_use;
        case NNG_ENOENT:
            return std::errc::no_such_file_or_directory;
        case NNG_EPROTO:
            return std::errc::protocol_error;
        case NNG_EUNREACHABLE:
            return std::errc::host_unreachable;
        case NNG_EADDRINVAL:
            return std::errc::address_not_available;
        case NNG_EPERM:
            return std::errc::operation_not_permitted;
        case NNG_EMSGSIZE:
            return std::errc::message_size;
        case NNG_ECONNABORTED:
            return std::errc::connection_aborted;
        case NNG_ECONNRESET:
            return std::errc::connection_reset;
        case NNG_ECANCELED:
            return std::errc::operation_canceled;
        case NNG_ENOFILES:
            return std::errc::too_many_files_open;
        case NNG_ENOSPC:
            return std::errc::no_space_on_device;
        case NNG_EEXIST:
            return std::errc::file_exists;
        default:
            if (ev > NNG_ESYSERR && ev < NNG_ETRANERR) {
                return std::error_condition(ev - NNG_ESYSERR, std::generic_category());
            }
            return std::error_condition(ev, *this);
        }
    }
};

} // namespace

const std::error_category& nng_category() noexcept {
    static const nng_error_category cat;
    return cat;
}

error::~error() = default;

void check(int nng_rv, const char* what) {
    if (nng_rv == 0) {
        return;
    }
    if (nng_rv == NNG_ENOMEM) {
        throw std::bad_alloc();
    }
    throw error(to_error_code(nng_rv), what);
}

// ---- aio ----

struct aio::state {
    callback cb;
    static void run(void* arg) {
        auto* st = static_cast<state*>(arg);
        if (st->cb) {
            st->cb();
        }
    }
};

aio::aio() : aio(callback{}) {}

aio::aio(callback cb) : st_(std::make_unique<state>()) {
    st_->cb = std::move(cb);
    auto* a = new detail::aio(&state::run, st_.get());
    a->set_timeout(NNG_DURATION_DEFAULT);
    a_ = reinterpret_cast<nng_aio*>(a);
}

aio::aio(adopt_t, nng_aio* a) noexcept : a_(a) {}

aio::~aio() { delete core(a_); }

aio::aio(aio&& o) noexcept : a_(std::exchange(o.a_, nullptr)), st_(std::move(o.st_)) {}

aio& aio::operator=(aio&& o) noexcept {
    if (this != &o) {
        delete core(a_);
        a_ = std::exchange(o.a_, nullptr);
        st_ = std::move(o.st_);
    }
    return *this;
}

void aio::set_timeout(std::chrono::milliseconds d) noexcept {
    core(a_)->set_timeout(static_cast<nng_duration>(d.count()));
}
void aio::set_timeout(nng_duration ms) noexcept { core(a_)->set_timeout(ms); }

void aio::set_iov(std::span<const nng_iov> iov) {
    check(core(a_)->set_iov(static_cast<unsigned>(iov.size()), iov.data()), "aio::set_iov");
}
void aio::set_buffer(std::span<std::byte> buf) {
    nng_iov v{buf.data(), buf.size()};
    check(core(a_)->set_iov(1, &v), "aio::set_buffer");
}
void aio::set_buffer(std::span<const std::byte> buf) {
    nng_iov v{const_cast<std::byte*>(buf.data()), buf.size()};
    check(core(a_)->set_iov(1, &v), "aio::set_buffer");
}

std::error_code aio::result() const noexcept { return to_error_code(core(a_)->result()); }
std::size_t aio::count() const noexcept { return core(a_)->count(); }
void* aio::output(unsigned index) const noexcept { return core(a_)->output(index); }
void aio::set_input(unsigned index, void* p) noexcept { core(a_)->set_input(index, p); }
void aio::cancel() noexcept { core(a_)->cancel(); }
void aio::abort(errc reason) noexcept { core(a_)->abort(static_cast<int>(reason)); }
void aio::wait() noexcept { core(a_)->wait(); }
void aio::stop() noexcept { core(a_)->stop(); }
void aio::sleep(std::chrono::milliseconds d) noexcept {
    core(a_)->sleep(static_cast<nng_duration>(d.count()));
}

nng_aio* aio::release() noexcept {
    // The callback state must outlive the C aio: it goes along, leaked
    // only if the aio had a C++ callback (then keep this object instead).
    (void)st_.release();
    return std::exchange(a_, nullptr);
}

// ---- coroutine support ----

namespace api_detail {

void post_resume(std::coroutine_handle<> h) {
    detail::loop* l = detail::loop::current();
    asio::io_context& ctx = l != nullptr ? l->context() : detail::executor::global().next().context();
    asio::post(ctx, [h] { h.resume(); });
}

} // namespace api_detail

bool thread_free() noexcept { return detail::loop::thread_free(); }

namespace api_detail {

// In thread-free mode the application's thread is the loop's: it may block
// (the wait runs the loop) except from inside one of the loop's handlers.
bool on_loop_thread() noexcept {
    detail::loop* l = detail::loop::current();
    if (l == nullptr) {
        return false;
    }
    return !detail::loop::thread_free() || l->context().get_executor().running_in_this_thread() ||
           detail::aio::callback_running_here();
}

op_base::op_base(op_base&& o) noexcept
    : obj(o.obj), msg(std::exchange(o.msg, nullptr)), iov(o.iov), arg_ms(o.arg_ms),
      drop_msg(o.drop_msg), start_(o.start_), timeout_(o.timeout_), stop_(std::move(o.stop_)) {}
// (An op is moved only before it is awaited: no aio, no lock in use yet.)

op_base::~op_base() {
    stop_cb_.reset();
    delete core(aio_);
    if (msg != nullptr && drop_msg != nullptr) {
        drop_msg(msg);
    }
}

void op_base::on_done(void* arg) {
    // Resumed later, after this callback has returned: the coroutine may
    // then destroy the op and its aio.
    post_resume(static_cast<op_base*>(arg)->h_);
}

void op_base::canceller::operator()() const noexcept {
    std::lock_guard lk(self->mtx_);
    self->stop_hit_ = true;
    if (self->started_) {
        // Begun (the start ran under this lock): close() ends it with
        // NNG_ECLOSED, reported as canceled.
        core(self->aio_)->close();
    }
}

void op_base::await_suspend(std::coroutine_handle<> h) {
    h_ = h;
    auto* a = new detail::aio(&op_base::on_done, this);
    a->set_timeout(timeout_);
    a->set_callback_inline(); // on_done only posts the resumption
    aio_ = reinterpret_cast<nng_aio*>(a);
    if (stop_.stop_possible()) {
        stop_cb_.emplace(stop_, canceller{this}); // may run at once
    }
    std::unique_lock lk(mtx_);
    if (stop_hit_) {
        lk.unlock();
        post_resume(h); // never started: outcome() says canceled
        return;
    }
    started_ = true;
    // The provider begins the operation before this returns; it completes
    // later, on a loop thread, and outcome() waits for this lock first.
    start_(*this, aio_);
}

std::error_code op_base::outcome() noexcept {
    stop_cb_.reset(); // waits for a canceller running now
    std::lock_guard lk(mtx_);
    if (!started_) {
        return make_error_code(errc::canceled);
    }
    int rv = core(aio_)->result();
    if (rv == NNG_ECLOSED && stop_hit_) {
        rv = NNG_ECANCELED;
    }
    return to_error_code(rv);
}

std::size_t op_base::count() const noexcept { return core(aio_)->count(); }
void* op_base::output0() const noexcept { return core(aio_)->output(0); }

struct latch::impl {
    std::mutex m;
    std::condition_variable cv;
    bool set = false;
};

latch::latch() : p_(new impl) {}
latch::~latch() { delete p_; }
void latch::set() noexcept {
    std::lock_guard lk(p_->m);
    p_->set = true;
    p_->cv.notify_all();
}
void latch::wait() noexcept {
    std::unique_lock lk(p_->m);
    if (detail::loop* l = detail::loop::current(); l != nullptr && detail::loop::thread_free()) {
        // Thread-free mode: nobody else can set it; run the loop until the
        // task does.
        while (!p_->set) {
            lk.unlock();
            l->pump(std::chrono::milliseconds(20));
            lk.lock();
        }
        return;
    }
    p_->cv.wait(lk, [this] { return p_->set; });
}

void report_detached_error(std::exception_ptr e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        std::fprintf(stderr, "nnghttp: a spawned task failed: %s\n", x.what());
    } catch (...) {
        std::fprintf(stderr, "nnghttp: a spawned task failed\n");
    }
}

} // namespace api_detail

op<void> sleep(std::chrono::milliseconds d) {
    op<void> o([](api_detail::op_base& self, nng_aio* a) { core(a)->sleep(self.arg_ms); }, nullptr);
    o.arg_ms = static_cast<nng_duration>(d.count());
    return o;
}

// ---- url ----

namespace {
void fill(const detail::url& v, std::string& raw, std::string& scheme, std::string& userinfo,
          std::string& host, std::string& hostname, std::string& port, std::string& path,
          std::string& query, std::string& fragment, std::string& requri) {
    raw = v.rawurl;
    scheme = v.scheme;
    userinfo = v.userinfo.value_or("");
    host = v.host.value_or("");
    hostname = v.hostname.value_or("");
    port = v.port.value_or("");
    path = v.path;
    query = v.query.value_or("");
    fragment = v.fragment.value_or("");
    requri = v.requri.value_or("");
}
} // namespace

url::url(std::string_view text) {
    detail::url v;
    if (detail::parse_url(text, v) != 0) {
        throw error(errc::invalid, "nnghttp::url: not a valid URL");
    }
    fill(v, raw_, scheme_, userinfo_, host_, hostname_, port_, path_, query_, fragment_, requri_);
}

url::url(const nng_url& u) {
    auto s = [](const char* p) { return p != nullptr ? std::string(p) : std::string(); };
    raw_ = s(u.u_rawurl);
    scheme_ = s(u.u_scheme);
    userinfo_ = s(u.u_userinfo);
    host_ = s(u.u_host);
    hostname_ = s(u.u_hostname);
    port_ = s(u.u_port);
    path_ = s(u.u_path);
    query_ = s(u.u_query);
    fragment_ = s(u.u_fragment);
    requri_ = s(u.u_requri);
}

std::optional<url> url::parse(std::string_view text) {
    detail::url v;
    if (detail::parse_url(text, v) != 0) {
        return std::nullopt;
    }
    url u;
    fill(v, u.raw_, u.scheme_, u.userinfo_, u.host_, u.hostname_, u.port_, u.path_, u.query_,
         u.fragment_, u.requri_);
    return u;
}

nng_url* url::to_c() const {
    nng_url* out = nullptr;
    check(nng_url_parse(&out, raw_.c_str()), "nnghttp::url::to_c");
    return out;
}

} // namespace nnghttp
