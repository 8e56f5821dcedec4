#include "http/server.hpp"

#include "core/executor.hpp"
#include "core/url.hpp"
#include "http/conn.hpp"
#include "http/http_time.hpp"
#include "http/message.hpp"
#include "http/mime.hpp"
#include "http/parser.hpp"

#include <asio/post.hpp>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace nnghttp::http {

// ---- one connection ----

class server_conn final : public ref_counted {
  public:
    server_conn(server& s, stream* st)
        : srv_(&s), rx_(&server_conn::rx_cb, this), body_(&server_conn::body_cb, this),
          cb_(&server_conn::cb_done, this), tx_(&server_conn::tx_cb, this) {
        srv_->add_ref();
        conn_ = new conn(ref_ptr<stream>::adopt(st));
        conn_->answer_bad_heads(true);
        body_.set_timeout(NNG_DURATION_INFINITE);
        tx_.set_timeout(NNG_DURATION_INFINITE);
        cb_.set_timeout(NNG_DURATION_INFINITE);
    }

    void start() {
        add_ref(); // the cycle's reference, dropped by finish()
        read_next();
    }

    void close() { conn_->close(); }

  private:
    ~server_conn() override {
        rx_.stop();
        body_.stop();
        cb_.stop();
        tx_.stop();
        if (!conn_->hijacked()) {
            conn_->close();
        }
        conn_->release();
        delete user_res_;
        srv_->release();
    }

    // Destroyed from inside our own aios' callbacks: finish elsewhere.
    void destroy() noexcept override {
        asio::post(executor::global().next().context(), [this] { delete this; });
    }

    void read_next() {
        req_.reset();
        res_.reset();
        delete std::exchange(user_res_, nullptr);
        handler_ = {};
        chunked_ = false;
        head_ = false;
        close_after_ = false;
        rx_.set_timeout(srv_->head_timeout);
        conn_->read_req(req_, &rx_);
    }

    void finish() {
        conn_->close();
        srv_->conn_done(this);
        release();
    }

    static void rx_cb(void* arg) { static_cast<server_conn*>(arg)->on_head(); }
    static void body_cb(void* arg) { static_cast<server_conn*>(arg)->on_body(); }
    static void cb_done(void* arg) { static_cast<server_conn*>(arg)->on_handler_done(); }
    static void tx_cb(void* arg) { static_cast<server_conn*>(arg)->on_sent(); }

    void on_head() {
        int rv = rx_.result();
        if (rv == NNG_EPROTO || rv == NNG_EMSGSIZE) {
            // Answer with the status for the rule the head broke, then
            // close: what follows cannot be trusted to be a request.
            int status = http_status(conn_->last_parse_error());
            close_after_ = true;
            respond_error(static_cast<std::uint16_t>(status != 0 ? status : 400));
            return;
        }
        if (rv != 0) {
            finish();
            return;
        }
        const char* version = req_.version();
        const char* connection = req_.get_header("Connection");
        bool keep_alive_asked = connection != nullptr && has_token(connection, "keep-alive");
        if (std::strcmp(version, "HTTP/1.0") == 0) {
            close_after_ = !keep_alive_asked;
        }
        if (connection != nullptr && has_token(connection, "close")) {
            close_after_ = true;
        }
        head_ = std::strcmp(req_.method(), "HEAD") == 0;

        if (std::strcmp(version, "HTTP/1.1") == 0 && req_.get_header("Host") == nullptr) {
            respond_error(400);
            return;
        }
        std::string path;
        if (!canonical_path(req_.uri(), path)) {
            respond_error(400);
            return;
        }
        auto routes = srv_->routes();
        match_result m = routes->match(path, req_.method(), req_.get_header("Host"));
        if (m.status == match_status::not_found) {
            respond_error(404);
            return;
        }
        if (m.status == match_status::bad_method) {
            res_.headers().set("Allow", m.allow);
            respond_error(405);
            return;
        }
        handler_ = ref_ptr<handler>(const_cast<handler*>(static_cast<const handler*>(m.target)));
        path_ = std::move(path);

        body_kind bk = conn_->last_body_kind();
        if (bk == body_kind::chunked) {
            if (!handler_->wants_body()) {
                close_after_ = true; // the body is not read: the stream cannot go on
                dispatch();
                return;
            }
            chunked_ = true;
            chunks_.reset();
            cbody_.clear();
            cpend_.clear();
            read_chunks();
            return;
        }
        std::int64_t cl = bk == body_kind::length ? conn_->last_content_length() : 0;
        if (cl > 0) {
            if (!handler_->wants_body()) {
                close_after_ = true; // the body is not read: the stream cannot go on
            } else if (static_cast<std::uint64_t>(cl) > handler_->max_body()) {
                close_after_ = true; // and not parsed as the next request
                respond_error(413);
                return;
            } else {
                body_buf_.reset(new (std::nothrow) char[static_cast<std::size_t>(cl)]);
                if (!body_buf_) {
                    close_after_ = true;
                    respond_error(500);
                    return;
                }
                body_len_ = static_cast<std::size_t>(cl);
                nng_iov iov{body_buf_.get(), body_len_};
                (void)body_.set_iov(1, &iov);
                body_.set_timeout(srv_->head_timeout);
                conn_->read_all(&body_);
                return;
            }
        }
        dispatch();
    }

