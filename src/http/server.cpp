#include "http/server.hpp"

#include "core/blocking.hpp"
#include "core/executor.hpp"
#include "core/url.hpp"
#include "http/conn.hpp"
#include "http/http_time.hpp"
#include "http/message.hpp"
#include "http/mime.hpp"
#include "http/parser.hpp"
#include "http/range.hpp"
#include "http/server_conn.hpp"
#include "tls/transport.hpp"

#include <asio/post.hpp>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace nnghttp::detail::http {

namespace {

// The slot of the loop a stream lives on.
server::slot& slot_for(server::slot* slots, unsigned n, stream& st) {
    asio::io_context* ctx = st.home();
    unsigned i = ctx != nullptr ? executor::global().index_of(*ctx) : 0;
    return slots[i % n];
}

time_ms deadline_after(nng_duration d) {
    return d < 0 ? time_never : clock_ms() + static_cast<time_ms>(d);
}

} // namespace

// ---- the per-request state of an active connection ----

class session {
  public:
    explicit session(server& s)
        : srv_(&s), rx_(&session::rx_cb, this), body_(&session::body_cb, this),
          cb_(&session::cb_done, this), tx_(&session::tx_cb, this), aux_(nullptr, nullptr) {
        body_.set_timeout(NNG_DURATION_INFINITE);
        cb_.set_timeout(NNG_DURATION_INFINITE);
        aux_.set_timeout(NNG_DURATION_INFINITE);
    }

    ~session() {
        rx_.stop();
        body_.stop();
        cb_.stop();
        tx_.stop();
        aux_.stop();
        close_file();
        if (conn_ != nullptr) {
            conn_->release();
        }
        delete user_res_;
    }

    // Takes the connection rec, whose stream has bytes to read (with rec's
    // slot locked: stop() may look at conn_), ...
    void attach(server_conn* rec, ref_ptr<stream> st) {
        rec_ = rec;
        if (conn_ == nullptr) {
            parser_options opts;
            opts.check_host = true; // a bad Host is 400 (RFC 9112 section 3.2)
            conn_ = new conn(std::move(st), opts);
            conn_->answer_bad_heads(true);
        } else {
            conn_->attach(std::move(st));
        }
    }
    // Pooled: lets go of the conn's read buffer (the next read makes one).
    void drop_buffer() {
        if (conn_ != nullptr) {
            conn_->drop_buffer();
        }
    }
    // Bytes the parked wait received, read before the stream's.
    void put_back(std::string_view bytes) {
        if (conn_->put_back(bytes) != 0) {
            conn_->close(); // out of memory: the request cannot be read
        }
    }
    // ... then serves it (unlocked).
    void begin() { read_next(srv_->head_timeout_.load(std::memory_order_relaxed)); }

    // stop(): ends the current request by closing the connection.
    void close() { conn_->close(); }

  private:
    friend class nnghttp::detail::http::server;

    static void rx_cb(void* arg) { static_cast<session*>(arg)->on_head(); }
    static void body_cb(void* arg) { static_cast<session*>(arg)->on_body(); }
    static void cb_done(void* arg) { static_cast<session*>(arg)->on_handler_done(); }
    static void tx_cb(void* arg) { static_cast<session*>(arg)->on_sent(); }

    void read_next(nng_duration timeout) {
        req_.reset();
        res_.reset();
        delete std::exchange(user_res_, nullptr);
        handler_ = {};
        chunked_ = false;
        head_ = false;
        close_after_ = false;
        body_pending_ = false;
        bad_head_ = false;
        client_closes_ = false;
        lingering_ = false;
        close_file();
        // Sends are bounded by progress (send_timeout without a byte
        // moving), never as a whole; the head by rx_'s own deadline.
        conn_->set_progress_timeouts(NNG_DURATION_INFINITE,
                                     srv_->send_timeout_.load(std::memory_order_relaxed));
        rx_.set_timeout(timeout);
        conn_->read_req(req_, &rx_);
    }

    // The connection ends: closed, unless a handler hijacked it.
    void finish();
    // Between requests with nothing buffered: the connection waits without
    // this session.
    void park();

