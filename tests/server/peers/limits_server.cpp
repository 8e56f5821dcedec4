// limits_server: a small HTTP server for the peer tests of the server's
// limits (timeouts and the connection cap), which server_app.c cannot set
// through NNG's C API.
//
// Usage: limits_server [--head-timeout MS] [--idle-timeout MS]
//                      [--body-timeout MS] [--send-timeout MS]
//                      [--max-conns N]
//
// Binds 127.0.0.1 on an ephemeral port, prints "listening on PORT" on
// stdout once started, and serves until SIGINT or SIGTERM.  A limit not
// given keeps the server's default.  Routes:
//   /static   static handler, "Hello, world!" (13 bytes, text/plain)
//   /echo     POST, body collected (limit 64 KiB) and sent back
//   /big      static handler, 8 MiB (for a client that stops reading)
#include "http/server.hpp"

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) { stop_requested = 1; }

[[noreturn]] void die(const char* what, int rv) {
    std::fprintf(stderr, "limits_server: %s: %s\n", what, nng_strerror(rv));
    std::exit(1);
}

void check(int rv, const char* what) {
    if (rv != 0) {
        die(what, rv);
    }
}

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--head-timeout MS] [--idle-timeout MS] [--body-timeout MS]\n"
                 "          [--send-timeout MS] [--max-conns N]\n",
                 argv0);
    std::exit(2);
}

long long number(const char* argv0, const char* text) {
    char* end = nullptr;
    long long v = std::strtoll(text, &end, 10);
    if (end == text || *end != '\0') {
        usage(argv0);
    }
    return v;
}

// POST /echo: the collected body back, with the request's Content-Type.
void handle_echo(nng_aio* aio) {
    auto* req = static_cast<nng_http_req*>(nng_aio_get_input(aio, 0));
    void* body = nullptr;
    size_t len = 0;
    nng_http_req_get_data(req, &body, &len);
    const char* ctype = nng_http_req_get_header(req, "Content-Type");
    nng_http_res* res = nullptr;
    int rv = nng_http_res_alloc(&res);
    if (rv == 0) {
        rv = nng_http_res_set_header(res, "Content-Type",
                                     ctype != nullptr ? ctype : "application/octet-stream");
    }
    if (rv == 0) {
        rv = len > 0 ? nng_http_res_copy_data(res, body, len) : nng_http_res_set_data(res, "", 0);
    }
    if (rv != 0) {
        if (res != nullptr) {
            nng_http_res_free(res);
        }
        nng_aio_finish(aio, rv);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

} // namespace

int main(int argc, char** argv) {
    nnghttp::detail::http::server_limits limits;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (i + 1 >= argc) {
            usage(argv[0]);
        }
        long long v = number(argv[0], argv[++i]);
        if (flag == "--head-timeout") {
            limits.head_timeout = static_cast<nng_duration>(v);
        } else if (flag == "--idle-timeout") {
            limits.idle_timeout = static_cast<nng_duration>(v);
        } else if (flag == "--body-timeout") {
            limits.body_timeout = static_cast<nng_duration>(v);
        } else if (flag == "--send-timeout") {
            limits.send_timeout = static_cast<nng_duration>(v);
        } else if (flag == "--max-conns") {
            if (v <= 0) {
                usage(argv[0]);
            }
            limits.max_connections = static_cast<std::size_t>(v);
        } else {
            usage(argv[0]);
        }
    }

    nng_url* url = nullptr;
    check(nng_url_parse(&url, "http://127.0.0.1:0"), "nng_url_parse");
    nng_http_server* s = nullptr;
    check(nng_http_server_hold(&s, url), "nng_http_server_hold");
    nng_url_free(url);

    reinterpret_cast<nnghttp::detail::http::server*>(s)->set_limits(limits);

    nng_http_handler* h = nullptr;
    check(nng_http_handler_alloc_static(&h, "/static", "Hello, world!", 13, "text/plain"),
          "static");
    check(nng_http_server_add_handler(s, h), "add static");

    check(nng_http_handler_alloc(&h, "/echo", handle_echo), "echo");
    check(nng_http_handler_set_method(h, "POST"), "echo method");
    check(nng_http_handler_collect_body(h, true, 64 * 1024), "echo collect");
    check(nng_http_server_add_handler(s, h), "add echo");

    // 8 MiB of a repeating pattern: far more than the socket buffers of a
    // loopback connection hold, so a client that stops reading stalls the
    // send.
    std::vector<char> big(8u << 20);
    for (std::size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>('a' + i % 26);
    }
    check(nng_http_handler_alloc_static(&h, "/big", big.data(), big.size(),
                                        "application/octet-stream"),
          "big");
    check(nng_http_server_add_handler(s, h), "add big");

    check(nng_http_server_start(s), "nng_http_server_start");
    nng_sockaddr sa;
    check(nng_http_server_get_addr(s, &sa), "nng_http_server_get_addr");
    if (sa.s_family != NNG_AF_INET) {
        std::fprintf(stderr, "limits_server: unexpected address family %d\n",
                     static_cast<int>(sa.s_family));
        return 1;
    }

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    const auto* p = reinterpret_cast<const unsigned char*>(&sa.s_in.sa_port);
    std::printf("listening on %u\n", static_cast<unsigned>((p[0] << 8) | p[1]));
    std::fflush(stdout);

    while (stop_requested == 0) {
        nng_msleep(50);
    }
    nng_http_server_stop(s);
    nng_http_server_release(s);
    return 0;
}
