// A WebSocket echo server on the C++ API, for the conformance suite and the
// real-peer tests:
//
//   ws_echo_server PORT [--protocol NAME]... [--max-message BYTES] [--ping-interval MS]
//                  [--deflate [--deflate-level N] [--deflate-mem-level M]]
//
// Listens on ws://127.0.0.1:PORT/ and every path below it (0: any free
// port), prints
// "listening on PORT" first, and echoes every message with its type until
// the peer closes.  With --protocol it speaks those subprotocols, in that
// order of preference; with --deflate it accepts permessage-deflate; with
// --ping-interval it pings a silent peer and
// fails one that does not answer (1011).  SIGTERM or SIGINT ends it with status 0.
#include <nnghttp/nnghttp.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <pthread.h>
#include <string>

namespace {

nnghttp::task<void> echo(nnghttp::websocket ws) {
    nnghttp::ws_message msg; // one buffer for every message: no allocation per message
    for (;;) {
        if (!co_await ws.receive(msg).no_throw()) {
            co_return; // closed by the peer, or failed: the library answered
        }
        if (!co_await ws.send(msg.data, msg.text).no_throw()) {
            co_return;
        }
    }
}

int usage() {
    std::fprintf(stderr, "usage: ws_echo_server PORT [--protocol NAME]... [--max-message BYTES] "
                         "[--ping-interval MS] [--deflate [--deflate-level N] "
                         "[--deflate-mem-level M]]\n");
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    if (argc < 2) {
        return usage();
    }
    nnghttp::ws_options opts;
    opts.tree = true;
    for (int i = 2; i < argc; i++) {
        if (std::strcmp(argv[i], "--protocol") == 0 && i + 1 < argc) {
            opts.protocols.emplace_back(argv[++i]);
        } else if (std::strcmp(argv[i], "--max-message") == 0 && i + 1 < argc) {
            opts.max_message = opts.max_frame = std::strtoull(argv[++i], nullptr, 10);
        } else if (std::strcmp(argv[i], "--deflate") == 0) {
            opts.compression.enabled = true; // permessage-deflate when offered
        } else if (std::strcmp(argv[i], "--deflate-level") == 0 && i + 1 < argc) {
            opts.compression.level = std::atoi(argv[++i]);
        } else if (std::strcmp(argv[i], "--deflate-mem-level") == 0 && i + 1 < argc) {
            opts.compression.mem_level = std::atoi(argv[++i]);
        } else if (std::strcmp(argv[i], "--ping-interval") == 0 && i + 1 < argc) {
            opts.ping_interval = std::chrono::milliseconds(std::strtoll(argv[++i], nullptr, 10));
        } else {
            return usage();
        }
    }
    try {
        nnghttp::server srv(std::string("http://127.0.0.1:") + argv[1]);
        srv.ws("/", echo, opts);
        srv.start();
        std::printf("listening on %u\n", unsigned(srv.port()));
        std::fflush(stdout);
        int sig = 0;
        sigwait(&stop, &sig);
        srv.stop();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ws_echo_server: %s\n", e.what());
        return 1;
    }
    return 0;
}