    void on_head() {
        int rv = rx_.result();
        if (rv == NNG_EPROTO || rv == NNG_EMSGSIZE) {
            // Answer with the status for the rule the head broke, then
            // close: what follows cannot be trusted to be a request.
            int status = http_status(conn_->last_parse_error());
            close_after_ = true;
            bad_head_ = true; // the rest of the input is read and dropped
            respond_error(static_cast<std::uint16_t>(status != 0 ? status : 400));
            return;
        }
        if (rv != 0) {
            finish();
            return;
        }
        const char* version = req_.version();
        bool http10 = std::strcmp(version, "HTTP/1.0") == 0;
        const char* connection = req_.get_header("Connection");
        if (http10) {
            close_after_ = connection == nullptr || !list_has_token(connection, "keep-alive");
        }
        if (connection != nullptr && list_has_token(connection, "close")) {
            close_after_ = true;
        }
        client_closes_ = close_after_; // the client said this is its last request
        head_ = std::strcmp(req_.method(), "HEAD") == 0;
        // Until the body is read to its end, any answer closes the
        // connection (stamp): the body must never be taken for the next
        // request, whichever path answers before reading it.
        body_kind bk = conn_->last_body_kind();
        std::int64_t cl = bk == body_kind::length ? conn_->last_content_length() : 0;
        body_pending_ = bk == body_kind::chunked || cl > 0;

        if (!http10 && req_.get_header("Host") == nullptr) {
            respond_error(400);
            return;
        }
        if (!canonical_path(req_.uri(), path_)) {
            respond_error(400);
            return;
        }
        std::uint64_t gen = srv_->routes_gen();
        if (gen != routes_gen_) {
            routes_ = srv_->routes();
            routes_gen_ = gen;
        }
        match_result m = routes_->match(path_, req_.method(), req_.get_header("Host"));
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

        if (!body_pending_) {
            dispatch();
            return;
        }
        if (!handler_->wants_body()) {
            // The handler may read the body itself (through the conn); the
            // server cannot know how much it left, so the connection ends
            // after the answer (body_pending_ stays set).
            dispatch();
            return;
        }
        if (cl > 0 && static_cast<std::uint64_t>(cl) > handler_->max_body()) {
            respond_error(413);
            return;
        }
        // RFC 9110 10.1.1: a client that sent "Expect: 100-continue" waits
        // for this before sending the body (HTTP/1.0 clients never do).
        if (!http10) {
            if (const char* expect = req_.get_header("Expect");
                expect != nullptr && list_has_token(expect, "100-continue")) {
                static constexpr char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                nng_iov iov{const_cast<char*>(cont), sizeof cont - 1};
                (void)aux_.set_iov(1, &iov);
                conn_->write_all(&aux_); // queued before the response
            }
        }
        // The body timeout bounds each wait for more of it, not the whole:
        // a slow upload that keeps coming is never cut.
        body_.set_timeout(NNG_DURATION_INFINITE);
        conn_->set_progress_timeouts(srv_->body_timeout_.load(std::memory_order_relaxed),
                                     srv_->send_timeout_.load(std::memory_order_relaxed));
        if (bk == body_kind::chunked) {
            chunked_ = true;
            chunks_.reset();
            cbody_.clear();
            cpend_.clear();
            read_chunks();
            return;
        }
        body_buf_.reset(new (std::nothrow) char[static_cast<std::size_t>(cl)]);
        if (!body_buf_) {
            respond_error(500);
            return;
        }
        body_len_ = static_cast<std::size_t>(cl);
        nng_iov iov{body_buf_.get(), body_len_};
        (void)body_.set_iov(1, &iov);
        conn_->read_all(&body_);
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
            if (r.status == chunk_status::error) {
                // Before the size check: a size that overflows is malformed
                // (400), not merely too big.
                respond_error(static_cast<std::uint16_t>(http_status(r.error)));
                return;
            }
            if (chunks_.body_size() + chunks_.chunk_remaining() > handler_->max_body()) {
                respond_error(413); // announced too big: refused before it comes
                return;
            }
            switch (r.status) {
            case chunk_status::data:
                cbody_.append(r.data);
                continue;
            case chunk_status::need_more:
                cpend_.erase(0, pos);
                read_chunks();
                return;
            case chunk_status::error:
                return; // handled above
            case chunk_status::done:
                // What follows the body is the next request: give it back.
                if (conn_->put_back(std::string_view(cpend_).substr(pos)) != 0) {
                    close_after_ = true;
                }
                chunked_ = false;
                body_pending_ = false;
                body_read_done();
                req_.body().copy(cbody_.data(), cbody_.size());
                dispatch();
                return;
            }
        }
    }

    void on_body() {
        if (lingering_) {
            on_linger_read();
            return;
        }
        if (chunked_) {
            on_chunks();
            return;
        }
        if (body_.result() != 0) {
            finish();
            return;
        }
        body_pending_ = false;
        body_read_done();
        req_.body().adopt(std::move(body_buf_), body_len_);
        dispatch();
    }

    // The body is in: the handler's own reads through the conn (if any)
    // are bounded by their aios only, as on any NNG conn.
    // Pooled sessions keep no request body's memory (a stalled upload
    // could otherwise leave up to the body limit in every pooled session).
    void drop_body_memory() {
        body_buf_.reset();
        body_len_ = 0;
        std::string().swap(cbody_);
        std::string().swap(cpend_);
        chunks_.reset();
    }

    void body_read_done() {
        conn_->set_progress_timeouts(NNG_DURATION_INFINITE,
                                     srv_->send_timeout_.load(std::memory_order_relaxed));
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
        case handler::kind::directory:
            open_file(h);
            return;
        }
    }

    // ---- files: opened away from the loop, sent from it ----

    // What the blocking-call thread looks up and opens for a file or
    // directory handler, and what it found.
    struct file_job {
        bool directory = false;
        std::string root;  // directory: the handler's root; file: the file
        std::string rel;   // directory: the request path below the handler's
        std::string path;  // what was opened (its name picks the MIME type)
        int fd = -1;
        int status = 0;    // an error status to answer instead
        struct stat st {};
    };

    // The status for a failed lookup or open: absence is 404, a refusal
    // 403, and anything else (out of descriptors or memory, I/O errors) a
    // server error, 500, not a claim that the file does not exist.
    static int status_for_errno(int err) {
        switch (err) {
        case ENOENT:
        case ENOTDIR:
        case ENAMETOOLONG:
        case ELOOP:
            return 404;
        case EACCES:
        case EPERM:
            return 403;
        default:
            return 500;
        }
    }

    void open_file(const handler& h) {
        job_.directory = h.what() == handler::kind::directory;
        job_.root = h.resource();
        job_.rel.clear();
        job_.path.clear();
        job_.fd = -1;
        job_.status = 0;
        if (job_.directory) {
            std::string_view hp = h.path() == "/" ? std::string_view() : std::string_view(h.path());
            job_.rel = path_.substr(std::min(path_.size(), hp.size()));
        }
        home_loop_ = &executor::global().current_or_next();
        run_blocking(&session::open_job, this);
    }

    // On a blocking-call thread: nothing but job_ is touched.
    static void open_job(void* arg) {
        auto* self = static_cast<session*>(arg);
        self->job_.directory ? lookup_in_directory(self->job_) : open_regular(self->job_, self->job_.root);
        asio::post(self->home_loop_->context(), [self] { self->file_opened(); });
    }

    // Opens a regular file without blocking on what is not one: O_NONBLOCK
    // makes opening a FIFO return at once (instead of waiting for a
    // writer), and whatever is not a regular file is refused (404).
    static void open_regular(file_job& j, const std::string& name) {
        int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
            j.status = status_for_errno(errno);
            return;
        }
        if (::fstat(fd, &j.st) != 0) {
            j.status = status_for_errno(errno);
            ::close(fd);
            return;
        }
        if (!S_ISREG(j.st.st_mode)) {
            j.status = 404;
            ::close(fd);
            return;
        }
        j.fd = fd;
        j.path = name;
    }

    // The request path below the handler's, under the handler's root
    // directory.  path_ is canonical (no "..", no escaped separators or
    // NUL), and the resolved file must still lie under the root's real
    // path, so neither ".." nor a symbolic link leads outside it.
    static void lookup_in_directory(file_job& j) {
        char root_real[PATH_MAX];
        if (::realpath(j.root.c_str(), root_real) == nullptr) {
            j.status = status_for_errno(errno);
            return;
        }
        std::string candidate = std::string(root_real) + j.rel;
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
                j.status = 404;
                return;
            }
        }
        char real[PATH_MAX];
        std::string_view root(root_real);
        if (::realpath(candidate.c_str(), real) == nullptr) {
            j.status = status_for_errno(errno);
            return;
        }
        if (std::string_view(real).substr(0, root.size()) != root ||
            (real[root.size()] != '/' && real[root.size()] != '\0')) {
            j.status = 404;
            return;
        }
        open_regular(j, real);
    }

    // Back on the loop with job_'s outcome.
    void file_opened() {
        if (job_.status != 0) {
            respond_error(static_cast<std::uint16_t>(job_.status));
            return;
        }
        serve_file(job_.fd, job_.st, job_.path.c_str(),
                   job_.directory ? std::string() : handler_->content_type());
    }

    // A regular file (fd, open, with its stat), streamed with sendfile(2)
    // after its head; answers conditional (304) and single-range (206/416)
    // requests as nginx does.
    void serve_file(int fd, const struct stat& st, const char* file, const std::string& ctype) {
        fd_ = fd;
        auto size = static_cast<std::uint64_t>(st.st_size);
        std::int64_t mtime_ns =
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        char etag_buf[etag_max];
        std::string_view etag =
            file_etag(size, mtime_ns, static_cast<std::uint64_t>(st.st_ino), etag_buf);
        get_conditions c;
        auto field = [this](const char* name) -> std::optional<std::string_view> {
            const char* v = req_.get_header(name);
            return v != nullptr ? std::optional<std::string_view>(v) : std::nullopt;
        };
        c.if_none_match = field("If-None-Match");
        c.if_modified_since = field("If-Modified-Since");
        bool get_or_head = head_ || std::strcmp(req_.method(), "GET") == 0;
        if (get_or_head) {
            c.range = field("Range");
            c.if_range = field("If-Range");
        }
        c.head = head_;
        file_validators v{etag, st.st_mtim.tv_sec, size};
        get_outcome out = get_or_head ? evaluate_get(c, v) : get_outcome{};

        char date[http_date_size];
        res_.set_status(static_cast<std::uint16_t>(out.status));
        if (out.status == 416) {
            char cr[content_range_max];
            res_.headers().set("Content-Range", format_content_range(out.range, size, cr));
            srv_->res_error(res_);
            close_file();
            send(res_);
            return;
        }
        res_.headers().set("Last-Modified", format_http_date(st.st_mtim.tv_sec, date));
        res_.headers().set("ETag", etag);
        if (out.status == 304) {
            close_file();
            send(res_, false);
            return;
        }
        res_.headers().set("Content-Type",
                           ctype.empty() ? mime_type_for(file) : std::string_view(ctype));
        res_.headers().set("Accept-Ranges", "bytes");
        file_.fd = fd_;
        file_.offset = 0;
        file_.length = size;
        if (out.status == 206) {
            char cr[content_range_max];
            res_.headers().set("Content-Range", format_content_range(out.range, size, cr));
            file_.offset = out.range.first;
            file_.length = out.range.length();
        }
        char len[24];
        auto r = std::to_chars(len, len + sizeof len, file_.length);
        res_.headers().set("Content-Length", std::string_view(len, static_cast<std::size_t>(r.ptr - len)));
        if (head_ || file_.length == 0) {
            close_file();
            send(res_);
            return;
        }
        // Head first (aux_, no callback), then the file with tx_: writes
        // complete in order, and a failed head fails the file write too.
        stamp(res_);
        sent_status_ = res_.status();
        sent_bytes_ = file_.length;
        conn_->write_res(res_, &aux_);
        tx_.set_timeout(NNG_DURATION_INFINITE); // progress: the conn's send timeout
        conn_->write_file(file_, &tx_);
    }

    void close_file() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
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

    // The headers every response carries.
    void stamp(response& r, bool with_length = true) {
        if (r.status() == 204 || (r.status() >= 100 && r.status() < 200)) {
            // No body, and no Content-Length either (RFC 9110, 8.6).
            r.headers().remove("Content-Length");
            r.body().borrow(nullptr, 0);
            with_length = false;
        }
        if (srv_->draining_.load(std::memory_order_relaxed)) {
            close_after_ = true; // a graceful stop: this is the last response
        }
        if (body_pending_) {
            close_after_ = true; // answered before the body was read: see on_head
        }
        if (with_length && r.get_header("Content-Length") == nullptr) {
            char len[24];
            auto e = std::to_chars(len, len + sizeof len, r.body().size());
            r.headers().set("Content-Length", std::string_view(len, static_cast<std::size_t>(e.ptr - len)));
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
    }

    // Adds the common headers, then writes the whole response.
    void send(response& r, bool with_length = true) {
        stamp(r, with_length);
        if (head_) {
            r.body().borrow(nullptr, 0); // the head only; Content-Length stays
        }
        sent_status_ = r.status();
        sent_bytes_ = r.body().size();
        tx_.set_timeout(NNG_DURATION_INFINITE); // progress: the conn's send timeout
        if (close_after_) {
            conn_->write_last_res(r, &tx_); // on_sent closes the connection
        } else {
            conn_->write_res(r, &tx_);
        }
    }

    void on_sent() {
        close_file();
        if (tx_.result() == 0) {
            if (const access_log_fn* log = srv_->log_.load(std::memory_order_acquire)) {
                nng_sockaddr peer{};
                std::size_t sz = sizeof peer;
                (void)conn_->underlying().get(NNG_OPT_REMADDR, opt_out{&peer, &sz, opt_type::sockaddr});
                (*log)(access_record{&peer, req_.method(), req_.uri(), req_.version(), sent_status_,
                                     sent_bytes_});
            }
        }
        // The server ends the connection while the client may still be
        // sending: its body, a rejected head's rest, or requests it
        // pipelined (buffered here, or still in the kernel: a client that
        // expected to go on may have sent more).  Only a client that said
        // this request was its last is closed at once.
        if (tx_.result() == 0 && close_after_ && !conn_->hijacked() &&
            (body_pending_ || bad_head_ || conn_->buffered() > 0 || !client_closes_)) {
            linger();
            return;
        }
        if (tx_.result() != 0 || close_after_ || srv_->draining_.load(std::memory_order_relaxed)) {
            // (Draining: a response stamped before drain() began also ends
            // its connection, which would otherwise park as idle.)
            finish();
            return;
        }
        if (conn_->buffered() > 0) {
            // Pipelined: the next head is (partly) here already.
            read_next(srv_->head_timeout_.load(std::memory_order_relaxed));
            return;
        }
        park();
    }

    // ---- lingering close ----
    // The answer went out and the connection ends while the client may
    // still be sending (a body not read, a rejected head): closing now,
    // with its bytes unread, would make the kernel answer them with a
    // reset, which can destroy the answer before the client reads it.  So
    // the output side ends (FIN), and the input is read and dropped until
    // the client closes, linger_wait passes without a byte, linger_total
    // passes, or linger_bytes were dropped; then the connection closes.
    static constexpr nng_duration linger_wait = 2000;
    static constexpr time_ms linger_total = 10000;
    static constexpr std::size_t linger_bytes = 16 << 20;

    void linger() {
        lingering_ = true;
        conn_->discard_input();
        conn_->underlying().shutdown_send();
        conn_->set_progress_timeouts(NNG_DURATION_INFINITE, NNG_DURATION_INFINITE);
        linger_end_ = clock_ms() + linger_total;
        linger_left_ = linger_bytes;
        linger_read();
    }

    void linger_read() {
        time_ms now = clock_ms();
        if (now >= linger_end_ || linger_left_ == 0) {
            finish();
            return;
        }
        if (!scratch_) {
            scratch_.reset(new (std::nothrow) char[scratch_size]);
            if (!scratch_) {
                finish();
                return;
            }
        }
        body_.set_timeout(static_cast<nng_duration>(
            std::min<time_ms>(linger_wait, linger_end_ - now)));
        nng_iov iov{scratch_.get(), scratch_size};
        (void)body_.set_iov(1, &iov);
        conn_->read(&body_);
    }

    void on_linger_read() {
        if (body_.result() != 0 || body_.count() == 0) {
            finish(); // the client closed (or the wait ran out): done
            return;
        }
        linger_left_ -= std::min(linger_left_, body_.count());
        linger_read();
    }

    server* srv_;
    server_conn* rec_ = nullptr;
    conn* conn_ = nullptr;
    request req_;
    response res_;
    response* user_res_ = nullptr;
    ref_ptr<handler> handler_;
    std::shared_ptr<const router> routes_;
    std::uint64_t routes_gen_ = 0;
    std::string path_;
    std::unique_ptr<char[]> body_buf_;
    std::size_t body_len_ = 0;
    bool head_ = false;
    bool close_after_ = false;
    bool body_pending_ = false; // a request body not (yet) read to its end
    bool bad_head_ = false;     // the head was rejected: input left unread
    bool client_closes_ = false; // the request ends the connection (Connection: close, 1.0)
    bool lingering_ = false;
    time_ms linger_end_ = 0;
    std::size_t linger_left_ = 0;
    // A file or directory handler's lookup (open_file), and the loop to
    // come back to.
    file_job job_;
    loop* home_loop_ = nullptr;
    std::uint16_t sent_status_ = 0;
    std::uint64_t sent_bytes_ = 0;
    // A file being sent.
    int fd_ = -1;
    file_span file_;
    // Chunked request bodies.
    static constexpr std::size_t scratch_size = 16 * 1024;
    bool chunked_ = false;
    chunk_decoder chunks_;
    std::string cbody_; // decoded so far
    std::string cpend_; // received, not yet decoded
    std::unique_ptr<char[]> scratch_;
    aio rx_, body_, cb_, tx_;
    aio aux_; // 100 Continue, a file's head: no callback, ordered by the conn
};

