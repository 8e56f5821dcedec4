/*
 * hostile_server: the C server of the hostile-peer tests, written against
 * NNG's public C API only (<nng/nng.h>, <nng/supplemental/http/http.h>,
 * <nng/supplemental/tls/tls.h>).  It leaves every signal disposition as it
 * found it: the tests check that a peer cannot kill it with SIGPIPE.
 *
 * Usage: hostile_server URL ROOT [--pem FILE] [--dir-prefix PATH]
 *
 * URL is http://127.0.0.1:0 or https://127.0.0.1:0 (port 0: any free
 * port); https needs --pem: one PEM file with the certificate (chain)
 * followed by its unencrypted private key (nng_tls_config_cert_key_file).
 * Once started it prints "listening on PORT" on stdout.  It serves until
 * its standard input reaches end of file (the tests close the pipe), then
 * releases the server (the last hold: the server closes) and exits 0.  No signal handler is
 * installed.
 *
 * Routes:
 *   PREFIX (default "/")  directory handler over ROOT (a tree)
 *   /the-file             file handler: ROOT/hello.txt (any method)
 *   /no-body              any method; does not collect the body
 *                         (collect_body(false, 0)); answers "not reading"
 *   /redirect             302 to /hello.txt (any method, as NNG's redirects)
 *   /post-only            POST only, body collected up to 1 KiB; answers
 *                         "posted N bytes"
 *   /length               POST only, body collected up to 8 MiB; answers
 *                         "length N"
 * The directory serves GET (and HEAD) below "/" and takes no body (NNG's
 * directory handlers collect at most 0 bytes): POST /hello.txt gets 405,
 * but GET /post-only goes to the directory.  With --dir-prefix /files the
 * directory moves to /files, so that other paths match no handler at all
 * (the router's own 404) and GET /post-only gets 405.
 */
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fatal(const char* what, int rv) {
    fprintf(stderr, "hostile_server: %s: %s\n", what, nng_strerror(rv));
    exit(1);
}

static void check(int rv, const char* what) {
    if (rv != 0) {
        fatal(what, rv);
    }
}

static void usage(const char* argv0) {
    fprintf(stderr, "usage: %s URL ROOT [--pem FILE] [--dir-prefix PATH]\n", argv0);
    exit(2);
}

/* Finishes the handler's aio with a text/plain 200 whose body is text. */
static void answer_text(nng_aio* aio, const char* text) {
    nng_http_res* res = NULL;
    int rv;
    if ((rv = nng_http_res_alloc(&res)) == 0 &&
        (rv = nng_http_res_set_header(res, "Content-Type", "text/plain")) == 0) {
        rv = nng_http_res_copy_data(res, text, strlen(text));
    }
    if (rv != 0) {
        if (res != NULL) {
            nng_http_res_free(res);
        }
        nng_aio_finish(aio, rv);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

/* The length of the collected body. */
static size_t body_length(nng_aio* aio) {
    nng_http_req* req = nng_aio_get_input(aio, 0);
    void* body = NULL;
    size_t len = 0;
    nng_http_req_get_data(req, &body, &len);
    return len;
}

static void handle_no_body(nng_aio* aio) {
    answer_text(aio, "not reading\n");
}

static void handle_post_only(nng_aio* aio) {
    char text[64];
    snprintf(text, sizeof(text), "posted %zu bytes\n", body_length(aio));
    answer_text(aio, text);
}

static void handle_length(nng_aio* aio) {
    char text[64];
    snprintf(text, sizeof(text), "length %zu\n", body_length(aio));
    answer_text(aio, text);
}

static void add(nng_http_server* s, nng_http_handler* h, const char* what) {
    check(nng_http_server_add_handler(s, h), what);
}

int main(int argc, char** argv) {
    const char* pem = NULL;
    const char* prefix = "/";
    nng_http_server* s = NULL;
    nng_http_handler* h = NULL;
    nng_url* url = NULL;
    nng_sockaddr sa;
    char file[4096];
    char buf[256];
    int i;

    if (argc < 3) {
        usage(argv[0]);
    }
    for (i = 3; i < argc; i++) {
        if (i + 1 >= argc) {
            usage(argv[0]);
        }
        if (strcmp(argv[i], "--pem") == 0) {
            pem = argv[++i];
        } else if (strcmp(argv[i], "--dir-prefix") == 0) {
            prefix = argv[++i];
        } else {
            usage(argv[0]);
        }
    }
    snprintf(file, sizeof(file), "%s/hello.txt", argv[2]);

    check(nng_url_parse(&url, argv[1]), "nng_url_parse");
    check(nng_http_server_hold(&s, url), "nng_http_server_hold");
    if (strcmp(url->u_scheme, "https") == 0) {
        nng_tls_config* cfg = NULL;
        if (pem == NULL) {
            fprintf(stderr, "hostile_server: https needs --pem\n");
            return 2;
        }
        check(nng_http_server_get_tls(s, &cfg), "nng_http_server_get_tls");
        /* The server's own configuration (no hold is taken): changed in
         * place before the server starts. */
        check(nng_tls_config_cert_key_file(cfg, pem, NULL), "nng_tls_config_cert_key_file");
    }
    nng_url_free(url);

    check(nng_http_handler_alloc_directory(&h, prefix, argv[2]), "directory");
    add(s, h, "directory");

    /* Any method: a directory owns its whole subtree for GET, so a GET-only
     * handler below "/" would be refused (NNG_EADDRINUSE). */
    check(nng_http_handler_alloc_file(&h, "/the-file", file), "file");
    check(nng_http_handler_set_method(h, NULL), "file method");
    add(s, h, "file");

    check(nng_http_handler_alloc(&h, "/no-body", handle_no_body), "no-body");
    check(nng_http_handler_set_method(h, NULL), "no-body method");
    check(nng_http_handler_collect_body(h, false, 0), "no-body collect");
    add(s, h, "no-body");

    check(nng_http_handler_alloc_redirect(&h, "/redirect", NNG_HTTP_STATUS_FOUND, "/hello.txt"),
          "redirect");
    add(s, h, "redirect");

    check(nng_http_handler_alloc(&h, "/post-only", handle_post_only), "post-only");
    check(nng_http_handler_set_method(h, "POST"), "post-only method");
    check(nng_http_handler_collect_body(h, true, 1024), "post-only collect");
    add(s, h, "post-only");

    check(nng_http_handler_alloc(&h, "/length", handle_length), "length");
    check(nng_http_handler_set_method(h, "POST"), "length method");
    check(nng_http_handler_collect_body(h, true, 8u << 20), "length collect");
    add(s, h, "length");

    check(nng_http_server_start(s), "nng_http_server_start");
    check(nng_http_server_get_addr(s, &sa), "nng_http_server_get_addr");
    if (sa.s_family != NNG_AF_INET) {
        fprintf(stderr, "hostile_server: unexpected address family %d\n", (int)sa.s_family);
        return 1;
    }
    {
        /* sa_port is in network byte order. */
        const unsigned char* p = (const unsigned char*)&sa.s_in.sa_port;
        printf("listening on %u\n", (unsigned)((p[0] << 8) | p[1]));
        fflush(stdout);
    }

    /* Serve until standard input ends (or fails). */
    while (read(0, buf, sizeof(buf)) > 0) {
    }

    nng_http_server_release(s);
    return 0;
}
