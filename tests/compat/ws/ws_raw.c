/*
 * Differential test of a WebSocket stream listener against a hand-written
 * client on a plain TCP stream: the opening handshake with RFC 6455's
 * sample key (so the Sec-WebSocket-Accept value is known), raw requests
 * the listener must refuse, the bytes of the frames the server sends
 * (unmasked, FIN set, the three length encodings), pings answered with
 * pongs, fragmented messages, and frames the server must refuse (unmasked,
 * RSV bits, unknown opcodes, a continuation with nothing to continue, a
 * control frame over 125 bytes): the pending receive fails and the server
 * closes with status 1002; a text frame to a stream that does not take
 * them (1003), a frame over NNG_OPT_WS_RECVMAXFRAME announced in its
 * header (1009, without waiting for the payload).
 *
 * Left out because a correct implementation is stricter than NNG 1.5.2:
 * a fragmented control frame (NNG answers it), non-minimal length
 * encodings, the reply to a client's close frame (NNG sends none), a
 * request with Sec-WebSocket-Version other than 13 (NNG answers 400 where
 * RFC 6455 asks for 426 and the supported version), keys that are 24
 * characters long but not base64 of 16 bytes.
 */
#include "ws_common.h"

static const char key[] = "dGhlIHNhbXBsZSBub25jZQ=="; /* RFC 6455 section 1.3 */

/* What raw_request prints. */
enum { VERBOSE, STATUS_LINE, CLASS_ONLY };

static nng_stream_listener* wl;
static nng_stream_dialer* td;

/* Reads until the end of an HTTP head; the head in buf. */
static int read_head(nng_stream* s, char* buf, size_t cap) {
    size_t n = 0;
    while (n < cap - 1) {
        size_t got = 0;
        int rv = xfer_ms(s, false, buf + n, 1, &got, 2000);
        if (rv != 0) {
            return rv;
        }
        n += got;
        buf[n] = '\0';
        if (n >= 4 && strcmp(buf + n - 4, "\r\n\r\n") == 0) {
            return 0;
        }
    }
    return NNG_EMSGSIZE;
}

/* The value of a header in a head (static buffer), or "(none)". */
static const char* head_value(const char* head, const char* name) {
    static char v[128];
    size_t nl = strlen(name);
    for (const char* p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char* b = p + 3 + nl;
            while (*b == ' ') {
                b++;
            }
            size_t len = strcspn(b, "\r");
            snprintf(v, sizeof v, "%.*s", (int)len, b);
            return v;
        }
    }
    return "(none)";
}

/* A raw TCP connection sending request; prints the status of the answer.
 * With an upgrade, the accepted stream in *srv. */
static nng_stream* raw_request(const char* what, const char* request, nng_stream** srv, int mode) {
    nng_stream* t = NULL;
    nng_aio* acc = new_aio(request == NULL ? WAIT_MS : 300);
    nng_aio* dial = new_aio(WAIT_MS);
    nng_stream_listener_accept(wl, acc);
    nng_stream_dialer_dial(td, dial);
    nng_aio_wait(dial);
    if (nng_aio_result(dial) != 0) {
        printf("tcp dial failed\n");
        exit(2);
    }
    t = nng_aio_get_output(dial, 0);
    char req[512], head[2048];
    if (request == NULL) {
        snprintf(req, sizeof req,
                 "GET /raw HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n",
                 cur_port, key);
    } else {
        snprintf(req, sizeof req, request, cur_port);
    }
    int rv = xfer_all(t, true, req, strlen(req), 0, NULL);
    rv = rv != 0 ? rv : read_head(t, head, sizeof head);
    if (mode == CLASS_ONLY) {
        printf("%s: rv=%s status %cxx\n", what, errname(rv), rv == 0 ? head[9] : '?');
    } else {
        printf("%s: rv=%s status line \"%.*s\"\n", what, errname(rv),
               rv == 0 ? (int)strcspn(head, "\r") : 0, head);
    }
    if (rv == 0 && mode == VERBOSE) {
        printf("  Upgrade: %s\n", head_value(head, "Upgrade"));
        printf("  Connection: %s\n", head_value(head, "Connection"));
        printf("  Sec-WebSocket-Accept: %s\n", head_value(head, "Sec-WebSocket-Accept"));
        printf("  Sec-WebSocket-Protocol: %s\n", head_value(head, "Sec-WebSocket-Protocol"));
    }
    nng_aio_wait(acc);
    rv = nng_aio_result(acc);
    *srv = rv == 0 ? nng_aio_get_output(acc, 0) : NULL;
    if (mode == VERBOSE) {
        put("  accept", rv);
    }
    nng_aio_free(acc);
    nng_aio_free(dial);
    return t;
}

