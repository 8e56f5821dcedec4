// nnghttp::request and nnghttp::response over the core's message classes.
#include <nnghttp/error.hpp>
#include <nnghttp/message.hpp>
#include <nnghttp/url.hpp>

#include "core/url.hpp"
#include "http/message.hpp"

#include <cctype>
#include <cstring>
#include <utility>

namespace nnghttp {

namespace {

detail::http::request* core(nng_http_req* r) noexcept {
    return reinterpret_cast<detail::http::request*>(r);
}
detail::http::response* core(nng_http_res* r) noexcept {
    return reinterpret_cast<detail::http::response*>(r);
}

std::optional<std::string_view> find(const detail::http::message& m, std::string_view name) noexcept {
    const std::string* v = m.headers().find(name);
    if (v == nullptr) {
        return std::nullopt;
    }
    return std::string_view(*v);
}

std::vector<header_field> fields(const detail::http::message& m) {
    std::vector<header_field> out;
    out.reserve(m.headers().size());
    for (const auto& f : m.headers().fields()) {
        out.emplace_back(f.name, f.value);
    }
    return out;
}

std::span<const std::byte> body_of(const detail::http::message& m) noexcept {
    return {static_cast<const std::byte*>(m.body().data()), m.body().size()};
}

std::string_view text_of(const detail::http::message& m) noexcept {
    return {static_cast<const char*>(m.body().data()), m.body().size()};
}

// A header field name is a token; a value has no CR, LF or NUL (either
// would let a caller's data split the message).
void check_field(std::string_view name, std::string_view value) {
    static constexpr std::string_view tchar = "!#$%&'*+-.^_`|~";
    bool ok = !name.empty();
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        ok = ok && (std::isalnum(u) != 0 || tchar.find(c) != std::string_view::npos);
    }
    ok = ok && value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
    if (!ok) {
        throw error(errc::invalid, "nnghttp: bad header field");
    }
}

} // namespace

// ---- what both share ----

template <class D, class H>
message_base<D, H>::~message_base() {
    if (owned_) {
        delete core(h_);
    }
}

template <class D, class H>
message_base<D, H>::message_base(message_base&& o) noexcept
    : h_(std::exchange(o.h_, nullptr)), owned_(o.owned_) {}

template <class D, class H>
message_base<D, H>& message_base<D, H>::operator=(message_base&& o) noexcept {
    if (this != &o) {
        if (owned_) {
            delete core(h_);
        }
        h_ = std::exchange(o.h_, nullptr);
        owned_ = o.owned_;
    }
    return *this;
}

template <class D, class H>
std::string_view message_base<D, H>::version() const noexcept {
    return core(h_)->version();
}
template <class D, class H>
D& message_base<D, H>::set_version(std::string_view v) {
    core(h_)->set_version(v);
    return static_cast<D&>(*this);
}
template <class D, class H>
std::optional<std::string_view> message_base<D, H>::header(std::string_view name) const noexcept {
    return find(*core(h_), name);
}
template <class D, class H>
D& message_base<D, H>::set_header(std::string_view name, std::string_view value) {
    check_field(name, value);
    core(h_)->headers().set(name, value);
    return static_cast<D&>(*this);
}
template <class D, class H>
D& message_base<D, H>::add_header(std::string_view name, std::string_view value) {
    check_field(name, value);
    core(h_)->headers().add(name, value);
    return static_cast<D&>(*this);
}
template <class D, class H>
bool message_base<D, H>::del_header(std::string_view name) noexcept {
    return core(h_)->headers().remove(name);
}
template <class D, class H>
std::vector<header_field> message_base<D, H>::headers() const {
    return fields(*core(h_));
}
template <class D, class H>
std::span<const std::byte> message_base<D, H>::body() const noexcept {
    return body_of(*core(h_));
}
template <class D, class H>
std::string_view message_base<D, H>::body_text() const noexcept {
    return text_of(*core(h_));
}
template <class D, class H>
D& message_base<D, H>::set_body(std::string_view data) {
    core(h_)->copy_data(data.data(), data.size());
    return static_cast<D&>(*this);
}
template <class D, class H>
D& message_base<D, H>::set_body(std::span<const std::byte> data) {
    core(h_)->copy_data(data.data(), data.size());
    return static_cast<D&>(*this);
}
template <class D, class H>
D& message_base<D, H>::borrow_body(std::span<const std::byte> data) noexcept {
    core(h_)->set_data(data.data(), data.size());
    return static_cast<D&>(*this);
}
template <class D, class H>
H* message_base<D, H>::release() noexcept {
    owned_ = true;
    return std::exchange(h_, nullptr);
}

template class message_base<request, nng_http_req>;
template class message_base<response, nng_http_res>;

// ---- request ----

request::request() : message_base(reinterpret_cast<nng_http_req*>(new detail::http::request()), true) {}

request::request(const url& u) : request() {
    auto* r = core(h_);
    r->set_uri(u.requri().empty() ? std::string_view("/") : std::string_view(u.requri()));
    // Host: the port only when it is not the scheme's default (as NNG).
    if (u.port() == detail::default_port(u.scheme()) || u.port().empty()) {
        std::string h = u.hostname();
        if (h.find(':') != std::string::npos) {
            h = "[" + h + "]";
        }
        r->headers().set("Host", h);
    } else {
        r->headers().set("Host", u.host());
    }
}

request::request(std::string_view method, const url& u) : request(u) { set_method(method); }

request::request(adopt_t, nng_http_req* r) noexcept : message_base(r, true) {}
request::request(borrow_t, nng_http_req* r) noexcept : message_base(r, false) {}

std::string_view request::method() const noexcept { return core(h_)->method(); }
request& request::set_method(std::string_view m) {
    core(h_)->set_method(m);
    return *this;
}
std::string_view request::uri() const noexcept { return core(h_)->uri(); }
request& request::set_uri(std::string_view u) {
    core(h_)->set_uri(u);
    return *this;
}

// ---- response ----

response::response() : message_base(reinterpret_cast<nng_http_res*>(new detail::http::response()), true) {}

response::response(std::uint16_t status) : response() { set_status(status); }

response::response(std::uint16_t status, std::string_view body, std::string_view content_type)
    : response(status) {
    set_header("Content-Type", content_type);
    set_body(body);
}

response::response(adopt_t, nng_http_res* r) noexcept : message_base(r, true) {}
response::response(borrow_t, nng_http_res* r) noexcept : message_base(r, false) {}

response response::error_page(std::uint16_t status, std::string_view details) {
    response r;
    detail::http::make_error(*core(r.h_), status, details);
    return r;
}

std::uint16_t response::status() const noexcept { return core(h_)->status(); }
response& response::set_status(std::uint16_t s) noexcept {
    core(h_)->set_status(s);
    return *this;
}
std::string_view response::reason() const noexcept { return core(h_)->reason(); }
response& response::set_reason(std::string_view r) {
    core(h_)->set_reason(r);
    return *this;
}

} // namespace nnghttp
