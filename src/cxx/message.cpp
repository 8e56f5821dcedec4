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

// ---- request ----

request::request() : r_(reinterpret_cast<nng_http_req*>(new detail::http::request())) {}

request::request(const url& u) : request() {
    auto* r = core(r_);
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

request::request(adopt_t, nng_http_req* r) noexcept : r_(r), owned_(true) {}
request::request(borrow_t, nng_http_req* r) noexcept : r_(r), owned_(false) {}

request::~request() {
    if (owned_) {
        delete core(r_);
    }
}

request::request(request&& o) noexcept : r_(std::exchange(o.r_, nullptr)), owned_(o.owned_) {}

request& request::operator=(request&& o) noexcept {
    if (this != &o) {
        if (owned_) {
            delete core(r_);
        }
        r_ = std::exchange(o.r_, nullptr);
        owned_ = o.owned_;
    }
    return *this;
}

std::string_view request::method() const noexcept { return core(r_)->method(); }
request& request::set_method(std::string_view m) {
    core(r_)->set_method(m);
    return *this;
}
std::string_view request::uri() const noexcept { return core(r_)->uri(); }
request& request::set_uri(std::string_view u) {
    core(r_)->set_uri(u);
    return *this;
}
std::string_view request::version() const noexcept { return core(r_)->version(); }
request& request::set_version(std::string_view v) {
    core(r_)->set_version(v);
    return *this;
}
std::optional<std::string_view> request::header(std::string_view name) const noexcept {
    return find(*core(r_), name);
}
request& request::set_header(std::string_view name, std::string_view value) {
    check_field(name, value);
    core(r_)->headers().set(name, value);
    return *this;
}
request& request::add_header(std::string_view name, std::string_view value) {
    check_field(name, value);
    core(r_)->headers().add(name, value);
    return *this;
}
bool request::del_header(std::string_view name) noexcept { return core(r_)->headers().remove(name); }
std::vector<header_field> request::headers() const { return fields(*core(r_)); }
std::span<const std::byte> request::body() const noexcept { return body_of(*core(r_)); }
std::string_view request::body_text() const noexcept { return text_of(*core(r_)); }
request& request::set_body(std::string_view data) {
    core(r_)->copy_data(data.data(), data.size());
    return *this;
}
request& request::set_body(std::span<const std::byte> data) {
    core(r_)->copy_data(data.data(), data.size());
    return *this;
}
request& request::borrow_body(std::span<const std::byte> data) noexcept {
    core(r_)->set_data(data.data(), data.size());
    return *this;
}
nng_http_req* request::release() noexcept {
    owned_ = true;
    return std::exchange(r_, nullptr);
}

// ---- response ----

response::response() : r_(reinterpret_cast<nng_http_res*>(new detail::http::response())) {}

response::response(std::uint16_t status) : response() { set_status(status); }

response::response(std::uint16_t status, std::string_view body, std::string_view content_type)
    : response(status) {
    set_header("Content-Type", content_type);
    set_body(body);
}

response::response(adopt_t, nng_http_res* r) noexcept : r_(r), owned_(true) {}
response::response(borrow_t, nng_http_res* r) noexcept : r_(r), owned_(false) {}

response::~response() {
    if (owned_) {
        delete core(r_);
    }
}

response::response(response&& o) noexcept : r_(std::exchange(o.r_, nullptr)), owned_(o.owned_) {}

response& response::operator=(response&& o) noexcept {
    if (this != &o) {
        if (owned_) {
            delete core(r_);
        }
        r_ = std::exchange(o.r_, nullptr);
        owned_ = o.owned_;
    }
    return *this;
}

response response::error_page(std::uint16_t status, std::string_view details) {
    response r;
    detail::http::make_error(*core(r.r_), status, details);
    return r;
}

std::uint16_t response::status() const noexcept { return core(r_)->status(); }
response& response::set_status(std::uint16_t s) noexcept {
    core(r_)->set_status(s);
    return *this;
}
std::string_view response::reason() const noexcept { return core(r_)->reason(); }
response& response::set_reason(std::string_view r) {
    core(r_)->set_reason(r);
    return *this;
}
std::string_view response::version() const noexcept { return core(r_)->version(); }
response& response::set_version(std::string_view v) {
    core(r_)->set_version(v);
    return *this;
}
std::optional<std::string_view> response::header(std::string_view name) const noexcept {
    return find(*core(r_), name);
}
response& response::set_header(std::string_view name, std::string_view value) {
    check_field(name, value);
    core(r_)->headers().set(name, value);
    return *this;
}
response& response::add_header(std::string_view name, std::string_view value) {
    check_field(name, value);
    core(r_)->headers().add(name, value);
    return *this;
}
bool response::del_header(std::string_view name) noexcept { return core(r_)->headers().remove(name); }
std::vector<header_field> response::headers() const { return fields(*core(r_)); }
std::span<const std::byte> response::body() const noexcept { return body_of(*core(r_)); }
std::string_view response::body_text() const noexcept { return text_of(*core(r_)); }
response& response::set_body(std::string_view data) {
    core(r_)->copy_data(data.data(), data.size());
    return *this;
}
response& response::set_body(std::span<const std::byte> data) {
    core(r_)->copy_data(data.data(), data.size());
    return *this;
}
response& response::borrow_body(std::span<const std::byte> data) noexcept {
    core(r_)->set_data(data.data(), data.size());
    return *this;
}
nng_http_res* response::release() noexcept {
    owned_ = true;
    return std::exchange(r_, nullptr);
}

} // namespace nnghttp