/* Sends one frame from the raw client; masked with a fixed key unless
 * told otherwise. */
static void raw_frame(nng_stream* t, uint8_t b0, const void* data, size_t len, bool mask_it) {
    uint8_t f[300];
    size_t h = 0;
    f[h++] = b0;
    f[h++] = (uint8_t)((mask_it ? 0x80 : 0) | (len < 126 ? len : 126));
    if (len >= 126) {
        f[h++] = (uint8_t)(len >> 8);
        f[h++] = (uint8_t)len;
    }
    static const uint8_t mk[4] = {0x11, 0x22, 0x33, 0x44};
    if (mask_it) {
        memcpy(f + h, mk, 4);
        h += 4;
    }
    for (size_t i = 0; i < len; i++) {
        f[h + i] = ((const uint8_t*)data)[i] ^ (mask_it ? mk[i % 4] : 0);
    }
    int rv = xfer_all(t, true, f, h + len, 0, NULL);
    if (rv != 0) {
        printf("  raw send failed: rv=%s\n", errname(rv));
    }
}

/* Reads n bytes on the raw client and prints them in hex. */
static void raw_expect(const char* what, nng_stream* t, size_t n) {
    uint8_t b[16] = {0};
    int rv = xfer_all(t, false, b, n, 0, NULL);
    printf("  %s: rv=%s", what, errname(rv));
    for (size_t i = 0; rv == 0 && i < n; i++) {
        printf(" %02x", b[i]);
    }
    printf("\n");
}

/* The first frame the raw client reads: a close frame's status. */
static void raw_close_code(nng_stream* t) {
    uint8_t b[4];
    int rv = xfer_all(t, false, b, 2, 0, NULL);
    if (rv == 0 && (b[0] & 0x0f) == 0x8 && (b[1] & 0x7f) >= 2) {
        rv = xfer_all(t, false, b + 2, 2, 0, NULL);
        printf("  server sends close: status %u\n", (unsigned)(b[2] << 8 | b[3]));
    } else {
        printf("  server sends: rv=%s first byte %02x\n", errname(rv), rv == 0 ? b[0] : 0);
    }
}

static void check_refused_requests(void) {
    nng_stream* srv;
    static const struct {
        const char* what;
        int mode;
        const char* req;
    } r[] = {
        {"request without Sec-WebSocket-Key", STATUS_LINE,
         "GET /raw HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
         "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"},
        /* (400 in NNG; as for a plain GET, only the class is compared) */
        {"request without Upgrade", CLASS_ONLY,
         "GET /raw HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"},
        {"POST with upgrade fields", STATUS_LINE,
         "POST /raw HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"},
        {"upgrade request for another path", STATUS_LINE,
         "GET /other HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n"},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        nng_stream* t = raw_request(r[i].what, r[i].req, &srv, r[i].mode);
        yesno("  accepted", srv != NULL);
        free_stream(srv);
        free_stream(t);
    }
}

/* A server stream with a receive posted; the raw client sends a frame; the
 * result of the receive and the server's close status. */
static void bad_frame(const char* what, uint8_t b0, size_t len, bool mask_it) {
    printf("%s\n", what);
    nng_stream* srv;
    nng_stream* t = raw_request("  handshake", NULL, &srv, STATUS_LINE);
    uint8_t data[200], got[256];
    memset(data, 'z', sizeof data);
    size_t n = 0;
    int rv = srv != NULL ? 0 : NNG_ECLOSED;
    if (rv == 0) {
        nng_aio* r = new_aio(WAIT_MS);
        nng_iov iov = {got, sizeof got};
        nng_aio_set_iov(r, 1, &iov);
        nng_stream_recv(srv, r);
        if (len == SIZE_MAX) {
            /* Only the head of a binary frame of 1 MiB + 1 bytes. */
            static const uint8_t head[] = {0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0x01, 1, 2, 3, 4};
            xfer_all(t, true, (void*)head, sizeof head, 0, NULL);
        } else {
            raw_frame(t, b0, data, len, mask_it);
        }
        nng_aio_wait(r);
        rv = nng_aio_result(r);
        n = nng_aio_count(r);
        nng_aio_free(r);
    }
    printf("  server recv: rv=%s", failname(rv));
    rv == 0 ? printf(" count=%zu\n", n) : printf("\n");
    raw_close_code(t);
    free_stream(srv);
    free_stream(t);
}

