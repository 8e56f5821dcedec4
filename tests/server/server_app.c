/*
 * The server used by the HTTP server's differential test (requests.py) and
 * by bench/server: one program, written against NNG's public C API only, so
 * that it builds unchanged against NNG 1.5.2 and against nng-http.
 *
 * Usage: server_app PORT SITE_DIR
 *
 * PORT 0 binds an ephemeral port.  SITE_DIR is tests/server/site after
 * tests/server/make_site.sh has generated www/one.bin in it.  Once the
 * server is started the program prints "listening on PORT" on stdout and
 * flushes it; it then serves until SIGINT or SIGTERM, stops the server and
 * releases it.  Diagnostics go to stderr.
 *
 * Routes (see README.md for the full table):
 *   /static          static 13-byte "Hello, world!" text/plain
 *   /file            file handler: SITE_DIR/www/one.bin
 *   /site            directory handler: SITE_DIR/www (tree)
 *   /moved, /found   redirects to /static (301 and 302)
 *   /moved-tree      tree redirect to /site (suffix appended)
 *   /echo            POST only, body collected (limit 64 KiB) and echoed
 *   /hdr             custom headers
 *   /put             PUT only
 *   /any             any method, answers the method
 *   /empty           200 with no body at all
 *   /api             tree handler, answers the rest of the URI
 *   /excl            tree-exclusive handler, answers the URI
 *   /vhost           only for Host "localhost" (any port)
 *   /fail            answers nng_http_res_alloc_error(500)
 *   404              custom error page
 */
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_LIMIT (64 * 1024)

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void fatal(const char* what, int rv) {
    fprintf(stderr, "server_app: %s: %s\n", what, nng_strerror(rv));
    exit(1);
}

/* Finishes the handler's aio with res, or with the error if building the
 * response failed. */
