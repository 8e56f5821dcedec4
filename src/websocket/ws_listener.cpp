// ws:// listeners (see ws_stream.hpp): a GET handler on the shared HTTP
// server of the URL's address.
//
// Life cycle.  alloc holds the server (http::server::hold), which several
// listeners and nng_http_server_hold share; listen() adds the handler and
// starts the server (NNG counts starts and stops: the last stop closes the
// port); close() removes the handler and stops.  The handler's data holds a
// reference to the listener, dropped when the server lets the handler go.
//
// An upgrade request is checked under the listener's options of that
// moment; a 101 hands the connection to finish_upgrade, whose callback
// gives the new stream to the oldest waiting accept, or queues it (at most
// max_ready streams beyond the accepts waiting, counting the upgrades in
// flight; past that the answer is 503, where NNG's queue has no bound).  After close() the streams still queued are closed with 1001
// and requests still reaching the handler get 503.
#include "websocket/ws_stream.hpp"

#include "http/conn.hpp"
#include "http/handler.hpp"
#include "http/server.hpp"
#include "websocket/close.hpp"

#include <cstring>
#include <deque>
#include <mutex>
#include <new>

namespace nnghttp::detail::ws {

namespace {

class ws_listener final : public stream_listener {
  public:
    ws_listener(http::server* srv, std::string url, std::string path, std::string host)
        : srv_(srv), url_(std::move(url)), path_(std::move(path)), host_(std::move(host)) {}

    int listen() override;
    void accept(aio* a) override;
    void close() override;
    int get(std::string_view name, const opt_out& out) override;
    int set(std::string_view name, const opt_in& in) override;

    // The handler's callback (nng_http_handler_alloc's kind).
    static void on_request(::nng_aio* na);

  private:
    // One upgrade between its 101 and the stream: what the stream gets.
    struct upgrade final : ref_counted {
        ref_ptr<ws_listener> l;
        endpoint_options opts;
    };

    ~ws_listener() override;
    void handle(const http::request& req, http::conn& conn, aio& a);
    static void upgraded(void* arg, int rv, connection* c, std::unique_ptr<handshake_info> info);
    static void cancel_accept(aio* a, void* arg, int err);

