// nnghttp: serve a directory, or fetch a URL.
//
//   nnghttp serve [DIR] [--listen URL] [--threads N] [--tls-cert F --tls-key F] [--reuse-port]
//   nnghttp get URL [-o FILE] [-X METHOD] [-H 'Name: value']... [-d DATA|@FILE]
//               [-i] [--cacert FILE] [--insecure] [--fail] [--timeout S]
//
// Built on the public C++ API only.  serve.cpp and get.cpp hold the two
// subcommands; exit codes are distinct per failure (see cli.hpp).
#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fstream>
#include <sstream>

#ifndef NNGHTTP_DEMO_SITE
#define NNGHTTP_DEMO_SITE "share/demo-site"
#endif
#ifndef NNGHTTP_VERSION
#define NNGHTTP_VERSION "0.1.0"
#endif

namespace tool {

int code_for(const std::error_code& ec) noexcept {
    if (ec.category() != nnghttp::nng_category()) {
        return ec == std::errc::timed_out ? timeout : failure;
    }
    switch (ec.value()) {
    case NNG_EADDRINVAL:
        return dns;
    case NNG_ECONNREFUSED:
    case NNG_EUNREACHABLE:
        return refused;
    case NNG_EPEERAUTH:
    case NNG_ECRYPTO:
        return tls;
    case NNG_ETIMEDOUT:
        return timeout;
    default:
        return failure;
    }
}

bool read_file(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    out = std::move(ss).str();
    return !in.bad();
}

} // namespace tool

int main(int argc, char** argv) {
    CLI::App app{"nnghttp: serve a directory over HTTP(S), or fetch a URL"};
    app.set_version_flag("--version", std::string("nnghttp ") + NNGHTTP_VERSION);
    app.require_subcommand(1);

    auto* srv = app.add_subcommand("serve", "Serve a directory (default: the bundled demo site)");
    tool::serve_options so;
    so.dir = NNGHTTP_DEMO_SITE;
    so.listen = "http://127.0.0.1:8080";
    srv->add_option("DIR", so.dir, "Directory to serve")->check(CLI::ExistingDirectory);
    srv->add_option("--listen", so.listen, "URL to listen on (http:// or https://)");
    srv->add_option("--threads", so.threads,
                    "Event loop threads (default: one per core; 0: none, the main thread serves)")
        ->check(CLI::Range(0, 1024));
    srv->add_option("--tls-cert", so.cert, "PEM certificate (chain) for https")
        ->check(CLI::ExistingFile);
    srv->add_option("--tls-key", so.key, "PEM private key for https")->check(CLI::ExistingFile);
    srv->add_option("--tls-ciphers", so.tls_ciphers,
                    "TLS 1.2 cipher suites, OpenSSL syntax (default: ECDHE with AES-GCM or ChaCha20-Poly1305)");
    srv->add_flag("--reuse-port", so.reuse_port,
                  "Share the port with other processes (SO_REUSEPORT; the kernel spreads connections)");
    srv->add_option("--head-timeout", so.head_timeout_s,
                    "Seconds a client may take to send a request head (default 30)")
        ->check(CLI::Range(0.001, 86400.0));
    srv->add_option("--idle-timeout", so.idle_timeout_s,
                    "Seconds a kept-alive connection may wait for its next request (default 60)")
        ->check(CLI::Range(0.001, 86400.0));
    srv->add_option("--body-timeout", so.body_timeout_s,
                    "Seconds a request body may go without a byte arriving (default 60)")
        ->check(CLI::Range(0.001, 86400.0));
    srv->add_option("--send-timeout", so.send_timeout_s,
                    "Seconds a response may go without the client taking a byte (default 60)")
        ->check(CLI::Range(0.001, 86400.0));
    srv->add_option("--max-connections", so.max_connections,
                    "Connections open at once; past it new ones get 503 (default 16384)")
        ->check(CLI::Range(1L, 1L << 30));

    auto* g = app.add_subcommand("get", "Fetch a URL and print its body");
    tool::get_options go;
    g->add_option("URL", go.target, "http:// or https:// URL")->required();
    g->add_option("-o,--output", go.out_file,
                  "Write the body to FILE (with a progress bar when stderr is a terminal)");
    g->add_option("-X,--request", go.method, "Method (default GET, or POST with -d)");
    g->add_option("-H,--header", go.headers, "Extra header 'Name: value' (repeatable)");
    g->add_option("-d,--data", go.data, "Request body, or @FILE");
    g->add_flag("-i,--include", go.include, "Print the status line and headers too");
    g->add_option("--cacert", go.cacert, "CA certificates (PEM) to verify the server with");
    g->add_flag("-k,--insecure", go.insecure, "Do not verify the server's certificate");
    g->add_flag("-f,--fail", go.fail, "Exit 22 (no body) when the status is 400 or more");
    g->add_option("--timeout", go.timeout_s, "Seconds for the whole exchange (default: no limit, but 30 s without progress fails)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? tool::ok : tool::usage;
    }
    if (srv->parsed()) {
        if (so.cert.empty() != so.key.empty()) {
            fmt::print(stderr, "nnghttp: --tls-cert and --tls-key go together\n");
            return tool::usage;
        }
        if (!so.cert.empty() && so.listen.rfind("http://", 0) == 0) {
            so.listen.replace(0, 4, "https"); // a certificate means https
        }
        return tool::serve(so);
    }
    return tool::get(go);
}