// ---- connections: parking, waking, ending ----

namespace {

// Frees a session later, on a loop: it may be inside one of its own aios'
// callbacks now, which its destructor would wait for.
void dispose(session* s) {
    asio::post(executor::global().current_or_next().context(), [s] { delete s; });
}

session* take_session(server& srv, server::slot& sl) {
    {
        std::lock_guard lk(sl.mtx);
        if (!sl.pool.empty()) {
            session* s = sl.pool.back();
            sl.pool.pop_back();
            return s;
        }
    }
    return new session(srv);
}

void return_session(server::slot& sl, session* s) {
    {
        std::lock_guard lk(sl.mtx);
        if (sl.pool.size() >= session_pool_buffered) {
            s->drop_buffer();
        }
        if (sl.pool.size() < session_pool_max) {
            sl.pool.push_back(s);
            return;
        }
    }
    dispose(s);
}

// Removes rec from its slot for good and frees it.
void drop_record(server_conn* rec) {
    server* srv = rec->srv;
    {
        std::lock_guard lk(rec->home->mtx);
        rec->home->all.remove(rec);
        if (rec->parked) {
            (rec->fresh ? rec->home->fresh : rec->home->idle).remove(rec);
            rec->parked = false;
        }
    }
    delete rec;
    srv->conn_closed();
    srv->release();
}

void arm_sweep(server& srv, server::slot& sl); // with sl.mtx held

// Gives rec a session over st, reading the next head at once after the n
// bytes (n > 0) already in rec->wake.  Closed at once if stop() ran.
void start_session(server_conn* rec, ref_ptr<stream> st, long n) {
    server::slot& sl = *rec->home;
    session* s = take_session(*rec->srv, sl);
    bool stopped;
    {
        std::lock_guard lk(sl.mtx);
        rec->active = s;
        s->attach(rec, std::move(st));
        stopped = rec->closing; // stop() ran before the session was in place
    }
    if (n > 0) {
        // What the wait received: the start of the next request.
        s->put_back(std::string_view(rec->wake, static_cast<std::size_t>(n)));
    }
    s->begin();
    if (stopped) {
        s->close();
    }
}

// The parked stream is readable (or closed): wake the connection.
void on_ready(void* arg, long n) {
    auto* rec = static_cast<server_conn*>(arg);
    bool readable = n >= 0;
    server::slot& sl = *rec->home;
    bool go;
    {
        std::lock_guard lk(sl.mtx);
        if (rec->parked) {
            (rec->fresh ? sl.fresh : sl.idle).remove(rec);
            rec->parked = false;
        }
        go = readable && !rec->closing;
    }
    auto st = ref_ptr<stream>::adopt(std::exchange(rec->parked_stream, nullptr));
    if (!go) {
        st->close();
        drop_record(rec);
        return;
    }
    start_session(rec, std::move(st), n);
}

// Parks rec with st: waits for bytes without a session.  A connection
// that has not sent a request yet waits at most head_timeout (fresh), one
// between requests idle_timeout.
void park_record(server_conn* rec, ref_ptr<stream> st, nng_duration timeout, bool fresh) {
    server::slot& sl = *rec->home;
    stream* raw = st.get();
    bool stopped;
    {
        std::lock_guard lk(sl.mtx);
        rec->active = nullptr;
        rec->parked_stream = st.detach();
        stopped = rec->closing;
        if (!stopped) {
            rec->parked = true;
            rec->fresh = fresh;
            rec->deadline = deadline_after(timeout);
            (fresh ? sl.fresh : sl.idle).push_back(rec);
            arm_sweep(*rec->srv, sl);
        }
    }
    if (stopped) {
        on_ready(rec, -1);
    } else if (!raw->wait_readable(&on_ready, rec, rec->wake, sizeof rec->wake)) {
        // A stream that cannot wait (a TLS stream that failed, or one
        // without the means): a session reads at once, with the timeout,
        // and meets whatever stopped it.
        on_ready(rec, raw->home() == nullptr ? 0 : -1);
    }
}

// With sl.mtx held: the earliest deadline of a list, oldest first.  Within
// a list the deadlines grow (one timeout for all) unless the limits were
// changed meanwhile; then a connection may be closed a little late.
template <typename List>
time_ms first_deadline(const List& l) {
    for (server_conn* c = l.head; c != nullptr; c = c->pnext) {
        if (!c->closing) {
            return c->deadline;
        }
    }
    return time_never;
}

template <typename List>
void collect_expired(List& l, time_ms now, std::vector<stream*>& out) {
    for (server_conn* c = l.head; c != nullptr; c = c->pnext) {
        if (c->closing) {
            continue;
        }
        if (c->deadline > now) {
            break;
        }
        c->closing = true;
        c->parked_stream->add_ref();
        out.push_back(c->parked_stream);
    }
}

void sweep_cb(server* srv, server::slot* sl, std::uint64_t gen) {
    std::vector<stream*> expired;
    {
        std::lock_guard lk(sl->mtx);
        // A wait replaced by an earlier one (gen moved on) only lets go of
        // its reference: the current one sweeps.
        if (gen == sl->sweep_gen) {
            sl->sweep_armed = false;
            time_ms now = clock_ms();
            collect_expired(sl->fresh, now, expired);
            collect_expired(sl->idle, now, expired);
            arm_sweep(*srv, *sl);
        }
    }
    // Closing wakes each one's wait with "closed": on_ready frees it.
    for (stream* st : expired) {
        st->close();
        st->release();
    }
    srv->release(); // the timer's reference
}

// With sl.mtx held: makes sure the sweep runs by the earliest deadline.
void arm_sweep(server& srv, server::slot& sl) {
    time_ms first = std::min(first_deadline(sl.fresh), first_deadline(sl.idle));
    if (first == time_never || (sl.sweep_armed && sl.sweep_at <= first + 10)) {
        return;
    }
    if (!sl.sweep) {
        sl.sweep = std::make_unique<asio::steady_timer>(executor::global().at(sl.index).context());
    }
    time_ms now = clock_ms();
    // A little late, so that one run sweeps several connections.
    time_ms at = std::max(first, now) + 10;
    sl.sweep->expires_after(std::chrono::milliseconds(at - now)); // aborts a wait armed before
    sl.sweep_armed = true;
    sl.sweep_at = at;
    std::uint64_t gen = ++sl.sweep_gen;
    srv.add_ref();
    server* sp = &srv;
    server::slot* slp = &sl;
    sl.sweep->async_wait([sp, slp, gen](const asio::error_code&) { sweep_cb(sp, slp, gen); });
}

} // namespace