    // A chunked body: raw reads into a scratch buffer, decoded as they come.
    void read_chunks() {
        if (!scratch_) {
            scratch_.reset(new (std::nothrow) char[scratch_size]);
            if (!scratch_) {
                finish();
                return;
            }
        }
        nng_iov iov{scratch_.get(), scratch_size};
        (void)body_.set_iov(1, &iov);
        body_.set_timeout(srv_->head_timeout);
        conn_->read(&body_);
    }

    void on_chunks() {
        if (body_.result() != 0) {
            finish();
            return;
        }
        cpend_.append(scratch_.get(), body_.count());
        std::size_t pos = 0;
        for (;;) {
            chunk_result r = chunks_.decode(std::string_view(cpend_).substr(pos));
            pos += r.consumed;
            switch (r.status) {
            case chunk_status::data:
                if (cbody_.size() + r.data.size() > handler_->max_body()) {
                    close_after_ = true;
                    respond_error(413);
                    return;
                }
                cbody_.append(r.data);
                continue;
            case chunk_status::need_more:
                cpend_.erase(0, pos);
                read_chunks();
                return;
            case chunk_status::error:
                close_after_ = true;
                respond_error(static_cast<std::uint16_t>(http_status(r.error)));
                return;
            case chunk_status::done:
                // What follows the body is the next request: give it back.
                if (conn_->put_back(std::string_view(cpend_).substr(pos)) != 0) {
                    close_after_ = true;
                }
                chunked_ = false;
                req_.body().copy(cbody_.data(), cbody_.size());
                dispatch();
                return;
            }
        }
    }

    void on_body() {
        if (chunked_) {
            on_chunks();
            return;
        }
        if (body_.result() != 0) {
            finish();
            return;
        }
        req_.body().adopt(std::move(body_buf_), body_len_);
        dispatch();
    }

