/*
 * Differential test of WebSocket options on stream dialers, listeners and
 * the streams they make: every NNG_OPT_WS_* option with the right and the
 * wrong types, read-only and write-only ones, unknown names, values read
 * back, the TCP options that pass through, request headers set on the
 * dialer and read on both streams, the response headers of the handshake,
 * sub-protocol negotiation and the request URI.  Each result is one line
 * "<object> <operation> "<option>": rv=NAME [value=...]".
 *
 * Response headers set on a listener (NNG_OPT_WS_RESPONSE_HEADERS,
 * NNG_OPT_WS_RESPONSE_HEADER prefix) are only tried with the wrong type:
 * NNG 1.5.2 crashes on every valid set (nni_ws_listener_alloc never
 * initialises the header list; fixed in NNG 2.0, commit f70c0b0b).
 *
 * Not compared (docs/compat.md, stream_tcp.c): the NNG_OPT_TCP_NODELAY
 * default (only the result of the get is printed) and the code for
 * setting NNG_OPT_TCP_BOUND_PORT (only whether it fails).  Left out
 * because a correct implementation is stricter or more complete than NNG
 * 1.5.2: header values containing CR or LF, a dialer offering several
 * sub-protocols ("a, chat"), comma-only separated lists ("chat,super"),
 * the case of sub-protocol names.
 */
#include "ws_opts.h"

/* The size, bool and string options dialers and listeners share. */
static void common_options(const struct obj* o) {
    const char* sizes[] = {NNG_OPT_WS_SENDMAXFRAME, NNG_OPT_WS_RECVMAXFRAME, NNG_OPT_RECVMAXSZ};
    for (int i = 0; i < 3; i++) {
        size_t def = 0, big = 4096;
        g_size(o, sizes[i]);
        CALL(o, get_size, sizes[i], &def);
        s_size(o, sizes[i], 1000);
        g_size(o, sizes[i]);
        s_size(o, sizes[i], 0);
        g_size(o, sizes[i]);
        s_size(o, sizes[i], 0xffffffffu);
        g_size(o, sizes[i]);
#if SIZE_MAX > 0xffffffffu
        s_size(o, sizes[i], (size_t)0xffffffffu + 1);
#endif
        g_size(o, sizes[i]);
        s_int(o, sizes[i], 5);
        s_bool(o, sizes[i], true);
        s_string(o, sizes[i], "5");
        g_int(o, sizes[i]);
        g_bool(o, sizes[i]);
        g_string(o, sizes[i]);
        s_opaque(o, sizes[i], &big, 4);
        s_opaque(o, sizes[i], &big, sizeof big);
        g_size(o, sizes[i]);
        g_opaque(o, sizes[i], sizeof(size_t));
        g_opaque(o, sizes[i], 4);
        s_size(o, sizes[i], def);
    }
    const char* bools[] = {NNG_OPT_WS_SEND_TEXT, NNG_OPT_WS_RECV_TEXT};
    for (int i = 0; i < 2; i++) {
        bool t = true;
        int four = 1;
        g_bool(o, bools[i]);
        s_bool(o, bools[i], true);
        g_bool(o, bools[i]);
        s_bool(o, bools[i], false);
        g_bool(o, bools[i]);
        s_int(o, bools[i], 1);
        s_size(o, bools[i], 1);
        s_string(o, bools[i], "true");
        g_int(o, bools[i]);
        g_size(o, bools[i]);
        g_string(o, bools[i]);
        s_opaque(o, bools[i], &four, sizeof four);
        s_opaque(o, bools[i], &t, sizeof t);
        g_bool(o, bools[i]);
        g_opaque(o, bools[i], sizeof(bool));
        s_bool(o, bools[i], false);
    }
    g_string(o, NNG_OPT_WS_PROTOCOL);
    s_string(o, NNG_OPT_WS_PROTOCOL, "chat");
    g_string(o, NNG_OPT_WS_PROTOCOL);
    s_string(o, NNG_OPT_WS_PROTOCOL, "");
    g_string(o, NNG_OPT_WS_PROTOCOL);
    s_bool(o, NNG_OPT_WS_PROTOCOL, true);
    s_size(o, NNG_OPT_WS_PROTOCOL, 1);
    g_size(o, NNG_OPT_WS_PROTOCOL);
    g_bool(o, NNG_OPT_WS_PROTOCOL);
    s_opaque(o, NNG_OPT_WS_PROTOCOL, "abc", 3);
    s_opaque(o, NNG_OPT_WS_PROTOCOL, "abc", 4);
    g_string(o, NNG_OPT_WS_PROTOCOL);
    g_opaque(o, NNG_OPT_WS_PROTOCOL, 2);
    g_opaque(o, NNG_OPT_WS_PROTOCOL, 16);

    g_bool(o, NNG_OPT_TCP_KEEPALIVE);
    s_bool(o, NNG_OPT_TCP_KEEPALIVE, true);
    g_bool(o, NNG_OPT_TCP_KEEPALIVE);
    g_bool_rv(o, NNG_OPT_TCP_NODELAY); /* the defaults differ */
    s_bool(o, NNG_OPT_TCP_NODELAY, true);
    g_bool(o, NNG_OPT_TCP_NODELAY);
    g_string(o, NNG_OPT_WS_REQUEST_URI);
    g_int(o, "no-such-option");
    s_int(o, "no-such-option", 1);
    g_string(o, "ws:no-such-option");
    s_string(o, "ws:no-such-option", "x");
}