void session::park() {
    server_conn* rec = rec_;
    nng_duration idle = srv_->idle_timeout_.load(std::memory_order_relaxed);
    ref_ptr<stream> st;
    {
        std::lock_guard lk(rec->home->mtx);
        if (!rec->closing && (conn_->underlying().home() != nullptr ||
                              srv_->nconns_.load(std::memory_order_relaxed) > tls_park_above)) {
            st = conn_->detach();
            if (st) {
                rec->active = nullptr; // stop() no longer reaches this session
            }
        }
    }
    if (!st) {
        // Bytes wait in the conn already, a TLS connection on a server
        // with few connections, or stop() is closing it: read the next
        // head with the idle timeout covering the wait.
        read_next(idle);
        return;
    }
    rec_ = nullptr;
    req_.reset();
    res_.reset();
    delete std::exchange(user_res_, nullptr);
    handler_ = {};
    drop_body_memory();
    return_session(*rec->home, this);
    park_record(rec, std::move(st), idle, false);
}

void session::finish() {
    server_conn* rec = std::exchange(rec_, nullptr);
    {
        std::lock_guard lk(rec->home->mtx);
        rec->active = nullptr; // stop() no longer reaches this session
    }
    if (conn_->hijacked()) {
        conn_->release(); // the hijacker has its own reference
        conn_ = nullptr;
    } else if (ref_ptr<stream> st = conn_->unshared() ? conn_->detach() : ref_ptr<stream>()) {
        // Nothing in flight and nobody else holds the conn: only the stream
        // closes, and the conn (its read buffer, its parsers) stays with
        // this session for its next connection.
        st->close();
    } else {
        conn_->close();
        conn_->release();
        conn_ = nullptr;
    }
    req_.reset();
    res_.reset();
    delete std::exchange(user_res_, nullptr);
    handler_ = {};
    close_file();
    drop_body_memory();
    // Pool first: dropping the record may drop the last reference to the
    // server, whose slots hold the pool.
    return_session(*rec->home, this);
    drop_record(rec);
}

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
    std::string scheme = url.u_scheme != nullptr ? url.u_scheme : "";
    std::string family; // "4", "6": tcp4, tcp6
    if (!scheme.empty() && (scheme.back() == '4' || scheme.back() == '6')) {
        family.assign(1, scheme.back());
        scheme.pop_back();
    }
    bool https = scheme == "https" || scheme == "wss";
    if (!https && scheme != "http" && scheme != "ws") {
        return NNG_EADDRINVAL;
    }
    std::string host = url.u_hostname != nullptr ? url.u_hostname : "";
    std::string port = url.u_port != nullptr && *url.u_port != '\0' ? url.u_port : (https ? "443" : "80");
    std::string bracketed = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    std::string key = (https ? "https://" : "http://") + bracketed + ":" + port;
    registry& r = reg();
    std::lock_guard lk(r.mtx);
    if (auto it = r.servers.find(key); it != r.servers.end()) {
        it->second.second++;
        out = it->second.first;
        return 0;
    }
    tls::config* cfg = nullptr;
    if (https) {
        if (int rv = tls::config::create(tls::mode::server, cfg); rv != 0) {
            return rv;
        }
    }
    auto* s = new server(key, "tcp" + family + "://" + bracketed + ":" + port);
    s->tls_ = cfg;
    r.servers.emplace(key, std::make_pair(s, 1u));
    out = s;
    return 0;
}

