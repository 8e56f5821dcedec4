// nnghttp::stream, stream_dialer and stream_listener over the core's
// streams (tcp, ipc, tls+tcp, ws, wss).
#include <nnghttp/aio.hpp>
#include <nnghttp/error.hpp>
#include <nnghttp/stream.hpp>
#include <nnghttp/tls.hpp>

#include "core/aio.hpp"
#include "core/url.hpp"
#include "stream/stream.hpp"
#include "websocket/ws_stream.hpp"

#include <nng/supplemental/tls/tls.h>
#include <string>
#include <utility>

namespace nnghttp {

namespace {

detail::aio* core(nng_aio* a) noexcept { return reinterpret_cast<detail::aio*>(a); }
detail::stream* core(nng_stream* s) noexcept { return reinterpret_cast<detail::stream*>(s); }
detail::stream_dialer* core(nng_stream_dialer* d) noexcept {
    return reinterpret_cast<detail::stream_dialer*>(d);
}
detail::stream_listener* core(nng_stream_listener* l) noexcept {
    return reinterpret_cast<detail::stream_listener*>(l);
}

nng_url* parse_c(std::string_view text, const char* what) {
    nng_url* u = nullptr;
    check(nng_url_parse(&u, std::string(text).c_str()), what);
    return u;
}

op<stream> stream_op(op<stream>::start_fn start, void* obj) {
    op<stream> o(start, [](op<stream>& self) {
        return stream(adopt, static_cast<nng_stream*>(self.output0()));
    });
    o.obj = obj;
    return o;
}

op<std::size_t> count_op(op<std::size_t>::start_fn start, void* obj, void* buf, std::size_t n) {
    op<std::size_t> o(start, [](op<std::size_t>& self) { return self.count(); });
    o.obj = obj;
    o.iov = nng_iov{buf, n};
    return o;
}

} // namespace

// ---- stream ----

stream::~stream() {
    if (s_ != nullptr) {
        core(s_)->close();
        core(s_)->release();
    }
}
stream::stream(stream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
stream& stream::operator=(stream&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
}

op<std::size_t> stream::send(std::span<const std::byte> data) {
    return count_op(
        [](api_detail::op_base& self, nng_aio* a) {
            (void)core(a)->set_iov(1, &self.iov);
            static_cast<detail::stream*>(self.obj)->send(core(a));
        },
        core(s_), const_cast<std::byte*>(data.data()), data.size());
}

op<std::size_t> stream::recv(std::span<std::byte> buf) {
    return count_op(
        [](api_detail::op_base& self, nng_aio* a) {
            (void)core(a)->set_iov(1, &self.iov);
            static_cast<detail::stream*>(self.obj)->recv(core(a));
        },
        core(s_), buf.data(), buf.size());
}

void stream::send(aio& a) { core(s_)->send(core(a.native())); }
void stream::recv(aio& a) { core(s_)->recv(core(a.native())); }
void stream::close() noexcept {
    if (s_ != nullptr) {
        core(s_)->close();
    }
}
nng_stream* stream::release() noexcept { return std::exchange(s_, nullptr); }

// ---- dialer ----

stream_dialer::stream_dialer(std::string_view text) {
    nng_url* u = parse_c(text, "nnghttp::stream_dialer");
    detail::stream_dialer* d = nullptr;
    int rv = detail::ws::make_any_dialer(*u, d);
    nng_url_free(u);
    check(rv, "nnghttp::stream_dialer");
    d_ = reinterpret_cast<nng_stream_dialer*>(d);
}
stream_dialer::~stream_dialer() {
    if (d_ != nullptr) {
        core(d_)->close();
        core(d_)->release();
    }
}
stream_dialer::stream_dialer(stream_dialer&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
stream_dialer& stream_dialer::operator=(stream_dialer&& o) noexcept {
    std::swap(d_, o.d_);
    return *this;
}
void stream_dialer::set_tls(const tls_config& cfg) {
    check(nng_stream_dialer_set_ptr(d_, NNG_OPT_TLS_CONFIG, cfg.native()), "stream_dialer::set_tls");
}
op<stream> stream_dialer::dial() {
    return stream_op(
        [](api_detail::op_base& self, nng_aio* a) {
            static_cast<detail::stream_dialer*>(self.obj)->dial(core(a));
        },
        core(d_));
}
void stream_dialer::close() noexcept {
    if (d_ != nullptr) {
        core(d_)->close();
    }
}

// ---- listener ----

stream_listener::stream_listener(std::string_view text) {
    nng_url* u = parse_c(text, "nnghttp::stream_listener");
    detail::stream_listener* l = nullptr;
    int rv = detail::ws::make_any_listener(*u, l);
    nng_url_free(u);
    check(rv, "nnghttp::stream_listener");
    l_ = reinterpret_cast<nng_stream_listener*>(l);
}
stream_listener::~stream_listener() {
    if (l_ != nullptr) {
        core(l_)->close();
        core(l_)->release();
    }
}
stream_listener::stream_listener(stream_listener&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
stream_listener& stream_listener::operator=(stream_listener&& o) noexcept {
    std::swap(l_, o.l_);
    return *this;
}
void stream_listener::set_tls(const tls_config& cfg) {
    check(nng_stream_listener_set_ptr(l_, NNG_OPT_TLS_CONFIG, cfg.native()), "stream_listener::set_tls");
}
void stream_listener::listen() { check(core(l_)->listen(), "stream_listener::listen"); }
std::uint16_t stream_listener::port() const {
    int port = 0;
    check(nng_stream_listener_get_int(l_, NNG_OPT_TCP_BOUND_PORT, &port), "stream_listener::port");
    return static_cast<std::uint16_t>(port);
}
op<stream> stream_listener::accept() {
    return stream_op(
        [](api_detail::op_base& self, nng_aio* a) {
            static_cast<detail::stream_listener*>(self.obj)->accept(core(a));
        },
        core(l_));
}
void stream_listener::close() noexcept {
    if (l_ != nullptr) {
        core(l_)->close();
    }
}

} // namespace nnghttp
