#include "tls/transport.hpp"

#include "core/executor.hpp"
#include "tls/stream.hpp"

#include <asio/post.hpp>
#include <cstring>
#include <mutex>
#include <string>

namespace nnghttp::detail::tls {

namespace {

// The options both endpoint kinds share; with mtx held by the caller.
int set_common(config*& cfg, std::string_view name, const opt_in& in) {
    if (name == NNG_OPT_TLS_CONFIG) {
        void* p = nullptr;
        if (int rv = copy_in(p, in); rv != 0) {
            return rv;
        }
        if (p == nullptr) {
            return NNG_EINVAL;
        }
        auto* n = static_cast<config*>(p);
        n->add_ref();
        cfg->release();
        cfg = n;
        return 0;
    }
    std::string_view s;
    if (name == NNG_OPT_TLS_SERVER_NAME) {
        if (int rv = copy_in_string(s, in, 256); rv != 0) {
            return rv;
        }
        return cfg->set_server_name(std::string(s).c_str());
    }
    if (name == NNG_OPT_TLS_AUTH_MODE) {
        int m = 0;
        if (int rv = copy_in_int(m, in, 0, 2); rv != 0) {
            return rv;
        }
        return cfg->set_auth_mode(static_cast<auth>(m));
    }
    if (name == NNG_OPT_TLS_CA_FILE) {
        if (int rv = copy_in_string(s, in, 4096); rv != 0) {
            return rv;
        }
        return cfg->set_ca_file(std::string(s).c_str());
    }
    if (name == NNG_OPT_TLS_CERT_KEY_FILE) {
        if (int rv = copy_in_string(s, in, 4096); rv != 0) {
            return rv;
        }
        return cfg->set_cert_key_file(std::string(s).c_str(), nullptr);
    }
    return NNG_ENOTSUP;
}

bool is_tls_option(std::string_view name) {
    return name == NNG_OPT_TLS_CONFIG || name == NNG_OPT_TLS_SERVER_NAME ||
           name == NNG_OPT_TLS_AUTH_MODE || name == NNG_OPT_TLS_CA_FILE ||
           name == NNG_OPT_TLS_CERT_KEY_FILE;
}

// Options of a TLS dialer or listener: the TLS ones here (cfg guarded by
// mtx), the rest from the TCP endpoint underneath.
template <typename Tcp>
int get_option(std::mutex& mtx, config* const& cfg, Tcp& tcp, std::string_view name,
               const opt_out& out) {
    if (name == NNG_OPT_TLS_CONFIG) {
        std::lock_guard lk(mtx);
        void* p = cfg;
        return copy_out(p, out);
    }
    if (is_tls_option(name)) {
        return NNG_EWRITEONLY;
    }
    return tcp.get(name, out);
}

template <typename Tcp>
int set_option(std::mutex& mtx, config*& cfg, Tcp& tcp, std::string_view name, const opt_in& in) {
    if (is_tls_option(name)) {
        std::lock_guard lk(mtx);
        return set_common(cfg, name, in);
    }
    return tcp.set(name, in);
}

class tls_dialer final : public stream_dialer {
  public:
    tls_dialer(stream_dialer* tcp, config* cfg, std::string host)
        : tcp_(tcp), cfg_(cfg), host_(std::move(host)) {}

    void dial(aio* a) override {
        if (!a->begin()) {
            return;
        }
        auto* op = new pending{this, a};
        add_ref();
        {
            std::lock_guard lk(mtx_);
            if (int rv = a->schedule(&tls_dialer::cancel, op, this); rv != 0) {
                delete op;
                release();
                a->finish(rv, 0);
                return;
            }
        }
        tcp_->dial(&op->inner);
    }
    void close() override { tcp_->close(); }
    int get(std::string_view name, const opt_out& out) override {
        return get_option(mtx_, cfg_, *tcp_, name, out);
    }
    int set(std::string_view name, const opt_in& in) override {
        return set_option(mtx_, cfg_, *tcp_, name, in);
    }

  private:
    ~tls_dialer() override {
        tcp_->close();
        tcp_->release();
        cfg_->release();
    }

    struct pending {
        pending(tls_dialer* d, aio* u) : owner(d), user(u), inner(&tls_dialer::dialed, this) {
            inner.set_timeout(NNG_DURATION_INFINITE);
        }
        tls_dialer* owner;
        aio* user;
        aio inner;
    };

    static void cancel(aio*, void* arg, int err) { static_cast<pending*>(arg)->inner.abort(err); }

    static void dialed(void* arg) {
        auto* op = static_cast<pending*>(arg);
        tls_dialer* d = op->owner;
        int rv = op->inner.result();
        tls_stream* ts = nullptr;
        if (rv == 0) {
            auto* st = static_cast<stream*>(op->inner.output(0));
            std::lock_guard lk(d->mtx_);
            std::string name = d->cfg_->server_name();
            if (name.empty()) {
                name = d->host_;
            }
            rv = tls_stream::create(ref_ptr<stream>::adopt(st), *d->cfg_, name, ts);
            if (rv == 0) {
                ts->start(); // the handshake goes on while the caller gets ready
            }
        }
        op->user->set_output(0, ts);
        op->user->finish_sync(rv, 0);
        // The pending op is freed on a loop: we are in its aio's callback.
        asio::post(executor::global().current_or_next().context(), [op] { delete op; });
        d->release();
    }

