// nnghttp get: one request, the response body streamed to stdout or a file
// through a fixed buffer, so a body of any size takes constant memory.
// With -o and a terminal on stderr, a progress line is drawn there.  With
// --timeout the whole exchange has that long (every step gets the time
// left); without it, a download may take as long as it takes, but each
// step (connect, the head, each piece of the body) waits at most 30 s.
#include "cli.hpp"
#include "progress.hpp"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fmt/core.h>
#include <memory>
#include <optional>
#include <unistd.h>

namespace tool {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

// The size of the buffer the body goes through.
constexpr std::size_t body_buffer_bytes = 256 * 1024;

struct file_closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

// Where the body goes: stdout, or a file opened once the head has come
// (so that a failed exchange leaves no file behind).
class sink {
  public:
    explicit sink(const std::string& path) : path_(path) {}

    bool open() {
        if (path_.empty()) {
            f_ = stdout;
            return true;
        }
        file_.reset(std::fopen(path_.c_str(), "wb"));
        f_ = file_.get();
        return f_ != nullptr;
    }
    std::FILE* get() const noexcept { return f_; }
    bool write(const void* p, std::size_t n) { return std::fwrite(p, 1, n, f_) == n; }
    // Flushes (and closes a file); false on a write error.
    bool close() {
        bool good = std::fflush(f_) == 0 && std::ferror(f_) == 0;
        if (file_) {
            good = std::fclose(file_.release()) == 0 && good;
        }
        return good;
    }
    const std::string& name() const noexcept { return path_.empty() ? stdout_name_ : path_; }

  private:
    std::string path_;
    std::string stdout_name_ = "standard output";
    file_ptr file_;
    std::FILE* f_ = nullptr;
};

// What the exchange coroutine works with; it lives in get()'s frame, which
// outlasts the coroutine (run() blocks).
struct exchange {
    const get_options& opt;
    nnghttp::client& cli;
    nnghttp::request& req;
    std::optional<clock::time_point> deadline; // --timeout
};

// How long the next step may wait.
constexpr std::chrono::milliseconds step_limit{30000};
std::chrono::milliseconds time_left(const std::optional<clock::time_point>& until) {
    if (!until) {
        return step_limit;
    }
    clock::time_point deadline = *until;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
    if (left <= 0ms) {
        throw nnghttp::error(nnghttp::errc::timed_out, "get");
    }
    return left;
}

// Whether a response to this request can carry a body (RFC 9112, 6.3).
bool has_body(std::string_view method, std::uint16_t status) {
    return method != "HEAD" && status / 100 != 1 && status != 204 && status != 304;
}

// The body's length, when the head gives it.
std::optional<std::uint64_t> body_length(const nnghttp::response& res) {
    if (res.header("Transfer-Encoding")) {
        return std::nullopt;
    }
    auto cl = res.header("Content-Length");
    std::uint64_t n = 0;
    if (!cl || std::from_chars(cl->data(), cl->data() + cl->size(), n).ec != std::errc()) {
        return std::nullopt;
    }
    return n;
}

void print_head(std::FILE* out, const nnghttp::response& res) {
    fmt::print(out, "{} {} {}\r\n", res.version(), res.status(), res.reason());
    for (const auto& [name, value] : res.headers()) {
        fmt::print(out, "{}: {}\r\n", name, value);
    }
    fmt::print(out, "\r\n");
}

// The body, through one buffer, into out; a progress line on stderr when
// asked for.  Returns the exit code.
nnghttp::task<int> copy_body(exchange& x, nnghttp::connection& conn, sink& out,
                             std::optional<std::uint64_t> total, bool show_progress) {
    std::vector<std::byte> buf(body_buffer_bytes);
    std::optional<progress> bar;
    if (show_progress) {
        bar.emplace(STDERR_FILENO, total);
    }
    std::uint64_t done = 0;
    for (;;) {
        std::size_t n = co_await conn.read_body(buf).timeout(time_left(x.deadline));
        if (n == 0) {
            break;
        }
        if (!out.write(buf.data(), n)) {
            int err = errno;
            bar.reset(); // ends its line
            fmt::print(stderr, "nnghttp: cannot write {}: {}\n", out.name(), std::strerror(err));
            co_return failure;
        }
        done += n;
        if (bar) {
            bar->update(done);
        }
    }
    if (bar) {
        bar->finish();
    }
    co_return ok;
}

nnghttp::task<int> run_exchange(exchange& x) {
    nnghttp::connection conn = co_await x.cli.connect().timeout(time_left(x.deadline));
    co_await conn.write_request(x.req).timeout(time_left(x.deadline));
    nnghttp::response res;
    co_await conn.read_response(res).timeout(time_left(x.deadline));

    std::uint16_t status = res.status();
    sink out(x.opt.out_file);
    if (!out.open()) {
        fmt::print(stderr, "nnghttp: cannot write {}: {}\n", out.name(), std::strerror(errno));
        co_return failure;
    }
    if (x.opt.include) {
        print_head(out.get(), res);
    }
    int code = ok;
    if (x.opt.fail && status >= 400) {
        code = http_error; // and no body
    } else if (has_body(x.req.method(), status)) {
        bool show_progress = !x.opt.out_file.empty() && ::isatty(STDERR_FILENO) == 1;
        code = co_await copy_body(x, conn, out, body_length(res), show_progress);
    }
    if (!out.close() && code == ok) {
        fmt::print(stderr, "nnghttp: cannot write {}: {}\n", out.name(), std::strerror(errno));
        co_return failure;
    }
    if (code == http_error) {
        fmt::print(stderr, "nnghttp: {}: HTTP {}\n", x.opt.target, status);
    }
    co_return code;
}

// Sets the method, headers and body; false (after saying why) when the
// command line's are not usable.
bool setup_request(nnghttp::request& req, const get_options& o) {
    std::string body = o.data;
    if (!o.data.empty() && o.data[0] == '@' && !read_file(o.data.substr(1), body)) {
        fmt::print(stderr, "nnghttp: cannot read {}\n", o.data.substr(1));
        return false;
    }
    req.set_method(o.method.empty() ? (body.empty() ? "GET" : "POST") : o.method);
    for (const auto& hv : o.headers) {
        std::string name, value;
        if (!split_header(hv, name, value)) {
            fmt::print(stderr, "nnghttp: bad header (want 'Name: value'): {}\n", hv);
            return false;
        }
        try {
            req.set_header(name, value);
        } catch (const nnghttp::error&) {
            fmt::print(stderr, "nnghttp: bad header: {}\n", hv);
            return false;
        }
    }
    if (!body.empty()) {
        req.set_body(body);
    }
    return true;
}

} // namespace

