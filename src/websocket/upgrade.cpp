#include "websocket/upgrade.hpp"

#include "core/executor.hpp"
#include "http/client.hpp"
#include "http/parser.hpp"
#include "websocket/extensions.hpp"
#include "websocket/handshake.hpp"
#include "websocket/random.hpp"

#include <asio/post.hpp>
#include <cstring>
#include <mutex>
#include <string_view>

namespace nnghttp::detail::ws {

namespace {

std::string_view field(const http::message& m, std::string_view name) {
    const char* v = m.get_header(name);
    return v != nullptr ? std::string_view(v) : std::string_view();
}

std::uint16_t refuse(http::response& res, std::uint16_t status, std::string_view why) {
    res.set_status(status);
    res.set_reason(http::reason_phrase(status));
    res.headers().set("Content-Type", "text/plain; charset=utf-8");
    std::string body = "WebSocket handshake refused: ";
    body.append(why).append("\n");
    res.copy_data(body.data(), body.size());
    return status;
}

} // namespace

std::uint16_t answer_upgrade(const http::request& req, const accept_options& opts,
                             http::response& res, std::string& protocol,
                             std::optional<deflate_params>* deflate) {
    protocol.clear();
    if (deflate != nullptr) {
        deflate->reset();
    }
    if (std::strcmp(req.method(), "GET") != 0) {
        res.headers().set("Allow", "GET");
        return refuse(res, 405, "the method must be GET");
    }
    if (std::strcmp(req.version(), "HTTP/1.1") != 0) {
        return refuse(res, 400, "HTTP/1.1 is required");
    }
    const char* upgrade = req.get_header("Upgrade");
    if (upgrade == nullptr) {
        // A plain request for a WebSocket resource.
        res.headers().set("Upgrade", "websocket");
        res.headers().set("Connection", "Upgrade");
        return refuse(res, 426, "this resource speaks WebSocket only");
    }
    if (!upgrade_has_websocket(upgrade)) {
        return refuse(res, 400, "Upgrade does not name websocket");
    }
    if (!token_list_contains(field(req, "Connection"), "upgrade")) {
        return refuse(res, 400, "Connection does not list upgrade");
    }
    const char* version = req.get_header("Sec-WebSocket-Version");
    if (version == nullptr) {
        return refuse(res, 400, "Sec-WebSocket-Version is missing");
    }
    if (!is_supported_version(version)) {
        res.headers().set("Sec-WebSocket-Version", websocket_version);
        return refuse(res, 426, "only Sec-WebSocket-Version 13 is supported");
    }
    const char* key = req.get_header("Sec-WebSocket-Key");
    if (key == nullptr || !is_valid_key(key)) {
        return refuse(res, 400, "Sec-WebSocket-Key is missing or not 16 bytes in base64");
    }
    std::vector<std::string_view> offered;
    if (const char* p = req.get_header("Sec-WebSocket-Protocol"); p != nullptr) {
        if (!parse_protocols(p, offered)) {
            return refuse(res, 400, "Sec-WebSocket-Protocol is malformed");
        }
    }
    if (!opts.protocols.empty()) {
        std::vector<std::string_view> supported(opts.protocols.begin(), opts.protocols.end());
        if (auto chosen = choose_protocol(offered, supported)) {
            protocol.assign(*chosen);
        } else if (opts.require_protocol) {
            return refuse(res, 400, "no offered subprotocol is supported");
        }
    }
    std::string accept = accept_key(key);
    if (accept.empty()) {
        return refuse(res, 500, "the accept key could not be computed");
    }
    res.set_status(101);
    res.set_reason("Switching Protocols");
    for (const http::header& h : opts.headers.fields()) {
        res.headers().set(h.name, h.value);
    }
    res.headers().set("Upgrade", "websocket");
    res.headers().set("Connection", "Upgrade");
    res.headers().set("Sec-WebSocket-Accept", accept);
    if (!protocol.empty()) {
        res.headers().set("Sec-WebSocket-Protocol", protocol);
    }
    if (opts.deflate.enabled && deflate != nullptr) {
        // Offers that do not parse are passed over, as offers that cannot
        // be honoured are (RFC 7692 section 5: the server declines).
        std::vector<extension> offers;
        for (const http::header& h : req.headers().fields()) {
            if (http::iequals(h.name, "Sec-WebSocket-Extensions")) {
                (void)parse_extensions(h.value, offers);
            }
        }
        std::string answer;
        *deflate = deflate_accept(opts.deflate, offers, answer);
        if (*deflate) {
            res.headers().set("Sec-WebSocket-Extensions", answer);
        }
    }
    return 101;
}

// ---- server: sending the 101 ----

namespace {

struct accept_job {
    ref_ptr<http::conn> conn;
    std::unique_ptr<http::response> res;
    std::unique_ptr<handshake_info> info;
    settings cfg;
    upgrade_ready_fn fn;
    void* arg;
    ref_ptr<ref_counted> keep;
    aio tx;

    accept_job() : tx(&accept_job::sent, this) {}

