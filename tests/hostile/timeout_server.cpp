// timeout_server: a directory server with short send and body timeouts,
// for the hostile-peer tests of long transfers that keep making progress.
// Neither NNG's C API nor `nnghttp serve` can set these timeouts, so this
// program sets them through the public C++ API (server::set_limits).
//
// Usage: timeout_server URL ROOT --send-timeout MS --body-timeout MS [--pem FILE]
//
// URL is http://127.0.0.1:0 or https://127.0.0.1:0; https needs --pem (the
// certificate followed by its key).  Prints "listening on PORT" once
// started and serves until its standard input reaches end of file; no
// signal handler is installed.  Routes:
//   /         directory handler over ROOT (GET)
//   /length   POST, body collected up to 64 MiB; answers "length N"
#include <nnghttp/nnghttp.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace {

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s URL ROOT --send-timeout MS --body-timeout MS [--pem FILE]\n", argv0);
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        usage(argv[0]);
    }
    std::string listen = argv[1];
    std::string root = argv[2];
    std::string pem;
    long send_ms = -1;
    long body_ms = -1;
    for (int i = 3; i < argc; ++i) {
        std::string flag = argv[i];
        if (i + 1 >= argc) {
            usage(argv[0]);
        }
        const char* value = argv[++i];
        if (flag == "--send-timeout") {
            send_ms = std::strtol(value, nullptr, 10);
        } else if (flag == "--body-timeout") {
            body_ms = std::strtol(value, nullptr, 10);
        } else if (flag == "--pem") {
            pem = value;
        } else {
            usage(argv[0]);
        }
    }
    if (send_ms <= 0 || body_ms <= 0) {
        usage(argv[0]);
    }
    try {
        nnghttp::server srv(listen);
        if (listen.rfind("https:", 0) == 0) {
            if (pem.empty()) {
                std::fprintf(stderr, "timeout_server: https needs --pem\n");
                return 2;
            }
            nnghttp::tls_config cfg(nnghttp::tls_mode::server);
            cfg.cert_key_file(pem);
            srv.set_tls(cfg);
        }
        nnghttp::server_limits limits = srv.limits();
        limits.send_timeout = std::chrono::milliseconds(send_ms);
        limits.body_timeout = std::chrono::milliseconds(body_ms);
        srv.set_limits(limits);
        srv.add(nnghttp::handler::directory("/", root));
        srv.add(nnghttp::handler::custom("/length",
                                         [](const nnghttp::request& req, nnghttp::response& res) {
                                             res.set_body("length " +
                                                          std::to_string(req.body().size()) + "\n");
                                         })
                    .method("POST")
                    .collect_body(true, 64u << 20));
        srv.start();
        std::printf("listening on %u\n", static_cast<unsigned>(srv.port()));
        std::fflush(stdout);
        char buf[256];
        while (::read(0, buf, sizeof buf) > 0) {
        }
        // srv goes out of scope: the last hold, so the server closes.
    } catch (const nnghttp::error& e) {
        std::fprintf(stderr, "timeout_server: %s\n", e.what());
        return 1;
    }
    return 0;
}
