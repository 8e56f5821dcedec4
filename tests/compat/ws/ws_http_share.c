/*
 * Differential test of WebSocket listeners sharing a port with an HTTP
 * server: WebSocket stream listeners for ws://127.0.0.1:PORT/path use the
 * HTTP server that nng_http_server_hold gives for http://127.0.0.1:PORT,
 * whichever comes first.  Plain HTTP handlers (a static one at /hello, a
 * callback at /api) and two WebSocket listeners (/a, /b) answer on one
 * port; a second listener for a path that is taken fails at listen; a
 * closed listener's path answers 404 while the others go on; the path can
 * then be listened on again.
 *
 * Left out: a WebSocket listener on the path of a plain handler (/hello):
 * NNG 1.5.2 lets it listen (a handler with a host never conflicts with one
 * without) and the dial then fails with NNG_EPROTO as the plain handler
 * answers; a correct implementation refuses the listen (NNG_EADDRINUSE).
 *
 * HTTP requests go through NNG's own client (nng_http_client_connect and
 * nng_http_conn_transact).  Only statuses are printed for error answers
 * (the pages' bytes are each library's own, docs/compat.md); bodies of 200
 * answers are printed.
 */
#include "ws_common.h"

#include <nng/supplemental/http/http.h>

static const char hello[] = "Hello from /hello\n";