static void check_dialer(void) {
    printf("-- dialer\n");
    cur_port = 47; /* only a placeholder: nothing listens here */
    nng_stream_dialer* d = dialer_to("ws", "127.0.0.1", "/opt");
    struct obj o = {K_DIALER, d, "dialer"};
    common_options(&o);
    g_string(&o, NNG_OPT_WS_REQUEST_HEADERS);
    s_string(&o, NNG_OPT_WS_REQUEST_HEADERS, "X-A: 1\r\nX-B: 2\r\n");
    s_opaque(&o, NNG_OPT_WS_REQUEST_HEADERS, "X-C: 3", 6);
    s_bool(&o, NNG_OPT_WS_REQUEST_HEADERS, true);
    s_string(&o, NNG_OPT_WS_REQUEST_HEADER "X-Test", "hello");
    g_string(&o, NNG_OPT_WS_REQUEST_HEADER "X-Test");
    s_bool(&o, NNG_OPT_WS_REQUEST_HEADER "X-Test", true);
    s_string(&o, NNG_OPT_WS_RESPONSE_HEADERS, "X-A: 1\r\n");
    g_string(&o, NNG_OPT_WS_RESPONSE_HEADERS);
    s_string(&o, NNG_OPT_WS_RESPONSE_HEADER "X-Test", "no");
    s_string(&o, NNG_OPT_WS_REQUEST_URI, "/x");
    g_string(&o, NNG_OPT_URL);
    s_string(&o, NNG_OPT_URL, "ws://127.0.0.1:1/x");
    g_int(&o, NNG_OPT_TCP_BOUND_PORT);
    g_addr(&o, NNG_OPT_REMADDR);
    void* ptr = NULL;
    res(&o, "get_ptr", NNG_OPT_TLS_CONFIG, nng_stream_dialer_get_ptr(d, NNG_OPT_TLS_CONFIG, &ptr));
    printf("\n");
    nng_stream_dialer_free(d);
}

static void check_listener(void) {
    printf("-- listener\n");
    nng_stream_listener* l = NULL;
    want("listener alloc", nng_stream_listener_alloc(&l, "ws://127.0.0.1:0/opt"), 0);
    struct obj o = {K_LISTENER, l, "listener"};
    common_options(&o);
    /* Response headers are only set with the wrong type or without a NUL:
     * NNG 1.5.2 crashes on any valid set (the listener's header list is
     * never initialised; fixed in NNG 2.0, commit f70c0b0b). */
    g_string(&o, NNG_OPT_WS_RESPONSE_HEADERS);
    s_opaque(&o, NNG_OPT_WS_RESPONSE_HEADERS, "X-C: 3", 6);
    s_bool(&o, NNG_OPT_WS_RESPONSE_HEADERS, true);
    g_string(&o, NNG_OPT_WS_RESPONSE_HEADER "X-Resp");
    s_int(&o, NNG_OPT_WS_RESPONSE_HEADER "X-Resp", 1);
    s_opaque(&o, NNG_OPT_WS_RESPONSE_HEADER "X-Resp", "yes", 3);
    s_string(&o, NNG_OPT_WS_REQUEST_HEADERS, "X-A: 1\r\n");
    s_string(&o, NNG_OPT_WS_REQUEST_HEADER "X-Test", "no");
    g_string(&o, NNG_OPT_URL);
    s_string(&o, NNG_OPT_URL, "ws://127.0.0.1:1/x");
    g_addr(&o, NNG_OPT_LOCADDR);
    int port = 0;
    want("listen", nng_stream_listener_listen(l), 0);
    int rv = nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port);
    printf("listener get_int \"%s\": rv=%s nonzero=%s\n", NNG_OPT_TCP_BOUND_PORT, errname(rv),
           port > 0 ? "yes" : "no");
    yesno("listener set_int tcp-bound-port fails",
          nng_stream_listener_set_int(l, NNG_OPT_TCP_BOUND_PORT, 1) != 0);
    g_addr(&o, NNG_OPT_LOCADDR);
    g_string(&o, NNG_OPT_URL);
    s_size(&o, NNG_OPT_WS_RECVMAXFRAME, 2000); /* after listen */
    g_size(&o, NNG_OPT_WS_RECVMAXFRAME);
    nng_stream_listener_free(l);
}