    void dispatch() {
        handler& h = *handler_;
        switch (h.what()) {
        case handler::kind::custom:
            if (!cb_.begin()) {
                finish();
                return;
            }
            cb_.set_input(0, &req_);
            cb_.set_input(1, &h);
            cb_.set_input(2, conn_);
            cb_.set_output(0, nullptr);
            h.callback()(reinterpret_cast<::nng_aio*>(&cb_));
            return;
        case handler::kind::static_data:
            res_.set_status(200);
            res_.headers().set("Content-Type", h.content_type());
            res_.set_data(h.resource().data(), h.resource().size());
            send(res_);
            return;
        case handler::kind::redirect: {
            // The part of the path below the handler's goes along.
            std::string where = h.resource();
            std::string_view hp = h.path() == "/" ? std::string_view() : std::string_view(h.path());
            if (path_.size() > hp.size()) {
                std::string_view rest = std::string_view(path_).substr(hp.size());
                if (!where.empty() && where.back() == '/' && rest.front() == '/') {
                    rest.remove_prefix(1);
                }
                where += rest;
            }
            make_error(res_, h.redirect_status(), "Moved to " + where);
            res_.headers().set("Location", where);
            close_after_ = true; // as NNG: a redirect ends the connection
            send(res_);
            return;
        }
        case handler::kind::file:
            serve_file(h.resource(), h.content_type());
            return;
        case handler::kind::directory:
            serve_directory(h);
            return;
        }
    }

    // The file is read whole into the response for now; streaming with
    // sendfile (and conditional/range requests) is the next step.
    void serve_file(const std::string& file, const std::string& ctype) {
        std::ifstream f(file, std::ios::binary);
        if (!f) {
            respond_error(errno == EACCES ? 403 : 404);
            return;
        }
        std::ostringstream ss;
        ss << f.rdbuf();
        std::string data = std::move(ss).str();
        res_.set_status(200);
        res_.headers().set("Content-Type",
                           ctype.empty() ? std::string(mime_type_for(file)) : ctype);
        res_.copy_data(data.data(), data.size());
        send(res_);
    }

    // The request path below the handler's, under the handler's root
    // directory.  path_ is canonical (no "..", no escaped separators or
    // NUL), and the resolved file must still lie under the root's real
    // path, so neither ".." nor a symbolic link leads outside it.
    void serve_directory(const handler& h) {
        std::string_view hp = h.path() == "/" ? std::string_view() : std::string_view(h.path());
        std::string rel = path_.substr(std::min(path_.size(), hp.size()));
        char root_real[PATH_MAX];
        if (::realpath(h.resource().c_str(), root_real) == nullptr) {
            respond_error(404);
            return;
        }
        std::string candidate = std::string(root_real) + rel;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            bool found = false;
            for (const char* index : {"index.html", "index.htm"}) {
                std::string p = candidate + (candidate.back() == '/' ? "" : "/") + index;
                if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
                    candidate = std::move(p);
                    found = true;
                    break;
                }
            }
            if (!found) {
                respond_error(404);
                return;
            }
        }
        char real[PATH_MAX];
        std::string_view root(root_real);
        if (::realpath(candidate.c_str(), real) == nullptr ||
            std::string_view(real).substr(0, root.size()) != root ||
            (real[root.size()] != '/' && real[root.size()] != '\0')) {
            respond_error(404);
            return;
        }
        if (::stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
            respond_error(404);
            return;
        }
        serve_file(real, "");
    }

    void on_handler_done() {
        if (conn_->hijacked()) {
            finish(); // the handler owns the connection now
            return;
        }
        auto* out = static_cast<response*>(cb_.output(0));
        if (cb_.result() != 0 || out == nullptr) {
            delete out;
            close_after_ = true;
            respond_error(500);
            return;
        }
        user_res_ = out;
        send(*out);
    }

    void respond_error(std::uint16_t status) {
        res_.set_status(status);
        srv_->res_error(res_);
        send(res_);
    }

    // Adds the headers every response carries, then writes it.
    void send(response& r) {
        if (r.get_header("Content-Length") == nullptr) {
            r.headers().set("Content-Length", std::to_string(r.body().size()));
        }
        r.headers().set("Date", http_date_now());
        if (r.get_header("Server") == nullptr) {
            r.headers().set("Server", "nng-http");
        }
        if (close_after_) {
            r.headers().set("Connection", "close");
        } else if (std::strcmp(req_.version(), "HTTP/1.0") == 0) {
            r.headers().set("Connection", "keep-alive");
        }
        if (head_) {
            r.body().borrow(nullptr, 0); // the head only; Content-Length stays
        }
        conn_->write_res(r, &tx_);
    }

    void on_sent() {
        if (tx_.result() != 0 || close_after_) {
            finish();
            return;
        }
        read_next();
    }

    static bool has_token(const char* list, std::string_view token) {
        std::string_view s(list);
        while (!s.empty()) {
            auto comma = s.find(',');
            std::string_view item = s.substr(0, comma);
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
                item.remove_prefix(1);
            }
            while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
                item.remove_suffix(1);
            }
            if (iequals(item, token)) {
                return true;
            }
            if (comma == std::string_view::npos) {
                break;
            }
            s.remove_prefix(comma + 1);
        }
        return false;
    }

    server* srv_;
    conn* conn_ = nullptr;
    request req_;
    response res_;
    response* user_res_ = nullptr;
    ref_ptr<handler> handler_;
    std::string path_;
    std::unique_ptr<char[]> body_buf_;
    std::size_t body_len_ = 0;
    bool head_ = false;
    bool close_after_ = false;
    // Chunked request bodies.
    static constexpr std::size_t scratch_size = 16 * 1024;
    bool chunked_ = false;
    chunk_decoder chunks_;
    std::string cbody_; // decoded so far
    std::string cpend_; // received, not yet decoded
    std::unique_ptr<char[]> scratch_;
    aio rx_, body_, cb_, tx_;
};

