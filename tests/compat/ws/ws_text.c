/*
 * Differential test of WebSocket text mode on byte streams:
 * NNG_OPT_WS_SEND_TEXT makes a stream send TEXT frames instead of BINARY
 * ones, NNG_OPT_WS_RECV_TEXT lets it accept TEXT frames (BINARY frames are
 * always accepted).  A TEXT frame reaching a stream that does not accept
 * them fails the receive waiting for it and closes the connection, so the
 * sender's next receive fails too.
 *
 * Every case uses a fresh listener and dialer; the receiver's receive is
 * posted before the sender sends, so the outcome does not depend on timing.
 *
 * Left out because a correct implementation is stricter than NNG 1.5.2,
 * which never validates UTF-8: invalid UTF-8 sent as text (NNG delivers
 * it; RFC 6455 requires the receiver to fail the connection, close code
 * 1007), a code point split across two sends (each send is a message of
 * its own, so each half is invalid on its own), overlong encodings and
 * surrogates.
 */
#include "ws_common.h"

struct tcase {
    const char* title;
    bool l_send_text, l_recv_text, d_send_text, d_recv_text;
    bool server_sends; /* else the dialer sends */
    const char* msg;
};

static void put_mode(const char* who, nng_stream* s) {
    bool st = false, rt = false;
    int r1 = nng_stream_get_bool(s, NNG_OPT_WS_SEND_TEXT, &st);
    int r2 = nng_stream_get_bool(s, NNG_OPT_WS_RECV_TEXT, &rt);
    printf("  %s stream: send-text rv=%s value=%s, recv-text rv=%s value=%s\n", who, errname(r1),
           st ? "true" : "false", errname(r2), rt ? "true" : "false");
}

static void setup(const struct tcase* c, nng_stream_listener** l, nng_stream_dialer** d,
                  nng_stream** srv, nng_stream** cli) {
    int rv = nng_stream_listener_alloc(l, "ws://127.0.0.1:0/text");
    if (rv == 0) {
        rv = nng_stream_listener_set_bool(*l, NNG_OPT_WS_SEND_TEXT, c->l_send_text);
    }
    if (rv == 0) {
        rv = nng_stream_listener_set_bool(*l, NNG_OPT_WS_RECV_TEXT, c->l_recv_text);
    }
    if (rv == 0) {
        rv = nng_stream_listener_listen(*l);
    }
    if (rv == 0) {
        rv = nng_stream_listener_get_int(*l, NNG_OPT_TCP_BOUND_PORT, &cur_port);
    }
    if (rv != 0) {
        printf("listener setup failed: rv=%s\n", errname(rv));
        exit(2);
    }
    *d = dialer_to("ws", "127.0.0.1", "/text");
    if ((rv = nng_stream_dialer_set_bool(*d, NNG_OPT_WS_SEND_TEXT, c->d_send_text)) != 0 ||
        (rv = nng_stream_dialer_set_bool(*d, NNG_OPT_WS_RECV_TEXT, c->d_recv_text)) != 0) {
        printf("dialer setup failed: rv=%s\n", errname(rv));
        exit(2);
    }
    connect_pair(*l, *d, srv, cli);
}

/* One message from tx to rx, the receive posted first; prints both ends.
 * Returns the receive's result. */
static int one_message(nng_stream* tx, nng_stream* rx, const char* msg, size_t len) {
    char got[256] = {0};
    nng_aio* r = new_aio(WAIT_MS);
    nng_iov iov = {got, sizeof got - 1};
    nng_aio_set_iov(r, 1, &iov);
    nng_stream_recv(rx, r);
    size_t sent = 0;
    int rv = xfer(tx, true, (void*)msg, len, &sent);
    printf("  send %zu bytes: rv=%s count=%zu\n", len, errname(rv), sent);
    nng_aio_wait(r);
    int rrv = nng_aio_result(r);
    if (rrv == 0) {
        size_t n = nng_aio_count(r);
        printf("  recv: rv=OK count=%zu data %s \"%s\"\n", n,
               n == len && memcmp(got, msg, len) == 0 ? "intact" : "DIFFERENT", got);
    } else {
        printf("  recv: rv=%s\n", failname(rrv));
    }
    nng_aio_free(r);
    return rrv;
}

static void run_case(const struct tcase* c) {
    printf("%s\n", c->title);
    nng_stream_listener* l;
    nng_stream_dialer* d;
    nng_stream *srv, *cli;
    setup(c, &l, &d, &srv, &cli);
    put_mode("accepted", srv);
    put_mode("dialed", cli);
    nng_stream* tx = c->server_sends ? srv : cli;
    nng_stream* rx = c->server_sends ? cli : srv;
    int rv = one_message(tx, rx, c->msg, strlen(c->msg));
    if (rv != 0) {
        /* The receiver closed the connection: the sender learns it. */
        char buf[16];
        printf("  sender's next recv: rv=%s\n", errname(xfer(tx, false, buf, sizeof buf, NULL)));
        printf("  receiver's next send: rv=%s\n", errname(xfer(rx, true, "x", 1, NULL)));
        bool b;
        printf("  receiver option after the failure: rv=%s\n",
               errname(nng_stream_get_bool(rx, NNG_OPT_WS_RECV_TEXT, &b)));
    } else {
        /* The other way on the same connection, then an empty message
         * followed by another (empty messages are not delivered). */
        printf("  reply:\n");
        one_message(rx, tx, "reply", 5);
        size_t n = 99;
        rv = xfer(tx, true, "", 0, &n);
        printf("  empty send: rv=%s count=%zu\n", errname(rv), n);
        printf("  after the empty message:\n");
        one_message(tx, rx, "after", 5);
    }
    free_stream(cli);
    free_stream(srv);
    nng_stream_dialer_free(d);
    nng_stream_listener_free(l);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    /* clang-format off */
    const struct tcase cases[] = {
        {"binary to binary (defaults), dialer sends",
         false, false, false, false, false, "plain binary"},
        {"text to a receiver without recv-text, dialer sends",
         false, false, true, false, false, "hello text"},
        {"text to a receiver without recv-text, listener sends",
         true, false, false, false, true, "hello text"},
        {"text to a text receiver, dialer sends",
         false, true, true, false, false, "hello text"},
        {"text to a text receiver, listener sends",
         true, false, false, true, true, "hello text"},
        {"binary to a text receiver, dialer sends",
         false, true, false, false, false, "binary to text"},
        {"binary to a text receiver, listener sends",
         false, false, false, true, true, "binary to text"},
        {"text both ways, multi-byte UTF-8, dialer sends",
         true, true, true, true, false, "gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac \xf0\x9d\x84\x9e"},
        {"text both ways, listener sends",
         true, true, true, true, true, "both text"},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(&cases[i]);
    }
    printf("failures: %d\n", failures);
    return failures == 0 ? 0 : 1;
}