static void stream_options(const struct obj* o) {
    g_headers(o, NNG_OPT_WS_REQUEST_HEADERS);
    g_headers(o, NNG_OPT_WS_RESPONSE_HEADERS);
    const char* req[] = {"X-Test",
                         "x-test",
                         "X-A",
                         "X-B",
                         "Host",
                         "Upgrade",
                         "Connection",
                         "Sec-WebSocket-Version",
                         "Sec-WebSocket-Protocol",
                         "Sec-WebSocket-Key",
                         "Missing",
                         ""};
    const char* rsp[] = {
        "Upgrade", "upgrade", "Connection", "Sec-WebSocket-Protocol", "Sec-WebSocket-Accept",
        "X-Test",  "Missing"};
    char opt[128];
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        snprintf(opt, sizeof opt, "%s%s", NNG_OPT_WS_REQUEST_HEADER, req[i]);
        g_string(o, opt);
    }
    for (size_t i = 0; i < sizeof rsp / sizeof rsp[0]; i++) {
        snprintf(opt, sizeof opt, "%s%s", NNG_OPT_WS_RESPONSE_HEADER, rsp[i]);
        g_string(o, opt);
    }
    g_string(o, NNG_OPT_WS_REQUEST_URI);
    g_opaque(o, NNG_OPT_WS_REQUEST_URI, 3);
    g_opaque(o, NNG_OPT_WS_REQUEST_URI, 64);
    g_bool(o, NNG_OPT_WS_REQUEST_URI);
    g_size(o, NNG_OPT_WS_REQUEST_HEADERS);
    g_bool(o, NNG_OPT_WS_REQUEST_HEADER "X-Test");
    g_bool(o, NNG_OPT_WS_SEND_TEXT);
    g_bool(o, NNG_OPT_WS_RECV_TEXT);
    g_int(o, NNG_OPT_WS_SEND_TEXT);
    g_size(o, NNG_OPT_WS_SENDMAXFRAME);
    g_size(o, NNG_OPT_WS_RECVMAXFRAME);
    g_size(o, NNG_OPT_RECVMAXSZ);
    g_string(o, NNG_OPT_WS_PROTOCOL);
    g_string(o, NNG_OPT_URL);
    s_bool(o, NNG_OPT_WS_SEND_TEXT, true);
    s_bool(o, NNG_OPT_WS_RECV_TEXT, true);
    s_string(o, NNG_OPT_WS_REQUEST_HEADERS, "X-A: 1\r\n");
    s_string(o, NNG_OPT_WS_RESPONSE_HEADERS, "X-A: 1\r\n");
    s_string(o, NNG_OPT_WS_REQUEST_HEADER "X-Test", "x");
    s_string(o, NNG_OPT_WS_RESPONSE_HEADER "X-Test", "x");
    s_string(o, NNG_OPT_WS_REQUEST_URI, "/x");
    s_size(o, NNG_OPT_WS_SENDMAXFRAME, 100);
    s_string(o, NNG_OPT_WS_PROTOCOL, "chat");
    g_bool_rv(o, NNG_OPT_TCP_NODELAY); /* the defaults differ */
    s_bool(o, NNG_OPT_TCP_NODELAY, false);
    g_bool(o, NNG_OPT_TCP_NODELAY);
    g_bool(o, NNG_OPT_TCP_KEEPALIVE);
    g_addr(o, NNG_OPT_LOCADDR);
    g_addr(o, NNG_OPT_REMADDR);
    g_bool(o, NNG_OPT_TLS_VERIFIED);
    g_int(o, "no-such-option");
    s_int(o, "no-such-option", 1);
}

