#include "http/message.hpp"

#include <algorithm>

#include "http/parser.hpp"
#include "http/serializer.hpp"

#include <charconv>
#include <cstring>

namespace nnghttp::detail::http {

namespace {

const char* default_version = "HTTP/1.1";

void set_optional(opt_string& field, const char* v, const char* dflt) {
    if (v == nullptr || (dflt != nullptr && std::strcmp(v, dflt) == 0)) {
        field.reset();
    } else {
        field.emplace(v);
    }
}

void set_optional(opt_string& field, std::string_view v, const char* dflt) {
    if (dflt != nullptr && v == dflt) {
        field.reset();
    } else {
        field.emplace(v);
    }
}

} // namespace

bool name_equals(std::string_view a, std::string_view b) noexcept { return iequals(a, b); }

// ---- header_list ----

header* header_list::lookup(std::string_view name) noexcept {
    for (std::size_t i = 0; i < used_; i++) {
        if (name_equals(fields_[i].name, name)) {
            return &fields_[i];
        }
    }
    return nullptr;
}

const std::string* header_list::find(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < used_; i++) {
        if (name_equals(fields_[i].name, name)) {
            return &fields_[i].value;
        }
    }
    return nullptr;
}

void header_list::append(std::string_view name, std::string_view value) {
    if (used_ < fields_.size()) {
        header& h = fields_[used_];
        h.name.assign(name); // reuses the spare slot's capacity
        h.value.assign(value);
    } else {
        fields_.push_back({std::string(name), std::string(value)});
    }
    used_++;
}

void header_list::set(std::string_view name, std::string_view value) {
    if (header* h = lookup(name)) {
        h->value.assign(value);
        return;
    }
    append(name, value);
}

void header_list::add(std::string_view name, std::string_view value) {
    if (header* h = lookup(name)) {
        h->value.reserve(h->value.size() + 2 + value.size());
        h->value.append(", ").append(value);
        return;
    }
    append(name, value);
}

bool header_list::remove(std::string_view name) noexcept {
    for (std::size_t i = 0; i < used_; i++) {
        if (name_equals(fields_[i].name, name)) {
            // Order kept; the removed slot's storage moves to the spares.
            std::rotate(fields_.begin() + static_cast<std::ptrdiff_t>(i),
                        fields_.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                        fields_.begin() + static_cast<std::ptrdiff_t>(used_));
            used_--;
            return true;
        }
    }
    return false;
}

// ---- body ----

void body::borrow(const void* data, std::size_t size) noexcept {
    owned_.reset();
    data_ = data;
    size_ = size;
}

void body::copy(const void* data, std::size_t size) {
    std::unique_ptr<char[]> buf;
    if (size > 0) {
        buf.reset(new char[size]);
        std::memcpy(buf.get(), data, size);
    }
    adopt(std::move(buf), size);
}

void body::adopt(std::unique_ptr<char[]> data, std::size_t size) noexcept {
    owned_ = std::move(data);
    data_ = owned_.get();
    size_ = size;
}

void body::clear() noexcept {
    owned_.reset();
    data_ = nullptr;
    size_ = 0;
}

// ---- message ----

const char* message::version() const noexcept {
    return version_ ? version_->c_str() : default_version;
}

void message::set_version(const char* v) { set_optional(version_, v, default_version); }
void message::set_version(std::string_view v) { set_optional(version_, v, default_version); }

const char* message::get_header(std::string_view name) const noexcept {
    const std::string* v = headers_.find(name);
    return v != nullptr ? v->c_str() : nullptr;
}

namespace {
void set_content_length(header_list& h, std::size_t n) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), n);
    h.set("Content-Length", std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
}
} // namespace

void message::set_data(const void* data, std::size_t size) {
    set_content_length(headers_, size);
    body_.borrow(data, size);
}

void message::copy_data(const void* data, std::size_t size) {
    set_content_length(headers_, size);
    body_.copy(data, size);
}

void message::reset_common() noexcept {
    version_.reset();
    headers_.clear();
    body_.clear();
}

// ---- request ----

const char* request::method() const noexcept { return method_ ? method_->c_str() : "GET"; }
void request::set_method(const char* m) { set_optional(method_, m, "GET"); }
void request::set_method(std::string_view m) { set_optional(method_, m, "GET"); }
const char* request::uri() const noexcept { return uri_ ? uri_->c_str() : ""; }
void request::set_uri(const char* u) { set_optional(uri_, u, nullptr); }
void request::set_uri(std::string_view u) { set_optional(uri_, u, nullptr); }

void request::reset() noexcept {
    reset_common();
    method_.reset();
    uri_.reset();
}

// ---- response ----

const char* response::reason() const noexcept {
    return reason_ ? reason_->c_str() : reason_phrase(status_);
}

void response::set_reason(const char* r) { set_optional(reason_, r, reason_phrase(status_)); }
void response::set_reason(std::string_view r) { set_optional(reason_, r, reason_phrase(status_)); }

void response::reset() noexcept {
    reset_common();
    status_ = 200;
    reason_.reset();
}

// ---- serialization ----

namespace {
// Views of a message's fields for the serializer; the vector is reused per
// thread so that steady-state writes do not allocate for it.
std::span<const header_field> field_views(const header_list& h) {
    thread_local std::vector<header_field> views;
    views.clear();
    for (const auto& f : h.fields()) {
        views.push_back({f.name, f.value});
    }
    return views;
}
} // namespace

void append_head(std::string& out, const request& req) {
    append_request_head(out, req.method(), req.uri(), req.version(), field_views(req.headers()));
}

void append_head(std::string& out, const response& res) {
    append_response_head(out, res.version(), res.status(), res.reason(),
                         field_views(res.headers()));
}

// ---- reasons and error pages ----

const char* reason_phrase(std::uint16_t status) noexcept {
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Not Authoritative";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";          // NNG 1.5.2 has none
    case 208: return "Already Reported";      // NNG 1.5.2 has none
    case 226: return "IM Used";               // NNG 1.5.2 has none
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";    // NNG 1.5.2 has none
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";     // NNG 1.5.2 has none
    case 414: return "Request Entity Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Requested Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 418: return "I Am A Teapot";
    case 422: return "Unprocessable Entity";  // NNG 1.5.2 has none
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Headers Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";           // NNG 1.5.2 has none
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 510: return "Not Extended";
    case 511: return "Network Authentication Required";
    default: return "Unknown HTTP Status";
    }
}

namespace {
void append_escaped(std::string& out, std::string_view s) {
    for (char c : s) {
        switch (c) {
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '&': out += "&amp;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
}
} // namespace

std::string error_page(std::uint16_t status, std::string_view details) {
    std::string code = std::to_string(status);
    std::string reason;
    append_escaped(reason, reason_phrase(status));
    std::string out;
    out.reserve(400 + details.size());
    out += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>";
    out += code + " " + reason;
    out += "</title>\n<style>body{font-family:sans-serif;text-align:center;margin-top:3em}"
           "h1 span{background:#555;color:#fff;padding:0.2em 0.4em;border-radius:0.2em}"
           "</style></head>\n<body><h1><span>";
    out += code;
    out += "</span></h1><h2>";
    out += reason;
    out += "</h2><p>";
    append_escaped(out, details);
    out += "</p></body></html>\n";
    return out;
}

void make_error(response& res, std::uint16_t status, std::string_view details) {
    std::string page = error_page(status, details);
    res.set_status(status);
    res.headers().set("Content-Type", "text/html; charset=UTF-8");
    res.copy_data(page.data(), page.size());
}

} // namespace nnghttp::detail::http
