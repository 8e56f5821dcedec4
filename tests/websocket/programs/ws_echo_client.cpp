// A WebSocket echo client on the C++ API, for the real-peer tests and the
// conformance suite's client mode:
//
//   ws_echo_client URL [--protocol NAME]...
//       connects, prints "protocol NAME" (or "protocol -"), echoes every
//       message with its type until the connection closes, then prints
//       "closed CODE REASON"; status 0 after a closing handshake, 1 if the
//       connection failed or ended without one.
//   ws_echo_client --autobahn URL [--name AGENT] [--deflate]
//       is driven the way Autobahn|Testsuite drives clients: reads the case
//       count from URL/getCaseCount, echoes on URL/runCase?case=N&agent=AGENT
//       for every case, and ends with URL/updateReports?agent=AGENT.
#include <nnghttp/nnghttp.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using nnghttp::task;
using nnghttp::websocket;

// Echoes until the connection ends; returns whether it ended with a
// closing handshake.
task<bool> echo_all(websocket& ws) {
    for (;;) {
        auto msg = co_await ws.receive().no_throw();
        if (!msg) {
            co_return msg.ec == nnghttp::errc::closed && ws.close_code() != 1006;
        }
        auto sent = co_await ws.send(msg.value.data, msg.value.text).no_throw();
        if (!sent) {
            co_return false;
        }
    }
}

task<int> once(std::string url, nnghttp::ws_options opts) {
    auto ws = co_await websocket::connect(url, opts).no_throw();
    if (!ws) {
        std::printf("connect failed: %s\n", ws.ec.message().c_str());
        co_return 1;
    }
    std::printf("protocol %s\n", ws.value.protocol().empty() ? "-" : ws.value.protocol().c_str());
    std::fflush(stdout);
    bool clean = co_await echo_all(ws.value);
    // Let the closing handshake finish before reporting.
    (void)co_await ws.value.close().no_throw();
    std::printf("closed %u %s\n", unsigned(ws.value.close_code()), ws.value.close_reason().c_str());
    std::fflush(stdout);
    co_return clean ? 0 : 1;
}

task<int> autobahn(std::string base, std::string agent, nnghttp::ws_options opts) {
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    auto ws = co_await websocket::connect(base + "/getCaseCount", opts).no_throw();
    if (!ws) {
        std::fprintf(stderr, "getCaseCount: %s\n", ws.ec.message().c_str());
        co_return 1;
    }
    auto count = co_await ws.value.receive().no_throw();
    if (!count) {
        std::fprintf(stderr, "getCaseCount: no count\n");
        co_return 1;
    }
    (void)co_await ws.value.close().no_throw();
    int n = std::atoi(count.value.data.c_str());
    for (int i = 1; i <= n; i++) {
        auto c = co_await websocket::connect(base + "/runCase?case=" + std::to_string(i) +
                                                 "&agent=" + agent,
                                             opts)
                     .no_throw();
        if (!c) {
            continue; // the case decides what a failed connect means
        }
        (void)co_await echo_all(c.value);
        (void)co_await c.value.close().no_throw();
    }
    auto rep = co_await websocket::connect(base + "/updateReports?agent=" + agent, opts).no_throw();
    if (rep) {
        (void)co_await rep.value.close().no_throw();
    }
    co_return 0;
}

} // namespace

int main(int argc, char** argv) {
    bool driven = false;
    std::string url;
    std::string agent = "nnghttp";
    nnghttp::ws_options opts;
    opts.max_message = opts.max_frame = 64u << 20;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--autobahn") == 0) {
            driven = true;
        } else if (std::strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            agent = argv[++i];
        } else if (std::strcmp(argv[i], "--deflate") == 0) {
            opts.compression.enabled = true; // offers permessage-deflate
        } else if (std::strcmp(argv[i], "--protocol") == 0 && i + 1 < argc) {
            opts.protocols.emplace_back(argv[++i]);
        } else if (url.empty() && argv[i][0] != '-') {
            url = argv[i];
        } else {
            std::fprintf(stderr, "usage: ws_echo_client [--autobahn] URL [--name AGENT] "
                                 "[--protocol NAME]... [--deflate]\n");
            return 2;
        }
    }
    if (url.empty()) {
        std::fprintf(stderr, "ws_echo_client: a URL is needed\n");
        return 2;
    }
    try {
        return driven ? nnghttp::run(autobahn(url, agent, opts)) : nnghttp::run(once(url, opts));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ws_echo_client: %s\n", e.what());
        return 1;
    }
}