    static void sent(void* p) {
        auto* job = static_cast<accept_job*>(p);
        int rv = job->tx.result();
        connection* c = nullptr;
        if (rv == 0) {
            std::string rest;
            ref_ptr<stream> s = job->conn->take_stream(rest);
            if (s) {
                c = new connection(std::move(s), std::move(rest), job->cfg);
            } else {
                rv = NNG_ECLOSED;
            }
        }
        if (rv != 0) {
            job->conn->close();
        }
        job->conn = {};
        job->fn(job->arg, rv, c, std::move(job->info));
        // The aio is ours and its callback is this one: free the job on a
        // loop, where no callback of it runs.
        delete_later(job);
    }

    static void delete_later(accept_job* job) {
        asio::post(executor::global().current_or_next().context(), [job] { delete job; });
    }
};

} // namespace

void finish_upgrade(http::conn& c, std::unique_ptr<http::response> res,
                    std::unique_ptr<handshake_info> info, const settings& cfg, upgrade_ready_fn fn,
                    void* arg, ref_counted* keep) {
    auto* job = new accept_job;
    c.hijack(); // a reference of our own, adopted by the job
    job->conn = ref_ptr<http::conn>::adopt(&c);
    job->res = std::move(res);
    job->info = std::move(info);
    job->cfg = cfg;
    job->cfg.side = role::server;
    if (job->info && job->info->deflate) {
        job->cfg.deflate = job->info->deflate;
    }
    job->fn = fn;
    job->arg = arg;
    job->keep = ref_ptr<ref_counted>(keep);
    // The 101 goes out within twice the closing bound (or 10 s).
    job->tx.set_timeout(cfg.close_timeout > 0 && cfg.close_timeout < 1000000 ? cfg.close_timeout * 2
                                                                            : 10000);
    job->conn->write_res(*job->res, &job->tx);
}

// ---- client ----

namespace {

int refusal_error(std::uint16_t status) {
    switch (status) {
    case 401:
    case 403:
        return NNG_EPERM;
    case 404:
    case 405:
        return NNG_ECONNREFUSED;
    default:
        return NNG_EPROTO;
    }
}

struct dial_job final : ref_counted {
    ref_ptr<http::conn> conn;
    dial_options opts;
    std::string key;
    http::request req;
    http::response res;
    std::unique_ptr<handshake_info>* info_out = nullptr;
    aio* user = nullptr;
    aio io;
    std::mutex mtx;
    http::client* cli = nullptr; // connect first (stage 0)
    int stage = 1;               // 0 connect, 1 write, 2 read
    int canceled = 0;
    std::optional<deflate_params> agreed; // permessage-deflate, from the answer

    dial_job() : io(&dial_job::step, this) {}

    // A cancel that came between two stages found no operation to abort
    // (an abort is not remembered): abort the one just started.
    void catch_up() {
        int err;
        {
            std::lock_guard lk(mtx);
            err = canceled;
        }
        if (err != 0) {
            io.abort(err);
        }
    }

    static void cancel(aio* a, void* arg, int err) {
        auto* job = static_cast<dial_job*>(arg);
        {
            std::lock_guard lk(job->mtx);
            if (job->user != a) {
                return;
            }
            job->canceled = err;
        }
        job->io.abort(err); // the step then fails the user's aio
    }

    void finish(int rv, connection* c) {
        aio* a;
        {
            std::lock_guard lk(mtx);
            a = std::exchange(user, nullptr);
        }
        if (a == nullptr) {
            if (c != nullptr) {
                c->abort();
                c->release();
            }
            return;
        }
        a->set_output(0, c);
        a->finish(rv, 0);
    }

    int check() {
        if (res.status() != 101) {
            return refusal_error(res.status());
        }
        if (!upgrade_has_websocket(field(res, "Upgrade")) ||
            !token_list_contains(field(res, "Connection"), "upgrade") ||
            !accept_matches(key, field(res, "Sec-WebSocket-Accept"))) {
            return NNG_EPROTO;
        }
        // Only what was offered may be accepted (RFC 6455 section 9.1).
        std::vector<extension> answer;
        for (const http::header& h : res.headers().fields()) {
            if (http::iequals(h.name, "Sec-WebSocket-Extensions") &&
                !parse_extensions(h.value, answer)) {
                return NNG_EPROTO;
            }
        }
        if (!opts.deflate.enabled) {
            if (!answer.empty()) {
                return NNG_EPROTO;
            }
        } else {
            deflate_answer d = check_deflate_answer(opts.deflate, answer);
            if (d.error != deflate_answer_error::none) {
                return NNG_EPROTO;
            }
            agreed = d.params;
        }
        if (const char* p = res.get_header("Sec-WebSocket-Protocol"); p != nullptr) {
            std::vector<std::string_view> offered(opts.protocols.begin(), opts.protocols.end());
            if (!is_offered_protocol(offered, p)) {
                return NNG_EPROTO;
            }
        }
        return 0;
    }

