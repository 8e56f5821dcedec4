// nnghttp: serve a directory, fetch a URL, or talk to a WebSocket server.
//
//   nnghttp serve [DIR] [--listen URL] [--threads N] [--tls-cert F --tls-key F] [--reuse-port]
//                 [--ws-echo PATH]
//   nnghttp get URL [-o FILE] [-X METHOD] [-H 'Name: value']... [-d DATA|@FILE]
//               [-i] [--cacert FILE] [--insecure] [--fail] [--timeout S]
//   nnghttp ws URL [-H 'Name: value']... [--protocol NAME]... [-b] [--cacert FILE]
//              [--insecure] [--max-message N] [--wait S] [--timeout S] [-v]
//
// Built on the public C++ API only.  serve.cpp, get.cpp and ws.cpp hold the
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
    case NNG_EPROTO:
        return protocol;
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

bool client_tls(const std::string& host, const std::string& cacert, bool insecure,
                std::optional<nnghttp::tls_config>& out) {
    if (!insecure && cacert.empty()) {
        return true;
    }
    try {
        nnghttp::tls_config cfg(nnghttp::tls_mode::client);
        cfg.server_name(host);
        if (insecure) {
            cfg.auth_mode(nnghttp::tls_auth::none);
        }
        if (!cacert.empty()) {
            try {
                cfg.ca_file(cacert);
            } catch (const nnghttp::error& e) {
                fmt::print(stderr, "nnghttp: --cacert {}: {}\n", cacert, e.code().message());
                return false;
            }
        }
        out.emplace(std::move(cfg));
    } catch (const nnghttp::error& e) {
        fmt::print(stderr, "nnghttp: TLS: {}\n", e.code().message());
        return false;
    }
    return true;
}

bool split_header(const std::string& text, std::string& name, std::string& value) {
    auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0) {
        return false;
    }
    name = text.substr(0, colon);
    value = text.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    return true;
}

} // namespace tool

int main(int argc, char** argv) {
    CLI::App app{
        "nnghttp: serve a directory over HTTP(S), fetch a URL, or talk to a WebSocket server"};
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
    srv->add_option("--ws-echo", so.ws_echo,
                    "Also answer WebSocket upgrades at PATH, echoing every message back "
                    "(text as text, binary as binary)")
        ->type_name("PATH");

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

    auto* w = app.add_subcommand("ws", "Talk to a WebSocket server: lines of standard input out, "
                                       "messages in on standard output");
    tool::ws_client_options wo;
    w->add_option("URL", wo.target, "ws:// or wss:// URL")->required();
    w->add_option("-H,--header", wo.headers,
                  "Extra header 'Name: value' for the upgrade request (repeatable)")
        ->allow_extra_args(false)
        ->type_name("HEADER");
    w->add_option("--protocol", wo.protocols,
                  "Subprotocol to offer (repeatable, by preference; -v shows the one chosen)")
        ->allow_extra_args(false)
        ->type_name("NAME");
    w->add_flag("-b,--binary", wo.binary, "Send lines as binary messages (default: text)");
    w->add_option("--cacert", wo.cacert, "CA certificates (PEM) to verify the server with")
        ->type_name("FILE");
    w->add_flag("-k,--insecure", wo.insecure, "Do not verify the server's certificate");
    w->add_option("--max-message", wo.max_message,
                  "Largest message accepted; a larger one fails the connection with 1009 "
                  "(default 16 MiB; 0: no limit)")
        ->type_name("BYTES");
    w->add_option("--wait", wo.wait_s,
                  "After the end of input, wait for as many messages as lines were sent, giving "
                  "up once none has come for SECONDS (default 5; 0: close at once)")
        ->check(CLI::Range(0.0, 86400.0))
        ->type_name("SECONDS");
    w->add_option("--timeout", wo.timeout_s,
                  "Bound on connecting and the opening handshake (default 30)")
        ->check(CLI::Range(0.001, 86400.0))
        ->type_name("SECONDS");
    w->add_flag("-v,--verbose", wo.verbose, "Show the handshake and the close on standard error");
    w->footer("Each line of standard input (without its newline) is one message; a line that\n"
              "is not UTF-8 goes as binary. Each message received is one line of standard\n"
              "output: text as it is; text with control characters as '[text] ' and the text\n"
              "with \\n \\r \\t \\\\ \\xHH \\u00HH escapes; binary as '[binary N] ' and N bytes\n"
              "in hex. The end of input waits (--wait) for replies still due, then closes with\n"
              "1000; SIGINT or SIGTERM closes with 1000 at once.\n"
              "Exit codes: 0 closed with 1000, 1001 or no code; 3 bad URL; 4 name does not\n"
              "resolve; 5 connection refused; 6 TLS; 7 timeout; 8 protocol error or a message\n"
              "over --max-message; 9 the server closed with another code or without a close\n"
              "frame; 22 upgrade refused (HTTP status); 130, 143 ended by SIGINT, SIGTERM\n"
              "(after a clean close); 1 anything else.");

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
        if (!so.ws_echo.empty() && so.ws_echo[0] != '/') {
            fmt::print(stderr, "nnghttp: --ws-echo wants a path starting with '/': {}\n",
                       so.ws_echo);
            return tool::usage;
        }
        return tool::serve(so);
    }
    if (w->parsed()) {
        return tool::ws(wo);
    }
    return tool::get(go);
}
