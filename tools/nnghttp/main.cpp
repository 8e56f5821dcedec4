// nnghttp: serve a directory, or fetch a URL.
//
//   nnghttp serve [DIR] [--listen URL] [--threads N] [--tls-cert F --tls-key F]
//   nnghttp get URL [-o FILE] [-X METHOD] [-H 'Name: value']... [-d DATA|@FILE]
//               [-i] [--cacert FILE] [--insecure] [--fail] [--timeout S]
//
// First cut (issue 7 will move it onto the public C++ API in
// include/nnghttp/ and add the progress bar): built on the library's
// internal C++ classes.  Exit codes are distinct per failure (see exit_code).
#include "core/url.hpp"
#include "http/client.hpp"
#include "http/handler.hpp"
#include "http/server.hpp"
#include "tls/config.hpp"

#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fmt/core.h>
#include <fstream>
#include <mutex>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>
#include <sstream>
#include <string>
#include <vector>

#ifndef NNGHTTP_DEMO_SITE
#define NNGHTTP_DEMO_SITE "share/demo-site"
#endif
#ifndef NNGHTTP_VERSION
#define NNGHTTP_VERSION "0.1.0"
#endif

namespace {

using namespace nnghttp::detail;

// Exit codes: one per kind of failure, so scripts can tell them apart.
enum exit_code : int {
    ok = 0,
    failure = 1,   // anything else
    usage = 2,     // bad command line (CLI11's own code too)
    bad_url = 3,   // the URL cannot be parsed or has no http(s) scheme
    dns = 4,       // the host name does not resolve
    refused = 5,   // connection refused or unreachable
    tls = 6,       // TLS verification or handshake failed
    timeout = 7,   // no answer in time
    http_error = 22, // --fail and a status >= 400 (as curl)
};

int code_for(int rv) {
    switch (rv) {
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

std::string read_file(const std::string& path, bool& ok_read) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    ok_read = static_cast<bool>(in) || in.eof();
    return ss.str();
}

// ---- serve ----

std::mutex log_mtx;

// Common Log Format: host ident authuser [date] "request" status bytes
void log_request(const http::access_record& r) {
    char host[INET6_ADDRSTRLEN] = "-";
    if (r.peer->s_family == NNG_AF_INET) {
        inet_ntop(AF_INET, &r.peer->s_in.sa_addr, host, sizeof host);
    } else if (r.peer->s_family == NNG_AF_INET6) {
        inet_ntop(AF_INET6, r.peer->s_in6.sa_addr, host, sizeof host);
    }
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char date[64];
    std::strftime(date, sizeof date, "%d/%b/%Y:%H:%M:%S %z", &tm);
    std::string bytes = r.bytes > 0 ? std::to_string(r.bytes) : "-";
    std::lock_guard lk(log_mtx);
    fmt::print("{} - - [{}] \"{} {} {}\" {} {}\n", host, date, r.method, r.uri, r.version, r.status,
               bytes);
    std::fflush(stdout);
}

int serve(const std::string& dir, const std::string& listen, unsigned threads,
          const std::string& cert, const std::string& key) {
    if (threads > 0) {
        ::setenv("NNGHTTP_THREADS", std::to_string(threads).c_str(), 1);
    }
    // Signals are waited for by this thread only.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

    nng_url* url = nullptr;
    if (nng_url_parse(&url, listen.c_str()) != 0) {
        fmt::print(stderr, "nnghttp: bad listen URL: {}\n", listen);
        return bad_url;
    }
    bool https = std::string(url->u_scheme) == "https";
    http::server* srv = nullptr;
    int rv = http::server::hold(*url, srv);
    nng_url_free(url);
    if (rv != 0) {
        fmt::print(stderr, "nnghttp: cannot serve {}: {}\n", listen, nng_strerror(rv));
        return bad_url;
    }
    if (https) {
        if (cert.empty() || key.empty()) {
            fmt::print(stderr, "nnghttp: https needs --tls-cert and --tls-key\n");
            http::server_release(srv);
            return usage;
        }
        bool r1 = false, r2 = false;
        std::string c = read_file(cert, r1), k = read_file(key, r2);
        tls::config* cfg = nullptr;
        if (!r1 || !r2 || (rv = tls::config::create(tls::mode::server, cfg)) != 0 ||
            (rv = cfg->set_own_cert(c.c_str(), k.c_str(), nullptr)) != 0 ||
            (rv = srv->set_tls(cfg)) != 0) {
            fmt::print(stderr, "nnghttp: TLS certificate or key not usable: {}\n",
                       !r1 || !r2 ? "cannot read the file" : nng_strerror(rv));
            if (cfg != nullptr) {
                cfg->release();
            }
            http::server_release(srv);
            return tls;
        }
        cfg->release();
    }
    auto* h = new http::handler(http::handler::kind::directory, "/");
    h->set_resource(dir);
    h->collect_body(true, 0);
    (void)h->set_tree(true);
    if ((rv = srv->add_handler(*h)) != 0) {
        h->release();
        http::server_release(srv);
        fmt::print(stderr, "nnghttp: {}\n", nng_strerror(rv));
        return failure;
    }
    srv->set_access_log(log_request);
    if ((rv = srv->start()) != 0) {
        fmt::print(stderr, "nnghttp: cannot listen on {}: {}\n", listen, nng_strerror(rv));
        http::server_release(srv);
        return rv == NNG_EADDRINUSE ? refused : failure;
    }
    nng_sockaddr sa{};
    (void)srv->get_addr(sa);
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa.s_family == NNG_AF_INET) {
        inet_ntop(AF_INET, &sa.s_in.sa_addr, host, sizeof host);
        port = ntohs(sa.s_in.sa_port);
    } else if (sa.s_family == NNG_AF_INET6) {
        inet_ntop(AF_INET6, sa.s_in6.sa_addr, host, sizeof host);
        port = ntohs(sa.s_in6.sa_port);
    }
    bool v6 = sa.s_family == NNG_AF_INET6;
    fmt::print("nnghttp: serving {} at {}://{}{}{}:{}/\n", dir, https ? "https" : "http", v6 ? "[" : "",
               host, v6 ? "]" : "", port);
    std::fflush(stdout);
    int sig = 0;
    sigwait(&sigs, &sig);
    fmt::print("nnghttp: stopping ({})\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    std::fflush(stdout);
    http::server_release(srv);
    return ok;
}

// ---- get ----

int get(const std::string& target, const std::string& out_file, const std::string& method,
        const std::vector<std::string>& headers, const std::string& data, bool include,
        const std::string& cacert, bool insecure, bool fail, double timeout_s) {
    nng_url* url = nullptr;
    if (nng_url_parse(&url, target.c_str()) != 0 ||
        (std::string(url->u_scheme) != "http" && std::string(url->u_scheme) != "https")) {
        fmt::print(stderr, "nnghttp: bad URL: {}\n", target);
        if (url != nullptr) {
            nng_url_free(url);
        }
        return bad_url;
    }
    nng_http_client* cli = nullptr;
    int rv = nng_http_client_alloc(&cli, url);
    if (rv != 0) {
        fmt::print(stderr, "nnghttp: {}: {}\n", target, nng_strerror(rv));
        nng_url_free(url);
        return bad_url;
    }
    if (std::string(url->u_scheme) == "https" && (insecure || !cacert.empty())) {
        nng_tls_config* cfg = nullptr;
        nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT);
        nng_tls_config_server_name(cfg, url->u_hostname);
        if (insecure) {
            nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_NONE);
        }
        if (!cacert.empty() && (rv = nng_tls_config_ca_file(cfg, cacert.c_str())) != 0) {
            fmt::print(stderr, "nnghttp: --cacert {}: {}\n", cacert, nng_strerror(rv));
            nng_tls_config_free(cfg);
            nng_http_client_free(cli);
            nng_url_free(url);
            return tls;
        }
        nng_http_client_set_tls(cli, cfg);
        nng_tls_config_free(cfg);
    }
    nng_http_req* req = nullptr;
    nng_http_req_alloc(&req, url);
    std::string body = data;
    if (!data.empty() && data[0] == '@') {
        bool r = false;
        body = read_file(data.substr(1), r);
        if (!r) {
            fmt::print(stderr, "nnghttp: cannot read {}\n", data.substr(1));
            return usage;
        }
    }
    nng_http_req_set_method(req, method.empty() ? (body.empty() ? "GET" : "POST") : method.c_str());
    for (const auto& hv : headers) {
        auto colon = hv.find(':');
        if (colon == std::string::npos) {
            fmt::print(stderr, "nnghttp: bad header (want 'Name: value'): {}\n", hv);
            return usage;
        }
        std::string name = hv.substr(0, colon);
        std::string value = hv.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        if (nng_http_req_set_header(req, name.c_str(), value.c_str()) != 0) {
            fmt::print(stderr, "nnghttp: bad header: {}\n", hv);
            return usage;
        }
    }
    if (!body.empty()) {
        nng_http_req_copy_data(req, body.data(), body.size());
    }
    nng_http_res* res = nullptr;
    nng_http_res_alloc(&res);
    nng_aio* aio = nullptr;
    nng_aio_alloc(&aio, nullptr, nullptr);
    nng_aio_set_timeout(aio, timeout_s > 0 ? static_cast<nng_duration>(timeout_s * 1000) : 30000);
    nng_http_client_transact(cli, req, res, aio);
    nng_aio_wait(aio);
    rv = nng_aio_result(aio);
    int code = ok;
    if (rv != 0) {
        fmt::print(stderr, "nnghttp: {}: {}\n", target, nng_strerror(rv));
        code = code_for(rv);
    } else {
        int status = nng_http_res_get_status(res);
        void* d = nullptr;
        size_t n = 0;
        nng_http_res_get_data(res, &d, &n);
        std::FILE* out = stdout;
        if (!out_file.empty() && (out = std::fopen(out_file.c_str(), "wb")) == nullptr) {
            fmt::print(stderr, "nnghttp: cannot write {}\n", out_file);
            code = failure;
        } else {
            if (include) {
                fmt::print(out, "{} {} {}\r\n", nng_http_res_get_version(res), status,
                           nng_http_res_get_reason(res));
                auto* r = reinterpret_cast<http::response*>(res);
                for (const auto& f : r->headers().fields()) {
                    fmt::print(out, "{}: {}\r\n", f.name, f.value);
                }
                fmt::print(out, "\r\n");
            }
            if (!(fail && status >= 400)) {
                std::fwrite(d, 1, n, out);
            }
            if (out != stdout) {
                std::fclose(out);
            }
            if (fail && status >= 400) {
                fmt::print(stderr, "nnghttp: {}: HTTP {}\n", target, status);
                code = http_error;
            }
        }
    }
    nng_aio_free(aio);
    nng_http_res_free(res);
    nng_http_req_free(req);
    nng_http_client_free(cli);
    nng_url_free(url);
    return code;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"nnghttp: serve a directory over HTTP(S), or fetch a URL"};
    app.set_version_flag("--version", std::string("nnghttp ") + NNGHTTP_VERSION);
    app.require_subcommand(1);

    auto* srv = app.add_subcommand("serve", "Serve a directory (default: the bundled demo site)");
    std::string dir = NNGHTTP_DEMO_SITE;
    std::string listen = "http://127.0.0.1:8080";
    unsigned threads = 0;
    std::string cert, key;
    srv->add_option("DIR", dir, "Directory to serve")->check(CLI::ExistingDirectory);
    srv->add_option("--listen", listen, "URL to listen on (http:// or https://)");
    srv->add_option("--threads", threads, "Event loop threads (default: one per core)");
    srv->add_option("--tls-cert", cert, "PEM certificate (chain) for https")->check(CLI::ExistingFile);
    srv->add_option("--tls-key", key, "PEM private key for https")->check(CLI::ExistingFile);

    auto* g = app.add_subcommand("get", "Fetch a URL and print its body");
    std::string target, out_file, method, data, cacert;
    std::vector<std::string> headers;
    bool include = false, insecure = false, fail = false;
    double timeout_s = 30;
    g->add_option("URL", target, "http:// or https:// URL")->required();
    g->add_option("-o,--output", out_file, "Write the body to FILE");
    g->add_option("-X,--request", method, "Method (default GET, or POST with -d)");
    g->add_option("-H,--header", headers, "Extra header 'Name: value' (repeatable)");
    g->add_option("-d,--data", data, "Request body, or @FILE");
    g->add_flag("-i,--include", include, "Print the status line and headers too");
    g->add_option("--cacert", cacert, "CA certificates (PEM) to verify the server with");
    g->add_flag("-k,--insecure", insecure, "Do not verify the server's certificate");
    g->add_flag("-f,--fail", fail, "Exit 22 (no body) when the status is 400 or more");
    g->add_option("--timeout", timeout_s, "Seconds to wait for the whole exchange");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? ok : usage;
    }
    if (srv->parsed()) {
        if (cert.empty() != key.empty()) {
            fmt::print(stderr, "nnghttp: --tls-cert and --tls-key go together\n");
            return usage;
        }
        if (!cert.empty() && listen.rfind("http://", 0) == 0) {
            listen.replace(0, 4, "https"); // a certificate means https
        }
        return serve(dir, listen, threads, cert, key);
    }
    return get(target, out_file, method, headers, data, include, cacert, insecure, fail, timeout_s);
}