    std::mutex mtx_;
    stream_dialer* tcp_;
    config* cfg_;
    std::string host_;
};

class tls_listener final : public stream_listener {
  public:
    tls_listener(stream_listener* tcp, config* cfg) : tcp_(tcp), cfg_(cfg), inner_(&tls_listener::accepted, this) {
        inner_.set_timeout(NNG_DURATION_INFINITE);
    }

    int listen() override { return tcp_->listen(); }
    void accept(aio* a) override {
        if (!a->begin()) {
            return;
        }
        std::lock_guard lk(mtx_);
        if (user_ != nullptr) {
            a->finish(NNG_EBUSY, 0);
            return;
        }
        if (int rv = a->schedule(&tls_listener::cancel, this, this); rv != 0) {
            a->finish(rv, 0);
            return;
        }
        user_ = a;
        add_ref();
        tcp_->accept(&inner_);
    }
    void close() override { tcp_->close(); }
    int get(std::string_view name, const opt_out& out) override {
        return get_option(mtx_, cfg_, *tcp_, name, out);
    }
    int set(std::string_view name, const opt_in& in) override {
        return set_option(mtx_, cfg_, *tcp_, name, in);
    }

  private:
    ~tls_listener() override {
        inner_.stop();
        tcp_->close();
        tcp_->release();
        cfg_->release();
    }
    void destroy() noexcept override {
        asio::post(executor::global().current_or_next().context(), [this] { delete this; });
    }

    static void cancel(aio* a, void* arg, int err) {
        auto* l = static_cast<tls_listener*>(arg);
        {
            std::lock_guard lk(l->mtx_);
            if (l->user_ != a) {
                return;
            }
        }
        l->inner_.abort(err);
    }

    static void accepted(void* arg) {
        auto* l = static_cast<tls_listener*>(arg);
        aio* u;
        tls_stream* ts = nullptr;
        int rv = l->inner_.result();
        {
            std::lock_guard lk(l->mtx_);
            u = std::exchange(l->user_, nullptr);
            if (rv == 0) {
                auto* st = static_cast<stream*>(l->inner_.output(0));
                rv = tls_stream::create(ref_ptr<stream>::adopt(st), *l->cfg_, "", ts);
                if (rv == 0) {
                    ts->start();
                }
            }
        }
        if (u != nullptr) {
            u->set_output(0, ts);
            u->finish_sync(rv, 0);
        } else if (ts != nullptr) {
            ts->close();
            ts->release();
        }
        l->release();
    }

    std::mutex mtx_;
    stream_listener* tcp_;
    config* cfg_;
    aio* user_ = nullptr;
    aio inner_;
};

// "tls+tcp://h:p" -> "tcp://h:p" (and tcp4, tcp6).
bool plain_url(const nng_url& url, std::string& out) {
    if (url.u_scheme == nullptr || std::strncmp(url.u_scheme, "tls+", 4) != 0) {
        return false;
    }
    std::string rest = url.u_rawurl != nullptr ? url.u_rawurl : "";
    out = rest.substr(4);
    return true;
}

} // namespace

int wrap_dialer(stream_dialer* tcp, config* cfg, const std::string& host, stream_dialer*& out) {
    cfg->add_ref();
    out = new tls_dialer(tcp, cfg, host);
    return 0;
}

int wrap_listener(stream_listener* tcp, config* cfg, stream_listener*& out) {
    cfg->add_ref();
    out = new tls_listener(tcp, cfg);
    return 0;
}

int make_any_dialer(const nng_url& url, stream_dialer*& out) {
    std::string plain;
    if (!plain_url(url, plain)) {
        return make_dialer(url, out);
    }
    nng_url* u = nullptr;
    int rv = nng_url_parse(&u, plain.c_str());
    if (rv != 0) {
        return rv;
    }
    stream_dialer* tcp = nullptr;
    std::string scheme = u->u_scheme;
    if (scheme != "tcp" && scheme != "tcp4" && scheme != "tcp6") {
        nng_url_free(u);
        return NNG_ENOTSUP;
    }
    std::string host = u->u_hostname != nullptr ? u->u_hostname : "";
    rv = make_dialer(*u, tcp);
    nng_url_free(u);
    if (rv != 0) {
        return rv;
    }
    config* cfg = nullptr;
    if ((rv = config::create(mode::client, cfg)) != 0) {
        tcp->release();
        return rv;
    }
    rv = wrap_dialer(tcp, cfg, host, out);
    cfg->release();
    return rv;
}

int make_any_listener(const nng_url& url, stream_listener*& out) {
    std::string plain;
    if (!plain_url(url, plain)) {
        return make_listener(url, out);
    }
    nng_url* u = nullptr;
    int rv = nng_url_parse(&u, plain.c_str());
    if (rv != 0) {
        return rv;
    }
    std::string scheme = u->u_scheme;
    if (scheme != "tcp" && scheme != "tcp4" && scheme != "tcp6") {
        nng_url_free(u);
        return NNG_ENOTSUP;
    }
    stream_listener* tcp = nullptr;
    rv = make_listener(*u, tcp);
    nng_url_free(u);
    if (rv != 0) {
        return rv;
    }
    config* cfg = nullptr;
    if ((rv = config::create(mode::server, cfg)) != 0) {
        tcp->release();
        return rv;
    }
    rv = wrap_listener(tcp, cfg, out);
    cfg->release();
    return rv;
}

} // namespace nnghttp::detail::tls