int server::set_tls(tls::config* cfg) {
    std::lock_guard lk(mtx_);
    if (tls_ == nullptr) {
        return NNG_ENOTSUP;
    }
    if (cfg == nullptr) {
        return NNG_EINVAL;
    }
    if (starts_ > 0) {
        return NNG_EBUSY;
    }
    if (listener_ != nullptr) {
        // Made early for its options (listener_set): it takes cfg too.
        void* p = cfg;
        if (int rv = listener_->set(NNG_OPT_TLS_CONFIG, opt_in{&p, sizeof p, opt_type::ptr}); rv != 0) {
            return rv;
        }
    }
    cfg->add_ref();
    tls_->release();
    tls_ = cfg;
    return 0;
}

// The endpoint start() listens with, made before start() when an option is
// set or read early.  With mtx_ held.
int server::make_listener_locked() {
    if (listener_ != nullptr) {
        return 0;
    }
    nng_url* u = nullptr;
    int rv = nng_url_parse(&u, listen_url_.c_str());
    if (rv == 0) {
        rv = make_listener(*u, listener_);
        nng_url_free(u);
    }
    if (rv == 0 && tls_ != nullptr) {
        stream_listener* plain = listener_;
        if ((rv = tls::wrap_listener(plain, tls_, listener_)) != 0) {
            listener_ = plain;
        }
    }
    if (rv != 0 && listener_ != nullptr) {
        std::exchange(listener_, nullptr)->release();
    }
    return rv;
}

