// ws:// dialers (see ws_stream.hpp): an http::client for the URL, and per
// dial a connection from it (client::connect), then the opening handshake
// on that connection (client_upgrade).
//
// Each dial is a dial_op holding the dialer.  One inner aio carries both
// steps, and the caller's aio completes from the inner one's callback,
// always there: a cancel, a timeout or the dialer's close aborts the step
// in flight (and is remembered, so that a step that succeeded as the abort
// came still ends the dial, its connection closed), and the callback then
// reports the reason.
#include "websocket/ws_stream.hpp"

#include "core/executor.hpp"
#include "http/client.hpp"
#include "http/conn.hpp"
#include "websocket/close.hpp"

#include <asio/post.hpp>
#include <cstring>
#include <mutex>
#include <new>
#include <set>

namespace nnghttp::detail::ws {

namespace {

class ws_dialer;

class dial_op final : public ref_counted {
  public:
    dial_op(ws_dialer* d, aio* user, endpoint_options opts, dial_options dopts);

    // The first step (with a reference for the inner operation).
    void start(http::client& cli);
    // Ends the dial with err (a cancel, a timeout, the dialer's close).
    void abort(int err);

  private:
    ~dial_op() override;
    void destroy() noexcept override {
        asio::post(executor::global().current_or_next().context(), [this] { delete this; });
    }
    static void done(void* arg);
    void catch_up();

    std::mutex mtx_; // abort_err_, upgrading_
    ws_dialer* d_;
    aio* user_;
    aio inner_;
    bool upgrading_ = false; // the second step
    int abort_err_ = 0;
    endpoint_options opts_;  // as the dial began
    dial_options dopts_;
    std::unique_ptr<handshake_info> info_;
};

class ws_dialer final : public stream_dialer {
  public:
    ws_dialer(http::client* cli, std::string uri, std::string host)
        : cli_(cli), uri_(std::move(uri)), host_(std::move(host)) {}

    void dial(aio* a) override;
    void close() override;
    int get(std::string_view name, const opt_out& out) override;
    int set(std::string_view name, const opt_in& in) override;

    // A dial_op is over (from its callback): whether the dialer was closed.
    bool forget(dial_op* op) {
        std::lock_guard lk(mtx_);
        ops_.erase(op);
        return closed_;
    }

  private:
    ~ws_dialer() override { cli_->release(); }
    static void cancel(aio* a, void* arg, int err);

