// hello: an HTTP server with the C++ API.  GET / answers "Hello, world!".
// Runs until SIGINT or SIGTERM.
//
//   hello [URL]        default http://127.0.0.1:8080 (port 0: any free port)
#include <nnghttp/nnghttp.hpp>

#include <csignal>
#include <iostream>
#include <pthread.h>

int main(int argc, char** argv) try {
    // Block the stop signals before the library starts any thread: they
    // then wait for sigwait below, whichever thread they were sent to.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    nnghttp::server server(argc > 1 ? argv[1] : "http://127.0.0.1:8080");
    server.get("/", [](const nnghttp::request&, nnghttp::response& res) {
        res.set_header("Content-Type", "text/plain").set_body("Hello, world!\n");
    });
    server.start();
    std::cout << "hello: listening on port " << server.port() << std::endl;

    int sig;
    sigwait(&stop, &sig);
    server.stop();
    return 0;
} catch (const std::exception& e) {
    std::cerr << "hello: " << e.what() << '\n';
    return 1;
}
