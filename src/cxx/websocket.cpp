// nnghttp::websocket and server::ws over the core's ws::connection.
#include <nnghttp/error.hpp>
#include <nnghttp/http.hpp>
#include <nnghttp/tls.hpp>
#include <nnghttp/websocket.hpp>

#include "core/aio.hpp"
#include "core/ref_counted.hpp"
#include "http/client.hpp"
#include "http/conn.hpp"
#include "http/handler.hpp"
#include "http/parser.hpp"
#include "http/server.hpp"
#include "websocket/connection.hpp"
#include "websocket/handshake.hpp"
#include "websocket/upgrade.hpp"

#include <algorithm>
#include <memory>
#include <mutex>
#include <set>
#include <vector>
#include <string>
#include <utility>

namespace nnghttp {

namespace {

namespace h = detail::http;
namespace ws = detail::ws;

detail::aio* core(nng_aio* a) noexcept { return reinterpret_cast<detail::aio*>(a); }
ws::connection* core(void* c) noexcept { return static_cast<ws::connection*>(c); }

ws::settings to_settings(const ws_options& o, ws::role side) {
    ws::settings s;
    s.side = side;
    // 0: no limit, as for the C API's options.
    s.limits.max_message = o.max_message != 0 ? o.max_message : ws::decoder_options::unlimited;
    s.limits.max_frame = o.max_frame != 0 ? o.max_frame : ws::decoder_options::unlimited;
    s.limits.max_fragments = o.max_fragments;
    s.send_frame = o.send_frame;
    s.close_timeout = static_cast<nng_duration>(o.close_timeout.count());
    s.ping_interval = static_cast<nng_duration>(o.ping_interval.count());
    s.pong_timeout = static_cast<nng_duration>(o.pong_timeout.count());
    s.max_send_queue = o.max_send_queue;
    s.deflate_level = o.compression.level;
    s.deflate_mem_level = o.compression.mem_level;
    s.deflate_min = o.compression.min_size;
    return s;
}

ws::deflate_config to_deflate(const ws_compression& c) {
    ws::deflate_config d;
    d.enabled = c.enabled;
    d.server_no_context_takeover = c.server_no_context_takeover;
    d.client_no_context_takeover = c.client_no_context_takeover;
    d.server_max_window_bits = c.server_max_window_bits;
    d.client_max_window_bits = c.client_max_window_bits;
    d.level = c.level;
    d.mem_level = c.mem_level;
    d.min_size = c.min_size;
    return d;
}

} // namespace

struct websocket::info {
    std::unique_ptr<ws::handshake_info> hs;
    bool server = false;
};

websocket::websocket(void* c, info* i) noexcept : c_(c), info_(i) {
    if (info_ != nullptr && info_->hs) {
        protocol_ = info_->hs->protocol;
        uri_ = info_->hs->uri;
        compressed_ = info_->hs->deflate.has_value();
    }
}

websocket::~websocket() {
    if (c_ != nullptr) {
        // Going away: the handshake finishes in the background (the
        // connection holds itself until then).
        (void)core(c_)->close(1001, {}, nullptr);
        core(c_)->release();
    }
    delete info_;
}

websocket::websocket(websocket&& o) noexcept
    : c_(std::exchange(o.c_, nullptr)), info_(std::exchange(o.info_, nullptr)),
      protocol_(std::move(o.protocol_)), uri_(std::move(o.uri_)), compressed_(o.compressed_) {}

websocket& websocket::operator=(websocket&& o) noexcept {
    std::swap(c_, o.c_);
    std::swap(info_, o.info_);
    std::swap(protocol_, o.protocol_);
    std::swap(uri_, o.uri_);
    std::swap(compressed_, o.compressed_);
    return *this;
}

namespace {

void drop_message(void* m) { delete static_cast<ws::message*>(m); }

void need_open(void* c, const char* what) {
    if (c == nullptr) {
        throw error(errc::closed, what);
    }
}

} // namespace

op<ws_message> websocket::receive() {
    need_open(c_, "websocket::receive");
    op<ws_message> o(
        [](api_detail::op_base& self, nng_aio* a) {
            core(self.obj)->recv_message(core(a), static_cast<ws::message*>(self.msg));
        },
        [](op<ws_message>& self) {
            auto* m = static_cast<ws::message*>(self.msg);
            return ws_message{std::move(m->data), m->text};
        });
    o.obj = c_;
    o.msg = new ws::message();
    o.drop_msg = &drop_message;
    return o;
}

op<void> websocket::receive(ws_message& m) {
    need_open(c_, "websocket::receive");
    op<void> o(
        [](api_detail::op_base& self, nng_aio* a) {
            core(self.obj)->recv_message(core(a), static_cast<ws::message*>(self.msg));
        },
        [](op<void>& self) {
            auto* dst = static_cast<ws_message*>(self.iov.iov_buf);
            auto* got = static_cast<ws::message*>(self.msg);
            dst->data.swap(got->data);
            dst->text = got->text;
        });
    o.obj = c_;
    // The caller's buffer goes to the connection, which assembles the
    // message in the buffer it had and hands back the one it got: the two
    // buffers take turns, and neither is freed.
    auto* held = new ws::message();
    held->data.swap(m.data);
    m.data.clear();
    o.msg = held;
    o.drop_msg = &drop_message;
    o.iov.iov_buf = &m;
    return o;
}

op<void> websocket::enqueue(std::string data, bool text) {
    need_open(c_, "websocket::enqueue");
    op<void> o(
        [](api_detail::op_base& self, nng_aio* a) {
            core(self.obj)->send_owned(core(a), static_cast<std::string*>(self.msg),
                                       self.arg_ms != 0);
        },
        [](op<void>&) {});
    o.obj = c_;
    o.msg = new std::string(std::move(data));
    o.drop_msg = [](void* p) { delete static_cast<std::string*>(p); };
    o.arg_ms = text ? 1 : 0;
    return o;
}

std::size_t websocket::buffered_amount() const {
    need_open(c_, "websocket::buffered_amount");
    return core(c_)->queued_bytes();
}

op<void> websocket::send(std::string_view data, bool text) {
    need_open(c_, "websocket::send");
    op<void> o(
        [](api_detail::op_base& self, nng_aio* a) {
            (void)core(a)->set_iov(1, &self.iov);
            core(self.obj)->send_message(core(a), self.arg_ms != 0);
        },
        [](op<void>&) {});
    o.obj = c_;
    o.iov = nng_iov{const_cast<char*>(data.data()), data.size()};
    o.arg_ms = text ? 1 : 0;
    return o;
}

void websocket::on_pong(std::function<void(std::string_view)> f) {
    need_open(c_, "websocket::on_pong");
    core(c_)->set_pong_handler(std::move(f));
}

op<void> websocket::ping(std::string_view payload) {
    need_open(c_, "websocket::ping");
    op<void> o(
        [](api_detail::op_base& self, nng_aio* a) {
            core(self.obj)->ping(core(a), std::string_view(static_cast<const char*>(self.iov.iov_buf),
                                                           self.iov.iov_len));
        },
        [](op<void>&) {});
    o.obj = c_;
    o.iov = nng_iov{const_cast<char*>(payload.data()), payload.size()};
    return o;
}

op<void> websocket::close(std::uint16_t code, std::string_view reason) {
    need_open(c_, "websocket::close");
    op<void> o(
        [](api_detail::op_base& self, nng_aio* a) {
            std::string_view why(static_cast<const char*>(self.iov.iov_buf), self.iov.iov_len);
            auto c = static_cast<std::uint16_t>(self.arg_ms);
            if (int rv = core(self.obj)->close(c, why, core(a)); rv != 0) {
                if (core(a)->begin()) {
                    core(a)->finish(rv, 0);
                }
            }
        },
        [](op<void>&) {});
    o.obj = c_;
    o.iov = nng_iov{const_cast<char*>(reason.data()), reason.size()};
    o.arg_ms = code;
    return o;
}

void websocket::abort() noexcept {
    if (c_ != nullptr) {
        core(c_)->abort();
    }
}

std::uint16_t websocket::close_code() const {
    return c_ != nullptr ? core(c_)->peer_close_code() : 0;
}

std::string websocket::close_reason() const {
    return c_ != nullptr ? core(c_)->peer_close_reason() : std::string();
}

std::string websocket::header(std::string_view name) const {
    if (info_ == nullptr || !info_->hs) {
        return {};
    }
    const h::header_list& l = info_->server ? info_->hs->request_headers : info_->hs->response_headers;
    const std::string* v = l.find(name);
    return v != nullptr ? *v : std::string();
}

// ---- client ----

namespace {

// What a connect op carries: the client, the options, the handshake.
struct connect_state {
    h::client* cli = nullptr;
    ws::dial_options opts;
    std::unique_ptr<ws::handshake_info> hs;
    ~connect_state() {
        if (cli != nullptr) {
            cli->release();
        }
    }
};

void drop_connect(void* p) { delete static_cast<connect_state*>(p); }

op<websocket> make_connect(std::string_view url, const tls_config* tls, ws_options o) {
    nng_url* u = nullptr;
    check(nng_url_parse(&u, std::string(url).c_str()), "websocket::connect");
    auto st = std::make_unique<connect_state>();
    std::string scheme = u->u_scheme;
    int rv = (scheme == "ws" || scheme == "wss") ? h::client::create(*u, st->cli) : NNG_EADDRINVAL;
    if (rv == 0) {
        st->opts.uri = *u->u_requri != '\0' ? u->u_requri : "/";
        st->opts.host = u->u_host;
    }
    nng_url_free(u);
    check(rv, "websocket::connect");
    if (tls != nullptr) {
        check(st->cli->set_tls(tls->native()), "websocket::connect");
    }
    st->opts.protocols = o.protocols;
    for (auto& [name, value] : o.headers) {
        st->opts.headers.set(name, value);
    }
    st->opts.cfg = to_settings(o, ws::role::client);
    st->opts.deflate = to_deflate(o.compression);

    op<websocket> op_(
        [](api_detail::op_base& self, nng_aio* a) {
            auto* s = static_cast<connect_state*>(self.msg);
            ws::dial(*s->cli, s->opts, core(a), &s->hs);
        },
        [](op<websocket>& self) {
            auto* s = static_cast<connect_state*>(self.msg);
            auto* i = new websocket::info;
            i->hs = std::move(s->hs);
            i->server = false;
            return websocket(self.output0(), i);
        });
    op_.msg = st.release();
    op_.drop_msg = &drop_connect;
    return op_;
}

} // namespace

op<websocket> websocket::connect(std::string_view url, ws_options opts) {
    return make_connect(url, nullptr, std::move(opts));
}

op<websocket> websocket::connect(std::string_view url, const tls_config& tls, ws_options opts) {
    return make_connect(url, &tls, std::move(opts));
}

// ---- server routes ----

namespace {

struct ws_route final : detail::ref_counted {
    std::function<void(websocket)> fn;
    std::function<void(ws_upgrade&)> on_upgrade;
    // The route's open connections (a reference each), closed with 1001
    // when the server stops or drains: the server handed them over and no
    // longer tracks them.
    std::mutex mtx;
    std::set<ws::connection*> live;

