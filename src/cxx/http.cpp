// nnghttp::connection, client, responder, handler and server over the
// core's HTTP classes.
#include <nnghttp/aio.hpp>
#include <nnghttp/error.hpp>
#include <nnghttp/http.hpp>
#include <nnghttp/url.hpp>

#include "core/aio.hpp"
#include "core/executor.hpp"
#include "http/client.hpp"
#include "http/conn.hpp"
#include "http/handler.hpp"
#include "http/message.hpp"
#include "http/server.hpp"
#include "tls/config.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>

namespace nnghttp {

namespace {

namespace h = detail::http;

detail::aio* core(nng_aio* a) noexcept { return reinterpret_cast<detail::aio*>(a); }
h::conn* core(nng_http_conn* c) noexcept { return reinterpret_cast<h::conn*>(c); }
h::client* core(nng_http_client* c) noexcept { return reinterpret_cast<h::client*>(c); }
h::server* core(nng_http_server* s) noexcept { return reinterpret_cast<h::server*>(s); }
h::handler* core(nng_http_handler* x) noexcept { return reinterpret_cast<h::handler*>(x); }
h::request* core(nng_http_req* r) noexcept { return reinterpret_cast<h::request*>(r); }
h::response* core(nng_http_res* r) noexcept { return reinterpret_cast<h::response*>(r); }

nng_url* parse_c(const std::string& text, const char* what) {
    nng_url* u = nullptr;
    check(nng_url_parse(&u, text.c_str()), what);
    return u;
}

void drop_response(void* r) { delete static_cast<h::response*>(r); }

op<std::size_t> count_op(op<std::size_t>::start_fn start, h::conn* c, void* buf, std::size_t n) {
    op<std::size_t> o(start, [](op<std::size_t>& self) { return self.count(); });
    o.obj = c;
    o.iov = nng_iov{buf, n};
    return o;
}

op<void> msg_op(op<void>::start_fn start, h::conn* c, void* msg) {
    op<void> o(start, nullptr);
    o.obj = c;
    o.msg = msg; // not owned (drop_msg stays null)
    return o;
}

// An op whose value is a response it allocates; the request is the
// caller's (in obj2 = msg's partner, kept in iov.iov_buf).
op<response> response_op(op<response>::start_fn start, void* obj, h::request* req) {
    op<response> o(start, [](op<response>& self) {
        return response(adopt, reinterpret_cast<nng_http_res*>(std::exchange(self.msg, nullptr)));
    });
    o.obj = obj;
    o.msg = new h::response();
    o.drop_msg = &drop_response;
    o.iov.iov_buf = req;
    return o;
}

} // namespace

std::string address_text(const nng_sockaddr& sa, bool with_port) {
    char host[INET6_ADDRSTRLEN] = "";
    unsigned port = 0;
    bool v6 = false;
    if (sa.s_family == NNG_AF_INET) {
        inet_ntop(AF_INET, &sa.s_in.sa_addr, host, sizeof host);
        port = ntohs(sa.s_in.sa_port);
    } else if (sa.s_family == NNG_AF_INET6) {
        inet_ntop(AF_INET6, sa.s_in6.sa_addr, host, sizeof host);
        port = ntohs(sa.s_in6.sa_port);
        v6 = true;
    } else if (sa.s_family == NNG_AF_IPC) {
        return sa.s_ipc.sa_path;
    } else {
        return "-";
    }
    if (!with_port) {
        return host;
    }
    // Appended piece by piece (GCC 12's -O3 warns, wrongly, on "[" + s).
    std::string out;
    out.reserve(INET6_ADDRSTRLEN + 8);
    if (v6) {
        out.push_back('[');
    }
    out.append(host);
    if (v6) {
        out.push_back(']');
    }
    out.push_back(':');
    out.append(std::to_string(port));
    return out;
}

// ---- connection ----

struct connection::body_state {
    explicit body_state(h::conn& c) : reader(c) {}
    h::body_reader reader;
};

connection::~connection() {
    close();
    delete body_;
    if (c_ != nullptr) {
        core(c_)->release();
    }
}

connection::connection(connection&& o) noexcept
    : c_(std::exchange(o.c_, nullptr)), body_(std::exchange(o.body_, nullptr)) {}

connection& connection::operator=(connection&& o) noexcept {
    std::swap(c_, o.c_);
    std::swap(body_, o.body_);
    return *this;
}

void connection::close() noexcept {
    if (c_ != nullptr) {
        core(c_)->close();
    }
}

nng_http_conn* connection::release() noexcept {
    delete std::exchange(body_, nullptr);
    return std::exchange(c_, nullptr);
}

op<response> connection::transact(request& req) {
    delete std::exchange(body_, nullptr);
    return response_op(
        [](api_detail::op_base& self, nng_aio* a) {
            h::transact(*static_cast<h::conn*>(self.obj), *static_cast<h::request*>(self.iov.iov_buf),
                        *static_cast<h::response*>(self.msg), core(a));
        },
        core(c_), core(req.native()));
}

void connection::transact(request& req, response& res, aio& a) {
    h::transact(*core(c_), *core(req.native()), *core(res.native()), core(a.native()));
}

op<void> connection::write_request(request& req) {
    return msg_op(
        [](api_detail::op_base& self, nng_aio* a) {
            static_cast<h::conn*>(self.obj)->write_req(*static_cast<h::request*>(self.msg), core(a));
        },
        core(c_), core(req.native()));
}

op<void> connection::read_request(request& req) {
    return msg_op(
        [](api_detail::op_base& self, nng_aio* a) {
            static_cast<h::conn*>(self.obj)->read_req(*static_cast<h::request*>(self.msg), core(a));
        },
        core(c_), core(req.native()));
}

op<void> connection::write_response(response& res) {
    return msg_op(
        [](api_detail::op_base& self, nng_aio* a) {
            static_cast<h::conn*>(self.obj)->write_res(*static_cast<h::response*>(self.msg), core(a));
        },
        core(c_), core(res.native()));
}

op<void> connection::read_response(response& res) {
    delete std::exchange(body_, nullptr);
    return msg_op(
        [](api_detail::op_base& self, nng_aio* a) {
            static_cast<h::conn*>(self.obj)->read_res(*static_cast<h::response*>(self.msg), core(a));
        },
        core(c_), core(res.native()));
}

op<std::size_t> connection::read_body(std::span<std::byte> buf) {
    if (body_ == nullptr) {
        body_ = new body_state(*core(c_));
    }
    op<std::size_t> o(
        [](api_detail::op_base& self, nng_aio* a) {
            (void)core(a)->set_iov(1, &self.iov);
            static_cast<body_state*>(self.obj)->reader.read(core(a));
        },
        [](op<std::size_t>& self) { return self.count(); });
    o.obj = body_;
    o.iov = nng_iov{buf.data(), buf.size()};
    return o;
}

op<std::size_t> connection::read(std::span<std::byte> buf) {
    return count_op(
        [](api_detail::op_base& self, nng_aio* a) {
            (void)core(a)->set_iov(1, &self.iov);
            static_cast<h::conn*>(self.obj)->read(core(a));
        },
        core(c_), buf.data(), buf.size());
}

op<std::size_t> connection::read_all(std::span<std::byte> buf) {
    return count_op(
        [](api_detail::op_base& self, nng_aio* a) {
            (void)core(a)->set_iov(1, &self.iov);
            static_cast<h::conn*>(self.obj)->read_all(core(a));
        },
        core(c_), buf.data(), buf.size());
}

op<std::size_t> connection::write(std::span<const std::byte> data) {
    return count_op(
        [](api_detail::op_base& self, nng_aio* a) {
            (void)core(a)->set_iov(1, &self.iov);
            static_cast<h::conn*>(self.obj)->write(core(a));
        },
        core(c_), const_cast<std::byte*>(data.data()), data.size());
}

op<std::size_t> connection::write_all(std::span<const std::byte> data) {
    return count_op(
        [](api_detail::op_base& self, nng_aio* a) {
            (void)core(a)->set_iov(1, &self.iov);
            static_cast<h::conn*>(self.obj)->write_all(core(a));
        },
        core(c_), const_cast<std::byte*>(data.data()), data.size());
}

// ---- client ----

client::client(std::string_view text) {
    nng_url* u = parse_c(std::string(text), "nnghttp::client");
    h::client* c = nullptr;
    int rv = h::client::create(*u, c);
    nng_url_free(u);
    check(rv, "nnghttp::client");
    c_ = reinterpret_cast<nng_http_client*>(c);
}

client::client(const url& u) : client(u.text()) {}

client::~client() {
    if (c_ != nullptr) {
        core(c_)->release();
    }
}

client::client(client&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}

client& client::operator=(client&& o) noexcept {
    std::swap(c_, o.c_);
    return *this;
}

void client::set_tls(const tls_config& cfg) { check(core(c_)->set_tls(cfg.native()), "client::set_tls"); }

tls_config client::tls() const {
    void* cfg = nullptr;
    check(core(c_)->get_tls(cfg), "client::tls");
    auto* c = static_cast<nng_tls_config*>(cfg);
    nng_tls_config_hold(c);
    return tls_config(adopt, c);
}

void client::set_response_limit(std::size_t bytes) { core(c_)->set_response_limit(bytes); }

op<connection> client::connect() {
    op<connection> o(
        [](api_detail::op_base& self, nng_aio* a) { static_cast<h::client*>(self.obj)->connect(core(a)); },
        [](op<connection>& self) {
            return connection(adopt, static_cast<nng_http_conn*>(self.output0()));
        });
    o.obj = core(c_);
    return o;
}

op<response> client::transact(request& req) {
    return response_op(
        [](api_detail::op_base& self, nng_aio* a) {
            static_cast<h::client*>(self.obj)->transact(*static_cast<h::request*>(self.iov.iov_buf),
                                                        *static_cast<h::response*>(self.msg), core(a));
        },
        core(c_), core(req.native()));
}

void client::connect(aio& a) { core(c_)->connect(core(a.native())); }

void client::transact(request& req, response& res, aio& a) {
    core(c_)->transact(*core(req.native()), *core(res.native()), core(a.native()));
}

// ---- responder ----

responder::responder(nng_aio* a) noexcept
    : aio_(a), req_(borrow, reinterpret_cast<nng_http_req*>(core(a)->input(0))) {}

responder::~responder() {
    if (aio_ != nullptr) {
        send_error(500);
    }
}

responder::responder(responder&& o) noexcept
    : aio_(std::exchange(o.aio_, nullptr)), req_(std::move(o.req_)) {}

responder& responder::operator=(responder&& o) noexcept {
    if (this != &o) {
        if (aio_ != nullptr) {
            send_error(500);
        }
        aio_ = std::exchange(o.aio_, nullptr);
        req_ = std::move(o.req_);
    }
    return *this;
}

void responder::send(response&& res) noexcept {
    nng_aio* a = std::exchange(aio_, nullptr);
    if (a == nullptr) {
        return; // answered already
    }
    // The server frees the response it is handed; a borrowed one is not
    // ours to give.
    if (!res.owned()) {
        aio_ = a;
        std::fprintf(stderr, "nnghttp: responder::send needs a response it can own\n");
        send_error(500);
        return;
    }
    nng_http_res* r = res.release();
    core(a)->set_output(0, r);
    core(a)->finish(0, 0);
}

void responder::send(std::uint16_t status, std::string_view body, std::string_view content_type) noexcept {
    try {
        send(response(status, body, content_type));
    } catch (...) {
        send_error(500);
    }
}

void responder::send_error(std::uint16_t status) noexcept {
    nng_aio* a = std::exchange(aio_, nullptr);
    if (a == nullptr) {
        return;
    }
    h::response* r = nullptr;
    try {
        r = new h::response();
        h::make_error(*r, status);
    } catch (...) {
        delete r;
        r = nullptr; // the server answers 500 itself
    }
    core(a)->set_output(0, r);
    core(a)->finish(0, 0);
}

connection responder::hijack() {
    if (aio_ == nullptr) {
        throw error(errc::bad_state, "responder::hijack after the answer");
    }
    auto* c = static_cast<h::conn*>(core(aio_)->input(2));
    c->hijack(); // a reference for us; the server lets go of the connection
    nng_aio* a = std::exchange(aio_, nullptr);
    core(a)->set_output(0, nullptr);
    core(a)->finish(0, 0);
    return connection(adopt, reinterpret_cast<nng_http_conn*>(c));
}

// ---- handler ----

namespace {

struct custom_state {
    handler::async_fn fn;
};

void custom_cb(::nng_aio* ca) {
    auto* hd = static_cast<h::handler*>(core(ca)->input(1));
    auto* st = static_cast<custom_state*>(hd->data());
    try {
        st->fn(responder(ca));
    } catch (const std::exception& e) {
        // The responder went with the call: unanswered, it sent a 500.
        std::fprintf(stderr, "nnghttp: handler for %s threw: %s\n", hd->path().c_str(), e.what());
    } catch (...) {
        std::fprintf(stderr, "nnghttp: handler for %s threw\n", hd->path().c_str());
    }
}

handler make_kind(h::handler::kind k, std::string_view path, h::handler::callback_fn cb = nullptr) {
    auto* x = new h::handler(k, path, cb);
    return handler(adopt, reinterpret_cast<nng_http_handler*>(x));
}

} // namespace

handler handler::file(std::string_view path, std::string_view file, std::string_view content_type) {
    handler hd = make_kind(h::handler::kind::file, path);
    core(hd.h_)->set_resource(std::string(file));
    core(hd.h_)->set_content_type(std::string(content_type));
    core(hd.h_)->collect_body(true, 0);
    return hd;
}

handler handler::directory(std::string_view path, std::string_view dir) {
    handler hd = make_kind(h::handler::kind::directory, path);
    core(hd.h_)->set_resource(std::string(dir));
    core(hd.h_)->collect_body(true, 0);
    (void)core(hd.h_)->set_tree(true);
    return hd;
}

handler handler::static_content(std::string_view path, std::string_view data, std::string_view content_type) {
    handler hd = make_kind(h::handler::kind::static_data, path);
    core(hd.h_)->set_resource(std::string(data));
    core(hd.h_)->set_content_type(std::string(content_type));
    core(hd.h_)->collect_body(true, 0);
    return hd;
}

handler handler::redirect(std::string_view path, std::string_view location, std::uint16_t status) {
    if (status < 300 || status > 399) {
        throw error(errc::invalid, "handler::redirect: the status must be 3xx");
    }
    handler hd = make_kind(h::handler::kind::redirect, path);
    core(hd.h_)->set_resource(std::string(location));
    core(hd.h_)->set_redirect_status(status);
    core(hd.h_)->collect_body(false, 0);
    (void)core(hd.h_)->set_method(nullptr);
    return hd;
}

handler handler::make_async(std::string_view path, async_fn f) {
    auto st = std::make_unique<custom_state>();
    st->fn = std::move(f);
    handler hd = make_kind(h::handler::kind::custom, path, &custom_cb);
    check(core(hd.h_)->set_data(st.get(), [](void* p) { delete static_cast<custom_state*>(p); }),
          "handler::custom");
    (void)st.release();
    return hd;
}

handler handler::make_sync(std::string_view path, sync_fn f) {
    return make_async(path, [fn = std::move(f)](responder r) {
        response res;
        fn(r.request(), res);
        r.send(std::move(res));
    });
}

handler::~handler() {
    if (h_ != nullptr) {
        core(h_)->release();
    }
}

handler::handler(handler&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}

handler& handler::operator=(handler&& o) noexcept {
    std::swap(h_, o.h_);
    return *this;
}

handler& handler::method(std::string_view m) & {
    check(core(h_)->set_method(std::string(m).c_str()), "handler::method");
    return *this;
}

handler& handler::any_method() & {
    check(core(h_)->set_method(nullptr), "handler::any_method");
    return *this;
}

handler& handler::host(std::string_view hn) & {
    check(core(h_)->set_host(std::string(hn).c_str()), "handler::host");
    return *this;
}

handler& handler::tree(bool exclusive) & {
    check(core(h_)->set_tree(exclusive), "handler::tree");
    return *this;
}

handler& handler::collect_body(bool want, std::size_t max_bytes) & {
    core(h_)->collect_body(want, max_bytes);
    return *this;
}

nng_http_handler* handler::release() noexcept { return std::exchange(h_, nullptr); }

// ---- server ----

server::server(std::string_view text) {
    nng_url* u = parse_c(std::string(text), "nnghttp::server");
    h::server* s = nullptr;
    int rv = h::server::hold(*u, s);
    nng_url_free(u);
    check(rv, "nnghttp::server");
    s_ = reinterpret_cast<nng_http_server*>(s);
}

server::server(const url& u) : server(u.text()) {}

server::~server() {
    if (s_ != nullptr) {
        h::server_release(core(s_));
    }
}

server::server(server&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}

server& server::operator=(server&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
}

server& server::add(handler hd) {
    check(core(s_)->add_handler(*core(hd.native())), "server::add");
    (void)hd.release(); // the server owns it now
    return *this;
}

void server::set_tls(const tls_config& cfg) {
    check(core(s_)->set_tls(reinterpret_cast<detail::tls::config*>(cfg.native())), "server::set_tls");
}

tls_config server::tls() const {
    detail::tls::config* c = nullptr;
    check(core(s_)->get_tls(c), "server::tls");
    c->add_ref();
    return tls_config(adopt, reinterpret_cast<nng_tls_config*>(c));
}

void server::set_limits(const server_limits& l) {
    h::server_limits x;
    x.head_timeout = static_cast<nng_duration>(l.head_timeout.count());
    x.idle_timeout = static_cast<nng_duration>(l.idle_timeout.count());
    x.body_timeout = static_cast<nng_duration>(l.body_timeout.count());
    x.send_timeout = static_cast<nng_duration>(l.send_timeout.count());
    x.max_connections = l.max_connections;
    core(s_)->set_limits(x);
}

server_limits server::limits() const {
    h::server_limits x = core(s_)->limits();
    server_limits l;
    l.head_timeout = std::chrono::milliseconds(x.head_timeout);
    l.idle_timeout = std::chrono::milliseconds(x.idle_timeout);
    l.body_timeout = std::chrono::milliseconds(x.body_timeout);
    l.send_timeout = std::chrono::milliseconds(x.send_timeout);
    l.max_connections = x.max_connections;
    return l;
}

void server::on_access(std::function<void(const access_entry&)> fn) {
    if (!fn) {
        core(s_)->set_access_log({});
        return;
    }
    core(s_)->set_access_log([fn = std::move(fn)](const h::access_record& r) {
        fn(access_entry{r.peer, r.method, r.uri, r.version, r.status, r.bytes});
    });
}

void server::set_error_page(std::uint16_t status, std::string_view html) {
    check(core(s_)->set_error_page(status, std::string(html)), "server::set_error_page");
}

void server::set_reuse_port(bool on) { check(core(s_)->set_reuse_port(on), "server::set_reuse_port"); }

void server::start() { check(core(s_)->start(), "server::start"); }

void server::stop() { core(s_)->stop(); }

bool server::shutdown(std::chrono::milliseconds grace) {
    core(s_)->drain();
    auto until = std::chrono::steady_clock::now() + grace;
    while (core(s_)->connections() > 0 && std::chrono::steady_clock::now() < until) {
        detail::loop::block_for(std::chrono::milliseconds(5)); // runs the loop if thread-free
    }
    bool all = core(s_)->connections() == 0;
    core(s_)->stop();
    return all;
}

nng_sockaddr server::address() const {
    nng_sockaddr sa{};
    check(core(s_)->get_addr(sa), "server::address");
    return sa;
}

std::uint16_t server::port() const {
    nng_sockaddr sa = address();
    if (sa.s_family == NNG_AF_INET) {
        return ntohs(sa.s_in.sa_port);
    }
    if (sa.s_family == NNG_AF_INET6) {
        return ntohs(sa.s_in6.sa_port);
    }
    return 0;
}

std::size_t server::connections() const { return core(s_)->connections(); }

} // namespace nnghttp