// ---- the registry of held servers ----

namespace {

struct registry {
    std::mutex mtx;
    std::map<std::string, std::pair<server*, unsigned>> servers; // key -> server, holds
};

registry& reg() {
    static auto* r = new registry; // never destroyed: used after main() returns
    return *r;
}

} // namespace

int server::hold(const nng_url& url, server*& out) {
    if (url.u_scheme == nullptr || std::strcmp(url.u_scheme, "http") != 0) {
        return url.u_scheme != nullptr && std::strcmp(url.u_scheme, "https") == 0 ? NNG_ENOTSUP
                                                                                  : NNG_EADDRINVAL;
    }
    std::string host = url.u_hostname != nullptr ? url.u_hostname : "";
    std::string port = url.u_port != nullptr && *url.u_port != '\0' ? url.u_port : "80";
    std::string bracketed = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    std::string key = "http://" + bracketed + ":" + port;
    registry& r = reg();
    std::lock_guard lk(r.mtx);
    if (auto it = r.servers.find(key); it != r.servers.end()) {
        it->second.second++;
        out = it->second.first;
        return 0;
    }
    auto* s = new server(key, "tcp://" + bracketed + ":" + port);
    r.servers.emplace(key, std::make_pair(s, 1u));
    out = s;
    return 0;
}

server::server(std::string key, std::string listen_url)
    : key_(std::move(key)), listen_url_(std::move(listen_url)), routes_(std::make_shared<router>()),
      accept_aio_(&server::accept_cb, this) {
    accept_aio_.set_timeout(NNG_DURATION_INFINITE);
}

server::~server() {
    accept_aio_.stop();
    for (handler* h : handlers_) {
        h->release();
    }
}

void server::destroy() noexcept {
    asio::post(executor::global().next().context(), [this] { delete this; });
}

// nng_http_server_release: the last holder stops the server.
void server_release(server* s) {
    registry& r = reg();
    {
        std::lock_guard lk(r.mtx);
        for (auto it = r.servers.begin(); it != r.servers.end(); ++it) {
            if (it->second.first == s) {
                if (--it->second.second > 0) {
                    return;
                }
                r.servers.erase(it);
                break;
            }
        }
    }
    s->stop();
    s->release();
}

std::shared_ptr<const router> server::routes() const {
    std::lock_guard lk(mtx_);
    return routes_;
}