static void reply(nng_aio* aio, nng_http_res* res, int rv) {
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

/* A 200 response with a text/plain body copied from text. */
static void reply_text(nng_aio* aio, const char* text) {
    nng_http_res* res = NULL;
    int rv;
    if ((rv = nng_http_res_alloc(&res)) == 0 &&
        (rv = nng_http_res_set_header(res, "Content-Type", "text/plain")) == 0) {
        rv = nng_http_res_copy_data(res, text, strlen(text));
    }
    reply(aio, res, rv);
}

/* POST /echo: the collected body back, with the request's Content-Type. */
static void handle_echo(nng_aio* aio) {
    nng_http_req* req = nng_aio_get_input(aio, 0);
    nng_http_res* res = NULL;
    void* body;
    size_t len;
    const char* ctype = nng_http_req_get_header(req, "Content-Type");
    int rv;

    nng_http_req_get_data(req, &body, &len);
    if (ctype == NULL) {
        ctype = "application/octet-stream";
    }
    if ((rv = nng_http_res_alloc(&res)) == 0 &&
        (rv = nng_http_res_set_header(res, "Content-Type", ctype)) == 0) {
        /* NNG 1.5.2's copy_data fails for 0 bytes (ENOMEM); set_data with
         * an empty body still sets Content-Length: 0. */
        rv = len > 0 ? nng_http_res_copy_data(res, body, len) : nng_http_res_set_data(res, "", 0);
    }
    reply(aio, res, rv);
}

/* GET /hdr: a response with headers chosen by the handler, one of them
 * given twice through add_header. */
static void handle_hdr(nng_aio* aio) {
    nng_http_res* res = NULL;
    static const char body[] = "custom headers\n";
    int rv;

    if ((rv = nng_http_res_alloc(&res)) == 0 &&
        (rv = nng_http_res_set_status(res, NNG_HTTP_STATUS_ACCEPTED)) == 0 &&
        (rv = nng_http_res_set_reason(res, "Taken")) == 0 &&
        (rv = nng_http_res_set_header(res, "Content-Type", "text/x-test")) == 0 &&
        (rv = nng_http_res_set_header(res, "X-Test-One", "first")) == 0 &&
        (rv = nng_http_res_add_header(res, "X-Test-Two", "a")) == 0 &&
        (rv = nng_http_res_add_header(res, "X-Test-Two", "b")) == 0 &&
        (rv = nng_http_res_set_header(res, "X-Test-Gone", "never sent")) == 0 &&
        (rv = nng_http_res_del_header(res, "X-Test-Gone")) == 0) {
        rv = nng_http_res_copy_data(res, body, strlen(body));
    }
    reply(aio, res, rv);
}

/* PUT /put: acknowledges with the size of the collected body. */
static void handle_put(nng_aio* aio) {
    nng_http_req* req = nng_aio_get_input(aio, 0);
    void* body;
    size_t len;
    char text[64];

    nng_http_req_get_data(req, &body, &len);
    snprintf(text, sizeof(text), "stored %zu bytes\n", len);
    reply_text(aio, text);
}

/* Any method at /any: answers the method and the version. */
static void handle_any(nng_aio* aio) {
    nng_http_req* req = nng_aio_get_input(aio, 0);
    char text[128];

    snprintf(text, sizeof(text), "method %s version %s\n", nng_http_req_get_method(req),
             nng_http_req_get_version(req));
    reply_text(aio, text);
}

/* GET /empty: a 200 whose message has no data at all. */
static void handle_empty(nng_aio* aio) {
    nng_http_res* res = NULL;
    int rv = nng_http_res_alloc(&res);
    reply(aio, res, rv);
}

/* Tree handlers: the URI as received and what follows the handler's path
 * (the path is the handler's data). */
static void handle_tree(nng_aio* aio) {
    nng_http_req* req = nng_aio_get_input(aio, 0);
    nng_http_handler* h = nng_aio_get_input(aio, 1);
    const char* base = nng_http_handler_get_data(h);
    const char* uri = nng_http_req_get_uri(req);
    const char* rest = uri;
    char text[512];

    if (strncmp(uri, base, strlen(base)) == 0) {
        rest = uri + strlen(base);
    }
    snprintf(text, sizeof(text), "handler %s uri %s rest [%s]\n", base, uri, rest);
    reply_text(aio, text);
}

/* GET /vhost, only for Host: localhost. */
static void handle_vhost(nng_aio* aio) {
    reply_text(aio, "virtual host localhost\n");
}

/* GET /fail: an error response, which the server completes with its error
 * page for 500. */
static void handle_fail(nng_aio* aio) {
    nng_http_res* res = NULL;
    int rv = nng_http_res_alloc_error(&res, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR);
    reply(aio, res, rv);
}

static void add(nng_http_server* s, nng_http_handler* h, const char* what) {
    int rv;
    if ((rv = nng_http_server_add_handler(s, h)) != 0) {
        fatal(what, rv);
    }
}

static nng_http_handler* custom(const char* path, void (*cb)(nng_aio*), const char* method) {
    nng_http_handler* h;
    int rv;
    if ((rv = nng_http_handler_alloc(&h, path, cb)) != 0) {
        fatal(path, rv);
    }
    if ((rv = nng_http_handler_set_method(h, method)) != 0) {
        fatal(path, rv);
    }
    return h;
}

static void check(int rv, const char* what) {
    if (rv != 0) {
        fatal(what, rv);
    }
}

int main(int argc, char** argv) {
    nng_http_server* s;
    nng_http_handler* h;
    nng_url* url;
    nng_sockaddr sa;
    char addr[64];
    char www[4096];
    char bin[4096];
    int rv;

    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT SITE_DIR\n", argv[0]);
        return 2;
    }
    snprintf(addr, sizeof(addr), "http://127.0.0.1:%s", argv[1]);
    snprintf(www, sizeof(www), "%s/www", argv[2]);
    snprintf(bin, sizeof(bin), "%s/www/one.bin", argv[2]);

    check(nng_url_parse(&url, addr), "nng_url_parse");
    check(nng_http_server_hold(&s, url), "nng_http_server_hold");
    nng_url_free(url);

    check(nng_http_handler_alloc_static(&h, "/static", "Hello, world!", 13, "text/plain"),
          "static");
    add(s, h, "static");

    check(nng_http_handler_alloc_file(&h, "/file", bin), "file");
    add(s, h, "file");

    check(nng_http_handler_alloc_directory(&h, "/site", www), "directory");
    add(s, h, "directory");

    check(nng_http_handler_alloc_redirect(&h, "/moved", NNG_HTTP_STATUS_STATUS_MOVED_PERMANENTLY,
                                          "/static"),
          "redirect 301");
    add(s, h, "redirect 301");
    check(nng_http_handler_alloc_redirect(&h, "/found", NNG_HTTP_STATUS_FOUND, "/static"),
          "redirect 302");
    add(s, h, "redirect 302");
    check(nng_http_handler_alloc_redirect(&h, "/moved-tree",
                                          NNG_HTTP_STATUS_STATUS_MOVED_PERMANENTLY, "/site"),
          "redirect tree");
    check(nng_http_handler_set_tree(h), "redirect tree");
    add(s, h, "redirect tree");

    h = custom("/echo", handle_echo, "POST");
    check(nng_http_handler_collect_body(h, true, ECHO_LIMIT), "echo collect");
    add(s, h, "echo");

    h = custom("/hdr", handle_hdr, "GET");
    add(s, h, "hdr");

    h = custom("/put", handle_put, "PUT");
    check(nng_http_handler_collect_body(h, true, ECHO_LIMIT), "put collect");
    add(s, h, "put");

    h = custom("/any", handle_any, NULL);
    add(s, h, "any");

    h = custom("/empty", handle_empty, "GET");
    add(s, h, "empty");

    h = custom("/api", handle_tree, "GET");
    check(nng_http_handler_set_tree(h), "api tree");
    check(nng_http_handler_set_data(h, "/api", NULL), "api data");
    add(s, h, "api");

    h = custom("/excl", handle_tree, "GET");
    check(nng_http_handler_set_tree_exclusive(h), "excl tree");
    check(nng_http_handler_set_data(h, "/excl", NULL), "excl data");
    add(s, h, "excl");

    /* A second handler below a tree-exclusive one must be refused. */
    h = custom("/excl/sub", handle_tree, "GET");
    if ((rv = nng_http_server_add_handler(s, h)) != NNG_EADDRINUSE) {
        fprintf(stderr, "server_app: /excl/sub under /excl: expected NNG_EADDRINUSE, got %s\n",
                nng_strerror(rv));
        return 1;
    }
    nng_http_handler_free(h);

    h = custom("/vhost", handle_vhost, "GET");
    check(nng_http_handler_set_host(h, "localhost"), "vhost host");
    add(s, h, "vhost");

    h = custom("/fail", handle_fail, "GET");
    add(s, h, "fail");

    check(nng_http_server_set_error_page(s, NNG_HTTP_STATUS_NOT_FOUND,
                                         "<html><body>custom 404: nothing here</body></html>\n"),
          "error page");

    check(nng_http_server_start(s), "nng_http_server_start");
    check(nng_http_server_get_addr(s, &sa), "nng_http_server_get_addr");
    if (sa.s_family != NNG_AF_INET) {
        fprintf(stderr, "server_app: unexpected address family %d\n", (int)sa.s_family);
        return 1;
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

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