static void check_streams(void) {
    printf("-- streams\n");
    nng_stream_listener* l = NULL;
    int rv = nng_stream_listener_alloc(&l, "ws://127.0.0.1:0/opt");
    struct obj lo = {K_LISTENER, l, "listener"};
    s_string(&lo, NNG_OPT_WS_PROTOCOL, "chat");
    s_bool(&lo, NNG_OPT_WS_SEND_TEXT, true);
    if (rv == 0) {
        rv = nng_stream_listener_listen(l);
    }
    if (rv == 0) {
        rv = nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &cur_port);
    }
    want("listener setup", rv, 0);
    nng_stream_dialer* d = dialer_to("ws", "127.0.0.1", "/opt");
    struct obj dob = {K_DIALER, d, "dialer"};
    s_string(&dob, NNG_OPT_WS_PROTOCOL, "chat");
    s_string(&dob, NNG_OPT_WS_REQUEST_HEADERS, "X-A: 1\r\nX-B: 2\r\n");
    s_string(&dob, NNG_OPT_WS_REQUEST_HEADER "X-Test", "first");
    s_string(&dob, NNG_OPT_WS_REQUEST_HEADER "X-Test", "hello");
    s_bool(&dob, NNG_OPT_WS_RECV_TEXT, true);
    nng_stream *srv, *cli;
    connect_pair(l, d, &srv, &cli);
    struct obj so = {K_STREAM, srv, "accepted"}, co = {K_STREAM, cli, "dialed"};
    stream_options(&so);
    stream_options(&co);
    nng_sockaddr a1, a2;
    nng_stream_get_addr(srv, NNG_OPT_LOCADDR, &a1);
    nng_stream_get_addr(cli, NNG_OPT_REMADDR, &a2);
    yesno("accepted local port == dialed remote port", a1.s_in.sa_port == a2.s_in.sa_port);
    nng_stream_close(cli);
    printf("after nng_stream_close on the dialed stream:\n");
    g_string(&co, NNG_OPT_WS_REQUEST_URI);
    g_bool(&co, NNG_OPT_WS_SEND_TEXT);
    g_addr(&co, NNG_OPT_LOCADDR);
    g_int(&co, "no-such-option");
    s_bool(&co, NNG_OPT_TCP_NODELAY, true);
    free_stream(cli);
    free_stream(srv);

    /* The request URI keeps its query. */
    nng_stream_dialer_free(d);
    d = dialer_to("ws", "127.0.0.1", "/opt?q=1&r=two");
    nng_stream_dialer_set_string(d, NNG_OPT_WS_PROTOCOL, "chat");
    connect_pair(l, d, &srv, &cli);
    so.p = srv;
    co.p = cli;
    g_string(&so, NNG_OPT_WS_REQUEST_URI);
    g_string(&co, NNG_OPT_WS_REQUEST_URI);
    free_stream(cli);
    free_stream(srv);
    nng_stream_dialer_free(d);
    nng_stream_listener_free(l);
}

/* Sub-protocols: the listener's and the dialer's (NULL: not set). */
static void negotiate(const char* lproto, const char* dproto) {
    printf("-- protocol: listener %s%s%s, dialer %s%s%s\n", lproto ? "\"" : "",
           lproto ? lproto : "none", lproto ? "\"" : "", dproto ? "\"" : "",
           dproto ? dproto : "none", dproto ? "\"" : "");
    nng_stream_listener* l = NULL;
    int rv = nng_stream_listener_alloc(&l, "ws://127.0.0.1:0/p");
    if (rv == 0 && lproto != NULL) {
        rv = nng_stream_listener_set_string(l, NNG_OPT_WS_PROTOCOL, lproto);
    }
    if (rv == 0) {
        rv = nng_stream_listener_listen(l);
    }
    if (rv == 0) {
        rv = nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &cur_port);
    }
    want("listener setup", rv, 0);
    nng_stream_dialer* d = dialer_to("ws", "127.0.0.1", "/p");
    if (dproto != NULL) {
        want("dialer set protocol", nng_stream_dialer_set_string(d, NNG_OPT_WS_PROTOCOL, dproto),
             0);
    }
    nng_stream *srv, *cli;
    int ra, rd;
    dial_accept(l, d, 300, &srv, &cli, &ra, &rd);
    put("dial", rd);
    if (rd == 0) {
        put("accept", ra);
    } else {
        /* Not compared: where negotiation fails NNG answers 400 and never
         * completes the accept (ETIMEDOUT here); RFC 6455 also lets a
         * server answer 101 without a sub-protocol and leave the client to
         * fail the connection. */
        printf("accept: not compared\n");
    }
    if (cli != NULL) {
        struct obj co = {K_STREAM, cli, "dialed"};
        g_string(&co, NNG_OPT_WS_RESPONSE_HEADER "Sec-WebSocket-Protocol");
    }
    if (srv != NULL) {
        struct obj so = {K_STREAM, srv, "accepted"};
        g_string(&so, NNG_OPT_WS_REQUEST_HEADER "Sec-WebSocket-Protocol");
    }
    free_stream(cli);
    free_stream(srv);
    nng_stream_dialer_free(d);
    nng_stream_listener_free(l);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    check_dialer();
    check_listener();
    check_streams();
    negotiate("chat", "chat");
    negotiate("chat", "other");
    negotiate("chat", NULL);
    negotiate(NULL, "chat");
    negotiate(NULL, NULL);
    negotiate("a, chat, b", "chat");
    printf("failures: %d\n", failures);
    return failures == 0 ? 0 : 1;
}