int server::start() {
    std::lock_guard lk(mtx_);
    if (starts_++ > 0) {
        return 0;
    }
    nng_url* u = nullptr;
    int rv = nng_url_parse(&u, listen_url_.c_str());
    if (rv == 0) {
        rv = make_listener(*u, listener_);
        nng_url_free(u);
    }
    if (rv == 0 && (rv = listener_->listen()) != 0) {
        listener_->close();
        listener_->release();
        listener_ = nullptr;
    }
    if (rv != 0) {
        starts_--;
        return rv;
    }
    listener_->accept(&accept_aio_);
    return 0;
}

void server::stop() {
    stream_listener* l = nullptr;
    std::set<server_conn*> conns;
    {
        std::lock_guard lk(mtx_);
        if (starts_ == 0 || --starts_ > 0) {
            return;
        }
        l = std::exchange(listener_, nullptr);
        conns = conns_;
        for (server_conn* c : conns) {
            c->add_ref();
        }
    }
    if (l != nullptr) {
        l->close(); // the pending accept fails; with listener_ gone it stops
    }
    accept_aio_.wait(); // not stop(): a later start() accepts again
    if (l != nullptr) {
        l->release();
    }
    for (server_conn* c : conns) {
        c->close();
        c->release();
    }
}

void server::accept_cb(void* arg) {
    auto* s = static_cast<server*>(arg);
    int rv = s->accept_aio_.result();
    std::lock_guard lk(s->mtx_);
    if (rv == 0) {
        auto* st = static_cast<stream*>(s->accept_aio_.output(0));
        auto* c = new server_conn(*s, st);
        s->conns_.insert(c);
        c->start();
    }
    if (s->listener_ != nullptr && rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
        s->listener_->accept(&s->accept_aio_);
    }
}

void server::conn_done(server_conn* c) {
    std::lock_guard lk(mtx_);
    if (conns_.erase(c) > 0) {
        c->release();
    }
}

int server::add_handler(handler& h) {
    std::lock_guard lk(mtx_);
    if (handlers_.count(&h) > 0) {
        return NNG_EADDRINUSE;
    }
    auto next = std::make_shared<router>(*routes_);
    if (int rv = next->add(h.to_route()); rv != 0) {
        return rv;
    }
    h.freeze();
    h.add_ref(); // the server's, until del_handler or the server goes
    handlers_.insert(&h);
    routes_ = std::move(next);
    return 0;
}

int server::del_handler(handler& h) {
    std::lock_guard lk(mtx_);
    if (handlers_.erase(&h) == 0) {
        return NNG_ENOENT;
    }
    auto next = std::make_shared<router>(*routes_);
    next->remove(&h);
    routes_ = std::move(next);
    h.release();
    return 0;
}

int server::get_addr(nng_sockaddr& sa) {
    std::lock_guard lk(mtx_);
    if (listener_ == nullptr) {
        return NNG_ESTATE;
    }
    std::size_t sz = sizeof sa;
    return listener_->get(NNG_OPT_LOCADDR, opt_out{&sa, &sz, opt_type::sockaddr});
}

int server::set_error_page(std::uint16_t status, std::string html) {
    std::lock_guard lk(mtx_);
    error_pages_[status] = std::move(html);
    return 0;
}

int server::set_error_file(std::uint16_t status, const char* path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        return NNG_ENOENT;
    }
    std::ostringstream ss;
    ss << f.rdbuf();
    return set_error_page(status, ss.str());
}

void server::res_error(response& res) {
    std::uint16_t status = res.status();
    std::string page;
    {
        std::lock_guard lk(mtx_);
        if (auto it = error_pages_.find(status); it != error_pages_.end()) {
            page = it->second;
        }
    }
    if (page.empty()) {
        make_error(res, status);
        return;
    }
    res.headers().set("Content-Type", "text/html; charset=UTF-8");
    res.copy_data(page.data(), page.size());
}

} // namespace nnghttp::http
