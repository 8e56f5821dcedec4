/*
 * Differential test of WebSocket byte streams (ws://) over loopback: a
 * stream listener on port 0, its bound port, a dialer, an echo of messages
 * of several sizes around the frame-length encodings (125/126, 65535/65536)
 * and the default send frame limit, partial sends where a send is larger
 * than the sender's NNG_OPT_WS_SENDMAXFRAME, and 200,000-byte transfers in
 * 9,500-byte sends checked by an FNV-1a hash on both ends.
 *
 * Receive counts are not printed (how many bytes one receive returns
 * depends on timing); every send count is.  Left out on purpose: sends
 * larger than 65536 bytes from the dialer's side, because NNG 1.5.2 never
 * applies the dialer's NNG_OPT_WS_SENDMAXFRAME to its streams (they use a
 * fixed 1 MiB limit), where a correct implementation splits at the
 * dialer's setting (64 KiB by default).
 */
#include "ws_common.h"

static void put_counts(const char* what, const size_t* counts, size_t n) {
    printf("%s: %zu sends:", what, n);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && counts[j] == counts[i]) {
            j++;
        }
        printf(" %zu x%zu", counts[i], j - i);
        i = j;
    }
    printf("\n");
}

/* Sends len bytes in sends of at most step bytes, as many as it takes; prints
 * every send's count (run-length) and the result. */
static int send_stepwise(const char* what, nng_stream* s, uint8_t* buf, size_t len, size_t step) {
    size_t counts[256], n = 0, done = 0;
    int rv = 0;
    while (done < len && n < 256) {
        size_t c = len - done < step ? len - done : step, got = 0;
        if ((rv = xfer(s, true, buf + done, c, &got)) != 0 || got == 0) {
            break;
        }
        counts[n++] = got;
        done += got;
    }
    put_counts(what, counts, n);
    printf("%s: rv=%s, %zu bytes sent\n", what, errname(rv), done);
    return rv;
}

static void check_listener_basics(void) {
    nng_stream_listener* l = NULL;
    int rv = nng_stream_listener_alloc(&l, "ws://127.0.0.1:0/echo");
    want("listener alloc ws://127.0.0.1:0/echo", rv, 0);
    if (rv != 0) {
        return;
    }
    int port = -1;
    rv = nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port);
    printf("bound port before listen: rv=%s%s\n", errname(rv),
           rv != 0     ? ""
           : port == 0 ? " (zero)"
                       : " (nonzero)");
    want("listen", nng_stream_listener_listen(l), 0);
    rv = nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port);
    printf("bound port after listen: rv=%s nonzero=%s\n", errname(rv), port > 0 ? "yes" : "no");
    want("listen again", nng_stream_listener_listen(l), NNG_ESTATE);
    nng_sockaddr sa;
    rv = nng_stream_listener_get_addr(l, NNG_OPT_LOCADDR, &sa);
    printf("listener local address: rv=%s family=%s\n", errname(rv),
           rv != 0                      ? "-"
           : sa.s_family == NNG_AF_INET ? "inet"
                                        : "other");
    nng_stream_listener_close(l);
    nng_stream_listener_free(l);
}

static void check_echo(nng_stream_listener* l) {
    static const size_t sizes[] = {1, 125, 126, 127, 1000, 65535, 65536};
    nng_stream_dialer* d = dialer_to("ws", "127.0.0.1", "/echo");
    nng_stream *srv, *cli;
    connect_pair(l, d, &srv, &cli);
    printf("echo: connected\n");
    size_t expect = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        expect += sizes[k];
    }
    struct worker echo;
    worker_start(&echo, srv, true, NULL, expect);
    uint8_t* out = malloc(65536);
    uint8_t* back = malloc(65536);
    size_t total = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k], sent = 0;
        fill(out, n, (unsigned)k);
        memset(back, 0, n);
        int rv = xfer(cli, true, out, n, &sent);
        printf("echo %zu: send rv=%s count=%zu\n", n, errname(rv), sent);
        if (rv == 0) {
            rv = xfer_all(cli, false, back, sent, 0, NULL);
            bool same = rv == 0 && memcmp(out, back, sent) == 0;
            printf("echo %zu: back rv=%s, data %s\n", n, errname(rv), same ? "intact" : "CORRUPT");
            failures += same ? 0 : 1;
            total += sent;
        } else {
            failures++;
        }
    }
    worker_join(&echo);
    printf("echo server: rv=%s, echoed %zu bytes (%s)\n", errname(echo.rv), echo.total,
           echo.total == total ? "all" : "MISMATCH");
    free_stream(cli);
    free_stream(srv);
    nng_stream_dialer_free(d);
    free(out);
    free(back);
}

/* The server sends messages larger than its SENDMAXFRAME in one send each;
 * the client receives every byte each send reports. */