int get(const get_options& o) {
    auto u = nnghttp::url::parse(o.target);
    if (!u || (u->scheme() != "http" && u->scheme() != "https")) {
        fmt::print(stderr, "nnghttp: bad URL: {}\n", o.target);
        return bad_url;
    }
    std::optional<nnghttp::client> cli;
    try {
        cli.emplace(*u);
    } catch (const nnghttp::error& e) {
        fmt::print(stderr, "nnghttp: {}: {}\n", o.target, e.code().message());
        return bad_url;
    }
    std::optional<nnghttp::tls_config> tls_cfg;
    if (u->scheme() == "https" && !client_tls(u->hostname(), o.cacert, o.insecure, tls_cfg)) {
        return tls;
    }
    if (tls_cfg) {
        try {
            cli->set_tls(*tls_cfg);
        } catch (const nnghttp::error& e) {
            fmt::print(stderr, "nnghttp: TLS: {}\n", e.code().message());
            return tls;
        }
    }
    nnghttp::request req(*u);
    if (!setup_request(req, o)) {
        return usage;
    }
    exchange x{o, *cli, req, std::nullopt};
    if (o.timeout_s > 0) {
        auto limit = std::chrono::duration<double>(o.timeout_s);
        x.deadline = clock::now() + std::chrono::duration_cast<clock::duration>(limit);
    }
    try {
        return nnghttp::run(run_exchange(x));
    } catch (const nnghttp::error& e) {
        fmt::print(stderr, "nnghttp: {}: {}\n", o.target, e.code().message());
        return code_for(e.code());
    } catch (const std::exception& e) {
        fmt::print(stderr, "nnghttp: {}: {}\n", o.target, e.what());
        return failure;
    }
}

} // namespace tool
