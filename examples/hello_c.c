/*
 * hello_c: an HTTP server in C, with NNG's public API.  GET / answers
 * "Hello, world!".  Runs until SIGINT or SIGTERM.
 *
 *   hello_c [URL]        default http://127.0.0.1:8080 (port 0: any free port)
 */
#define _POSIX_C_SOURCE 200809L /* sigwait, pthread_sigmask */

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

/* Called on a library thread for each request: build a response, hand it back. */
static void hello(nng_aio *aio) {
    static const char body[] = "Hello, world!\n";
    nng_http_res *res = NULL;
    int rv;
    if ((rv = nng_http_res_alloc(&res)) != 0 ||
        (rv = nng_http_res_set_header(res, "Content-Type", "text/plain")) != 0 ||
        (rv = nng_http_res_copy_data(res, body, sizeof(body) - 1)) != 0) {
        nng_http_res_free(res);
        nng_aio_finish(aio, rv); /* the server answers 500 */
        return;
    }
    nng_aio_set_output(aio, 0, res); /* the server sends it, then frees it */
    nng_aio_finish(aio, 0);
}

int main(int argc, char **argv) {
    const char *text = argc > 1 ? argv[1] : "http://127.0.0.1:8080";
    nng_url *url;
    nng_http_server *server;
    nng_http_handler *handler;
    nng_sockaddr sa;
    sigset_t stop;
    int rv, sig;

    /* Block the stop signals before the library starts any thread: they
     * then wait for sigwait below, whichever thread they were sent to. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    if ((rv = nng_url_parse(&url, text)) != 0 ||
        (rv = nng_http_server_hold(&server, url)) != 0 ||
        (rv = nng_http_handler_alloc(&handler, "/", hello)) != 0 ||
        (rv = nng_http_server_add_handler(server, handler)) != 0 || /* the server owns it now */
        (rv = nng_http_server_start(server)) != 0 ||
        (rv = nng_http_server_get_addr(server, &sa)) != 0) {
        fprintf(stderr, "hello_c: %s: %s\n", text, nng_strerror(rv));
        return 1; /* exiting frees everything */
    }
    /* The port sits at the same place in IPv4 and IPv6 addresses. */
    printf("hello_c: listening on port %u\n", (unsigned) ntohs(sa.s_in.sa_port));
    fflush(stdout);

    sigwait(&stop, &sig);

    nng_http_server_stop(server);
    nng_http_server_release(server);
    nng_url_free(url);
    return 0;
}