static void check_server_partial(const char* title, const char* path, size_t maxframe, bool set) {
    static const size_t sizes[] = {1000, 2500, 65536, 65537, 100000};
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:0%s", path);
    nng_stream_listener* l = NULL;
    int rv = nng_stream_listener_alloc(&l, url);
    if (rv == 0 && set) {
        rv = nng_stream_listener_set_size(l, NNG_OPT_WS_SENDMAXFRAME, maxframe);
    }
    if (rv == 0) {
        rv = nng_stream_listener_listen(l);
    }
    if (rv == 0) {
        rv = nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &cur_port);
    }
    printf("%s\n", title);
    want("  listener setup", rv, 0);
    if (rv != 0) {
        nng_stream_listener_free(l);
        return;
    }
    nng_stream_dialer* d = dialer_to("ws", "127.0.0.1", path);
    nng_stream *srv, *cli;
    connect_pair(l, d, &srv, &cli);
    uint8_t* out = malloc(100000);
    uint8_t* back = malloc(100000);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k], sent = 0;
        fill(out, n, (unsigned)(k + 7));
        rv = xfer(srv, true, out, n, &sent);
        printf("  server send %zu: rv=%s count=%zu\n", n, errname(rv), sent);
        if (rv == 0) {
            rv = xfer_all(cli, false, back, sent, 0, NULL);
            bool same = rv == 0 && memcmp(out, back, sent) == 0;
            printf("  client recv %zu: rv=%s, data %s\n", sent, errname(rv),
                   same ? "intact" : "CORRUPT");
        }
    }
    /* One 200,000-byte request, resubmitted until all is sent. */
    uint8_t* big = malloc(200000);
    uint8_t* got = malloc(200000);
    fill(big, 200000, 3);
    struct worker rx;
    worker_start(&rx, cli, false, got, 200000);
    send_stepwise("  server sends 200000 in one request", srv, big, 200000, 200000);
    worker_join(&rx);
    printf("  client got 200000: rv=%s, data %s\n", errname(rx.rv),
           rx.rv == 0 && memcmp(big, got, 200000) == 0 ? "intact" : "CORRUPT");
    free(big);
    free(got);
    free(out);
    free(back);
    free_stream(cli);
    free_stream(srv);
    nng_stream_dialer_free(d);
    nng_stream_listener_free(l);
}

/* 200,000 bytes in 9,500-byte sends, each way, hashed on both ends. */
static void check_bulk(nng_stream_listener* l) {
    const size_t len = 200000;
    nng_stream_dialer* d = dialer_to("ws", "127.0.0.1", "/echo");
    nng_stream *srv, *cli;
    connect_pair(l, d, &srv, &cli);
    uint8_t* out = malloc(len);
    uint8_t* in = malloc(len);
    for (int dir = 0; dir < 2; dir++) {
        const char* name = dir == 0 ? "client to server" : "server to client";
        fill(out, len, 11u + (unsigned)dir);
        memset(in, 0, len);
        struct worker rx;
        worker_start(&rx, dir == 0 ? srv : cli, false, in, len);
        char what[64];
        snprintf(what, sizeof what, "bulk %s", name);
        int rv = send_stepwise(what, dir == 0 ? cli : srv, out, len, 9500);
        worker_join(&rx);
        printf("bulk %s: sender fnv1a64=%016llx\n", name, (unsigned long long)fnv1a64(out, len));
        printf("bulk %s: receiver rv=%s fnv1a64=%016llx\n", name, errname(rx.rv),
               (unsigned long long)fnv1a64(in, len));
        if (rv != 0 || rx.rv != 0 || memcmp(out, in, len) != 0) {
            failures++;
        }
    }
    free(out);
    free(in);
    free_stream(cli);
    free_stream(srv);
    nng_stream_dialer_free(d);
}

static void check_ipv6(void) {
    nng_stream_listener* l = listen_at("ws://[::1]:0/v6");
    nng_stream_dialer* d = dialer_to("ws", "[::1]", "/v6");
    nng_stream *srv, *cli;
    connect_pair(l, d, &srv, &cli);
    char msg[] = "hello over IPv6", got[32] = {0};
    size_t n = 0;
    int rv = xfer(cli, true, msg, strlen(msg), &n);
    printf("ipv6 send: rv=%s count=%zu\n", errname(rv), n);
    rv = xfer_all(srv, false, got, strlen(msg), 0, NULL);
    printf("ipv6 recv: rv=%s \"%s\"\n", errname(rv), got);
    nng_sockaddr sa;
    rv = nng_stream_get_addr(srv, NNG_OPT_LOCADDR, &sa);
    printf("ipv6 accepted stream local family: rv=%s %s\n", errname(rv),
           rv == 0 && sa.s_family == NNG_AF_INET6 ? "inet6" : "other");
    free_stream(cli);
    free_stream(srv);
    nng_stream_dialer_free(d);
    nng_stream_listener_free(l);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    check_listener_basics();

    nng_stream_listener* l = listen_at("ws://127.0.0.1:0/echo");
    check_echo(l);
    check_bulk(l);
    nng_stream_listener_free(l);

    check_server_partial("server send, default SENDMAXFRAME", "/default", 0, false);
    check_server_partial("server send, SENDMAXFRAME 1000", "/small", 1000, true);
    check_server_partial("server send, SENDMAXFRAME 0 (no limit)", "/nolimit", 0, true);
    check_ipv6();

    printf("failures: %d\n", failures);
    return failures == 0 ? 0 : 1;
}