int server::listener_get(std::string_view name, const opt_out& out) {
    std::lock_guard lk(mtx_);
    if (int rv = make_listener_locked(); rv != 0) {
        return rv;
    }
    return listener_->get(name, out);
}

int server::listener_set(std::string_view name, const opt_in& in) {
    if (name == NNG_OPT_TLS_CONFIG) {
        {
            std::lock_guard lk(mtx_);
            if (tls_ == nullptr) {
                return NNG_ENOTSUP;
            }
        }
        void* p = nullptr;
        if (int rv = copy_in(p, in); rv != 0) {
            return rv;
        }
        return set_tls(static_cast<tls::config*>(p));
    }
    std::lock_guard lk(mtx_);
    if (int rv = make_listener_locked(); rv != 0) {
        return rv;
    }
    return listener_->set(name, in);
}

int server::get_tls(tls::config*& cfg) {
    std::lock_guard lk(mtx_);
    if (tls_ == nullptr) {
        return NNG_ENOTSUP;
    }
    cfg = tls_;
    return 0;
}

server::server(std::string key, std::string listen_url)
    : key_(std::move(key)), listen_url_(std::move(listen_url)), routes_(std::make_shared<router>()),
      accept_aio_(&server::accept_cb, this) {
    accept_aio_.set_timeout(NNG_DURATION_INFINITE);
    nslots_ = executor::global().loop_count();
    slots_ = std::make_unique<slot[]>(nslots_);
    for (unsigned i = 0; i < nslots_; i++) {
        slots_[i].index = i;
    }
}

server::~server() {
    accept_aio_.stop();
    if (listener_ != nullptr) {
        // Made for its options, never started.
        listener_->close();
        listener_->release();
    }
    if (tls_ != nullptr) {
        tls_->release();
    }
    for (handler* h : handlers_) {
        h->release();
    }
    // Every connection is gone (each held a reference); the pools remain.
    for (unsigned i = 0; i < nslots_; i++) {
        for (session* s : slots_[i].pool) {
            delete s;
        }
    }
}

