/*
 * The https server of bench/server/run_tls.sh: written against NNG's public
 * C API only, so that it builds unchanged against nng-http and against
 * NNG 1.5.2 (whose TLS engine, in Debian's libnng, is mbedTLS).
 *
 * Usage: tls_app PORT PEM
 *
 * PORT 0 binds an ephemeral port.  PEM holds the server's certificate
 * followed by its private key (unencrypted).  Once the server is started
 * the program prints "listening on PORT" on stdout and flushes it; it then
 * serves until SIGINT or SIGTERM, stops the server and releases it.
 * Diagnostics go to stderr.  Also prints, before that line, "tls engine:
 * NAME" as nng_tls_engine_name() reports it.
 *
 * One route: GET /static, the 13 bytes "Hello, world!" as text/plain
 * (the same static handler as server_app.c's).
 */
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void check(int rv, const char* what) {
    if (rv != 0) {
        fprintf(stderr, "tls_app: %s: %s\n", what, nng_strerror(rv));
        exit(1);
    }
}

int main(int argc, char** argv) {
    nng_http_server* s;
    nng_http_handler* h;
    nng_tls_config* cfg;
    nng_url* url;
    nng_sockaddr sa;
    char addr[64];

    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT PEM\n", argv[0]);
        return 2;
    }
    snprintf(addr, sizeof(addr), "https://127.0.0.1:%s", argv[1]);

    check(nng_url_parse(&url, addr), "nng_url_parse");
    check(nng_http_server_hold(&s, url), "nng_http_server_hold");
    nng_url_free(url);

    check(nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER), "nng_tls_config_alloc");
    check(nng_tls_config_cert_key_file(cfg, argv[2], NULL), "nng_tls_config_cert_key_file");
    check(nng_http_server_set_tls(s, cfg), "nng_http_server_set_tls");
    nng_tls_config_free(cfg); /* the server holds its own reference */

    check(nng_http_handler_alloc_static(&h, "/static", "Hello, world!", 13, "text/plain"),
          "static");
    check(nng_http_server_add_handler(s, h), "add static");

    check(nng_http_server_start(s), "nng_http_server_start");
    check(nng_http_server_get_addr(s, &sa), "nng_http_server_get_addr");
    if (sa.s_family != NNG_AF_INET) {
        fprintf(stderr, "tls_app: unexpected address family %d\n", (int)sa.s_family);
        return 1;
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    printf("tls engine: %s\n", nng_tls_engine_name());
    /* sa_port is in network byte order. */
    {
        const unsigned char* p = (const unsigned char*)&sa.s_in.sa_port;
        printf("listening on %u\n", (unsigned)((p[0] << 8) | p[1]));
        fflush(stdout);
    }

    while (!stop_requested) {
        nng_msleep(50);
    }

    nng_http_server_stop(s);
    nng_http_server_release(s);
    return 0;
}