    std::mutex mtx_;
    http::server* srv_; // held until destruction
    const std::string url_;
    const std::string path_;
    const std::string host_;
    endpoint_options opts_;
    http::handler* handler_ = nullptr; // while listening (the server holds it)
    bool listening_ = false;
    bool closed_ = false;
    aio_queue accepts_;
    std::deque<ws_stream*> ready_;
    std::size_t upgrading_ = 0; // 101s sent whose streams are not here yet
};

ws_listener::~ws_listener() {
    for (ws_stream* s : ready_) {
        s->close_with(close_going_away);
        s->release();
    }
    http::server_release(srv_);
}

int ws_listener::listen() {
    std::lock_guard lk(mtx_);
    if (closed_) {
        return NNG_ECLOSED;
    }
    if (listening_) {
        return NNG_ESTATE;
    }
    auto* h = new (std::nothrow) http::handler(http::handler::kind::custom, path_, &on_request);
    if (h == nullptr) {
        return NNG_ENOMEM;
    }
    add_ref(); // the handler's data
    (void)h->set_data(this, [](void* p) { static_cast<ws_listener*>(p)->release(); });
    int rv = h->set_host(host_.c_str());
    // A request body would be taken for frames: NNG answers 413 (this
    // limit of 0 makes the server do so).
    h->collect_body(true, 0);
    if (rv == 0) {
        rv = srv_->add_handler(*h); // the server takes our reference
    }
    if (rv != 0) {
        h->release();
        return rv;
    }
    if ((rv = srv_->start()) != 0) {
        (void)srv_->del_handler(*h);
        h->release();
        return rv;
    }
    handler_ = h;
    listening_ = true;
    return 0;
}

void ws_listener::cancel_accept(aio* a, void* arg, int err) {
    auto* l = static_cast<ws_listener*>(arg);
    {
        std::lock_guard lk(l->mtx_);
        if (!l->accepts_.remove(a)) {
            return;
        }
    }
    a->finish(err, 0);
}

void ws_listener::accept(aio* a) {
    if (!a->begin()) {
        return;
    }
    ws_stream* s = nullptr;
    int rv = 0;
    {
        std::lock_guard lk(mtx_);
        if (closed_) {
            rv = NNG_ECLOSED;
        } else if (!listening_) {
            rv = NNG_ESTATE;
        } else if (!ready_.empty()) {
            s = ready_.front();
            ready_.pop_front();
        } else if ((rv = a->schedule(&ws_listener::cancel_accept, this, this)) == 0) {
            accepts_.push_back(a);
            return;
        }
    }
    a->set_output(0, s);
    a->finish(rv, 0);
}

void ws_listener::close() {
    aio_queue accepts;
    std::deque<ws_stream*> ready;
    http::handler* h = nullptr;
    bool was_listening = false;
    {
        std::lock_guard lk(mtx_);
        if (closed_) {
            return;
        }
        closed_ = true;
        while (aio* a = accepts_.pop_front()) {
            accepts.push_back(a);
        }
        ready.swap(ready_);
        h = std::exchange(handler_, nullptr);
        was_listening = std::exchange(listening_, false);
    }
    if (h != nullptr) {
        (void)srv_->del_handler(*h); // hands our reference back
        h->release();
    }
    if (was_listening) {
        srv_->stop();
    }
    while (aio* a = accepts.pop_front()) {
        a->finish(NNG_ECLOSED, 0);
    }
    for (ws_stream* s : ready) {
        s->close_with(close_going_away);
        s->release();
    }
}

int ws_listener::get(std::string_view name, const opt_out& out) {
    {
        std::lock_guard lk(mtx_);
        if (name == NNG_OPT_URL) {
            return copy_out_string(url_, out);
        }
        if (name == NNG_OPT_WS_RESPONSE_HEADERS) {
            return NNG_EWRITEONLY;
        }
        if (int rv = opts_.get(name, out); rv != NNG_ENOTSUP) {
            return rv;
        }
    }
    return srv_->listener_get(name, out);
}

int ws_listener::set(std::string_view name, const opt_in& in) {
    try {
        std::lock_guard lk(mtx_);
        if (name == NNG_OPT_URL) {
            return NNG_EREADONLY;
        }
        if (name == NNG_OPT_WS_RESPONSE_HEADERS) {
            return opts_.set_header_lines(in);
        }
        if (int rv = opts_.set(name, in); rv != NNG_ENOTSUP) {
            return rv;
        }
        if (int rv = opts_.set_header(NNG_OPT_WS_RESPONSE_HEADER, name, in); rv != NNG_ENOTSUP) {
            return rv;
        }
    } catch (const std::bad_alloc&) {
        return NNG_ENOMEM;
    }
    return srv_->listener_set(name, in);
}

void ws_listener::on_request(::nng_aio* na) {
    auto& a = *reinterpret_cast<aio*>(na);
    auto* req = static_cast<http::request*>(a.input(0));
    auto* hd = static_cast<http::handler*>(a.input(1));
    auto* conn = static_cast<http::conn*>(a.input(2));
    static_cast<ws_listener*>(hd->data())->handle(*req, *conn, a);
}

void ws_listener::handle(const http::request& req, http::conn& conn, aio& a) {
    auto res = std::make_unique<http::response>();
    accept_options ao;
    auto up = make_ref<upgrade>();
    {
        std::lock_guard lk(mtx_);
        if (closed_ || ready_.size() + upgrading_ >= max_ready + accepts_.size()) {
            // Closed (a request routed just before), or nobody accepts.
            http::make_error(*res, 503);
            a.set_output(0, res.release());
            a.finish(0, 0);
            return;
        }
        ao.protocols = opts_.protocols();
        ao.require_protocol = !ao.protocols.empty();
        ao.headers = opts_.headers;
        ao.deflate.enabled = opts_.deflate;
        up->opts = opts_;
        upgrading_++;
    }
    std::string protocol;
    std::optional<deflate_params> deflate;
    std::uint16_t status = answer_upgrade(req, ao, *res, protocol, &deflate);
    if (status == 101 && ao.protocols.empty() && req.get_header("Sec-WebSocket-Protocol") != nullptr) {
        // NNG refuses a subprotocol it has not been told to speak.
        res = std::make_unique<http::response>();
        http::make_error(*res, 400, "no subprotocol is spoken here");
        status = 400;
    }
    if (status != 101) {
        {
            std::lock_guard lk(mtx_);
            upgrading_--;
        }
        a.set_output(0, res.release()); // the server sends and frees it
        a.finish(0, 0);
        return;
    }
    auto info = std::make_unique<handshake_info>();
    info->uri = req.uri();
    info->request_headers = req.headers();
    info->response_headers = res->headers();
    info->protocol = protocol;
    info->deflate = deflate;
    up->l = ref_ptr<ws_listener>(this);
    settings cfg = up->opts.connection_settings(role::server);
    finish_upgrade(conn, std::move(res), std::move(info), cfg, &ws_listener::upgraded, up.get(),
                   up.get());
    a.set_output(0, nullptr);
    a.finish(0, 0);
}

void ws_listener::upgraded(void* arg, int rv, connection* c, std::unique_ptr<handshake_info> info) {
    auto* up = static_cast<upgrade*>(arg);
    ws_listener* l = up->l.get();
    ws_stream* s = nullptr;
    if (rv == 0) {
        s = new (std::nothrow) ws_stream(c, std::move(info), up->opts);
        if (s == nullptr) {
            c->abort();
            c->release();
        }
    }
    aio* a = nullptr;
    bool late = false;
    {
        std::lock_guard lk(l->mtx_);
        l->upgrading_--;
        if (s == nullptr) {
            return;
        }
        if (l->closed_) {
            late = true;
        } else if ((a = l->accepts_.pop_front()) == nullptr) {
            l->ready_.push_back(s);
            return;
        }
    }
    if (late) {
        s->close_with(close_going_away);
        s->release();
        return;
    }
    a->set_output(0, s);
    a->finish(0, 0);
}

// The handler's host: none for a wildcard address (every Host matches).
std::string handler_host(const nng_url& url) {
    std::string h = url.u_hostname != nullptr ? url.u_hostname : "";
    if (h == "*" || h == "0.0.0.0" || h == "::") {
        h.clear();
    }
    return h;
}

} // namespace

int make_listener(const nng_url& url, stream_listener*& out) {
    if (!is_stream_scheme(url)) {
        return NNG_ENOTSUP;
    }
    // The address is resolved now, as NNG does (an unknown host or a bad
    // port fails here rather than at listen).
    std::string scheme = url.u_scheme;
    std::string family = scheme.back() == '4' || scheme.back() == '6' ? scheme.substr(scheme.size() - 1) : "";
    std::string host = url.u_hostname != nullptr ? url.u_hostname : "";
    if (host.find(':') != std::string::npos) {
        host = "[" + host + "]";
    }
    std::string port = url.u_port != nullptr ? url.u_port : "";
    std::string tcp = "tcp" + family + "://" + host + ":" + port;
    nng_url* u = nullptr;
    if (nng_url_parse(&u, tcp.c_str()) != 0) {
        return NNG_EADDRINVAL;
    }
    stream_listener* probe = nullptr;
    int rv = nnghttp::detail::make_listener(*u, probe);
    nng_url_free(u);
    if (rv != 0) {
        return rv;
    }
    probe->close();
    probe->release();

    http::server* srv = nullptr;
    if ((rv = http::server::hold(url, srv)) != 0) {
        return rv;
    }
    std::string path = url.u_path != nullptr ? url.u_path : "";
    auto* l = new (std::nothrow) ws_listener(srv, url.u_rawurl, path, handler_host(url));
    if (l == nullptr) {
        http::server_release(srv);
        return NNG_ENOMEM;
    }
    out = l;
    return 0;
}

} // namespace nnghttp::detail::ws