    std::mutex mtx_;
    http::client* cli_;
    const std::string uri_;  // request target
    const std::string host_; // Host field
    endpoint_options opts_;
    bool closed_ = false;
    std::set<dial_op*> ops_; // dials in flight
};

dial_op::dial_op(ws_dialer* d, aio* u, endpoint_options o, dial_options dopts)
    : d_(d), user_(u), inner_(&dial_op::done, this), opts_(std::move(o)), dopts_(std::move(dopts)) {
    inner_.set_timeout(NNG_DURATION_INFINITE); // the caller's aio bounds the dial
    d_->add_ref();
}

dial_op::~dial_op() {
    inner_.stop();
    d_->release();
}

// Aborts are made without mtx_ held: a step may complete its aio
// synchronously under a lock of its own, which an abort would wait for.
void dial_op::start(http::client& cli) {
    add_ref(); // the inner operation's
    cli.connect(&inner_); // never completes inside this call
    catch_up();
}

// After a step began: an abort that came before it reached nothing.
void dial_op::catch_up() {
    int err;
    {
        std::lock_guard lk(mtx_);
        err = abort_err_;
    }
    if (err != 0) {
        inner_.abort(err);
    }
}

void dial_op::abort(int err) {
    {
        std::lock_guard lk(mtx_);
        if (abort_err_ == 0) {
            abort_err_ = err;
        }
    }
    inner_.abort(err);
}

void dial_op::done(void* arg) {
    auto* op = static_cast<dial_op*>(arg);
    connection* c = nullptr;
    const int result = op->inner_.result();
    int rv;
    bool upgrade = false;
    {
        std::lock_guard lk(op->mtx_);
        rv = result == 0 ? op->abort_err_ : result;
        upgrade = !op->upgrading_ && rv == 0;
        if (upgrade) {
            op->upgrading_ = true;
        } else if (op->upgrading_ && result == 0) {
            c = static_cast<connection*>(op->inner_.output(0));
        }
    }
    if (upgrade) {
        // Connected: the handshake, on the same inner aio.
        auto* hc = static_cast<http::conn*>(op->inner_.output(0));
        client_upgrade(ref_ptr<http::conn>::adopt(hc), op->dopts_, &op->inner_, &op->info_);
        op->catch_up();
        return;
    }
    if (!op->upgrading_ && result == 0) {
        // Connected as the dial was aborted.
        auto* hc = static_cast<http::conn*>(op->inner_.output(0));
        hc->close();
        hc->release();
    }
    if (rv == 0 && !op->opts_.protocols().empty() && (!op->info_ || op->info_->protocol.empty())) {
        // Subprotocols were offered and the server took none (NNG: refused).
        rv = NNG_EPROTO;
    }
    if (op->d_->forget(op) && rv == 0) {
        rv = NNG_ECLOSED; // the dialer closed as the handshake ended
    }
    ws_stream* s = nullptr;
    if (rv == 0) {
        s = new (std::nothrow) ws_stream(c, std::move(op->info_), op->opts_);
        rv = s == nullptr ? NNG_ENOMEM : 0;
    }
    if (rv != 0 && c != nullptr) {
        c->abort();
        c->release();
    }
    op->user_->set_output(0, s);
    op->user_->finish(rv, 0);
    op->release(); // the inner operation's
}

void ws_dialer::cancel(aio* a, void* arg, int err) {
    (void)a;
    static_cast<dial_op*>(arg)->abort(err);
}

void ws_dialer::dial(aio* a) {
    if (!a->begin()) {
        return;
    }
    std::unique_lock lk(mtx_);
    if (closed_) {
        lk.unlock();
        a->finish(NNG_ECLOSED, 0);
        return;
    }
    dial_op* op = nullptr;
    try {
        dial_options o;
        o.uri = uri_;
        o.host = host_;
        o.protocols = opts_.protocols();
        o.headers = opts_.headers;
        o.cfg = opts_.connection_settings(role::client);
        o.deflate.enabled = opts_.deflate;
        op = new dial_op(this, a, opts_, std::move(o));
    } catch (const std::bad_alloc&) {
        lk.unlock();
        a->finish(NNG_ENOMEM, 0);
        return;
    }
    if (int rv = a->schedule(&ws_dialer::cancel, op, op); rv != 0) {
        lk.unlock();
        op->release();
        a->finish(rv, 0);
        return;
    }
    ops_.insert(op);
    lk.unlock();
    // Without mtx_: a connection step may complete under its own lock and
    // run done(), which takes mtx_.  A close() from now on reaches op.
    op->start(*cli_);
    op->release(); // the inner operation and the cancel hold it
}

void ws_dialer::close() {
    std::vector<ref_ptr<dial_op>> ops;
    {
        std::lock_guard lk(mtx_);
        closed_ = true;
        for (dial_op* op : ops_) {
            ops.emplace_back(op);
        }
    }
    for (auto& op : ops) {
        op->abort(NNG_ECLOSED);
    }
}

int ws_dialer::get(std::string_view name, const opt_out& out) {
    {
        std::lock_guard lk(mtx_);
        if (name == NNG_OPT_WS_REQUEST_HEADERS) {
            return NNG_EWRITEONLY;
        }
        if (int rv = opts_.get(name, out); rv != NNG_ENOTSUP) {
            return rv;
        }
    }
    return cli_->get(name, out);
}

int ws_dialer::set(std::string_view name, const opt_in& in) {
    try {
        {
            std::lock_guard lk(mtx_);
            if (name == NNG_OPT_WS_REQUEST_HEADERS) {
                return opts_.set_header_lines(in);
            }
            if (int rv = opts_.set(name, in); rv != NNG_ENOTSUP) {
                return rv;
            }
        }
        if (int rv = cli_->set(name, in); rv != NNG_ENOTSUP) {
            return rv;
        }
        std::lock_guard lk(mtx_);
        return opts_.set_header(NNG_OPT_WS_REQUEST_HEADER, name, in);
    } catch (const std::bad_alloc&) {
        return NNG_ENOMEM;
    }
}

// The Host field as NNG writes it: the bare host when the port is the
// scheme's default, else host:port (an IPv6 address in brackets).
std::string host_field(const nng_url& url, bool secure) {
    std::string host = url.u_hostname;
    if (host.find(':') != std::string::npos) {
        host = "[" + host + "]";
    }
    std::string_view port = url.u_port != nullptr ? url.u_port : "";
    if (!port.empty() && port != (secure ? "443" : "80")) {
        host.append(":").append(port);
    }
    return host;
}

// The request target: the URL's path and query ("/" without a path); a
// fragment is not part of a request.
std::string target_of(const nng_url& url) {
    std::string t = url.u_path != nullptr && *url.u_path != '\0' ? url.u_path : "/";
    if (url.u_query != nullptr) {
        t.append("?").append(url.u_query);
    }
    return t;
}

} // namespace

int make_dialer(const nng_url& url, stream_dialer*& out) {
    if (!is_stream_scheme(url)) {
        return NNG_ENOTSUP;
    }
    http::client* cli = nullptr;
    if (int rv = http::client::create(url, cli); rv != 0) {
        return rv;
    }
    bool secure = std::strncmp(url.u_scheme, "wss", 3) == 0;
    auto* d = new (std::nothrow) ws_dialer(cli, target_of(url), host_field(url, secure));
    if (d == nullptr) {
        cli->release();
        return NNG_ENOMEM;
    }
    out = d;
    return 0;
}

} // namespace nnghttp::detail::ws