void server::destroy() noexcept {
    asio::post(executor::global().current_or_next().context(), [this] { delete this; });
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

void server::set_access_log(access_log_fn fn) {
    std::lock_guard lk(mtx_);
    if (starts_ > 0) {
        return; // connections may be reading it
    }
    log_.store(nullptr, std::memory_order_release);
    log_fn_ = fn ? std::make_unique<access_log_fn>(std::move(fn)) : nullptr;
    log_.store(log_fn_.get(), std::memory_order_release);
}

void server::set_limits(const server_limits& l) {
    head_timeout_.store(l.head_timeout, std::memory_order_relaxed);
    idle_timeout_.store(l.idle_timeout, std::memory_order_relaxed);
    body_timeout_.store(l.body_timeout, std::memory_order_relaxed);
    send_timeout_.store(l.send_timeout, std::memory_order_relaxed);
    max_connections_.store(l.max_connections, std::memory_order_relaxed);
}

server_limits server::limits() const {
    server_limits l;
    l.head_timeout = head_timeout_.load(std::memory_order_relaxed);
    l.idle_timeout = idle_timeout_.load(std::memory_order_relaxed);
    l.body_timeout = body_timeout_.load(std::memory_order_relaxed);
    l.send_timeout = send_timeout_.load(std::memory_order_relaxed);
    l.max_connections = max_connections_.load(std::memory_order_relaxed);
    return l;
}

int server::start() {
    std::lock_guard lk(mtx_);
    if (starts_++ > 0) {
        return 0;
    }
    draining_.store(false, std::memory_order_relaxed);
    int rv = make_listener_locked();
    if (rv == 0 && reuse_port_) {
        bool on = true;
        rv = listener_->set(opt_reuse_port, opt_in{&on, sizeof on, opt_type::boolean});
    }
    if (rv == 0) {
        // Every read of the server is followed by a send or bounded by a
        // timeout (head, body, idle), which is what the option asks.  Not
        // a TCP listener (ipc): nothing to do.
        bool on = true;
        (void)listener_->set(opt_tcp_inq, opt_in{&on, sizeof on, opt_type::boolean});
    }
    if (rv == 0) {
        rv = listener_->listen();
    }
    if (rv != 0) {
        if (stream_listener* l = std::exchange(listener_, nullptr)) {
            l->close();
            l->release();
        }
        starts_--;
        return rv;
    }
    rekey_bound_port_locked();
    listener_->accept(&accept_aio_);
    return 0;
}

// A server made for port 0 is known by its bound port from now on (NNG:
// a later hold of port 0 gets a new server; one of the bound port gets
// this one), and a restart binds that port again.  With mtx_ held.
void server::rekey_bound_port_locked() {
    const std::string zero = ":0";
    if (key_.size() < zero.size() || key_.compare(key_.size() - zero.size(), zero.size(), zero) != 0) {
        return;
    }
    int port = 0;
    std::size_t sz = sizeof port;
    if (listener_->get(NNG_OPT_TCP_BOUND_PORT, opt_out{&port, &sz, opt_type::int32}) != 0 || port == 0) {
        return;
    }
    std::string key = key_.substr(0, key_.size() - 1) + std::to_string(port);
    registry& r = reg();
    std::lock_guard lk(r.mtx);
    auto it = r.servers.find(key_);
    if (it == r.servers.end() || it->second.first != this || r.servers.count(key) > 0) {
        return;
    }
    auto entry = it->second;
    r.servers.erase(it);
    r.servers.emplace(key, entry);
    key_ = key;
    listen_url_ = listen_url_.substr(0, listen_url_.size() - 1) + std::to_string(port);
}

// Calls fn(slot) for each slot, with that slot's lock held.
template <typename F> void server::each_slot(F fn) {
    for (unsigned i = 0; i < nslots_; i++) {
        std::lock_guard lk(slots_[i].mtx);
        fn(slots_[i]);
    }
}

// Closes the listener taken out of listener_ (under mtx_) and waits for the
// pending accept to fail: with listener_ gone, accept_cb does not go on.
void server::close_listener(stream_listener* l) {
    if (l != nullptr) {
        l->close();
    }
    accept_aio_.abort(NNG_ECLOSED); // a pause after running out of descriptors
    accept_aio_.wait(); // not stop(): a later start() accepts again
    if (l != nullptr) {
        l->release();
    }
}

void server::stop() {
    stream_listener* l = nullptr;
    {
        std::lock_guard lk(mtx_);
        if (starts_ == 0 || --starts_ > 0) {
            return;
        }
        l = std::exchange(listener_, nullptr);
    }
    close_listener(l);
    run_stop_hooks();
    // Close every connection.  Nothing here completes in place (closing
    // posts the callbacks), so the slot locks can be held.
    each_slot([](slot& sl) {
        for (server_conn* c = sl.all.head; c != nullptr; c = c->next) {
            c->closing = true;
            if (c->parked) {
                c->parked_stream->close();
            } else if (c->active != nullptr) {
                c->active->close();
            }
        }
        if (sl.sweep_armed) {
            sl.sweep->cancel();
        }
    });
}

int server::set_reuse_port(bool on) {
    std::lock_guard lk(mtx_);
    if (starts_ > 0) {
        return NNG_EBUSY;
    }
    reuse_port_ = on;
    return 0;
}

int server::add_stop_hook(std::function<void()> f) {
    std::lock_guard lk(mtx_);
    int id = next_hook_++;
    stop_hooks_.emplace(id, std::move(f));
    return id;
}

void server::remove_stop_hook(int id) {
    std::lock_guard lk(mtx_);
    stop_hooks_.erase(id);
}

void server::run_stop_hooks() {
    std::vector<std::function<void()>> hooks;
    {
        std::lock_guard lk(mtx_);
        for (auto& [id, f] : stop_hooks_) {
            hooks.push_back(f);
        }
    }
    for (auto& f : hooks) {
        f();
    }
}

void server::drain() {
    stream_listener* l = nullptr;
    {
        std::lock_guard lk(mtx_);
        if (starts_ == 0) {
            return;
        }
        draining_.store(true, std::memory_order_relaxed);
        l = std::exchange(listener_, nullptr);
    }
    close_listener(l);
    run_stop_hooks();
    // Idle connections close now (their waits wake with "closed" and free
    // them); busy ones finish their request and then close (stamp()).
    each_slot([](slot& sl) {
        for (server_conn* c = sl.all.head; c != nullptr; c = c->next) {
            if (c->parked && !c->closing) {
                c->closing = true;
                c->parked_stream->close();
            }
        }
    });
}

namespace {

// Past max_connections: a short 503, then the connection closes, lingering
// as a session does (the client's request is still unread): the write side
// ends, and what comes is read and dropped for a second at most.
class rejecter {
  public:
    explicit rejecter(stream* st) : st_(ref_ptr<stream>::adopt(st)), aio_(&rejecter::dispatch, this) {
        aio_.set_timeout(1000);
        nng_iov iov{const_cast<char*>(text), sizeof text - 1};
        (void)aio_.set_iov(1, &iov);
        st_->send(&aio_);
    }

  private:
    static constexpr char text[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                   "Content-Length: 0\r\n"
                                   "Connection: close\r\n"
                                   "Retry-After: 1\r\n\r\n";
    static constexpr time_ms linger_ms = 1000;

    static void sent(void* arg) {
        auto* r = static_cast<rejecter*>(arg);
        if (r->aio_.result() != 0) {
            r->end();
            return;
        }
        // A flood past the cap must not turn into a flood of lingering
        // descriptors: beyond max_lingering at once, close at once.
        if (lingering().fetch_add(1, std::memory_order_relaxed) >= max_lingering) {
            lingering().fetch_sub(1, std::memory_order_relaxed);
            r->end();
            return;
        }
        r->counted_ = true;
        r->st_->shutdown_send();
        r->until_ = clock_ms() + linger_ms;
        r->read();
    }
    void read() {
        time_ms now = clock_ms();
        if (now >= until_) {
            end();
            return;
        }
        aio_.set_timeout(static_cast<nng_duration>(until_ - now));
        nng_iov iov{buf_, sizeof buf_};
        (void)aio_.set_iov(1, &iov);
        // The aio's callback is fixed; a flag tells the two steps apart.
        reading_ = true;
        st_->recv(&aio_);
    }
    static void dispatch(void* arg) {
        auto* r = static_cast<rejecter*>(arg);
        if (!r->reading_) {
            sent(arg);
        } else if (r->aio_.result() != 0 || r->aio_.count() == 0) {
            r->end();
        } else {
            r->read();
        }
    }
    static std::atomic<unsigned>& lingering() {
        static std::atomic<unsigned> n{0};
        return n;
    }
    static constexpr unsigned max_lingering = 256;

    void end() {
        if (counted_) {
            lingering().fetch_sub(1, std::memory_order_relaxed);
        }
        st_->close();
        asio::post(executor::global().current_or_next().context(), [r = this] { delete r; });
    }

    ref_ptr<stream> st_;
    aio aio_;
    bool reading_ = false;
    bool counted_ = false;
    time_ms until_ = 0;
    char buf_[512];
};

} // namespace

void server::accept_cb(void* arg) {
    auto* s = static_cast<server*>(arg);
    int rv = s->accept_aio_.result();
    if (std::exchange(s->accept_paused_, false)) {
        rv = rv == NNG_ETIMEDOUT ? 0 : rv; // the pause is over
    } else if (rv == NNG_ENOFILES || rv == NNG_ENOMEM) {
        // Out of descriptors (or memory): the connection stays in the
        // backlog and accepting again at once would only fail again, in a
        // loop that takes a whole core.  Pause, as nginx does, and try
        // again when some have been given back.
        std::lock_guard lk(s->mtx_);
        if (s->listener_ != nullptr) {
            s->accept_paused_ = true;
            s->accept_aio_.sleep(accept_pause_ms);
        }
        return;
    } else if (rv == 0) {
        auto* st = static_cast<stream*>(s->accept_aio_.output(0));
        std::size_t max = s->max_connections_.load(std::memory_order_relaxed);
        if (s->nconns_.fetch_add(1, std::memory_order_relaxed) >= max) {
            s->nconns_.fetch_sub(1, std::memory_order_relaxed);
            new rejecter(st);
        } else {
            auto* rec = new server_conn;
            rec->srv = s;
            rec->home = &slot_for(s->slots_.get(), s->nslots_, *st);
            s->add_ref(); // the connection's
            {
                std::lock_guard lk(rec->home->mtx);
                rec->home->all.push_back(rec);
            }
            if (st->home() == nullptr && s->nconns_.load(std::memory_order_relaxed) <= tls_park_above) {
                // A TLS connection on a server with few of them keeps a
                // session from the start, as between requests: a session
                // reads the first head at once (its timeout the head's).
                start_session(rec, ref_ptr<stream>::adopt(st), 0);
            } else {
                // A new connection must send its first request head in time.
                park_record(rec, ref_ptr<stream>::adopt(st),
                            s->head_timeout_.load(std::memory_order_relaxed), true);
            }
        }
    }
    std::lock_guard lk(s->mtx_);
    if (s->listener_ != nullptr && rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
        s->listener_->accept(&s->accept_aio_);
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
    // The caller's reference becomes the server's (NNG: handlers registered
    // with a server are freed with it; del_handler hands it back).
    handlers_.insert(&h);
    routes_ = std::move(next);
    routes_gen_.fetch_add(1, std::memory_order_acq_rel);
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
    routes_gen_.fetch_add(1, std::memory_order_acq_rel);
    return 0; // the reference goes back to the caller

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

} // namespace nnghttp::detail::http