    static void step(void* p) {
        auto* job = static_cast<dial_job*>(p);
        int rv = job->io.result();
        if (rv == 0 && job->stage == 0) {
            // Connected: the conn is ours from here, even if a cancel came
            // meanwhile (it is closed below then).
            job->conn = ref_ptr<http::conn>::adopt(static_cast<http::conn*>(job->io.output(0)));
        }
        if (rv == 0) {
            std::lock_guard lk(job->mtx);
            rv = job->canceled;
        }
        if (rv == 0 && job->stage < 2) {
            // (The next stage may finish, and end the job, on another
            // thread before catch_up() returns: hold it meanwhile.)
            job->add_ref();
            if (job->stage++ == 0) {
                job->conn->write_req(job->req, &job->io);
            } else {
                job->conn->read_res(job->res, &job->io);
            }
            job->catch_up();
            job->release();
            return;
        }
        connection* c = nullptr;
        if (rv == 0) {
            rv = job->check();
        }
        if (rv == 0) {
            std::string rest;
            ref_ptr<stream> s = job->conn->take_stream(rest);
            if (!s) {
                rv = NNG_ECLOSED;
            } else {
                if (job->info_out != nullptr) {
                    auto info = std::make_unique<handshake_info>();
                    info->uri = job->opts.uri;
                    info->request_headers = job->req.headers();
                    info->response_headers = job->res.headers();
                    if (const char* pr = job->res.get_header("Sec-WebSocket-Protocol")) {
                        info->protocol = pr;
                    }
                    info->deflate = job->agreed;
                    *job->info_out = std::move(info);
                }
                settings cfg = job->opts.cfg;
                cfg.side = role::client;
                cfg.deflate = job->agreed;
                c = new connection(std::move(s), std::move(rest), cfg);
            }
        }
        if (rv != 0 && job->conn) {
            job->conn->close();
        }
        job->conn = {};
        if (job->cli != nullptr) {
            job->cli->release();
            job->cli = nullptr;
        }
        job->finish(rv, c);
        job->release();
    }

    void destroy() noexcept override {
        asio::post(executor::global().current_or_next().context(), [this] { delete this; });
    }
};

} // namespace

namespace {

void start_dial(ref_ptr<http::conn> c, http::client* cli, dial_options opts, aio* a,
                std::unique_ptr<handshake_info>* info) {
    if (!a->begin()) {
        if (c) {
            c->close();
        }
        return;
    }
    auto* job = new dial_job;
    job->conn = std::move(c);
    job->opts = std::move(opts);
    job->info_out = info;
    job->key = random_handshake_key();
    if (job->key.empty()) {
        if (job->conn) {
            job->conn->close();
        }
        job->release();
        a->finish(NNG_EINTERNAL, 0);
        return;
    }
    http::request& req = job->req;
    req.set_method("GET");
    req.set_uri(job->opts.uri.empty() ? std::string_view("/") : std::string_view(job->opts.uri));
    req.set_version("HTTP/1.1");
    req.headers().set("Host", job->opts.host);
    for (const http::header& h : job->opts.headers.fields()) {
        req.headers().set(h.name, h.value);
    }
    req.headers().set("Upgrade", "websocket");
    req.headers().set("Connection", "Upgrade");
    req.headers().set("Sec-WebSocket-Key", job->key);
    req.headers().set("Sec-WebSocket-Version", websocket_version);
    if (!job->opts.protocols.empty()) {
        std::string list;
        for (const std::string& p : job->opts.protocols) {
            if (!list.empty()) {
                list.append(", ");
            }
            list.append(p);
        }
        req.headers().set("Sec-WebSocket-Protocol", list);
    }
    if (job->opts.deflate.enabled) {
        std::string offer;
        append_deflate_offer(offer, job->opts.deflate);
        if (!offer.empty()) {
            req.headers().set("Sec-WebSocket-Extensions", offer);
        }
    }
    job->user = a;
    if (int rv = a->schedule(&dial_job::cancel, job, job); rv != 0) {
        job->user = nullptr;
        if (job->conn) {
            job->conn->close();
        }
        job->release();
        a->finish(rv, 0);
        return;
    }
    // The caller's aio bounds the whole handshake (its cancel reaches io).
    job->io.set_timeout(NNG_DURATION_INFINITE);
    job->add_ref(); // for catch_up(), as in step()
    if (cli != nullptr) {
        cli->add_ref();
        job->cli = cli;
        job->stage = 0;
        cli->connect(&job->io);
    } else {
        job->conn->write_req(req, &job->io);
    }
    job->catch_up();
    job->release();
}

} // namespace

void client_upgrade(ref_ptr<http::conn> c, dial_options opts, aio* a,
                    std::unique_ptr<handshake_info>* info) {
    start_dial(std::move(c), nullptr, std::move(opts), a, info);
}

void dial(http::client& cli, dial_options opts, aio* a, std::unique_ptr<handshake_info>* info) {
    start_dial({}, &cli, std::move(opts), a, info);
}

} // namespace nnghttp::detail::ws
