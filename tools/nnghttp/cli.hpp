// What the nnghttp subcommands share: their options, the exit codes, and
// the functions more than one of them uses.  The command uses the public
// C++ API only (<nnghttp/nnghttp.hpp>).
#pragma once

#include <cstddef>
#include <nnghttp/nnghttp.hpp>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace tool {

// Exit codes: one per kind of failure, so scripts can tell them apart.
enum exit_code : int {
    ok = 0,
    failure = 1,        // anything else
    usage = 2,          // bad command line (CLI11's own code too)
    bad_url = 3,        // the URL cannot be parsed or has the wrong scheme
    dns = 4,            // the host name does not resolve
    refused = 5,        // connection refused or unreachable
    tls = 6,            // TLS verification or handshake failed
    timeout = 7,        // no answer in time
    protocol = 8,       // the peer broke the protocol (a malformed answer or frame)
    abnormal_close = 9, // ws: the server closed with an error code, or without a close
    http_error = 22,    // get --fail and a status >= 400 (as curl); ws: upgrade refused
    signaled = 128,     // ws: plus the signal's number (130 for SIGINT), as shells do
};

// The exit code for an error the library reported.
int code_for(const std::error_code& ec) noexcept;

// The whole file at path into out; false when it cannot be read.
bool read_file(const std::string& path, std::string& out);

// The TLS configuration of a client of host, for --cacert and --insecure:
// nothing when neither is given (the library's defaults then apply: the
// system's CAs, the URL's host name).  false, after saying why on stderr,
// when the configuration cannot be made.
bool client_tls(const std::string& host, const std::string& cacert, bool insecure,
                std::optional<nnghttp::tls_config>& out);

// A 'Name: value' command line header split in two (blanks after the colon
// dropped); false when there is no colon or no name.
bool split_header(const std::string& text, std::string& name, std::string& value);

struct serve_options {
    std::string dir;
    std::string listen;
    int threads = -1; // -1: the library's default; 0: thread-free
    std::string cert; // both or neither
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
    std::string ws_echo; // a path for a WebSocket echo route; empty: none
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

struct ws_client_options {
    std::string target;
    std::vector<std::string> headers;
    std::vector<std::string> protocols; // offered, by preference
    std::string cacert;
    bool insecure = false;
    bool binary = false;                 // lines go out as binary messages
    std::size_t max_message = 16u << 20; // 0: no limit
    double wait_s = 5;                   // after the end of input, for replies
    double timeout_s = 30;               // connecting and the opening handshake
    bool verbose = false;
};

// An interactive WebSocket client: lines of standard input out as
// messages, messages in on standard output, until the input ends (or a
// signal comes) and the closing handshake is done.
int ws(const ws_client_options& o);

} // namespace tool
