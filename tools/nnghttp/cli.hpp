// What the nnghttp subcommands share: their options, the exit codes, and
// small helpers.  The command uses the public C++ API only
// (<nnghttp/nnghttp.hpp>).
#pragma once

#include <nnghttp/nnghttp.hpp>
#include <string>
#include <system_error>
#include <vector>

namespace tool {

// Exit codes: one per kind of failure, so scripts can tell them apart.
enum exit_code : int {
    ok = 0,
    failure = 1,     // anything else
    usage = 2,       // bad command line (CLI11's own code too)
    bad_url = 3,     // the URL cannot be parsed or has no http(s) scheme
    dns = 4,         // the host name does not resolve
    refused = 5,     // connection refused or unreachable
    tls = 6,         // TLS verification or handshake failed
    timeout = 7,     // no answer in time
    http_error = 22, // --fail and a status >= 400 (as curl)
};

// The exit code for an error the library reported.
int code_for(const std::error_code& ec) noexcept;

// The whole file at path into out; false when it cannot be read.
bool read_file(const std::string& path, std::string& out);

struct serve_options {
    std::string dir;
    std::string listen;
    int threads = -1;     // -1: the library's default; 0: thread-free
    std::string cert;     // both or neither
    std::string key;
    std::string tls_ciphers; // TLS 1.2 suites, OpenSSL syntax; empty: the default
    bool reuse_port = false; // SO_REUSEPORT: several processes on one port
    // Limits in seconds; negative: the library's default.  Each timeout
    // measures time without progress (see nnghttp::server_limits).
    double head_timeout_s = -1;
    double idle_timeout_s = -1;
    double body_timeout_s = -1;
    double send_timeout_s = -1;
    long max_connections = -1;
};

// Serves dir until SIGINT or SIGTERM, then stops gracefully.
int serve(const serve_options& o);

struct get_options {
    std::string target;
    std::string out_file; // empty: stdout
    std::string method;   // empty: GET, or POST with data
    std::vector<std::string> headers;
    std::string data; // or @FILE
    bool include = false;
    std::string cacert;
    bool insecure = false;
    bool fail = false;
    double timeout_s = 0; // for the whole exchange; 0: none (30 s per step)
};

// One exchange; the body streams to stdout or out_file.
int get(const get_options& o);

} // namespace tool
