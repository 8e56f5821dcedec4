#include "websocket/ws_stream.hpp"

#include "http/parser.hpp"
#include "tls/transport.hpp"
#include "websocket/close.hpp"
#include "websocket/handshake.hpp"

#include <cstring>
#include <new>

namespace nnghttp::detail::ws {

namespace {

// NNG's limit for size options: they are 32-bit inside.
constexpr std::size_t max_size_option = 0xffffffffu;
// The longest string option or header value taken.
constexpr std::size_t max_string_option = 64 * 1024;

bool has_prefix(std::string_view s, std::string_view p) noexcept {
    return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

int get_size(std::size_t v, const opt_out& out) { return copy_out(v, out); }

int set_size(std::size_t& v, const opt_in& in) {
    std::size_t x = 0;
    if (int rv = copy_in(x, in); rv != 0) {
        return rv;
    }
    if (x > max_size_option) {
        return NNG_EINVAL;
    }
    v = x;
    return 0;
}

std::uint64_t limit_of(std::size_t v) noexcept {
    return v == 0 ? decoder_options::unlimited : static_cast<std::uint64_t>(v);
}

// "Name: value\r\n" for each field, in order.
std::string header_lines(const http::header_list& l) {
    std::string s;
    for (const http::header& h : l.fields()) {
        s.append(h.name).append(": ").append(h.value).append("\r\n");
    }
    return s;
}

// A header value, the spaces around it dropped: a valid field value (no
// CR or LF, which could forge fields, nor other controls).
bool clean_value(std::string_view& v) noexcept {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
        v.remove_prefix(1);
    }
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
        v.remove_suffix(1);
    }
    return http::is_field_value(v);
}

} // namespace

bool is_stream_scheme(const nng_url& url) noexcept {
    if (url.u_scheme == nullptr) {
        return false;
    }
    std::string_view s = url.u_scheme;
    if (!s.empty() && (s.back() == '4' || s.back() == '6')) {
        s.remove_suffix(1);
    }
    return s == "ws" || s == "wss";
}

int make_any_dialer(const nng_url& url, stream_dialer*& out) {
    return is_stream_scheme(url) ? ws::make_dialer(url, out) : tls::make_any_dialer(url, out);
}

int make_any_listener(const nng_url& url, stream_listener*& out) {
    return is_stream_scheme(url) ? ws::make_listener(url, out) : tls::make_any_listener(url, out);
}

// ---- endpoint options ----

std::vector<std::string> endpoint_options::protocols() const {
    std::vector<std::string_view> names;
    (void)parse_protocols(protocol, names); // checked when set
    return {names.begin(), names.end()};
}

settings endpoint_options::connection_settings(role side) const {
    settings s;
    s.side = side;
    s.limits.max_frame = limit_of(recv_frame);
    s.limits.max_message = limit_of(recv_max);
    // Each send is one message of at most send_max bytes: one frame, as
    // NNG sends it, unless there is no limit.
    s.send_frame = send_max != 0 ? send_max : 65536;
    s.refuse_text = !recv_text;
    s.ping_interval = ping_interval;
    s.pong_timeout = pong_timeout;
    return s;
}

int endpoint_options::get(std::string_view name, const opt_out& out) const {
    if (name == NNG_OPT_WS_SENDMAXFRAME) {
        return get_size(send_max, out);
    }
    if (name == NNG_OPT_WS_RECVMAXFRAME) {
        return get_size(recv_frame, out);
    }
    if (name == NNG_OPT_RECVMAXSZ) {
        return get_size(recv_max, out);
    }
    if (name == NNG_OPT_WS_PROTOCOL) {
        return copy_out_string(protocol, out);
    }
    if (name == NNG_OPT_WS_SEND_TEXT) {
        return copy_out(send_text, out);
    }
    if (name == NNG_OPT_WS_RECV_TEXT) {
        return copy_out(recv_text, out);
    }
    if (name == NNG_OPT_WS_PING_INTERVAL) {
        return copy_out_ms(ping_interval, out);
    }
    if (name == NNG_OPT_WS_PONG_TIMEOUT) {
        return copy_out_ms(pong_timeout, out);
    }
    if (name == NNG_OPT_WS_DEFLATE) {
        return copy_out(deflate, out);
    }
    return NNG_ENOTSUP;
}

int endpoint_options::set(std::string_view name, const opt_in& in) {
    if (name == NNG_OPT_WS_SENDMAXFRAME) {
        return set_size(send_max, in);
    }
    if (name == NNG_OPT_WS_RECVMAXFRAME) {
        return set_size(recv_frame, in);
    }
    if (name == NNG_OPT_RECVMAXSZ) {
        return set_size(recv_max, in);
    }
    if (name == NNG_OPT_WS_PROTOCOL) {
        std::string_view v;
        if (int rv = copy_in_string(v, in, max_string_option); rv != 0) {
            return rv;
        }
        // A list of tokens, each once ("" offers or speaks none).
        std::vector<std::string_view> names;
        if (!parse_protocols(v, names)) {
            return NNG_EINVAL;
        }
        protocol.assign(v);
        return 0;
    }
    if (name == NNG_OPT_WS_SEND_TEXT) {
        return copy_in(send_text, in);
    }
    if (name == NNG_OPT_WS_RECV_TEXT) {
        return copy_in(recv_text, in);
    }
    if (name == NNG_OPT_WS_DEFLATE) {
        return copy_in(deflate, in);
    }
    if (name == NNG_OPT_WS_PING_INTERVAL || name == NNG_OPT_WS_PONG_TIMEOUT) {
        nng_duration d = 0;
        if (int rv = copy_in_ms(d, in); rv != 0) {
            return rv;
        }
        if (d < 0) {
            return NNG_EINVAL;
        }
        (name == NNG_OPT_WS_PING_INTERVAL ? ping_interval : pong_timeout) = d;
        return 0;
    }
    return NNG_ENOTSUP;
}