static void check_frames(void) {
    nng_stream* srv;
    nng_stream* t = raw_request("handshake with the RFC 6455 sample key", NULL, &srv, VERBOSE);
    if (srv == NULL) {
        failures++;
        free_stream(t);
        return;
    }
    char got[64] = {0};
    raw_frame(t, 0x82, "Hi", 2, true);
    int rv = xfer_all(srv, false, got, 2, 0, NULL);
    printf("masked binary frame \"Hi\": server recv rv=%s \"%s\"\n", errname(rv), got);

    static uint8_t big[65536];
    memset(big, 'b', sizeof big);
    static const size_t sizes[] = {2, 125, 126, 200, 65535, 65536};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = 0, len = sizes[k];
        char what[160];
        rv = xfer(srv, true, big, len, &n);
        snprintf(what, sizeof what, "server send %zu (rv=%s count=%zu) header", len, errname(rv),
                 n);
        raw_expect(what, t, len < 126 ? 2 : len < 65536 ? 4 : 10);
        uint8_t* sink = malloc(len);
        rv = xfer_all(t, false, sink, len, 0, NULL);
        bool same = rv == 0 && memcmp(sink, big, len) == 0;
        printf("  payload: rv=%s %s\n", errname(rv), same ? "intact" : "DIFFERENT");
        free(sink);
    }

    /* A ping while a receive is pending gets a pong with its payload. */
    nng_aio* r = new_aio(WAIT_MS);
    nng_iov iov = {got, sizeof got};
    memset(got, 0, sizeof got);
    nng_aio_set_iov(r, 1, &iov);
    nng_stream_recv(srv, r);
    raw_frame(t, 0x89, "abc", 3, true);
    raw_expect("ping \"abc\": pong", t, 5);
    raw_frame(t, 0x82, "ok", 2, true);
    nng_aio_wait(r);
    printf("  then \"ok\": server recv rv=%s count=%zu \"%s\"\n", errname(nng_aio_result(r)),
           nng_aio_count(r), got);

    /* A message in two fragments with a ping between them. */
    memset(got, 0, sizeof got);
    raw_frame(t, 0x02, "Hel", 3, true);
    raw_frame(t, 0x89, "", 0, true);
    raw_frame(t, 0x80, "lo", 2, true);
    rv = xfer_all(srv, false, got, 5, 0, NULL);
    printf("fragments \"Hel\" + ping + \"lo\": server recv rv=%s \"%s\"\n", errname(rv), got);
    raw_expect("  pong", t, 2);

    /* The client closes: the pending receive fails. */
    nng_stream_recv(srv, r);
    raw_frame(t, 0x88, "\x03\xe8", 2, true);
    nng_aio_wait(r);
    printf("client close frame 1000: server recv rv=%s\n", errname(nng_aio_result(r)));
    printf("  server send after it: rv=%s\n", errname(xfer(srv, true, "x", 1, NULL)));
    nng_aio_free(r);
    free_stream(srv);
    free_stream(t);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    wl = listen_at("ws://127.0.0.1:0/raw");
    char url[64];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", cur_port);
    if (nng_stream_dialer_alloc(&td, url) != 0) {
        printf("tcp dialer alloc failed\n");
        return 2;
    }
    check_frames();
    check_refused_requests();
    bad_frame("unmasked frame from the client", 0x82, 2, false);
    bad_frame("RSV1 set", 0xc2, 2, true);
    bad_frame("opcode 3", 0x83, 2, true);
    bad_frame("continuation without a message", 0x80, 2, true);
    bad_frame("ping of 126 bytes", 0x89, 126, true);
    bad_frame("text frame to a stream without recv-text", 0x81, 2, true);
    bad_frame("frame of 1 MiB + 1 bytes (over the default recv max frame)", 0x82, SIZE_MAX, true);
    nng_stream_dialer_free(td);
    nng_stream_listener_free(wl);
    printf("failures: %d\n", failures);
    return failures == 0 ? 0 : 1;
}