static void api_cb(nng_aio* aio) {
    nng_http_req* req = nng_aio_get_input(aio, 0);
    nng_http_res* res = NULL;
    char body[128];
    snprintf(body, sizeof body, "api: %s %s\n", nng_http_req_get_method(req),
             nng_http_req_get_uri(req));
    int rv = nng_http_res_alloc(&res);
    if (rv == 0) {
        rv = nng_http_res_copy_data(res, body, strlen(body));
    }
    if (rv == 0) {
        rv = nng_http_res_set_header(res, "Content-Type", "text/plain");
    }
    if (rv != 0) {
        nng_http_res_free(res);
        nng_aio_finish(aio, rv);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

/* One request on a new connection; prints the status, and the body of a
 * 200. */
static void http_request_ex(const char* method, const char* path, bool class_only) {
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", cur_port, path);
    nng_url* u = NULL;
    nng_http_client* c = NULL;
    nng_http_req* req = NULL;
    nng_http_res* res = NULL;
    nng_http_conn* conn = NULL;
    nng_aio* a = new_aio(WAIT_MS);
    int rv = nng_url_parse(&u, url);
    if (rv == 0) {
        rv = nng_http_client_alloc(&c, u);
    }
    if (rv == 0) {
        nng_http_client_connect(c, a);
        nng_aio_wait(a);
        if ((rv = nng_aio_result(a)) == 0) {
            conn = nng_aio_get_output(a, 0);
        }
    }
    if (rv == 0 && (rv = nng_http_req_alloc(&req, u)) == 0 &&
        (rv = nng_http_req_set_method(req, method)) == 0 && (rv = nng_http_res_alloc(&res)) == 0) {
        nng_http_conn_transact(conn, req, res, a);
        nng_aio_wait(a);
        rv = nng_aio_result(a);
    }
    printf("  HTTP %s %s: rv=%s", method, path, errname(rv));
    if (rv == 0) {
        unsigned status = nng_http_res_get_status(res);
        if (class_only) {
            printf(" status=%uxx", status / 100);
        } else {
            printf(" status=%u", status);
        }
        if (status == 200) {
            void* body = NULL;
            size_t len = 0;
            nng_http_res_get_data(res, &body, &len);
            char text[256]; /* the body is not NUL-terminated */
            snprintf(text, sizeof text, "%.*s", (int)len, len > 0 ? (char*)body : "");
            printf(" body=\"%s\"", mask(text));
        }
    }
    printf("\n");
    if (conn != NULL) {
        nng_http_conn_close(conn);
    }
    nng_http_res_free(res);
    nng_http_req_free(req);
    nng_http_client_free(c);
    nng_url_free(u);
    nng_aio_free(a);
}

static void http_request(const char* method, const char* path) {
    http_request_ex(method, path, false);
}

/* A listener for path on cur_port; listen's result in *rv, NULL if alloc
 * failed. */
static nng_stream_listener* ws_listen(const char* path, int* rv) {
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d%s", cur_port, path);
    nng_stream_listener* l = NULL;
    if ((*rv = nng_stream_listener_alloc(&l, url)) != 0) {
        printf("  ws listener %s: alloc rv=%s\n", path, errname(*rv));
        return NULL;
    }
    *rv = nng_stream_listener_listen(l);
    printf("  ws listener %s: alloc rv=OK, listen rv=%s\n", path, errname(*rv));
    return l;
}

/* Dials path; when l is given, accepts there and echoes one message. */
static void ws_echo(nng_stream_listener* l, const char* path) {
    nng_stream_dialer* d = dialer_to("ws", "127.0.0.1", path);
    nng_stream *srv, *cli;
    int ra, rd;
    dial_accept(l, d, 300, &srv, &cli, &ra, &rd);
    printf("  ws %s: dial rv=%s", path, errname(rd));
    if (l != NULL) {
        printf(" accept rv=%s", errname(ra));
    }
    if (srv != NULL && cli != NULL) {
        char msg[64], got[64] = {0}, back[64] = {0};
        snprintf(msg, sizeof msg, "ping %s", path);
        size_t n = strlen(msg);
        int rv = xfer_all(cli, true, msg, n, 0, NULL);
        if (rv == 0) {
            rv = xfer_all(srv, false, got, n, 0, NULL);
        }
        if (rv == 0) {
            rv = xfer_all(srv, true, got, n, 0, NULL);
        }
        if (rv == 0) {
            rv = xfer_all(cli, false, back, n, 0, NULL);
        }
        printf(" echo rv=%s \"%s\"", errname(rv), back);
    }
    printf("\n");
    free_stream(cli);
    free_stream(srv);
    nng_stream_dialer_free(d);
}

static nng_http_server* hold(int port, int* rv) {
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    nng_url* u = NULL;
    nng_http_server* s = NULL;
    if ((*rv = nng_url_parse(&u, url)) == 0) {
        *rv = nng_http_server_hold(&s, u);
        nng_url_free(u);
    }
    printf("  nng_http_server_hold %s: rv=%s\n", port == 0 ? "port 0" : "the ws port",
           errname(*rv));
    return s;
}

static void add_handlers(nng_http_server* s) {
    nng_http_handler *h1 = NULL, *h2 = NULL;
    int rv = nng_http_handler_alloc_static(&h1, "/hello", hello, strlen(hello), "text/plain");
    if (rv == 0) {
        rv = nng_http_server_add_handler(s, h1);
    }
    want("  add static handler /hello", rv, 0);
    rv = nng_http_handler_alloc(&h2, "/api", api_cb);
    if (rv == 0) {
        rv = nng_http_server_add_handler(s, h2);
    }
    want("  add handler /api", rv, 0);
}

static void server_first(void) {
    printf("HTTP server first, then WebSocket listeners\n");
    int rv;
    nng_http_server* s = hold(0, &rv);
    if (rv != 0) {
        failures++;
        return;
    }
    add_handlers(s);
    want("  nng_http_server_start", nng_http_server_start(s), 0);
    nng_sockaddr sa;
    rv = nng_http_server_get_addr(s, &sa);
    want("  nng_http_server_get_addr", rv, 0);
    cur_port = (sa.s_in.sa_port >> 8 | sa.s_in.sa_port << 8) & 0xffff;
    yesno("  server port nonzero", cur_port != 0);

    nng_stream_listener* la = ws_listen("/a", &rv);
    nng_stream_listener* lb = ws_listen("/b", &rv);
    nng_stream_listener* lc = ws_listen("/a", &rv);
    int bound = 0;
    nng_stream_listener_get_int(la, NNG_OPT_TCP_BOUND_PORT, &bound);
    yesno("  listener /a bound port is the server's", bound == cur_port);

    http_request("GET", "/hello");
    http_request("GET", "/api");
    http_request("GET", "/api?x=1");
    http_request("POST", "/hello");
    http_request("GET", "/nothing");
    http_request_ex("GET", "/a", true); /* no upgrade: 400 in NNG; 4xx compared */
    ws_echo(la, "/a");
    ws_echo(lb, "/b");
    ws_echo(NULL, "/nothing");

    printf("after closing listener /a:\n");
    nng_stream_listener_close(la);
    http_request("GET", "/a");
    ws_echo(NULL, "/a");
    ws_echo(lb, "/b");
    http_request("GET", "/hello");
    http_request("GET", "/api");
    nng_stream_listener* la2 = ws_listen("/a", &rv);
    ws_echo(la2, "/a");

    nng_stream_listener_free(la2);
    nng_stream_listener_free(lc);
    nng_stream_listener_free(lb);
    nng_stream_listener_free(la);
    printf("after freeing every listener:\n");
    http_request("GET", "/hello");
    nng_http_server_stop(s);
    nng_http_server_release(s);
}

static void listener_first(void) {
    printf("WebSocket listener on port 0 first, then the HTTP server\n");
    nng_stream_listener* l = listen_at("ws://127.0.0.1:0/first");
    int rv;
    nng_http_server* s = hold(cur_port, &rv);
    if (rv != 0) {
        failures++;
        nng_stream_listener_free(l);
        return;
    }
    add_handlers(s);
    want("  nng_http_server_start", nng_http_server_start(s), 0);
    http_request("GET", "/hello");
    http_request("GET", "/api");
    ws_echo(l, "/first");
    nng_stream_listener_free(l);
    printf("after freeing the listener:\n");
    http_request("GET", "/first");
    http_request("GET", "/hello");
    nng_http_server_stop(s);
    nng_http_server_release(s);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    server_first();
    listener_first();
    printf("failures: %d\n", failures);
    return failures == 0 ? 0 : 1;
}