int endpoint_options::set_header(std::string_view prefix, std::string_view name, const opt_in& in) {
    if (!has_prefix(name, prefix)) {
        return NNG_ENOTSUP;
    }
    std::string_view field = name.substr(prefix.size());
    std::string_view value;
    if (int rv = copy_in_string(value, in, max_string_option); rv != 0) {
        return rv;
    }
    if (!http::is_token(field) || !clean_value(value)) {
        return NNG_EINVAL;
    }
    headers.set(field, value);
    return 0;
}

int endpoint_options::set_header_lines(const opt_in& in) {
    std::string_view text;
    if (int rv = copy_in_string(text, in, max_string_option); rv != 0) {
        return rv;
    }
    http::header_list next = headers;
    while (!text.empty()) {
        std::size_t end = text.find_first_of("\r\n");
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        if (line.empty()) {
            continue; // the LF of a CRLF, or an empty line
        }
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            return NNG_EINVAL;
        }
        std::string_view field = line.substr(0, colon);
        std::string_view value = line.substr(colon + 1);
        if (!http::is_token(field) || !clean_value(value)) {
            return NNG_EINVAL;
        }
        next.set(field, value);
    }
    headers = std::move(next);
    return 0;
}

// ---- streams ----

ws_stream::ws_stream(connection* c, std::unique_ptr<handshake_info> info,
                     const endpoint_options& o)
    : c_(c), info_(std::move(info)), send_text_(o.send_text), recv_text_(o.recv_text),
      send_max_(o.send_max) {
    if (!info_) {
        info_ = std::make_unique<handshake_info>();
    }
}

ws_stream::~ws_stream() {
    // Freed without a close: close now (the handshake finishes in the
    // background, the connection holding itself until then).
    c_->close_and_end(close_normal);
    c_->release();
}

void ws_stream::send(aio* a) { c_->send_message(a, send_text_, send_max_); }

void ws_stream::recv(aio* a) { c_->recv_bytes(a); }

void ws_stream::close() { c_->close_and_end(close_normal); }

void ws_stream::close_with(std::uint16_t code) { c_->close_and_end(code); }

int ws_stream::get(std::string_view name, const opt_out& out) {
    if (!c_->open()) {
        return NNG_ECLOSED;
    }
    if (int rv = c_->underlying().get(name, out); rv != NNG_ENOTSUP) {
        return rv;
    }
    try {
        if (name == NNG_OPT_WS_SEND_TEXT) {
            return copy_out(send_text_, out);
        }
        if (name == NNG_OPT_WS_RECV_TEXT) {
            return copy_out(recv_text_, out);
        }
        if (name == NNG_OPT_WS_REQUEST_HEADERS) {
            return copy_out_string(header_lines(info_->request_headers), out);
        }
        if (name == NNG_OPT_WS_RESPONSE_HEADERS) {
            return copy_out_string(header_lines(info_->response_headers), out);
        }
        if (name == NNG_OPT_WS_REQUEST_URI) {
            return copy_out_string(info_->uri, out);
        }
        if (name == NNG_OPT_WS_PING_INTERVAL) {
            return copy_out_ms(c_->config().ping_interval, out);
        }
        if (name == NNG_OPT_WS_DEFLATE) {
            return copy_out(c_->config().deflate.has_value(), out);
        }
        if (name == NNG_OPT_WS_PONG_TIMEOUT) {
            return copy_out_ms(c_->config().pong_timeout, out);
        }
        const http::header_list* l = nullptr;
        std::string_view field;
        if (has_prefix(name, NNG_OPT_WS_REQUEST_HEADER)) {
            l = &info_->request_headers;
            field = name.substr(std::strlen(NNG_OPT_WS_REQUEST_HEADER));
        } else if (has_prefix(name, NNG_OPT_WS_RESPONSE_HEADER)) {
            l = &info_->response_headers;
            field = name.substr(std::strlen(NNG_OPT_WS_RESPONSE_HEADER));
        } else {
            return NNG_ENOTSUP;
        }
        const std::string* v = l->find(field);
        return v != nullptr ? copy_out_string(*v, out) : NNG_ENOENT;
    } catch (const std::bad_alloc&) {
        return NNG_ENOMEM;
    }
}

int ws_stream::set(std::string_view name, const opt_in& in) {
    if (!c_->open()) {
        return NNG_ECLOSED;
    }
    if (int rv = c_->underlying().set(name, in); rv != NNG_ENOTSUP) {
        return rv;
    }
    // What the handshake said, and the modes the stream was made with.
    if (name == NNG_OPT_WS_SEND_TEXT || name == NNG_OPT_WS_RECV_TEXT ||
        name == NNG_OPT_WS_REQUEST_HEADERS || name == NNG_OPT_WS_RESPONSE_HEADERS ||
        name == NNG_OPT_WS_REQUEST_URI || name == NNG_OPT_WS_PING_INTERVAL ||
        name == NNG_OPT_WS_PONG_TIMEOUT || name == NNG_OPT_WS_DEFLATE || has_prefix(name, NNG_OPT_WS_REQUEST_HEADER) ||
        has_prefix(name, NNG_OPT_WS_RESPONSE_HEADER)) {
        return NNG_EREADONLY;
    }
    return NNG_ENOTSUP;
}

} // namespace nnghttp::detail::ws