    void going_away() {
        std::vector<ws::connection*> all;
        {
            std::lock_guard lk(mtx);
            for (ws::connection* c : live) {
                c->add_ref();
                all.push_back(c);
            }
        }
        for (ws::connection* c : all) {
            (void)c->close(1001, "server shutting down", nullptr);
            c->release();
        }
    }
    ~ws_route() override {
        for (ws::connection* c : live) {
            c->release();
        }
    }
    ws::accept_options accept;
    ws::settings cfg;
};

void on_ready(void* arg, int rv, ws::connection* c, std::unique_ptr<ws::handshake_info> hs) {
    auto* r = static_cast<ws_route*>(arg);
    if (rv != 0 || c == nullptr) {
        return;
    }
    {
        std::lock_guard lk(r->mtx);
        c->add_ref(); // the registry's
        r->live.insert(c);
    }
    c->set_end_hook([r = detail::ref_ptr<ws_route>(r), c] {
        bool had;
        {
            std::lock_guard lk(r->mtx);
            had = r->live.erase(c) > 0;
        }
        if (had) {
            c->release();
        }
    });
    auto* i = new websocket::info;
    i->hs = std::move(hs);
    i->server = true;
    websocket w(c, i);
    try {
        r->fn(std::move(w));
    } catch (...) {
        // The websocket went with the exception: it closed with 1001.
    }
}

// Fields of a 101 that the handshake owns: the hook cannot change them.
bool handshake_field(std::string_view name) {
    for (std::string_view f : {"Upgrade", "Connection", "Sec-WebSocket-Accept",
                               "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"}) {
        if (h::iequals(name, f)) {
            return true;
        }
    }
    return false;
}

// Replaces res with a refusal: status, a text body or the error page.
void refuse_with(h::response& res, std::uint16_t status, const std::string& body) {
    res = h::response();
    if (body.empty()) {
        h::make_error(res, status);
    } else {
        res.set_status(status);
        res.set_reason(h::reason_phrase(status));
        res.headers().set("Content-Type", "text/plain; charset=utf-8");
        res.copy_data(body.data(), body.size());
    }
}

// Runs the route's on_upgrade on a well-formed handshake (res is its
// 101).  Returns the status to answer with; res and protocol follow the
// hook's verdict.
std::uint16_t ask_hook(const ws_route& r, h::request& req, h::conn& conn, h::response& res,
                       std::string& protocol) {
    request view(borrow, reinterpret_cast<nng_http_req*>(&req));
    ws_upgrade u{view};
    std::size_t sz = sizeof u.peer;
    (void)conn.underlying().get(NNG_OPT_REMADDR,
                                detail::opt_out{&u.peer, &sz, detail::opt_type::sockaddr});
    u.protocol = protocol;
    try {
        r.on_upgrade(u);
    } catch (const std::exception& e) {
        refuse_with(res, 500, std::string("WebSocket upgrade hook failed: ") + e.what() + "\n");
        return 500;
    } catch (...) {
        refuse_with(res, 500, "WebSocket upgrade hook failed\n");
        return 500;
    }
    if (u.status != 101) {
        std::uint16_t st = u.status >= 200 && u.status <= 599 ? u.status : 500;
        refuse_with(res, st, u.body);
        for (auto& [name, value] : u.headers) {
            res.headers().set(name, value);
        }
        return st;
    }
    if (u.protocol != protocol) {
        std::vector<std::string_view> offered;
        if (const char* p = req.get_header("Sec-WebSocket-Protocol"); p != nullptr) {
            (void)ws::parse_protocols(p, offered); // checked by answer_upgrade
        }
        if (!u.protocol.empty() &&
            std::find(offered.begin(), offered.end(), u.protocol) == offered.end()) {
            refuse_with(res, 500, "WebSocket upgrade hook chose the subprotocol \"" + u.protocol +
                                      "\", which the client did not offer\n");
            return 500;
        }
        protocol = u.protocol;
        if (protocol.empty()) {
            (void)res.headers().remove("Sec-WebSocket-Protocol");
        } else {
            res.headers().set("Sec-WebSocket-Protocol", protocol);
        }
    }
    for (auto& [name, value] : u.headers) {
        if (!handshake_field(name)) {
            res.headers().set(name, value);
        }
    }
    return 101;
}

void on_request(nng_aio* a) {
    detail::aio* ca = core(a);
    auto* req = static_cast<h::request*>(ca->input(0));
    auto* hd = static_cast<h::handler*>(ca->input(1));
    auto* conn = static_cast<h::conn*>(ca->input(2));
    auto* r = static_cast<ws_route*>(hd->data());
    auto res = std::make_unique<h::response>();
    std::string protocol;
    std::optional<ws::deflate_params> deflate;
    std::uint16_t status = ws::answer_upgrade(*req, r->accept, *res, protocol, &deflate);
    if (status == 101 && r->on_upgrade) {
        status = ask_hook(*r, *req, *conn, *res, protocol);
    }
    if (status != 101) {
        ca->set_output(0, res.release()); // the server sends and frees it
        ca->finish(0, 0);
        return;
    }
    auto hs = std::make_unique<ws::handshake_info>();
    hs->uri = req->uri();
    hs->request_headers = req->headers();
    hs->response_headers = res->headers();
    hs->protocol = protocol;
    hs->deflate = deflate;
    ws::finish_upgrade(*conn, std::move(res), std::move(hs), r->cfg, &on_ready, r, r);
    ca->set_output(0, nullptr);
    ca->finish(0, 0);
}

} // namespace

server& server::add_ws(std::string_view path, std::function<void(websocket)> f, ws_options opts) {
    auto* r = new ws_route;
    r->fn = std::move(f);
    r->accept.protocols = opts.protocols;
    r->accept.require_protocol = opts.require_protocol;
    for (auto& [name, value] : opts.headers) {
        r->accept.headers.set(name, value);
    }
    r->cfg = to_settings(opts, ws::role::server);
    r->accept.deflate = to_deflate(opts.compression);
    r->on_upgrade = std::move(opts.on_upgrade);
    auto* hd = new h::handler(h::handler::kind::custom, path, &on_request);
    // The route's connections close when the server stops or drains (the
    // hook keeps the route as long as the server lives).
    (void)reinterpret_cast<h::server*>(s_)->add_stop_hook(
        [w = detail::ref_ptr<ws_route>(r)] { w->going_away(); });
    (void)hd->set_data(r, [](void* p) { static_cast<ws_route*>(p)->release(); });
    hd->collect_body(false, 0);
    if (opts.tree) {
        (void)hd->set_tree(false);
    }
    handler wrapped(adopt, reinterpret_cast<nng_http_handler*>(hd));
    return add(std::move(wrapped));
}

} // namespace nnghttp
